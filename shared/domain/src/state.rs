//! The validation state machine of docs/api.md §4: what an action does to a transaction in a
//! given commission status. Pure, no I/O.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where a transaction stands: `pending` until an approve or a decline settles it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type))]
#[cfg_attr(feature = "sqlx", sqlx(type_name = "text", rename_all = "lowercase"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum CommissionStatus {
    Pending,
    Approved,
    Declined,
}

impl CommissionStatus {
    pub const ALL: [CommissionStatus; 3] =
        [CommissionStatus::Pending, CommissionStatus::Approved, CommissionStatus::Declined];

    pub fn as_str(self) -> &'static str {
        match self {
            CommissionStatus::Pending => "pending",
            CommissionStatus::Approved => "approved",
            CommissionStatus::Declined => "declined",
        }
    }

    pub fn parse(s: &str) -> Option<CommissionStatus> {
        match s {
            "pending" => Some(CommissionStatus::Pending),
            "approved" => Some(CommissionStatus::Approved),
            "declined" => Some(CommissionStatus::Declined),
            _ => None,
        }
    }
}

/// What a history entry records was done: an item's action, or the workers' approval of
/// a transaction still pending past its advertiser's validation period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum HistoryAction {
    Approve,
    Decline,
    Amend,
    AutoApprove,
}

impl HistoryAction {
    pub fn as_str(self) -> &'static str {
        match self {
            HistoryAction::Approve => "approve",
            HistoryAction::Decline => "decline",
            HistoryAction::Amend => "amend",
            HistoryAction::AutoApprove => "auto-approve",
        }
    }
}

impl fmt::Display for HistoryAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl From<ActionKind> for HistoryAction {
    fn from(kind: ActionKind) -> HistoryAction {
        match kind {
            ActionKind::Approve => HistoryAction::Approve,
            ActionKind::Decline => HistoryAction::Decline,
            ActionKind::Amend => HistoryAction::Amend,
        }
    }
}

/// What a batch item asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type))]
#[cfg_attr(feature = "sqlx", sqlx(type_name = "text", rename_all = "lowercase"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ActionKind {
    Approve,
    Decline,
    Amend,
}

impl ActionKind {
    pub const ALL: [ActionKind; 3] = [ActionKind::Approve, ActionKind::Decline, ActionKind::Amend];

    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Approve => "approve",
            ActionKind::Decline => "decline",
            ActionKind::Amend => "amend",
        }
    }

    pub fn parse(s: &str) -> Option<ActionKind> {
        match s {
            "approve" => Some(ActionKind::Approve),
            "decline" => Some(ActionKind::Decline),
            "amend" => Some(ActionKind::Amend),
            _ => None,
        }
    }
}

impl fmt::Display for CommissionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// What the state machine allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// The action applies (200), moving to this status. An amend stays pending here and
    /// may still turn out to change nothing (304) or become approved.
    Apply(CommissionStatus),
    /// The desired state already holds (304).
    AlreadySo,
    /// The current status forbids the action (422), with the reason.
    Forbidden(&'static str),
}

/// The outcome table of docs/api.md §4.
pub fn decide(status: CommissionStatus, action: ActionKind) -> Transition {
    use ActionKind::*;
    use CommissionStatus::*;
    match (action, status) {
        (Approve, Pending) => Transition::Apply(Approved),
        (Approve, Approved) => Transition::AlreadySo,
        (Approve, Declined) => Transition::Forbidden("the transaction is declined and cannot be approved"),
        (Decline, Pending) => Transition::Apply(Declined),
        (Decline, Approved) => Transition::Forbidden("the transaction is approved, which is final"),
        (Decline, Declined) => Transition::AlreadySo,
        (Amend, Pending) => Transition::Apply(Pending),
        (Amend, Approved) => Transition::Forbidden("only pending transactions can be amended; this one is approved"),
        (Amend, Declined) => Transition::Forbidden("only pending transactions can be amended; this one is declined"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outcome_table_exhaustively() {
        use ActionKind::*;
        use CommissionStatus::*;
        // (action, status, expected): every cell of docs/api.md §4, written out once more.
        let table = [
            (Approve, Pending, Transition::Apply(Approved)),
            (Approve, Approved, Transition::AlreadySo),
            (Decline, Pending, Transition::Apply(Declined)),
            (Decline, Declined, Transition::AlreadySo),
            (Amend, Pending, Transition::Apply(Pending)),
        ];
        let mut seen = 0;
        for action in ActionKind::ALL {
            for status in CommissionStatus::ALL {
                let got = decide(status, action);
                match table.iter().find(|(a, s, _)| *a == action && *s == status) {
                    Some((_, _, want)) => assert_eq!(got, *want, "{action:?} on {status:?}"),
                    None => assert!(matches!(got, Transition::Forbidden(_)), "{action:?} on {status:?}: {got:?}"),
                }
                seen += 1;
            }
        }
        assert_eq!(seen, 9);
    }

    #[test]
    fn names_round_trip() {
        for s in CommissionStatus::ALL {
            assert_eq!(CommissionStatus::parse(s.as_str()), Some(s));
        }
        for a in ActionKind::ALL {
            assert_eq!(ActionKind::parse(a.as_str()), Some(a));
        }
        assert_eq!(ActionKind::parse("Approve"), None);
    }
}

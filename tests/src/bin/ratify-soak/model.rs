//! What the soak expects: each client's transactions as a model of their own, kept
//! apart from Ratify's code, predicting every item's code from the outcome table and
//! applying the items in array order.

use std::collections::HashMap;

use serde_json::{json, Value};

/// DEFAULT pays this percentage of the sale.
pub const DEFAULT_PERCENT: i64 = 10;
/// Every transaction is recorded with this sale, in whole euros.
pub const RECORDED_SALE: i64 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pending,
    Approved,
    Declined,
}

impl Status {
    pub fn parse(text: &str) -> Option<Status> {
        match text {
            "pending" => Some(Status::Pending),
            "approved" => Some(Status::Approved),
            "declined" => Some(Status::Declined),
            _ => None,
        }
    }
}

/// What the soak compares: status and amounts in cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct State {
    pub status: Status,
    pub sale: i64,
    pub commission: i64,
}

impl State {
    pub fn recorded() -> State {
        State { status: Status::Pending, sale: RECORDED_SALE * 100, commission: RECORDED_SALE * DEFAULT_PERCENT }
    }
}

/// One item of a batch and what it is meant to test.
#[derive(Debug, Clone)]
pub enum Intent {
    Approve(i64),
    Decline(i64),
    /// An amend to this sale in whole euros, all of it DEFAULT, `approve` false.
    Amend(i64, i64),
    /// Malformed or hostile: `[400]` whatever the state.
    Malformed,
    /// A transaction id nobody has: `[404]`.
    Unknown,
}

/// Which codes an item may get, given the model (more than one only where the table
/// leaves a choice to details the model does not track).
pub fn expect(model: &HashMap<i64, State>, intent: &Intent) -> &'static [&'static str] {
    use Status::*;
    const OK: &[&str] = &["[200 OK]"];
    const SAME: &[&str] = &["[304 NOT_MODIFIED]"];
    const LOCKED: &[&str] = &["[422 UNPROCESSABLE_ENTITY]"];
    let state = |id: &i64| model.get(id).copied();
    match intent {
        Intent::Malformed => &["[400 BAD_REQUEST]"],
        Intent::Unknown => &["[404 NOT_FOUND]"],
        Intent::Approve(id) => match state(id).map(|s| s.status) {
            Some(Pending) => OK,
            Some(Approved) => SAME,
            Some(Declined) => LOCKED,
            None => &["[404 NOT_FOUND]"],
        },
        Intent::Decline(id) => match state(id).map(|s| s.status) {
            Some(Pending) => OK,
            Some(Approved) => LOCKED,
            Some(Declined) => SAME,
            None => &["[404 NOT_FOUND]"],
        },
        Intent::Amend(id, sale) => match state(id) {
            Some(s) if s.status == Pending && s.sale == sale * 100 => SAME,
            Some(s) if s.status == Pending => OK,
            Some(_) => LOCKED,
            None => &["[404 NOT_FOUND]"],
        },
    }
}

/// Applies an item Ratify answered `[200 OK]` to the model.
pub fn apply(model: &mut HashMap<i64, State>, intent: &Intent) {
    let mut change = |id: &i64, f: &dyn Fn(&mut State)| {
        if let Some(state) = model.get_mut(id) {
            f(state)
        }
    };
    match intent {
        Intent::Approve(id) => change(id, &|s| s.status = Status::Approved),
        Intent::Decline(id) => change(id, &|s| s.status = Status::Declined),
        Intent::Amend(id, sale) => change(id, &|s| {
            s.sale = sale * 100;
            s.commission = sale * DEFAULT_PERCENT;
        }),
        Intent::Malformed | Intent::Unknown => {}
    }
}

/// The batch item for an intent; `hostile` picks one of the malformed shapes.
pub fn item(intent: &Intent, hostile: usize) -> Value {
    match intent {
        Intent::Approve(id) => json!({"action": "approve", "transaction": {"transactionId": id}}),
        Intent::Decline(id) => {
            json!({"action": "decline", "transaction": {"transactionId": id, "declineReason": "returned"}})
        }
        Intent::Amend(id, sale) => json!({"action": "amend", "approve": false, "transaction": {
            "transactionId": id, "amendReason": "partial return", "currency": "EUR", "saleAmount": sale,
            "transactionParts": [{"amount": sale, "commissionGroupCode": "DEFAULT"}]}}),
        Intent::Unknown => json!({"action": "approve", "transaction": {"transactionId": 9_000_000_000_000_i64}}),
        Intent::Malformed => match hostile % 6 {
            0 => json!({"action": "approve"}),
            1 => json!({"action": "ratify", "transaction": {"transactionId": 1}}),
            2 => json!({"action": "decline", "transaction": {"transactionId": 1, "declineReason": "nul \u{0} here"}}),
            3 => json!({"action": "approve", "transaction": {"orderRef": "zero\u{200b}width",
                        "transactionDate": "2026-11-14T10:15:00", "timezone": "Europe/Stockholm"}}),
            4 => json!({"action": "amend", "transaction": {"transactionId": 1, "amendReason": "\u{feff}bom",
                        "currency": "EUR", "saleAmount": 5}}),
            _ => json!([1, 2, 3]),
        },
    }
}

use super::*;
use crate::state::ActionKind;

fn now() -> DateTime<Utc> {
    "2026-11-15T10:00:00Z".parse().unwrap()
}

fn rates() -> HashMap<String, Rate> {
    HashMap::from([
        ("DEFAULT".to_owned(), Rate::Percentage(10.into())),
        ("EXISTING".to_owned(), Rate::Percentage(5.into())),
    ])
}

fn tx(status: CommissionStatus) -> TransactionState {
    TransactionState {
        id: 1,
        status,
        currency: "EUR".parse().unwrap(),
        sale_amount: 10_000,
        commission_amount: 1_000,
        parts: vec![Part { code: "DEFAULT".into(), amount: 10_000, commission: 1_000 }],
        decline_reason: None,
        amended: false,
        amend_reason: None,
        old_sale_amount: None,
        old_commission_amount: None,
        validation_date: None,
    }
}

fn amend(approve: bool, sale: i64, parts: &[(&str, i64)]) -> Command {
    Command::Amend {
        approve,
        reason: "partial return".into(),
        currency: "EUR".into(),
        sale_amount: sale,
        parts: parts.iter().map(|(c, a)| (c.to_string(), *a)).collect(),
    }
}

fn command(kind: ActionKind) -> Command {
    match kind {
        ActionKind::Approve => Command::Approve,
        ActionKind::Decline => Command::Decline { reason: "returned".into() },
        ActionKind::Amend => amend(false, 5_596, &[("DEFAULT", 4_476), ("EXISTING", 1_120)]),
    }
}

#[test]
fn every_cell_of_the_outcome_table() {
    use OutcomeCode::*;
    let expected = [
        (ActionKind::Approve, CommissionStatus::Pending, Ok, CommissionStatus::Approved),
        (ActionKind::Approve, CommissionStatus::Approved, NotModified, CommissionStatus::Approved),
        (ActionKind::Approve, CommissionStatus::Declined, Unprocessable, CommissionStatus::Declined),
        (ActionKind::Decline, CommissionStatus::Pending, Ok, CommissionStatus::Declined),
        (ActionKind::Decline, CommissionStatus::Approved, Unprocessable, CommissionStatus::Approved),
        (ActionKind::Decline, CommissionStatus::Declined, NotModified, CommissionStatus::Declined),
        (ActionKind::Amend, CommissionStatus::Pending, Ok, CommissionStatus::Pending),
        (ActionKind::Amend, CommissionStatus::Approved, Unprocessable, CommissionStatus::Approved),
        (ActionKind::Amend, CommissionStatus::Declined, Unprocessable, CommissionStatus::Declined),
    ];
    for (action, status, code, after) in expected {
        let mut t = tx(status);
        let result = apply(&mut t, &command(action), &rates(), now());
        assert_eq!(result.code, code, "{action:?} on {status:?}");
        assert_eq!(t.status, after, "{action:?} on {status:?}");
        assert_eq!(result.change.is_some(), code == Ok);
        assert_eq!(result.description.is_some(), code != Ok);
        if code != Ok {
            assert_eq!(t, tx(status), "a refused action changes nothing");
        }
    }
}

#[test]
fn approve_and_decline_set_the_validation_date() {
    let mut t = tx(CommissionStatus::Pending);
    apply(&mut t, &Command::Decline { reason: "returned".into() }, &rates(), now());
    assert_eq!(t.validation_date, Some(now()));
    assert_eq!(t.decline_reason.as_deref(), Some("returned"));
}

#[test]
fn amend_replaces_values_and_keeps_the_old_ones() {
    let mut t = tx(CommissionStatus::Pending);
    let result = apply(&mut t, &command(ActionKind::Amend), &rates(), now());
    assert_eq!(result.code, OutcomeCode::Ok);
    assert_eq!((t.sale_amount, t.commission_amount), (5_596, 448 + 56));
    assert_eq!((t.old_sale_amount, t.old_commission_amount), (Some(10_000), Some(1_000)));
    assert!(t.amended);
    assert_eq!(t.status, CommissionStatus::Pending);
    assert_eq!(t.validation_date, None);
    let change = result.change.unwrap();
    assert!(change.before.get().contains(r#""saleAmount":100.00"#), "{}", change.before);
    assert!(change.after.get().contains(r#""saleAmount":55.96"#), "{}", change.after);
}

#[test]
fn amend_with_approve_ends_approved() {
    let mut t = tx(CommissionStatus::Pending);
    let result = apply(&mut t, &amend(true, 8_000, &[("DEFAULT", 8_000)]), &rates(), now());
    assert_eq!(result.code, OutcomeCode::Ok);
    assert_eq!(t.status, CommissionStatus::Approved);
    assert_eq!(t.validation_date, Some(now()));
}

#[test]
fn amend_that_changes_nothing_is_304_unless_it_approves() {
    let same = amend(false, 10_000, &[("DEFAULT", 10_000)]);
    let mut t = tx(CommissionStatus::Pending);
    assert_eq!(apply(&mut t, &same, &rates(), now()).code, OutcomeCode::NotModified);
    assert!(!t.amended);
    // Parts that do not sum are completed by DEFAULT: still the same values.
    let absorbed = amend(false, 10_000, &[("DEFAULT", 1)]);
    assert_eq!(apply(&mut t, &absorbed, &rates(), now()).code, OutcomeCode::NotModified);
    let approving = amend(true, 10_000, &[("DEFAULT", 10_000)]);
    assert_eq!(apply(&mut t, &approving, &rates(), now()).code, OutcomeCode::Ok);
    assert_eq!(t.status, CommissionStatus::Approved);
    assert!(!t.amended, "no value changed, only the status");
}

#[test]
fn amend_that_cannot_apply_is_422() {
    let cases = [
        (amend(false, 1_000, &[("EXISTING", 2_000)]), "negative"),
        (amend(false, 1_000, &[("UNKNOWN", 1_000)]), "does not exist"),
        (
            Command::Amend {
                approve: false,
                reason: "r".into(),
                currency: "SEK".into(),
                sale_amount: 1,
                parts: vec![("DEFAULT".into(), 1)],
            },
            "currency",
        ),
    ];
    for (command, why) in cases {
        let mut t = tx(CommissionStatus::Pending);
        let result = apply(&mut t, &command, &rates(), now());
        assert_eq!(result.code, OutcomeCode::Unprocessable);
        assert!(result.description.as_deref().unwrap_or_default().contains(why), "{result:?}");
        assert_eq!(t, tx(CommissionStatus::Pending));
    }
}

#[test]
fn amend_then_approve_in_sequence() {
    let mut t = tx(CommissionStatus::Pending);
    assert_eq!(apply(&mut t, &command(ActionKind::Amend), &rates(), now()).code, OutcomeCode::Ok);
    assert_eq!(apply(&mut t, &Command::Approve, &rates(), now()).code, OutcomeCode::Ok);
    assert_eq!(t.status, CommissionStatus::Approved);
    assert_eq!(t.sale_amount, 5_596);
}

/// A transaction split over two groups, DEFAULT last (as an amend that left DEFAULT out
/// stores it).
fn split(status: CommissionStatus) -> TransactionState {
    let mut t = tx(status);
    t.parts = vec![
        Part { code: "EXISTING".into(), amount: 4_000, commission: 200 },
        Part { code: "DEFAULT".into(), amount: 6_000, commission: 600 },
    ];
    t.commission_amount = 800;
    t
}

#[test]
fn the_same_parts_in_another_order_change_nothing() {
    let mut t = split(CommissionStatus::Pending);
    let reordered = amend(false, 10_000, &[("DEFAULT", 6_000), ("EXISTING", 4_000)]);
    let applied = apply(&mut t, &reordered, &rates(), now());
    assert_eq!(applied.code, OutcomeCode::NotModified, "{applied:?}");
    assert_eq!((applied.change, t.amended), (None, false));
}

#[test]
fn leaving_out_default_whose_remainder_is_unchanged_changes_nothing() {
    let mut t = split(CommissionStatus::Pending);
    let without_default = amend(false, 10_000, &[("EXISTING", 4_000)]);
    assert_eq!(apply(&mut t, &without_default, &rates(), now()).code, OutcomeCode::NotModified);
    // With DEFAULT first in the stored parts, too.
    let mut t = split(CommissionStatus::Pending);
    t.parts.reverse();
    assert_eq!(apply(&mut t, &without_default, &rates(), now()).code, OutcomeCode::NotModified);
    // A different split is a change.
    let moved = amend(false, 10_000, &[("EXISTING", 4_001)]);
    assert_eq!(apply(&mut t, &moved, &rates(), now()).code, OutcomeCode::Ok);
    assert!(t.amended);
}

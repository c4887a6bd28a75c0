//! Batch validation outcomes end to end (docs/api.md §4–§5): every cell of the outcome table,
//! malformed items, the amend rules, same-transaction ordering across chunks and
//! workers, and the job's `output=errors|all` views.
//!
//! References (ids, order references, DST folds and gaps, other advertisers) are in
//! `references.rs`.

use ratify_tests::actions::labels::{BAD_REQUEST, NOT_FOUND, NOT_MODIFIED, OK, UNPROCESSABLE};
use ratify_tests::actions::{amend, approve, decline};
use ratify_tests::{Job, Stack};
use serde_json::{json, Value};

mod amend;
mod malformed;
mod ordering;
mod table;
mod views;

// ---------------------------------------------------------------------------------
// Local helpers
// ---------------------------------------------------------------------------------

/// A JSON number as f64 (`100`, `100.0` and `100.00` are the same amount).
fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("expected a JSON number, got {v}"))
}

fn assert_money(v: &Value, amount: f64, currency: &str, what: &str) {
    assert_eq!(num(&v["amount"]), amount, "{what}: {v}");
    assert_eq!(v["currency"], json!(currency), "{what}: {v}");
}

/// The part of commission group `code`; panics when the transaction has none.
fn part<'a>(tx: &'a Value, code: &str) -> &'a Value {
    tx["transactionParts"]
        .as_array()
        .expect("transactionParts")
        .iter()
        .find(|p| p["commissionGroupCode"] == json!(code))
        .unwrap_or_else(|| panic!("no {code} part in {tx}"))
}

fn assert_part(tx: &Value, code: &str, amount: f64, commission: f64) {
    let p = part(tx, code);
    assert_eq!(num(&p["amount"]), amount, "{code} part amount: {p}");
    assert_eq!(num(&p["commissionAmount"]), commission, "{code} part commission: {p}");
}

/// The description of a non-200 item, which must be a non-empty string.
fn description(job: &Job, index: usize) -> String {
    let item = job.item(index);
    let d = item["description"].as_str().unwrap_or_default();
    assert!(!d.trim().is_empty(), "item {index} has no description: {item}");
    d.to_owned()
}

fn assert_code(job: &Job, index: usize, code: &str) {
    assert_eq!(job.code(index), code, "item {index}: {}", job.item(index));
    if code != OK {
        description(job, index);
    }
}

fn history_len(tx: &Value) -> usize {
    tx["history"].as_array().map_or(0, Vec::len)
}

fn assert_pending_untouched(tx: &Value, what: &str) {
    assert_eq!(tx["commissionStatus"], json!("pending"), "{what}: {tx}");
    assert_eq!(tx["amended"], json!(false), "{what}: {tx}");
    assert!(tx["validationDate"].is_null(), "{what}: {tx}");
    assert!(tx["declineReason"].is_null(), "{what}: {tx}");
    assert_money(&tx["saleAmount"], 100.0, "EUR", what);
    assert_eq!(history_len(tx), 0, "{what}: no history expected: {tx}");
}

/// The summary counts a finished job must show.
fn assert_counts(job: &Job, items: usize, errors: usize) {
    let b = &job.body;
    assert_eq!(b["status"], json!("DONE"), "{b}");
    assert_eq!(b["transactionCount"], json!(items), "{b}");
    assert_eq!(b["processedCount"], json!(items), "{b}");
    assert_eq!(b["errorCount"], json!(errors), "{b}");
    assert_eq!(job.items().len(), items, "{b}");
}

fn default_10() -> Vec<(&'static str, &'static str, Value)> {
    vec![("DEFAULT", "percentage", json!(10))]
}

//! Batch validation outcomes end to end (SPEC §4–§5): every cell of the outcome table,
//! malformed items, the amend rules, same-transaction ordering across chunks and
//! workers, and the job's `output=errors|all` views.
//!
//! References (ids, order references, DST folds and gaps, other advertisers) are in
//! `references.rs`.

use ratify_tests::{Client, Job, Stack};
use reqwest::StatusCode;
use serde_json::{json, Value};

const OK: &str = "[200 OK]";
const NOT_MODIFIED: &str = "[304 NOT_MODIFIED]";
const BAD_REQUEST: &str = "[400 BAD_REQUEST]";
const NOT_FOUND: &str = "[404 NOT_FOUND]";
const UNPROCESSABLE: &str = "[422 UNPROCESSABLE_ENTITY]";

// ---------------------------------------------------------------------------------
// Local helpers
// ---------------------------------------------------------------------------------

/// Creates advertiser `aid` with `groups` and returns a client whose token is granted it.
async fn advertiser(stack: &Stack, aid: i64, currency: &str, groups: &[(&str, &str, Value)]) -> Client {
    let admin = stack.admin();
    admin.create_advertiser(aid, currency, groups).await;
    let token = admin.create_token(&[aid]).await;
    stack.client(&token)
}

fn approve(id: i64) -> Value {
    json!({"action": "approve", "transaction": {"transactionId": id}})
}

fn decline(id: i64, reason: &str) -> Value {
    json!({"action": "decline", "transaction": {"transactionId": id, "declineReason": reason}})
}

/// An amend of `id` to `sale` with `parts` as `(code, amount)`, in EUR.
fn amend(id: i64, approve: bool, sale: f64, parts: &[(&str, f64)]) -> Value {
    let parts: Vec<Value> =
        parts.iter().map(|(code, amount)| json!({"commissionGroupCode": code, "amount": amount})).collect();
    json!({"action": "amend", "approve": approve, "transaction": {
        "transactionId": id, "amendReason": "partial return", "currency": "EUR",
        "saleAmount": sale, "transactionParts": parts}})
}

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

// ---------------------------------------------------------------------------------
// 1. The outcome table
// ---------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn every_cell_of_the_outcome_table() {
    let stack = Stack::builder().workers(1).start().await;
    let client = advertiser(&stack, 2001, "EUR", &default_10()).await;
    // 0..3 stay pending, 3..6 get approved, 6..9 get declined by a first job.
    let ids = client.record_simple(2001, "EUR", "T", 9).await;
    let mut first: Vec<Value> = ids[3..6].iter().map(|&id| approve(id)).collect();
    first.extend(ids[6..9].iter().map(|&id| decline(id, "order returned")));
    let job = client.run(2001, &Value::Array(first)).await;
    assert_counts(&job, 6, 0);
    for i in 0..6 {
        assert_code(&job, i, OK);
    }
    let mut before = Vec::new();
    for &id in &ids {
        before.push(client.transaction(2001, id).await);
    }
    for tx in &before[3..9] {
        assert!(tx["validationDate"].is_string(), "approve/decline set validationDate: {tx}");
        assert_eq!(history_len(tx), 1, "one history row per 200: {tx}");
    }

    // The second job: approve, decline, amend against pending, approved, declined.
    let amend_80 = |id| amend(id, false, 80.0, &[("DEFAULT", 80.0)]);
    let second = json!([
        approve(ids[0]),
        decline(ids[1], "fraud"),
        amend_80(ids[2]),
        approve(ids[3]),
        decline(ids[4], "fraud"),
        amend_80(ids[5]),
        approve(ids[6]),
        decline(ids[7], "fraud"),
        amend_80(ids[8]),
    ]);
    let job = client.run(2001, &second).await;
    let expected = [
        OK,
        OK,
        OK, //
        NOT_MODIFIED,
        UNPROCESSABLE,
        UNPROCESSABLE, //
        UNPROCESSABLE,
        NOT_MODIFIED,
        UNPROCESSABLE,
    ];
    for (i, code) in expected.iter().enumerate() {
        assert_code(&job, i, code);
        assert_eq!(job.item(i)["transactionId"], json!(ids[i]), "{}", job.item(i));
    }
    assert_counts(&job, 9, 4);

    let mut after = Vec::new();
    for &id in &ids {
        after.push(client.transaction(2001, id).await);
    }
    // pending + approve: approved, validated.
    assert_eq!(after[0]["commissionStatus"], json!("approved"), "{}", after[0]);
    assert!(after[0]["validationDate"].is_string(), "{}", after[0]);
    assert!(after[0]["declineReason"].is_null(), "{}", after[0]);
    // pending + decline: declined with the reason, validated.
    assert_eq!(after[1]["commissionStatus"], json!("declined"), "{}", after[1]);
    assert_eq!(after[1]["declineReason"], json!("fraud"), "{}", after[1]);
    assert!(after[1]["validationDate"].is_string(), "{}", after[1]);
    // pending + amend: values replaced, still pending, not validated.
    let t = &after[2];
    assert_eq!(t["commissionStatus"], json!("pending"), "{t}");
    assert_eq!(t["amended"], json!(true), "{t}");
    assert_eq!(t["amendReason"], json!("partial return"), "{t}");
    assert_money(&t["saleAmount"], 80.0, "EUR", "amended sale");
    assert_money(&t["commissionAmount"], 8.0, "EUR", "amended commission");
    assert_money(&t["oldSaleAmount"], 100.0, "EUR", "old sale");
    assert_money(&t["oldCommissionAmount"], 10.0, "EUR", "old commission");
    assert!(t["validationDate"].is_null(), "an amend alone does not validate: {t}");
    for (i, tx) in after.iter().enumerate().take(3) {
        assert_eq!(history_len(tx), 1, "item {i}: one history row per 200: {tx}");
    }
    // Every non-200 cell left the transaction exactly as it was (no history row either).
    for i in 3..9 {
        assert_eq!(after[i], before[i], "cell {i} ({}) changed the transaction", expected[i]);
    }
    assert_eq!(after[7]["declineReason"], json!("order returned"), "a 304 keeps the first reason");
    assert_eq!(after[5]["amended"], json!(false));
    assert_eq!(after[8]["amended"], json!(false));
}

// ---------------------------------------------------------------------------------
// 2. Malformed items among good ones
// ---------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn malformed_items_are_400_and_do_not_sink_the_batch() {
    let stack = Stack::builder().workers(1).start().await;
    let client = advertiser(&stack, 2002, "EUR", &default_10()).await;
    let ids = client.record_simple(2002, "EUR", "B", 12).await;
    let by_ref = |order_ref: &str, date: &str, zone: &str| json!({"action": "approve", "transaction": {"orderRef": order_ref, "transactionDate": date, "timezone": zone}});
    let mut no_amend_reason = amend(ids[4], false, 50.0, &[("DEFAULT", 50.0)]);
    no_amend_reason["transaction"].as_object_mut().expect("object").remove("amendReason");
    let batch = json!([
        approve(ids[0]),                                                              // 0 good
        42,                                                                           // 1 not an object
        {"action": "ratify", "transaction": {"transactionId": ids[1]}},               // 2 unknown action
        {"action": "approve", "transaction": {"declineReason": "x"}},                 // 3 no reference
        {"action": "decline", "transaction": {"transactionId": ids[2]}},              // 4 no declineReason
        decline(ids[3], "order returned"),                                            // 5 good
        no_amend_reason,                                                              // 6 no amendReason
        by_ref("B-5", "2026-11-14 10:15:00", "Europe/Stockholm"),                     // 7 bad date
        by_ref("B-6", "2026-11-14T10:15:00", "Mars/Olympus"),                         // 8 unknown zone
        amend(ids[7], false, 10.001, &[("DEFAULT", 10.001)]),                         // 9 too many decimals
        amend(ids[8], false, 10.0, &[("DEFAULT", -1.0)]),                             // 10 negative part
        amend(ids[9], false, -5.0, &[("DEFAULT", 5.0)]),                              // 11 negative sale
        by_ref("B-10", "2026-11-14T10:15:00", "Europe/Stockholm"),                    // 12 good
        amend(ids[11], false, 50.0, &[("DEFAULT", 50.0)]),                            // 13 good
    ]);
    let job = client.run(2002, &batch).await;
    assert_counts(&job, 14, 10);
    for good in [0, 5, 12, 13] {
        assert_code(&job, good, OK);
    }
    // Each malformed item names what is wrong with it.
    let bad: &[(usize, &[&str])] = &[
        (1, &["object"]),
        (2, &["action"]),
        (3, &["transactionId", "orderRef"]),
        (4, &["declineReason"]),
        (6, &["amendReason"]),
        (7, &["transactionDate"]),
        (8, &["timezone"]),
        (9, &["saleAmount"]),
        (10, &["amount"]),
        (11, &["saleAmount"]),
    ];
    for (index, fields) in bad {
        assert_code(&job, *index, BAD_REQUEST);
        let d = description(&job, *index);
        assert!(fields.iter().any(|f| d.contains(f)), "item {index}: description {d:?} should name one of {fields:?}");
    }

    // Good items applied; the transactions of malformed items are untouched.
    let tx = client.transaction(2002, ids[0]).await;
    assert_eq!(tx["commissionStatus"], json!("approved"), "{tx}");
    let tx = client.transaction(2002, ids[3]).await;
    assert_eq!(tx["commissionStatus"], json!("declined"), "{tx}");
    let tx = client.transaction(2002, ids[10]).await;
    assert_eq!(tx["commissionStatus"], json!("approved"), "{tx}");
    let tx = client.transaction(2002, ids[11]).await;
    assert_money(&tx["saleAmount"], 50.0, "EUR", "good amend");
    assert_eq!(tx["amended"], json!(true), "{tx}");
    for i in [1, 2, 4, 5, 6, 7, 8, 9] {
        let tx = client.transaction(2002, ids[i]).await;
        assert_pending_untouched(&tx, &format!("transaction {i} of a malformed item"));
    }
}

// ---------------------------------------------------------------------------------
// 5. Amend rules
// ---------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn amend_rules_default_absorbs_and_commission_is_exact() {
    let stack = Stack::builder().workers(1).start().await;
    let groups =
        [("DEFAULT", "percentage", json!(10)), ("BOOKS", "percentage", json!(12.5)), ("FIX", "fixed", json!(2.50))];
    let client = advertiser(&stack, 2005, "EUR", &groups).await;
    let ids = client.record_simple(2005, "EUR", "A", 8).await;
    let mut wrong_currency = amend(ids[5], false, 50.0, &[("DEFAULT", 50.0)]);
    wrong_currency["transaction"]["currency"] = json!("SEK");
    let batch = json!([
        // 0: parts sum to 11.40 of 55.96: DEFAULT is added with 44.56.
        amend(ids[0], false, 55.96, &[("BOOKS", 0.20), ("FIX", 11.20)]),
        // 1: DEFAULT given as 10.00 absorbs 39.40 more; then approved.
        amend(ids[1], true, 50.0, &[("DEFAULT", 10.0), ("BOOKS", 0.60)]),
        // 2, 3: DEFAULT would go negative (added, or given).
        amend(ids[2], false, 10.0, &[("BOOKS", 20.0)]),
        amend(ids[3], false, 10.0, &[("DEFAULT", 5.0), ("BOOKS", 20.0)]),
        // 4: unknown commission group.
        amend(ids[4], false, 100.0, &[("DEFAULT", 50.0), ("NOPE", 50.0)]),
        // 5: currency differs from the transaction's.
        wrong_currency,
        // 6: nothing would change (the reason alone is no change), approve false.
        amend(ids[6], false, 100.0, &[("DEFAULT", 100.0)]),
        // 7: nothing would change, but approve true.
        amend(ids[7], true, 100.0, &[("DEFAULT", 100.0)]),
    ]);
    let job_id = client.submit(2005, &batch).await;
    let job = client.wait_done(2005, &job_id).await;
    let expected = [OK, OK, UNPROCESSABLE, UNPROCESSABLE, UNPROCESSABLE, UNPROCESSABLE, NOT_MODIFIED, OK];
    for (i, code) in expected.iter().enumerate() {
        assert_code(&job, i, code);
    }
    assert_counts(&job, 8, 4);
    assert!(description(&job, 4).contains("NOPE"), "{}", job.item(4));

    // 0: BOOKS 12.5 % of 0.20 = 0.025 -> 0.02 (half to even); FIX pays 2.50;
    // DEFAULT 10 % of 44.56 = 4.456 -> 4.46. Total 6.98.
    let t = client.transaction(2005, ids[0]).await;
    assert_eq!(t["commissionStatus"], json!("pending"), "{t}");
    assert_money(&t["saleAmount"], 55.96, "EUR", "sale 0");
    assert_eq!(t["transactionParts"].as_array().map(Vec::len), Some(3), "{t}");
    assert_part(&t, "BOOKS", 0.20, 0.02);
    assert_part(&t, "FIX", 11.20, 2.50);
    assert_part(&t, "DEFAULT", 44.56, 4.46);
    assert_money(&t["commissionAmount"], 6.98, "EUR", "commission 0");
    assert_eq!(t["amended"], json!(true), "{t}");
    assert_eq!(t["amendReason"], json!("partial return"), "{t}");
    assert_money(&t["oldSaleAmount"], 100.0, "EUR", "old sale 0");
    assert_money(&t["oldCommissionAmount"], 10.0, "EUR", "old commission 0");
    assert!(t["validationDate"].is_null(), "{t}");
    let history = t["history"].as_array().expect("history");
    assert_eq!(history.len(), 1, "{t}");
    let entry = history[0].to_string();
    assert!(entry.contains(&job_id), "the history names the job: {entry}");
    assert!(entry.contains("55.96"), "the history records the new sale amount: {entry}");

    // 1: DEFAULT 49.40 pays 4.94; BOOKS 12.5 % of 0.60 = 0.075 -> 0.08. Total 5.02.
    let t = client.transaction(2005, ids[1]).await;
    assert_eq!(t["commissionStatus"], json!("approved"), "{t}");
    assert!(t["validationDate"].is_string(), "{t}");
    assert_money(&t["saleAmount"], 50.0, "EUR", "sale 1");
    assert_eq!(t["transactionParts"].as_array().map(Vec::len), Some(2), "{t}");
    assert_part(&t, "DEFAULT", 49.40, 4.94);
    assert_part(&t, "BOOKS", 0.60, 0.08);
    assert_money(&t["commissionAmount"], 5.02, "EUR", "commission 1");
    assert_eq!(t["amended"], json!(true), "{t}");
    assert_money(&t["oldSaleAmount"], 100.0, "EUR", "old sale 1");
    assert_money(&t["oldCommissionAmount"], 10.0, "EUR", "old commission 1");
    assert!(history_len(&t) >= 1, "{t}");

    // 2..6: unchanged.
    for i in 2..7 {
        let t = client.transaction(2005, ids[i]).await;
        assert_pending_untouched(&t, &format!("amend item {i} ({})", expected[i]));
        assert!(t["amendReason"].is_null(), "{t}");
        assert!(t["oldSaleAmount"].is_null(), "{t}");
        assert_money(&t["commissionAmount"], 10.0, "EUR", "unchanged commission");
        assert_part(&t, "DEFAULT", 100.0, 10.0);
    }

    // 7: approved, values as they were.
    let t = client.transaction(2005, ids[7]).await;
    assert_eq!(t["commissionStatus"], json!("approved"), "{t}");
    assert!(t["validationDate"].is_string(), "{t}");
    assert_money(&t["saleAmount"], 100.0, "EUR", "sale 7");
    assert_money(&t["commissionAmount"], 10.0, "EUR", "commission 7");
}

// ---------------------------------------------------------------------------------
// 6. Items of one transaction apply in array order
// ---------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn amend_then_approve_in_one_batch() {
    let stack = Stack::builder().workers(1).start().await;
    let client = advertiser(&stack, 2006, "EUR", &default_10()).await;
    let ids = client.record_simple(2006, "EUR", "S", 2).await;
    let batch = json!([
        amend(ids[0], false, 80.0, &[("DEFAULT", 80.0)]),
        approve(ids[0]),
        // The other order: once approved, the amend is refused.
        approve(ids[1]),
        amend(ids[1], false, 80.0, &[("DEFAULT", 80.0)]),
    ]);
    let job = client.run(2006, &batch).await;
    for (i, code) in [OK, OK, OK, UNPROCESSABLE].iter().enumerate() {
        assert_code(&job, i, code);
    }
    let t = client.transaction(2006, ids[0]).await;
    assert_eq!(t["commissionStatus"], json!("approved"), "{t}");
    assert_eq!(t["amended"], json!(true), "{t}");
    assert_money(&t["saleAmount"], 80.0, "EUR", "amended then approved");
    assert_money(&t["commissionAmount"], 8.0, "EUR", "amended then approved");
    assert_eq!(history_len(&t), 2, "{t}");
    let t = client.transaction(2006, ids[1]).await;
    assert_eq!(t["commissionStatus"], json!("approved"), "{t}");
    assert_eq!(t["amended"], json!(false), "{t}");
    assert_money(&t["saleAmount"], 100.0, "EUR", "approved first");
}

#[tokio::test(flavor = "multi_thread")]
async fn same_transaction_items_keep_array_order_across_chunks_and_workers() {
    let stack = Stack::builder().workers(3).env("RATIFY_CHUNK_SIZE", 2).start().await;
    let client = advertiser(&stack, 2016, "EUR", &default_10()).await;
    let far = client.record_simple(2016, "EUR", "FAR", 4).await;
    let near = client.record_simple(2016, "EUR", "NEAR", 10).await;
    let fillers = client.record_simple(2016, "EUR", "FILL", 24).await;
    let mut fill = fillers.iter().map(|&id| approve(id));
    let amend_80 = |id| amend(id, false, 80.0, &[("DEFAULT", 80.0)]);
    // Cut into plain runs of 2, the array would put each amend and its approve in
    // different chunks: the `far` ones 40+ positions apart (amends first, approves
    // last, in reverse order); the `near` ones in adjacent chunks (amend at an odd
    // index, a filler, the approve), which workers take at the same moment.
    let mut batch: Vec<Value> = far.iter().map(|&id| amend_80(id)).collect();
    for &id in &near {
        batch.extend(fill.by_ref().take(1));
        batch.push(amend_80(id));
        batch.extend(fill.by_ref().take(1));
        batch.push(approve(id));
    }
    for &id in far.iter().rev() {
        batch.push(approve(id));
        batch.extend(fill.by_ref().take(1));
    }
    // Approved is final: a later decline of the same transaction is refused.
    batch.push(decline(far[0], "too late"));
    assert_eq!(fill.next(), None, "all fillers used");
    let n = batch.len();
    let job = client.run(2016, &Value::Array(batch)).await;
    assert_counts(&job, n, 1);
    for i in 0..n - 1 {
        assert_code(&job, i, OK);
    }
    assert_code(&job, n - 1, UNPROCESSABLE);
    for &id in far.iter().chain(&near) {
        let t = client.transaction(2016, id).await;
        assert_eq!(t["commissionStatus"], json!("approved"), "{t}");
        assert_eq!(t["amended"], json!(true), "{t}");
        assert_money(&t["saleAmount"], 80.0, "EUR", "amended then approved");
        assert_money(&t["commissionAmount"], 8.0, "EUR", "amended then approved");
        assert!(t["declineReason"].is_null(), "{t}");
    }
    for &id in &fillers {
        let t = client.transaction(2016, id).await;
        assert_eq!(t["commissionStatus"], json!("approved"), "{t}");
    }
}

// ---------------------------------------------------------------------------------
// 7. Job views
// ---------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn job_output_errors_and_all() {
    let stack = Stack::builder().workers(1).start().await;
    let client = advertiser(&stack, 2007, "EUR", &default_10()).await;
    let ids = client.record_simple(2007, "EUR", "O", 4).await;
    client.run(2007, &json!([approve(ids[1])])).await;
    let by_ref = |action: &str, order_ref: &str| {
        json!({"action": action, "transaction": {"orderRef": order_ref, "transactionDate": "2026-11-14T10:15:00",
               "timezone": "Europe/Stockholm", "declineReason": "returned"}})
    };
    let batch = json!([
        approve(ids[0]),                                    // 0: 200
        approve(ids[1]),                                    // 1: 304
        "not an object",                                    // 2: 400
        approve(999_999_999),                               // 3: 404
        by_ref("approve", "O-2"),                           // 4: 200, resolved
        decline(ids[1], "returned"),                        // 5: 422
        by_ref("decline", "NOPE"),                          // 6: 404
        amend(ids[3], false, 100.0, &[("DEFAULT", 100.0)]), // 7: 304
    ]);
    let job_id = client.submit(2007, &batch).await;
    let all = client.wait_done(2007, &job_id).await;
    let path = format!("/advertisers/2007/transactions/jobs/{job_id}");
    let codes = [OK, NOT_MODIFIED, BAD_REQUEST, NOT_FOUND, OK, UNPROCESSABLE, NOT_FOUND, NOT_MODIFIED];
    let actions = ["approve", "approve", "", "approve", "approve", "decline", "decline", "amend"];
    assert_counts(&all, 8, 4);
    for (i, code) in codes.iter().enumerate() {
        assert_code(&all, i, code);
        let item = all.item(i);
        if !actions[i].is_empty() {
            assert_eq!(item["action"], json!(actions[i]), "{item}");
        }
    }
    assert_eq!(all.item(0)["transactionId"], json!(ids[0]));
    assert_eq!(all.item(1)["transactionId"], json!(ids[1]));
    assert_eq!(all.item(3)["transactionId"], json!(999_999_999));
    assert_eq!(all.item(5)["transactionId"], json!(ids[1]));
    assert_eq!(all.item(7)["transactionId"], json!(ids[3]));
    for i in [4, 6] {
        let item = all.item(i);
        assert_eq!(item["transactionDate"], json!("2026-11-14T10:15:00"), "{item}");
        assert_eq!(item["timezone"], json!("Europe/Stockholm"), "{item}");
    }
    assert_eq!(all.item(4)["orderRef"], json!("O-2"));
    assert_eq!(all.item(4)["transactionId"], json!(ids[2]), "the resolved id");
    assert_eq!(all.item(6)["orderRef"], json!("NOPE"));
    assert!(all.item(6)["transactionId"].is_null(), "nothing resolved: {}", all.item(6));
    let b = &all.body;
    assert_eq!(b.get("failedTransactions"), Some(&Value::Null), "{b}");
    assert_eq!(b["transactions"], b["transactionCount"], "{b}");
    assert_eq!(b["errors"], b["errorCount"], "{b}");
    assert!(b["completionDate"].is_string(), "DONE has a completionDate: {b}");
    assert!(b["creationDate"].is_string(), "{b}");
    assert_eq!(b["jobId"], json!(job_id), "{b}");

    // output=errors: only 400/404/422/500, index order, the same items as in `all`.
    let (status, errors) = client.get(&format!("{path}?output=errors")).await;
    assert_eq!(status, StatusCode::OK, "{errors}");
    assert_eq!(errors.get("allTransactions"), Some(&Value::Null), "{errors}");
    let failed = errors["failedTransactions"].as_array().expect("failedTransactions");
    let indexes: Vec<i64> = failed.iter().map(|i| i["index"].as_i64().expect("index")).collect();
    assert_eq!(indexes, vec![2, 3, 5, 6], "{errors}");
    for item in failed {
        let index = item["index"].as_u64().expect("index") as usize;
        assert_eq!(item, all.item(index), "errors and all agree on item {index}");
    }
    assert_eq!(errors["errors"], json!(4), "{errors}");
    assert_eq!(errors["transactions"], json!(8), "{errors}");

    // No output: both lists null.
    let (status, summary) = client.get(&path).await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!(summary.get("failedTransactions"), Some(&Value::Null), "{summary}");
    assert_eq!(summary.get("allTransactions"), Some(&Value::Null), "{summary}");
    assert_eq!(summary["status"], json!("DONE"), "{summary}");
    assert_eq!(summary["errorCount"], json!(4), "{summary}");
    assert_eq!(summary["errors"], json!(4), "{summary}");
    assert_eq!(summary["transactionCount"], json!(8), "{summary}");
    assert_eq!(summary["transactions"], json!(8), "{summary}");
    assert!(summary["completionDate"].is_string(), "{summary}");

    // Any other output: 400 in the one error shape.
    let (status, body) = client.get(&format!("{path}?output=bogus")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let obj = body.as_object().unwrap_or_else(|| panic!("an object: {body}"));
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["description", "error"], "{body}");
    let error = body["error"].as_str().expect("error");
    assert!(
        !error.is_empty() && error.chars().all(|c| c.is_ascii_uppercase() || c == '_'),
        "error is UPPER_SNAKE: {body}"
    );
    assert!(body["description"].as_str().is_some_and(|d| !d.is_empty()), "{body}");
}

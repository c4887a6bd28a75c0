//! How batch items name their transaction (docs/api.md §4 "Reference"): by id (number or
//! numeric string), by orderRef + local transactionDate + timezone (DST folds and
//! gaps), and never another advertiser's transaction.

use ratify_tests::{Client, Job, Stack};
use reqwest::StatusCode;
use serde_json::{json, Value};

use ratify_tests::actions::approve;
use ratify_tests::actions::labels::{BAD_REQUEST, NOT_FOUND, NOT_MODIFIED, OK, UNPROCESSABLE};

fn row(order_ref: &str, date: &str, zone: &str) -> Value {
    json!({"orderRef": order_ref, "transactionDate": date, "timezone": zone, "saleAmount": 100, "currency": "EUR",
           "transactionParts": [{"commissionGroupCode": "DEFAULT", "amount": 100}]})
}

fn by_ref(action: &str, order_ref: &str, date: &str, zone: &str) -> Value {
    json!({"action": action, "transaction": {"orderRef": order_ref, "transactionDate": date, "timezone": zone,
           "declineReason": "order returned"}})
}

fn assert_code(job: &Job, index: usize, code: &str) {
    let item = job.item(index);
    assert_eq!(job.code(index), code, "item {index}: {item}");
    if code != OK {
        let d = item["description"].as_str().unwrap_or_default();
        assert!(!d.trim().is_empty(), "item {index} has no description: {item}");
    }
}

fn assert_status(tx: &Value, status: &str) {
    assert_eq!(tx["commissionStatus"], json!(status), "{tx}");
}

/// Pending, never validated, never changed.
fn assert_untouched(tx: &Value) {
    assert_status(tx, "pending");
    assert!(tx["validationDate"].is_null(), "{tx}");
    assert!(tx["declineReason"].is_null(), "{tx}");
    assert_eq!(tx["amended"], json!(false), "{tx}");
    assert_eq!(tx["history"].as_array().map_or(0, Vec::len), 0, "{tx}");
}

async fn advertiser(stack: &Stack, aid: i64) -> Client {
    let admin = stack.admin();
    admin.create_advertiser(aid, "EUR", &[("DEFAULT", "percentage", json!(10))]).await;
    let token = admin.create_token(&[aid]).await;
    stack.client(&token)
}

#[tokio::test(flavor = "multi_thread")]
async fn references_by_id_order_ref_and_across_dst() {
    let stack = Stack::builder().workers(1).start().await;
    let client = advertiser(&stack, 3001).await;
    let paris = "Europe/Paris";
    let ids = client
        .record(
            3001,
            &json!([
                row("R-1", "2026-11-14T10:15:00", paris), // 0
                row("R-2", "2026-11-14T10:15:00", paris), // 1
                row("R-3", "2026-11-14T10:15:00", paris), // 2
                row("R-4", "2026-11-14T10:15:00", paris), // 3
                row("R-5", "2026-11-14T10:15:00", paris), // 4
                // 2026-10-25 03:00 CEST -> 02:00 CET: 02:30 happens twice. Recording an
                // ambiguous local time stores its first occurrence (00:30Z).
                row("FOLD-1", "2026-10-25T02:30:00", paris), // 5
                // One FOLD-2 at each occurrence: the second 02:30 in Paris is 01:30 UTC.
                row("FOLD-2", "2026-10-25T02:30:00", paris), // 6
                row("FOLD-2", "2026-10-25T01:30:00", "UTC"), // 7
                // 2026-03-29 02:00 CET -> 03:00 CEST: 02:30 never happens. GAP-1 exists
                // an hour before and an hour after (where a sloppy shift would land).
                row("GAP-1", "2026-03-29T01:30:00", paris), // 8
                row("GAP-1", "2026-03-29T03:30:00", paris), // 9
            ]),
        )
        .await;
    let batch = json!([
        approve(ids[0]),                                                    // 0 id as number
        approve(ids[1].to_string()),                                        // 1 id as string
        by_ref("approve", "R-3", "2026-11-14T10:15:00", paris),             // 2 orderRef
        {"action": "decline", "transaction": {"transactionId": ids[3], "orderRef": "NOPE",
            "transactionDate": "2026-11-14T10:15:00", "timezone": paris,
            "declineReason": "order returned"}},                            // 3 id wins
        by_ref("approve", "R-5", "2026-11-14T09:15:00", "UTC"),             // 4 same instant, other zone
        by_ref("approve", "FOLD-1", "2026-10-25T02:30:00", paris),          // 5 fold, one match
        by_ref("approve", "FOLD-1", "2026-10-25T00:30:00", "UTC"),          // 6 = first occurrence
        by_ref("approve", "GAP-1", "2026-03-29T02:30:00", paris),           // 7 gap
        by_ref("approve", "FOLD-2", "2026-10-25T02:30:00", paris),          // 8 fold, two matches
        by_ref("approve", "R-1", "2026-11-14T10:15:01", paris),             // 9 to the second
        by_ref("approve", "NOPE", "2026-11-14T10:15:00", paris),            // 10 no such order
        approve("12a"),                                                     // 11 not numeric
    ]);
    let job = client.run(3001, &batch).await;
    let codes = [OK, OK, OK, OK, OK, OK, NOT_MODIFIED, NOT_FOUND, UNPROCESSABLE, NOT_FOUND, NOT_FOUND, BAD_REQUEST];
    for (i, code) in codes.iter().enumerate() {
        assert_code(&job, i, code);
    }
    assert_eq!(job.body["errorCount"], json!(5), "{}", job.body);
    // The resolved id is reported, as a number, whichever way the item named it.
    for (index, id) in [(0, ids[0]), (1, ids[1]), (2, ids[2]), (3, ids[3]), (4, ids[4]), (5, ids[5]), (6, ids[5])] {
        assert_eq!(job.item(index)["transactionId"], json!(id), "{}", job.item(index));
    }
    let echo = job.item(2);
    assert_eq!(echo["orderRef"], json!("R-3"), "{echo}");
    assert_eq!(echo["transactionDate"], json!("2026-11-14T10:15:00"), "{echo}");
    assert_eq!(echo["timezone"], json!(paris), "{echo}");
    let ambiguous = job.item(8)["description"].as_str().unwrap_or_default().to_lowercase();
    assert!(ambiguous.contains("ambiguous"), "{}", job.item(8));
    assert!(job.item(11)["description"].as_str().unwrap_or_default().contains("transactionId"));

    for i in [0, 1, 2, 4, 5] {
        assert_status(&client.transaction(3001, ids[i]).await, "approved");
    }
    let t = client.transaction(3001, ids[3]).await;
    assert_status(&t, "declined");
    assert_eq!(t["declineReason"], json!("order returned"), "{t}");
    for &id in &ids[6..10] {
        assert_untouched(&client.transaction(3001, id).await);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn another_advertisers_transaction_is_not_found() {
    let stack = Stack::builder().workers(1).start().await;
    let admin = stack.admin();
    for aid in [4001, 4002] {
        admin.create_advertiser(aid, "EUR", &[("DEFAULT", "percentage", json!(10))]).await;
    }
    // A finance user with both accounts: tenancy follows the path, not the token.
    let both = stack.client(&admin.create_token(&[4001, 4002]).await);
    let only_a = stack.client(&admin.create_token(&[4001]).await);
    let date = "2026-11-14T10:15:00";
    let zone = "Europe/Paris";
    let a = both.record(4001, &json!([row("SAME", date, zone)])).await;
    let b = both.record(4002, &json!([row("X-1", date, zone), row("SAME", date, zone)])).await;

    let batch = json!([
        approve(b[0]),                                                   // 0 by id
        by_ref("decline", "X-1", date, zone),                            // 1 by orderRef
        {"action": "amend", "transaction": {"transactionId": b[1].to_string(), "amendReason": "r",
            "currency": "EUR", "saleAmount": 10,
            "transactionParts": [{"commissionGroupCode": "DEFAULT", "amount": 10}]}}, // 2 by id string
        by_ref("decline", "SAME", date, zone),                           // 3 only A's matches
    ]);
    let job = both.run(4001, &batch).await;
    for (i, code) in [NOT_FOUND, NOT_FOUND, NOT_FOUND, OK].iter().enumerate() {
        assert_code(&job, i, code);
    }
    assert_eq!(job.item(3)["transactionId"], json!(a[0]), "{}", job.item(3));
    assert_eq!(job.body["errorCount"], json!(3), "{}", job.body);

    let job = only_a.run(4001, &json!([approve(b[0]), by_ref("approve", "X-1", date, zone)])).await;
    assert_code(&job, 0, NOT_FOUND);
    assert_code(&job, 1, NOT_FOUND);

    // Nothing of B changed, and B's transaction is invisible under A.
    for &id in &b {
        assert_untouched(&both.transaction(4002, id).await);
        let (status, body) = both.get(&format!("/advertisers/4001/transactions/{id}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    }
    let t = both.transaction(4001, a[0]).await;
    assert_status(&t, "declined");
}

//! Malformed items among good ones: each is its own `[400 BAD_REQUEST]` naming the field.

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn malformed_items_are_400_and_do_not_sink_the_batch() {
    let stack = Stack::builder().in_process().workers(1).start().await;
    let client = stack.advertiser(2002, "EUR", &default_10()).await;
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

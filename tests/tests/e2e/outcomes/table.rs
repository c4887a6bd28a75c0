//! Every cell of the outcome table: approve, decline and amend against pending, approved
//! and declined transactions.

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn every_cell_of_the_outcome_table() {
    let stack = Stack::builder().in_process().workers(1).start().await;
    let client = stack.advertiser(2001, "EUR", &default_10()).await;
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

//! The amend rules: DEFAULT absorbs the rest, refusals, and exact commission.

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn amend_rules_default_absorbs_and_commission_is_exact() {
    let stack = Stack::builder().in_process().workers(1).start().await;
    let groups =
        [("DEFAULT", "percentage", json!(10)), ("BOOKS", "percentage", json!(12.5)), ("FIX", "fixed", json!(2.50))];
    let client = stack.advertiser(2005, "EUR", &groups).await;
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

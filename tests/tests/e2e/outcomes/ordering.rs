//! Items of one transaction apply in array order, within a chunk and across chunks and workers.

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn amend_then_approve_in_one_batch() {
    let stack = Stack::builder().in_process().workers(1).start().await;
    let client = stack.advertiser(2006, "EUR", &default_10()).await;
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
    let stack = Stack::builder().in_process().workers(3).env("RATIFY_CHUNK_SIZE", 2).start().await;
    let client = stack.advertiser(2016, "EUR", &default_10()).await;
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

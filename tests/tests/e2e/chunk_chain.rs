//! A chunk is bounded in bytes, not only in items: a batch of 100,000 long items aimed at
//! one transaction becomes a chain of chunks applied one after the other, in array order,
//! and no worker's memory follows the batch.

use std::time::Duration;

use ratify_tests::{peak_mib, Stack};
use reqwest::StatusCode;
use serde_json::{json, Value};

const ADV: i64 = 5151;
const ITEMS: usize = 100_000;

#[tokio::test(flavor = "multi_thread")]
async fn a_long_single_transaction_batch_is_a_chain_applied_in_order_in_bounded_worker_memory() {
    let stack = Stack::builder().workers(2).start().await;
    let admin = stack.admin();
    admin.create_advertiser(ADV, "EUR", &[("DEFAULT", "percentage", json!(10))]).await;
    let client = stack.client(&admin.create_token(&[ADV]).await);
    let id = client.record_simple(ADV, "EUR", "C", 1).await[0];

    // Every item amends the one transaction to a new sale amount, with a long reason:
    // about 57 MB of body. Only applying them in array order leaves the last amount.
    let reason = "partial return of a long order; ".repeat(13);
    let items: Vec<Value> = (0..ITEMS)
        .map(|i| {
            let sale = 1 + i as i64;
            json!({"action": "amend", "approve": false, "transaction": {"transactionId": id,
                   "amendReason": format!("{reason}{i}"), "currency": "EUR", "saleAmount": sale,
                   "transactionParts": [{"amount": sale, "commissionGroupCode": "DEFAULT"}]}})
        })
        .collect();
    let job = client.submit(ADV, &Value::Array(items)).await;

    client.wait_until_done(ADV, &job, Duration::from_secs(300)).await;

    let path = format!("/advertisers/{ADV}/transactions/jobs/{job}");
    let (status, body) = client.get(&format!("{path}?output=errors")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["transactionCount"], json!(ITEMS));
    assert_eq!(body["errorCount"], json!(0), "{}", body["failedTransactions"]);

    // The batch was split by bytes into a chain: each chunk after the first continues
    // the one before.
    let job_id: uuid::Uuid = job.parse().expect("job id");
    let (chunks, continuing, largest): (i64, i64, i32) = sqlx::query_as(
        "SELECT count(*), count(after_chunk), max(item_count) FROM job_chunks WHERE advertiser_id = $1 AND job_id = $2",
    )
    .bind(ADV)
    .bind(job_id)
    .fetch_one(&stack.db)
    .await
    .expect("reading the chunks");
    assert!(chunks >= 20, "{chunks} chunks for about 57 MB of items");
    assert_eq!(continuing, chunks - 1, "every chunk but the first continues another");
    assert!(largest < 5_000, "a chunk of {largest} items");

    // Every item changed the transaction once, in array order, and the last one stands.
    let indexes: Vec<i32> = sqlx::query_scalar(
        "SELECT item_index FROM transaction_history WHERE advertiser_id = $1 AND transaction_id = $2 AND job_id = $3
         ORDER BY chunk_history_id, item_index",
    )
    .bind(ADV)
    .bind(id)
    .bind(job_id)
    .fetch_all(&stack.db)
    .await
    .expect("reading the history");
    assert_eq!(indexes.len(), ITEMS, "one history row per item");
    assert!(indexes.iter().enumerate().all(|(n, i)| *i as usize == n), "history out of array order");
    let transaction = client.transaction(ADV, id).await;
    let sale = &transaction["saleAmount"];
    assert_eq!(sale["amount"].as_f64(), Some(ITEMS as f64), "the last amend's amount stands: {sale}");

    for pid in stack.worker_pids() {
        let peak = peak_mib(pid).expect("VmHWM").floor() as u64;
        println!("worker {pid}: VmHWM {peak} MiB");
        assert!(peak <= 128, "worker {pid} peaked at {peak} MiB (B5: at most 128 MiB)");
    }
}

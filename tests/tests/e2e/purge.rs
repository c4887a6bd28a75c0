//! The 60-day retention purge: jobs past retention go, with their chunks and outcomes,
//! in batches; younger jobs and every transaction's history stay.

use std::time::Duration;

use ratify_tests::{eventually, Stack};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread")]
async fn jobs_past_retention_are_purged_in_batches() {
    let stack = Stack::builder().workers(1).env("RATIFY_PURGE_INTERVAL_SECONDS", 1).start().await;
    let admin = stack.admin();
    admin.create_advertiser(5, "EUR", &[]).await;
    let client = stack.client(&admin.create_token(&[5]).await);
    let ids = client.record_simple(5, "EUR", "p", 6_000).await;
    let approve = |ids: &[i64]| {
        Value::Array(ids.iter().map(|id| json!({"action": "approve", "transaction": {"transactionId": id}})).collect())
    };
    // More outcomes than one delete batch (5,000).
    let old = client.run(5, &approve(&ids)).await;
    let young = client.run(5, &approve(&ids[..10])).await;
    let old_id: uuid::Uuid = old.body["jobId"].as_str().unwrap().parse().unwrap();
    let young_id = young.body["jobId"].as_str().unwrap().to_owned();

    sqlx::query("UPDATE jobs SET created_at = now() - interval '61 days' WHERE id = $1")
        .bind(old_id)
        .execute(&stack.db)
        .await
        .unwrap();

    let path = format!("/advertisers/5/transactions/jobs/{old_id}");
    eventually("the old job to be purged", Duration::from_secs(30), || async {
        (client.get(&path).await.0 == reqwest::StatusCode::NOT_FOUND).then_some(())
    })
    .await;
    let count = |sql: &'static str| {
        let db = stack.db.clone();
        async move { sqlx::query_scalar::<_, i64>(sql).bind(old_id).fetch_one(&db).await.unwrap() }
    };
    assert_eq!(count("SELECT count(*) FROM job_outcomes WHERE job_id = $1").await, 0);
    assert_eq!(count("SELECT count(*) FROM job_chunks WHERE job_id = $1").await, 0);
    // History belongs to the transactions and stays.
    assert_eq!(count("SELECT count(*) FROM transaction_history WHERE job_id = $1").await, 6_000);

    let (status, body) = client.get(&format!("/advertisers/5/transactions/jobs/{young_id}?output=all")).await;
    assert_eq!(status, reqwest::StatusCode::OK);
    assert_eq!(body["allTransactions"].as_array().unwrap().len(), 10);
    let worker_log = std::fs::read_to_string(stack.log_dir().join("worker-1.log")).unwrap();
    assert!(worker_log.contains("purged jobs past retention"), "{worker_log}");
}

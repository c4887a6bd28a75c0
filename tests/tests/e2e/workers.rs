//! Several workers on one job: every item gets exactly one outcome, every 200 is
//! applied exactly once, and the work is really shared.

use ratify_tests::Stack;
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread")]
async fn three_workers_share_a_job_and_apply_each_item_once() {
    let stack = Stack::builder().workers(3).env("RATIFY_CHUNK_SIZE", 200).start().await;
    let admin = stack.admin();
    admin.create_advertiser(7, "EUR", &[("DEFAULT", "percentage", json!(10))]).await;
    let client = stack.client(&admin.create_token(&[7]).await);
    let ids = client.record_simple(7, "EUR", "order", 3000).await;

    // Approve every transaction, then try to decline each again (locked: 422), and
    // reference 200 ids that do not exist (404).
    let mut items: Vec<Value> =
        ids.iter().map(|id| json!({"action": "approve", "transaction": {"transactionId": id}})).collect();
    items.extend(
        ids.iter()
            .map(|id| json!({"action": "decline", "transaction": {"transactionId": id, "declineReason": "late"}})),
    );
    items.extend((0..200).map(|i| json!({"action": "approve", "transaction": {"transactionId": 900_000_000 + i}})));
    let total = items.len();
    let job = client.run(7, &Value::Array(items)).await;

    assert_eq!(job.body["processedCount"], json!(total));
    assert_eq!(job.body["errorCount"], json!(3200));
    assert_eq!(job.items().len(), total);
    for (i, item) in job.items().iter().enumerate() {
        assert_eq!(item["index"], json!(i));
        let want = match i {
            i if i < 3000 => "[200 OK]",
            i if i < 6000 => "[422 UNPROCESSABLE_ENTITY]",
            _ => "[404 NOT_FOUND]",
        };
        assert_eq!(item["code"], want, "item {i}: {item}");
    }

    // The database agrees: one outcome per item, one history row per 200.
    let job_id: uuid::Uuid = job.body["jobId"].as_str().unwrap().parse().unwrap();
    let (outcomes, distinct): (i64, i64) =
        sqlx::query_as("SELECT count(*), count(DISTINCT item_index) FROM job_outcomes WHERE job_id = $1")
            .bind(job_id)
            .fetch_one(&stack.db)
            .await
            .unwrap();
    assert_eq!((outcomes, distinct), (total as i64, total as i64));
    let history: i64 = sqlx::query_scalar("SELECT count(*) FROM transaction_history WHERE job_id = $1")
        .bind(job_id)
        .fetch_one(&stack.db)
        .await
        .unwrap();
    assert_eq!(history, 3000);
    let approved: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM transactions WHERE advertiser_id = 7 AND commission_status = 'approved'",
    )
    .fetch_one(&stack.db)
    .await
    .unwrap();
    assert_eq!(approved, 3000);

    // More than one worker took part.
    let busy = (1..=3)
        .filter(|n| {
            std::fs::read_to_string(stack.log_dir().join(format!("worker-{n}.log")))
                .is_ok_and(|log| log.contains("chunk applied"))
        })
        .count();
    assert!(busy >= 2, "only {busy} of 3 workers applied chunks");
}

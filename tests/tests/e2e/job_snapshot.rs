//! One answer is one snapshot: ops polling a running job with `?output=all|errors` get
//! counters that equal the items listed beside them, however fast the workers move.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ratify_tests::{Client, Stack};
use reqwest::StatusCode;
use serde_json::{json, Value};

const ADV: i64 = 5151;
const ITEMS: usize = 100_000;
const POLLERS: usize = 16;

/// Checks one answer; returns whether the job was still running.
fn check(output: &str, body: &Value) -> bool {
    let processed = body["processedCount"].as_u64().expect("processedCount") as usize;
    let errors = body["errorCount"].as_u64().expect("errorCount") as usize;
    match output {
        "all" => {
            let items = body["allTransactions"].as_array().expect("allTransactions");
            let failed = items.iter().filter(|i| i["code"].as_str().is_some_and(|c| c >= "[400")).count();
            assert_eq!(processed, items.len(), "processedCount against the items listed");
            assert_eq!(errors, failed, "errorCount against the failed items listed");
        }
        _ => {
            let items = body["failedTransactions"].as_array().expect("failedTransactions");
            assert_eq!(errors, items.len(), "errorCount against the items listed");
        }
    }
    body["status"] != "DONE"
}

#[tokio::test(flavor = "multi_thread")]
async fn every_answer_while_a_job_runs_lists_what_its_counts_say() {
    // One worker taking one chunk at a time: the job runs long enough for many answers.
    let stack = Stack::builder().workers(1).env("RATIFY_WORKER_CONCURRENCY", 1).start().await;
    let admin = stack.admin();
    admin.create_advertiser(ADV, "EUR", &[("DEFAULT", "percentage", json!(10))]).await;
    let client = stack.client(&admin.create_token(&[ADV]).await);
    let ids = client.record_simple(ADV, "EUR", "S", ITEMS - ITEMS / 10).await;
    // Every tenth item names a transaction that does not exist: errors appear as it runs.
    let items: Vec<Value> = (0..ITEMS)
        .map(|i| {
            let id = if i % 10 == 9 { 1_000_000_000 + i as i64 } else { ids[i - i / 10] };
            json!({"action": "approve", "transaction": {"transactionId": id}})
        })
        .collect();
    let job = client.submit(ADV, &Value::Array(items)).await;
    let running = Arc::new(AtomicUsize::new(0));
    let pollers = (0..POLLERS).map(|p| {
        let (client, job, running) = (client.clone(), job.clone(), running.clone());
        tokio::spawn(async move { poll(&client, &job, if p % 4 == 0 { "all" } else { "errors" }, &running).await })
    });
    for poller in futures::future::join_all(pollers).await {
        poller.expect("a poller");
    }
    let seen = running.load(Ordering::Relaxed);
    assert!(seen >= 3 * POLLERS, "only {seen} answers came while the job ran: the test proved nothing");
    eprintln!("{seen} answers checked while the job ran");
}

async fn poll(client: &Client, job: &str, output: &str, running: &AtomicUsize) {
    let path = format!("/advertisers/{ADV}/transactions/jobs/{job}?output={output}");
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let (status, body) = client.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if !check(output, &body) {
            return;
        }
        running.fetch_add(1, Ordering::Relaxed);
        assert!(Instant::now() < deadline, "the job did not finish within 240 s");
    }
}

//! Metrics are scraped from the api and from a worker, and move as a job runs.

use std::net::TcpListener;

use ratify_tests::Stack;
use serde_json::{json, Value};

/// The value of the first sample whose line starts with `prefix` (name and labels).
fn sample(text: &str, prefix: &str) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find(|l| l.starts_with(prefix))?.rsplit(' ').next()?.parse().ok()
}

async fn scrape(url: &str) -> String {
    let response = reqwest::get(url).await.expect("scrape");
    assert!(response.status().is_success(), "{url}: {}", response.status());
    response.text().await.expect("body")
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_move_as_a_job_runs() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let stack = Stack::builder().workers(1).env("RATIFY_METRICS_ADDR", format!("127.0.0.1:{port}")).start().await;
    let admin = stack.admin();
    admin.create_advertiser(3, "EUR", &[]).await;
    let client = stack.client(&admin.create_token(&[3]).await);
    let ids = client.record_simple(3, "EUR", "m", 20).await;

    let api_metrics = format!("{}/metrics", stack.base_url);
    let worker_metrics = format!("http://127.0.0.1:{port}/metrics");
    let before = scrape(&api_metrics).await;
    assert_eq!(sample(&before, "ratify_jobs_accepted_total"), None, "no job yet");

    let mut items: Vec<Value> =
        ids.iter().map(|id| json!({"action": "approve", "transaction": {"transactionId": id}})).collect();
    items.push(json!({"action": "approve", "transaction": {"transactionId": 999_999}}));
    items.push(json!({"action": "nonsense"}));
    client.run(3, &Value::Array(items)).await;

    let api = scrape(&api_metrics).await;
    assert_eq!(sample(&api, "ratify_jobs_accepted_total"), Some(1.0), "{api}");
    assert_eq!(sample(&api, "ratify_items_accepted_total"), Some(22.0));
    assert!(
        sample(
            &api,
            r#"ratify_http_requests_total{route="/advertisers/{aid}/transactions/batch",method="POST",status="200"}"#
        ) == Some(1.0),
        "{api}"
    );
    assert!(api.contains("ratify_http_request_duration_seconds_bucket"), "{api}");
    assert!(api.contains("ratify_queue_depth{queue="), "{api}");
    assert_eq!(sample(&api, "ratify_queue_depth_stale"), Some(0.0), "{api}");
    assert!(sample(&api, "ratify_queue_depth_age_seconds").is_some_and(|age| age < 5.0), "{api}");
    assert_eq!(sample(&api, "ratify_outbox_backlog_chunks"), Some(0.0), "{api}");
    assert_eq!(sample(&api, "ratify_jobs_unfinished"), Some(0.0), "{api}");
    assert_eq!(sample(&api, "ratify_oldest_unfinished_job_age_seconds"), Some(0.0), "{api}");
    assert!(sample(&api, r#"ratify_build_info{binary="api",version=""#).is_some_and(|v| v == 1.0), "{api}");
    assert!(sample(&api, "process_resident_memory_bytes").is_some_and(|v| v > 0.0), "{api}");
    for name in [
        "ratify_http_requests_total",
        "ratify_jobs_accepted_total",
        "ratify_queue_depth",
        "ratify_outbox_backlog_chunks",
    ] {
        assert!(api.lines().any(|l| l.starts_with(&format!("# HELP {name} "))), "{name} has HELP text: {api}");
    }

    let worker = scrape(&worker_metrics).await;
    assert_eq!(sample(&worker, r#"ratify_items_processed_total{code="200"}"#), Some(20.0), "{worker}");
    assert_eq!(sample(&worker, r#"ratify_items_processed_total{code="404"}"#), Some(1.0));
    assert_eq!(sample(&worker, r#"ratify_items_processed_total{code="400"}"#), Some(1.0));
    assert_eq!(sample(&worker, "ratify_jobs_done_total"), Some(1.0));
    assert_eq!(sample(&worker, "ratify_job_latency_seconds_count"), Some(1.0));
    assert!(sample(&worker, r#"ratify_chunks_total{lane="express",result="applied"}"#) >= Some(1.0), "{worker}");
    assert_eq!(sample(&worker, "ratify_chunks_in_flight"), Some(0.0));
    assert!(sample(&worker, r#"ratify_build_info{binary="worker""#).is_some_and(|v| v == 1.0), "{worker}");
    assert!(worker.contains("# HELP ratify_items_processed_total "), "{worker}");
    ratify_tests::eventually("the worker's process metrics", std::time::Duration::from_secs(10), || async {
        sample(&scrape(&worker_metrics).await, "process_resident_memory_bytes").filter(|v| *v > 0.0)
    })
    .await;
}

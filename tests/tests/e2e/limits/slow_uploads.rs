//! Slow-drip uploads do not hold up other clients.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use super::*;

/// A request whose body (announced by Content-Length) arrives one byte a second until the
/// task is aborted; `sent` counts the bytes of every drip.
fn drip(stack: &Stack, path: &str, token: &str, sent: Arc<AtomicUsize>) -> tokio::task::JoinHandle<()> {
    let head = request_head(stack, path, token, &["Content-Length: 4096"]);
    let address = authority(stack);
    tokio::spawn(async move {
        let mut stream = TcpStream::connect(address).await.expect("connect");
        stream.write_all(head.as_bytes()).await.expect("send head");
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        for byte in b"[{\"action\": \"approve\", \"transaction\": {\"transactionId\": 1}}".iter().cycle() {
            tick.tick().await;
            if stream.write_all(&[*byte]).await.is_err() {
                return;
            }
            sent.fetch_add(1, Ordering::SeqCst);
        }
    })
}

/// Runs `request` and returns how long it took; fails if it takes longer than 5 s.
async fn timed<F: std::future::Future<Output = (StatusCode, Value)>>(
    what: &str,
    request: F,
) -> (StatusCode, Value, Duration) {
    let start = Instant::now();
    let (status, body) = tokio::time::timeout(Duration::from_secs(5), request)
        .await
        .unwrap_or_else(|_| panic!("{what} was not answered within 5 s while slow uploads are open"));
    (status, body, start.elapsed())
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_uploads_do_not_hold_up_other_clients() {
    let stack = Stack::builder().workers(0).start().await;
    let (token, client) = setup(&stack).await;

    // More slow uploads than the api has database connections (16), on both body routes.
    const HOGS: usize = 24;
    let sent = Arc::new(AtomicUsize::new(0));
    let hogs: Vec<_> =
        (0..HOGS).map(|i| drip(&stack, if i % 2 == 0 { BATCH } else { INGEST }, &token, sent.clone())).collect();

    // A legitimate client that sends its small batch in 8 slices, one a second.
    let body = approve_batch(1);
    let head = request_head(&stack, BATCH, &token, &[&format!("Content-Length: {}", body.len())]);
    let address = authority(&stack);
    let slow = tokio::spawn(async move {
        let mut stream = TcpStream::connect(address).await.expect("connect");
        stream.write_all(head.as_bytes()).await.expect("send head");
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        for piece in body.as_bytes().chunks(body.len().div_ceil(8)) {
            tick.tick().await;
            stream.write_all(piece).await.expect("send a slice");
        }
        read_response(&mut stream).await
    });

    // Once every slow upload is past its headers and into its body (two bytes each)...
    ratify_tests::eventually("the slow uploads to be under way", Duration::from_secs(20), || async {
        (sent.load(Ordering::SeqCst) >= 2 * HOGS).then_some(())
    })
    .await;
    // ...ordinary requests, reads and writes, are answered promptly, several times over.
    let mut slowest = Duration::ZERO;
    for round in 0..3 {
        let health = timed("GET /health", async {
            let response = reqwest::get(format!("{}/health", stack.base_url)).await.expect("health");
            (response.status(), Value::Null)
        })
        .await;
        assert_eq!(health.0, StatusCode::OK);
        let jobs = timed("GET jobs", client.get("/advertisers/1001/transactions/jobs")).await;
        assert_eq!(jobs.0, StatusCode::OK, "{}", jobs.1);
        let batch = timed(
            "POST batch",
            client.post(BATCH, &json!([{"action": "approve", "transaction": {"transactionId": round + 1}}])),
        )
        .await;
        assert_eq!(batch.0, StatusCode::OK, "{}", batch.1);
        let record = timed("POST transactions", client.post(INGEST, &json!([sale(&format!("S-{round}"))]))).await;
        assert_eq!(record.0, StatusCode::CREATED, "{}", record.1);
        slowest = slowest.max(health.2).max(jobs.2).max(batch.2).max(record.2);
    }
    eprintln!("slowest ordinary request while {HOGS} uploads dripped: {slowest:?}");
    assert!(slowest < Duration::from_secs(2), "an ordinary request took {slowest:?} while uploads dripped");

    // The slow but complete upload is accepted.
    let (status, body) = tokio::time::timeout(Duration::from_secs(30), slow)
        .await
        .expect("the slow upload is answered once complete")
        .expect("slow upload task");
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["jobId"].is_string(), "{body}");

    for hog in &hogs {
        hog.abort();
    }
    // Nothing half-sent was stored: 3 ordinary batches and the slow one.
    assert_eq!(job_count(&stack).await, 4);
    let health = reqwest::get(format!("{}/health", stack.base_url)).await.expect("health");
    assert_eq!(health.status(), StatusCode::OK);
}

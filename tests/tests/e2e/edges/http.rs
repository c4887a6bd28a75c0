//! Errors outside the handlers: request heads hyper refuses, the request timeout, slow heads, the connection cap.

use std::time::{Duration, Instant};

use ratify_tests::assert_error;
use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::*;

/// Sends `request` as is on a new connection and reads the answer to the connection's end:
/// status, lowercased head, and body (JSON if it parses).
async fn raw(stack: &Stack, request: &[u8]) -> (StatusCode, String, Value) {
    let mut stream = TcpStream::connect(authority(stack)).await.expect("connect");
    // The server may stop reading (and close) before all of a huge head is sent.
    let _ = stream.write_all(request).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no complete answer: {text:?}"));
    let status: u16 = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("status: {head}"));
    let body = serde_json::from_str(body).unwrap_or_else(|_| Value::String(body.to_owned()));
    (StatusCode::from_u16(status).expect("status"), head.to_ascii_lowercase(), body)
}

#[tokio::test(flavor = "multi_thread")]
async fn every_request_head_hyper_refuses_is_answered_in_the_error_shape() {
    let stack = Stack::builder().workers(0).start().await;
    let many_headers: String = (0..120).map(|i| format!("X-Header-{i}: v\r\n")).collect();
    let cases: Vec<(&str, Vec<u8>, StatusCode)> = vec![
        (
            "120 headers",
            format!("GET /health HTTP/1.1\r\nHost: x\r\n{many_headers}\r\n").into_bytes(),
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        ),
        (
            "a 100 KB query string",
            format!("GET /health?q={} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(100_000)).into_bytes(),
            StatusCode::URI_TOO_LONG,
        ),
        (
            "conflicting Content-Length",
            b"POST /admin/tokens HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n{}".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "a negative Content-Length",
            b"POST /admin/tokens HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "HTTP/1.0 with chunked encoding",
            b"POST /admin/tokens HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
                .to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "a control character in a header",
            b"GET /health HTTP/1.1\r\nHost: x\r\nX-Trace: a\x01b\r\n\r\n".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        ("a request line that is not HTTP", b"HELLO\r\n\r\n".to_vec(), StatusCode::BAD_REQUEST),
    ];
    for (what, request, expected) in cases {
        let (status, head, body) = raw(&stack, &request).await;
        assert!(head.contains("content-type: application/json"), "{what}: {head}");
        assert_error(what, &(status, body), expected);
    }
    // The api still answers.
    let (status, _, _) = raw(&stack, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_over_the_request_timeout_is_408_in_the_error_shape() {
    let stack = Stack::builder().workers(0).env("RATIFY_REQUEST_TIMEOUT_SECONDS", 2).start().await;
    let client = setup(&stack).await;
    let token = client.token().to_owned();
    // A body announced at 100 bytes of which 10 ever come: the handler waits for the rest.
    let request = format!(
        "POST /advertisers/{ADV}/transactions/batch HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n[{{\"action\""
    );
    let mut stream = TcpStream::connect(authority(&stack)).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("send");
    let started = Instant::now();
    let mut answer = vec![0; 4096];
    let n = tokio::time::timeout(Duration::from_secs(20), stream.read(&mut answer))
        .await
        .expect("an answer within 20 s")
        .expect("read");
    let elapsed = started.elapsed();
    let text = String::from_utf8_lossy(&answer[..n]).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("{text:?}"));
    let status = StatusCode::from_u16(head[9..12].parse().expect("status")).expect("status");
    let body: Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {text:?}"));
    assert_eq!(assert_error("the request timeout", &(status, body), StatusCode::REQUEST_TIMEOUT), "REQUEST_TIMEOUT");
    assert!(elapsed >= Duration::from_millis(1500), "answered after {elapsed:?}, before the timeout");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_never_finishes_its_head_is_cut_while_others_are_answered() {
    let stack = Stack::builder().workers(0).env("RATIFY_HEADER_TIMEOUT_SECONDS", 2).start().await;
    let mut slow = Vec::new();
    for _ in 0..20 {
        let mut stream = TcpStream::connect(authority(&stack)).await.expect("connect");
        stream.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n").await.expect("send");
        slow.push(stream);
    }
    let started = Instant::now();
    let health = reqwest::get(format!("{}/health", stack.base_url)).await.expect("health");
    assert_eq!(health.status(), StatusCode::OK);
    assert!(started.elapsed() < Duration::from_secs(1), "health took {:?} beside slow clients", started.elapsed());
    for mut stream in slow {
        let mut rest = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut rest)).await;
        assert!(read.is_ok(), "a slow-header connection still open after {:?}", started.elapsed());
    }
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(6), "slow-header connections cut only after {elapsed:?}");
    assert!(elapsed >= Duration::from_millis(1500), "cut after {elapsed:?}, before the 2 s head timeout");
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_over_the_cap_wait_until_one_ends() {
    let stack = Stack::builder()
        .workers(0)
        .env("RATIFY_MAX_CONNECTIONS", 2)
        .env("RATIFY_HEADER_TIMEOUT_SECONDS", 3)
        .start()
        .await;
    // Two connections that send nothing take both places until the head timeout cuts them.
    let mut idle = Vec::new();
    for _ in 0..2 {
        idle.push(TcpStream::connect(authority(&stack)).await.expect("connect"));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let health = tokio::time::timeout(Duration::from_secs(20), reqwest::get(format!("{}/health", stack.base_url)))
        .await
        .expect("answered once a place is free")
        .expect("health");
    assert_eq!(health.status(), StatusCode::OK);
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(1500), "answered after {waited:?}: the cap of 2 was not held");
}

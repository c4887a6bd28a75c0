//! Requests over the api's limits: body bytes, batch items, field lengths, JSON nesting,
//! the Idempotency-Key, and a client that uploads its body one byte a second. Every refusal
//! is checked for its status and the one error shape `{"error", "description"}`; every
//! malformed batch item for its `[400 BAD_REQUEST]` outcome naming the field, while the batch
//! itself is accepted. (The request timeout is timed in `edges.rs`.)

use std::time::Duration;

use ratify_tests::{Client, Stack};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const ADV: i64 = 1001;

mod bodies;
mod fields;
mod nesting;
mod slow_uploads;

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// Asserts the job item `index` has `code` and, unless it is `[200 OK]`, a description
/// containing `needle` (e.g. the field at fault).
#[track_caller]
fn assert_item(job: &ratify_tests::Job, index: usize, code: &str, needle: &str) {
    let item = job.item(index);
    assert_eq!(item["code"], code, "item {index}: {item}");
    if !needle.is_empty() {
        let description = item["description"].as_str().unwrap_or_default();
        assert!(description.contains(needle), "item {index}: the description should name {needle:?}: {item}");
    }
}

/// Advertiser 1001 (SEK, DEFAULT 10 %) and a client with a token for it.
async fn setup(stack: &Stack) -> (String, Client) {
    let admin = stack.admin();
    admin.create_advertiser(ADV, "SEK", &[("DEFAULT", "percentage", json!(10))]).await;
    let token = admin.create_token(&[ADV]).await;
    let client = stack.client(&token);
    (token, client)
}

const BATCH: &str = "/advertisers/1001/transactions/batch";
const INGEST: &str = "/advertisers/1001/transactions";

/// `body` padded with spaces after its opening bracket (still the same JSON) to `len` bytes.
fn padded(body: &str, len: usize) -> String {
    assert!(body.starts_with('[') && body.len() <= len);
    format!("[{}{}", " ".repeat(len - body.len()), &body[1..])
}

fn approve_batch(n: usize) -> String {
    let items: Vec<Value> =
        (0..n).map(|i| json!({"action": "approve", "transaction": {"transactionId": i + 1}})).collect();
    Value::Array(items).to_string()
}

fn sale(order_ref: &str) -> Value {
    json!({"orderRef": order_ref, "transactionDate": "2026-11-14T10:15:00", "timezone": "Europe/Stockholm",
           "saleAmount": 100, "currency": "SEK"})
}

async fn job_count(stack: &Stack) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM jobs").fetch_one(&stack.db).await.expect("count jobs")
}

async fn transaction_count(stack: &Stack) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM transactions").fetch_one(&stack.db).await.expect("count transactions")
}

/// `host:port` of the api.
fn authority(stack: &Stack) -> String {
    stack.base_url.trim_start_matches("http://").trim_end_matches('/').to_owned()
}

/// The head of a raw HTTP/1.1 request (`Connection: close`), ending in the blank line.
fn request_head(stack: &Stack, path: &str, token: &str, extra: &[&str]) -> String {
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\n\
         Connection: close\r\n",
        authority(stack)
    );
    for line in extra {
        head.push_str(line);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    head
}

/// Reads a whole HTTP/1.1 response from a `Connection: close` exchange: status and body
/// (JSON if it parses, else a string).
async fn read_response(stream: &mut TcpStream) -> (StatusCode, Value) {
    let mut raw = Vec::new();
    // The server may reset the connection after answering early; what was read still counts.
    let _ = tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut raw)).await;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no complete response: {text:?}"));
    let status: u16 = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("status: {head}"));
    let chunked = head.to_ascii_lowercase().contains("transfer-encoding: chunked");
    let body = if chunked { dechunk(body) } else { body.to_owned() };
    (StatusCode::from_u16(status).expect("status"), serde_json::from_str(&body).unwrap_or(Value::String(body)))
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || tail.len() < n {
            break;
        }
        out.push_str(&tail[..n]);
        rest = tail[n..].trim_start_matches("\r\n");
    }
    out
}

/// Sends `head` and then `body` with chunked transfer encoding (no Content-Length), in
/// chunks of 1 KiB, and reads the answer. Stops sending once the server has answered.
async fn post_chunked(stack: &Stack, head: &str, body: &[u8]) -> (StatusCode, Value) {
    let mut stream = TcpStream::connect(authority(stack)).await.expect("connect");
    stream.write_all(head.as_bytes()).await.expect("send head");
    for piece in body.chunks(1024) {
        let frame = [format!("{:x}\r\n", piece.len()).as_bytes(), piece, b"\r\n"].concat();
        if stream.write_all(&frame).await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    read_response(&mut stream).await
}

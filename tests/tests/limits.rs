//! Requests over the api's limits: body bytes, batch items, field lengths, JSON nesting,
//! the Idempotency-Key, and a client that uploads its body one byte a second. Every refusal
//! is checked for its status and the one error shape `{"error", "description"}`; every
//! malformed batch item for its `[400 BAD_REQUEST]` outcome naming the field, while the batch
//! itself is accepted. (The request timeout is timed in `edges.rs`.)

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ratify_tests::assert_error;
use ratify_tests::{Client, Stack};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const ADV: i64 = 1001;
/// `RATIFY_MAX_BATCH_BYTES` and `RATIFY_MAX_BODY_BYTES` of the byte-limit test.
const BATCH_BYTES: usize = 8192;
const BODY_BYTES: usize = 2048;

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

// ---------------------------------------------------------------------------------------
// 1. Body bytes
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn bodies_over_the_byte_limits_are_413() {
    let stack = Stack::builder()
        .workers(0)
        .env("RATIFY_MAX_BATCH_BYTES", BATCH_BYTES)
        .env("RATIFY_MAX_BODY_BYTES", BODY_BYTES)
        .start()
        .await;
    let (token, client) = setup(&stack).await;
    let one = approve_batch(1);

    // Batch: exactly at the limit is taken; one byte over is refused, with or without a
    // Content-Length, and far over too.
    let got = client.send_raw(BATCH, "application/json", padded(&one, BATCH_BYTES)).await;
    assert_eq!(got.0, StatusCode::OK, "a batch of exactly RATIFY_MAX_BATCH_BYTES: {}", got.1);
    // Over RATIFY_MAX_BODY_BYTES but under RATIFY_MAX_BATCH_BYTES: a batch is measured
    // against the batch limit only.
    let got = client.send_raw(BATCH, "application/json", padded(&one, BODY_BYTES * 2)).await;
    assert_eq!(got.0, StatusCode::OK, "a batch over the body limit but under the batch limit: {}", got.1);
    let jobs = job_count(&stack).await;
    for (what, len) in [("one byte over", BATCH_BYTES + 1), ("4 times over", BATCH_BYTES * 4)] {
        let got = client.send_raw(BATCH, "application/json", padded(&one, len)).await;
        assert_eq!(assert_error(&format!("batch {what}"), &got, StatusCode::PAYLOAD_TOO_LARGE), "PAYLOAD_TOO_LARGE");
        let head = request_head(&stack, BATCH, &token, &["Transfer-Encoding: chunked"]);
        let got = post_chunked(&stack, &head, padded(&one, len).as_bytes()).await;
        assert_eq!(
            assert_error(&format!("chunked batch {what}"), &got, StatusCode::PAYLOAD_TOO_LARGE),
            "PAYLOAD_TOO_LARGE"
        );
    }
    assert_eq!(job_count(&stack).await, jobs, "a refused batch stores nothing");

    // Recording transactions: the body limit applies.
    let rows = Value::Array(vec![sale("B-1")]).to_string();
    let got = client.send_raw(INGEST, "application/json", padded(&rows, BODY_BYTES)).await;
    assert_eq!(got.0, StatusCode::CREATED, "a body of exactly RATIFY_MAX_BODY_BYTES: {}", got.1);
    let rows = Value::Array(vec![sale("B-2")]).to_string();
    for (what, len) in
        [("one byte over", BODY_BYTES + 1), ("over the body limit, under the batch limit", BODY_BYTES * 2)]
    {
        let got = client.send_raw(INGEST, "application/json", padded(&rows, len)).await;
        assert_eq!(
            assert_error(&format!("recording, {what}"), &got, StatusCode::PAYLOAD_TOO_LARGE),
            "PAYLOAD_TOO_LARGE"
        );
        let head = request_head(&stack, INGEST, &token, &["Transfer-Encoding: chunked"]);
        let got = post_chunked(&stack, &head, padded(&rows, len).as_bytes()).await;
        assert_eq!(
            assert_error(&format!("chunked recording, {what}"), &got, StatusCode::PAYLOAD_TOO_LARGE),
            "PAYLOAD_TOO_LARGE"
        );
    }
    assert_eq!(transaction_count(&stack).await, 1, "only B-1 was recorded");

    // An admin body over every limit is refused in the same shape.
    let name = "n".repeat(BATCH_BYTES);
    let got = stack.admin().post("/admin/advertisers", &json!({"id": 2001, "name": name, "currency": "SEK"})).await;
    assert_error("admin body over the limits", &got, StatusCode::PAYLOAD_TOO_LARGE);
}

/// A body announced (Content-Length) as larger than the limit can be refused before any of
/// it is read: the client learns at once, and the api neither waits for nor buffers it.
#[tokio::test(flavor = "multi_thread")]
async fn a_content_length_over_the_limit_is_413_before_the_body() {
    let stack = Stack::builder()
        .workers(0)
        .env("RATIFY_MAX_BATCH_BYTES", BATCH_BYTES)
        .env("RATIFY_MAX_BODY_BYTES", BODY_BYTES)
        .start()
        .await;
    let (token, _) = setup(&stack).await;
    for (path, limit) in [(BATCH, BATCH_BYTES), (INGEST, BODY_BYTES)] {
        for declared in [limit + 1, 1_000_000_000] {
            let mut stream = TcpStream::connect(authority(&stack)).await.expect("connect");
            let head = request_head(&stack, path, &token, &[&format!("Content-Length: {declared}")]);
            stream.write_all(head.as_bytes()).await.expect("send head");
            // Only the first bytes of the body; the rest never comes.
            stream.write_all(b"[").await.expect("send a byte");
            let got = tokio::time::timeout(Duration::from_secs(5), read_response(&mut stream))
                .await
                .unwrap_or_else(|_| panic!("{path} with Content-Length {declared} was not answered within 5 s"));
            assert_eq!(
                assert_error(&format!("{path} with Content-Length {declared}"), &got, StatusCode::PAYLOAD_TOO_LARGE),
                "PAYLOAD_TOO_LARGE"
            );
        }
    }
    assert_eq!(job_count(&stack).await, 0);
}

/// The README: `RATIFY_MAX_BODY_BYTES` bounds every request body but a batch's, so an admin
/// body between the two limits is over its own.
#[tokio::test(flavor = "multi_thread")]
async fn admin_bodies_are_held_to_the_body_limit() {
    let stack = Stack::builder()
        .workers(0)
        .env("RATIFY_MAX_BATCH_BYTES", BATCH_BYTES)
        .env("RATIFY_MAX_BODY_BYTES", BODY_BYTES)
        .start()
        .await;
    let admin = stack.admin();
    let body = |len: usize| {
        let body = json!({"id": 2001, "name": "Padded", "currency": "SEK"}).to_string();
        format!("{{{}{}", " ".repeat(len - body.len()), &body[1..])
    };
    let got = admin.send_raw("/admin/advertisers", "application/json", body(BODY_BYTES * 2)).await;
    assert_eq!(
        assert_error("admin body over RATIFY_MAX_BODY_BYTES", &got, StatusCode::PAYLOAD_TOO_LARGE),
        "PAYLOAD_TOO_LARGE"
    );
    let got = admin.send_raw("/admin/advertisers", "application/json", body(BODY_BYTES)).await;
    assert_eq!(got.0, StatusCode::CREATED, "an admin body of exactly RATIFY_MAX_BODY_BYTES: {}", got.1);
}

// ---------------------------------------------------------------------------------------
// 2. Batch items
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn batches_over_the_item_limit_are_413() {
    let stack = Stack::builder().workers(0).env("RATIFY_MAX_BATCH_ITEMS", 10).start().await;
    let (_, client) = setup(&stack).await;
    let got = client.send_raw(BATCH, "application/json", approve_batch(10)).await;
    assert_eq!(got.0, StatusCode::OK, "10 items at a limit of 10: {}", got.1);
    let jobs = job_count(&stack).await;
    for (what, body) in [
        ("11 actions", approve_batch(11)),
        ("1000 actions", approve_batch(1000)),
        // Malformed elements count as items too: the limit is on the array.
        ("11 numbers", serde_json::to_string(&(0..11).collect::<Vec<_>>()).expect("json")),
        ("11 empty objects", format!("[{}]", ["{}"; 11].join(","))),
    ] {
        let got = client.send_raw(BATCH, "application/json", body).await;
        assert_eq!(assert_error(what, &got, StatusCode::PAYLOAD_TOO_LARGE), "TOO_MANY_ITEMS", "{what}");
    }
    assert_eq!(job_count(&stack).await, jobs, "a refused batch stores nothing");
}

// ---------------------------------------------------------------------------------------
// 3. Field lengths and part counts
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn over_long_fields_are_item_400s_and_the_batch_goes_on() {
    let stack = Stack::builder().workers(1).start().await;
    let admin = stack.admin();
    // DEFAULT and 99 more groups: an amend with 100 parts can apply.
    let mut groups = vec![("DEFAULT".to_owned(), "percentage", json!(10))];
    groups.extend((1..100).map(|g| (format!("G{g:02}"), "percentage", json!(1))));
    let groups: Vec<(&str, &str, Value)> = groups.iter().map(|(c, k, v)| (c.as_str(), *k, v.clone())).collect();
    admin.create_advertiser(ADV, "SEK", &groups).await;
    let token = admin.create_token(&[ADV]).await;
    let client = stack.client(&token);
    let ids = client.record_simple(ADV, "SEK", "F", 9).await;

    let parts = |n: usize| -> Vec<Value> {
        (0..n)
            .map(|p| {
                let code = if p == 0 { "DEFAULT".to_owned() } else { format!("G{p:02}") };
                json!({"commissionGroupCode": code, "amount": 1})
            })
            .collect()
    };
    // Each part is 1 SEK and the sale their sum, so every amend changes the transaction.
    let amend = |id: i64, reason: &str, parts: Vec<Value>| {
        json!({"action": "amend", "transaction": {"transactionId": id, "amendReason": reason, "currency": "SEK",
               "saleAmount": parts.len(), "transactionParts": parts}})
    };
    let decline = |id: i64, reason: &str| json!({"action": "decline", "transaction": {"transactionId": id, "declineReason": reason}});
    let by_order_ref = |order_ref: &str| {
        json!({"action": "approve", "transaction": {"orderRef": order_ref, "transactionDate": "2026-11-14T10:15:00",
               "timezone": "Europe/Stockholm"}})
    };
    let items = json!([
        decline(ids[0], &"r".repeat(1001)),
        decline(ids[1], &"r".repeat(1000)),
        // Characters, not bytes: 1000 two-byte characters are within the limit.
        decline(ids[2], &"é".repeat(1000)),
        decline(ids[3], &"é".repeat(1001)),
        amend(ids[4], &"a".repeat(1001), parts(1)),
        amend(ids[5], &"a".repeat(1000), parts(1)),
        by_order_ref(&"o".repeat(256)),
        // 255 characters is a valid reference; no such transaction.
        by_order_ref(&"o".repeat(255)),
        amend(ids[6], "too many parts", parts(101)),
        amend(ids[7], "as many parts as allowed", parts(100)),
        {"action": "approve", "transaction": {"transactionId": ids[8]}},
    ]);
    let job = client.run(ADV, &items).await;
    assert_item(&job, 0, "[400 BAD_REQUEST]", "declineReason");
    assert_item(&job, 1, "[200 OK]", "");
    assert_item(&job, 2, "[200 OK]", "");
    assert_item(&job, 3, "[400 BAD_REQUEST]", "declineReason");
    assert_item(&job, 4, "[400 BAD_REQUEST]", "amendReason");
    assert_item(&job, 5, "[200 OK]", "");
    assert_item(&job, 6, "[400 BAD_REQUEST]", "orderRef");
    assert_item(&job, 7, "[404 NOT_FOUND]", "");
    assert_item(&job, 8, "[400 BAD_REQUEST]", "transactionParts");
    assert_item(&job, 9, "[200 OK]", "");
    assert_item(&job, 10, "[200 OK]", "");
    assert_eq!(job.body["transactionCount"], json!(11));
    assert_eq!(job.body["errorCount"], json!(6));

    // The refused items changed nothing; the accepted ones kept their text whole.
    for i in [0, 3, 4, 6] {
        let tx = client.transaction(ADV, ids[i]).await;
        assert_eq!(tx["commissionStatus"], "pending", "{tx}");
        assert_eq!(tx["amended"], json!(false), "{tx}");
    }
    let tx = client.transaction(ADV, ids[2]).await;
    assert_eq!(tx["declineReason"], json!("é".repeat(1000)));
    let tx = client.transaction(ADV, ids[7]).await;
    assert_eq!(tx["transactionParts"].as_array().map(Vec::len), Some(100), "{tx}");
}

#[tokio::test(flavor = "multi_thread")]
async fn recording_refuses_over_long_order_refs_and_too_many_parts() {
    let stack = Stack::builder().workers(0).start().await;
    let (_, client) = setup(&stack).await;

    let got = client.post(INGEST, &json!([sale(&"o".repeat(255))])).await;
    assert_eq!(got.0, StatusCode::CREATED, "an orderRef of 255 characters: {}", got.1);
    let before = transaction_count(&stack).await;

    // One over: 400 naming the item and the field, and nothing of the request is recorded.
    let got = client.post(INGEST, &json!([sale("ok-before"), sale(&"o".repeat(256))])).await;
    assert_eq!(assert_error("orderRef of 256 characters", &got, StatusCode::BAD_REQUEST), "BAD_REQUEST");
    let description = got.1["description"].as_str().unwrap_or_default();
    assert!(description.contains("item 1") && description.contains("orderRef"), "{}", got.1);

    let mut row = sale("many-parts");
    row["transactionParts"] = Value::Array(
        (0..101).map(|p| json!({"commissionGroupCode": format!("P{p}"), "amount": 0})).collect::<Vec<_>>(),
    );
    let got = client.post(INGEST, &json!([sale("ok-before"), row])).await;
    assert_eq!(assert_error("101 transactionParts", &got, StatusCode::BAD_REQUEST), "BAD_REQUEST");
    let description = got.1["description"].as_str().unwrap_or_default();
    assert!(description.contains("item 1") && description.contains("transactionParts"), "{}", got.1);
    assert_eq!(transaction_count(&stack).await, before, "a refused request records nothing");
}

/// `orderRef` is "1 to 255 characters" (the OpenAPI document, the error message, and the
/// batch route, which counts characters): recording must count characters too, not bytes,
/// or a transaction whose orderRef a batch may name cannot be recorded.
#[tokio::test(flavor = "multi_thread")]
async fn recording_counts_order_ref_characters_not_bytes() {
    let stack = Stack::builder().workers(0).start().await;
    let (_, client) = setup(&stack).await;
    let got = client.post(INGEST, &json!([sale(&"é".repeat(256))])).await;
    assert_error("orderRef of 256 two-byte characters", &got, StatusCode::BAD_REQUEST);
    let got = client.post(INGEST, &json!([sale(&"é".repeat(255))])).await;
    assert_eq!(got.0, StatusCode::CREATED, "an orderRef of 255 two-byte characters (510 bytes): {}", got.1);
}

// ---------------------------------------------------------------------------------------
// 4. Idempotency-Key
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn idempotency_keys_over_255_characters_are_400() {
    let stack = Stack::builder().workers(0).start().await;
    let (token, _) = setup(&stack).await;
    let http = reqwest::Client::new();
    let post = |key: reqwest::header::HeaderValue| {
        let request = http
            .post(format!("{}{BATCH}", stack.base_url))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .header("idempotency-key", key)
            .body(approve_batch(1));
        async move {
            let response = request.send().await.expect("request");
            let status = response.status();
            let text = response.text().await.expect("body");
            (status, serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text)))
        }
    };
    let value = |s: &str| reqwest::header::HeaderValue::from_str(s).expect("header value");
    let got = post(value(&"k".repeat(255))).await;
    assert_eq!(got.0, StatusCode::OK, "a key of 255 characters: {}", got.1);
    let jobs = job_count(&stack).await;
    for (what, key) in [
        ("256 characters", value(&"k".repeat(256))),
        ("8000 characters", value(&"k".repeat(8000))),
        ("only spaces", value("   ")),
        ("not ASCII", reqwest::header::HeaderValue::from_bytes("clé-1".as_bytes()).expect("header value")),
    ] {
        let got = post(key).await;
        assert_eq!(assert_error(&format!("Idempotency-Key of {what}"), &got, StatusCode::BAD_REQUEST), "BAD_REQUEST");
        assert!(
            got.1["description"].as_str().is_some_and(|d| d.contains("Idempotency-Key")),
            "{what}: the description should name the header: {}",
            got.1
        );
    }
    assert_eq!(job_count(&stack).await, jobs, "a refused key stores nothing");
}

// ---------------------------------------------------------------------------------------
// 5. JSON nesting
// ---------------------------------------------------------------------------------------

fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

#[tokio::test(flavor = "multi_thread")]
async fn deeply_nested_json_is_refused_or_isolated_and_the_server_stays_up() {
    let stack = Stack::builder().workers(1).start().await;
    let (_, client) = setup(&stack).await;
    let ids = client.record_simple(ADV, "SEK", "N", 2).await;
    let deep = nested(200); // serde_json's recursion limit is 128

    // A batch whose one element is 200 nested arrays: the array is read, the element is not
    // an object, so it is that item's 400 (SPEC section 4), and the batch goes on. The same
    // 100,000 levels deep (far past any recursion) is handled alike; unbalanced, it is no
    // JSON at all.
    for depth in [200, 100_000] {
        let body = format!(
            "[{}, {{\"action\": \"approve\", \"transaction\": {{\"transactionId\": {}}}}}]",
            nested(depth),
            ids[0]
        );
        let got = client.send_raw(BATCH, "application/json", body).await;
        assert_eq!(got.0, StatusCode::OK, "a batch with a {depth}-deep element: {}", got.1);
        let job = client.wait_done(ADV, got.1["jobId"].as_str().expect("jobId")).await;
        assert_item(&job, 0, "[400 BAD_REQUEST]", "object");
        assert!(["[200 OK]", "[304 NOT_MODIFIED]"].contains(&job.code(1)), "{:?}", job.body);
    }
    let got = client.send_raw(BATCH, "application/json", "[".repeat(100_000)).await;
    assert_eq!(assert_error("100,000 unclosed brackets", &got, StatusCode::BAD_REQUEST), "JSON_PARSE_ERROR");

    // Deep nesting inside an item: in a field it reads, that item is a 400 naming the field;
    // in a field it does not know, it is ignored like any unknown field.
    let raw_items = format!(
        "[{{\"action\": \"approve\", \"transaction\": {{\"transactionId\": {deep}}}}},\
          {{\"action\": \"decline\", \"transaction\": {{\"transactionId\": {id}, \"declineReason\": {deep}}}}},\
          {{\"action\": \"amend\", \"transaction\": {{\"transactionId\": {id}, \"amendReason\": \"x\", \
             \"currency\": \"SEK\", \"saleAmount\": 1, \"transactionParts\": {deep}}}}},\
          {{\"action\": {deep}, \"transaction\": {{\"transactionId\": {id}}}}},\
          {{\"action\": \"approve\", \"extra\": {deep}, \"transaction\": {{\"transactionId\": {id}, \"x\": {deep}}}}}]",
        id = ids[1]
    );
    let got = client.send_raw(BATCH, "application/json", raw_items).await;
    assert_eq!(got.0, StatusCode::OK, "{}", got.1);
    let job = client.wait_done(ADV, got.1["jobId"].as_str().expect("jobId")).await;
    assert_item(&job, 0, "[400 BAD_REQUEST]", "transactionId");
    assert_item(&job, 1, "[400 BAD_REQUEST]", "declineReason");
    assert_item(&job, 2, "[400 BAD_REQUEST]", "transactionParts");
    assert_item(&job, 3, "[400 BAD_REQUEST]", "action");
    assert_item(&job, 4, "[200 OK]", "");

    // Recording and admin bodies that are 200 nested arrays: a 400 in the error shape.
    let got = client.send_raw(INGEST, "application/json", deep.clone()).await;
    assert_error("recording 200 nested arrays", &got, StatusCode::BAD_REQUEST);
    let got = client.send_raw(INGEST, "application/json", format!("[{{\"orderRef\": {deep}}}]")).await;
    assert_error("recording an orderRef of 200 nested arrays", &got, StatusCode::BAD_REQUEST);
    let admin = stack.admin();
    let got = admin.send_raw("/admin/tokens", "application/json", deep.clone()).await;
    assert_eq!(assert_error("admin body of 200 nested arrays", &got, StatusCode::BAD_REQUEST), "JSON_PARSE_ERROR");
    let got =
        admin.send_raw("/admin/advertisers", "application/json", format!("{{\"id\": 7, \"name\": {deep}}}")).await;
    assert_eq!(assert_error("admin name of 200 nested arrays", &got, StatusCode::BAD_REQUEST), "JSON_PARSE_ERROR");
    let got = admin.send_raw("/admin/advertisers", "application/json", "{\"a\":".repeat(100_000)).await;
    assert_eq!(assert_error("100,000 unclosed objects", &got, StatusCode::BAD_REQUEST), "JSON_PARSE_ERROR");

    // Still healthy: the same processes answer and apply a new job.
    let health = reqwest::get(format!("{}/health", stack.base_url)).await.expect("health");
    assert_eq!(health.status(), StatusCode::OK);
    let job = client
        .run(ADV, &json!([{"action": "decline", "transaction": {"transactionId": ids[0], "declineReason": "x"}}]))
        .await;
    assert!(["[200 OK]", "[422 UNPROCESSABLE_ENTITY]"].contains(&job.code(0)), "{:?}", job.body);
}

// ---------------------------------------------------------------------------------------
// 6. Slow uploads
// ---------------------------------------------------------------------------------------

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

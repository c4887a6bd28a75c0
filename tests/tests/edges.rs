//! The api's edges, tried as a hostile client would: job-list cursors it did not give out,
//! request heads hyper refuses before any handler runs, the request timeout, a client that
//! never finishes its head, the connection cap, gzipped bodies (a bomb among them), other
//! encodings, and a month of local days in a zone that leaves summer time within it. Every
//! refusal is checked for its status and the one error shape `{"error", "description"}`.

use std::time::{Duration, Instant};

use ratify_tests::{assert_error, Client, Stack};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const ADV: i64 = 1001;
const OTHER: i64 = 1002;

/// Advertisers 1001 and 1002 (SEK) and a client whose token is granted both.
async fn setup(stack: &Stack) -> Client {
    let admin = stack.admin();
    for id in [ADV, OTHER] {
        admin.create_advertiser(id, "SEK", &[("DEFAULT", "percentage", json!(10))]).await;
    }
    stack.client(&admin.create_token(&[ADV, OTHER]).await)
}

/// `host:port` of the api.
fn authority(stack: &Stack) -> String {
    stack.base_url.trim_start_matches("http://").trim_end_matches('/').to_owned()
}

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

// ---------------------------------------------------------------------------------------
// Job-list cursors
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn a_cursor_the_api_did_not_give_this_advertiser_is_400_never_500() {
    let stack = Stack::builder().workers(0).start().await;
    let client = setup(&stack).await;
    for advertiser in [ADV, OTHER] {
        for i in 0..3 {
            client.submit(advertiser, &json!([{"action": "approve", "transaction": {"transactionId": i + 1}}])).await;
        }
    }
    let first_page = |advertiser: i64| {
        let client = &client;
        async move {
            let (status, page) = client.get(&format!("/advertisers/{advertiser}/transactions/jobs?limit=1")).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            (page["jobs"][0].clone(), page["nextCursor"].as_str().expect("a next page").to_owned())
        }
    };
    let (job, cursor) = first_page(ADV).await;
    let (_, others) = first_page(OTHER).await;
    // The cursor given out works, and is opaque: it does not show the job it follows.
    let (status, page) = client.get(&format!("/advertisers/{ADV}/transactions/jobs?limit=1&cursor={cursor}")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_ne!(page["jobs"][0]["jobId"], job["jobId"], "the second page starts after the first");
    assert!(!cursor.contains(job["jobId"].as_str().expect("jobId")), "{cursor}");

    let mut flipped = cursor.clone().into_bytes();
    flipped[3] = if flipped[3] == b'A' { b'B' } else { b'A' };
    let job_id = job["jobId"].as_str().expect("jobId");
    let tampered = [
        "-300000000000000000.00000000-0000-0000-0000-000000000000".to_owned(),
        format!("{}.{}", i64::MAX, job_id),
        "1790000000000000.not-a-uuid".to_owned(),
        format!("1790000000000000.{job_id}"),
        String::from_utf8(flipped).expect("ascii"),
        cursor[..cursor.len() - 2].to_owned(),
        format!("{cursor}AA"),
        "%%%not-base64%%%".to_owned(),
        "A".repeat(10_000),
        // A well-formed cursor, given out by this api, for another advertiser.
        others,
    ];
    for bad in tampered {
        let got = client.get(&format!("/advertisers/{ADV}/transactions/jobs?cursor={bad}")).await;
        assert_eq!(assert_error(&format!("cursor {bad:.60}"), &got, StatusCode::BAD_REQUEST), "BAD_REQUEST");
    }
}

// ---------------------------------------------------------------------------------------
// Errors outside the handlers
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// Slow clients and the connection cap
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// Content-Encoding
// ---------------------------------------------------------------------------------------

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("gzip");
    encoder.finish().expect("gzip")
}

/// POSTs `body` with `Content-Encoding: encoding` (none when empty).
async fn post_encoded(
    stack: &Stack,
    client: &Client,
    path: &str,
    encoding: &str,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}{path}", stack.base_url))
        .bearer_auth(client.token())
        .header("content-type", "application/json")
        .body(body);
    if !encoding.is_empty() {
        request = request.header("content-encoding", encoding);
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gzipped_recording_and_batch_are_inflated_and_applied() {
    let stack = Stack::builder().start().await;
    let client = setup(&stack).await;
    let rows = json!([{"orderRef": "GZ-1", "transactionDate": "2026-11-14T10:15:00", "timezone": "Europe/Stockholm",
                       "saleAmount": 100, "currency": "SEK"}]);
    let path = format!("/advertisers/{ADV}/transactions");
    let (status, recorded) = post_encoded(&stack, &client, &path, "gzip", gzip(rows.to_string().as_bytes())).await;
    assert_eq!(status, StatusCode::CREATED, "{recorded}");
    let id = recorded["ids"][0].as_i64().expect("id");
    let batch = json!([{"action": "decline", "transaction": {"transactionId": id, "declineReason": "returned"}}]);
    let path = format!("/advertisers/{ADV}/transactions/batch");
    let (status, accepted) = post_encoded(&stack, &client, &path, "gzip", gzip(batch.to_string().as_bytes())).await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    let job = client.wait_done(ADV, accepted["jobId"].as_str().expect("jobId")).await;
    assert_eq!(job.code(0), "[200 OK]");
    assert_eq!(client.transaction(ADV, id).await["commissionStatus"], "declined");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plain_body_labelled_gzip_is_400_and_other_encodings_415() {
    let stack = Stack::builder().workers(0).start().await;
    let client = setup(&stack).await;
    let batch = json!([{"action": "approve", "transaction": {"transactionId": 1}}]).to_string().into_bytes();
    let path = format!("/advertisers/{ADV}/transactions/batch");
    let got = post_encoded(&stack, &client, &path, "gzip", batch.clone()).await;
    assert_eq!(assert_error("a plain body labelled gzip", &got, StatusCode::BAD_REQUEST), "BAD_REQUEST");
    assert!(got.1["description"].as_str().is_some_and(|d| d.contains("gzip")), "names the encoding: {}", got.1);
    let mut truncated = gzip(&batch);
    truncated.truncate(truncated.len() - 4);
    let got = post_encoded(&stack, &client, &path, "gzip", truncated).await;
    assert_error("a truncated gzip body", &got, StatusCode::BAD_REQUEST);
    for encoding in ["br", "deflate", "zstd", "gzip, gzip"] {
        let got = post_encoded(&stack, &client, &path, encoding, batch.clone()).await;
        assert_eq!(assert_error(encoding, &got, StatusCode::UNSUPPORTED_MEDIA_TYPE), "UNSUPPORTED_MEDIA_TYPE");
    }
    let got = post_encoded(&stack, &client, &path, "identity", batch).await;
    assert_eq!(got.0, StatusCode::OK, "identity is no encoding: {}", got.1);
    assert_eq!(sqlx::query_scalar::<_, i64>("SELECT count(*) FROM jobs").fetch_one(&stack.db).await.unwrap(), 1);
}

/// A valid gzip of `[` and then `mib` MiB (less one byte) of spaces, built without
/// compressing all of it: a sync-flushed deflate block of 1 MiB of spaces only refers back
/// to spaces, so the same block repeated inflates to as many MiB.
fn gzip_bomb(mib: u32) -> Vec<u8> {
    use flate2::{Compress, Compression, Crc, FlushCompress};
    let spaces = vec![b' '; 1 << 20];
    let mut first = spaces.clone();
    first[0] = b'[';
    let mut deflate = Compress::new(Compression::best(), false);
    let mut block = |input: &[u8], flush| {
        let mut out = Vec::with_capacity(1 << 16);
        let before = deflate.total_in();
        deflate.compress_vec(input, &mut out, flush).expect("deflate");
        assert_eq!(deflate.total_in() - before, input.len() as u64, "the whole MiB in one block");
        out
    };
    let (head, repeated, tail) =
        (block(&first, FlushCompress::Sync), block(&spaces, FlushCompress::Sync), block(&[], FlushCompress::Finish));
    let mut crc = Crc::new();
    crc.update(&first);
    let mut crc_spaces = Crc::new();
    crc_spaces.update(&spaces);
    let mut bomb = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    bomb.extend_from_slice(&head);
    for _ in 1..mib {
        bomb.extend_from_slice(&repeated);
        crc.combine(&crc_spaces);
    }
    bomb.extend_from_slice(&tail);
    bomb.extend_from_slice(&crc.sum().to_le_bytes());
    bomb.extend_from_slice(&crc.amount().to_le_bytes());
    bomb
}

/// Peak resident memory of a process (VmHWM), in MiB.
fn peak_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM");
    kib / 1024
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gzip_bomb_of_1_gib_is_413_within_the_body_limit_in_bounded_memory() {
    let stack = Stack::builder().workers(0).start().await;
    let client = setup(&stack).await;
    // The same construction, small, inflates to exactly what it claims.
    let mut inflated = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gzip_bomb(4)[..]), &mut inflated)
        .expect("valid gzip");
    assert_eq!(
        (inflated.len(), inflated[0], inflated.iter().filter(|&&b| b == b' ').count()),
        (4 << 20, b'[', (4 << 20) - 1)
    );
    let bomb = gzip_bomb(1024);
    assert!(bomb.len() < 4 << 20, "the bomb is small: {} bytes", bomb.len());
    let path = format!("/advertisers/{ADV}/transactions/batch");
    let started = Instant::now();
    let got = post_encoded(&stack, &client, &path, "gzip", bomb.clone()).await;
    assert_eq!(assert_error("a 1 GiB gzip bomb", &got, StatusCode::PAYLOAD_TOO_LARGE), "PAYLOAD_TOO_LARGE");
    let got = post_encoded(&stack, &client, &format!("/advertisers/{ADV}/transactions"), "gzip", bomb).await;
    assert_eq!(assert_error("a 1 GiB gzip bomb recorded", &got, StatusCode::PAYLOAD_TOO_LARGE), "PAYLOAD_TOO_LARGE");
    assert!(started.elapsed() < Duration::from_secs(60), "refused after {:?}", started.elapsed());
    let peak = peak_mib(stack.api_pid().expect("api pid"));
    eprintln!("two 1 GiB gzip bombs refused after {:?}; the api peaked at {peak} MiB", started.elapsed());
    assert!(peak <= 256, "the api peaked at {peak} MiB");
    assert_eq!(sqlx::query_scalar::<_, i64>("SELECT count(*) FROM jobs").fetch_one(&stack.db).await.unwrap(), 0);
}

// ---------------------------------------------------------------------------------------
// Listing by local days
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn october_in_paris_is_listed_though_it_lasts_31_days_and_an_hour() {
    let stack = Stack::builder().workers(0).start().await;
    let client = setup(&stack).await;
    let sale = |order_ref: &str, date: &str| {
        json!({"orderRef": order_ref, "transactionDate": date, "timezone": "Europe/Paris", "saleAmount": 100,
               "currency": "SEK"})
    };
    client
        .record(
            ADV,
            &json!([
                sale("OCT-FIRST", "2026-10-01T00:00:00"),
                sale("OCT-LAST", "2026-10-31T23:59:59"),
                sale("NOV-FIRST", "2026-11-01T00:00:00")
            ]),
        )
        .await;
    let list = |start: &str, end: &str| {
        let client = &client;
        let path = format!("/advertisers/{ADV}/transactions?startDate={start}&endDate={end}&timezone=Europe/Paris");
        async move { client.get(&path).await }
    };
    let (status, body) = list("2026-10-01T00:00:00", "2026-10-31T23:59:59").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut refs: Vec<&str> = body.as_array().expect("array").iter().map(|t| t["orderRef"].as_str().unwrap()).collect();
    refs.sort_unstable();
    assert_eq!(refs, ["OCT-FIRST", "OCT-LAST"]);
    // 31 local days to the second is the most; one second more is 32 days' worth.
    let (status, body) = list("2026-10-01T00:00:00", "2026-11-01T00:00:00").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let got = list("2026-10-01T00:00:00", "2026-11-01T00:00:01").await;
    assert_error("32 local days", &got, StatusCode::BAD_REQUEST);
    let got = list("2026-09-30T00:00:00", "2026-10-31T23:59:59").await;
    assert_error("32 local days", &got, StatusCode::BAD_REQUEST);
}

// ---------------------------------------------------------------------------------------
// Shutdown
// ---------------------------------------------------------------------------------------

/// Whether the process has exited (gone, or a zombie not yet reaped).
fn exited(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_or(true, |stat| stat.rsplit_once(") ").is_some_and(|(_, rest)| rest.starts_with('Z')))
}

#[tokio::test(flavor = "multi_thread")]
async fn on_sigterm_a_request_in_flight_is_answered_then_the_api_exits() {
    let mut stack = Stack::builder().workers(0).start().await;
    let client = setup(&stack).await;
    let body = json!([{"action": "approve", "transaction": {"transactionId": 1}}]).to_string();
    let (first, rest) = body.split_at(10);
    let mut stream = TcpStream::connect(authority(&stack)).await.expect("connect");
    let head = format!(
        "POST /advertisers/{ADV}/transactions/batch HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        client.token(),
        body.len()
    );
    stream.write_all(format!("{head}{first}").as_bytes()).await.expect("send the head");
    // Let the api start the request before it is told to stop.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pid = stack.api_pid().expect("api pid");
    let term = std::process::Command::new("kill").arg("-TERM").arg(pid.to_string()).status().expect("kill");
    assert!(term.success());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!exited(pid), "the api left with a request in flight");
    stream.write_all(rest.as_bytes()).await.expect("send the rest");
    let mut answer = vec![0; 4096];
    let n =
        tokio::time::timeout(Duration::from_secs(20), stream.read(&mut answer)).await.expect("answer").expect("read");
    let text = String::from_utf8_lossy(&answer[..n]).into_owned();
    assert!(text.starts_with("HTTP/1.1 200 "), "{text}");
    assert!(text.contains("jobId"), "{text}");
    drop(stream);
    ratify_tests::eventually("the api to exit", Duration::from_secs(20), || async { exited(pid).then_some(()) }).await;
    stack.stop_api().expect("reap the api");
}

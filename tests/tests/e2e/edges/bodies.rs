//! Content-Encoding: gzipped bodies inflated, bad gzip and other encodings refused, and a 1 GiB gzip bomb.

use std::time::{Duration, Instant};

use ratify_tests::{assert_error, peak_mib};
use reqwest::StatusCode;
use serde_json::Value;

use super::*;

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
    ratify_tests::answer(request).await
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
    let peak = peak_mib(stack.api_pid().expect("api pid")).expect("VmHWM").floor() as u64;
    eprintln!("two 1 GiB gzip bombs refused after {:?}; the api peaked at {peak} MiB", started.elapsed());
    assert!(peak <= 256, "the api peaked at {peak} MiB");
    assert_eq!(sqlx::query_scalar::<_, i64>("SELECT count(*) FROM jobs").fetch_one(&stack.db).await.unwrap(), 0);
}

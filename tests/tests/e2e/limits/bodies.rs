//! Size limits on whole requests: body bytes (with a Content-Length, chunked, announced
//! but never sent) and the number of batch items.

use ratify_tests::assert_error;

use super::*;

/// `RATIFY_MAX_BATCH_BYTES` and `RATIFY_MAX_BODY_BYTES` of the byte-limit test.
const BATCH_BYTES: usize = 8192;
const BODY_BYTES: usize = 2048;

// ---------------------------------------------------------------------------------------
// Body bytes
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
// Batch items
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

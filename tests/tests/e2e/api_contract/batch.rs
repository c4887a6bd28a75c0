//! The batch envelope (`POST /advertisers/{id}/transactions/batch`) and its Idempotency-Key.

use std::collections::HashSet;

use ratify_tests::assert_error;

use super::*;

// ---------------------------------------------------------------------------------------
// Batch envelope
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn batch_envelope_errors() {
    let stack = Stack::builder()
        .in_process()
        .workers(0)
        .env("RATIFY_MAX_BATCH_ITEMS", 5)
        .env("RATIFY_MAX_BATCH_BYTES", 2048)
        .start()
        .await;
    let (_, token, client) = setup(&stack).await;

    // A JSON object instead of an array.
    let got =
        post_batch(&stack, &token, 1001, None, r#"{"action": "approve", "transaction": {"transactionId": 1}}"#).await;
    assert_eq!(assert_error("object body", &got, StatusCode::BAD_REQUEST), "JSON_PARSE_ERROR");
    assert!(
        description(&got).to_ascii_lowercase().contains("square bracket"),
        "the description should say to enclose the objects in square brackets: {}",
        got.1
    );

    // Not JSON at all, or JSON that is not an array.
    for body in
        [r#"[{"action": "approve", "transaction": {"transactionId": 1}"#, "approve 1", "", "\"hello\"", "42", "null"]
    {
        let got = post_batch(&stack, &token, 1001, None, body).await;
        assert_eq!(
            assert_error(&format!("body {body:?}"), &got, StatusCode::BAD_REQUEST),
            "JSON_PARSE_ERROR",
            "body {body:?}"
        );
    }

    // An empty array.
    let got = post_batch(&stack, &token, 1001, None, "[]").await;
    assert_error("empty array", &got, StatusCode::BAD_REQUEST);

    // Item limit: 5 is fine, 6 is too many.
    let items = |n: usize| {
        let items: Vec<Value> =
            (0..n).map(|i| json!({"action": "approve", "transaction": {"transactionId": i + 1}})).collect();
        Value::Array(items).to_string()
    };
    let got = post_batch(&stack, &token, 1001, None, &items(6)).await;
    assert!(items(6).len() < 2048, "the 6-item body must be under the byte limit");
    assert_error("6 items over a limit of 5", &got, StatusCode::PAYLOAD_TOO_LARGE);
    let got = post_batch(&stack, &token, 1001, None, &items(5)).await;
    assert_eq!(got.0, StatusCode::OK, "5 items at a limit of 5: {}", got.1);

    // Byte limit: 3 items (under the item limit) but over 2048 bytes.
    let reason = "r".repeat(800);
    let big = Value::Array(
        (0..3)
            .map(|i| json!({"action": "decline", "transaction": {"transactionId": i + 1, "declineReason": reason}}))
            .collect(),
    )
    .to_string();
    assert!(big.len() > 2048);
    let got = post_batch(&stack, &token, 1001, None, &big).await;
    assert_error("body over 2048 bytes", &got, StatusCode::PAYLOAD_TOO_LARGE);

    // Content types.
    let auth = format!("Bearer {token}");
    let path = "/advertisers/1001/transactions/batch";
    let got =
        raw(&stack, Method::POST, path, Some(&auth), Some("text/plain"), &[], Some(APPROVE_ONE.as_bytes().to_vec()))
            .await;
    assert_error("text/plain", &got, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let got = raw(&stack, Method::POST, path, Some(&auth), None, &[], Some(APPROVE_ONE.as_bytes().to_vec())).await;
    assert_error("no content type", &got, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let got = raw(
        &stack,
        Method::POST,
        path,
        Some(&auth),
        Some("application/x-www-form-urlencoded"),
        &[],
        Some(APPROVE_ONE.as_bytes().to_vec()),
    )
    .await;
    assert_error("form content type", &got, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // Not in docs/api.md, but what a JSON client sends: a charset parameter is still JSON.
    let got = raw(
        &stack,
        Method::POST,
        path,
        Some(&auth),
        Some("application/json; charset=utf-8"),
        &[],
        Some(APPROVE_ONE.as_bytes().to_vec()),
    )
    .await;
    assert_eq!(got.0, StatusCode::OK, "application/json with charset: {}", got.1);

    // Nothing refused above created a job: only the 5-item and the charset batches exist.
    let jobs = all_jobs(&client, 1001).await;
    assert_eq!(jobs.len(), 2, "{jobs:?}");
    let counts: HashSet<i64> = jobs.iter().map(|j| j["transactionCount"].as_i64().expect("transactionCount")).collect();
    assert_eq!(counts, HashSet::from([5, 1]));
}

// ---------------------------------------------------------------------------------------
// Idempotency-Key
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn idempotency_key() {
    let stack = Stack::builder().in_process().workers(0).start().await;
    let (admin, token, client) = setup(&stack).await;
    admin.create_advertiser(1002, "SEK", &[("DEFAULT", "percentage", json!(10))]).await;
    let token_b = admin.create_token(&[1002]).await;
    let client_b = stack.client(&token_b);

    let first = post_batch(&stack, &token, 1001, Some("key-1"), APPROVE_ONE).await;
    assert_eq!(first.0, StatusCode::OK, "{}", first.1);
    let job = first.1["jobId"].as_str().expect("jobId").to_owned();

    let again = post_batch(&stack, &token, 1001, Some("key-1"), APPROVE_ONE).await;
    assert_eq!(again.0, StatusCode::OK, "{}", again.1);
    assert_eq!(again.1["jobId"], json!(job), "a replay returns the first jobId");
    let jobs = all_jobs(&client, 1001).await;
    assert_eq!(jobs.len(), 1, "a replay creates nothing: {jobs:?}");
    assert_eq!(jobs[0]["jobId"], json!(job));

    // Same key, different body.
    let other = r#"[{"action": "approve", "transaction": {"transactionId": 2}}]"#;
    let got = post_batch(&stack, &token, 1001, Some("key-1"), other).await;
    assert_error("same key, different body", &got, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(all_jobs(&client, 1001).await.len(), 1);

    // Same key from another advertiser: an independent job.
    let b = post_batch(&stack, &token_b, 1002, Some("key-1"), APPROVE_ONE).await;
    assert_eq!(b.0, StatusCode::OK, "{}", b.1);
    let job_b = b.1["jobId"].as_str().expect("jobId").to_owned();
    assert_ne!(job_b, job, "another advertiser's key is independent");
    let jobs_b = all_jobs(&client_b, 1002).await;
    assert_eq!(jobs_b.len(), 1);
    assert_eq!(jobs_b[0]["jobId"], json!(job_b));
    assert_eq!(all_jobs(&client, 1001).await.len(), 1);

    // Without a key, the same body is a new job each time.
    let n1 = post_batch(&stack, &token, 1001, None, APPROVE_ONE).await;
    let n2 = post_batch(&stack, &token, 1001, None, APPROVE_ONE).await;
    assert_eq!((n1.0, n2.0), (StatusCode::OK, StatusCode::OK));
    assert_ne!(n1.1["jobId"], n2.1["jobId"]);
    assert_eq!(all_jobs(&client, 1001).await.len(), 3);

    // Concurrent first uses of one key: one job, every caller gets its id.
    let racers: Vec<_> = (0..6)
        .map(|_| {
            let (base, token) = (stack.base_url.clone(), token.clone());
            tokio::spawn(async move {
                let response = reqwest::Client::new()
                    .post(format!("{base}/advertisers/1001/transactions/batch"))
                    .bearer_auth(token)
                    .header("content-type", "application/json")
                    .header("idempotency-key", "race-key")
                    .body(APPROVE_ONE)
                    .send()
                    .await
                    .expect("request");
                let status = response.status();
                let body: Value = response.json().await.expect("json");
                (status, body)
            })
        })
        .collect();
    let mut raced = HashSet::new();
    for racer in racers {
        let (status, body) = racer.await.expect("task");
        assert_eq!(status, StatusCode::OK, "{body}");
        raced.insert(body["jobId"].as_str().expect("jobId").to_owned());
    }
    assert_eq!(raced.len(), 1, "concurrent uses of one key make one job: {raced:?}");
    assert_eq!(all_jobs(&client, 1001).await.len(), 4);

    // After 24 hours the key is free again: a new job.
    sqlx::query("UPDATE jobs SET created_at = created_at - interval '25 hours' WHERE id = $1::uuid")
        .bind(&job)
        .execute(&stack.db)
        .await
        .expect("backdate the job");
    let later = post_batch(&stack, &token, 1001, Some("key-1"), other).await;
    assert_eq!(later.0, StatusCode::OK, "a key older than 24 h is free: {}", later.1);
    assert_ne!(later.1["jobId"], json!(job));
    assert_eq!(all_jobs(&client, 1001).await.len(), 5);
}

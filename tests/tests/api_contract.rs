//! The HTTP contract of SPEC.md sections 2–5: request envelopes, error shape, idempotency,
//! job listing and status, recording and reading transactions, admin routes, health.

use std::collections::HashSet;

use ratify_tests::assert_error;
use ratify_tests::{Client, Stack};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------
// Local helpers
// ---------------------------------------------------------------------------------------

fn description(got: &(StatusCode, Value)) -> String {
    got.1["description"].as_str().unwrap_or_default().to_owned()
}

/// Whether an error description names item `index` of the request.
fn names_index(description: &str, index: usize) -> bool {
    let d = description.to_ascii_lowercase();
    [
        format!("item {index}"),
        format!("index {index}"),
        format!("[{index}]"),
        format!("#{index}"),
        format!("element {index}"),
    ]
    .iter()
    .any(|needle| d.contains(needle.as_str()))
}

/// A request with full control over the Authorization and Content-Type headers.
#[allow(clippy::too_many_arguments)]
async fn raw(
    stack: &Stack,
    method: Method,
    path: &str,
    authorization: Option<&str>,
    content_type: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<Vec<u8>>,
) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new().request(method, format!("{}{path}", stack.base_url));
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    if let Some(value) = content_type {
        request = request.header("content-type", value);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.body(body);
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// Posts a batch body as is, with an optional Idempotency-Key.
async fn post_batch(stack: &Stack, token: &str, advertiser: i64, key: Option<&str>, body: &str) -> (StatusCode, Value) {
    let headers: Vec<(&str, &str)> = key.map(|k| ("idempotency-key", k)).into_iter().collect();
    raw(
        stack,
        Method::POST,
        &format!("/advertisers/{advertiser}/transactions/batch"),
        Some(&format!("Bearer {token}")),
        Some("application/json"),
        &headers,
        Some(body.as_bytes().to_vec()),
    )
    .await
}

/// The job list of an advertiser (all pages), newest first.
async fn all_jobs(client: &Client, advertiser: i64) -> Vec<Value> {
    let (status, body) = client.get(&format!("/advertisers/{advertiser}/transactions/jobs?limit=500")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["nextCursor"].is_null(), "more than 500 jobs? {body}");
    body["jobs"].as_array().expect("jobs").clone()
}

/// A JSON amount as f64 (only for comparing with short literals in assertions).
fn amount(value: &Value) -> f64 {
    value.as_f64().unwrap_or_else(|| panic!("{value} is not a number"))
}

/// A listing of transactions (an array), with its ids.
async fn list_ids(client: &Client, advertiser: i64, query: &str) -> Vec<i64> {
    let (status, body) = client.get(&format!("/advertisers/{advertiser}/transactions?{query}")).await;
    assert_eq!(status, StatusCode::OK, "?{query}: {body}");
    body.as_array()
        .unwrap_or_else(|| panic!("?{query}: not an array: {body}"))
        .iter()
        .map(|t| t["id"].as_i64().expect("id"))
        .collect()
}

fn sorted(mut ids: Vec<i64>) -> Vec<i64> {
    ids.sort_unstable();
    ids
}

/// `now() + interval` in UTC as `yyyy-MM-ddTHH:mm:ss`, by the database's clock.
async fn utc_local(stack: &Stack, interval: &str) -> String {
    sqlx::query_scalar::<_, String>(&format!(
        "SELECT to_char((now() + interval '{interval}') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS')"
    ))
    .fetch_one(&stack.db)
    .await
    .expect("now")
}

/// Advertiser 1001 (SEK, DEFAULT 10 %) and a token for it.
async fn setup(stack: &Stack) -> (Client, String, Client) {
    let admin = stack.admin();
    admin.create_advertiser(1001, "SEK", &[("DEFAULT", "percentage", json!(10))]).await;
    let token = admin.create_token(&[1001]).await;
    let client = stack.client(&token);
    (admin, token, client)
}

const APPROVE_ONE: &str = r#"[{"action": "approve", "transaction": {"transactionId": 1}}]"#;

// ---------------------------------------------------------------------------------------
// 1. Batch envelope
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn batch_envelope_errors() {
    let stack =
        Stack::builder().workers(0).env("RATIFY_MAX_BATCH_ITEMS", 5).env("RATIFY_MAX_BATCH_BYTES", 2048).start().await;
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
    // Not in SPEC, but what a JSON client sends: a charset parameter is still JSON.
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
// 2. Idempotency-Key
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn idempotency_key() {
    let stack = Stack::builder().workers(0).start().await;
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

// ---------------------------------------------------------------------------------------
// 3. Job list
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn job_list_pagination() {
    let stack = Stack::builder().workers(0).start().await;
    let (_, _, client) = setup(&stack).await;

    let mut created = Vec::new();
    for i in 0..5 {
        let items: Vec<Value> =
            (0..=i).map(|n| json!({"action": "approve", "transaction": {"transactionId": n + 1}})).collect();
        created.push(client.submit(1001, &Value::Array(items)).await);
    }
    let newest_first: Vec<String> = created.iter().rev().cloned().collect();

    // One page: newest first, no item lists.
    let jobs = all_jobs(&client, 1001).await;
    let ids: Vec<String> = jobs.iter().map(|j| j["jobId"].as_str().expect("jobId").to_owned()).collect();
    assert_eq!(ids, newest_first, "jobs are listed newest first");
    for (job, expected_count) in jobs.iter().zip([5, 4, 3, 2, 1]) {
        assert_eq!(job["transactionCount"], json!(expected_count), "{job}");
        assert!(job["status"].is_string(), "{job}");
        assert!(job["creationDate"].is_string(), "{job}");
        for list in ["failedTransactions", "allTransactions"] {
            assert!(job.get(list).is_none_or(Value::is_null), "the job list carries no item lists: {job}");
        }
    }
    let dates: Vec<&str> = jobs.iter().map(|j| j["creationDate"].as_str().expect("creationDate")).collect();
    let mut descending = dates.clone();
    descending.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(dates, descending, "creationDate descends");

    // Pages of 2 walk every job exactly once, in the same order.
    let mut walked = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        pages += 1;
        assert!(pages <= 10, "pagination does not end");
        let path = match &cursor {
            None => "/advertisers/1001/transactions/jobs?limit=2".to_owned(),
            Some(c) => format!("/advertisers/1001/transactions/jobs?limit=2&cursor={c}"),
        };
        let (status, body) = client.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let page = body["jobs"].as_array().expect("jobs");
        assert!(page.len() <= 2, "limit is honoured: {body}");
        walked.extend(page.iter().map(|j| j["jobId"].as_str().expect("jobId").to_owned()));
        match body["nextCursor"].as_str() {
            Some(c) => {
                assert!(!page.is_empty(), "a page with a cursor has jobs");
                cursor = Some(c.to_owned());
            }
            None => {
                assert!(body["nextCursor"].is_null(), "{body}");
                break;
            }
        }
    }
    assert_eq!(walked, newest_first, "pagination walks every job once, newest first");
    assert!(pages >= 3, "5 jobs at 2 per page take at least 3 pages");

    // Only the last 60 days are listed.
    sqlx::query("UPDATE jobs SET created_at = now() - interval '61 days' WHERE id = $1::uuid")
        .bind(&created[0])
        .execute(&stack.db)
        .await
        .expect("backdate the oldest job");
    let listed: Vec<Value> = all_jobs(&client, 1001).await;
    let listed: Vec<&str> = listed.iter().map(|j| j["jobId"].as_str().expect("jobId")).collect();
    assert_eq!(listed, newest_first[..4].iter().map(String::as_str).collect::<Vec<_>>());

    // Bad parameters.
    for query in ["limit=0", "limit=-1", "limit=100000", "limit=abc", "limit=1.5"] {
        let got = client.get(&format!("/advertisers/1001/transactions/jobs?{query}")).await;
        assert_error(query, &got, StatusCode::BAD_REQUEST);
    }
    for cursor in ["garbage", "123.not-a-uuid", "abc.6f1c5f62-3a8b-4f0e-9a43-6d5b8e8c0d11", ""] {
        let got = client.get(&format!("/advertisers/1001/transactions/jobs?cursor={cursor}")).await;
        assert_error(&format!("cursor {cursor:?}"), &got, StatusCode::BAD_REQUEST);
    }
}

// ---------------------------------------------------------------------------------------
// 4. Job status
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn job_status_errors_and_shape() {
    let stack = Stack::builder().workers(1).start().await;
    let (_, _, client) = setup(&stack).await;
    let ids = client.record_simple(1001, "SEK", "S", 2).await;
    let job = client
        .submit(
            1001,
            &json!([
                {"action": "approve", "transaction": {"transactionId": ids[0]}},
                {"action": "approve", "transaction": {"transactionId": 999_999_999}},
                {"action": "approve", "transaction": {"transactionId": ids[1]}}
            ]),
        )
        .await;

    let got = client.get("/advertisers/1001/transactions/jobs/6f1c5f62-3a8b-4f0e-9a43-6d5b8e8c0d11").await;
    assert_error("unknown job id", &got, StatusCode::NOT_FOUND);
    let got = client.get("/advertisers/1001/transactions/jobs/not-a-uuid").await;
    assert_error("non-UUID job id", &got, StatusCode::NOT_FOUND);
    let got = client.get(&format!("/advertisers/1001/transactions/jobs/{job}?output=bogus")).await;
    assert_error("output=bogus", &got, StatusCode::BAD_REQUEST);

    let done = client.wait_done(1001, &job).await;
    let (status, summary) = client.get(&format!("/advertisers/1001/transactions/jobs/{job}")).await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!(summary["jobId"], json!(job));
    assert_eq!(summary["status"], "DONE");
    assert_eq!(summary["transactionCount"], json!(3));
    assert_eq!(summary["processedCount"], json!(3));
    assert_eq!(summary["errorCount"], json!(1));
    assert_eq!(summary["transactions"], summary["transactionCount"]);
    assert_eq!(summary["errors"], summary["errorCount"]);
    assert!(summary["completionDate"].is_string(), "{summary}");
    assert!(summary["failedTransactions"].is_null(), "{summary}");
    assert!(summary["allTransactions"].is_null(), "{summary}");

    assert_eq!(done.items().len(), 3);
    assert_eq!(done.code(0), "[200 OK]");
    assert_eq!(done.code(1), "[404 NOT_FOUND]");
    assert_eq!(done.code(2), "[200 OK]");
    assert!(done.body["failedTransactions"].is_null());

    let (status, errors) = client.get(&format!("/advertisers/1001/transactions/jobs/{job}?output=errors")).await;
    assert_eq!(status, StatusCode::OK, "{errors}");
    let failed = errors["failedTransactions"].as_array().expect("failedTransactions");
    assert_eq!(failed.len(), 1, "{errors}");
    assert_eq!(failed[0]["index"], json!(1));
    assert_eq!(failed[0]["code"], "[404 NOT_FOUND]");
    assert!(failed[0]["description"].as_str().is_some_and(|d| !d.is_empty()), "{errors}");
    assert!(errors["allTransactions"].is_null(), "{errors}");
}

// ---------------------------------------------------------------------------------------
// 5. Recording transactions
// ---------------------------------------------------------------------------------------

fn row(order_ref: &str, sale: Value, currency: &str) -> Value {
    json!({"orderRef": order_ref, "transactionDate": "2026-11-14T10:15:00", "timezone": "Europe/Stockholm",
           "saleAmount": sale, "currency": currency})
}

async fn by_order_ref(client: &Client, advertiser: i64, order_ref: &str) -> Vec<i64> {
    list_ids(client, advertiser, &format!("orderRef={order_ref}")).await
}

#[tokio::test(flavor = "multi_thread")]
async fn record_transactions_contract() {
    let stack = Stack::builder().workers(0).start().await;
    let (admin, _, client) = setup(&stack).await;
    admin.create_advertiser(2001, "JPY", &[("DEFAULT", "percentage", json!(5))]).await;
    let jpy_token = admin.create_token(&[2001]).await;
    let jpy = stack.client(&jpy_token);
    let path = "/advertisers/1001/transactions";
    let existing = client.record(1001, &json!([row("EX-1", json!(100), "SEK")])).await;

    // A duplicate of a stored transaction sinks the whole request.
    let got = client
        .post(
            path,
            &json!([row("NEW-1", json!(10), "SEK"), row("EX-1", json!(20), "SEK"), row("NEW-3", json!(30), "SEK")]),
        )
        .await;
    assert_error("duplicate of a stored row", &got, StatusCode::CONFLICT);
    assert!(by_order_ref(&client, 1001, "NEW-1").await.is_empty(), "all or nothing");
    assert!(by_order_ref(&client, 1001, "NEW-3").await.is_empty(), "all or nothing");
    assert_eq!(by_order_ref(&client, 1001, "EX-1").await, existing);

    // A duplicate within one request.
    let got = client.post(path, &json!([row("DUP-1", json!(10), "SEK"), row("DUP-1", json!(11), "SEK")])).await;
    assert_error("duplicate within the request", &got, StatusCode::CONFLICT);
    assert!(by_order_ref(&client, 1001, "DUP-1").await.is_empty());

    // The same instant written in another zone is the same transactionDate.
    let got = client
        .post(
            path,
            &json!([{"orderRef": "EX-1", "transactionDate": "2026-11-14T09:15:00", "timezone": "UTC",
                     "saleAmount": 100, "currency": "SEK"}]),
        )
        .await;
    assert_error("same instant in UTC", &got, StatusCode::CONFLICT);

    // The same orderRef at another date is another transaction.
    let other_date = client
        .record(
            1001,
            &json!([{"orderRef": "EX-1", "transactionDate": "2026-11-15T10:15:00", "timezone": "Europe/Stockholm",
                     "saleAmount": 100, "currency": "SEK"}]),
        )
        .await;
    assert_eq!(by_order_ref(&client, 1001, "EX-1").await.len(), 2);
    assert_ne!(other_date, existing);

    // Bad amounts, naming the index of the bad item. Raw bodies keep the numbers exact.
    let bad_bodies: Vec<(&str, String, usize)> = vec![
        (
            "SEK 1.005",
            r#"[{"orderRef": "P-0", "transactionDate": "2026-11-14T10:15:00", "timezone": "Europe/Stockholm", "saleAmount": 1.00, "currency": "SEK"},
                {"orderRef": "P-1", "transactionDate": "2026-11-14T10:15:00", "timezone": "Europe/Stockholm", "saleAmount": 1.005, "currency": "SEK"}]"#
                .to_owned(),
            1,
        ),
        (
            "negative",
            r#"[{"orderRef": "P-0", "transactionDate": "2026-11-14T10:15:00", "timezone": "Europe/Stockholm", "saleAmount": 1, "currency": "SEK"},
                {"orderRef": "P-1", "transactionDate": "2026-11-14T10:15:00", "timezone": "Europe/Stockholm", "saleAmount": 2, "currency": "SEK"},
                {"orderRef": "P-2", "transactionDate": "2026-11-14T10:15:00", "timezone": "Europe/Stockholm", "saleAmount": -5, "currency": "SEK"}]"#
                .to_owned(),
            2,
        ),
        (
            "absurd",
            r#"[{"orderRef": "P-0", "transactionDate": "2026-11-14T10:15:00", "timezone": "Europe/Stockholm", "saleAmount": 1e300, "currency": "SEK"}]"#
                .to_owned(),
            0,
        ),
        (
            "string amount",
            r#"[{"orderRef": "P-0", "transactionDate": "2026-11-14T10:15:00", "timezone": "Europe/Stockholm", "saleAmount": "NaN", "currency": "SEK"}]"#
                .to_owned(),
            0,
        ),
        (
            "other currency",
            r#"[{"orderRef": "P-0", "transactionDate": "2026-11-14T10:15:00", "timezone": "Europe/Stockholm", "saleAmount": 1, "currency": "SEK"},
                {"orderRef": "P-1", "transactionDate": "2026-11-14T10:15:00", "timezone": "Europe/Stockholm", "saleAmount": 1, "currency": "EUR"}]"#
                .to_owned(),
            1,
        ),
        (
            "unknown commission group",
            r#"[{"orderRef": "P-0", "transactionDate": "2026-11-14T10:15:00", "timezone": "Europe/Stockholm", "saleAmount": 10, "currency": "SEK",
                 "transactionParts": [{"commissionGroupCode": "NOPE", "amount": 10}]}]"#
                .to_owned(),
            0,
        ),
        (
            "part amount too precise",
            r#"[{"orderRef": "P-0", "transactionDate": "2026-11-14T10:15:00", "timezone": "Europe/Stockholm", "saleAmount": 10, "currency": "SEK",
                 "transactionParts": [{"commissionGroupCode": "DEFAULT", "amount": 9.999}]}]"#
                .to_owned(),
            0,
        ),
        (
            "bad date",
            r#"[{"orderRef": "P-0", "transactionDate": "14/11/2026 10:15", "timezone": "Europe/Stockholm", "saleAmount": 10, "currency": "SEK"}]"#
                .to_owned(),
            0,
        ),
        (
            "unknown timezone",
            r#"[{"orderRef": "P-0", "transactionDate": "2026-11-14T10:15:00", "timezone": "Mars/Olympus", "saleAmount": 10, "currency": "SEK"}]"#
                .to_owned(),
            0,
        ),
    ];
    for (what, body, index) in &bad_bodies {
        let got = client.send_raw(path, "application/json", body.clone()).await;
        assert_error(what, &got, StatusCode::BAD_REQUEST);
        assert!(names_index(&description(&got), *index), "{what}: the description should name item {index}: {}", got.1);
    }
    let got = client.send_raw(path, "application/json", bad_bodies[0].1.clone()).await;
    assert!(description(&got).contains("saleAmount"), "the description names the field: {}", got.1);
    for order_ref in ["P-0", "P-1", "P-2"] {
        assert!(by_order_ref(&client, 1001, order_ref).await.is_empty(), "a refused request stored {order_ref}");
    }

    // JPY has no minor unit.
    let got = jpy
        .send_raw(
            "/advertisers/2001/transactions",
            "application/json",
            r#"[{"orderRef": "J-1", "transactionDate": "2026-11-14T10:15:00", "timezone": "Asia/Tokyo", "saleAmount": 1.5, "currency": "JPY"}]"#,
        )
        .await;
    assert_error("JPY 1.5", &got, StatusCode::BAD_REQUEST);
    assert!(names_index(&description(&got), 0), "{}", got.1);
    let jpy_ids = jpy.record(2001, &json!([row("J-1", json!(1500), "JPY")])).await;
    let jpy_tx = jpy.transaction(2001, jpy_ids[0]).await;
    assert_eq!(amount(&jpy_tx["saleAmount"]["amount"]), 1500.0);
    assert_eq!(amount(&jpy_tx["commissionAmount"]["amount"]), 75.0);

    // Envelope of the recording route.
    let got = client.send_raw(path, "application/json", "[]").await;
    assert_error("empty array", &got, StatusCode::BAD_REQUEST);
    let got = client.send_raw(path, "application/json", r#"{"orderRef": "X"}"#).await;
    assert_error("object body", &got, StatusCode::BAD_REQUEST);
    let got = client
        .send_raw(path, "text/plain", serde_json::to_string(&json!([row("T-1", json!(1), "SEK")])).expect("json"))
        .await;
    assert_error("text/plain", &got, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // Ids come back in input order.
    let refs = ["ORD-C", "ORD-A", "ORD-B", "ORD-D"];
    let rows: Vec<Value> = refs.iter().enumerate().map(|(i, r)| row(r, json!(10 * (i + 1)), "SEK")).collect();
    let ids = client.record(1001, &Value::Array(rows)).await;
    assert_eq!(ids.len(), refs.len());
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), refs.len(), "ids are distinct");
    for (i, (id, order_ref)) in ids.iter().zip(refs).enumerate() {
        let tx = client.transaction(1001, *id).await;
        assert_eq!(tx["id"], json!(id));
        assert_eq!(tx["orderRef"], json!(order_ref), "ids[{i}] is the {i}th input row");
        assert_eq!(amount(&tx["saleAmount"]["amount"]), 10.0 * (i as f64 + 1.0));
        assert_eq!(tx["commissionStatus"], "pending");
        assert_eq!(tx["advertiserId"], json!(1001));
    }
}

// ---------------------------------------------------------------------------------------
// 6. Reading and listing transactions
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn read_and_list_transactions() {
    let stack = Stack::builder().workers(1).start().await;
    let (_, _, client) = setup(&stack).await;
    let ids = client
        .record(
            1001,
            &json!([
                {"orderRef": "L-1", "transactionDate": "2026-11-14T10:15:00", "timezone": "Europe/Stockholm",
                 "saleAmount": 125.50, "currency": "SEK", "publisherId": 77, "clickRef": "c-1",
                 "transactionParts": [{"commissionGroupCode": "DEFAULT", "amount": 125.50}]},
                {"orderRef": "L-2", "transactionDate": "2026-11-20T08:00:00", "timezone": "Europe/Stockholm",
                 "saleAmount": 50, "currency": "SEK"},
                {"orderRef": "L-3", "transactionDate": "2026-12-20T12:00:00", "timezone": "Europe/Stockholm",
                 "saleAmount": 70, "currency": "SEK"}
            ]),
        )
        .await;
    let (t1, t2, t3) = (ids[0], ids[1], ids[2]);

    // One transaction, with parts and history.
    let tx = client.transaction(1001, t1).await;
    assert_eq!(tx["orderRef"], "L-1");
    assert_eq!(tx["commissionStatus"], "pending");
    assert_eq!(tx["publisherId"], json!(77));
    assert_eq!(tx["clickRef"], "c-1");
    assert_eq!(tx["saleAmount"]["currency"], "SEK");
    assert_eq!(amount(&tx["saleAmount"]["amount"]), 125.5);
    assert_eq!(amount(&tx["commissionAmount"]["amount"]), 12.55);
    let parts = tx["transactionParts"].as_array().expect("transactionParts");
    assert_eq!(parts.len(), 1, "{tx}");
    assert_eq!(parts[0]["commissionGroupCode"], "DEFAULT");
    assert_eq!(amount(&parts[0]["amount"]), 125.5);
    assert_eq!(amount(&parts[0]["commissionAmount"]), 12.55);
    assert!(tx["validationDate"].is_null(), "{tx}");
    let history_before = tx["history"].as_array().expect("history").len();

    let job_id = client.submit(1001, &json!([{"action": "approve", "transaction": {"transactionId": t1}}])).await;
    let job = client.wait_done(1001, &job_id).await;
    assert_eq!(job.code(0), "[200 OK]");
    let tx = client.transaction(1001, t1).await;
    assert_eq!(tx["commissionStatus"], "approved");
    assert!(tx["validationDate"].is_string(), "{tx}");
    let history = tx["history"].as_array().expect("history");
    assert_eq!(history.len(), history_before + 1, "one history row per change: {tx}");
    let entry = history.last().expect("entry");
    assert_eq!(entry["jobId"], json!(job_id), "the history names the job: {entry}");
    assert!(entry["date"].is_string(), "{entry}");
    assert_eq!(entry["from"]["commissionStatus"], "pending", "{entry}");
    assert_eq!(entry["to"]["commissionStatus"], "approved", "{entry}");

    let unknown = client.get("/advertisers/1001/transactions/999999999").await;
    assert_error("unknown transaction", &unknown, StatusCode::NOT_FOUND);
    let bad = client.get("/advertisers/1001/transactions/abc").await;
    assert_error("non-numeric transaction id", &bad, StatusCode::NOT_FOUND);

    // Date windows (default dateType=transaction, timezone UTC).
    let november = "startDate=2026-11-01T00:00:00&endDate=2026-11-30T00:00:00";
    assert_eq!(sorted(list_ids(&client, 1001, november).await), vec![t1, t2]);
    assert_eq!(sorted(list_ids(&client, 1001, &format!("{november}&dateType=transaction")).await), vec![t1, t2]);
    assert_eq!(list_ids(&client, 1001, "startDate=2026-12-01T00:00:00&endDate=2026-12-31T00:00:00").await, vec![t3]);
    // Exactly 31 days is allowed.
    assert_eq!(
        sorted(list_ids(&client, 1001, "startDate=2026-11-01T00:00:00&endDate=2026-12-02T00:00:00").await),
        vec![t1, t2]
    );

    // Status filter.
    assert_eq!(list_ids(&client, 1001, &format!("{november}&status=approved")).await, vec![t1]);
    assert_eq!(list_ids(&client, 1001, &format!("{november}&status=pending")).await, vec![t2]);
    assert!(list_ids(&client, 1001, &format!("{november}&status=declined")).await.is_empty());

    // dateType=validation: only the approved one has a validation date, and it is now.
    let (from, to) = (utc_local(&stack, "-1 day").await, utc_local(&stack, "1 day").await);
    assert_eq!(list_ids(&client, 1001, &format!("startDate={from}&endDate={to}&dateType=validation")).await, vec![t1]);
    let (past_from, past_to) = (utc_local(&stack, "-40 days").await, utc_local(&stack, "-10 days").await);
    assert!(
        list_ids(&client, 1001, &format!("startDate={past_from}&endDate={past_to}&dateType=validation"))
            .await
            .is_empty(),
        "no validation happened 10 to 40 days ago"
    );

    // timezone: 10:15 in Stockholm (CET) is 09:15 UTC and 18:15 in Tokyo.
    let tokyo_window = "startDate=2026-11-14T18:00:00&endDate=2026-11-14T18:30:00";
    let (status, body) =
        client.get(&format!("/advertisers/1001/transactions?{tokyo_window}&timezone=Asia/Tokyo")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let listed = body.as_array().expect("array");
    assert_eq!(listed.len(), 1, "{body}");
    assert_eq!(listed[0]["id"], json!(t1));
    // Not in SPEC: dates are rendered in the requested zone, with the offset.
    assert!(listed[0]["transactionDate"].as_str().is_some_and(|d| d.starts_with("2026-11-14T18:15:00")), "{body}");
    assert!(list_ids(&client, 1001, tokyo_window).await.is_empty(), "the default zone is UTC");
    assert_eq!(list_ids(&client, 1001, "startDate=2026-11-14T09:00:00&endDate=2026-11-14T09:30:00").await, vec![t1]);

    // Lookups without dates.
    assert_eq!(sorted(list_ids(&client, 1001, &format!("ids={t1},{t2}")).await), vec![t1, t2]);
    assert_eq!(list_ids(&client, 1001, &format!("ids={t3}")).await, vec![t3]);
    assert!(list_ids(&client, 1001, "ids=999999999").await.is_empty());
    assert_eq!(list_ids(&client, 1001, "orderRef=L-2").await, vec![t2]);
    assert!(list_ids(&client, 1001, "orderRef=nope").await.is_empty());

    // Bad parameters.
    for query in [
        "startDate=2026-11-01T00:00:00&endDate=2026-12-03T00:00:00",
        "startDate=2026-01-01T00:00:00&endDate=2026-12-31T00:00:00",
        "startDate=2026-11-01T00:00:00",
        "endDate=2026-11-01T00:00:00",
        "",
        "startDate=2026-11-01&endDate=2026-11-02",
        "startDate=2026/11/01T00:00:00&endDate=2026/11/02T00:00:00",
        "startDate=01-11-2026T00:00:00&endDate=02-11-2026T00:00:00",
        "startDate=yesterday&endDate=today",
        "startDate=2026-11-10T00:00:00&endDate=2026-11-01T00:00:00",
        "startDate=2026-11-01T00:00:00&endDate=2026-11-02T00:00:00&status=bogus",
        "startDate=2026-11-01T00:00:00&endDate=2026-11-02T00:00:00&status=APPROVED_ISH",
        "startDate=2026-11-01T00:00:00&endDate=2026-11-02T00:00:00&dateType=bogus",
        "startDate=2026-11-01T00:00:00&endDate=2026-11-02T00:00:00&timezone=Mars/Olympus",
        "ids=abc",
        "ids=1,,2",
    ] {
        let got = client.get(&format!("/advertisers/1001/transactions?{query}")).await;
        assert_error(&format!("?{query}"), &got, StatusCode::BAD_REQUEST);
    }
}

// ---------------------------------------------------------------------------------------
// 7. Admin
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn admin_advertisers() {
    let stack = Stack::builder().workers(0).start().await;
    let admin = stack.admin();

    // No groups: DEFAULT at 0 %.
    let (status, body) =
        admin.post("/admin/advertisers", &json!({"id": 3001, "name": "No Groups", "currency": "SEK"})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let groups = body["commissionGroups"].as_array().expect("commissionGroups");
    let default = groups.iter().find(|g| g["code"] == "DEFAULT").unwrap_or_else(|| panic!("DEFAULT is added: {body}"));
    assert_eq!(amount(&default["value"]), 0.0, "{body}");
    assert_eq!(default["type"], "percentage", "{body}");

    // Other groups but no DEFAULT: DEFAULT still added at 0 %.
    let (status, body) = admin
        .post(
            "/admin/advertisers",
            &json!({"id": 3002, "name": "Bonus Only", "currency": "EUR",
                    "commissionGroups": [{"code": "BONUS", "name": "Bonus", "type": "fixed", "value": 2.5}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let codes: HashSet<&str> = body["commissionGroups"]
        .as_array()
        .expect("commissionGroups")
        .iter()
        .map(|g| g["code"].as_str().expect("code"))
        .collect();
    assert_eq!(codes, HashSet::from(["DEFAULT", "BONUS"]));

    // The DEFAULT at 0 % pays nothing.
    let token = admin.create_token(&[3001]).await;
    let client = stack.client(&token);
    let ids = client.record_simple(3001, "SEK", "Z", 1).await;
    let tx = client.transaction(3001, ids[0]).await;
    assert_eq!(amount(&tx["commissionAmount"]["amount"]), 0.0, "{tx}");

    // Duplicate id.
    let got = admin.post("/admin/advertisers", &json!({"id": 3001, "name": "Again", "currency": "SEK"})).await;
    assert_error("duplicate advertiser", &got, StatusCode::CONFLICT);

    // Bad currencies and bad groups.
    for (what, body) in [
        ("not a currency", json!({"id": 3004, "name": "X", "currency": "kronor"})),
        ("empty currency", json!({"id": 3005, "name": "X", "currency": ""})),
        (
            "bad group type",
            json!({"id": 3006, "name": "X", "currency": "SEK",
                   "commissionGroups": [{"code": "DEFAULT", "name": "D", "type": "bogus", "value": 1}]}),
        ),
        (
            "negative group value",
            json!({"id": 3007, "name": "X", "currency": "SEK",
                   "commissionGroups": [{"code": "DEFAULT", "name": "D", "type": "percentage", "value": -1}]}),
        ),
    ] {
        let got = admin.post("/admin/advertisers", &body).await;
        assert_error(what, &got, StatusCode::BAD_REQUEST);
    }
    // None of the refused advertisers exists: a token cannot name them.
    let got = admin.post("/admin/tokens", &json!({"name": "t", "advertiserIds": [3004]})).await;
    assert_error("token for a refused advertiser", &got, StatusCode::BAD_REQUEST);

    // Well formed but not an ISO 4217 currency (last: it creates 3003 if accepted).
    let got = admin.post("/admin/advertisers", &json!({"id": 3003, "name": "X", "currency": "XYZ"})).await;
    assert_error("unknown currency XYZ", &got, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_commission_groups() {
    let stack = Stack::builder().workers(1).start().await;
    let (admin, _, client) = setup(&stack).await;
    let ids = client.record_simple(1001, "SEK", "G", 1).await;
    let id = ids[0];
    let tx = client.transaction(1001, id).await;
    assert_eq!(amount(&tx["commissionAmount"]["amount"]), 10.0, "10 % of 100");

    // Update DEFAULT, create BONUS.
    let (status, body) = admin
        .send(
            Method::PUT,
            "/admin/advertisers/1001/commission-groups/DEFAULT",
            Some(&json!({"name": "Default", "type": "percentage", "value": 20})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = admin
        .send(
            Method::PUT,
            "/admin/advertisers/1001/commission-groups/BONUS",
            Some(&json!({"name": "Bonus", "type": "fixed", "value": 5})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let amend = |sale: i64| {
        json!([{"action": "amend", "approve": false, "transaction": {
            "transactionId": id, "amendReason": "re-rated", "currency": "SEK", "saleAmount": sale,
            "transactionParts": [{"commissionGroupCode": "DEFAULT", "amount": 60},
                                 {"commissionGroupCode": "BONUS", "amount": 40}]}}])
    };
    let job = client.run(1001, &amend(100)).await;
    assert_eq!(job.code(0), "[200 OK]", "{:?}", job.body);
    let tx = client.transaction(1001, id).await;
    // DEFAULT 20 % of 60 = 12, BONUS fixed 5.
    assert_eq!(amount(&tx["commissionAmount"]["amount"]), 17.0, "{tx}");
    let part = |code: &str| {
        tx["transactionParts"]
            .as_array()
            .expect("parts")
            .iter()
            .find(|p| p["commissionGroupCode"] == code)
            .unwrap_or_else(|| panic!("part {code}: {tx}"))
            .clone()
    };
    assert_eq!(amount(&part("DEFAULT")["commissionAmount"]), 12.0);
    assert_eq!(amount(&part("BONUS")["commissionAmount"]), 5.0);
    assert_eq!(tx["amended"], json!(true));
    assert_eq!(amount(&tx["oldCommissionAmount"]["amount"]), 10.0);

    // Update the group just created; the next amend uses it.
    let (status, body) = admin
        .send(
            Method::PUT,
            "/admin/advertisers/1001/commission-groups/BONUS",
            Some(&json!({"name": "Bonus", "type": "fixed", "value": 7})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let job = client.run(1001, &amend(110)).await;
    assert_eq!(job.code(0), "[200 OK]", "{:?}", job.body);
    let tx = client.transaction(1001, id).await;
    // DEFAULT absorbs the 10 missing: 20 % of 70 = 14, BONUS fixed 7.
    assert_eq!(amount(&tx["commissionAmount"]["amount"]), 21.0, "{tx}");

    // Unknown advertiser; bad bodies.
    let got = admin
        .send(
            Method::PUT,
            "/admin/advertisers/9999/commission-groups/DEFAULT",
            Some(&json!({"name": "Default", "type": "percentage", "value": 5})),
        )
        .await;
    assert_error("PUT on an unknown advertiser", &got, StatusCode::NOT_FOUND);
    for (what, body) in [
        ("bad type", json!({"name": "X", "type": "bogus", "value": 5})),
        ("negative value", json!({"name": "X", "type": "percentage", "value": -5})),
        ("fixed too precise", json!({"name": "X", "type": "fixed", "value": 0.001})),
    ] {
        let got = admin.send(Method::PUT, "/admin/advertisers/1001/commission-groups/X", Some(&body)).await;
        assert_error(what, &got, StatusCode::BAD_REQUEST);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_token_revocation() {
    let stack = Stack::builder().workers(0).start().await;
    let admin = stack.admin();
    admin.create_advertiser(1001, "SEK", &[("DEFAULT", "percentage", json!(10))]).await;
    let (status, body) = admin.post("/admin/tokens", &json!({"name": "finance-bot", "advertiserIds": [1001]})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let token_id = body["id"].as_str().expect("id").to_owned();
    let token = body["token"].as_str().expect("token").to_owned();
    let other_token = admin.create_token(&[1001]).await;
    let client = stack.client(&token);
    let (status, body) = client.get("/advertisers/1001/transactions/jobs").await;
    assert_eq!(status, StatusCode::OK, "the new token works: {body}");

    let (status, body) = admin.send(Method::DELETE, &format!("/admin/tokens/{token_id}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    // Revoked at once, on every kind of route.
    let got = client.get("/advertisers/1001/transactions/jobs").await;
    assert_error("revoked token", &got, StatusCode::UNAUTHORIZED);
    let got = client
        .post(
            "/advertisers/1001/transactions/batch",
            &json!([{"action": "approve", "transaction": {"transactionId": 1}}]),
        )
        .await;
    assert_error("revoked token, batch", &got, StatusCode::UNAUTHORIZED);
    let got = client.get("/advertisers/1001/transactions?ids=1").await;
    assert_error("revoked token, list", &got, StatusCode::UNAUTHORIZED);

    // Other tokens are untouched.
    let (status, body) = stack.client(&other_token).get("/advertisers/1001/transactions/jobs").await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let got = admin.send(Method::DELETE, &format!("/admin/tokens/{token_id}"), None).await;
    assert_error("revoking again", &got, StatusCode::NOT_FOUND);
    let got = admin.send(Method::DELETE, "/admin/tokens/6f1c5f62-3a8b-4f0e-9a43-6d5b8e8c0d11", None).await;
    assert_error("revoking an unknown token", &got, StatusCode::NOT_FOUND);
    let got = admin.send(Method::DELETE, "/admin/tokens/not-a-uuid", None).await;
    assert!(got.0 == StatusCode::NOT_FOUND || got.0 == StatusCode::BAD_REQUEST, "non-UUID token id: {got:?}");
    assert_error("non-UUID token id", &got, got.0);

    // Tokens need existing advertisers.
    let got = admin.post("/admin/tokens", &json!({"name": "t", "advertiserIds": [4242]})).await;
    assert_error("token for an unknown advertiser", &got, StatusCode::BAD_REQUEST);
    let got = admin.post("/admin/tokens", &json!({"name": "t", "advertiserIds": []})).await;
    assert_error("token for no advertiser", &got, StatusCode::BAD_REQUEST);
}

// ---------------------------------------------------------------------------------------
// 8. Health and readiness
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn health_and_ready() {
    let stack = Stack::builder().workers(0).start().await;
    let got = raw(&stack, Method::GET, "/health", None, None, &[], None).await;
    assert_eq!(got.0, StatusCode::OK, "{}", got.1);
    let got = raw(&stack, Method::GET, "/ready", None, None, &[], None).await;
    assert_eq!(got.0, StatusCode::OK, "{}", got.1);
    assert_eq!(got.1["postgres"], "up", "{}", got.1);
    assert_eq!(got.1["rabbitmq"], "up", "{}", got.1);

    // Unknown routes speak the error shape too.
    let got = raw(&stack, Method::GET, "/no/such/route", None, None, &[], None).await;
    assert_error("unknown route", &got, StatusCode::NOT_FOUND);
}

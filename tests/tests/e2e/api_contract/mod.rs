//! The HTTP contract of docs/api.md §2–§5: request envelopes, error shape, idempotency,
//! job listing and status, recording and reading transactions, admin routes, health.

use ratify_tests::{Client, Stack};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

mod actions;
mod admin;
mod auto_approval;
mod batch;
mod health;
mod job_control;
mod jobs;
mod paging;
mod reading;
mod recording;
mod wire;

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
    ratify_tests::answer(request).await
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

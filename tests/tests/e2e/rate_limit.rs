//! Per-token rate limiting: a token gets its calls a minute, then `429` with
//! `Retry-After` and the `X-RateLimit-*` headers; other tokens and admin routes are not
//! affected.

use ratify_tests::Stack;
use reqwest::StatusCode;

async fn get(base: &str, path: &str, token: &str) -> reqwest::Response {
    reqwest::Client::new().get(format!("{base}{path}")).bearer_auth(token).send().await.expect("request")
}

fn header(response: &reqwest::Response, name: &str) -> Option<u64> {
    response.headers().get(name)?.to_str().ok()?.parse().ok()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_over_its_limit_gets_429_until_its_allowance_returns() {
    let stack = Stack::builder().workers(0).env("RATIFY_RATE_LIMIT_PER_MINUTE", 5).start().await;
    let admin = stack.admin();
    admin.create_advertiser(1, "EUR", &[]).await;
    admin.create_advertiser(2, "EUR", &[]).await;
    let (first, second) = (admin.create_token(&[1]).await, admin.create_token(&[2]).await);
    let base = &stack.base_url;

    let mut remaining = Vec::new();
    for _ in 0..5 {
        let response = get(base, "/advertisers/1/transactions/jobs", &first).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header(&response, "x-ratelimit-limit"), Some(5));
        remaining.push(header(&response, "x-ratelimit-remaining").expect("remaining"));
    }
    assert_eq!(remaining, vec![4, 3, 2, 1, 0]);

    let refused = get(base, "/advertisers/1/transactions/jobs", &first).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after = header(&refused, "retry-after").expect("Retry-After");
    assert!((1..=12).contains(&retry_after), "one call comes back every 12 s: {retry_after}");
    assert_eq!(header(&refused, "x-ratelimit-remaining"), Some(0));
    assert!(header(&refused, "x-ratelimit-reset").is_some_and(|s| s > 0 && s <= 60));
    let body: serde_json::Value = refused.json().await.expect("json");
    assert_eq!(body["error"], "RATE_LIMITED");
    assert!(body["description"].as_str().is_some_and(|d| d.contains("retry after")), "{body}");

    // Refused on every advertiser route, including writes.
    let batch = reqwest::Client::new()
        .post(format!("{base}/advertisers/1/transactions/batch"))
        .bearer_auth(&first)
        .json(&serde_json::json!([{"action": "approve", "transaction": {"transactionId": 1}}]))
        .send()
        .await
        .expect("request");
    assert_eq!(batch.status(), StatusCode::TOO_MANY_REQUESTS);

    // Another token has its own allowance; the operator's routes are not limited.
    assert_eq!(get(base, "/advertisers/2/transactions/jobs", &second).await.status(), StatusCode::OK);
    for _ in 0..8 {
        let (status, body) = admin.post("/admin/tokens", &serde_json::json!({"name": "x", "advertiserIds": [1]})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    assert_eq!(reqwest::get(format!("{base}/health")).await.expect("health").status(), StatusCode::OK);
}

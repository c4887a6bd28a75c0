//! Authentication and tenancy (docs/api.md §2): 401 without a valid token, 403 for an
//! advertiser the token is not granted, 404 for another advertiser's data, and admin and
//! advertiser tokens kept apart.

use ratify_tests::assert_error;
use ratify_tests::{Client, Stack};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// A request with an Authorization header given verbatim (or none).
async fn raw(
    stack: &Stack,
    method: Method,
    path: &str,
    authorization: Option<&str>,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new().request(method, format!("{}{path}", stack.base_url));
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    ratify_tests::answer(request).await
}

/// One route of an advertiser, with a body for the POSTs.
struct Route {
    method: Method,
    path: String,
    body: Option<Value>,
}

/// Every `/advertisers/{aid}/...` route, aimed at `tx` and `job` of that advertiser.
/// The POST bodies are valid, so only authentication or authorisation can refuse them.
fn advertiser_routes(aid: i64, tx: i64, job: &str, marker: &str) -> Vec<Route> {
    let route = |method: Method, path: String, body: Option<Value>| Route { method, path, body };
    vec![
        route(
            Method::POST,
            format!("/advertisers/{aid}/transactions"),
            Some(json!([{"orderRef": marker, "transactionDate": "2026-11-14T10:15:00",
                         "timezone": "Europe/Stockholm", "saleAmount": 10, "currency": "SEK"}])),
        ),
        route(
            Method::GET,
            format!("/advertisers/{aid}/transactions?startDate=2026-11-01T00:00:00&endDate=2026-11-30T00:00:00"),
            None,
        ),
        route(Method::GET, format!("/advertisers/{aid}/transactions?ids={tx}"), None),
        route(Method::GET, format!("/advertisers/{aid}/transactions?orderRef=SHARED-1"), None),
        route(Method::GET, format!("/advertisers/{aid}/transactions/{tx}"), None),
        route(
            Method::POST,
            format!("/advertisers/{aid}/transactions/batch"),
            Some(json!([{"action": "decline", "transaction": {"transactionId": tx, "declineReason": "fraud"}}])),
        ),
        route(Method::GET, format!("/advertisers/{aid}/transactions/jobs/{job}"), None),
        route(Method::GET, format!("/advertisers/{aid}/transactions/jobs/{job}?output=all"), None),
        route(Method::GET, format!("/advertisers/{aid}/transactions/jobs"), None),
    ]
}

/// Two SEK advertisers, 1001 (A) and 1002 (B), each with a transaction of the same
/// orderRef and date ("SHARED-1") and a finished job; returns single-advertiser tokens.
struct World {
    stack: Stack,
    token_a: String,
    token_b: String,
    tx_a: i64,
    tx_b: i64,
    job_a: String,
    job_b: String,
}

fn shared_row(order_ref: &str) -> Value {
    json!([{"orderRef": order_ref, "transactionDate": "2026-11-14T10:15:00", "timezone": "Europe/Stockholm",
            "saleAmount": 100, "currency": "SEK"}])
}

async fn world() -> World {
    let stack = Stack::builder().workers(1).start().await;
    let admin = stack.admin();
    for id in [1001, 1002] {
        admin.create_advertiser(id, "SEK", &[("DEFAULT", "percentage", json!(10))]).await;
    }
    let token_a = admin.create_token(&[1001]).await;
    let token_b = admin.create_token(&[1002]).await;
    let (a, b) = (stack.client(&token_a), stack.client(&token_b));
    // The same (orderRef, transactionDate) in both: unique per advertiser only.
    let tx_a = a.record(1001, &shared_row("SHARED-1")).await[0];
    let tx_b = b.record(1002, &shared_row("SHARED-1")).await[0];
    assert_ne!(tx_a, tx_b);
    // Jobs that change nothing: the transactions stay pending.
    let job_a = a.submit(1001, &json!([{"action": "approve", "transaction": {"transactionId": 999_999_001}}])).await;
    let job_b = b.submit(1002, &json!([{"action": "approve", "transaction": {"transactionId": 999_999_002}}])).await;
    a.wait_done(1001, &job_a).await;
    b.wait_done(1002, &job_b).await;
    World { stack, token_a, token_b, tx_a, tx_b, job_a, job_b }
}

async fn job_ids(client: &Client, advertiser: i64) -> Vec<String> {
    let (status, body) = client.get(&format!("/advertisers/{advertiser}/transactions/jobs?limit=500")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["jobs"].as_array().expect("jobs").iter().map(|j| j["jobId"].as_str().expect("jobId").to_owned()).collect()
}

async fn listed_ids(client: &Client, path: &str) -> Vec<i64> {
    let (status, body) = client.get(path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body.as_array()
        .unwrap_or_else(|| panic!("{path}: not an array: {body}"))
        .iter()
        .map(|t| t["id"].as_i64().expect("id"))
        .collect()
}

/// B's data is as `world()` left it: one pending transaction, one job, nothing else.
async fn assert_b_untouched(w: &World) {
    let b = w.stack.client(&w.token_b);
    let tx = b.transaction(1002, w.tx_b).await;
    assert_eq!(tx["commissionStatus"], "pending", "{tx}");
    assert_eq!(job_ids(&b, 1002).await, vec![w.job_b.clone()]);
    assert_eq!(
        listed_ids(&b, "/advertisers/1002/transactions?startDate=2026-11-01T00:00:00&endDate=2026-11-30T00:00:00")
            .await,
        vec![w.tx_b]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unauthenticated_requests_get_401() {
    let w = world().await;
    let unknown = format!("Bearer rat_{}", "0".repeat(64));
    let malformed = [
        "Bearer".to_owned(),
        "Bearer ".to_owned(),
        "Basic dXNlcjpwYXNz".to_owned(),
        format!("Token {}", w.token_a),
        w.token_a.clone(),
        format!("Bearer{}", w.token_a),
    ];
    let mut headers: Vec<(String, Option<String>)> = vec![
        ("no Authorization header".to_owned(), None),
        ("unknown token".to_owned(), Some(unknown)),
        ("token with a character changed".to_owned(), Some(format!("Bearer {}x", &w.token_a[..w.token_a.len() - 1]))),
    ];
    headers.extend(malformed.into_iter().map(|h| (format!("malformed header {h:?}"), Some(h))));
    for route in advertiser_routes(1001, w.tx_a, &w.job_a, "UNAUTH-1") {
        for (what, header) in &headers {
            let got = raw(&w.stack, route.method.clone(), &route.path, header.as_deref(), route.body.as_ref()).await;
            assert_error(&format!("{} {} with {what}", route.method, route.path), &got, StatusCode::UNAUTHORIZED);
        }
    }
    // Nothing was recorded or submitted by the refused requests.
    let a = w.stack.client(&w.token_a);
    assert_eq!(job_ids(&a, 1001).await, vec![w.job_a.clone()]);
    assert!(listed_ids(&a, "/advertisers/1001/transactions?orderRef=UNAUTH-1").await.is_empty());
    assert_eq!(a.transaction(1001, w.tx_a).await["commissionStatus"], "pending");
}

#[tokio::test(flavor = "multi_thread")]
async fn token_of_another_advertiser_gets_403() {
    let w = world().await;
    let a = format!("Bearer {}", w.token_a);
    // A's token on every route of B, aimed at B's real transaction and job.
    for route in advertiser_routes(1002, w.tx_b, &w.job_b, "FORBIDDEN-1") {
        let got = raw(&w.stack, route.method.clone(), &route.path, Some(&a), route.body.as_ref()).await;
        assert_error(&format!("A's token on {} {}", route.method, route.path), &got, StatusCode::FORBIDDEN);
        assert!(!got.1.to_string().contains("SHARED-1"), "a 403 shows none of B's data: {}", got.1);
    }
    // Also for an advertiser that does not exist at all (not granted: 403, not 404).
    for route in advertiser_routes(4242, w.tx_b, &w.job_b, "FORBIDDEN-2") {
        let got = raw(&w.stack, route.method.clone(), &route.path, Some(&a), route.body.as_ref()).await;
        assert_error(&format!("A's token on {} {}", route.method, route.path), &got, StatusCode::FORBIDDEN);
    }
    assert_b_untouched(&w).await;
    let b = w.stack.client(&w.token_b);
    assert!(listed_ids(&b, "/advertisers/1002/transactions?orderRef=FORBIDDEN-1").await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn another_advertisers_data_is_invisible() {
    let w = world().await;
    let admin = w.stack.admin();
    let both_token = admin.create_token(&[1001, 1002]).await;
    let both = w.stack.client(&both_token);

    // B's transaction and job through A's path: 404, never B's data.
    for path in [
        format!("/advertisers/1001/transactions/{}", w.tx_b),
        format!("/advertisers/1001/transactions/jobs/{}", w.job_b),
        format!("/advertisers/1001/transactions/jobs/{}?output=all", w.job_b),
        format!("/advertisers/1001/transactions/jobs/{}?output=errors", w.job_b),
        format!("/advertisers/1002/transactions/{}", w.tx_a),
        format!("/advertisers/1002/transactions/jobs/{}", w.job_a),
    ] {
        let got = both.get(&path).await;
        assert_error(&path, &got, StatusCode::NOT_FOUND);
        assert!(!got.1.to_string().contains("SHARED-1"), "a 404 shows no data: {}", got.1);
    }

    // Listings of A never show B's transactions or jobs.
    let november = "startDate=2026-11-01T00:00:00&endDate=2026-11-30T00:00:00";
    assert_eq!(listed_ids(&both, &format!("/advertisers/1001/transactions?{november}")).await, vec![w.tx_a]);
    assert_eq!(listed_ids(&both, &format!("/advertisers/1002/transactions?{november}")).await, vec![w.tx_b]);
    assert_eq!(listed_ids(&both, "/advertisers/1001/transactions?orderRef=SHARED-1").await, vec![w.tx_a]);
    assert!(listed_ids(&both, &format!("/advertisers/1001/transactions?ids={}", w.tx_b)).await.is_empty());
    assert_eq!(
        listed_ids(&both, &format!("/advertisers/1001/transactions?ids={},{}", w.tx_a, w.tx_b)).await,
        vec![w.tx_a]
    );
    assert_eq!(job_ids(&both, 1001).await, vec![w.job_a.clone()]);
    assert_eq!(job_ids(&both, 1002).await, vec![w.job_b.clone()]);

    // A batch of A cannot reach B's transaction, by id or by reference; the shared
    // reference resolves to A's own transaction only (not ambiguous).
    let job = both
        .run(
            1001,
            &json!([
                {"action": "decline", "transaction": {"transactionId": w.tx_b, "declineReason": "fraud"}},
                {"action": "approve", "transaction": {"orderRef": "SHARED-1", "transactionDate": "2026-11-14T10:15:00",
                                                       "timezone": "Europe/Stockholm"}}
            ]),
        )
        .await;
    assert_eq!(job.code(0), "[404 NOT_FOUND]", "{:?}", job.body);
    assert_eq!(job.code(1), "[200 OK]", "{:?}", job.body);
    assert_eq!(job.item(1)["transactionId"], json!(w.tx_a));
    assert_eq!(both.transaction(1001, w.tx_a).await["commissionStatus"], "approved");
    assert_b_untouched(&w).await;

    // The multi-advertiser token works on both advertisers, for writes too.
    let ids_b = both.record(1002, &shared_row("BOTH-B")).await;
    let job_b2 = both.run(1002, &json!([{"action": "approve", "transaction": {"transactionId": ids_b[0]}}])).await;
    assert_eq!(job_b2.code(0), "[200 OK]");
    assert_eq!(both.transaction(1002, ids_b[0]).await["commissionStatus"], "approved");
    let ids_a = both.record(1001, &shared_row("BOTH-A")).await;
    assert_eq!(both.transaction(1001, ids_a[0]).await["advertiserId"], json!(1001));
    // ...while single-advertiser tokens still see only their own.
    let a = w.stack.client(&w.token_a);
    let got = a.get(&format!("/advertisers/1002/transactions/{}", ids_b[0])).await;
    assert_error("A's token on B's new transaction", &got, StatusCode::FORBIDDEN);
    let got = a.get(&format!("/advertisers/1001/transactions/{}", ids_b[0])).await;
    assert_error("B's new transaction through A", &got, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_and_advertiser_tokens_are_kept_apart() {
    let w = world().await;
    let advertiser = format!("Bearer {}", w.token_a);
    let admin_routes: Vec<(Method, String, Option<Value>)> = vec![
        (Method::POST, "/admin/advertisers".to_owned(), Some(json!({"id": 5001, "name": "Sneaky", "currency": "SEK"}))),
        (
            Method::PUT,
            "/admin/advertisers/1001/commission-groups/DEFAULT".to_owned(),
            Some(json!({"name": "Default", "type": "percentage", "value": 99})),
        ),
        (Method::POST, "/admin/tokens".to_owned(), Some(json!({"name": "escalate", "advertiserIds": [1001, 1002]}))),
        (Method::DELETE, "/admin/tokens/6f1c5f62-3a8b-4f0e-9a43-6d5b8e8c0d11".to_owned(), None),
    ];
    let unknown = format!("Bearer {}x", w.stack.admin_token);
    for (method, path, body) in &admin_routes {
        for (what, header) in [
            ("an advertiser token", Some(advertiser.as_str())),
            ("no token", None),
            ("a wrong admin token", Some(unknown.as_str())),
        ] {
            let got = raw(&w.stack, method.clone(), path, header, body.as_ref()).await;
            assert_error(&format!("{method} {path} with {what}"), &got, StatusCode::UNAUTHORIZED);
        }
    }
    // The refused admin calls changed nothing: no advertiser 5001, DEFAULT still 10 %.
    let admin = w.stack.admin();
    let got = admin.post("/admin/tokens", &json!({"name": "t", "advertiserIds": [5001]})).await;
    assert_error("token for advertiser 5001", &got, StatusCode::BAD_REQUEST);
    let a = w.stack.client(&w.token_a);
    let ids = a.record(1001, &shared_row("RATE-1")).await;
    assert_eq!(a.transaction(1001, ids[0]).await["commissionAmount"]["amount"].as_f64(), Some(10.0));

    // Tokens are stored only as a hash: no row of any table holds a token's text.
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT quote_ident(table_name) FROM information_schema.tables
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    )
    .fetch_all(&w.stack.db)
    .await
    .expect("tables");
    assert!(!tables.is_empty());
    for table in tables {
        let leaks: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM {table} t WHERE strpos(t::text, $1) > 0 OR strpos(t::text, $2) > 0"
        ))
        .bind(&w.token_a)
        .bind(&w.token_b)
        .fetch_one(&w.stack.db)
        .await
        .expect("scan");
        assert_eq!(leaks, 0, "table {table} holds a token in clear");
    }
    assert!(w.token_a.len() >= 22, "a token carries at least 128 random bits");

    // The admin token is not an advertiser token.
    let admin_header = format!("Bearer {}", w.stack.admin_token);
    for route in advertiser_routes(1001, w.tx_a, &w.job_a, "ADMIN-1") {
        let got = raw(&w.stack, route.method.clone(), &route.path, Some(&admin_header), route.body.as_ref()).await;
        assert_error(&format!("admin token on {} {}", route.method, route.path), &got, StatusCode::UNAUTHORIZED);
    }
    assert!(listed_ids(&a, "/advertisers/1001/transactions?orderRef=ADMIN-1").await.is_empty());
}

//! Bearer tokens never reach the logs or the database in the clear (docs/api.md §2: "stored
//! only as a hash"). The api and a worker run at `RUST_LOG=debug`; a token is used on every
//! kind of route, accepted, refused (`403`, revoked, rate-limited), alongside near-miss tokens
//! that share most of its text and the admin token in the wrong places. Then every log line
//! and every row of every table is searched for any of them.

use std::path::Path;

use ratify_tests::Stack;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const ADV: i64 = 1001;
const OTHER: i64 = 1002;
/// Calls a minute per token: enough for the main token's calls, few enough that a burst
/// of another token is refused with 429.
const RATE_LIMIT: usize = 40;

/// A request with an Authorization header (and any other headers) given verbatim.
async fn call(
    stack: &Stack,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new().request(method, format!("{}{path}", stack.base_url));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    ratify_tests::answer(request).await
}

fn lower_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every file under `dir`, recursively, with its text.
fn read_all(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).expect("read the log folder").flatten() {
        let path = entry.path();
        if path.is_dir() {
            read_all(&path, out);
        } else {
            let bytes = std::fs::read(&path).expect("read a log file");
            out.push((path.display().to_string(), String::from_utf8_lossy(&bytes).into_owned()));
        }
    }
}

/// What must never be found: each token whole, and any half of its random part (so a
/// token logged truncated, or a near miss that shares most of it, is caught too).
fn needles(token: &str) -> Vec<String> {
    if let Some(random) = token.strip_prefix("rat_") {
        let half = random.len() / 2;
        return vec![token.to_owned(), random.to_owned(), random[..half].to_owned(), random[half..].to_owned()];
    }
    // The harness' admin token is `admin-<stack name suffix>-<16 random hex>`: the suffix is
    // public (it names the database and the queues), the last part is not.
    let random = token.rsplit('-').next().unwrap_or(token);
    vec![token.to_owned(), random.to_owned()]
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_are_never_logged_nor_stored_in_the_clear() {
    let mut stack = Stack::builder()
        .workers(1)
        // Overrides the harness' RUST_LOG=info (the builder's variables are set last).
        .env("RUST_LOG", "debug")
        .env("RATIFY_RATE_LIMIT_PER_MINUTE", RATE_LIMIT)
        .start()
        .await;
    let admin = stack.admin();
    admin.create_advertiser(ADV, "SEK", &[("DEFAULT", "percentage", json!(10))]).await;
    admin.create_advertiser(OTHER, "SEK", &[("DEFAULT", "percentage", json!(10))]).await;
    let (status, created) = admin.post("/admin/tokens", &json!({"name": "finance-bot", "advertiserIds": [ADV]})).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let token = created["token"].as_str().expect("token").to_owned();
    assert!(token.starts_with("rat_") && token.len() > 40, "unexpected token form: {token}");
    let burst_token = admin.create_token(&[ADV]).await;
    let (status, revoked) = admin.post("/admin/tokens", &json!({"name": "to-revoke", "advertiserIds": [ADV]})).await;
    assert_eq!(status, StatusCode::CREATED, "{revoked}");
    let revoked_token = revoked["token"].as_str().expect("token").to_owned();
    let revoked_id = revoked["id"].as_str().expect("id").to_owned();

    let bearer = format!("Bearer {token}");
    let auth = [("authorization", bearer.as_str())];
    let client = stack.client(&token);

    // Accepted, on every kind of advertiser route.
    let ids = client.record_simple(ADV, "SEK", "SEC", 3).await;
    let (status, body) = call(
        &stack,
        Method::POST,
        &format!("/advertisers/{ADV}/transactions/batch"),
        &[auth[0], ("idempotency-key", "secrets-key-1")],
        Some(&json!([{"action": "approve", "transaction": {"transactionId": ids[0]}},
                     {"action": "decline", "transaction": {"transactionId": ids[1], "declineReason": "returned"}},
                     {"action": "approve", "transaction": {"transactionId": 999_999_999}}])),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let job = body["jobId"].as_str().expect("jobId").to_owned();
    client.wait_done(ADV, &job).await;
    for path in [
        format!("/advertisers/{ADV}/transactions/{}", ids[0]),
        format!("/advertisers/{ADV}/transactions?ids={},{}", ids[0], ids[1]),
        format!("/advertisers/{ADV}/transactions?orderRef=SEC-2"),
        format!("/advertisers/{ADV}/transactions?startDate=2026-11-01T00:00:00&endDate=2026-11-30T00:00:00"),
        format!("/advertisers/{ADV}/transactions/jobs/{job}?output=errors"),
        format!("/advertisers/{ADV}/transactions/jobs"),
    ] {
        let (status, body) = call(&stack, Method::GET, &path, &auth, None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
    }

    // Refused: another advertiser (403), bad requests with a good token (400, 404, 422).
    for path in
        [format!("/advertisers/{OTHER}/transactions/jobs"), format!("/advertisers/{OTHER}/transactions/{}", ids[0])]
    {
        let (status, body) = call(&stack, Method::GET, &path, &auth, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
    }
    let (status, _) = call(
        &stack,
        Method::POST,
        &format!("/advertisers/{OTHER}/transactions/batch"),
        &auth,
        Some(&json!([{"action": "approve", "transaction": {"transactionId": 1}}])),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(&stack, Method::GET, &format!("/advertisers/{ADV}/transactions?ids=x"), &auth, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) =
        call(&stack, Method::GET, &format!("/advertisers/{ADV}/transactions/jobs/not-a-job"), &auth, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(
        &stack,
        Method::POST,
        &format!("/advertisers/{ADV}/transactions/batch"),
        &[auth[0], ("idempotency-key", "secrets-key-1")],
        Some(&json!([{"action": "approve", "transaction": {"transactionId": ids[2]}}])),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "same key, different body");

    // Near misses: 401, whatever shape the Authorization header takes.
    let mut last_changed = token.clone();
    let last = last_changed.pop().expect("last char");
    last_changed.push(if last == '0' { '1' } else { '0' });
    let near_misses = [
        format!("Bearer {last_changed}"),
        format!("Bearer {token}0"),
        format!("Bearer {}", &token[..token.len() - 8]),
        format!("Bearer {}", token.to_uppercase()),
        format!("Token {token}"),
        format!("Basic {token}"),
        token.clone(),
        format!("Bearer{token}"),
    ];
    for header in &near_misses {
        let (status, body) = call(
            &stack,
            Method::GET,
            &format!("/advertisers/{ADV}/transactions/jobs"),
            &[("authorization", header)],
            None,
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    }
    // The token in headers that are not Authorization: ignored, so 401.
    let (status, _) = call(
        &stack,
        Method::GET,
        &format!("/advertisers/{ADV}/transactions/jobs"),
        &[("x-api-key", &token), ("cookie", &format!("token={token}"))],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // The admin token: accepted on /admin, refused on advertiser routes; an advertiser token
    // and a near miss of the admin token refused on /admin.
    let admin_bearer = format!("Bearer {}", stack.admin_token);
    let (status, _) = call(
        &stack,
        Method::PUT,
        &format!("/admin/advertisers/{ADV}/commission-groups/BONUS"),
        &[("authorization", &admin_bearer)],
        Some(&json!({"name": "Bonus", "type": "fixed", "value": 1})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(
        &stack,
        Method::GET,
        &format!("/advertisers/{ADV}/transactions/jobs"),
        &[("authorization", &admin_bearer)],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let admin_near_miss = format!("Bearer {}x", stack.admin_token);
    for header in [bearer.as_str(), admin_near_miss.as_str()] {
        let (status, _) = call(
            &stack,
            Method::POST,
            "/admin/tokens",
            &[("authorization", header)],
            Some(&json!({"name": "nope", "advertiserIds": [ADV]})),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }

    // A revoked token.
    let (status, _) =
        call(&stack, Method::DELETE, &format!("/admin/tokens/{revoked_id}"), &[("authorization", &admin_bearer)], None)
            .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = stack.client(&revoked_token).get(&format!("/advertisers/{ADV}/transactions/jobs")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A burst over the per-token rate limit.
    let burst = stack.client(&burst_token);
    let mut limited = 0;
    for _ in 0..RATE_LIMIT + 10 {
        let (status, _) = burst.get(&format!("/advertisers/{ADV}/transactions/jobs")).await;
        limited += usize::from(status == StatusCode::TOO_MANY_REQUESTS);
    }
    assert!(limited > 0, "{} calls in a burst at a limit of {RATE_LIMIT} a minute got no 429", RATE_LIMIT + 10);

    // Stop the processes so every line they wrote is on disk.
    stack.stop_api().expect("stop the api");
    let status = stack.signal_worker(0, "TERM").expect("stop the worker");
    assert!(status.success(), "the worker exited with {status}");

    let mut logs = Vec::new();
    read_all(stack.log_dir(), &mut logs);
    assert!(logs.len() >= 2, "expected the api's and the worker's logs: {logs:?}");
    for (name, text) in &logs {
        assert!(text.contains("DEBUG"), "{name} has no DEBUG line: was RUST_LOG=debug in effect?");
    }
    // The search works: what the api does log about this test's requests is there.
    assert!(logs.iter().any(|(_, text)| text.contains(&job)), "no log line names job {job}");
    let mut secrets = Vec::new();
    for secret in [&token, &burst_token, &revoked_token, &stack.admin_token, &last_changed] {
        secrets.extend(needles(secret));
    }
    for (name, text) in &logs {
        let text = text.to_lowercase();
        for needle in &secrets {
            if let Some(at) = text.find(needle.to_lowercase().as_str()) {
                let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
                let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
                panic!("{name} contains a token (or part of one) {needle:?}:\n{}", &text[line_start..line_end]);
            }
        }
    }

    // The database: the token table holds 32-byte hashes only, and no row of any table holds
    // a token, as text or as the bytes of its text.
    let hashes: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT token_hash FROM api_tokens").fetch_all(&stack.db).await.expect("token hashes");
    assert_eq!(hashes.len(), 3, "three tokens were created");
    for hash in &hashes {
        assert_eq!(hash.len(), 32, "token_hash is a 32-byte digest");
        for secret in [&token, &burst_token, &revoked_token] {
            assert_ne!(hash.as_slice(), secret.as_bytes());
        }
    }
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) FROM information_schema.tables \
         WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_type = 'BASE TABLE'",
    )
    .fetch_all(&stack.db)
    .await
    .expect("list tables");
    assert!(tables.iter().any(|t| t.ends_with(".api_tokens")), "{tables:?}");
    let mut stored = secrets.clone();
    for secret in [&token, &burst_token, &revoked_token, &stack.admin_token] {
        stored.push(lower_hex(secret.as_bytes()));
    }
    for table in &tables {
        for needle in &stored {
            let found: i64 = sqlx::query_scalar(&format!(
                "SELECT count(*) FROM {table} AS t WHERE strpos(lower(t::text), lower($1)) > 0"
            ))
            .bind(needle)
            .fetch_one(&stack.db)
            .await
            .unwrap_or_else(|e| panic!("search {table}: {e}"));
            assert_eq!(found, 0, "{table} holds a token (or part of one): {needle:?}");
        }
    }
}

//! Signing in and out: what the cookie is and is not, and when a session ends.

use reqwest::header::COOKIE;
use serde_json::json;

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_session_is_a_signed_id_that_ends_with_sign_out_or_revocation() {
    let stack = Stack::builder().in_process().workers(0).start().await;
    let admin = stack.admin();
    admin.create_advertiser(1001, "SEK", &[]).await;
    let (_, body) = admin.post("/admin/tokens", &json!({"name": "ops", "advertiserIds": [1001]})).await;
    let (token_id, token) = (body["id"].as_str().unwrap().to_owned(), body["token"].as_str().unwrap().to_owned());

    // Signed out: every page goes to the sign-in page, which itself is served.
    for path in
        ["/console", "/console/jobs", "/console/health", "/console/jobs/1001/00000000-0000-0000-0000-000000000000"]
    {
        let (status, location, _) = get(&stack, "", path).await;
        assert!(status.is_redirection(), "{path}: {status}");
        let location = location.expect("a Location");
        assert!(location == "/console/sign-in" || location == "/console/jobs", "{path} → {location}");
    }
    let (status, _, page) = get(&stack, "", "/console/sign-in").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"<label for="token">"#) && page.contains(r#"type="password""#), "{page}");

    // A wrong token opens nothing.
    let response =
        http().post(format!("{}/console/sign-in", stack.base_url)).form(&[("token", "rat_nope")]).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers().get(reqwest::header::SET_COOKIE).is_none());
    assert!(response.text().await.unwrap().contains("not valid"));

    let (set, cookie) = sign_in(&stack, &token).await;
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=28800"] {
        assert!(set.contains(attribute), "{attribute} in {set}");
    }
    assert!(!set.contains("Secure"), "plain http: no Secure ({set})");
    assert!(!set.contains(&token) && !set.contains(&token[4..]), "the cookie is not the token: {set}");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM console_sessions").fetch_one(&stack.db).await.unwrap();
    assert_eq!(stored, 1);
    let (status, _, page) = get(&stack, &cookie, "/console/jobs").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Sign out"), "{page}");

    // Behind https the cookie is Secure.
    let response = http()
        .post(format!("{}/console/sign-in", stack.base_url))
        .header("x-forwarded-proto", "https")
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert!(response.headers()[reqwest::header::SET_COOKIE].to_str().unwrap().contains("; Secure"));

    // A forged or altered cookie opens nothing.
    let (name, value) = cookie.split_once('=').unwrap();
    let (id, tag) = value.split_once('.').unwrap();
    let flipped = format!("{}{}", if id.starts_with('0') { "1" } else { "0" }, &id[1..]);
    for forged in
        [format!("{name}={flipped}.{tag}"), format!("{name}={id}.{}", "0".repeat(32)), format!("{name}={token}")]
    {
        let (status, location, _) = get(&stack, &forged, "/console/jobs").await;
        assert!(status.is_redirection() && location.as_deref() == Some("/console/sign-in"), "{forged}: {status}");
    }

    // The cookie reads through the api, but never writes.
    let (status, _, body) = get(&stack, &cookie, "/advertisers/1001/transactions/jobs").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let response = http()
        .post(format!("{}/advertisers/1001/transactions/batch", stack.base_url))
        .header(COOKIE, &cookie)
        .header("content-type", "application/json")
        .body(r#"[{"action": "approve", "transaction": {"transactionId": 1}}]"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "a cookie cannot submit");

    // Signing out ends the session: the old cookie opens nothing.
    let response =
        http().post(format!("{}/console/sign-out", stack.base_url)).header(COOKIE, &cookie).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(response.headers()[reqwest::header::SET_COOKIE].to_str().unwrap().contains("Max-Age=0"));
    let (status, location, _) = get(&stack, &cookie, "/console/jobs").await;
    assert!(status.is_redirection() && location.as_deref() == Some("/console/sign-in"), "{status}");
    let (status, _, _) = get(&stack, &cookie, "/advertisers/1001/transactions/jobs").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Revoking the token ends its sessions at once.
    let (_, cookie) = sign_in(&stack, &token).await;
    assert_eq!(get(&stack, &cookie, "/console/jobs").await.0, StatusCode::OK);
    let (status, _) = admin.send(reqwest::Method::DELETE, &format!("/admin/tokens/{token_id}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, location, _) = get(&stack, &cookie, "/console/jobs").await;
    assert!(status.is_redirection() && location.as_deref() == Some("/console/sign-in"), "{status}");

    // A GET never signs in or out: the sign-out route takes POST only.
    let (_, admin_cookie) = sign_in(&stack, &stack.admin_token).await;
    let (status, _, _) = get(&stack, &admin_cookie, "/console/sign-out").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(get(&stack, &admin_cookie, "/console/jobs").await.0, StatusCode::OK, "still signed in");
}

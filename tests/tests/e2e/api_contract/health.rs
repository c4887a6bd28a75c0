//! `/health`, `/ready` and the error shape of unknown routes.

use ratify_tests::assert_error;

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn health_and_ready() {
    let stack = Stack::builder().in_process().workers(0).start().await;
    let got = raw(&stack, Method::GET, "/health", None, None, &[], None).await;
    assert_eq!(got.0, StatusCode::OK, "{}", got.1);
    let got = raw(&stack, Method::GET, "/ready", None, None, &[], None).await;
    assert_eq!(got.0, StatusCode::OK, "{}", got.1);
    assert_eq!(got.1["postgres"], "up", "{}", got.1);
    assert_eq!(got.1["rabbitmq"], "up", "{}", got.1);
    assert_eq!(got.1["status"], "ready", "{}", got.1);
    assert_eq!(got.1["degraded"], json!([]), "{}", got.1);

    // Unknown routes speak the error shape too.
    let got = raw(&stack, Method::GET, "/no/such/route", None, None, &[], None).await;
    assert_error("unknown route", &got, StatusCode::NOT_FOUND);
}

/// `/docs` renders the OpenAPI document with assets the api serves itself: nothing on the
/// page comes from elsewhere.
#[tokio::test(flavor = "multi_thread")]
async fn docs_are_served_locally() {
    let stack = Stack::builder().in_process().workers(0).start().await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let moved = http.get(format!("{}/docs", stack.base_url)).send().await.expect("GET /docs");
    assert_eq!(moved.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(moved.headers()["location"], "/docs/");
    let page = reqwest::get(format!("{}/docs", stack.base_url)).await.expect("GET /docs/");
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    let mut assets = 0;
    for attribute in ["src=\"", "href=\""] {
        for piece in html.split(attribute).skip(1) {
            let url = piece.split('"').next().unwrap();
            assert!(!url.contains("//"), "{url} is not served by the api");
            let got = reqwest::get(format!("{}/docs/{}", stack.base_url, url.trim_start_matches("./"))).await.unwrap();
            assert_eq!(got.status(), StatusCode::OK, "{url}");
            assets += 1;
        }
    }
    assert!(assets >= 3, "the page's scripts and styles: {html}");
    let init =
        reqwest::get(format!("{}/docs/swagger-initializer.js", stack.base_url)).await.unwrap().text().await.unwrap();
    assert!(init.contains("/openapi.json"), "the page reads this api's document: {init}");
    let got = raw(&stack, Method::GET, "/docs/no-such-asset.js", None, None, &[], None).await;
    assert_error("an unknown asset", &got, StatusCode::NOT_FOUND);
}

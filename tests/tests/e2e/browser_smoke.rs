//! The browser harness itself ([`ratify_tests::browser`]): a real headless Chromium opens
//! the api's `/docs/`, whose Swagger UI is drawn by JavaScript from `/openapi.json`, so
//! what it shows exists only if the page's scripts ran in a browser.

use fantoccini::Locator;
use ratify_tests::browser::Browser;
use ratify_tests::Stack;

#[tokio::test(flavor = "multi_thread")]
async fn docs_render_in_a_real_browser() {
    let stack = Stack::builder().in_process().workers(0).start().await;
    let browser = Browser::start().await;
    browser.goto(&format!("{}/docs/", stack.base_url)).await;

    // The title comes from the OpenAPI document's info.title (api/src/openapi.rs), which
    // the Swagger UI fetches and renders client-side: the HTML the api serves has no title.
    let title = browser.wait_for(".swagger-ui .info .title").await;
    let text = title.text().await.expect("the title's text");
    assert!(text.starts_with("Ratify"), "the Swagger UI title: {text:?}");
    // And the operations, drawn from the same document.
    browser.wait_for(".swagger-ui .opblock").await;
    let operations = browser.client().find_all(Locator::Css(".swagger-ui .opblock")).await.expect("the operations");
    assert!(operations.len() >= 5, "the Swagger UI shows only {} operations", operations.len());

    let path = browser.screenshot("docs").await;
    let png = std::fs::read(&path).expect("the screenshot just written");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{} is not a PNG", path.display());
    browser.close().await;
}

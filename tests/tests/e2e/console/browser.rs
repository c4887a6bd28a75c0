//! The console in a real headless Chromium: sign in, a job's live progress from
//! PROCESSING to DONE without a reload, errors filtered by code and paged, a CSV
//! download, a transaction, and what a session may not see. Each page's screenshot is
//! saved (to `RATIFY_SCREENSHOT_DIR`, else `target/screenshots/`; the README's come
//! from a run with `RATIFY_SCREENSHOT_DIR=docs/console`).

use std::time::Duration;

use fantoccini::Locator;
use ratify_tests::browser::Browser;
use ratify_tests::eventually;
use serde_json::{json, Value};

use super::*;

const LIVE: Duration = Duration::from_secs(30);

/// What the page's element `css` says now.
async fn text(browser: &Browser, css: &str) -> String {
    browser.wait_for(css).await.text().await.expect("its text")
}

/// Runs `script` in the page (a returned promise is awaited) and gives back its value.
async fn run(browser: &Browser, script: &str) -> Value {
    browser.client().execute(script, vec![]).await.unwrap_or_else(|e| panic!("{script}: {e}"))
}

async fn path(browser: &Browser) -> String {
    browser.client().current_url().await.expect("the URL").path().to_owned()
}

/// How many rows the table labelled `label` shows.
async fn rows(browser: &Browser, label: &str) -> usize {
    let css = format!("table[aria-label='{label}'] tbody tr");
    browser.client().find_all(Locator::Css(&css)).await.expect("rows").len()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_console_in_a_browser() {
    // Chunks of 100, so a job's progress moves a chunk at a time.
    let stack = Stack::builder().in_process().workers(1).env("RATIFY_CHUNK_SIZE", 100).start().await;
    let mine = stack.advertiser(1001, "SEK", &[("DEFAULT", "percentage", json!(10))]).await;
    let theirs = stack.advertiser(1002, "EUR", &[]).await;
    let ids = mine.record_simple(1001, "SEK", "br", 1000).await;
    let other = theirs.run(1002, &json!([{"action": "approve", "transaction": {"transactionId": 1}}])).await;
    let other = other.body["jobId"].as_str().expect("jobId").to_owned();

    // A gate: the last 500 transactions are locked, so the job stops halfway.
    let mut gate = stack.db.begin().await.expect("a transaction");
    sqlx::query("SELECT id FROM transactions WHERE advertiser_id = 1001 AND id = ANY($1) FOR UPDATE")
        .bind(&ids[500..])
        .fetch_all(&mut *gate)
        .await
        .expect("locking the gate's rows");
    let mut items: Vec<Value> =
        ids.iter().map(|id| json!({"action": "approve", "transaction": {"transactionId": id}})).collect();
    items.extend((0..60).map(|n| json!({"action": "approve", "transaction": {"transactionId": 900_000 + n}})));
    items.push(json!({"action": "nonsense"}));
    let job = mine.submit(1001, &Value::Array(items)).await;

    let browser = Browser::start().await;
    let base = &stack.base_url;
    // Signed out: to the sign-in page.
    browser.goto(&format!("{base}/console/jobs/1001/{job}")).await;
    assert_eq!(path(&browser).await, "/console/sign-in");
    browser.screenshot("sign-in").await;
    browser.wait_for("#token").await.send_keys(mine.token()).await.expect("typing the token");
    browser.wait_for("form.signin button[type=submit]").await.click().await.expect("signing in");
    browser.wait_for("table[aria-label='Jobs']").await;
    assert_eq!(path(&browser).await, "/console/jobs");

    // The job, live: PROCESSING halfway, then DONE, on the same page (no reload).
    browser.goto(&format!("{base}/console/jobs/1001/{job}")).await;
    let halfway = eventually("the job to stop at its gate", LIVE, || async {
        let status = text(&browser, "[data-field='status']").await;
        let value = run(&browser, "return document.getElementById('progress').value").await.as_i64()?;
        (status == "PROCESSING" && value >= 300).then_some(value)
    })
    .await;
    assert!(halfway < 1061, "{halfway}");
    run(&browser, "window.sameDocument = true; return null").await;
    browser.screenshot("job-processing").await;
    gate.commit().await.expect("opening the gate");
    eventually("the page to show DONE", LIVE, || async {
        (text(&browser, "[data-field='status']").await == "DONE").then_some(())
    })
    .await;
    let value = run(&browser, "return document.getElementById('progress').value").await;
    assert_eq!(value, json!(1061), "the bar reaches the total");
    assert!(value.as_i64() > Some(halfway), "the bar moved");
    assert_eq!(run(&browser, "return window.sameDocument === true").await, json!(true), "no full reload");
    assert_eq!(text(&browser, "[data-field='errors']").await, "61");
    browser.wait_for("#finished:not([hidden]) a").await.click().await.expect("to the final outcomes");

    // Its errors: 50 a page, then the rest; filtered by code.
    browser.wait_for("table[aria-label='Errors']").await;
    assert_eq!(rows(&browser, "Errors").await, 50);
    browser.screenshot("job").await;
    browser.wait_for("a[rel=next]").await.click().await.expect("the next page");
    browser.wait_for("table[aria-label='Errors']").await;
    assert_eq!(rows(&browser, "Errors").await, 11);
    browser.goto(&format!("{base}/console/jobs/1001/{job}")).await;
    browser.wait_for("nav.pager a[href$='code=400']").await.click().await.expect("the 400 filter");
    browser.wait_for("table[aria-label='Errors']").await;
    assert_eq!(rows(&browser, "Errors").await, 1);
    assert!(text(&browser, "table[aria-label='Errors'] tbody").await.contains("[400 BAD_REQUEST]"));

    // The CSV download, fetched as the link would with the session.
    let href = browser.wait_for("a[href$='outcomes.csv?output=errors']").await.attr("href").await.expect("href");
    let csv = run(&browser, &format!("return fetch({:?}).then(r => r.text())", href.expect("a link"))).await;
    let csv = csv.as_str().expect("text");
    assert!(csv.starts_with("index,action,transactionId,orderRef,"), "{csv}");
    assert_eq!(csv.lines().count(), 1 + 61);

    // A transaction: its history links back to the job.
    browser.goto(&format!("{base}/console/transactions/1001/{}", ids[0])).await;
    assert!(text(&browser, "dl.facts").await.contains("approved"));
    assert_eq!(rows(&browser, "History").await, 1);
    browser.screenshot("transaction").await;
    browser.wait_for("table[aria-label='History'] a").await.click().await.expect("to the job");
    assert_eq!(path(&browser).await, format!("/console/jobs/1001/{job}"));

    // The list and the health page.
    browser.goto(&format!("{base}/console/jobs")).await;
    assert_eq!(rows(&browser, "Jobs").await, 1, "only this advertiser's job");
    browser.screenshot("jobs").await;
    browser.goto(&format!("{base}/console/health")).await;
    assert!(rows(&browser, "Workers").await >= 1);
    browser.screenshot("health").await;

    // Another advertiser's job is a 404 page.
    browser.goto(&format!("{base}/console/jobs/1002/{other}")).await;
    assert_eq!(text(&browser, "h1").await, "Not found");
    let page = browser.client().source().await.expect("the page");
    assert!(!page.contains("data-field") && !page.contains("<progress"), "nothing of the job is shown: {page}");

    // Signing out ends it.
    browser.wait_for("form.signout button").await.click().await.expect("signing out");
    browser.wait_for("#token").await;
    browser.goto(&format!("{base}/console/jobs")).await;
    assert_eq!(path(&browser).await, "/console/sign-in");
    browser.close().await;
}

//! What the console's pages show, and to whom.

use serde_json::{json, Value};

use super::*;

/// Rows of the first table with `aria-label` in `page` (a crude count of `<tr>` in `<tbody>`).
fn rows(page: &str, table: &str) -> usize {
    let Some(start) = page.find(&format!(r#"aria-label="{table}""#)) else { return 0 };
    let body = &page[start..];
    let end = body.find("</table>").expect("the table ends");
    body[..end].split("<tbody>").nth(1).map_or(0, |b| b.matches("<tr>").count())
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_show_jobs_errors_downloads_transactions_and_health_to_their_advertiser_only() {
    let stack = Stack::builder().in_process().workers(1).start().await;
    let mine = stack.advertiser(1001, "SEK", &[]).await;
    let theirs = stack.advertiser(1002, "EUR", &[]).await;
    let ids = mine.record_simple(1001, "SEK", "cs", 5).await;
    let mut items: Vec<Value> =
        ids.iter().map(|id| json!({"action": "approve", "transaction": {"transactionId": id}})).collect();
    items.extend((0..60).map(|n| json!({"action": "approve", "transaction": {"transactionId": 800_000 + n}})));
    items.push(json!({"action": "nonsense"}));
    items.push(json!({"action": "approve", "transaction": {"orderRef": "=HYPERLINK(1)",
        "transactionDate": "2026-11-14T10:15:00", "timezone": "Europe/Stockholm"}}));
    let job = mine.run(1001, &Value::Array(items)).await;
    let job = job.body["jobId"].as_str().unwrap().to_owned();
    let other = theirs.run(1002, &json!([{"action": "approve", "transaction": {"transactionId": 1}}])).await;
    let other = other.body["jobId"].as_str().unwrap().to_owned();

    let (_, cookie) = sign_in(&stack, mine.token()).await;
    // The list: this advertiser's job, never the other's.
    let (status, _, list) = get(&stack, &cookie, "/console/jobs").await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains(&format!("/console/jobs/1001/{job}")), "{list}");
    assert!(!list.contains(&other[..8]), "another advertiser's job is not listed: {list}");
    assert!(list.contains("<progress") && list.contains("[404 NOT_FOUND]: 61"), "progress and counts by code: {list}");
    assert!(list.contains("[200 OK]: 5") && list.contains("[400 BAD_REQUEST]: 1"), "{list}");
    assert_eq!(rows(&list, "Jobs"), 1);
    let (_, _, filtered) = get(&stack, &cookie, "/console/jobs?status=QUEUED").await;
    assert_eq!(rows(&filtered, "Jobs"), 0, "{filtered}");
    let (_, _, filtered) = get(&stack, &cookie, "/console/jobs?advertiserId=1002").await;
    assert_eq!(rows(&filtered, "Jobs"), 0, "the other advertiser's jobs stay hidden when asked for");
    let (status, _, _) = get(&stack, &cookie, "/console/jobs?status=SOON").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Another advertiser's job is a 404 page, like one that does not exist.
    for path in
        [format!("/console/jobs/1002/{other}"), format!("/console/jobs/1001/{other}"), "/console/jobs/1001/nope".into()]
    {
        let (status, _, page) = get(&stack, &cookie, &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(page.contains("<h1>Not found</h1>"), "{page}");
    }
    let (status, _, _) = get(&stack, &cookie, &format!("/console/jobs/1002/{other}/outcomes.csv")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // One job: its errors 50 a page, filtered by code.
    let (status, _, page) = get(&stack, &cookie, &format!("/console/jobs/1001/{job}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rows(&page, "Errors"), 50, "{page}");
    assert!(page.contains("status-DONE") && !page.contains("data-live"), "a done job is not polled: {page}");
    let next = page.split(r#"rel="next""#).next().and_then(|p| p.rsplit("href=\"").next()).expect("a next link");
    let next = next.split('"').next().unwrap().replace("&amp;", "&");
    let (_, _, second) = get(&stack, &cookie, &next).await;
    assert_eq!(rows(&second, "Errors"), 12, "62 errors: 50, then 12");
    let (_, _, only_400) = get(&stack, &cookie, &format!("/console/jobs/1001/{job}?code=400")).await;
    assert_eq!(rows(&only_400, "Errors"), 1);
    assert!(only_400.contains("nonsense"), "{only_400}");
    let (status, _, _) = get(&stack, &cookie, &format!("/console/jobs/1001/{job}?cursor=forged")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Downloads: CSV streamed here, JSON from the api's own route with the same cookie.
    let (status, _, csv) = get(&stack, &cookie, &format!("/console/jobs/1001/{job}/outcomes.csv?output=errors")).await;
    assert_eq!(status, StatusCode::OK);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "index,action,transactionId,orderRef,transactionDate,timezone,code,description");
    assert_eq!(lines.len(), 1 + 62, "{csv}");
    assert!(csv.contains("'=HYPERLINK(1)"), "a formula is quoted: {csv}");
    let (_, _, all) = get(&stack, &cookie, &format!("/console/jobs/1001/{job}/outcomes.csv?output=all")).await;
    assert_eq!(all.lines().count(), 1 + 67);
    let (status, _, json) =
        get(&stack, &cookie, &format!("/advertisers/1001/transactions/jobs/{job}?output=errors")).await;
    assert_eq!(status, StatusCode::OK);
    let json: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["failedTransactions"].as_array().map(Vec::len), Some(62));

    // A transaction: its values and history, linked to the job that changed it.
    let (status, _, transaction) = get(&stack, &cookie, &format!("/console/transactions/1001/{}", ids[0])).await;
    assert_eq!(status, StatusCode::OK);
    assert!(transaction.contains("approved"), "{transaction}");
    assert!(
        transaction.contains(&format!("/console/jobs/1001/{job}")) && transaction.contains("item 0"),
        "{transaction}"
    );
    let (status, _, _) = get(&stack, &cookie, "/console/transactions/1002/1").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Health: the queues, the outbox, the workers.
    let (status, _, health) = get(&stack, &cookie, "/console/health").await;
    assert_eq!(status, StatusCode::OK);
    assert!(rows(&health, "Queue depths") >= 2, "{health}");
    assert!(health.contains("0 chunks stored") && health.contains("0 jobs not DONE"), "{health}");
    assert!(rows(&health, "Workers") >= 1, "the worker's heartbeat: {health}");

    // The admin sees every advertiser.
    let (_, admin) = sign_in(&stack, &stack.admin_token).await;
    let (_, _, list) = get(&stack, &admin, "/console/jobs").await;
    assert_eq!(rows(&list, "Jobs"), 2, "{list}");
    assert_eq!(get(&stack, &admin, &format!("/console/jobs/1002/{other}")).await.0, StatusCode::OK);
}

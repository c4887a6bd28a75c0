//! A job's outcomes paged and filtered by code, job labels, and the admin list of jobs
//! across advertisers.

use ratify_tests::assert_error;

use super::*;

/// Walks every page of `query` (`output=…&code=…&limit=…`) of a job; returns its items
/// and how many pages it took. Every page is checked against the job's summary.
async fn walk(client: &Client, job: &str, query: &str, list: &str) -> (Vec<Value>, usize) {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        pages += 1;
        assert!(pages <= 100, "paging does not end");
        let path = match &cursor {
            None => format!("/advertisers/1001/transactions/jobs/{job}?{query}"),
            Some(c) => format!("/advertisers/1001/transactions/jobs/{job}?{query}&cursor={c}"),
        };
        let (status, body) = client.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        assert_eq!(body["status"], "DONE", "{body}");
        let page = body[list].as_array().unwrap_or_else(|| panic!("{list} in {body}"));
        items.extend(page.iter().cloned());
        match body["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => {
                assert!(body.get("nextCursor").is_some_and(Value::is_null), "nextCursor is null at the end: {body}");
                return (items, pages);
            }
        }
    }
}

fn codes(items: &[Value]) -> Vec<&str> {
    items.iter().map(|i| i["code"].as_str().expect("code")).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn outcomes_page_by_cursor_and_filter_by_code() {
    // Chunks of 4, so the items of one page come from several chunk documents.
    let stack = Stack::builder().in_process().workers(1).env("RATIFY_CHUNK_SIZE", 4).start().await;
    let (_, _, client) = setup(&stack).await;
    let ids = client.record_simple(1001, "SEK", "pg", 15).await;
    let mut items: Vec<Value> =
        ids.iter().map(|id| json!({"action": "approve", "transaction": {"transactionId": id}})).collect();
    items.extend(ids[..5].iter().map(|id| json!({"action": "approve", "transaction": {"transactionId": id}})));
    items.extend((0..10).map(|n| json!({"action": "approve", "transaction": {"transactionId": 900_000 + n}})));
    items.extend((0..5).map(|_| json!({"action": "nonsense"})));
    let job = client.run(1001, &Value::Array(items)).await;
    let job_id = job.body["jobId"].as_str().expect("jobId").to_owned();

    let (status, whole_all) = client.get(&format!("/advertisers/1001/transactions/jobs/{job_id}?output=all")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(whole_all.get("nextCursor").is_none(), "the unpaged form stays as it was: {whole_all}");
    let whole_all = whole_all["allTransactions"].as_array().expect("allTransactions").clone();
    assert_eq!(whole_all.len(), 35);

    // Pages of 10 give back exactly the unpaged list, in index order.
    let (paged, pages) = walk(&client, &job_id, "output=all&limit=10", "allTransactions").await;
    assert_eq!(paged, whole_all, "pages of 10 concatenate to the whole list");
    assert_eq!(pages, 4, "35 items at 10 a page");
    // A page holds at most `limit` items, and the counts of the whole job.
    let (_, first) = client.get(&format!("/advertisers/1001/transactions/jobs/{job_id}?output=all&limit=10")).await;
    assert_eq!(first["allTransactions"].as_array().map(Vec::len), Some(10), "{first}");
    assert_eq!(first["transactionCount"], 35);
    assert_eq!(first["errorCount"], 15);
    assert!(first["failedTransactions"].is_null(), "{first}");

    // A code filter, paged: only that code, every one of them.
    let (not_found, pages) = walk(&client, &job_id, "output=errors&code=404&limit=3", "failedTransactions").await;
    assert_eq!(codes(&not_found), vec!["[404 NOT_FOUND]"; 10]);
    assert_eq!(pages, 4, "10 items at 3 a page");
    let indexes: Vec<i64> = not_found.iter().map(|i| i["index"].as_i64().expect("index")).collect();
    assert_eq!(indexes, (20..30).collect::<Vec<_>>());
    let (unchanged, _) = walk(&client, &job_id, "output=all&code=304", "allTransactions").await;
    assert_eq!(codes(&unchanged), vec!["[304 NOT_MODIFIED]"; 5], "a code alone pages with the default limit");
    let (none, pages) = walk(&client, &job_id, "output=errors&code=200", "failedTransactions").await;
    assert!(none.is_empty() && pages == 1, "no failed item has 200: {none:?}");
    let (errors, _) = walk(&client, &job_id, "output=errors&limit=10000", "failedTransactions").await;
    assert_eq!(errors.len(), 15);

    // Bad paging is a 400 in the error shape, never a 500.
    let (_, page) = client.get(&format!("/advertisers/1001/transactions/jobs/{job_id}?output=errors&limit=2")).await;
    let errors_cursor = page["nextCursor"].as_str().expect("a cursor").to_owned();
    let other_job = client.submit(1001, &json!([{"action": "approve", "transaction": {"transactionId": 1}}])).await;
    for query in [
        "limit=5".to_owned(),
        "code=404".to_owned(),
        "output=errors&code=201".to_owned(),
        "output=errors&code=abc".to_owned(),
        "output=errors&limit=0".to_owned(),
        "output=errors&limit=10001".to_owned(),
        "output=errors&limit=-1".to_owned(),
        format!("output=all&cursor={errors_cursor}"),
        format!("output=errors&code=404&cursor={errors_cursor}"),
        format!("output=errors&cursor={}x", &errors_cursor[..errors_cursor.len() - 1]),
        "output=errors&cursor=bm90LWEtY3Vyc29y".to_owned(),
    ] {
        let got = client.get(&format!("/advertisers/1001/transactions/jobs/{job_id}?{query}")).await;
        assert_error(&query, &got, StatusCode::BAD_REQUEST);
    }
    let got = client
        .get(&format!("/advertisers/1001/transactions/jobs/{other_job}?output=errors&cursor={errors_cursor}"))
        .await;
    assert_error("another job's cursor", &got, StatusCode::BAD_REQUEST);
    // The cursor continues where it left off.
    let (_, next) = client
        .get(&format!("/advertisers/1001/transactions/jobs/{job_id}?output=errors&limit=2&cursor={errors_cursor}"))
        .await;
    let next = next["failedTransactions"].as_array().expect("a page").clone();
    assert_eq!(next, errors[2..4].to_vec());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_label_is_stored_listed_and_checked() {
    let stack = Stack::builder().in_process().workers(0).start().await;
    let (_, token, client) = setup(&stack).await;
    let bearer = format!("Bearer {token}");
    let label = "cutoff 15th — file 7.csv";
    let mut request = reqwest::Client::new()
        .post(format!("{}/advertisers/1001/transactions/batch", stack.base_url))
        .header("authorization", &bearer)
        .header("content-type", "application/json")
        .header("x-job-label", reqwest::header::HeaderValue::from_bytes(format!("  {label} ").as_bytes()).unwrap());
    request = request.body(APPROVE_ONE);
    let (status, body) = ratify_tests::answer(request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let job = body["jobId"].as_str().expect("jobId").to_owned();
    let (_, got) = client.get(&format!("/advertisers/1001/transactions/jobs/{job}")).await;
    assert_eq!(got["label"], label, "stored as sent, trimmed: {got}");
    let listed = all_jobs(&client, 1001).await;
    assert_eq!(listed[0]["label"], label, "{listed:?}");
    // Without a header, no label (the Awin shape unchanged).
    let plain = client.submit(1001, &serde_json::from_str(APPROVE_ONE).unwrap()).await;
    let (_, got) = client.get(&format!("/advertisers/1001/transactions/jobs/{plain}")).await;
    assert!(got.get("label").is_none(), "{got}");

    let long = "x".repeat(101);
    for bad in [long.as_str(), "   ", "tab\there"] {
        let got = raw(
            &stack,
            Method::POST,
            "/advertisers/1001/transactions/batch",
            Some(&bearer),
            Some("application/json"),
            &[("x-job-label", bad)],
            Some(APPROVE_ONE.as_bytes().to_vec()),
        )
        .await;
        assert_error(&format!("label {bad:?}"), &got, StatusCode::BAD_REQUEST);
    }
    let jobs: i64 = sqlx::query_scalar("SELECT count(*) FROM jobs").fetch_one(&stack.db).await.expect("count");
    assert_eq!(jobs, 2, "a refused label stores nothing");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_admin_lists_jobs_across_advertisers_with_filters() {
    let stack = Stack::builder().in_process().workers(0).start().await;
    let (admin, token, client) = setup(&stack).await;
    let other = stack.advertiser(1002, "EUR", &[]).await;
    let one: Value = serde_json::from_str(APPROVE_ONE).unwrap();
    let a = client.submit(1001, &one).await;
    let b = other.submit(1002, &one).await;
    let labelled = raw(
        &stack,
        Method::POST,
        "/advertisers/1001/transactions/batch",
        Some(&format!("Bearer {token}")),
        Some("application/json"),
        &[("x-job-label", "month-end")],
        Some(APPROVE_ONE.as_bytes().to_vec()),
    )
    .await;
    let c = labelled.1["jobId"].as_str().expect("jobId").to_owned();

    let list = |query: &'static str| {
        let admin = admin.clone();
        async move {
            let (status, body) = admin.get(&format!("/admin/jobs{query}")).await;
            assert_eq!(status, StatusCode::OK, "{query}: {body}");
            let jobs: Vec<(i64, String)> = body["jobs"]
                .as_array()
                .expect("jobs")
                .iter()
                .map(|j| {
                    (j["advertiserId"].as_i64().expect("advertiserId"), j["jobId"].as_str().expect("jobId").to_owned())
                })
                .collect();
            (jobs, body)
        }
    };
    let (all, _) = list("").await;
    assert_eq!(all, vec![(1001, c.clone()), (1002, b.clone()), (1001, a.clone())], "newest first, every advertiser");
    assert_eq!(list("?advertiserId=1002").await.0, vec![(1002, b.clone())]);
    assert_eq!(list("?label=month-end").await.0, vec![(1001, c.clone())]);
    assert_eq!(list("?status=QUEUED&advertiserId=1001").await.0, vec![(1001, c.clone()), (1001, a.clone())]);
    assert!(list("?status=DONE").await.0.is_empty(), "no worker ran");
    assert!(list("?from=2999-01-01").await.0.is_empty());
    assert_eq!(list("?until=2999-01-01T00:00:00Z").await.0.len(), 3);
    let (page, body) = list("?limit=2").await;
    assert_eq!(page.len(), 2);
    let cursor = body["nextCursor"].as_str().expect("a cursor").to_owned();
    let (status, rest) = admin.get(&format!("/admin/jobs?limit=2&cursor={cursor}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rest["jobs"][0]["jobId"], a.as_str());
    assert!(rest["nextCursor"].is_null(), "{rest}");

    for query in
        ["?status=RUNNING", "?advertiserId=abc", "?advertiserId=0", "?from=yesterday", "?limit=0", "?cursor=abc"]
    {
        let got = admin.get(&format!("/admin/jobs{query}")).await;
        assert_error(query, &got, StatusCode::BAD_REQUEST);
    }
    // An advertiser's own list cursor does not page the admin list.
    let (_, own) = client.get("/advertisers/1001/transactions/jobs?limit=1").await;
    let own = own["nextCursor"].as_str().expect("a cursor");
    assert_error(
        "an advertiser's cursor",
        &admin.get(&format!("/admin/jobs?cursor={own}")).await,
        StatusCode::BAD_REQUEST,
    );
    // Only the admin token.
    assert_error("an advertiser token", &client.get("/admin/jobs").await, StatusCode::UNAUTHORIZED);
}

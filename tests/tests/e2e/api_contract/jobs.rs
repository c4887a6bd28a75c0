//! Job listing with pagination, and job status: its errors and shape.

use ratify_tests::assert_error;

use super::*;

// ---------------------------------------------------------------------------------------
// Job list
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn job_list_pagination() {
    let stack = Stack::builder().in_process().workers(0).start().await;
    let (_, _, client) = setup(&stack).await;

    let mut created = Vec::new();
    for i in 0..5 {
        let items: Vec<Value> =
            (0..=i).map(|n| json!({"action": "approve", "transaction": {"transactionId": n + 1}})).collect();
        created.push(client.submit(1001, &Value::Array(items)).await);
    }
    let newest_first: Vec<String> = created.iter().rev().cloned().collect();

    // One page: newest first, no item lists.
    let jobs = all_jobs(&client, 1001).await;
    let ids: Vec<String> = jobs.iter().map(|j| j["jobId"].as_str().expect("jobId").to_owned()).collect();
    assert_eq!(ids, newest_first, "jobs are listed newest first");
    for (job, expected_count) in jobs.iter().zip([5, 4, 3, 2, 1]) {
        assert_eq!(job["transactionCount"], json!(expected_count), "{job}");
        assert!(job["status"].is_string(), "{job}");
        assert!(job["creationDate"].is_string(), "{job}");
        for list in ["failedTransactions", "allTransactions"] {
            assert!(job.get(list).is_none_or(Value::is_null), "the job list carries no item lists: {job}");
        }
    }
    let dates: Vec<&str> = jobs.iter().map(|j| j["creationDate"].as_str().expect("creationDate")).collect();
    let mut descending = dates.clone();
    descending.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(dates, descending, "creationDate descends");

    // Pages of 2 walk every job exactly once, in the same order.
    let mut walked = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        pages += 1;
        assert!(pages <= 10, "pagination does not end");
        let path = match &cursor {
            None => "/advertisers/1001/transactions/jobs?limit=2".to_owned(),
            Some(c) => format!("/advertisers/1001/transactions/jobs?limit=2&cursor={c}"),
        };
        let (status, body) = client.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let page = body["jobs"].as_array().expect("jobs");
        assert!(page.len() <= 2, "limit is honoured: {body}");
        walked.extend(page.iter().map(|j| j["jobId"].as_str().expect("jobId").to_owned()));
        match body["nextCursor"].as_str() {
            Some(c) => {
                assert!(!page.is_empty(), "a page with a cursor has jobs");
                cursor = Some(c.to_owned());
            }
            None => {
                assert!(body["nextCursor"].is_null(), "{body}");
                break;
            }
        }
    }
    assert_eq!(walked, newest_first, "pagination walks every job once, newest first");
    assert!(pages >= 3, "5 jobs at 2 per page take at least 3 pages");

    // Only the last 60 days are listed.
    sqlx::query("UPDATE jobs SET created_at = now() - interval '61 days' WHERE id = $1::uuid")
        .bind(&created[0])
        .execute(&stack.db)
        .await
        .expect("backdate the oldest job");
    let listed: Vec<Value> = all_jobs(&client, 1001).await;
    let listed: Vec<&str> = listed.iter().map(|j| j["jobId"].as_str().expect("jobId")).collect();
    assert_eq!(listed, newest_first[..4].iter().map(String::as_str).collect::<Vec<_>>());

    // Bad parameters.
    for query in ["limit=0", "limit=-1", "limit=100000", "limit=abc", "limit=1.5"] {
        let got = client.get(&format!("/advertisers/1001/transactions/jobs?{query}")).await;
        assert_error(query, &got, StatusCode::BAD_REQUEST);
    }
    for cursor in ["garbage", "123.not-a-uuid", "abc.6f1c5f62-3a8b-4f0e-9a43-6d5b8e8c0d11", ""] {
        let got = client.get(&format!("/advertisers/1001/transactions/jobs?cursor={cursor}")).await;
        assert_error(&format!("cursor {cursor:?}"), &got, StatusCode::BAD_REQUEST);
    }
}

// ---------------------------------------------------------------------------------------
// Job status
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn job_status_errors_and_shape() {
    let stack = Stack::builder().in_process().workers(1).start().await;
    let (_, _, client) = setup(&stack).await;
    let ids = client.record_simple(1001, "SEK", "S", 2).await;
    let job = client
        .submit(
            1001,
            &json!([
                {"action": "approve", "transaction": {"transactionId": ids[0]}},
                {"action": "approve", "transaction": {"transactionId": 999_999_999}},
                {"action": "approve", "transaction": {"transactionId": ids[1]}}
            ]),
        )
        .await;

    let got = client.get("/advertisers/1001/transactions/jobs/6f1c5f62-3a8b-4f0e-9a43-6d5b8e8c0d11").await;
    assert_error("unknown job id", &got, StatusCode::NOT_FOUND);
    let got = client.get("/advertisers/1001/transactions/jobs/not-a-uuid").await;
    assert_error("non-UUID job id", &got, StatusCode::NOT_FOUND);
    let got = client.get(&format!("/advertisers/1001/transactions/jobs/{job}?output=bogus")).await;
    assert_error("output=bogus", &got, StatusCode::BAD_REQUEST);

    let done = client.wait_done(1001, &job).await;
    let (status, summary) = client.get(&format!("/advertisers/1001/transactions/jobs/{job}")).await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!(summary["jobId"], json!(job));
    assert_eq!(summary["status"], "DONE");
    assert_eq!(summary["transactionCount"], json!(3));
    assert_eq!(summary["processedCount"], json!(3));
    assert_eq!(summary["errorCount"], json!(1));
    assert_eq!(summary["transactions"], summary["transactionCount"]);
    assert_eq!(summary["errors"], summary["errorCount"]);
    assert!(summary["completionDate"].is_string(), "{summary}");
    assert!(summary["failedTransactions"].is_null(), "{summary}");
    assert!(summary["allTransactions"].is_null(), "{summary}");

    assert_eq!(done.items().len(), 3);
    assert_eq!(done.code(0), "[200 OK]");
    assert_eq!(done.code(1), "[404 NOT_FOUND]");
    assert_eq!(done.code(2), "[200 OK]");
    assert!(done.body["failedTransactions"].is_null());

    let (status, errors) = client.get(&format!("/advertisers/1001/transactions/jobs/{job}?output=errors")).await;
    assert_eq!(status, StatusCode::OK, "{errors}");
    let failed = errors["failedTransactions"].as_array().expect("failedTransactions");
    assert_eq!(failed.len(), 1, "{errors}");
    assert_eq!(failed[0]["index"], json!(1));
    assert_eq!(failed[0]["code"], "[404 NOT_FOUND]");
    assert!(failed[0]["description"].as_str().is_some_and(|d| !d.is_empty()), "{errors}");
    assert!(errors["allTransactions"].is_null(), "{errors}");
}

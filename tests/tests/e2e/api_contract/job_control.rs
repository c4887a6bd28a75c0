//! Dry runs (`?dryRun=true`), cancelling a job and retrying its `[500]` items.

use std::time::Duration;

use super::*;

fn job_path(job: &str) -> String {
    format!("/advertisers/1001/transactions/jobs/{job}")
}

async fn history_rows(stack: &Stack) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM transaction_history WHERE advertiser_id = 1001")
        .fetch_one(&stack.db)
        .await
        .expect("counting the history")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_gives_the_outcomes_and_changes_nothing() {
    let stack = Stack::builder().in_process().workers(1).start().await;
    let (_, _, client) = setup(&stack).await;
    let ids = client.record_simple(1001, "SEK", "dry", 3).await;
    let before: Vec<Value> = futures::future::join_all(ids.iter().map(|id| client.transaction(1001, *id))).await;
    let items = json!([
        {"action": "approve", "transaction": {"transactionId": ids[0]}},
        {"action": "decline", "transaction": {"transactionId": ids[1]}},
        {"action": "amend", "transaction": {"transactionId": ids[2], "amendReason": "r", "currency": "SEK",
         "saleAmount": 10, "transactionParts": [{"amount": 10, "commissionGroupCode": "DEFAULT"}]}},
        // Items of one transaction see each other in a dry run too: amended, then approved.
        {"action": "approve", "transaction": {"transactionId": ids[2]}},
        {"action": "decline", "transaction": {"transactionId": ids[2], "declineReason": "late"}},
        {"action": "approve", "transaction": {"transactionId": 987_654_321}},
    ]);
    let (status, body) = client.post("/advertisers/1001/transactions/batch?dryRun=true", &items).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let job = body["jobId"].as_str().expect("jobId").to_owned();
    client.wait_until_done(1001, &job, Duration::from_secs(60)).await;
    let (_, dry) = client.get(&format!("{}?output=all", job_path(&job))).await;
    assert_eq!(dry["dryRun"], true, "{dry}");
    let codes = |job: &Value| -> Vec<String> {
        job["allTransactions"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["code"].as_str().unwrap().to_owned())
            .collect()
    };
    let want =
        ["[200 OK]", "[400 BAD_REQUEST]", "[200 OK]", "[200 OK]", "[422 UNPROCESSABLE_ENTITY]", "[404 NOT_FOUND]"];
    assert_eq!(codes(&dry), want, "{dry}");
    // Nothing changed: the transactions are as they were, no history.
    let after: Vec<Value> = futures::future::join_all(ids.iter().map(|id| client.transaction(1001, *id))).await;
    assert_eq!(before, after);
    assert_eq!(history_rows(&stack).await, 0);

    // The same body for real gets the same outcomes and writes them.
    let real = client.run(1001, &items).await;
    assert!(real.body.get("dryRun").is_none(), "a real job has no dryRun: {}", real.body);
    assert_eq!(codes(&real.body), want);
    assert_eq!(history_rows(&stack).await, 3);

    // The same key for a dry run and the real thing names two requests.
    let key = [("idempotency-key", "k-dry")];
    let body = serde_json::to_vec(&items).unwrap();
    let path = "/advertisers/1001/transactions/batch";
    let (status, _) = raw(
        &stack,
        Method::POST,
        &format!("{path}?dryRun=true"),
        Some(&format!("Bearer {}", client.token())),
        Some("application/json"),
        &key,
        Some(body.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let got = raw(
        &stack,
        Method::POST,
        path,
        Some(&format!("Bearer {}", client.token())),
        Some("application/json"),
        &key,
        Some(body),
    )
    .await;
    assert_eq!((got.0, got.1["error"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("IDEMPOTENCY_KEY_REUSED")));
    let got = client.post(&format!("{path}?dryRun=maybe"), &items).await;
    assert_eq!(got.0, StatusCode::BAD_REQUEST, "{}", got.1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cancelled_job_is_done_and_its_unapplied_items_are_409() {
    // No worker: nothing is applied until the test starts one.
    let mut stack = Stack::builder().workers(0).env("RATIFY_CHUNK_SIZE", 10).start().await;
    let (_, _, client) = setup(&stack).await;
    let ids = client.record_simple(1001, "SEK", "cancel", 30).await;
    let items: Vec<Value> =
        ids.iter().map(|id| json!({"action": "approve", "transaction": {"transactionId": id}})).collect();
    let job = client.submit(1001, &Value::Array(items)).await;
    let got = client.post(&format!("{}/retry", job_path(&job)), &json!(null)).await;
    assert_eq!((got.0, got.1["error"].clone()), (StatusCode::CONFLICT, json!("JOB_NOT_DONE")), "{}", got.1);

    let (status, body) = client.post(&format!("{}/cancel", job_path(&job)), &json!(null)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((body["status"].clone(), body["cancelled"].clone()), (json!("DONE"), json!(true)), "{body}");
    assert_eq!((body["processedCount"].clone(), body["errorCount"].clone()), (json!(30), json!(30)), "{body}");
    let (_, all) = client.get(&format!("{}?output=all", job_path(&job))).await;
    let items = all["allTransactions"].as_array().expect("items");
    assert_eq!(items.len(), 30);
    assert!(items.iter().all(|i| i["code"] == "[409 CANCELLED]" && i["description"].is_string()), "{all}");
    assert_eq!(items[7]["transactionId"], json!(ids[7]), "{all}");
    let (status, page) = client.get(&format!("{}?output=errors&code=409&limit=5", job_path(&job))).await;
    assert_eq!((status, page["failedTransactions"].as_array().map(Vec::len)), (StatusCode::OK, Some(5)), "{page}");

    // Again: the same answer. A worker started now finds its chunks done and applies nothing.
    let (status, again) = client.post(&format!("{}/cancel", job_path(&job)), &json!(null)).await;
    assert_eq!((status, again["cancelled"].clone()), (StatusCode::OK, json!(true)), "{again}");
    stack.add_worker().expect("a worker");
    let other = client.submit(1001, &json!([{"action": "approve", "transaction": {"transactionId": ids[0]}}])).await;
    client.wait_until_done(1001, &other, Duration::from_secs(60)).await;
    assert_eq!(history_rows(&stack).await, 1, "only the second job applied anything");
    let (_, still) = client.get(&job_path(&job)).await;
    assert_eq!(still["errorCount"], json!(30), "{still}");

    // A job that is DONE cannot be cancelled; an unknown one is a 404.
    let got = client.post(&format!("{}/cancel", job_path(&other)), &json!(null)).await;
    assert_eq!((got.0, got.1["error"].clone()), (StatusCode::CONFLICT, json!("JOB_DONE")), "{}", got.1);
    let (_, done) = client.get(&job_path(&other)).await;
    assert!(done.get("cancelled").is_none(), "{done}");
    let got = client.post(&format!("{}/cancel", job_path(&uuid::Uuid::new_v4().to_string())), &json!(null)).await;
    assert_eq!((got.0, got.1["error"].clone()), (StatusCode::NOT_FOUND, json!("JOB_NOT_FOUND")));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retry_applies_the_500_items_again_in_a_linked_job() {
    let stack = Stack::builder().in_process().workers(1).start().await;
    let (_, _, client) = setup(&stack).await;
    let ids = client.record_simple(1001, "SEK", "retry", 6).await;
    // Two transactions whose stored state cannot be read: their items end [500]. (The
    // test's database is its own.)
    sqlx::query("ALTER TABLE transactions DROP CONSTRAINT transactions_commission_status_check")
        .execute(&stack.db)
        .await
        .expect("dropping the check");
    sqlx::query("UPDATE transactions SET commission_status = 'bogus' WHERE advertiser_id = 1001 AND id = ANY($1)")
        .bind(vec![ids[1], ids[4]])
        .execute(&stack.db)
        .await
        .expect("breaking two transactions");
    let mut items: Vec<Value> =
        ids.iter().map(|id| json!({"action": "approve", "transaction": {"transactionId": id}})).collect();
    items.push(json!({"action": "approve", "transaction": {"transactionId": 987_654_321}}));
    let first = client.run(1001, &Value::Array(items)).await;
    let first_id = first.body["jobId"].as_str().expect("jobId").to_owned();
    let internal: Vec<usize> = (0..7).filter(|i| first.code(*i) == "[500 INTERNAL_SERVER_ERROR]").collect();
    assert_eq!(internal, [1, 4], "{}", first.body);

    // Repaired, the two are retried; the 404 is not.
    sqlx::query("UPDATE transactions SET commission_status = 'pending' WHERE advertiser_id = 1001 AND id = ANY($1)")
        .bind(vec![ids[1], ids[4]])
        .execute(&stack.db)
        .await
        .expect("repairing them");
    let (status, body) = client.post(&format!("{}/retry", job_path(&first_id)), &json!(null)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let retry_id = body["jobId"].as_str().expect("jobId").to_owned();
    let retry = client.wait_done(1001, &retry_id).await;
    assert_eq!(retry.body["retryOf"], json!(first_id), "{}", retry.body);
    assert_eq!(retry.body["transactionCount"], 2);
    assert_eq!(
        retry.items().iter().map(|i| i["transactionId"].clone()).collect::<Vec<_>>(),
        [json!(ids[1]), json!(ids[4])]
    );
    assert!(retry.items().iter().all(|i| i["code"] == "[200 OK]"), "{}", retry.body);
    let (_, linked) = client.get(&job_path(&first_id)).await;
    assert_eq!(linked["retriedBy"], json!(retry_id), "{linked}");
    for id in [ids[1], ids[4]] {
        assert_eq!(client.transaction(1001, id).await["commissionStatus"], "approved");
    }

    // Retrying again answers the same job; a job without [500] items has none to retry.
    let (_, again) = client.post(&format!("{}/retry", job_path(&first_id)), &json!(null)).await;
    assert_eq!(again["jobId"], json!(retry_id));
    let got = client.post(&format!("{}/retry", job_path(&retry_id)), &json!(null)).await;
    assert_eq!((got.0, got.1["error"].clone()), (StatusCode::CONFLICT, json!("NOTHING_TO_RETRY")), "{}", got.1);
}

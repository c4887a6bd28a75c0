//! One action on one transaction, applied before the answer
//! (`POST /advertisers/{aid}/transactions/{id}/actions`): the batch's codes, its history,
//! its idempotency keys.

use ratify_tests::assert_error;

use super::*;

/// The action's answer: status, the `X-Job-Id` header, the body (JSON, or null when empty).
async fn act(client: &Client, path: &str, body: &str, headers: &[(&str, &str)]) -> (StatusCode, Option<String>, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}{path}", client.base()))
        .bearer_auth(client.token())
        .header("content-type", "application/json")
        .body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("the action's request");
    let status = response.status();
    let job = response.headers().get("x-job-id").map(|v| v.to_str().expect("ascii").to_owned());
    let text = response.text().await.expect("the body");
    let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
    (status, job, body)
}

#[tokio::test(flavor = "multi_thread")]
async fn one_action_is_applied_before_the_answer_with_the_batch_s_codes() {
    // No worker at all: the api applies the action itself.
    let stack = Stack::builder().in_process().workers(0).start().await;
    let (_, _, client) = setup(&stack).await;
    let ids = client.record_simple(1001, "SEK", "now", 4).await;
    let path = |id: i64| format!("/advertisers/1001/transactions/{id}/actions");

    let (status, job, body) = act(&client, &path(ids[0]), r#"{"action": "approve"}"#, &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["commissionStatus"], "approved", "{body}");
    let job = job.expect("X-Job-Id");
    let history = body["history"].as_array().expect("history");
    assert_eq!(history.len(), 1, "{body}");
    assert_eq!(history[0]["jobId"], json!(job), "the history names the action's job: {body}");
    assert_eq!(history[0]["itemIndex"], 0, "{body}");
    // Its job is an ordinary one-item job, DONE.
    let (status, summary) = client.get(&format!("/advertisers/1001/transactions/jobs/{job}?output=all")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(summary["status"], "DONE", "{summary}");
    assert_eq!(summary["allTransactions"][0]["code"], "[200 OK]", "{summary}");

    // Already so: 304 without a body. The state forbids it: 422 in the error shape.
    let (status, _, body) = act(&client, &path(ids[0]), r#"{"action": "approve"}"#, &[]).await;
    assert_eq!((status, body), (StatusCode::NOT_MODIFIED, Value::Null));
    let (status, _, body) = act(&client, &path(ids[0]), r#"{"action": "decline", "declineReason": "late"}"#, &[]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"], "UNPROCESSABLE_ENTITY", "{body}");
    assert!(body["description"].as_str().is_some_and(|d| d.contains("approved")), "{body}");

    // No such transaction: 404. Malformed: 400, naming the field, and nothing stored.
    let (status, _, body) = act(&client, &path(987_654_321), r#"{"action": "approve"}"#, &[]).await;
    assert_eq!((status, body["error"].clone()), (StatusCode::NOT_FOUND, json!("TRANSACTION_NOT_FOUND")), "{body}");
    let jobs_before = client.get("/advertisers/1001/transactions/jobs").await.1["jobs"].as_array().map(Vec::len);
    for (bad, names) in [
        (r#"{"action": "decline"}"#, "declineReason"),
        (r#"{"action": "approve", "transactionId": 5}"#, "transactionId"),
        (
            r#"{"action": "amend", "amendReason": "x", "currency": "SEK", "saleAmount": -1,
             "transactionParts": [{"amount": 1, "commissionGroupCode": "DEFAULT"}]}"#,
            "saleAmount",
        ),
        (r#"{"action": "cancel"}"#, "cancel"),
    ] {
        let (status, _, body) = act(&client, &path(ids[1]), bad, &[]).await;
        assert_eq!((status, body["error"].clone()), (StatusCode::BAD_REQUEST, json!("BAD_REQUEST")), "{bad}: {body}");
        assert!(body["description"].as_str().is_some_and(|d| d.contains(names)), "{bad}: {body}");
    }
    let (status, _, body) = act(&client, &path(ids[1]), r#"[{"action": "approve"}]"#, &[]).await;
    assert_eq!((status, body["error"].clone()), (StatusCode::BAD_REQUEST, json!("JSON_PARSE_ERROR")), "{body}");
    let jobs_after = client.get("/advertisers/1001/transactions/jobs").await.1["jobs"].as_array().map(Vec::len);
    assert_eq!(jobs_before, jobs_after, "a malformed action stores no job");

    // Amend and approve at once, to the cent.
    let amend = r#"{"action": "amend", "approve": true, "amendReason": "partial return", "currency": "SEK",
                    "saleAmount": 80.10, "transactionParts": [{"amount": 80.10, "commissionGroupCode": "DEFAULT"}]}"#;
    let (status, _, body) = act(&client, &path(ids[2]), amend, &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((body["commissionStatus"].clone(), body["amended"].clone()), (json!("approved"), json!(true)), "{body}");
    assert_eq!(body["saleAmount"]["amount"], json!(80.10), "{body}");

    // The same key and body: the first answer's outcome, applied once. Another body: 422.
    let key = [("idempotency-key", "desk-ticket-4411")];
    let decline = r#"{"action": "decline", "declineReason": "order returned"}"#;
    let (first, first_job, _) = act(&client, &path(ids[3]), decline, &key).await;
    let (again, again_job, body) = act(&client, &path(ids[3]), decline, &key).await;
    assert_eq!((first, again), (StatusCode::OK, StatusCode::OK), "{body}");
    assert_eq!(first_job, again_job);
    assert_eq!(body["history"].as_array().map(Vec::len), Some(1), "applied once: {body}");
    let (status, _, body) = act(&client, &path(ids[3]), r#"{"action": "approve"}"#, &key).await;
    assert_eq!((status, body["error"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("IDEMPOTENCY_KEY_REUSED")));

    // Another advertiser's token is refused.
    let other = stack.advertiser(1002, "SEK", &[]).await;
    let got = other.post(&path(ids[1]), &json!({"action": "approve"})).await;
    assert_error("another advertiser's action", &got, StatusCode::FORBIDDEN);
}

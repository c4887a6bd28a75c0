//! Deeply nested JSON in batches, items, recording and admin bodies.

use ratify_tests::assert_error;

use super::*;

fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

#[tokio::test(flavor = "multi_thread")]
async fn deeply_nested_json_is_refused_or_isolated_and_the_server_stays_up() {
    let stack = Stack::builder().workers(1).start().await;
    let (_, client) = setup(&stack).await;
    let ids = client.record_simple(ADV, "SEK", "N", 2).await;
    let deep = nested(200); // serde_json's recursion limit is 128

    // A batch whose one element is 200 nested arrays: the array is read, the element is not
    // an object, so it is that item's 400 (docs/api.md §4), and the batch goes on. The same
    // 100,000 levels deep (far past any recursion) is handled alike; unbalanced, it is no
    // JSON at all.
    for depth in [200, 100_000] {
        let body = format!(
            "[{}, {{\"action\": \"approve\", \"transaction\": {{\"transactionId\": {}}}}}]",
            nested(depth),
            ids[0]
        );
        let got = client.send_raw(BATCH, "application/json", body).await;
        assert_eq!(got.0, StatusCode::OK, "a batch with a {depth}-deep element: {}", got.1);
        let job = client.wait_done(ADV, got.1["jobId"].as_str().expect("jobId")).await;
        assert_item(&job, 0, "[400 BAD_REQUEST]", "object");
        assert!(["[200 OK]", "[304 NOT_MODIFIED]"].contains(&job.code(1)), "{:?}", job.body);
    }
    let got = client.send_raw(BATCH, "application/json", "[".repeat(100_000)).await;
    assert_eq!(assert_error("100,000 unclosed brackets", &got, StatusCode::BAD_REQUEST), "JSON_PARSE_ERROR");

    // Deep nesting inside an item: in a field it reads, that item is a 400 naming the field;
    // in a field it does not know, it is ignored like any unknown field.
    let raw_items = format!(
        "[{{\"action\": \"approve\", \"transaction\": {{\"transactionId\": {deep}}}}},\
          {{\"action\": \"decline\", \"transaction\": {{\"transactionId\": {id}, \"declineReason\": {deep}}}}},\
          {{\"action\": \"amend\", \"transaction\": {{\"transactionId\": {id}, \"amendReason\": \"x\", \
             \"currency\": \"SEK\", \"saleAmount\": 1, \"transactionParts\": {deep}}}}},\
          {{\"action\": {deep}, \"transaction\": {{\"transactionId\": {id}}}}},\
          {{\"action\": \"approve\", \"extra\": {deep}, \"transaction\": {{\"transactionId\": {id}, \"x\": {deep}}}}}]",
        id = ids[1]
    );
    let got = client.send_raw(BATCH, "application/json", raw_items).await;
    assert_eq!(got.0, StatusCode::OK, "{}", got.1);
    let job = client.wait_done(ADV, got.1["jobId"].as_str().expect("jobId")).await;
    assert_item(&job, 0, "[400 BAD_REQUEST]", "transactionId");
    assert_item(&job, 1, "[400 BAD_REQUEST]", "declineReason");
    assert_item(&job, 2, "[400 BAD_REQUEST]", "transactionParts");
    assert_item(&job, 3, "[400 BAD_REQUEST]", "action");
    assert_item(&job, 4, "[200 OK]", "");

    // Recording and admin bodies that are 200 nested arrays: a 400 in the error shape.
    let got = client.send_raw(INGEST, "application/json", deep.clone()).await;
    assert_error("recording 200 nested arrays", &got, StatusCode::BAD_REQUEST);
    let got = client.send_raw(INGEST, "application/json", format!("[{{\"orderRef\": {deep}}}]")).await;
    assert_error("recording an orderRef of 200 nested arrays", &got, StatusCode::BAD_REQUEST);
    let admin = stack.admin();
    let got = admin.send_raw("/admin/tokens", "application/json", deep.clone()).await;
    assert_eq!(assert_error("admin body of 200 nested arrays", &got, StatusCode::BAD_REQUEST), "JSON_PARSE_ERROR");
    let got =
        admin.send_raw("/admin/advertisers", "application/json", format!("{{\"id\": 7, \"name\": {deep}}}")).await;
    assert_eq!(assert_error("admin name of 200 nested arrays", &got, StatusCode::BAD_REQUEST), "JSON_PARSE_ERROR");
    let got = admin.send_raw("/admin/advertisers", "application/json", "{\"a\":".repeat(100_000)).await;
    assert_eq!(assert_error("100,000 unclosed objects", &got, StatusCode::BAD_REQUEST), "JSON_PARSE_ERROR");

    // Still healthy: the same processes answer and apply a new job.
    let health = reqwest::get(format!("{}/health", stack.base_url)).await.expect("health");
    assert_eq!(health.status(), StatusCode::OK);
    let job = client
        .run(ADV, &json!([{"action": "decline", "transaction": {"transactionId": ids[0], "declineReason": "x"}}]))
        .await;
    assert!(["[200 OK]", "[422 UNPROCESSABLE_ENTITY]"].contains(&job.code(0)), "{:?}", job.body);
}

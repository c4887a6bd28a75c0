//! Limits inside a request: field lengths and part counts, in batch items and recorded
//! transactions, and the Idempotency-Key header.

use ratify_tests::assert_error;

use super::*;

// ---------------------------------------------------------------------------------------
// Field lengths and part counts
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn over_long_fields_are_item_400s_and_the_batch_goes_on() {
    let stack = Stack::builder().workers(1).start().await;
    let admin = stack.admin();
    // DEFAULT and 99 more groups: an amend with 100 parts can apply.
    let mut groups = vec![("DEFAULT".to_owned(), "percentage", json!(10))];
    groups.extend((1..100).map(|g| (format!("G{g:02}"), "percentage", json!(1))));
    let groups: Vec<(&str, &str, Value)> = groups.iter().map(|(c, k, v)| (c.as_str(), *k, v.clone())).collect();
    admin.create_advertiser(ADV, "SEK", &groups).await;
    let token = admin.create_token(&[ADV]).await;
    let client = stack.client(&token);
    let ids = client.record_simple(ADV, "SEK", "F", 9).await;

    let parts = |n: usize| -> Vec<Value> {
        (0..n)
            .map(|p| {
                let code = if p == 0 { "DEFAULT".to_owned() } else { format!("G{p:02}") };
                json!({"commissionGroupCode": code, "amount": 1})
            })
            .collect()
    };
    // Each part is 1 SEK and the sale their sum, so every amend changes the transaction.
    let amend = |id: i64, reason: &str, parts: Vec<Value>| {
        json!({"action": "amend", "transaction": {"transactionId": id, "amendReason": reason, "currency": "SEK",
               "saleAmount": parts.len(), "transactionParts": parts}})
    };
    let decline = |id: i64, reason: &str| json!({"action": "decline", "transaction": {"transactionId": id, "declineReason": reason}});
    let by_order_ref = |order_ref: &str| {
        json!({"action": "approve", "transaction": {"orderRef": order_ref, "transactionDate": "2026-11-14T10:15:00",
               "timezone": "Europe/Stockholm"}})
    };
    let items = json!([
        decline(ids[0], &"r".repeat(1001)),
        decline(ids[1], &"r".repeat(1000)),
        // Characters, not bytes: 1000 two-byte characters are within the limit.
        decline(ids[2], &"é".repeat(1000)),
        decline(ids[3], &"é".repeat(1001)),
        amend(ids[4], &"a".repeat(1001), parts(1)),
        amend(ids[5], &"a".repeat(1000), parts(1)),
        by_order_ref(&"o".repeat(256)),
        // 255 characters is a valid reference; no such transaction.
        by_order_ref(&"o".repeat(255)),
        amend(ids[6], "too many parts", parts(101)),
        amend(ids[7], "as many parts as allowed", parts(100)),
        {"action": "approve", "transaction": {"transactionId": ids[8]}},
    ]);
    let job = client.run(ADV, &items).await;
    assert_item(&job, 0, "[400 BAD_REQUEST]", "declineReason");
    assert_item(&job, 1, "[200 OK]", "");
    assert_item(&job, 2, "[200 OK]", "");
    assert_item(&job, 3, "[400 BAD_REQUEST]", "declineReason");
    assert_item(&job, 4, "[400 BAD_REQUEST]", "amendReason");
    assert_item(&job, 5, "[200 OK]", "");
    assert_item(&job, 6, "[400 BAD_REQUEST]", "orderRef");
    assert_item(&job, 7, "[404 NOT_FOUND]", "");
    assert_item(&job, 8, "[400 BAD_REQUEST]", "transactionParts");
    assert_item(&job, 9, "[200 OK]", "");
    assert_item(&job, 10, "[200 OK]", "");
    assert_eq!(job.body["transactionCount"], json!(11));
    assert_eq!(job.body["errorCount"], json!(6));

    // The refused items changed nothing; the accepted ones kept their text whole.
    for i in [0, 3, 4, 6] {
        let tx = client.transaction(ADV, ids[i]).await;
        assert_eq!(tx["commissionStatus"], "pending", "{tx}");
        assert_eq!(tx["amended"], json!(false), "{tx}");
    }
    let tx = client.transaction(ADV, ids[2]).await;
    assert_eq!(tx["declineReason"], json!("é".repeat(1000)));
    let tx = client.transaction(ADV, ids[7]).await;
    assert_eq!(tx["transactionParts"].as_array().map(Vec::len), Some(100), "{tx}");
}

#[tokio::test(flavor = "multi_thread")]
async fn recording_refuses_over_long_order_refs_and_too_many_parts() {
    let stack = Stack::builder().workers(0).start().await;
    let (_, client) = setup(&stack).await;

    let got = client.post(INGEST, &json!([sale(&"o".repeat(255))])).await;
    assert_eq!(got.0, StatusCode::CREATED, "an orderRef of 255 characters: {}", got.1);
    let before = transaction_count(&stack).await;

    // One over: 400 naming the item and the field, and nothing of the request is recorded.
    let got = client.post(INGEST, &json!([sale("ok-before"), sale(&"o".repeat(256))])).await;
    assert_eq!(assert_error("orderRef of 256 characters", &got, StatusCode::BAD_REQUEST), "BAD_REQUEST");
    let description = got.1["description"].as_str().unwrap_or_default();
    assert!(description.contains("item 1") && description.contains("orderRef"), "{}", got.1);

    let mut row = sale("many-parts");
    row["transactionParts"] = Value::Array(
        (0..101).map(|p| json!({"commissionGroupCode": format!("P{p}"), "amount": 0})).collect::<Vec<_>>(),
    );
    let got = client.post(INGEST, &json!([sale("ok-before"), row])).await;
    assert_eq!(assert_error("101 transactionParts", &got, StatusCode::BAD_REQUEST), "BAD_REQUEST");
    let description = got.1["description"].as_str().unwrap_or_default();
    assert!(description.contains("item 1") && description.contains("transactionParts"), "{}", got.1);
    assert_eq!(transaction_count(&stack).await, before, "a refused request records nothing");
}

/// `orderRef` is "1 to 255 characters" (the OpenAPI document, the error message, and the
/// batch route, which counts characters): recording must count characters too, not bytes,
/// or a transaction whose orderRef a batch may name cannot be recorded.
#[tokio::test(flavor = "multi_thread")]
async fn recording_counts_order_ref_characters_not_bytes() {
    let stack = Stack::builder().workers(0).start().await;
    let (_, client) = setup(&stack).await;
    let got = client.post(INGEST, &json!([sale(&"é".repeat(256))])).await;
    assert_error("orderRef of 256 two-byte characters", &got, StatusCode::BAD_REQUEST);
    let got = client.post(INGEST, &json!([sale(&"é".repeat(255))])).await;
    assert_eq!(got.0, StatusCode::CREATED, "an orderRef of 255 two-byte characters (510 bytes): {}", got.1);
}

// ---------------------------------------------------------------------------------------
// Idempotency-Key
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn idempotency_keys_over_255_characters_are_400() {
    let stack = Stack::builder().workers(0).start().await;
    let (token, _) = setup(&stack).await;
    let http = reqwest::Client::new();
    let post = |key: reqwest::header::HeaderValue| {
        let request = http
            .post(format!("{}{BATCH}", stack.base_url))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .header("idempotency-key", key)
            .body(approve_batch(1));
        async move { ratify_tests::answer(request).await }
    };
    let value = |s: &str| reqwest::header::HeaderValue::from_str(s).expect("header value");
    let got = post(value(&"k".repeat(255))).await;
    assert_eq!(got.0, StatusCode::OK, "a key of 255 characters: {}", got.1);
    let jobs = job_count(&stack).await;
    for (what, key) in [
        ("256 characters", value(&"k".repeat(256))),
        ("8000 characters", value(&"k".repeat(8000))),
        ("only spaces", value("   ")),
        ("not ASCII", reqwest::header::HeaderValue::from_bytes("clé-1".as_bytes()).expect("header value")),
    ] {
        let got = post(key).await;
        assert_eq!(assert_error(&format!("Idempotency-Key of {what}"), &got, StatusCode::BAD_REQUEST), "BAD_REQUEST");
        assert!(
            got.1["description"].as_str().is_some_and(|d| d.contains("Idempotency-Key")),
            "{what}: the description should name the header: {}",
            got.1
        );
    }
    assert_eq!(job_count(&stack).await, jobs, "a refused key stores nothing");
}

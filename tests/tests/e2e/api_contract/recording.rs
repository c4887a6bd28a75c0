//! Recording transactions: duplicates, amounts and currencies, the route's envelope, id order.

use std::collections::HashSet;

use ratify_tests::assert_error;

use super::*;

fn row(order_ref: &str, sale: Value, currency: &str) -> Value {
    json!({"orderRef": order_ref, "transactionDate": "2026-11-14T10:15:00", "timezone": "Europe/Stockholm",
           "saleAmount": sale, "currency": currency})
}

async fn by_order_ref(client: &Client, advertiser: i64, order_ref: &str) -> Vec<i64> {
    list_ids(client, advertiser, &format!("orderRef={order_ref}")).await
}

#[tokio::test(flavor = "multi_thread")]
async fn record_transactions_contract() {
    let stack = Stack::builder().in_process().workers(0).start().await;
    let (admin, _, client) = setup(&stack).await;
    admin.create_advertiser(2001, "JPY", &[("DEFAULT", "percentage", json!(5))]).await;
    let jpy_token = admin.create_token(&[2001]).await;
    let jpy = stack.client(&jpy_token);
    let path = "/advertisers/1001/transactions";
    let existing = client.record(1001, &json!([row("EX-1", json!(100), "SEK")])).await;

    // A duplicate of a stored transaction sinks the whole request.
    let got = client
        .post(
            path,
            &json!([row("NEW-1", json!(10), "SEK"), row("EX-1", json!(20), "SEK"), row("NEW-3", json!(30), "SEK")]),
        )
        .await;
    assert_error("duplicate of a stored row", &got, StatusCode::CONFLICT);
    assert!(by_order_ref(&client, 1001, "NEW-1").await.is_empty(), "all or nothing");
    assert!(by_order_ref(&client, 1001, "NEW-3").await.is_empty(), "all or nothing");
    assert_eq!(by_order_ref(&client, 1001, "EX-1").await, existing);

    // A duplicate within one request.
    let got = client.post(path, &json!([row("DUP-1", json!(10), "SEK"), row("DUP-1", json!(11), "SEK")])).await;
    assert_error("duplicate within the request", &got, StatusCode::CONFLICT);
    assert!(by_order_ref(&client, 1001, "DUP-1").await.is_empty());

    // The same instant written in another zone is the same transactionDate.
    let got = client
        .post(
            path,
            &json!([{"orderRef": "EX-1", "transactionDate": "2026-11-14T09:15:00", "timezone": "UTC",
                     "saleAmount": 100, "currency": "SEK"}]),
        )
        .await;
    assert_error("same instant in UTC", &got, StatusCode::CONFLICT);

    // The same orderRef at another date is another transaction.
    let other_date = client
        .record(
            1001,
            &json!([{"orderRef": "EX-1", "transactionDate": "2026-11-15T10:15:00", "timezone": "Europe/Stockholm",
                     "saleAmount": 100, "currency": "SEK"}]),
        )
        .await;
    assert_eq!(by_order_ref(&client, 1001, "EX-1").await.len(), 2);
    assert_ne!(other_date, existing);

    // Bad amounts, naming the index of the bad item. Raw bodies keep the numbers exact.
    let bad_bodies: Vec<(&str, String, usize)> = vec![
        (
            "SEK 1.005",
            r#"[{"orderRef": "P-0", "transactionDate": "2026-11-14T10:15:00", "timezone": "Europe/Stockholm", "saleAmount": 1.00, "currency": "SEK"},
                {"orderRef": "P-1", "transactionDate": "2026-11-14T10:15:00", "timezone": "Europe/Stockholm", "saleAmount": 1.005, "currency": "SEK"}]"#
                .to_owned(),
            1,
        ),
        (
            "negative",
            r#"[{"orderRef": "P-0", "transactionDate": "2026-11-14T10:15:00", "timezone": "Europe/Stockholm", "saleAmount": 1, "currency": "SEK"},
                {"orderRef": "P-1", "transactionDate": "2026-11-14T10:15:00", "timezone": "Europe/Stockholm", "saleAmount": 2, "currency": "SEK"},
                {"orderRef": "P-2", "transactionDate": "2026-11-14T10:15:00", "timezone": "Europe/Stockholm", "saleAmount": -5, "currency": "SEK"}]"#
                .to_owned(),
            2,
        ),
        (
            "absurd",
            r#"[{"orderRef": "P-0", "transactionDate": "2026-11-14T10:15:00", "timezone": "Europe/Stockholm", "saleAmount": 1e300, "currency": "SEK"}]"#
                .to_owned(),
            0,
        ),
        (
            "string amount",
            r#"[{"orderRef": "P-0", "transactionDate": "2026-11-14T10:15:00", "timezone": "Europe/Stockholm", "saleAmount": "NaN", "currency": "SEK"}]"#
                .to_owned(),
            0,
        ),
        (
            "other currency",
            r#"[{"orderRef": "P-0", "transactionDate": "2026-11-14T10:15:00", "timezone": "Europe/Stockholm", "saleAmount": 1, "currency": "SEK"},
                {"orderRef": "P-1", "transactionDate": "2026-11-14T10:15:00", "timezone": "Europe/Stockholm", "saleAmount": 1, "currency": "EUR"}]"#
                .to_owned(),
            1,
        ),
        (
            "unknown commission group",
            r#"[{"orderRef": "P-0", "transactionDate": "2026-11-14T10:15:00", "timezone": "Europe/Stockholm", "saleAmount": 10, "currency": "SEK",
                 "transactionParts": [{"commissionGroupCode": "NOPE", "amount": 10}]}]"#
                .to_owned(),
            0,
        ),
        (
            "part amount too precise",
            r#"[{"orderRef": "P-0", "transactionDate": "2026-11-14T10:15:00", "timezone": "Europe/Stockholm", "saleAmount": 10, "currency": "SEK",
                 "transactionParts": [{"commissionGroupCode": "DEFAULT", "amount": 9.999}]}]"#
                .to_owned(),
            0,
        ),
        (
            "bad date",
            r#"[{"orderRef": "P-0", "transactionDate": "14/11/2026 10:15", "timezone": "Europe/Stockholm", "saleAmount": 10, "currency": "SEK"}]"#
                .to_owned(),
            0,
        ),
        (
            "unknown timezone",
            r#"[{"orderRef": "P-0", "transactionDate": "2026-11-14T10:15:00", "timezone": "Mars/Olympus", "saleAmount": 10, "currency": "SEK"}]"#
                .to_owned(),
            0,
        ),
    ];
    for (what, body, index) in &bad_bodies {
        let got = client.send_raw(path, "application/json", body.clone()).await;
        assert_error(what, &got, StatusCode::BAD_REQUEST);
        assert!(names_index(&description(&got), *index), "{what}: the description should name item {index}: {}", got.1);
    }
    let got = client.send_raw(path, "application/json", bad_bodies[0].1.clone()).await;
    assert!(description(&got).contains("saleAmount"), "the description names the field: {}", got.1);
    for order_ref in ["P-0", "P-1", "P-2"] {
        assert!(by_order_ref(&client, 1001, order_ref).await.is_empty(), "a refused request stored {order_ref}");
    }

    // JPY has no minor unit.
    let got = jpy
        .send_raw(
            "/advertisers/2001/transactions",
            "application/json",
            r#"[{"orderRef": "J-1", "transactionDate": "2026-11-14T10:15:00", "timezone": "Asia/Tokyo", "saleAmount": 1.5, "currency": "JPY"}]"#,
        )
        .await;
    assert_error("JPY 1.5", &got, StatusCode::BAD_REQUEST);
    assert!(names_index(&description(&got), 0), "{}", got.1);
    let jpy_ids = jpy.record(2001, &json!([row("J-1", json!(1500), "JPY")])).await;
    let jpy_tx = jpy.transaction(2001, jpy_ids[0]).await;
    assert_eq!(amount(&jpy_tx["saleAmount"]["amount"]), 1500.0);
    assert_eq!(amount(&jpy_tx["commissionAmount"]["amount"]), 75.0);

    // Envelope of the recording route.
    let got = client.send_raw(path, "application/json", "[]").await;
    assert_error("empty array", &got, StatusCode::BAD_REQUEST);
    let got = client.send_raw(path, "application/json", r#"{"orderRef": "X"}"#).await;
    assert_error("object body", &got, StatusCode::BAD_REQUEST);
    let got = client
        .send_raw(path, "text/plain", serde_json::to_string(&json!([row("T-1", json!(1), "SEK")])).expect("json"))
        .await;
    assert_error("text/plain", &got, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // Ids come back in input order.
    let refs = ["ORD-C", "ORD-A", "ORD-B", "ORD-D"];
    let rows: Vec<Value> = refs.iter().enumerate().map(|(i, r)| row(r, json!(10 * (i + 1)), "SEK")).collect();
    let ids = client.record(1001, &Value::Array(rows)).await;
    assert_eq!(ids.len(), refs.len());
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), refs.len(), "ids are distinct");
    for (i, (id, order_ref)) in ids.iter().zip(refs).enumerate() {
        let tx = client.transaction(1001, *id).await;
        assert_eq!(tx["id"], json!(id));
        assert_eq!(tx["orderRef"], json!(order_ref), "ids[{i}] is the {i}th input row");
        assert_eq!(amount(&tx["saleAmount"]["amount"]), 10.0 * (i as f64 + 1.0));
        assert_eq!(tx["commissionStatus"], "pending");
        assert_eq!(tx["advertiserId"], json!(1001));
    }
}

//! Reading one transaction and listing transactions by date window, status, type and zone.

use ratify_tests::assert_error;

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn read_and_list_transactions() {
    let stack = Stack::builder().in_process().workers(1).start().await;
    let (_, _, client) = setup(&stack).await;
    let ids = client
        .record(
            1001,
            &json!([
                {"orderRef": "L-1", "transactionDate": "2026-11-14T10:15:00", "timezone": "Europe/Stockholm",
                 "saleAmount": 125.50, "currency": "SEK", "publisherId": 77, "clickRef": "c-1",
                 "transactionParts": [{"commissionGroupCode": "DEFAULT", "amount": 125.50}]},
                {"orderRef": "L-2", "transactionDate": "2026-11-20T08:00:00", "timezone": "Europe/Stockholm",
                 "saleAmount": 50, "currency": "SEK"},
                {"orderRef": "L-3", "transactionDate": "2026-12-20T12:00:00", "timezone": "Europe/Stockholm",
                 "saleAmount": 70, "currency": "SEK"}
            ]),
        )
        .await;
    let (t1, t2, t3) = (ids[0], ids[1], ids[2]);

    // One transaction, with parts and history.
    let tx = client.transaction(1001, t1).await;
    assert_eq!(tx["orderRef"], "L-1");
    assert_eq!(tx["commissionStatus"], "pending");
    assert_eq!(tx["publisherId"], json!(77));
    assert_eq!(tx["clickRef"], "c-1");
    assert_eq!(tx["saleAmount"]["currency"], "SEK");
    assert_eq!(amount(&tx["saleAmount"]["amount"]), 125.5);
    assert_eq!(amount(&tx["commissionAmount"]["amount"]), 12.55);
    let parts = tx["transactionParts"].as_array().expect("transactionParts");
    assert_eq!(parts.len(), 1, "{tx}");
    assert_eq!(parts[0]["commissionGroupCode"], "DEFAULT");
    assert_eq!(amount(&parts[0]["amount"]), 125.5);
    assert_eq!(amount(&parts[0]["commissionAmount"]), 12.55);
    assert!(tx["validationDate"].is_null(), "{tx}");
    let history_before = tx["history"].as_array().expect("history").len();

    let job_id = client.submit(1001, &json!([{"action": "approve", "transaction": {"transactionId": t1}}])).await;
    let job = client.wait_done(1001, &job_id).await;
    assert_eq!(job.code(0), "[200 OK]");
    let tx = client.transaction(1001, t1).await;
    assert_eq!(tx["commissionStatus"], "approved");
    assert!(tx["validationDate"].is_string(), "{tx}");
    let history = tx["history"].as_array().expect("history");
    assert_eq!(history.len(), history_before + 1, "one history row per change: {tx}");
    let entry = history.last().expect("entry");
    assert_eq!(entry["jobId"], json!(job_id), "the history names the job: {entry}");
    assert!(entry["date"].is_string(), "{entry}");
    assert_eq!(entry["from"]["commissionStatus"], "pending", "{entry}");
    assert_eq!(entry["to"]["commissionStatus"], "approved", "{entry}");

    let unknown = client.get("/advertisers/1001/transactions/999999999").await;
    assert_error("unknown transaction", &unknown, StatusCode::NOT_FOUND);
    let bad = client.get("/advertisers/1001/transactions/abc").await;
    assert_error("non-numeric transaction id", &bad, StatusCode::NOT_FOUND);

    // Date windows (default dateType=transaction, timezone UTC).
    let november = "startDate=2026-11-01T00:00:00&endDate=2026-11-30T00:00:00";
    assert_eq!(sorted(list_ids(&client, 1001, november).await), vec![t1, t2]);
    assert_eq!(sorted(list_ids(&client, 1001, &format!("{november}&dateType=transaction")).await), vec![t1, t2]);
    assert_eq!(list_ids(&client, 1001, "startDate=2026-12-01T00:00:00&endDate=2026-12-31T00:00:00").await, vec![t3]);
    // Exactly 31 days is allowed.
    assert_eq!(
        sorted(list_ids(&client, 1001, "startDate=2026-11-01T00:00:00&endDate=2026-12-02T00:00:00").await),
        vec![t1, t2]
    );

    // Status filter.
    assert_eq!(list_ids(&client, 1001, &format!("{november}&status=approved")).await, vec![t1]);
    assert_eq!(list_ids(&client, 1001, &format!("{november}&status=pending")).await, vec![t2]);
    assert!(list_ids(&client, 1001, &format!("{november}&status=declined")).await.is_empty());

    // dateType=validation: only the approved one has a validation date, and it is now.
    let (from, to) = (utc_local(&stack, "-1 day").await, utc_local(&stack, "1 day").await);
    assert_eq!(list_ids(&client, 1001, &format!("startDate={from}&endDate={to}&dateType=validation")).await, vec![t1]);
    let (past_from, past_to) = (utc_local(&stack, "-40 days").await, utc_local(&stack, "-10 days").await);
    assert!(
        list_ids(&client, 1001, &format!("startDate={past_from}&endDate={past_to}&dateType=validation"))
            .await
            .is_empty(),
        "no validation happened 10 to 40 days ago"
    );

    // timezone: 10:15 in Stockholm (CET) is 09:15 UTC and 18:15 in Tokyo.
    let tokyo_window = "startDate=2026-11-14T18:00:00&endDate=2026-11-14T18:30:00";
    let (status, body) =
        client.get(&format!("/advertisers/1001/transactions?{tokyo_window}&timezone=Asia/Tokyo")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let listed = body.as_array().expect("array");
    assert_eq!(listed.len(), 1, "{body}");
    assert_eq!(listed[0]["id"], json!(t1));
    // Not in docs/api.md: dates are rendered in the requested zone, with the offset.
    assert!(listed[0]["transactionDate"].as_str().is_some_and(|d| d.starts_with("2026-11-14T18:15:00")), "{body}");
    assert!(list_ids(&client, 1001, tokyo_window).await.is_empty(), "the default zone is UTC");
    assert_eq!(list_ids(&client, 1001, "startDate=2026-11-14T09:00:00&endDate=2026-11-14T09:30:00").await, vec![t1]);

    // Lookups without dates.
    assert_eq!(sorted(list_ids(&client, 1001, &format!("ids={t1},{t2}")).await), vec![t1, t2]);
    assert_eq!(list_ids(&client, 1001, &format!("ids={t3}")).await, vec![t3]);
    assert!(list_ids(&client, 1001, "ids=999999999").await.is_empty());
    assert_eq!(list_ids(&client, 1001, "orderRef=L-2").await, vec![t2]);
    assert!(list_ids(&client, 1001, "orderRef=nope").await.is_empty());

    // Bad parameters.
    for query in [
        "startDate=2026-11-01T00:00:00&endDate=2026-12-03T00:00:00",
        "startDate=2026-01-01T00:00:00&endDate=2026-12-31T00:00:00",
        "startDate=2026-11-01T00:00:00",
        "endDate=2026-11-01T00:00:00",
        "",
        "startDate=2026-11-01&endDate=2026-11-02",
        "startDate=2026/11/01T00:00:00&endDate=2026/11/02T00:00:00",
        "startDate=01-11-2026T00:00:00&endDate=02-11-2026T00:00:00",
        "startDate=yesterday&endDate=today",
        "startDate=2026-11-10T00:00:00&endDate=2026-11-01T00:00:00",
        "startDate=2026-11-01T00:00:00&endDate=2026-11-02T00:00:00&status=bogus",
        "startDate=2026-11-01T00:00:00&endDate=2026-11-02T00:00:00&status=APPROVED_ISH",
        "startDate=2026-11-01T00:00:00&endDate=2026-11-02T00:00:00&dateType=bogus",
        "startDate=2026-11-01T00:00:00&endDate=2026-11-02T00:00:00&timezone=Mars/Olympus",
        "ids=abc",
        "ids=1,,2",
    ] {
        let got = client.get(&format!("/advertisers/1001/transactions?{query}")).await;
        assert_error(&format!("?{query}"), &got, StatusCode::BAD_REQUEST);
    }
}

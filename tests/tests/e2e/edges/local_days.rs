//! Listing by local days: a month in a zone that leaves summer time within it.

use ratify_tests::assert_error;
use reqwest::StatusCode;

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn october_in_paris_is_listed_though_it_lasts_31_days_and_an_hour() {
    let stack = Stack::builder().workers(0).start().await;
    let client = setup(&stack).await;
    let sale = |order_ref: &str, date: &str| {
        json!({"orderRef": order_ref, "transactionDate": date, "timezone": "Europe/Paris", "saleAmount": 100,
               "currency": "SEK"})
    };
    client
        .record(
            ADV,
            &json!([
                sale("OCT-FIRST", "2026-10-01T00:00:00"),
                sale("OCT-LAST", "2026-10-31T23:59:59"),
                sale("NOV-FIRST", "2026-11-01T00:00:00")
            ]),
        )
        .await;
    let list = |start: &str, end: &str| {
        let client = &client;
        let path = format!("/advertisers/{ADV}/transactions?startDate={start}&endDate={end}&timezone=Europe/Paris");
        async move { client.get(&path).await }
    };
    let (status, body) = list("2026-10-01T00:00:00", "2026-10-31T23:59:59").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut refs: Vec<&str> = body.as_array().expect("array").iter().map(|t| t["orderRef"].as_str().unwrap()).collect();
    refs.sort_unstable();
    assert_eq!(refs, ["OCT-FIRST", "OCT-LAST"]);
    // 31 local days to the second is the most; one second more is 32 days' worth.
    let (status, body) = list("2026-10-01T00:00:00", "2026-11-01T00:00:00").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let got = list("2026-10-01T00:00:00", "2026-11-01T00:00:01").await;
    assert_error("32 local days", &got, StatusCode::BAD_REQUEST);
    let got = list("2026-09-30T00:00:00", "2026-10-31T23:59:59").await;
    assert_error("32 local days", &got, StatusCode::BAD_REQUEST);
}

//! The walkthrough of the README, end to end.

use ratify_tests::Stack;
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn readme_walkthrough() {
    let stack = Stack::builder().workers(1).start().await;
    let admin = stack.admin();
    admin.create_advertiser(1001, "SEK", &[("DEFAULT", "percentage", json!(10))]).await;
    let token = admin.create_token(&[1001]).await;
    let client = stack.client(&token);
    let ids = client
        .record(
            1001,
            &json!([{"orderRef": "A1", "transactionDate": "2026-11-14T10:15:00", "timezone": "Europe/Stockholm",
                     "saleAmount": 125.50, "currency": "SEK",
                     "transactionParts": [{"commissionGroupCode": "DEFAULT", "amount": 125.50}]}]),
        )
        .await;
    let job = client.run(1001, &json!([{"action": "approve", "transaction": {"transactionId": ids[0]}}])).await;
    assert_eq!(job.code(0), "[200 OK]");
    assert_eq!(job.body["errorCount"], json!(0));
    let tx = client.transaction(1001, ids[0]).await;
    assert_eq!(tx["commissionStatus"], "approved");
    assert_eq!(tx["commissionAmount"], json!({"amount": 12.55, "currency": "SEK"}));
}

//! The admin routes: advertisers, commission groups and token revocation.

use std::collections::HashSet;

use ratify_tests::assert_error;

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn admin_advertisers() {
    let stack = Stack::builder().in_process().workers(0).start().await;
    let admin = stack.admin();

    // No groups: DEFAULT at 0 %.
    let (status, body) =
        admin.post("/admin/advertisers", &json!({"id": 3001, "name": "No Groups", "currency": "SEK"})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let groups = body["commissionGroups"].as_array().expect("commissionGroups");
    let default = groups.iter().find(|g| g["code"] == "DEFAULT").unwrap_or_else(|| panic!("DEFAULT is added: {body}"));
    assert_eq!(amount(&default["value"]), 0.0, "{body}");
    assert_eq!(default["type"], "percentage", "{body}");

    // Other groups but no DEFAULT: DEFAULT still added at 0 %.
    let (status, body) = admin
        .post(
            "/admin/advertisers",
            &json!({"id": 3002, "name": "Bonus Only", "currency": "EUR",
                    "commissionGroups": [{"code": "BONUS", "name": "Bonus", "type": "fixed", "value": 2.5}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let codes: HashSet<&str> = body["commissionGroups"]
        .as_array()
        .expect("commissionGroups")
        .iter()
        .map(|g| g["code"].as_str().expect("code"))
        .collect();
    assert_eq!(codes, HashSet::from(["DEFAULT", "BONUS"]));

    // The DEFAULT at 0 % pays nothing.
    let token = admin.create_token(&[3001]).await;
    let client = stack.client(&token);
    let ids = client.record_simple(3001, "SEK", "Z", 1).await;
    let tx = client.transaction(3001, ids[0]).await;
    assert_eq!(amount(&tx["commissionAmount"]["amount"]), 0.0, "{tx}");

    // Duplicate id.
    let got = admin.post("/admin/advertisers", &json!({"id": 3001, "name": "Again", "currency": "SEK"})).await;
    assert_error("duplicate advertiser", &got, StatusCode::CONFLICT);

    // Bad currencies and bad groups.
    for (what, body) in [
        ("not a currency", json!({"id": 3004, "name": "X", "currency": "kronor"})),
        ("empty currency", json!({"id": 3005, "name": "X", "currency": ""})),
        (
            "bad group type",
            json!({"id": 3006, "name": "X", "currency": "SEK",
                   "commissionGroups": [{"code": "DEFAULT", "name": "D", "type": "bogus", "value": 1}]}),
        ),
        (
            "negative group value",
            json!({"id": 3007, "name": "X", "currency": "SEK",
                   "commissionGroups": [{"code": "DEFAULT", "name": "D", "type": "percentage", "value": -1}]}),
        ),
    ] {
        let got = admin.post("/admin/advertisers", &body).await;
        assert_error(what, &got, StatusCode::BAD_REQUEST);
    }
    // None of the refused advertisers exists: a token cannot name them.
    let got = admin.post("/admin/tokens", &json!({"name": "t", "advertiserIds": [3004]})).await;
    assert_error("token for a refused advertiser", &got, StatusCode::BAD_REQUEST);

    // Well formed but not an ISO 4217 currency (last: it creates 3003 if accepted).
    let got = admin.post("/admin/advertisers", &json!({"id": 3003, "name": "X", "currency": "XYZ"})).await;
    assert_error("unknown currency XYZ", &got, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_commission_groups() {
    let stack = Stack::builder().in_process().workers(1).start().await;
    let (admin, _, client) = setup(&stack).await;
    let ids = client.record_simple(1001, "SEK", "G", 1).await;
    let id = ids[0];
    let tx = client.transaction(1001, id).await;
    assert_eq!(amount(&tx["commissionAmount"]["amount"]), 10.0, "10 % of 100");

    // Update DEFAULT, create BONUS.
    let (status, body) = admin
        .send(
            Method::PUT,
            "/admin/advertisers/1001/commission-groups/DEFAULT",
            Some(&json!({"name": "Default", "type": "percentage", "value": 20})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = admin
        .send(
            Method::PUT,
            "/admin/advertisers/1001/commission-groups/BONUS",
            Some(&json!({"name": "Bonus", "type": "fixed", "value": 5})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let amend = |sale: i64| {
        json!([{"action": "amend", "approve": false, "transaction": {
            "transactionId": id, "amendReason": "re-rated", "currency": "SEK", "saleAmount": sale,
            "transactionParts": [{"commissionGroupCode": "DEFAULT", "amount": 60},
                                 {"commissionGroupCode": "BONUS", "amount": 40}]}}])
    };
    let job = client.run(1001, &amend(100)).await;
    assert_eq!(job.code(0), "[200 OK]", "{:?}", job.body);
    let tx = client.transaction(1001, id).await;
    // DEFAULT 20 % of 60 = 12, BONUS fixed 5.
    assert_eq!(amount(&tx["commissionAmount"]["amount"]), 17.0, "{tx}");
    let part = |code: &str| {
        tx["transactionParts"]
            .as_array()
            .expect("parts")
            .iter()
            .find(|p| p["commissionGroupCode"] == code)
            .unwrap_or_else(|| panic!("part {code}: {tx}"))
            .clone()
    };
    assert_eq!(amount(&part("DEFAULT")["commissionAmount"]), 12.0);
    assert_eq!(amount(&part("BONUS")["commissionAmount"]), 5.0);
    assert_eq!(tx["amended"], json!(true));
    assert_eq!(amount(&tx["oldCommissionAmount"]["amount"]), 10.0);

    // Update the group just created; the next amend uses it.
    let (status, body) = admin
        .send(
            Method::PUT,
            "/admin/advertisers/1001/commission-groups/BONUS",
            Some(&json!({"name": "Bonus", "type": "fixed", "value": 7})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let job = client.run(1001, &amend(110)).await;
    assert_eq!(job.code(0), "[200 OK]", "{:?}", job.body);
    let tx = client.transaction(1001, id).await;
    // DEFAULT absorbs the 10 missing: 20 % of 70 = 14, BONUS fixed 7.
    assert_eq!(amount(&tx["commissionAmount"]["amount"]), 21.0, "{tx}");

    // Unknown advertiser; bad bodies.
    let got = admin
        .send(
            Method::PUT,
            "/admin/advertisers/9999/commission-groups/DEFAULT",
            Some(&json!({"name": "Default", "type": "percentage", "value": 5})),
        )
        .await;
    assert_error("PUT on an unknown advertiser", &got, StatusCode::NOT_FOUND);
    for (what, body) in [
        ("bad type", json!({"name": "X", "type": "bogus", "value": 5})),
        ("negative value", json!({"name": "X", "type": "percentage", "value": -5})),
        ("fixed too precise", json!({"name": "X", "type": "fixed", "value": 0.001})),
    ] {
        let got = admin.send(Method::PUT, "/admin/advertisers/1001/commission-groups/X", Some(&body)).await;
        assert_error(what, &got, StatusCode::BAD_REQUEST);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_token_revocation() {
    let stack = Stack::builder().in_process().workers(0).start().await;
    let admin = stack.admin();
    admin.create_advertiser(1001, "SEK", &[("DEFAULT", "percentage", json!(10))]).await;
    let (status, body) = admin.post("/admin/tokens", &json!({"name": "finance-bot", "advertiserIds": [1001]})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let token_id = body["id"].as_str().expect("id").to_owned();
    let token = body["token"].as_str().expect("token").to_owned();
    let other_token = admin.create_token(&[1001]).await;
    let client = stack.client(&token);
    let (status, body) = client.get("/advertisers/1001/transactions/jobs").await;
    assert_eq!(status, StatusCode::OK, "the new token works: {body}");

    let (status, body) = admin.send(Method::DELETE, &format!("/admin/tokens/{token_id}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    // Revoked at once, on every kind of route.
    let got = client.get("/advertisers/1001/transactions/jobs").await;
    assert_error("revoked token", &got, StatusCode::UNAUTHORIZED);
    let got = client
        .post(
            "/advertisers/1001/transactions/batch",
            &json!([{"action": "approve", "transaction": {"transactionId": 1}}]),
        )
        .await;
    assert_error("revoked token, batch", &got, StatusCode::UNAUTHORIZED);
    let got = client.get("/advertisers/1001/transactions?ids=1").await;
    assert_error("revoked token, list", &got, StatusCode::UNAUTHORIZED);

    // Other tokens are untouched.
    let (status, body) = stack.client(&other_token).get("/advertisers/1001/transactions/jobs").await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let got = admin.send(Method::DELETE, &format!("/admin/tokens/{token_id}"), None).await;
    assert_error("revoking again", &got, StatusCode::NOT_FOUND);
    let got = admin.send(Method::DELETE, "/admin/tokens/6f1c5f62-3a8b-4f0e-9a43-6d5b8e8c0d11", None).await;
    assert_error("revoking an unknown token", &got, StatusCode::NOT_FOUND);
    let got = admin.send(Method::DELETE, "/admin/tokens/not-a-uuid", None).await;
    assert!(got.0 == StatusCode::NOT_FOUND || got.0 == StatusCode::BAD_REQUEST, "non-UUID token id: {got:?}");
    assert_error("non-UUID token id", &got, got.0);

    // Tokens need existing advertisers.
    let got = admin.post("/admin/tokens", &json!({"name": "t", "advertiserIds": [4242]})).await;
    assert_error("token for an unknown advertiser", &got, StatusCode::BAD_REQUEST);
    let got = admin.post("/admin/tokens", &json!({"name": "t", "advertiserIds": []})).await;
    assert_error("token for no advertiser", &got, StatusCode::BAD_REQUEST);
}

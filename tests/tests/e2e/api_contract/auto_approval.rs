//! Auto-approval: an advertiser's `validationPeriodDays`, and the workers' scheduler
//! approving what is still pending past it, once, as a job of its own.

use ratify_tests::eventually;
use std::time::Duration;

use super::*;

fn row(order_ref: &str, date: &str) -> Value {
    json!({"orderRef": order_ref, "transactionDate": date, "timezone": "UTC", "saleAmount": 50, "currency": "SEK"})
}

/// The auto-approval jobs of advertiser 1001, as the admin list shows them.
async fn runs(admin: &Client) -> Vec<Value> {
    let (status, body) = admin.get("/admin/jobs?advertiserId=1001&label=auto-approve").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["jobs"].as_array().expect("jobs").clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn overdue_pending_transactions_are_approved_once_by_one_scheduler() {
    // Two workers, so two schedulers: the advisory lock lets one run at a time.
    let stack = Stack::builder().in_process().workers(2).env("RATIFY_AUTO_APPROVE_INTERVAL_SECONDS", 1).start().await;
    let (admin, _, client) = setup(&stack).await;
    let ids = client
        .record(
            1001,
            &json!([
                row("old-1", "2026-01-01T10:00:00"),
                row("old-2", "2026-01-02T10:00:00"),
                row("future", "2099-01-01T00:00:00"),
                row("old-declined", "2026-01-03T10:00:00")
            ]),
        )
        .await;
    let declined = client
        .run(
            1001,
            &json!([{"action": "decline", "transaction": {"transactionId": ids[3], "declineReason": "returned"}}]),
        )
        .await;
    assert_eq!(declined.code(0), "[200 OK]");

    // The setting: checked, and null (never) by default.
    let path = "/admin/advertisers/1001";
    for bad in [json!({"validationPeriodDays": 4000}), json!({"validationPeriodDays": -1}), json!({"period": 3})] {
        let got = admin.send(Method::PATCH, path, Some(&bad)).await;
        assert_eq!(got.0, StatusCode::BAD_REQUEST, "{bad}: {}", got.1);
    }
    let got = admin.send(Method::PATCH, "/admin/advertisers/4242", Some(&json!({"validationPeriodDays": 3}))).await;
    assert_eq!((got.0, got.1["error"].clone()), (StatusCode::NOT_FOUND, json!("ADVERTISER_NOT_FOUND")));
    let (status, body) = admin.send(Method::PATCH, path, Some(&json!({}))).await;
    assert_eq!((status, body["validationPeriodDays"].clone()), (StatusCode::OK, Value::Null), "{body}");
    assert!(runs(&admin).await.is_empty(), "no period, no auto-approval");

    let (status, body) = admin.send(Method::PATCH, path, Some(&json!({"validationPeriodDays": 30}))).await;
    assert_eq!((status, body["validationPeriodDays"].clone()), (StatusCode::OK, json!(30)), "{body}");
    let first = eventually("an auto-approval job, DONE", Duration::from_secs(60), || async {
        let runs = runs(&admin).await;
        runs.first().filter(|j| j["status"] == "DONE").cloned()
    })
    .await;
    assert_eq!((first["transactionCount"].clone(), first["errorCount"].clone()), (json!(2), json!(0)), "{first}");
    let job = first["jobId"].as_str().expect("jobId");
    for id in [ids[0], ids[1]] {
        let t = client.transaction(1001, id).await;
        assert_eq!(t["commissionStatus"], "approved", "{t}");
        let history = t["history"].as_array().expect("history");
        assert_eq!(history.len(), 1, "{t}");
        assert_eq!((history[0]["action"].clone(), history[0]["jobId"].clone()), (json!("auto-approve"), json!(job)));
    }
    assert_eq!(client.transaction(1001, ids[2]).await["commissionStatus"], "pending", "not due yet");
    let t = client.transaction(1001, ids[3]).await;
    assert_eq!((t["commissionStatus"].clone(), t["history"].as_array().map(Vec::len)), (json!("declined"), Some(1)));

    // Once nothing old is pending, the scheduler's walk starts at its cutoff; a transaction
    // recorded later with an older date moves the start back to it, or it would never be seen.
    eventually("the walk's start past 2026-01-04", Duration::from_secs(60), || async {
        let past: Option<bool> =
            sqlx::query_scalar("SELECT auto_approve_from > '2026-01-04T10:00:00Z' FROM advertisers WHERE id = 1001")
                .fetch_one(&stack.db)
                .await
                .expect("reading the watermark");
        past.filter(|&past| past)
    })
    .await;

    // A later run approves only what became due since: a new overdue transaction, alone.
    let late = client.record(1001, &json!([row("old-3", "2026-01-04T10:00:00")])).await[0];
    let second = eventually("a second auto-approval job, DONE", Duration::from_secs(60), || async {
        let runs = runs(&admin).await;
        (runs.len() == 2 && runs[0]["status"] == "DONE").then(|| runs[0].clone())
    })
    .await;
    assert_eq!(second["transactionCount"], json!(1), "{second}");
    assert_eq!(client.transaction(1001, late).await["commissionStatus"], "approved");
    let (_, items) = client
        .get(&format!("/advertisers/1001/transactions/jobs/{}?output=all", second["jobId"].as_str().unwrap()))
        .await;
    assert_eq!(items["allTransactions"][0]["transactionId"], json!(late), "{items}");
    // Each overdue transaction was approved once: one history entry each.
    let entries: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM transaction_history WHERE advertiser_id = 1001 AND action = 'auto-approve'",
    )
    .fetch_one(&stack.db)
    .await
    .expect("counting");
    assert_eq!(entries, 3);
    assert_eq!(runs(&admin).await.len(), 2, "no run repeated an approval");
}

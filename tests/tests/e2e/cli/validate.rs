//! `ratify validate` (one action on one transaction now, its outcome printed and in the
//! exit code), `ratify submit --dry-run`, `ratify job cancel` and `ratify job retry`.

use ratify_tests::Stack;
use serde_json::json;

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn validate_applies_one_action_and_prints_its_outcome() {
    let stack = Stack::builder().in_process().workers(0).start().await;
    let url = stack.base_url.as_str();
    stack.admin().create_advertiser(1001, "SEK", &[("DEFAULT", "percentage", json!(10))]).await;
    let token = stack.admin().create_token(&[1001]).await;
    let client = stack.client(&token);
    let ids = client.record_simple(1001, "SEK", "desk", 2).await;
    let env = [("RATIFY_TOKEN", token.as_str()), ("RATIFY_ADVERTISER", "1001")];
    let (first, second) = (ids[0].to_string(), ids[1].to_string());

    let run = ratify(url, &env, &["validate", &first, "approve"]).await;
    assert_eq!(run.code, APPLIED, "{run:?}");
    assert!(run.stdout.starts_with(&format!("[200 OK] transaction {first}: approved")), "{run:?}");
    let run = ratify(url, &env, &["validate", &first, "approve"]).await;
    assert_eq!(run.code, APPLIED, "{run:?}");
    assert!(run.stdout.contains("[304 NOT_MODIFIED]"), "{run:?}");
    let run = ratify(url, &env, &["validate", &first, "decline", "--reason", "late"]).await;
    assert_eq!(run.code, REFUSED, "{run:?}");
    assert!(run.stderr.contains("UNPROCESSABLE_ENTITY"), "{run:?}");

    let amend = [
        "validate",
        &second,
        "amend",
        "--reason",
        "partial return",
        "--currency",
        "SEK",
        "--sale",
        "40.10",
        "--part",
        "DEFAULT:40.10",
        "--approve",
    ];
    let run = ratify(url, &env, &amend).await;
    assert_eq!(run.code, APPLIED, "{run:?}");
    let t = client.transaction(1001, ids[1]).await;
    assert_eq!((t["commissionStatus"].clone(), t["saleAmount"]["amount"].clone()), (json!("approved"), json!(40.10)));
    assert_eq!(t["commissionAmount"]["amount"], json!(4.01), "{t}");

    // Flags that do not make one action send nothing.
    let run = ratify(url, &env, &["validate", &second, "approve", "--sale", "1"]).await;
    assert_eq!(run.code, USAGE, "{run:?}");
    let run = ratify(url, &env, &["validate", "999999999", "approve", "--json"]).await;
    assert_eq!(run.code, REFUSED, "{run:?}");
    assert!(run.stderr.contains("TRANSACTION_NOT_FOUND"), "{run:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn submit_dry_run_and_job_cancel_and_retry() {
    // No worker: the first job waits, to be cancelled; the dry run is applied by a worker
    // the test starts later.
    let mut stack = Stack::builder().workers(0).start().await;
    let url = stack.base_url.clone();
    let dir = work_dir(&stack);
    stack.admin().create_advertiser(1001, "SEK", &[("DEFAULT", "percentage", json!(10))]).await;
    let token = stack.admin().create_token(&[1001]).await;
    let client = stack.client(&token);
    let ids = client.record_simple(1001, "SEK", "ctl", 2).await;
    let env = [("RATIFY_TOKEN", token.as_str()), ("RATIFY_ADVERTISER", "1001")];
    let file = write(
        &dir,
        "batch.json",
        &json!([{"action": "approve", "transaction": {"transactionId": ids[0]}},
                {"action": "approve", "transaction": {"transactionId": ids[1]}}])
        .to_string(),
    );

    let run = ratify(&url, &env, &["submit", &file]).await;
    assert_eq!(run.code, APPLIED, "{run:?}");
    let job = run.stdout.trim().to_owned();
    let run = ratify(&url, &env, &["job", "retry", &job]).await;
    assert_eq!(run.code, REFUSED, "{run:?}");
    assert!(run.stderr.contains("JOB_NOT_DONE"), "{run:?}");
    let run = ratify(&url, &env, &["job", "cancel", &job]).await;
    assert_eq!(run.code, APPLIED, "{run:?}");
    assert!(run.stdout.contains("status        DONE") && run.stdout.contains("cancelled"), "{run:?}");
    let run = ratify(&url, &env, &["job", &job, "--errors", "--csv"]).await;
    assert_eq!(run.stdout.matches("[409 CANCELLED]").count(), 2, "{run:?}");

    stack.add_worker().expect("a worker");
    let run = ratify(&url, &env, &["submit", &file, "--dry-run", "--wait"]).await;
    assert_eq!(run.code, APPLIED, "{run:?}");
    assert!(run.stdout.contains("[200 OK]"), "{run:?}");
    let dry = run.stdout.lines().next().expect("the jobId").to_owned();
    let run = ratify(&url, &env, &["job", &dry]).await;
    assert!(run.stdout.contains("dry run"), "{run:?}");
    assert_eq!(client.transaction(1001, ids[0]).await["commissionStatus"], "pending", "a dry run changes nothing");
    // The same file for real is not the dry run's replay. (Its own key: with the derived
    // one it would be the cancelled job's replay.)
    let run = ratify(&url, &env, &["submit", &file, "--wait", "--idempotency-key", "for-real"]).await;
    assert_eq!(run.code, APPLIED, "{run:?}");
    assert_ne!(run.stdout.lines().next(), Some(dry.as_str()), "{run:?}");
    assert_eq!(client.transaction(1001, ids[0]).await["commissionStatus"], "approved");
    let real = run.stdout.lines().next().expect("the jobId").to_owned();
    let run = ratify(&url, &env, &["job", "retry", &real]).await;
    assert_eq!(run.code, REFUSED, "{run:?}");
    assert!(run.stderr.contains("NOTHING_TO_RETRY"), "{run:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn webhook_set_show_test_and_delete() {
    let stack = Stack::builder().in_process().workers(1).env("RATIFY_WEBHOOK_ALLOW_PRIVATE", 1).start().await;
    let url = stack.base_url.clone();
    stack.admin().create_advertiser(1001, "SEK", &[("DEFAULT", "percentage", json!(10))]).await;
    let token = stack.admin().create_token(&[1001]).await;
    let env = [("RATIFY_TOKEN", token.as_str()), ("RATIFY_ADVERTISER", "1001")];
    let receiver = ratify_tests::receiver::Receiver::start(vec![]).await;
    let hook = receiver.url("/hook");
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    let run = ratify(&url, &env, &["webhook", "set", "--endpoint", &hook, "--secret", secret]).await;
    assert_eq!(run.code, APPLIED, "{run:?}");
    let run = ratify(&url, &env, &["webhook", "show"]).await;
    assert!(run.stdout.contains(&hook) && !run.stdout.contains(secret), "{run:?}");
    let run = ratify(&url, &env, &["webhook", "test", "--timeout", "30"]).await;
    assert_eq!(run.code, APPLIED, "{run:?}");
    assert!(run.stdout.contains("HTTP 200") && run.stdout.contains("delivered"), "{run:?}");
    assert!(receiver.received().iter().any(|r| r.body.contains("\"ping\"")));
    let run = ratify(&url, &env, &["webhook", "delete"]).await;
    assert_eq!(run.code, APPLIED, "{run:?}");
    let run = ratify(&url, &env, &["webhook", "test"]).await;
    assert_eq!(run.code, REFUSED, "{run:?}");
    assert!(run.stderr.contains("WEBHOOK_NOT_FOUND"), "{run:?}");
}

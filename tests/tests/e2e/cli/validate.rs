//! `ratify validate`: one action on one transaction now, its outcome printed and in the
//! exit code.

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

//! The operator's commands: advertisers, commission groups, tokens.

use ratify_tests::Stack;
use reqwest::StatusCode;

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn admin_commands_manage_advertisers_groups_and_tokens() {
    let stack = Stack::builder().workers(0).start().await;
    let url = stack.base_url.as_str();
    let admin = [("RATIFY_ADMIN_TOKEN", stack.admin_token.as_str())];
    let create = "advertiser create --id 1001 --name 'Store SE' --currency SEK \
                  --group 'EXISTING:Existing customers:percentage:5'";
    let run = ratify(url, &admin, &words(create)).await;
    assert_eq!(run.code, APPLIED, "{run:?}");
    assert!(run.stdout.contains("advertiser 1001 \"Store SE\" (SEK) created"), "{run:?}");
    assert!(run.stdout.contains("DEFAULT") && run.stdout.contains("EXISTING"), "{run:?}");
    let run = ratify(url, &admin, &words("advertiser set --id 1001 --validation-period-days 30")).await;
    assert_eq!(run.code, APPLIED, "{run:?}");
    assert!(run.stdout.contains("approved after 30 days"), "{run:?}");
    let period: Option<i32> = sqlx::query_scalar("SELECT validation_period_days FROM advertisers WHERE id = 1001")
        .fetch_one(&stack.db)
        .await
        .unwrap();
    assert_eq!(period, Some(30));
    let run = ratify(url, &admin, &words("advertiser set --id 1001 --validation-period-days never")).await;
    assert!(run.stdout.contains("never approved automatically"), "{run:?}");
    let run = ratify(url, &admin, &words("advertiser set --id 1001 --validation-period-days 9999")).await;
    assert_eq!(run.code, USAGE, "{run:?}");
    let groups: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT code, kind, value::text FROM commission_groups WHERE advertiser_id = 1001 ORDER BY code",
    )
    .fetch_all(&stack.db)
    .await
    .unwrap();
    assert_eq!(
        groups,
        [("DEFAULT".into(), "percentage".into(), "0".into()), ("EXISTING".into(), "percentage".into(), "5".into())]
    );

    let again =
        ratify(url, &admin, &["advertiser", "create", "--id", "1001", "--name", "X", "--currency", "SEK"]).await;
    assert_eq!(
        (again.code, again.stderr.as_str()),
        (REFUSED, "error: ADVERTISER_EXISTS: advertiser 1001 already exists\n")
    );
    let bad_group = "advertiser create --id 1003 --name X --currency SEK --group EXISTING:Existing:percentage:12,5";
    let bad_group = ratify(url, &admin, &words(bad_group)).await;
    assert_eq!(bad_group.code, USAGE, "{bad_group:?}");

    let set = "group set --advertiser 1001 --code EXISTING --name Existing --type fixed --value 2.50";
    let run = ratify(url, &admin, &words(set)).await;
    assert_eq!(run.code, APPLIED, "{run:?}");
    let (kind, exact): (String, bool) = sqlx::query_as(
        "SELECT kind, value = 2.50 FROM commission_groups WHERE advertiser_id = 1001 AND code = 'EXISTING'",
    )
    .fetch_one(&stack.db)
    .await
    .unwrap();
    assert_eq!((kind.as_str(), exact), ("fixed", true));

    let run =
        ratify(url, &admin, &["advertiser", "create", "--id", "1002", "--name", "Store NO", "--currency", "NOK"]).await;
    assert_eq!(run.code, APPLIED, "{run:?}");
    // The admin token as a flag this time.
    let token_args = format!(
        "--admin-token {} token create --name finance-bot --advertiser 1001 --advertiser 1002",
        stack.admin_token
    );
    let created = ratify(url, &[], &words(&token_args)).await;
    assert_eq!(created.code, APPLIED, "{created:?}");
    let (id, token) = (field(&created.stdout, "id"), field(&created.stdout, "token"));
    let client = stack.client(token);
    for advertiser in [1001, 1002] {
        let (status, body) = client.get(&format!("/advertisers/{advertiser}/transactions/jobs")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let jobs = ratify(url, &[("RATIFY_TOKEN", token)], &["jobs", "--advertiser", "1002"]).await;
    assert_eq!(jobs.code, APPLIED, "{jobs:?}");

    let revoked = ratify(url, &admin, &["token", "revoke", id]).await;
    assert_eq!((revoked.code, revoked.stdout.clone()), (0, format!("token {id} revoked\n")), "{revoked:?}");
    let (status, body) = client.get("/advertisers/1001/transactions/jobs").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let jobs = ratify(url, &[("RATIFY_TOKEN", token)], &["jobs", "--advertiser", "1001"]).await;
    assert_eq!(jobs.code, REFUSED, "{jobs:?}");
    assert!(jobs.stderr.starts_with("error: UNAUTHORIZED: "), "{jobs:?}");
    let twice = ratify(url, &admin, &["token", "revoke", id]).await;
    assert_eq!(twice.code, REFUSED, "{twice:?}");
    assert!(twice.stderr.starts_with("error: TOKEN_NOT_FOUND: "), "{twice:?}");

    let wrong = ratify(url, &[("RATIFY_ADMIN_TOKEN", "not-the-admin-token")], &["token", "revoke", id]).await;
    assert_eq!(wrong.code, REFUSED, "{wrong:?}");
    assert!(wrong.stderr.starts_with("error: UNAUTHORIZED: "), "{wrong:?}");
    for run in [&again, &bad_group, &created, &revoked, &twice, &wrong] {
        assert!(!run.stdout.contains(&stack.admin_token) && !run.stderr.contains(&stack.admin_token), "{run:?}");
        assert!(!run.stderr.contains("not-the-admin-token"), "{run:?}");
    }
}

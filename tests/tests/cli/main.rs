//! The `ratify` command-line client against a running stack: the built binary is run as
//! a user would run it, and what it prints, its exit code and what it changed in the
//! api are checked.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ratify_tests::Stack;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn ratify_bin() -> PathBuf {
    std::env::var_os("RATIFY_BIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/debug"))
        .join("ratify")
}

/// What one run of `ratify` left behind.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `ratify --url <url> ARGS` with only `env` (and PATH) in its environment, so the
/// developer's own RATIFY_* variables never leak in.
async fn ratify(url: &str, env: &[(&str, &str)], args: &[&str]) -> Run {
    let output = tokio::process::Command::new(ratify_bin())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .arg("--url")
        .arg(url)
        .args(args)
        .output()
        .await
        .expect("running ratify (is it built? cargo build --workspace --bins)");
    let run = Run {
        code: output.status.code().expect("exit code"),
        stdout: String::from_utf8(output.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("utf-8 stderr"),
    };
    eprintln!("ratify {args:?} -> {run:?}");
    run
}

/// A command line split into words, `'…'` quoting a word with spaces (no escapes).
fn words(line: &str) -> Vec<&str> {
    line.split('\'')
        .enumerate()
        .flat_map(|(i, part)| if i % 2 == 1 { vec![part] } else { part.split_whitespace().collect() })
        .collect()
}

/// A folder of this test's input files under `target/`.
fn work_dir(stack: &Stack) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/cli-tests").join(&stack.name);
    std::fs::create_dir_all(&dir).expect("creating the test folder");
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("writing an input file");
    path.to_str().expect("utf-8 path").to_owned()
}

/// The `[code]  count` lines of a `submit --wait` summary.
fn summary(stdout: &str) -> BTreeMap<String, u64> {
    stdout
        .lines()
        .filter(|line| line.starts_with("  ["))
        .map(|line| {
            let (code, count) = line.trim().rsplit_once(' ').expect("code and count");
            (code.trim().to_owned(), count.parse().expect("count"))
        })
        .collect()
}

fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(code, n)| (code.to_string(), *n)).collect()
}

/// The value after `key: ` on a line of `stdout`.
fn field<'a>(stdout: &'a str, key: &str) -> &'a str {
    stdout
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{key}: ")))
        .unwrap_or_else(|| panic!("no {key} in {stdout}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_commands_manage_advertisers_groups_and_tokens() {
    let stack = Stack::builder().workers(0).start().await;
    let url = stack.base_url.as_str();
    let admin = [("RATIFY_ADMIN_TOKEN", stack.admin_token.as_str())];
    let create = "advertiser create --id 1001 --name 'Store SE' --currency SEK \
                  --group 'EXISTING:Existing customers:percentage:5'";
    let run = ratify(url, &admin, &words(create)).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("advertiser 1001 \"Store SE\" (SEK) created"), "{run:?}");
    assert!(run.stdout.contains("DEFAULT") && run.stdout.contains("EXISTING"), "{run:?}");
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
    assert_eq!((again.code, again.stderr.as_str()), (1, "error: ADVERTISER_EXISTS: advertiser 1001 already exists\n"));
    let bad_group = "advertiser create --id 1003 --name X --currency SEK --group EXISTING:Existing:percentage:12,5";
    let bad_group = ratify(url, &admin, &words(bad_group)).await;
    assert_eq!(bad_group.code, 2, "{bad_group:?}");

    let set = "group set --advertiser 1001 --code EXISTING --name Existing --type fixed --value 2.50";
    let run = ratify(url, &admin, &words(set)).await;
    assert_eq!(run.code, 0, "{run:?}");
    let (kind, exact): (String, bool) = sqlx::query_as(
        "SELECT kind, value = 2.50 FROM commission_groups WHERE advertiser_id = 1001 AND code = 'EXISTING'",
    )
    .fetch_one(&stack.db)
    .await
    .unwrap();
    assert_eq!((kind.as_str(), exact), ("fixed", true));

    let run =
        ratify(url, &admin, &["advertiser", "create", "--id", "1002", "--name", "Store NO", "--currency", "NOK"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    // The admin token as a flag this time.
    let token_args = format!(
        "--admin-token {} token create --name finance-bot --advertiser 1001 --advertiser 1002",
        stack.admin_token
    );
    let created = ratify(url, &[], &words(&token_args)).await;
    assert_eq!(created.code, 0, "{created:?}");
    let (id, token) = (field(&created.stdout, "id"), field(&created.stdout, "token"));
    let client = stack.client(token);
    for advertiser in [1001, 1002] {
        let (status, body) = client.get(&format!("/advertisers/{advertiser}/transactions/jobs")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let jobs = ratify(url, &[("RATIFY_TOKEN", token)], &["jobs", "--advertiser", "1002"]).await;
    assert_eq!(jobs.code, 0, "{jobs:?}");

    let revoked = ratify(url, &admin, &["token", "revoke", id]).await;
    assert_eq!((revoked.code, revoked.stdout.clone()), (0, format!("token {id} revoked\n")), "{revoked:?}");
    let (status, body) = client.get("/advertisers/1001/transactions/jobs").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let jobs = ratify(url, &[("RATIFY_TOKEN", token)], &["jobs", "--advertiser", "1001"]).await;
    assert_eq!(jobs.code, 1, "{jobs:?}");
    assert!(jobs.stderr.starts_with("error: UNAUTHORIZED: "), "{jobs:?}");
    let twice = ratify(url, &admin, &["token", "revoke", id]).await;
    assert_eq!(twice.code, 1, "{twice:?}");
    assert!(twice.stderr.starts_with("error: TOKEN_NOT_FOUND: "), "{twice:?}");

    let wrong = ratify(url, &[("RATIFY_ADMIN_TOKEN", "not-the-admin-token")], &["token", "revoke", id]).await;
    assert_eq!(wrong.code, 1, "{wrong:?}");
    assert!(wrong.stderr.starts_with("error: UNAUTHORIZED: "), "{wrong:?}");
    for run in [&again, &bad_group, &created, &revoked, &twice, &wrong] {
        assert!(!run.stdout.contains(&stack.admin_token) && !run.stderr.contains(&stack.admin_token), "{run:?}");
        assert!(!run.stderr.contains("not-the-admin-token"), "{run:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn submit_json_waits_summarises_and_lists_jobs() {
    let stack = Stack::builder().workers(1).start().await;
    let url = stack.base_url.as_str();
    let dir = work_dir(&stack);
    stack.admin().create_advertiser(1001, "SEK", &[("DEFAULT", "percentage", json!(10))]).await;
    let token = stack.admin().create_token(&[1001]).await;
    let ids = stack.client(&token).record_simple(1001, "SEK", "SO", 2).await;
    let env = [("RATIFY_TOKEN", token.as_str())];

    let batch = json!([
        {"action": "approve", "transaction": {"transactionId": ids[0]}},
        {"action": "approve", "transaction": {"transactionId": ids[1]}},
        {"action": "approve", "transaction": {"transactionId": 999_999_999}},
    ]);
    let file = write(&dir, "batch.json", &serde_json::to_string_pretty(&batch).unwrap());
    let run = ratify(url, &env, &["submit", &file, "--advertiser", "1001", "--wait"]).await;
    assert_eq!(run.code, 1, "an error in the job is exit code 1: {run:?}");
    let first_job = run.stdout.lines().next().expect("the jobId line").to_owned();
    assert!(uuid::Uuid::parse_str(&first_job).is_ok(), "{run:?}");
    assert!(run.stdout.contains(&format!("job {first_job} DONE: 3 transactions, 1 error")), "{run:?}");
    assert_eq!(summary(&run.stdout), counts(&[("[200 OK]", 2), ("[404 NOT_FOUND]", 1)]));
    assert!(!run.stdout.contains(&token) && !run.stderr.contains(&token), "{run:?}");

    // Approving again: 304 is no error, so exit code 0.
    let file =
        write(&dir, "again", &json!([{"action": "approve", "transaction": {"transactionId": ids[0]}}]).to_string());
    let run = ratify(url, &env, &["submit", &file, "--format", "json", "--advertiser", "1001", "--wait"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(summary(&run.stdout), counts(&[("[304 NOT_MODIFIED]", 1)]));

    // The same idempotency key twice gives the same job.
    let mut keyed = Vec::new();
    for _ in 0..2 {
        let run = ratify(url, &env, &["submit", &file, "--advertiser", "1001", "--idempotency-key", "k-1"]).await;
        assert_eq!(run.code, 0, "{run:?}");
        keyed.push(run.stdout.trim().to_owned());
    }
    assert_eq!(keyed[0], keyed[1]);

    let run = ratify(url, &env, &["jobs", "--advertiser", "1001"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout.lines().count(), 4, "a header and three jobs: {run:?}");
    assert!(run.stdout.lines().any(|l| l.starts_with(&first_job) && l.contains("DONE")), "{run:?}");
    let page = ratify(url, &env, &["jobs", "--advertiser", "1001", "--limit", "2"]).await;
    assert_eq!(page.stdout.lines().count(), 3, "{page:?}");
    assert!(page.stderr.contains("--all-pages"), "{page:?}");
    let all = ratify(url, &env, &["jobs", "--advertiser", "1001", "--limit", "1", "--all-pages"]).await;
    // The same jobs in the same order (the last one may have finished meanwhile).
    let ids =
        |stdout: &str| stdout.lines().map(|l| l.split_whitespace().next().unwrap_or("").to_owned()).collect::<Vec<_>>();
    assert_eq!(ids(&all.stdout), ids(&run.stdout), "{all:?}");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn submit_csv_applies_every_kind_of_action_and_exports_errors() {
    let stack = Stack::builder().workers(1).start().await;
    let url = stack.base_url.as_str();
    let dir = work_dir(&stack);
    let admin = stack.admin();
    admin
        .create_advertiser(1001, "SEK", &[("DEFAULT", "percentage", json!(10)), ("EXISTING", "percentage", json!(5))])
        .await;
    let token = stack.admin().create_token(&[1001]).await;
    let client = stack.client(&token);
    let ids = client.record_simple(1001, "SEK", "SO", 3).await;
    let csv = format!(
        "Action,transactionId,orderRef,transactionDate,timezone,declineReason,amendReason,approve,currency,\
         saleAmount,parts\n\
         approve,{},,,,,,,,,\n\
         decline,,SO-1,2026-11-14T10:15:00,Europe/Stockholm,order returned,,,,,\n\
         amend,{},,,,,partial return,true,SEK,55.96,DEFAULT:44.76;EXISTING:11.20\n\
         approve,999999999,,,,,,,,,\n",
        ids[0], ids[2]
    );
    let file = write(&dir, "actions.csv", &csv);
    let run = ratify(url, &[], &["--token", &token, "submit", &file, "--advertiser", "1001", "--wait"]).await;
    assert_eq!(run.code, 1, "{run:?}");
    let job = run.stdout.lines().next().expect("jobId").to_owned();
    assert_eq!(summary(&run.stdout), counts(&[("[200 OK]", 3), ("[404 NOT_FOUND]", 1)]));

    assert_eq!(client.transaction(1001, ids[0]).await["commissionStatus"], "approved");
    let declined = client.transaction(1001, ids[1]).await;
    assert_eq!(
        (&declined["commissionStatus"], &declined["declineReason"]),
        (&json!("declined"), &json!("order returned"))
    );
    let amended = client.transaction(1001, ids[2]).await;
    assert_eq!(amended["commissionStatus"], "approved");
    assert_eq!(amended["amended"], true);
    assert_eq!(amended["saleAmount"], json!({"amount": 55.96, "currency": "SEK"}));
    // 10 % of 44.76 is 4.476 → 4.48; 5 % of 11.20 is 0.56.
    assert_eq!(amended["commissionAmount"], json!({"amount": 5.04, "currency": "SEK"}));
    let parts: Vec<(Value, Value)> = amended["transactionParts"]
        .as_array()
        .expect("parts")
        .iter()
        .map(|p| (p["commissionGroupCode"].clone(), p["amount"].clone()))
        .collect();
    assert_eq!(parts, [(json!("DEFAULT"), json!(44.76)), (json!("EXISTING"), json!(11.20))]);

    let env = [("RATIFY_TOKEN", token.as_str())];
    let export = ratify(url, &env, &["job", &job, "--advertiser", "1001", "--errors", "--csv"]).await;
    assert_eq!(export.code, 0, "{export:?}");
    let lines: Vec<&str> = export.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{export:?}");
    assert_eq!(lines[0], "index,action,transactionId,orderRef,transactionDate,timezone,code,description");
    assert!(lines[1].starts_with("3,approve,999999999,,,,[404 NOT_FOUND],"), "{export:?}");
    assert!(lines[1].len() > "3,approve,999999999,,,,[404 NOT_FOUND],".len(), "a 404 says why: {export:?}");

    let all = ratify(url, &env, &["job", &job, "--advertiser", "1001", "--all"]).await;
    let items: Vec<Value> = serde_json::from_str(&all.stdout).expect("a JSON array");
    let indexes: Vec<i64> = items.iter().map(|i| i["index"].as_i64().expect("index")).collect();
    assert_eq!(indexes, [0, 1, 2, 3]);
    assert_eq!(items[1]["orderRef"], "SO-1");

    let shown = ratify(url, &env, &["job", &job, "--advertiser", "1001"]).await;
    assert!(shown.stdout.contains("status        DONE") && shown.stdout.contains("errors        1"), "{shown:?}");
    let unknown = ratify(url, &env, &["job", "5b4c7a52-0000-4000-8000-000000000000", "--advertiser", "1001"]).await;
    assert_eq!(unknown.code, 1, "{unknown:?}");
    assert!(unknown.stderr.starts_with("error: JOB_NOT_FOUND: "), "{unknown:?}");

    let listed = ratify(url, &env, &["jobs", "--advertiser", "1001"]).await;
    assert!(listed.stdout.lines().any(|l| l.starts_with(&job)), "{listed:?}");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_file_is_refused_with_its_line_and_nothing_is_submitted() {
    let stack = Stack::builder().workers(0).start().await;
    let url = stack.base_url.as_str();
    let dir = work_dir(&stack);
    stack.admin().create_advertiser(1001, "SEK", &[]).await;
    let token = stack.admin().create_token(&[1001]).await;
    let env = [("RATIFY_TOKEN", token.as_str())];

    let csv = "action,transactionId,amendReason,currency,saleAmount,parts\n\
               approve,1,,,,\n\
               amend,2,fix,SEK,\"12,5\",DEFAULT:12.5\n";
    let file = write(&dir, "bad.csv", csv);
    let run = ratify(url, &env, &["submit", &file, "--advertiser", "1001", "--wait"]).await;
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(run.stderr, format!("error: {file}:3: saleAmount \"12,5\" is not a number\n"));
    assert_eq!(run.stdout, "");

    let file = write(&dir, "bad.json", "[\n{\"action\": \"approve\"},\n{\"action\": \n");
    let run = ratify(url, &env, &["submit", &file, "--advertiser", "1001"]).await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.starts_with(&format!("error: {file}:4: not a JSON array of actions")), "{run:?}");

    let (status, body) = stack.client(&token).get("/advertisers/1001/transactions/jobs").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["jobs"], json!([]), "nothing was submitted");

    // An advertiser the token is not granted: the api's 403, exit code 1.
    let file = write(&dir, "ok.json", r#"[{"action": "approve", "transaction": {"transactionId": 1}}]"#);
    let run = ratify(url, &env, &["submit", &file, "--advertiser", "1002"]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.starts_with("error: FORBIDDEN: "), "{run:?}");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn an_unreachable_api_is_named_by_its_url() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}");
    let run = ratify(&url, &[("RATIFY_TOKEN", "t")], &["jobs", "--advertiser", "1001"]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.starts_with(&format!("error: could not reach the api at {url}: ")), "{run:?}");
    let run = ratify(&url, &[], &["jobs", "--advertiser", "1001"]).await;
    assert_eq!((run.code, run.stderr.as_str()), (2, "error: no token: set RATIFY_TOKEN or pass --token\n"));
}

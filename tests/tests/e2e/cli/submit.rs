//! Finance teams' commands: submit (JSON and CSV, --wait, several jobs, the derived
//! Idempotency-Key, --json), job and jobs.

use ratify_tests::Stack;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::*;

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
    assert_eq!(run.code, ITEMS_FAILED, "an error in the job: {run:?}");
    let first_job = run.stdout.lines().next().expect("the jobId line").to_owned();
    assert!(uuid::Uuid::parse_str(&first_job).is_ok(), "{run:?}");
    assert!(run.stdout.contains(&format!("job {first_job} DONE: 3 transactions, 1 error")), "{run:?}");
    assert_eq!(summary(&run.stdout), counts(&[("[200 OK]", 2), ("[404 NOT_FOUND]", 1)]));
    assert!(!run.stdout.contains(&token) && !run.stderr.contains(&token), "{run:?}");

    // Approving again: 304 is no error, so all applied.
    let file =
        write(&dir, "again", &json!([{"action": "approve", "transaction": {"transactionId": ids[0]}}]).to_string());
    let run = ratify(url, &env, &["submit", &file, "--format", "json", "--advertiser", "1001", "--wait"]).await;
    assert_eq!(run.code, APPLIED, "{run:?}");
    assert_eq!(summary(&run.stdout), counts(&[("[304 NOT_MODIFIED]", 1)]));

    // The same idempotency key twice gives the same job.
    let mut keyed = Vec::new();
    for _ in 0..2 {
        let run = ratify(url, &env, &["submit", &file, "--advertiser", "1001", "--idempotency-key", "k-1"]).await;
        assert_eq!(run.code, APPLIED, "{run:?}");
        keyed.push(run.stdout.trim().to_owned());
    }
    assert_eq!(keyed[0], keyed[1]);

    let run = ratify(url, &env, &["jobs", "--advertiser", "1001"]).await;
    assert_eq!(run.code, APPLIED, "{run:?}");
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
    assert_eq!(run.code, ITEMS_FAILED, "{run:?}");
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
    assert_eq!(export.code, APPLIED, "{export:?}");
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
    assert_eq!(unknown.code, REFUSED, "{unknown:?}");
    assert!(unknown.stderr.starts_with("error: JOB_NOT_FOUND: "), "{unknown:?}");

    let listed = ratify(url, &env, &["jobs", "--advertiser", "1001"]).await;
    assert!(listed.stdout.lines().any(|l| l.starts_with(&job)), "{listed:?}");
    let _ = std::fs::remove_dir_all(dir);
}

/// The Idempotency-Key a submit sends by default: `sha256-` and the hex SHA-256 of the
/// body, which for a JSON file that fits is the file's bytes.
fn derived_key(bytes: &[u8]) -> String {
    format!("sha256-{}", hex::encode(Sha256::digest(bytes)))
}

#[tokio::test(flavor = "multi_thread")]
async fn running_the_same_submit_again_answers_the_same_job() {
    let stack = Stack::builder().workers(0).start().await;
    let url = stack.base_url.as_str();
    let dir = work_dir(&stack);
    stack.admin().create_advertiser(1001, "SEK", &[]).await;
    let token = stack.admin().create_token(&[1001]).await;
    // The advertiser from the environment this time.
    let env = [("RATIFY_TOKEN", token.as_str()), ("RATIFY_ADVERTISER", "1001")];
    let text = r#"[{"action": "approve", "transaction": {"transactionId": 1}}]"#;
    let file = write(&dir, "run.json", text);

    let first = ratify(url, &env, &["submit", &file]).await;
    assert_eq!(first.code, APPLIED, "{first:?}");
    let again = ratify(url, &env, &["submit", &file]).await;
    assert_eq!((again.code, &again.stdout), (APPLIED, &first.stdout), "the same file is the same job: {again:?}");
    // The key is the file's hash: the api knows it.
    let response = reqwest::Client::new()
        .post(format!("{url}/advertisers/1001/transactions/batch"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .header("idempotency-key", derived_key(text.as_bytes()))
        .body(text)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["jobId"].as_str(), Some(first.stdout.trim()));

    // Other bytes are another job; a key of one's own wins over the hash.
    let other = write(&dir, "other.json", &text.replace(": 1}", ": 2}"));
    let run = ratify(url, &env, &["submit", &other]).await;
    assert_ne!(run.stdout, first.stdout, "{run:?}");
    let keyed = ratify(url, &env, &["submit", &file, "--idempotency-key", "run-2"]).await;
    assert_eq!(keyed.code, APPLIED, "{keyed:?}");
    assert_ne!(keyed.stdout, first.stdout, "{keyed:?}");
    let (_, page) = stack.client(&token).get("/advertisers/1001/transactions/jobs").await;
    assert_eq!(page["jobs"].as_array().map(Vec::len), Some(3), "{page}");

    // A CSV file is keyed by the JSON it becomes, the same on every run.
    let csv = write(&dir, "run.csv", "action,transactionId\napprove,7\n");
    let runs = [ratify(url, &env, &["submit", &csv]).await, ratify(url, &env, &["submit", &csv]).await];
    assert_eq!(runs[0].stdout, runs[1].stdout, "{runs:?}");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_over_the_item_limit_becomes_several_jobs() {
    let stack = Stack::builder().workers(1).env("RATIFY_MAX_BATCH_ITEMS", 3).start().await;
    let url = stack.base_url.as_str();
    let dir = work_dir(&stack);
    stack.admin().create_advertiser(1001, "SEK", &[]).await;
    let token = stack.admin().create_token(&[1001]).await;
    let client = stack.client(&token);
    let ids = client.record_simple(1001, "SEK", "SO", 7).await;
    let env = [("RATIFY_TOKEN", token.as_str())];
    let rows: String = ids.iter().map(|id| format!("approve,{id}\n")).collect();
    let file = write(&dir, "seven.csv", &format!("action,transactionId\n{rows}"));

    // Sent whole, the api refuses it.
    let whole = ratify(url, &env, &["submit", &file, "--advertiser", "1001"]).await;
    assert_eq!(whole.code, REFUSED, "{whole:?}");
    assert!(whole.stderr.starts_with("error: TOO_MANY_ITEMS: "), "{whole:?}");

    let args = ["submit", &file, "--advertiser", "1001", "--max-items", "3", "--wait"];
    let run = ratify(url, &env, &args).await;
    assert_eq!(run.code, APPLIED, "{run:?}");
    let jobs: Vec<&str> = run.stdout.lines().filter(|l| uuid::Uuid::parse_str(l).is_ok()).collect();
    assert_eq!(jobs.len(), 3, "{run:?}");
    let mut counts = Vec::new();
    for job in &jobs {
        let done = client.wait_done(1001, job).await;
        counts.push(done.items().len());
        assert!(run.stdout.contains(&format!("job {job} DONE")), "{run:?}");
    }
    assert_eq!(counts, [3, 3, 1]);
    for id in &ids {
        assert_eq!(client.transaction(1001, *id).await["commissionStatus"], "approved");
    }
    // Again: the same three jobs, nothing new.
    let again = ratify(url, &env, &args[..6]).await;
    assert_eq!(again.stdout.lines().collect::<Vec<_>>(), jobs, "{again:?}");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn json_output_is_one_document_for_scripts() {
    let stack = Stack::builder().workers(1).start().await;
    let url = stack.base_url.as_str();
    let dir = work_dir(&stack);
    stack.admin().create_advertiser(1001, "SEK", &[]).await;
    let token = stack.admin().create_token(&[1001]).await;
    let ids = stack.client(&token).record_simple(1001, "SEK", "SO", 1).await;
    let env = [("RATIFY_TOKEN", token.as_str()), ("RATIFY_ADVERTISER", "1001")];
    let file = write(&dir, "b.csv", &format!("action,transactionId\napprove,{}\napprove,999999999\n", ids[0]));
    let parse = |run: &Run| -> Value { serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {run:?}")) };

    let run = ratify(url, &env, &["--json", "submit", &file, "--wait"]).await;
    assert_eq!(run.code, ITEMS_FAILED, "{run:?}");
    let done = parse(&run);
    let job = &done["jobs"][0];
    let id = job["jobId"].as_str().expect("jobId").to_owned();
    assert_eq!((&job["status"], &job["transactionCount"], &job["errorCount"]), (&json!("DONE"), &json!(2), &json!(1)));
    assert_eq!(job["outcomes"], json!({"[200 OK]": 1, "[404 NOT_FOUND]": 1}));

    let submitted = parse(&ratify(url, &env, &["submit", &file, "--json"]).await);
    assert_eq!(submitted, json!({"jobs": [{"jobId": id}]}), "the same file: the same job");
    let shown = parse(&ratify(url, &env, &["job", &id, "--json"]).await);
    assert_eq!((&shown["jobId"], &shown["errorCount"]), (&json!(id), &json!(1)));
    let listed = parse(&ratify(url, &env, &["jobs", "--json"]).await);
    assert_eq!(listed["jobs"][0]["jobId"], json!(id));
    assert_eq!(listed["nextCursor"], Value::Null);
    let _ = std::fs::remove_dir_all(dir);
}

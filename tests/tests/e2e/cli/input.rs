//! Input files: every bad row listed and nothing sent, `;`-separated files as Excel
//! writes them, and the CLI's own error export sent back.

use ratify_tests::Stack;
use reqwest::StatusCode;
use serde_json::json;

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_file_is_refused_with_every_bad_row_and_nothing_is_submitted() {
    let stack = Stack::builder().workers(0).start().await;
    let url = stack.base_url.as_str();
    let dir = work_dir(&stack);
    stack.admin().create_advertiser(1001, "SEK", &[]).await;
    let token = stack.admin().create_token(&[1001]).await;
    let env = [("RATIFY_TOKEN", token.as_str())];

    let csv = "action,transactionId,amendReason,currency,saleAmount,parts\n\
               approve,1,,,,\n\
               amend,2,fix,SEK,\"12,5\",DEFAULT:12.5\n\
               approve,3,,,,\n\
               approve,x,,,,\n\
               decline,5,,,,\n";
    let file = write(&dir, "bad.csv", csv);
    let run = ratify(url, &env, &["submit", &file, "--advertiser", "1001", "--wait"]).await;
    assert_eq!(run.code, REFUSED, "{run:?}");
    assert_eq!(
        run.stderr,
        format!(
            "error: {file}:3: saleAmount \"12,5\" is not a number\n\
             error: {file}:5: transactionId \"x\" is not a positive integer\n\
             error: {file}:6: declineReason is required for decline\n\
             error: {file}: 3 bad rows; nothing was submitted\n"
        )
    );
    assert_eq!(run.stdout, "");
    let one = write(&dir, "one.csv", "action,transactionId\napprove,1\napprove,-1\n");
    let run = ratify(url, &env, &["submit", &one, "--advertiser", "1001"]).await;
    assert_eq!(run.code, REFUSED, "{run:?}");
    assert_eq!(run.stderr, format!("error: {one}:3: transactionId \"-1\" is not a positive integer\n"));

    let file = write(&dir, "bad.json", "[\n{\"action\": \"approve\"},\n{\"action\": \n");
    let run = ratify(url, &env, &["submit", &file, "--advertiser", "1001"]).await;
    assert_eq!(run.code, REFUSED, "{run:?}");
    assert!(run.stderr.starts_with(&format!("error: {file}:4: not a JSON array of actions")), "{run:?}");

    let (status, body) = stack.client(&token).get("/advertisers/1001/transactions/jobs").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["jobs"], json!([]), "nothing was submitted");

    // An advertiser the token is not granted: the api's 403, refused.
    let file = write(&dir, "ok.json", r#"[{"action": "approve", "transaction": {"transactionId": 1}}]"#);
    let run = ratify(url, &env, &["submit", &file, "--advertiser", "1002"]).await;
    assert_eq!(run.code, REFUSED, "{run:?}");
    assert!(run.stderr.starts_with("error: FORBIDDEN: "), "{run:?}");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_semicolon_file_from_excel_is_read() {
    let stack = Stack::builder().workers(1).start().await;
    let url = stack.base_url.as_str();
    let dir = work_dir(&stack);
    let groups = [("DEFAULT", "percentage", json!(10)), ("EXISTING", "percentage", json!(5))];
    stack.admin().create_advertiser(1001, "SEK", &groups).await;
    let token = stack.admin().create_token(&[1001]).await;
    let client = stack.client(&token);
    let ids = client.record_simple(1001, "SEK", "SO", 3).await;
    // As Excel saves "CSV UTF-8" where the decimal separator is a comma: a byte order
    // mark, `;` between cells, CRLF line ends, quotes around a cell holding `;`.
    let csv = format!(
        "\u{feff}action;transactionId;orderRef;transactionDate;timezone;declineReason;amendReason;currency;\
         saleAmount;parts\r\n\
         approve;{};;;;;;;;\r\n\
         decline;;SO-1;2026-11-14 10:15:00;Europe/Stockholm;returned, partly;;;;\r\n\
         amend;{};;;;;fix;SEK;55.96;\"DEFAULT:44.76;EXISTING:11.20\"\r\n",
        ids[0], ids[2]
    );
    let file = write(&dir, "excel.csv", &csv);
    let run = ratify(url, &[("RATIFY_TOKEN", &token)], &["submit", &file, "--advertiser", "1001", "--wait"]).await;
    assert_eq!(run.code, APPLIED, "{run:?}");
    assert_eq!(summary(&run.stdout), counts(&[("[200 OK]", 3)]), "{run:?}");
    assert_eq!(client.transaction(1001, ids[0]).await["commissionStatus"], "approved");
    let declined = client.transaction(1001, ids[1]).await;
    assert_eq!(declined["declineReason"], "returned, partly", "{declined}");
    let amended = client.transaction(1001, ids[2]).await;
    assert_eq!(amended["saleAmount"], json!({"amount": 55.96, "currency": "SEK"}), "{amended}");
    assert_eq!(amended["transactionParts"].as_array().map(Vec::len), Some(2), "{amended}");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_error_export_reads_back_as_a_submit_file() {
    let stack = Stack::builder().workers(1).start().await;
    let url = stack.base_url.as_str();
    let dir = work_dir(&stack);
    stack.admin().create_advertiser(1001, "SEK", &[]).await;
    let token = stack.admin().create_token(&[1001]).await;
    let client = stack.client(&token);
    let env = [("RATIFY_TOKEN", token.as_str()), ("RATIFY_ADVERTISER", "1001")];
    let ids = client.record_simple(1001, "SEK", "SO", 1).await;
    // The second order is not recorded yet when the batch comes: 404.
    let csv = format!(
        "action,transactionId,orderRef,transactionDate,timezone\n\
         approve,{},,,\n\
         approve,,LATE-1,2026-11-14T10:15:00,Europe/Stockholm\n",
        ids[0]
    );
    let file = write(&dir, "first.csv", &csv);
    let run = ratify(url, &env, &["submit", &file, "--wait"]).await;
    assert_eq!(run.code, ITEMS_FAILED, "{run:?}");
    let job = run.stdout.lines().next().expect("jobId").to_owned();
    let export = ratify(url, &env, &["job", &job, "--errors", "--csv"]).await;
    assert_eq!(export.code, APPLIED, "{export:?}");
    assert!(export
        .stdout
        .starts_with("index,action,transactionId,orderRef,transactionDate,timezone,code,description\n"));
    assert!(export.stdout.contains("[404 NOT_FOUND]"), "{export:?}");
    let failed = write(&dir, "failed.csv", &export.stdout);

    let late = client
        .record(
            1001,
            &json!([{"orderRef": "LATE-1", "transactionDate": "2026-11-14T10:15:00", "timezone": "Europe/Stockholm",
                     "saleAmount": 100, "currency": "SEK"}]),
        )
        .await;
    let again = ratify(url, &env, &["submit", &failed, "--wait"]).await;
    assert_eq!(again.code, APPLIED, "{again:?}");
    assert_eq!(summary(&again.stdout), counts(&[("[200 OK]", 1)]), "{again:?}");
    assert_eq!(client.transaction(1001, late[0]).await["commissionStatus"], "approved");
    let _ = std::fs::remove_dir_all(dir);
}

//! The job's views: `output=all`, `output=errors`, no output, and a bad `output`.

use reqwest::StatusCode;

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn job_output_errors_and_all() {
    let stack = Stack::builder().in_process().workers(1).start().await;
    let client = stack.advertiser(2007, "EUR", &default_10()).await;
    let ids = client.record_simple(2007, "EUR", "O", 4).await;
    client.run(2007, &json!([approve(ids[1])])).await;
    let by_ref = |action: &str, order_ref: &str| {
        json!({"action": action, "transaction": {"orderRef": order_ref, "transactionDate": "2026-11-14T10:15:00",
               "timezone": "Europe/Stockholm", "declineReason": "returned"}})
    };
    let batch = json!([
        approve(ids[0]),                                    // 0: 200
        approve(ids[1]),                                    // 1: 304
        "not an object",                                    // 2: 400
        approve(999_999_999),                               // 3: 404
        by_ref("approve", "O-2"),                           // 4: 200, resolved
        decline(ids[1], "returned"),                        // 5: 422
        by_ref("decline", "NOPE"),                          // 6: 404
        amend(ids[3], false, 100.0, &[("DEFAULT", 100.0)]), // 7: 304
    ]);
    let job_id = client.submit(2007, &batch).await;
    let all = client.wait_done(2007, &job_id).await;
    let path = format!("/advertisers/2007/transactions/jobs/{job_id}");
    let codes = [OK, NOT_MODIFIED, BAD_REQUEST, NOT_FOUND, OK, UNPROCESSABLE, NOT_FOUND, NOT_MODIFIED];
    let actions = ["approve", "approve", "", "approve", "approve", "decline", "decline", "amend"];
    assert_counts(&all, 8, 4);
    for (i, code) in codes.iter().enumerate() {
        assert_code(&all, i, code);
        let item = all.item(i);
        if !actions[i].is_empty() {
            assert_eq!(item["action"], json!(actions[i]), "{item}");
        }
    }
    assert_eq!(all.item(0)["transactionId"], json!(ids[0]));
    assert_eq!(all.item(1)["transactionId"], json!(ids[1]));
    assert_eq!(all.item(3)["transactionId"], json!(999_999_999));
    assert_eq!(all.item(5)["transactionId"], json!(ids[1]));
    assert_eq!(all.item(7)["transactionId"], json!(ids[3]));
    for i in [4, 6] {
        let item = all.item(i);
        assert_eq!(item["transactionDate"], json!("2026-11-14T10:15:00"), "{item}");
        assert_eq!(item["timezone"], json!("Europe/Stockholm"), "{item}");
    }
    assert_eq!(all.item(4)["orderRef"], json!("O-2"));
    assert_eq!(all.item(4)["transactionId"], json!(ids[2]), "the resolved id");
    assert_eq!(all.item(6)["orderRef"], json!("NOPE"));
    assert!(all.item(6)["transactionId"].is_null(), "nothing resolved: {}", all.item(6));
    let b = &all.body;
    assert_eq!(b.get("failedTransactions"), Some(&Value::Null), "{b}");
    assert_eq!(b["transactions"], b["transactionCount"], "{b}");
    assert_eq!(b["errors"], b["errorCount"], "{b}");
    assert!(b["completionDate"].is_string(), "DONE has a completionDate: {b}");
    assert!(b["creationDate"].is_string(), "{b}");
    assert_eq!(b["jobId"], json!(job_id), "{b}");

    // output=errors: only 400/404/422/500, index order, the same items as in `all`.
    let (status, errors) = client.get(&format!("{path}?output=errors")).await;
    assert_eq!(status, StatusCode::OK, "{errors}");
    assert_eq!(errors.get("allTransactions"), Some(&Value::Null), "{errors}");
    let failed = errors["failedTransactions"].as_array().expect("failedTransactions");
    let indexes: Vec<i64> = failed.iter().map(|i| i["index"].as_i64().expect("index")).collect();
    assert_eq!(indexes, vec![2, 3, 5, 6], "{errors}");
    for item in failed {
        let index = item["index"].as_u64().expect("index") as usize;
        assert_eq!(item, all.item(index), "errors and all agree on item {index}");
    }
    assert_eq!(errors["errors"], json!(4), "{errors}");
    assert_eq!(errors["transactions"], json!(8), "{errors}");

    // No output: both lists null.
    let (status, summary) = client.get(&path).await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!(summary.get("failedTransactions"), Some(&Value::Null), "{summary}");
    assert_eq!(summary.get("allTransactions"), Some(&Value::Null), "{summary}");
    assert_eq!(summary["status"], json!("DONE"), "{summary}");
    assert_eq!(summary["errorCount"], json!(4), "{summary}");
    assert_eq!(summary["errors"], json!(4), "{summary}");
    assert_eq!(summary["transactionCount"], json!(8), "{summary}");
    assert_eq!(summary["transactions"], json!(8), "{summary}");
    assert!(summary["completionDate"].is_string(), "{summary}");

    // Any other output: 400 in the one error shape.
    let (status, body) = client.get(&format!("{path}?output=bogus")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let obj = body.as_object().unwrap_or_else(|| panic!("an object: {body}"));
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["description", "error"], "{body}");
    let error = body["error"].as_str().expect("error");
    assert!(
        !error.is_empty() && error.chars().all(|c| c.is_ascii_uppercase() || c == '_'),
        "error is UPPER_SNAKE: {body}"
    );
    assert!(body["description"].as_str().is_some_and(|d| !d.is_empty()), "{body}");
}

//! Completion webhooks end to end: set, delivered from the outbox at least once with the
//! same `webhook-id` and a valid Standard Webhooks signature, retried, logged; private
//! targets refused; a worker killed mid-delivery.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use ratify_tests::receiver::{Answer, Received, Receiver};
use ratify_tests::{eventually, Client, Stack};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::Sha256;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// Checks a request's signature as a receiver would, from the spec alone.
fn signed(request: &Received) -> bool {
    let key = STANDARD.decode(SECRET.trim_start_matches("whsec_")).expect("the secret's key");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("a key");
    let (id, timestamp) = (&request.headers["webhook-id"], &request.headers["webhook-timestamp"]);
    mac.update(format!("{id}.{timestamp}.{}", request.body).as_bytes());
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    request.headers["webhook-signature"].split(' ').any(|s| s == expected)
}

async fn advertiser(stack: &Stack) -> Client {
    stack.advertiser(1001, "SEK", &[("DEFAULT", "percentage", json!(10))]).await
}

async fn set(client: &Client, url: &str) -> (StatusCode, Value) {
    client.send(Method::PUT, "/advertisers/1001/webhook", Some(&json!({"url": url, "secret": SECRET}))).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_or_slow_receiver_gets_the_same_signed_delivery_until_it_succeeds() {
    let stack = Stack::builder()
        .in_process()
        .workers(1)
        .env("RATIFY_WEBHOOK_ALLOW_PRIVATE", 1)
        .env("RATIFY_WEBHOOK_RETRY_SECONDS", 1)
        .env("RATIFY_WEBHOOK_TIMEOUT_SECONDS", 1)
        .start()
        .await;
    let client = advertiser(&stack).await;
    // Fails three times — a redirect to the metadata address (not followed), a 500, no
    // answer in time — then succeeds.
    let script = vec![Answer::Redirect("http://169.254.169.254/latest"), Answer::Status(500), Answer::Hold];
    let receiver = Receiver::start(script).await;
    let (status, body) = set(&client, &receiver.url("/hooks/ratify")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("secret").is_none() && body["url"].as_str().is_some_and(|u| u.ends_with("/hooks/ratify")));
    let (_, shown) = client.get("/advertisers/1001/webhook").await;
    assert!(!shown.to_string().contains(SECRET), "the secret is never shown again: {shown}");

    let ids = client.record_simple(1001, "SEK", "hook", 2).await;
    let items = json!([{"action": "approve", "transaction": {"transactionId": ids[0]}},
                       {"action": "approve", "transaction": {"transactionId": 987_654_321}}]);
    let job = client.run(1001, &items).await;
    let job_id = job.body["jobId"].as_str().expect("jobId").to_owned();
    let deliveries = format!("/advertisers/1001/transactions/jobs/{job_id}/deliveries");
    let delivered = eventually("the delivery, delivered", Duration::from_secs(60), || async {
        let (_, log) = client.get(&deliveries).await;
        log["deliveries"].as_array().and_then(|d| d.first()).filter(|d| d["deliveredAt"].is_string()).cloned()
    })
    .await;

    let requests = receiver.received();
    assert_eq!(requests.len(), 4, "three failures, one success: {requests:?}");
    assert!(requests.iter().all(|r| r.path == "/hooks/ratify"), "the redirect was not followed");
    let id = &requests[0].headers["webhook-id"];
    assert_eq!(id, delivered["deliveryId"].as_str().unwrap(), "the id is the delivery's");
    for request in &requests {
        assert_eq!(&request.headers["webhook-id"], id, "the same webhook-id on every attempt");
        assert!(signed(request), "a valid signature: {request:?}");
        assert_eq!(request.headers["content-type"], "application/json");
    }
    let payload: Value = serde_json::from_str(&requests[3].body).expect("a JSON body");
    assert_eq!(payload["jobId"], json!(job_id));
    assert_eq!((payload["status"].clone(), payload["transactionCount"].clone()), (json!("DONE"), json!(2)));
    assert_eq!(payload["errorCount"], json!(1));
    assert_eq!(payload["countsByCode"], json!({"[200 OK]": 1, "[404 NOT_FOUND]": 1}), "{payload}");
    assert_eq!(payload["completionDate"], job.body["completionDate"]);
    // The log: each attempt, what it got.
    let attempts: Vec<Value> = delivered["attempts"].as_array().expect("attempts").clone();
    let statuses: Vec<Value> = attempts.iter().map(|a| a["status"].clone()).collect();
    assert_eq!(statuses, [json!(302), json!(500), Value::Null, json!(200)], "{delivered}");
    assert!(attempts[2]["error"].as_str().is_some_and(|e| e.contains("in time")), "{delivered}");

    // A tampered body does not verify: the check above can fail.
    let mut forged = requests[3].clone();
    forged.body = forged.body.replace("\"DONE\"", "\"QUEUED\"");
    assert!(!signed(&forged));

    // A test delivery goes the same way.
    let (status, ping) = client.post("/advertisers/1001/webhook/test", &json!(null)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{ping}");
    let path = format!("/advertisers/1001/webhook/deliveries/{}", ping["deliveryId"].as_str().expect("id"));
    eventually("the ping, delivered", Duration::from_secs(30), || async {
        client.get(&path).await.1["deliveredAt"].as_str().map(str::to_owned)
    })
    .await;
    let last = receiver.received().pop().expect("the ping");
    assert!(signed(&last) && last.body.contains("\"ping\""), "{last:?}");

    // Removed: a job finishing now queues nothing.
    let (status, _) = client.send(Method::DELETE, "/advertisers/1001/webhook", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let later = client.run(1001, &json!([{"action": "approve", "transaction": {"transactionId": ids[1]}}])).await;
    let (_, log) = client
        .get(&format!("/advertisers/1001/transactions/jobs/{}/deliveries", later.body["jobId"].as_str().unwrap()))
        .await;
    assert_eq!(log["deliveries"], json!([]), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn private_loopback_and_link_local_targets_are_refused() {
    let stack = Stack::builder().in_process().workers(0).start().await;
    let client = advertiser(&stack).await;
    for url in [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.7/hook",
        "http://[::1]/hook",
        "ftp://example.com/hook",
        "not a url",
    ] {
        let (status, body) = set(&client, url).await;
        assert_eq!((status, body["error"].clone()), (StatusCode::BAD_REQUEST, json!("BAD_REQUEST")), "{url}: {body}");
    }
    let got = client
        .send(Method::PUT, "/advertisers/1001/webhook", Some(&json!({"url": "https://example.com", "secret": "short"})))
        .await;
    assert_eq!(got.0, StatusCode::BAD_REQUEST, "{}", got.1);
    let (status, body) = client.get("/advertisers/1001/webhook").await;
    assert_eq!((status, body["error"].clone()), (StatusCode::NOT_FOUND, json!("WEBHOOK_NOT_FOUND")));
    // The admin token manages it too; another advertiser's token does not.
    let other = stack.advertiser(1002, "SEK", &[]).await;
    let got = other.get("/advertisers/1001/webhook").await;
    assert_eq!(got.0, StatusCode::FORBIDDEN);
    let (status, _) = stack.admin().send(Method::DELETE, "/advertisers/1001/webhook", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_killed_mid_delivery_leaves_it_to_another_with_the_same_id() {
    let mut stack = Stack::builder()
        .workers(1)
        .env("RATIFY_WEBHOOK_ALLOW_PRIVATE", 1)
        .env("RATIFY_WEBHOOK_TIMEOUT_SECONDS", 3)
        .env("RATIFY_WEBHOOK_RETRY_SECONDS", 1)
        .start()
        .await;
    let client = advertiser(&stack).await;
    // The first attempt is held open, unanswered, while its worker is killed.
    let receiver = Receiver::start(vec![Answer::Hold]).await;
    assert_eq!(set(&client, &receiver.url("/hook")).await.0, StatusCode::OK);
    let ids = client.record_simple(1001, "SEK", "kill", 1).await;
    let job = client.submit(1001, &json!([{"action": "approve", "transaction": {"transactionId": ids[0]}}])).await;
    eventually("the first attempt, in flight", Duration::from_secs(60), || async {
        (!receiver.received().is_empty()).then_some(())
    })
    .await;
    let status = stack.signal_worker(0, "KILL").expect("kill -9");
    assert!(!status.success());
    receiver.release();
    stack.add_worker().expect("another worker");
    let deliveries = format!("/advertisers/1001/transactions/jobs/{job}/deliveries");
    let delivered = eventually("the delivery, delivered by the other worker", Duration::from_secs(60), || async {
        let (_, log) = client.get(&deliveries).await;
        log["deliveries"].as_array().and_then(|d| d.first()).filter(|d| d["deliveredAt"].is_string()).cloned()
    })
    .await;
    let requests = receiver.received();
    assert!(requests.len() >= 2, "{requests:?}");
    assert!(requests.iter().all(|r| r.headers["webhook-id"] == requests[0].headers["webhook-id"]));
    assert_eq!(requests[0].headers["webhook-id"], delivered["deliveryId"].as_str().unwrap());
    // The killed worker recorded nothing of its attempt; the claim counted it.
    let attempts = delivered["attempts"].as_array().expect("attempts");
    assert_eq!(attempts.last().map(|a| a["status"].clone()), Some(json!(200)), "{delivered}");
}

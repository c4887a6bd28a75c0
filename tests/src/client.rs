//! A small HTTP client speaking Ratify's api, for tests.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::eventually;

/// Sends `request` and reads its answer: the status and the body (JSON, or a string if not
/// JSON). Panics when the api cannot be reached, which fails the test.
pub async fn answer(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.expect("request");
    let status = response.status();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

/// A finished job as `?output=all` shows it.
#[derive(Debug, Clone)]
pub struct Job {
    pub body: Value,
}

impl Job {
    pub fn items(&self) -> &Vec<Value> {
        self.body["allTransactions"].as_array().expect("allTransactions")
    }

    /// The outcome code label of item `index`.
    pub fn code(&self, index: usize) -> &str {
        self.item(index)["code"].as_str().unwrap_or_default()
    }

    pub fn item(&self, index: usize) -> &Value {
        let item = &self.items()[index];
        assert_eq!(item["index"], json!(index), "items are listed in index order");
        item
    }
}

impl Client {
    pub fn new(base: &str, token: &str) -> Client {
        Client { http: reqwest::Client::new(), base: base.to_owned(), token: token.to_owned() }
    }

    /// The api's base URL this client sends to.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The bearer token this client sends.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The same client aimed at another base URL (after the api restarted elsewhere).
    pub fn rebase(&self, base: &str) -> Client {
        Client { http: self.http.clone(), base: base.to_owned(), token: self.token.clone() }
    }

    /// Any request; returns status and body (JSON, or a string if not JSON).
    pub async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> (StatusCode, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        answer(request).await
    }

    /// A request with a raw body and content type.
    pub async fn send_raw(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> (StatusCode, Value) {
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("content-type", content_type)
            .body(body);
        answer(request).await
    }

    /// A GET whose body is read in full but not parsed; returns status and body length.
    pub async fn get_bytes(&self, path: &str) -> (StatusCode, usize) {
        let response =
            self.http.get(format!("{}{path}", self.base)).bearer_auth(&self.token).send().await.expect("request");
        let status = response.status();
        (status, response.bytes().await.map_or(0, |b| b.len()))
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        self.send(Method::POST, path, Some(body)).await
    }

    /// Creates an advertiser with `groups` as `(code, type, value)`.
    pub async fn create_advertiser(&self, id: i64, currency: &str, groups: &[(&str, &str, Value)]) {
        let groups: Vec<Value> = groups
            .iter()
            .map(|(code, kind, value)| json!({"code": code, "name": code, "type": kind, "value": value}))
            .collect();
        let (status, body) = self
            .post("/admin/advertisers", &json!({"id": id, "name": format!("Advertiser {id}"), "currency": currency, "commissionGroups": groups}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    /// Creates a token granted `advertisers`; returns the token.
    pub async fn create_token(&self, advertisers: &[i64]) -> String {
        let (status, body) = self.post("/admin/tokens", &json!({"name": "test", "advertiserIds": advertisers})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["token"].as_str().expect("token").to_owned()
    }

    /// Records transactions; returns their ids.
    pub async fn record(&self, advertiser: i64, rows: &Value) -> Vec<i64> {
        let (status, body) = self.post(&format!("/advertisers/{advertiser}/transactions"), rows).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["ids"].as_array().expect("ids").iter().map(|v| v.as_i64().expect("id")).collect()
    }

    /// Records `n` simple pending transactions (`orderRef` = `{prefix}-{i}`).
    pub async fn record_simple(&self, advertiser: i64, currency: &str, prefix: &str, n: usize) -> Vec<i64> {
        let rows: Vec<Value> = (0..n)
            .map(|i| {
                json!({"orderRef": format!("{prefix}-{i}"), "transactionDate": "2026-11-14T10:15:00",
                       "timezone": "Europe/Stockholm", "saleAmount": 100, "currency": currency})
            })
            .collect();
        self.record(advertiser, &Value::Array(rows)).await
    }

    /// Submits a batch; returns the job id.
    pub async fn submit(&self, advertiser: i64, items: &Value) -> String {
        let (status, body) = self.post(&format!("/advertisers/{advertiser}/transactions/batch"), items).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["jobId"].as_str().expect("jobId").to_owned()
    }

    /// Waits until the job is DONE, failing the test after `deadline`.
    pub async fn wait_until_done(&self, advertiser: i64, job: &str, deadline: Duration) {
        let path = format!("/advertisers/{advertiser}/transactions/jobs/{job}");
        eventually(&format!("job {job} to be DONE"), deadline, || async {
            let (status, body) = self.get(&path).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            (body["status"] == "DONE").then_some(())
        })
        .await;
    }

    /// Waits (within a minute) until the job is DONE; returns it with `output=all`.
    pub async fn wait_done(&self, advertiser: i64, job: &str) -> Job {
        self.wait_until_done(advertiser, job, Duration::from_secs(60)).await;
        let path = format!("/advertisers/{advertiser}/transactions/jobs/{job}");
        let (status, body) = self.get(&format!("{path}?output=all")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        Job { body }
    }

    /// Submits and waits.
    pub async fn run(&self, advertiser: i64, items: &Value) -> Job {
        let job = self.submit(advertiser, items).await;
        self.wait_done(advertiser, &job).await
    }

    /// One transaction.
    pub async fn transaction(&self, advertiser: i64, id: i64) -> Value {
        let (status, body) = self.get(&format!("/advertisers/{advertiser}/transactions/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }
}

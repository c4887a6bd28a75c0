//! The end-to-end test harness: every test gets its own database, its own queue names
//! and its own api and workers, talking to the real Postgres and RabbitMQ that
//! `deploy/local.sh test` starts. The api and workers are the real binaries as child
//! processes by default (what the fault tests need: a process to kill), or, with
//! [`StackBuilder::in_process`], the same code run through `ratify_api::run` and
//! `ratify_worker::run` as tasks of the test itself.
//!
//! Environment: `RATIFY_TEST_DATABASE_URL` (a superuser URL; each test creates and
//! drops its own database), `RATIFY_TEST_AMQP_URL`, `RATIFY_BIN_DIR` (where
//! `ratify-api` and `ratify-worker` are; default `target/debug`).

pub mod actions;
pub mod browser;
mod client;
mod stack;

pub use client::{answer, Client, Job};
pub use stack::{Stack, StackBuilder};
pub mod receiver;
pub mod servers;
pub mod sharding;

use std::future::Future;

use reqwest::StatusCode;
use serde_json::Value;
use std::time::{Duration, Instant};

/// Polls `check` until it yields `Some`, or panics with `what` after `deadline`.
pub async fn eventually<T, F, Fut>(what: &str, deadline: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(start.elapsed() < deadline, "timed out after {deadline:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Peak resident memory of a process (VmHWM from `/proc`), in MiB; `None` once it is gone.
pub fn peak_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Asserts `got` is an error of status `expected` whose body is exactly
/// `{"error": <UPPER_SNAKE>, "description": <non-empty string>}`; returns the error code.
#[track_caller]
pub fn assert_error(what: &str, got: &(StatusCode, Value), expected: StatusCode) -> String {
    let (status, body) = got;
    assert_eq!(*status, expected, "{what}: unexpected status; body {body}");
    let object = body.as_object().unwrap_or_else(|| panic!("{what}: the error body is not a JSON object: {body}"));
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["description", "error"],
        "{what}: the error body must have exactly error and description: {body}"
    );
    let code = object["error"].as_str().unwrap_or_else(|| panic!("{what}: error is not a string: {body}"));
    assert!(
        !code.is_empty() && code.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'),
        "{what}: error {code:?} is not UPPER_SNAKE"
    );
    let description =
        object["description"].as_str().unwrap_or_else(|| panic!("{what}: description is not a string: {body}"));
    assert!(!description.trim().is_empty(), "{what}: the description is empty: {body}");
    code.to_owned()
}

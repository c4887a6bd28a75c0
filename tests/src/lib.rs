//! The end-to-end test harness: every test gets its own database, its own queue names
//! and its own api and worker processes (the real binaries), talking to the real
//! Postgres and RabbitMQ that `deploy/local.sh test` starts.
//!
//! Environment: `RATIFY_TEST_DATABASE_URL` (a superuser URL; each test creates and
//! drops its own database), `RATIFY_TEST_AMQP_URL`, `RATIFY_BIN_DIR` (where
//! `ratify-api` and `ratify-worker` are; default `target/debug`).

mod client;
mod stack;

pub use client::{Client, Job};
pub use stack::{Stack, StackBuilder};
pub mod servers;

use std::future::Future;
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

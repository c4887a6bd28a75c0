//! Prometheus metrics: every metric's name in one place, and the recorder set-up that
//! both binaries share (the api renders `/metrics` itself; a worker serves them on
//! `RATIFY_METRICS_ADDR`).

use std::net::SocketAddr;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// HTTP requests, by `route` (the matched template), `method` and `status`.
pub const HTTP_REQUESTS: &str = "ratify_http_requests_total";
/// HTTP request latency, by `route`.
pub const HTTP_DURATION: &str = "ratify_http_request_duration_seconds";
/// Jobs and items accepted by the api.
pub const JOBS_ACCEPTED: &str = "ratify_jobs_accepted_total";
pub const ITEMS_ACCEPTED: &str = "ratify_items_accepted_total";
/// Items given their outcome, by `code` (200, 304, 400, 404, 422, 500).
pub const ITEMS_PROCESSED: &str = "ratify_items_processed_total";
/// Chunks handled, by `lane` and `result` (applied, duplicate, missing, failed).
pub const CHUNKS: &str = "ratify_chunks_total";
/// Time to apply one chunk, by `lane`.
pub const CHUNK_DURATION: &str = "ratify_chunk_duration_seconds";
/// Chunks being applied right now.
pub const CHUNKS_IN_FLIGHT: &str = "ratify_chunks_in_flight";
/// Jobs that reached DONE, and their latency from acceptance to DONE.
pub const JOBS_DONE: &str = "ratify_jobs_done_total";
pub const JOB_LATENCY: &str = "ratify_job_latency_seconds";
/// Chunks the stall watchdog published again: published long ago, not done, and no
/// longer waiting in their queue (a lost message).
pub const CHUNKS_REPUBLISHED: &str = "ratify_chunks_republished_total";
/// Messages waiting in each queue (`queue`), sampled when the api is scraped.
pub const QUEUE_DEPTH: &str = "ratify_queue_depth";

const SECONDS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];
const JOB_SECONDS: &[f64] = &[0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0];

fn builder() -> Result<PrometheusBuilder, metrics_exporter_prometheus::BuildError> {
    PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(JOB_LATENCY.to_owned()), JOB_SECONDS)?
        .set_buckets(SECONDS)
}

/// Installs the global recorder and returns a handle to render it (the api's way). The
/// recorder is global, so a second call (a second api in one process, as in-process tests
/// run them) returns the first one's handle.
pub fn install_for_render() -> Result<PrometheusHandle, metrics_exporter_prometheus::BuildError> {
    static HANDLE: std::sync::Mutex<Option<PrometheusHandle>> = std::sync::Mutex::new(None);
    let mut handle = HANDLE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(handle) = handle.as_ref() {
        return Ok(handle.clone());
    }
    let installed = builder()?.install_recorder()?;
    *handle = Some(installed.clone());
    Ok(installed)
}

/// Installs the global recorder with an HTTP listener on `addr` (the worker's way).
/// Must run inside the tokio runtime.
pub fn install_with_listener(addr: SocketAddr) -> Result<(), metrics_exporter_prometheus::BuildError> {
    builder()?.with_http_listener(addr).install()
}

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
/// Items given their outcome, by `code` (200, 304, 400, 404, 409, 422, 500).
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
/// Seconds since the queue depths were last read; grows while the broker is unreachable.
pub const QUEUE_DEPTH_AGE: &str = "ratify_queue_depth_age_seconds";
/// 1 when the last scrape could not read the queue depths (they are then the last known).
pub const QUEUE_DEPTH_STALE: &str = "ratify_queue_depth_stale";
/// Chunks stored and not yet confirmed by the broker, sampled when the api is scraped.
pub const OUTBOX_BACKLOG: &str = "ratify_outbox_backlog_chunks";
/// Jobs accepted and not yet DONE, and the age of the oldest of them.
pub const JOBS_UNFINISHED: &str = "ratify_jobs_unfinished";
pub const OLDEST_UNFINISHED_AGE: &str = "ratify_oldest_unfinished_job_age_seconds";
/// Reads the api could serve from the read replica, by `served_by` (replica, primary) and, for
/// the primary, `reason` (behind, miss, replica_error). Only with `DATABASE_READ_URL`.
pub const REPLICA_READS: &str = "ratify_replica_reads_total";
/// 1, labelled with the binary and its version.
pub const BUILD_INFO: &str = "ratify_build_info";

const SECONDS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];
const JOB_SECONDS: &[f64] = &[0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0];

fn builder() -> Result<PrometheusBuilder, metrics_exporter_prometheus::BuildError> {
    PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(JOB_LATENCY.to_owned()), JOB_SECONDS)?
        .set_buckets(SECONDS)
}

/// Gives every metric its HELP text and unit, and sets `ratify_build_info` for `binary`.
/// Called once the recorder is installed.
pub fn describe(binary: &'static str) {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(HTTP_REQUESTS, "HTTP requests, by route template, method and status.");
    describe_histogram!(HTTP_DURATION, Unit::Seconds, "HTTP request latency, by route template.");
    describe_counter!(JOBS_ACCEPTED, "Jobs accepted by the api.");
    describe_counter!(ITEMS_ACCEPTED, "Items accepted by the api, over all jobs.");
    describe_counter!(ITEMS_PROCESSED, "Items given their outcome, by code.");
    describe_counter!(CHUNKS, "Chunks handled by a worker, by lane and result.");
    describe_histogram!(CHUNK_DURATION, Unit::Seconds, "Time to apply one chunk, by lane.");
    describe_gauge!(CHUNKS_IN_FLIGHT, "Chunks this worker is applying now.");
    describe_counter!(JOBS_DONE, "Jobs that reached DONE.");
    describe_histogram!(JOB_LATENCY, Unit::Seconds, "Time from a job's acceptance to DONE.");
    describe_counter!(CHUNKS_REPUBLISHED, "Chunks published again after their message was lost.");
    describe_gauge!(QUEUE_DEPTH, "Messages waiting in each queue, read when the api is scraped.");
    describe_gauge!(QUEUE_DEPTH_AGE, Unit::Seconds, "Seconds since the queue depths were last read.");
    describe_gauge!(QUEUE_DEPTH_STALE, "1 when the queue depths could not be read at this scrape.");
    describe_gauge!(OUTBOX_BACKLOG, "Chunks stored but not yet confirmed by the broker.");
    describe_gauge!(JOBS_UNFINISHED, "Jobs accepted and not yet DONE.");
    describe_gauge!(OLDEST_UNFINISHED_AGE, Unit::Seconds, "Age of the oldest job not yet DONE (0 when none).");
    describe_counter!(REPLICA_READS, "Reads the read replica could serve, by the server that served them and why.");
    describe_gauge!(BUILD_INFO, "Always 1; its labels name the binary and its version.");
    metrics::gauge!(BUILD_INFO, "binary" => binary, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
}

/// The process's CPU, memory, threads and open files (`process_*`), sampled when asked.
pub fn process_collector() -> metrics_process::Collector {
    let collector = metrics_process::Collector::default();
    collector.describe();
    collector
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

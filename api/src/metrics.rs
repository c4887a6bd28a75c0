//! The api's metrics: a middleware counting and timing every request by its route
//! template, and the `/metrics` handler (Prometheus text), which also samples the
//! queue depths.

use std::sync::{LazyLock, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ratify_shared::db;
use ratify_shared::metrics as names;

use crate::state::AppState;

/// Counts and times one request.
pub async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    // The template (`/advertisers/{aid}/…`), never the raw path: ids would explode the
    // number of series.
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str()).to_owned();
    let method = request.method().as_str().to_owned();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!(names::HTTP_REQUESTS, "route" => route.clone(), "method" => method, "status" => status)
        .increment(1);
    metrics::histogram!(names::HTTP_DURATION, "route" => route).record(started.elapsed().as_secs_f64());
    response
}

/// `GET /metrics`.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses((status = 200, description = "Prometheus text exposition, each metric with HELP text: requests by \
        route and status, jobs and items accepted, queue depths (`ratify_queue_depth`, with \
        `ratify_queue_depth_stale` 1 and `ratify_queue_depth_age_seconds` growing while the broker is unreachable), \
        the outbox backlog (`ratify_outbox_backlog_chunks`), unfinished jobs (`ratify_jobs_unfinished`, \
        `ratify_oldest_unfinished_job_age_seconds`), `ratify_build_info` and the process's `process_*` metrics. \
        Item outcomes, chunk latency and job latency come from each worker's RATIFY_METRICS_ADDR.",
        content_type = "text/plain", body = String)),
)]
pub async fn render(State(state): State<AppState>) -> Response {
    let (depths, backlog) = tokio::join!(state.publisher.queue_depths(), async {
        let mut conn = state.pool.acquire().await.ok()?;
        db::health::backlog(&mut conn).await.ok()
    });
    sample_depths(depths);
    if let Some(backlog) = backlog {
        metrics::gauge!(names::OUTBOX_BACKLOG).set(backlog.unpublished_chunks as f64);
        metrics::gauge!(names::JOBS_UNFINISHED).set(backlog.unfinished_jobs as f64);
        metrics::gauge!(names::OLDEST_UNFINISHED_AGE).set(backlog.oldest_unfinished_seconds);
    }
    PROCESS.collect();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render()).into_response()
}

/// The process's own metrics, described once.
static PROCESS: LazyLock<metrics_process::Collector> = LazyLock::new(names::process_collector);

/// When the queue depths were last read, for their age.
static LAST_DEPTHS: Mutex<Option<Instant>> = Mutex::new(None);

/// Sets the depth gauges from a reading, or (none: the broker did not answer) leaves the
/// last known depths and says they are stale.
fn sample_depths(depths: Vec<(String, u32)>) {
    let mut last = LAST_DEPTHS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let stale = depths.is_empty();
    for (queue, depth) in depths {
        metrics::gauge!(names::QUEUE_DEPTH, "queue" => queue).set(f64::from(depth));
    }
    if !stale {
        *last = Some(Instant::now());
    }
    metrics::gauge!(names::QUEUE_DEPTH_STALE).set(if stale { 1.0 } else { 0.0 });
    // Never read: as old as the process has been unable to read them, counted from now.
    let age = last.get_or_insert_with(Instant::now).elapsed().as_secs_f64();
    metrics::gauge!(names::QUEUE_DEPTH_AGE).set(age);
}

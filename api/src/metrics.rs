//! The api's metrics: a middleware counting and timing every request by its route
//! template, and the `/metrics` handler (Prometheus text), which also samples the
//! queue depths.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
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
    responses((status = 200, description = "Prometheus text exposition: requests by route and status, jobs and \
        items accepted, queue depths. Item outcomes, chunk latency and job latency come from each worker's \
        RATIFY_METRICS_ADDR.", content_type = "text/plain", body = String)),
)]
pub async fn render(State(state): State<AppState>) -> Response {
    for (queue, depth) in state.publisher.queue_depths().await {
        metrics::gauge!(names::QUEUE_DEPTH, "queue" => queue).set(f64::from(depth));
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render()).into_response()
}

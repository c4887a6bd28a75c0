//! The router: every route of the api.

pub mod admin;
pub mod batch;
pub mod jobs;
pub mod ops;
pub mod transactions;

use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post, put};
use axum::Router;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::error::ApiError;
use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    // Bodies read by extractors (admin routes); the batch and recording routes read their
    // raw bodies against their own limits.
    let body_limit = state.config.max_body_bytes;
    let request_timeout = Duration::from_secs(state.config.request_timeout_seconds);
    Router::new()
        .route("/health", get(ops::health))
        .route("/ready", get(ops::ready))
        .route("/openapi.json", get(crate::openapi::openapi_json))
        .route("/metrics", get(crate::metrics::render))
        .route("/admin/advertisers", post(admin::create_advertiser))
        .route("/admin/advertisers/{id}/commission-groups/{code}", put(admin::put_group))
        .route("/admin/tokens", post(admin::create_token))
        .route("/admin/tokens/{id}", delete(admin::revoke_token))
        .route("/advertisers/{aid}/transactions", post(transactions::record).get(transactions::list))
        .route("/advertisers/{aid}/transactions/batch", post(batch::submit_batch))
        .route("/advertisers/{aid}/transactions/jobs", get(jobs::list_jobs))
        .route("/advertisers/{aid}/transactions/jobs/{job_id}", get(jobs::get_job))
        .route("/advertisers/{aid}/transactions/{id}", get(transactions::get_one))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, request_timeout))
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::rate_limit::enforce))
        .layer(axum::middleware::from_fn(crate::metrics::track))
        .layer(TraceLayer::new_for_http())
        .layer(axum::middleware::from_fn(crate::error::shape_bodiless))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::NotFound("NOT_FOUND", "no such route".to_owned())
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

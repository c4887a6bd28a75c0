//! The router: every route of the api, each declared once, in [`api`]. The OpenAPI
//! document is collected from the same declarations (utoipa-axum's `routes!` reads each
//! handler's `#[utoipa::path]` for both its path and method and its documentation), so a
//! route cannot be served undocumented, nor documented unserved.

pub mod actions;
pub mod admin;
pub mod admin_jobs;
pub mod batch;
pub mod docs;
pub mod job_control;
pub mod job_pages;
pub mod jobs;
pub mod ops;
pub mod transactions;
pub mod webhooks;

use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::{Extension, Router};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::state::AppState;

/// Every route, with its documentation. One `routes!` per path, its handlers one per method.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(ops::health))
        .routes(routes!(ops::ready))
        .routes(routes!(ops::openapi_json))
        .routes(routes!(docs::docs))
        .routes(routes!(docs::page))
        .routes(routes!(docs::asset))
        .routes(routes!(crate::metrics::render))
        .routes(routes!(admin::create_advertiser))
        .routes(routes!(admin::patch_advertiser))
        .routes(routes!(admin::put_group))
        .routes(routes!(admin::create_token))
        .routes(routes!(admin::revoke_token))
        .routes(routes!(admin_jobs::list_all_jobs))
        .routes(routes!(transactions::record, transactions::list))
        .routes(routes!(batch::submit_batch))
        .routes(routes!(jobs::list_jobs))
        .routes(routes!(jobs::get_job))
        .routes(routes!(job_control::cancel))
        .routes(routes!(job_control::retry))
        .routes(routes!(transactions::get_one))
        .routes(routes!(actions::act))
        .routes(routes!(webhooks::put_webhook, webhooks::get_webhook, webhooks::delete_webhook))
        .routes(routes!(webhooks::test_webhook))
        .routes(routes!(webhooks::delivery))
        .routes(routes!(webhooks::job_deliveries))
}

/// The OpenAPI document of [`api`], whole, as [`router`] serves it.
#[cfg(test)]
pub fn document() -> utoipa::openapi::OpenApi {
    crate::openapi::assemble(api().into_openapi())
}

pub fn router(state: AppState) -> Router {
    // Bodies read by extractors (admin routes); the batch and recording routes read their
    // raw bodies against their own limits.
    let body_limit = state.config.max_body_bytes;
    let request_timeout = Duration::from_secs(state.config.request_timeout_seconds);
    let (routes, operations) = api().split_for_parts();
    let document = crate::openapi::assemble(operations).to_json().expect("the OpenAPI document serializes");
    routes
        .merge(crate::console::router())
        .layer(Extension(ops::Document(document.into())))
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

#[cfg(test)]
mod tests;

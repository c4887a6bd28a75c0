//! `/health`, `/ready` and `/openapi.json`.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::{Extension, Json};
use ratify_wire::{Health, Reachability, Readiness};

use crate::state::AppState;

/// The process is up.
#[utoipa::path(
    get,
    path = "/health",
    tag = "operations",
    responses((status = 200, description = "The process is up.", body = Health)),
)]
pub async fn health() -> Json<Health> {
    Json(Health { status: "ok".to_owned() })
}

/// Postgres and RabbitMQ are both reachable.
#[utoipa::path(
    get,
    path = "/ready",
    tag = "operations",
    responses(
        (status = 200, description = "Postgres and RabbitMQ are both reachable.", body = Readiness),
        (status = 503, description = "Postgres or RabbitMQ is unreachable; the body says which (this is not the \
            error shape).", body = Readiness,
            example = json!({"postgres": "up", "rabbitmq": "down"})),
    ),
)]
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let postgres = sqlx::query("SELECT 1").execute(&state.pool).await.is_ok();
    let rabbitmq = state.publisher.ready().await;
    let status = if postgres && rabbitmq { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(Readiness { postgres: Reachability::of(postgres), rabbitmq: Reachability::of(rabbitmq) }))
}

/// The OpenAPI document as served, rendered once when the router is built (from the same
/// declarations the router is built from).
#[derive(Clone)]
pub struct Document(pub bytes::Bytes);

/// This OpenAPI document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document of this api.", body = Object,
        content_type = "application/json")),
)]
pub async fn openapi_json(Extension(Document(document)): Extension<Document>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], document)
}

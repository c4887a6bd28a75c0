//! `/health` and `/ready`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use crate::state::AppState;

/// The process is up.
#[utoipa::path(
    get,
    path = "/health",
    tag = "operations",
    responses((status = 200, description = "The process is up.", body = crate::openapi::Health)),
)]
pub async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Postgres and RabbitMQ are both reachable.
#[utoipa::path(
    get,
    path = "/ready",
    tag = "operations",
    responses(
        (status = 200, description = "Postgres and RabbitMQ are both reachable.", body = crate::openapi::Readiness),
        (status = 503, description = "Postgres or RabbitMQ is unreachable; the body says which (this is not the \
            error shape).", body = crate::openapi::Readiness,
            example = json!({"postgres": "up", "rabbitmq": "down"})),
    ),
)]
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let postgres = sqlx::query("SELECT 1").execute(&state.pool).await.is_ok();
    let rabbitmq = state.publisher.ready().await;
    let status = if postgres && rabbitmq { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let word = |up: bool| if up { "up" } else { "down" };
    (status, Json(json!({ "postgres": word(postgres), "rabbitmq": word(rabbitmq) })))
}

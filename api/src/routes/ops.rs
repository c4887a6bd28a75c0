//! `/health`, `/ready` and `/openapi.json`.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::{Extension, Json};
use ratify_wire::{Health, Reachability, Readiness, ReadyState};

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

/// Whether the api can take batches: ready while Postgres answers, since a batch is
/// durable once in Postgres and its chunks wait in the outbox while RabbitMQ is away.
#[utoipa::path(
    get,
    path = "/ready",
    tag = "operations",
    responses(
        (status = 200, description = "Batches are accepted: `ready`, or `degraded` when RabbitMQ is unreachable \
            (jobs then wait in the outbox; `degraded` says so).", body = Readiness,
            example = json!({"status": "degraded", "postgres": "up", "rabbitmq": "down", "degraded": [RABBITMQ_DOWN]})),
        (status = 503, description = "Postgres is unreachable: nothing can be accepted (`unavailable`; this is \
            not the error shape).", body = Readiness,
            example = json!({"status": "unavailable", "postgres": "down", "rabbitmq": "up", "degraded": [POSTGRES_DOWN]})),
    ),
)]
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let (postgres, rabbitmq) = tokio::join!(sqlx::query("SELECT 1").execute(&state.pool), state.publisher.ready());
    let postgres = postgres.is_ok();
    let mut degraded = Vec::new();
    if !postgres {
        degraded.push(POSTGRES_DOWN.to_owned());
    }
    if !rabbitmq {
        degraded.push(RABBITMQ_DOWN.to_owned());
    }
    let (code, status) = match (postgres, rabbitmq) {
        (false, _) => (StatusCode::SERVICE_UNAVAILABLE, ReadyState::Unavailable),
        (true, false) => (StatusCode::OK, ReadyState::Degraded),
        (true, true) => (StatusCode::OK, ReadyState::Ready),
    };
    let body =
        Readiness { status, postgres: Reachability::of(postgres), rabbitmq: Reachability::of(rabbitmq), degraded };
    (code, Json(body))
}

const POSTGRES_DOWN: &str = "postgres is unreachable: no batch can be accepted, and no job read";
const RABBITMQ_DOWN: &str =
    "rabbitmq is unreachable: batches are still accepted and wait in the outbox; jobs make no progress until it is back";

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

//! Completion webhooks: `PUT|GET|DELETE /advertisers/{aid}/webhook`, a test delivery, and
//! the delivery log of a job or of one delivery. The workers deliver (see docs/api.md §5).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use ratify_domain::ids::AdvertiserId;
use ratify_domain::webhook;
use ratify_shared::db;
use ratify_shared::db::webhooks::{AttemptRow, DeliveryRow};
use ratify_wire::{AttemptView, DeliveryList, DeliveryView, ErrorBody, PingQueued, WebhookSettings, WebhookView};
use uuid::Uuid;

use crate::auth::CallerOrAdmin;
use crate::error::ApiError;
use crate::extract::{Json as Body, Path};
use crate::state::AppState;
use crate::views::instant;

fn no_webhook(advertiser_id: AdvertiserId) -> ApiError {
    ApiError::NotFound("WEBHOOK_NOT_FOUND", format!("advertiser {advertiser_id} has no webhook"))
}

/// The URL, checked as a delivery would check it: its host resolves, to allowed addresses only.
async fn checked_url(url: &str, allow_private: bool) -> Result<String, ApiError> {
    let target = webhook::parse(url.trim()).map_err(ApiError::bad_request)?;
    let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host((target.host.as_str(), target.port))
        .await
        .map_err(|e| ApiError::bad_request(format!("url: cannot resolve {}: {e}", target.host)))?
        .collect();
    if addrs.is_empty() {
        return Err(ApiError::bad_request(format!("url: {} resolves to no address", target.host)));
    }
    if let Some(refused) = addrs.iter().find(|a| !webhook::allowed(a.ip(), allow_private)) {
        return Err(ApiError::bad_request(format!(
            "url: {} is {}, a private, loopback or link-local address; webhooks go to public addresses only",
            target.host,
            refused.ip()
        )));
    }
    Ok(target.url.to_string())
}

fn checked_secret(secret: &str) -> Result<(), ApiError> {
    let printable = secret.bytes().all(|b| b.is_ascii_graphic());
    if !(16..=256).contains(&secret.len()) || !printable {
        return Err(ApiError::bad_request("secret must be 16 to 256 printable ASCII characters without spaces"));
    }
    Ok(())
}

/// Sets the advertiser's webhook: every job of it that reaches `DONE` from now on is
/// posted there, signed with the secret.
#[utoipa::path(
    put,
    path = "/advertisers/{aid}/webhook",
    tag = "webhooks",
    security(("advertiser_token" = []), ("admin_token" = [])),
    params(("aid" = i64, Path, description = "The advertiser's id.")),
    request_body = WebhookSettings,
    responses(
        (status = 200, description = "Set; the secret is not shown again.", body = WebhookView),
        (status = 400, description = "The URL is not http(s), does not resolve, or names a private, loopback or \
            link-local address; the secret is not 16 to 256 printable characters (`BAD_REQUEST`); the body is not \
            the JSON object described (`JSON_PARSE_ERROR`).", body = ErrorBody),
        (status = 401, description = "Missing or unknown bearer token (`UNAUTHORIZED`).", body = ErrorBody),
        (status = 403, description = "The token is not granted this advertiser (`FORBIDDEN`).", body = ErrorBody),
        (status = 404, description = "No such advertiser (`ADVERTISER_NOT_FOUND`).", body = ErrorBody),
        (status = 415, description = "The body is not sent as `application/json`.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
        (status = 503, description = "The database is unreachable. Has `Retry-After`.", body = ErrorBody),
    ),
)]
pub async fn put_webhook(
    CallerOrAdmin(caller): CallerOrAdmin,
    State(state): State<AppState>,
    Path(advertiser_id): Path<AdvertiserId>,
    Body(body): Body<WebhookSettings>,
) -> Result<Json<WebhookView>, ApiError> {
    caller.require(advertiser_id)?;
    checked_secret(&body.secret)?;
    let url = checked_url(&body.url, state.config.webhook_allow_private).await?;
    let mut conn = state.pool.acquire().await?;
    if db::advertisers::get(&mut conn, advertiser_id).await?.is_none() {
        return Err(ApiError::NotFound("ADVERTISER_NOT_FOUND", format!("advertiser {advertiser_id} does not exist")));
    }
    let updated_at = db::webhooks::set(&mut conn, advertiser_id, &url, &body.secret).await?;
    tracing::info!(advertiser_id = advertiser_id.0, %url, "webhook set");
    Ok(Json(WebhookView { url, updated_at: instant(updated_at) }))
}

/// The advertiser's webhook, without its secret.
#[utoipa::path(
    get,
    path = "/advertisers/{aid}/webhook",
    tag = "webhooks",
    security(("advertiser_token" = []), ("admin_token" = [])),
    params(("aid" = i64, Path, description = "The advertiser's id.")),
    responses(
        (status = 200, description = "The webhook.", body = WebhookView),
        (status = 401, description = "Missing or unknown bearer token (`UNAUTHORIZED`).", body = ErrorBody),
        (status = 403, description = "The token is not granted this advertiser (`FORBIDDEN`).", body = ErrorBody),
        (status = 404, description = "No webhook is set (`WEBHOOK_NOT_FOUND`).", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
        (status = 503, description = "The database is unreachable. Has `Retry-After`.", body = ErrorBody),
    ),
)]
pub async fn get_webhook(
    CallerOrAdmin(caller): CallerOrAdmin,
    State(state): State<AppState>,
    Path(advertiser_id): Path<AdvertiserId>,
) -> Result<Json<WebhookView>, ApiError> {
    caller.require(advertiser_id)?;
    let mut conn = state.pool.acquire().await?;
    let webhook = db::webhooks::get(&mut conn, advertiser_id).await?.ok_or_else(|| no_webhook(advertiser_id))?;
    Ok(Json(WebhookView { url: webhook.url, updated_at: instant(webhook.updated_at) }))
}

/// Removes the advertiser's webhook; deliveries not made yet are given up.
#[utoipa::path(
    delete,
    path = "/advertisers/{aid}/webhook",
    tag = "webhooks",
    security(("advertiser_token" = []), ("admin_token" = [])),
    params(("aid" = i64, Path, description = "The advertiser's id.")),
    responses(
        (status = 204, description = "Removed (or there was none)."),
        (status = 401, description = "Missing or unknown bearer token (`UNAUTHORIZED`).", body = ErrorBody),
        (status = 403, description = "The token is not granted this advertiser (`FORBIDDEN`).", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
        (status = 503, description = "The database is unreachable. Has `Retry-After`.", body = ErrorBody),
    ),
)]
pub async fn delete_webhook(
    CallerOrAdmin(caller): CallerOrAdmin,
    State(state): State<AppState>,
    Path(advertiser_id): Path<AdvertiserId>,
) -> Result<StatusCode, ApiError> {
    caller.require(advertiser_id)?;
    let mut conn = state.pool.acquire().await?;
    db::webhooks::delete(&mut conn, advertiser_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Queues a test delivery (`{"type": "ping", "advertiserId"}`) through the same outbox,
/// signature and retries as a job's.
#[utoipa::path(
    post,
    path = "/advertisers/{aid}/webhook/test",
    tag = "webhooks",
    security(("advertiser_token" = []), ("admin_token" = [])),
    params(("aid" = i64, Path, description = "The advertiser's id.")),
    responses(
        (status = 202, description = "Queued; follow it by its id.", body = PingQueued),
        (status = 401, description = "Missing or unknown bearer token (`UNAUTHORIZED`).", body = ErrorBody),
        (status = 403, description = "The token is not granted this advertiser (`FORBIDDEN`).", body = ErrorBody),
        (status = 404, description = "No webhook is set (`WEBHOOK_NOT_FOUND`).", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
        (status = 503, description = "The database is unreachable. Has `Retry-After`.", body = ErrorBody),
    ),
)]
pub async fn test_webhook(
    CallerOrAdmin(caller): CallerOrAdmin,
    State(state): State<AppState>,
    Path(advertiser_id): Path<AdvertiserId>,
) -> Result<(StatusCode, Json<PingQueued>), ApiError> {
    caller.require(advertiser_id)?;
    let mut conn = state.pool.acquire().await?;
    db::webhooks::get(&mut conn, advertiser_id).await?.ok_or_else(|| no_webhook(advertiser_id))?;
    let delivery_id = db::webhooks::queue_ping(&mut conn, advertiser_id).await?;
    Ok((StatusCode::ACCEPTED, Json(PingQueued { delivery_id })))
}

fn views(deliveries: Vec<DeliveryRow>, attempts: Vec<AttemptRow>) -> Vec<DeliveryView> {
    deliveries
        .into_iter()
        .map(|d| {
            let pending = d.delivered_at.is_none() && d.given_up_at.is_none();
            DeliveryView {
                delivery_id: d.id,
                event: d.event,
                created_at: instant(d.created_at),
                delivered_at: d.delivered_at.map(instant),
                given_up_at: d.given_up_at.map(instant),
                next_attempt_at: pending.then(|| instant(d.next_attempt_at)),
                attempts: attempts
                    .iter()
                    .filter(|a| a.delivery_id == d.id)
                    .map(|a| AttemptView {
                        attempt: a.attempt,
                        at: instant(a.at),
                        url: a.url.clone(),
                        status: a.status,
                        error: a.error.clone(),
                        duration_ms: a.duration_ms,
                    })
                    .collect(),
            }
        })
        .collect()
}

/// The webhook deliveries of a job (one per job, once it is `DONE` with a webhook set),
/// with every attempt.
#[utoipa::path(
    get,
    path = "/advertisers/{aid}/transactions/jobs/{job_id}/deliveries",
    tag = "webhooks",
    security(("advertiser_token" = []), ("admin_token" = [])),
    params(
        ("aid" = i64, Path, description = "The advertiser's id."),
        ("job_id" = String, Path, description = "The job's id."),
    ),
    responses(
        (status = 200, description = "The deliveries, oldest first (none while the job runs or without a \
            webhook).", body = DeliveryList),
        (status = 401, description = "Missing or unknown bearer token (`UNAUTHORIZED`).", body = ErrorBody),
        (status = 403, description = "The token is not granted this advertiser (`FORBIDDEN`).", body = ErrorBody),
        (status = 404, description = "No such job for this advertiser (`JOB_NOT_FOUND`).", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
        (status = 503, description = "The database is unreachable. Has `Retry-After`.", body = ErrorBody),
    ),
)]
pub async fn job_deliveries(
    CallerOrAdmin(caller): CallerOrAdmin,
    State(state): State<AppState>,
    Path((advertiser_id, job_id)): Path<(AdvertiserId, String)>,
) -> Result<Json<DeliveryList>, ApiError> {
    caller.require(advertiser_id)?;
    let not_found = || ApiError::NotFound("JOB_NOT_FOUND", format!("job {job_id} does not exist"));
    let id: Uuid = job_id.parse().map_err(|_| not_found())?;
    let mut conn = state.pool.acquire().await?;
    db::jobs::get(&mut conn, advertiser_id, id).await?.ok_or_else(not_found)?;
    let (deliveries, attempts) = db::webhooks::log(&mut conn, advertiser_id, Some(id), None).await?;
    Ok(Json(DeliveryList { deliveries: views(deliveries, attempts) }))
}

/// One delivery (a test delivery, say), with every attempt.
#[utoipa::path(
    get,
    path = "/advertisers/{aid}/webhook/deliveries/{delivery_id}",
    tag = "webhooks",
    security(("advertiser_token" = []), ("admin_token" = [])),
    params(
        ("aid" = i64, Path, description = "The advertiser's id."),
        ("delivery_id" = String, Path, description = "The delivery's id (its `webhook-id`)."),
    ),
    responses(
        (status = 200, description = "The delivery.", body = DeliveryView),
        (status = 401, description = "Missing or unknown bearer token (`UNAUTHORIZED`).", body = ErrorBody),
        (status = 403, description = "The token is not granted this advertiser (`FORBIDDEN`).", body = ErrorBody),
        (status = 404, description = "No such delivery (`DELIVERY_NOT_FOUND`).", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
        (status = 503, description = "The database is unreachable. Has `Retry-After`.", body = ErrorBody),
    ),
)]
pub async fn delivery(
    CallerOrAdmin(caller): CallerOrAdmin,
    State(state): State<AppState>,
    Path((advertiser_id, delivery_id)): Path<(AdvertiserId, String)>,
) -> Result<Json<DeliveryView>, ApiError> {
    caller.require(advertiser_id)?;
    let not_found = || ApiError::NotFound("DELIVERY_NOT_FOUND", format!("delivery {delivery_id} does not exist"));
    let id: Uuid = delivery_id.parse().map_err(|_| not_found())?;
    let mut conn = state.pool.acquire().await?;
    let (deliveries, attempts) = db::webhooks::log(&mut conn, advertiser_id, None, Some(id)).await?;
    views(deliveries, attempts).into_iter().next().map(Json).ok_or_else(not_found)
}

//! `POST /advertisers/{id}/transactions/batch`: accept a batch as a durable job.

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use ratify_domain::batch::array::{self, ArrayError, ElementCounter};
use ratify_domain::ids::AdvertiserId;
use ratify_wire::{Accepted, BatchAction, ErrorBody};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{is_json, read_body_with, Path, Query};
use crate::state::AppState;
use crate::submit;

const MAX_KEY_LEN: usize = 255;
const MAX_LABEL_CHARS: usize = 100;

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct BatchParams {
    /// `true`: a dry run. Every item gets the outcome it would get against the current state
    /// (items of one transaction see each other's effect, in array order); no transaction
    /// changes and no history is written. The job says `"dryRun": true`.
    #[param(value_type = bool, required = false, default = false)]
    dry_run: Option<String>,
}

/// Submits a batch of actions; answers at once with the job that applies them. A malformed
/// element does not sink the batch: it becomes that item's `[400 BAD_REQUEST]` outcome.
#[utoipa::path(
    post,
    path = "/advertisers/{aid}/transactions/batch",
    tag = "validation",
    security(("advertiser_token" = [])),
    params(
        ("aid" = i64, Path, description = "The advertiser's id."),
        BatchParams,
        ("Idempotency-Key" = Option<String>, Header, nullable = false,
            description = "1 to 255 printable ASCII characters. The same key from the same advertiser within 24 \
                hours returns the first `jobId` and creates nothing; with a different body it is a `422`."),
        ("X-Job-Label" = Option<String>, Header, nullable = false,
            description = "A label for the job (a file name, a cutoff): 1 to 100 characters of UTF-8 text without \
                control characters. Shown as the job's `label` and filtered on by `GET /admin/jobs?label=`."),
    ),
    request_body(
        content = Vec<BatchAction>,
        content_type = "application/json",
        description = "A JSON array of actions, at most `RATIFY_MAX_BATCH_ITEMS` (default 100,000); may be sent \
            with `Content-Encoding: gzip`.",
    ),
    responses(
        (status = 200, description = "Accepted: the job is stored.", body = Accepted),
        (status = 400, description = "The body is not a JSON array (`JSON_PARSE_ERROR`: enclose the actions in \
            square brackets), the array is empty, the Idempotency-Key or X-Job-Label is invalid, or a body labelled gzip is not gzip \
            (`BAD_REQUEST`).",
            body = ErrorBody),
        (status = 401, description = "Missing or unknown bearer token (`UNAUTHORIZED`).", body = ErrorBody),
        (status = 403, description = "The token is not granted this advertiser (`FORBIDDEN`).", body = ErrorBody),
        (status = 404, description = "`aid` is not an integer (`NOT_FOUND`).", body = ErrorBody),
        (status = 413, description = "Over the byte limit (`PAYLOAD_TOO_LARGE`) or the item limit \
            (`TOO_MANY_ITEMS`).", body = ErrorBody),
        (status = 415, description = "The body is not sent as `application/json`, or has a `Content-Encoding` \
            other than `gzip` or `identity` (`UNSUPPORTED_MEDIA_TYPE`).", body = ErrorBody),
        (status = 422, description = "The Idempotency-Key was used within 24 hours for a different body \
            (`IDEMPOTENCY_KEY_REUSED`).", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
        (status = 503, description = "Postgres cannot take the job; nothing was accepted.", body = ErrorBody,
            headers(("Retry-After" = u32, description = "Seconds to wait before retrying."))),
    ),
)]
pub async fn submit_batch(
    caller: Caller,
    State(state): State<AppState>,
    Path(advertiser_id): Path<AdvertiserId>,
    Query(params): Query<BatchParams>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Accepted>, ApiError> {
    caller.require(advertiser_id)?;
    let dry_run = match params.dry_run.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => return Err(ApiError::bad_request(format!("dryRun {other:?} must be true or false"))),
    };
    if !is_json(&headers) {
        return Err(ApiError::UnsupportedMediaType);
    }
    let key = idempotency_key(&headers)?;
    let label = job_label(&headers)?;
    let max_items = state.config.max_batch_items;
    let too_many = move || {
        ApiError::PayloadTooLarge(
            "TOO_MANY_ITEMS",
            format!("the batch has more than {max_items} items; at most {max_items} are allowed per request"),
        )
    };
    // Items are counted as the body arrives, so an over-limit body is refused without
    // being read whole, let alone parsed.
    let mut counter = ElementCounter::new();
    let bytes = read_body_with(&headers, body, state.config.max_batch_bytes, |piece| {
        counter.feed(piece);
        if counter.elements() > max_items {
            return Err(too_many());
        }
        Ok(())
    })
    .await?;
    let limits = ratify_domain::job::ChunkLimits { items: state.config.chunk_size, bytes: state.config.chunk_bytes };
    // Parsing 100,000 items is CPU work: keep it off the async workers.
    let parsed = tokio::task::spawn_blocking(move || -> Result<_, ApiError> {
        let elements = array::parse(&bytes, max_items).map_err(|e| match e {
            ArrayError::TooMany => too_many(),
            ArrayError::NotAnArray => ApiError::BadRequest(
                "JSON_PARSE_ERROR",
                "the body must be a JSON array of actions: enclose the action objects in square brackets [ ]"
                    .to_owned(),
            ),
        })?;
        if elements.is_empty() {
            return Err(ApiError::bad_request("the batch is empty: send at least one action"));
        }
        // A dry run of a body is another request than the body itself.
        let hash = if dry_run {
            Sha256::new().chain_update(b"dry run\0").chain_update(&bytes).finalize()
        } else {
            Sha256::digest(&bytes)
        };
        let hash = hash.to_vec();
        Ok((submit::parse_items(&elements), hash))
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))??;
    let (items, hash) = parsed;
    let submission = submit::Submission {
        advertiser_id,
        items: submit::Items::Parsed(items),
        limits,
        key: key.as_deref(),
        hash: &hash,
        label: label.as_deref(),
        dry_run,
        retry_of: None,
    };
    let job_id = submit::accept(&state, submission).await?;
    Ok(Json(Accepted { job_id }))
}

/// The job's label from `X-Job-Label`: UTF-8 text of 1 to [`MAX_LABEL_CHARS`] characters
/// without control characters, trimmed.
pub(crate) fn job_label(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("x-job-label") else {
        return Ok(None);
    };
    let invalid = || {
        ApiError::bad_request(format!(
            "X-Job-Label must be 1 to {MAX_LABEL_CHARS} characters of UTF-8 text without control characters"
        ))
    };
    let label = std::str::from_utf8(value.as_bytes()).map_err(|_| invalid())?.trim();
    if label.is_empty() || label.chars().count() > MAX_LABEL_CHARS || label.chars().any(char::is_control) {
        return Err(invalid());
    }
    Ok(Some(label.to_owned()))
}

pub(crate) fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value.to_str().map_err(|_| ApiError::bad_request("Idempotency-Key must be printable ASCII"))?.trim();
    if key.is_empty() || key.len() > MAX_KEY_LEN {
        return Err(ApiError::bad_request(format!("Idempotency-Key must be 1 to {MAX_KEY_LEN} characters")));
    }
    Ok(Some(key.to_owned()))
}

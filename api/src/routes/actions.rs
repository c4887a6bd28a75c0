//! `POST /advertisers/{aid}/transactions/{id}/actions`: one action on one transaction,
//! applied before the answer.
//!
//! The action is a one-item job like any other: stored first (so it is durable and has a
//! job and an item for the history to name), then applied here, in the api, by the same
//! code and in the same kind of Postgres transaction as a worker applies a chunk. A batch
//! job touching the same transaction meanwhile is serialised with it as two chunks would
//! be. Should applying it here fail for good, its chunk goes to the broker, a worker
//! applies it, and the answer is `202` with the job to poll.

use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use backon::{ExponentialBuilder, Retryable};
use ratify_domain::batch::parse_item;
use ratify_domain::ids::{AdvertiserId, TransactionId};
use ratify_domain::job::ChunkLimits;
use ratify_shared::chunk::{apply_chunk, apply_chunk_isolating, not_the_chunks_fault, ChunkId};
use ratify_shared::db;
use ratify_wire::{Accepted, ErrorBody, TransactionAction, TransactionView};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{is_json, read_body, Path};
use crate::pages::{self, PageQuery};
use crate::routes::batch::{idempotency_key, job_label};
use crate::state::AppState;
use crate::submit::{self, Submission};
use crate::views;

/// The header naming the one-item job that applied the action.
pub const JOB_ID_HEADER: HeaderName = HeaderName::from_static("x-job-id");

/// Fields of a batch item's `transaction` that name it: here the path does.
const REFERENCE_FIELDS: [&str; 4] = ["transactionId", "orderRef", "transactionDate", "timezone"];

/// Applies one action to one transaction now and answers its outcome, with the codes of a
/// batch item: `200` with the transaction as it is now, `304` when it already was so,
/// `404`, `422`, and `400` for a malformed action.
#[utoipa::path(
    post,
    path = "/advertisers/{aid}/transactions/{id}/actions",
    tag = "validation",
    security(("advertiser_token" = [])),
    params(
        ("aid" = i64, Path, description = "The advertiser's id."),
        ("id" = i64, Path, description = "The transaction's id."),
        ("Idempotency-Key" = Option<String>, Header, nullable = false,
            description = "As for a batch: the same key and body within 24 hours answer the first request's \
                outcome and apply nothing again; the same key with another body is a `422`."),
        ("X-Job-Label" = Option<String>, Header, nullable = false,
            description = "A label for the action's job, as for a batch."),
    ),
    request_body(content = TransactionAction, content_type = "application/json",
        description = "One action with a batch item's values at the top level, without a reference."),
    responses(
        (status = 200, description = "Applied: the transaction as it is now, with its history.",
            body = TransactionView,
            headers(("X-Job-Id" = String, description = "The one-item job that applied it."))),
        (status = 202, description = "Stored but not applied yet (Postgres failed the api meanwhile): a worker \
            applies it; poll the job.", body = Accepted,
            headers(("X-Job-Id" = String, description = "The action's job."))),
        (status = 304, description = "Already so: nothing changed.",
            headers(("X-Job-Id" = String, description = "The action's job."))),
        (status = 400, description = "The body is not a JSON object (`JSON_PARSE_ERROR`), or the action is \
            malformed: unknown, a reason missing, a bad amount, a reference field given (`BAD_REQUEST`).",
            body = ErrorBody),
        (status = 401, description = "Missing or unknown bearer token (`UNAUTHORIZED`).", body = ErrorBody),
        (status = 403, description = "The token is not granted this advertiser (`FORBIDDEN`).", body = ErrorBody),
        (status = 404, description = "No such transaction for this advertiser (`TRANSACTION_NOT_FOUND`), or `aid` \
            is not an integer (`NOT_FOUND`).", body = ErrorBody),
        (status = 415, description = "The body is not sent as `application/json` (`UNSUPPORTED_MEDIA_TYPE`).",
            body = ErrorBody),
        (status = 422, description = "The transaction's state forbids it, or the amend cannot apply \
            (`UNPROCESSABLE_ENTITY`); or the Idempotency-Key was used for another body (`IDEMPOTENCY_KEY_REUSED`).",
            body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
        (status = 503, description = "Postgres cannot take the action; nothing was stored. Has `Retry-After`.",
            body = ErrorBody),
    ),
)]
pub async fn act(
    caller: Caller,
    State(state): State<AppState>,
    Path((advertiser_id, id)): Path<(AdvertiserId, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    caller.require(advertiser_id)?;
    let not_found = || ApiError::NotFound("TRANSACTION_NOT_FOUND", format!("transaction {id} does not exist"));
    let transaction_id: i64 = id.parse().ok().filter(|n| *n > 0).ok_or_else(not_found)?;
    if !is_json(&headers) {
        return Err(ApiError::UnsupportedMediaType);
    }
    let key = idempotency_key(&headers)?;
    let label = job_label(&headers)?;
    let bytes = read_body(&headers, body, state.config.max_body_bytes).await?;
    let item = as_batch_item(&bytes, transaction_id)?;
    let parsed = parse_item(&item);
    if let Err(description) = &parsed.parsed {
        return Err(ApiError::bad_request(description.clone()));
    }
    // The same key means the same request only for the same transaction and body.
    let hash = Sha256::new().chain_update(b"action\0").chain_update(id.as_bytes()).chain_update(&bytes).finalize();
    let submission = Submission {
        advertiser_id,
        items: submit::Items::Parsed(vec![parsed]),
        limits: ChunkLimits { items: 1, bytes: state.config.chunk_bytes },
        key: key.as_deref(),
        hash: &hash,
        label: label.as_deref(),
        dry_run: false,
        retry_of: None,
    };
    let stored = submit::store(&state, submission).await?;
    let job_id = stored.job_id;
    let chunk = ChunkId { advertiser_id, job_id, chunk_no: 0 };
    if let Err(e) = apply_now(&state, chunk).await {
        tracing::warn!(%job_id, error = format!("{e:#}"), "applying the action failed; a worker will");
        submit::publish(&state, advertiser_id, &stored).await;
        return Ok(with_job((StatusCode::ACCEPTED, Json(Accepted { job_id })).into_response(), job_id));
    }
    answer(&state, advertiser_id, TransactionId(transaction_id), job_id).await
}

/// Reads the action's body as a batch item aimed at `transaction_id`: `action` and
/// `approve` stay at the top, every other field goes into `transaction`. Values are
/// passed on as written, so amounts are read by the batch's own rules.
fn as_batch_item(bytes: &[u8], transaction_id: i64) -> Result<Box<RawValue>, ApiError> {
    let fields: BTreeMap<String, Box<RawValue>> = serde_json::from_slice(bytes).map_err(|_| {
        ApiError::BadRequest(
            "JSON_PARSE_ERROR",
            "the body must be one JSON object: {\"action\": \"approve\"}, with the action's values beside it"
                .to_owned(),
        )
    })?;
    if let Some(field) = REFERENCE_FIELDS.iter().chain(&["transaction"]).find(|f| fields.contains_key(**f)) {
        return Err(ApiError::bad_request(format!(
            "{field} is not taken here: the path names the transaction, and the action's values stand at the top level"
        )));
    }
    let mut top = BTreeMap::new();
    let mut transaction: BTreeMap<String, Box<RawValue>> = BTreeMap::new();
    let id = RawValue::from_string(transaction_id.to_string()).map_err(|e| ApiError::Internal(e.into()))?;
    transaction.insert("transactionId".to_owned(), id);
    for (name, value) in fields {
        if name == "action" || name == "approve" {
            top.insert(name, value);
        } else {
            transaction.insert(name, value);
        }
    }
    let transaction = serde_json::value::to_raw_value(&transaction).map_err(|e| ApiError::Internal(e.into()))?;
    top.insert("transaction".to_owned(), transaction);
    serde_json::value::to_raw_value(&top).map_err(|e| ApiError::Internal(e.into()))
}

/// Applies the action's chunk as a worker would: again, after a short wait, while
/// another transaction changed its transaction first or Postgres is briefly away; item by
/// item (so a write that keeps failing ends the item `[500]`) after any other failure.
async fn apply_now(state: &AppState, chunk: ChunkId) -> anyhow::Result<()> {
    let retry = ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(10))
        .with_max_delay(Duration::from_millis(500))
        .with_max_times(20)
        .with_jitter();
    let fast = (|| apply_chunk(&state.pool, chunk)).retry(retry).when(not_the_chunks_fault).await;
    match fast {
        Ok(_) => Ok(()),
        Err(e) if not_the_chunks_fault(&e) => Err(e),
        Err(e) => {
            tracing::warn!(error = format!("{e:#}"), "the action failed; applying it again on its own");
            (|| apply_chunk_isolating(&state.pool, chunk)).retry(retry).when(not_the_chunks_fault).await.map(drop)
        }
    }
}

/// The answer for the action's outcome, read back from its job.
async fn answer(
    state: &AppState,
    advertiser_id: AdvertiserId,
    transaction_id: TransactionId,
    job_id: Uuid,
) -> Result<Response, ApiError> {
    // The action's job and transaction are written: their reads wait for the replica to show
    // them (see reads.rs).
    state.reads.wrote(advertiser_id).await;
    let query = PageQuery { errors_only: false, code: None, start: 0, limit: 1 };
    let page = pages::read(state.pool.acquire().await?, advertiser_id, job_id, query)
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    let outcome = page.and_then(|p| p.items.into_iter().next()).ok_or_else(|| {
        ApiError::Internal(anyhow::anyhow!("job {job_id} has no outcome after its chunk was applied"))
    })?;
    let description = outcome.description.unwrap_or_default();
    let response = match outcome.code {
        200 => {
            let mut conn = state.pool.acquire().await?;
            let row = db::transactions::get(&mut conn, advertiser_id, transaction_id)
                .await?
                .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("transaction {transaction_id:?} vanished")))?;
            let history = db::history::of_transaction(&mut conn, advertiser_id, transaction_id).await?;
            let view = views::transaction(row, None, Some(history)).map_err(|e| ApiError::Internal(e.into()))?;
            Json(view).into_response()
        }
        304 => StatusCode::NOT_MODIFIED.into_response(),
        400 => ApiError::bad_request(description).into_response(),
        404 => ApiError::NotFound("TRANSACTION_NOT_FOUND", description).into_response(),
        422 => ApiError::Unprocessable("UNPROCESSABLE_ENTITY", description).into_response(),
        _ => ApiError::Internal(anyhow::anyhow!("the action ended {}: {description}", outcome.code)).into_response(),
    };
    Ok(with_job(response, job_id))
}

fn with_job(mut response: Response, job_id: Uuid) -> Response {
    if let Ok(value) = HeaderValue::from_str(&job_id.to_string()) {
        response.headers_mut().insert(JOB_ID_HEADER, value);
    }
    response
}

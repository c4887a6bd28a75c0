//! Ending a job early and applying its failed items again:
//! `POST …/jobs/{job_id}/cancel` and `POST …/jobs/{job_id}/retry`.

use std::collections::BTreeSet;

use axum::extract::State;
use axum::Json;
use futures::TryStreamExt;
use ratify_domain::ids::AdvertiserId;
use ratify_domain::job::{ChunkLimits, JobItem, JobState};
use ratify_shared::chunk::{cancel_job, Cancel};
use ratify_shared::db;
use ratify_wire::{Accepted, ErrorBody, JobView};
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::Path;
use crate::pages;
use crate::state::AppState;
use crate::submit::{self, Items, Submission, ALREADY_RETRIED};
use crate::views;

fn not_found(job_id: &str) -> ApiError {
    ApiError::NotFound("JOB_NOT_FOUND", format!("job {job_id} does not exist"))
}

/// Cancels a job: the items of its chunks not applied yet end `[409 CANCELLED]`, the
/// chunks already applied keep their outcomes, and the job is `DONE` with
/// `"cancelled": true`. Chunks being applied at that moment finish first.
#[utoipa::path(
    post,
    path = "/advertisers/{aid}/transactions/jobs/{job_id}/cancel",
    tag = "validation",
    security(("advertiser_token" = [])),
    params(
        ("aid" = i64, Path, description = "The advertiser's id."),
        ("job_id" = String, Path, description = "The job's id."),
    ),
    responses(
        (status = 200, description = "Cancelled (now, or by an earlier request): the job, `DONE`.", body = JobView),
        (status = 401, description = "Missing or unknown bearer token (`UNAUTHORIZED`).", body = ErrorBody),
        (status = 403, description = "The token is not granted this advertiser (`FORBIDDEN`).", body = ErrorBody),
        (status = 404, description = "No such job for this advertiser (`JOB_NOT_FOUND`).", body = ErrorBody),
        (status = 409, description = "Every item already has its outcome (`JOB_DONE`): nothing to cancel.",
            body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
        (status = 503, description = "The database is unreachable. Has `Retry-After`.", body = ErrorBody),
    ),
)]
pub async fn cancel(
    caller: Caller,
    State(state): State<AppState>,
    Path((advertiser_id, job_id)): Path<(AdvertiserId, String)>,
) -> Result<Json<JobView>, ApiError> {
    caller.require(advertiser_id)?;
    let id: Uuid = job_id.parse().map_err(|_| not_found(&job_id))?;
    match cancel_job(&state.pool, advertiser_id, id).await.map_err(chunk_error)? {
        Cancel::NoSuchJob => return Err(not_found(&job_id)),
        Cancel::AlreadyDone => {
            return Err(ApiError::Conflict("JOB_DONE", format!("job {job_id} is DONE: every item has its outcome")))
        }
        Cancel::Cancelled { .. } => {}
    }
    // The job's reads now wait for the replica to show it cancelled (see reads.rs).
    state.reads.wrote(advertiser_id).await;
    let mut conn = state.pool.acquire().await?;
    let row = db::jobs::get(&mut conn, advertiser_id, id).await?.ok_or_else(|| not_found(&job_id))?;
    Ok(Json(views::job(&row)))
}

/// A database error keeps its meaning (unreachable: 503); anything else is internal.
fn chunk_error(e: anyhow::Error) -> ApiError {
    match e.downcast::<sqlx::Error>() {
        Ok(e) => e.into(),
        Err(e) => ApiError::Internal(e),
    }
}

/// Makes a new job of the items of a `DONE` job that ended `[500 INTERNAL_SERVER_ERROR]`
/// (their processing kept failing), in their order; the two jobs name each other
/// (`retryOf`, `retriedBy`). Retrying a job again answers the same new job.
#[utoipa::path(
    post,
    path = "/advertisers/{aid}/transactions/jobs/{job_id}/retry",
    tag = "validation",
    security(("advertiser_token" = [])),
    params(
        ("aid" = i64, Path, description = "The advertiser's id."),
        ("job_id" = String, Path, description = "The job's id."),
    ),
    responses(
        (status = 200, description = "The new job (or the one an earlier retry made).", body = Accepted),
        (status = 401, description = "Missing or unknown bearer token (`UNAUTHORIZED`).", body = ErrorBody),
        (status = 403, description = "The token is not granted this advertiser (`FORBIDDEN`).", body = ErrorBody),
        (status = 404, description = "No such job for this advertiser (`JOB_NOT_FOUND`).", body = ErrorBody),
        (status = 409, description = "The job is not `DONE` yet (`JOB_NOT_DONE`), or no item of it ended `[500]` \
            (`NOTHING_TO_RETRY`).", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
        (status = 503, description = "The database is unreachable. Has `Retry-After`.", body = ErrorBody),
    ),
)]
pub async fn retry(
    caller: Caller,
    State(state): State<AppState>,
    Path((advertiser_id, job_id)): Path<(AdvertiserId, String)>,
) -> Result<Json<Accepted>, ApiError> {
    caller.require(advertiser_id)?;
    let id: Uuid = job_id.parse().map_err(|_| not_found(&job_id))?;
    let mut conn = state.pool.acquire().await?;
    let job = db::jobs::get(&mut conn, advertiser_id, id).await?.ok_or_else(|| not_found(&job_id))?;
    if let Some(retried_by) = job.retried_by {
        return Ok(Json(Accepted { job_id: retried_by }));
    }
    if job.status != JobState::Done {
        return Err(ApiError::Conflict(
            "JOB_NOT_DONE",
            format!("job {job_id} is {}: retry it once it is DONE", job.status),
        ));
    }
    let failed: BTreeSet<i32> = pages::rows(state.pool.acquire().await?, advertiser_id, id, true)
        .try_filter_map(|row| std::future::ready(Ok((row.code == 500).then_some(row.item_index))))
        .try_collect()
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    if failed.is_empty() {
        return Err(ApiError::Conflict("NOTHING_TO_RETRY", format!("no item of job {job_id} ended [500]")));
    }
    let mut items: Vec<JobItem> = Vec::with_capacity(failed.len());
    for chunk in db::chunks::all_items(&mut conn, advertiser_id, id).await? {
        let chunk: Vec<JobItem> = serde_json::from_str(&chunk).map_err(|e| ApiError::Internal(e.into()))?;
        items.extend(chunk.into_iter().filter(|item| failed.contains(&item.index)));
    }
    drop(conn);
    items.sort_by_key(|item| item.index);
    for (n, item) in items.iter_mut().enumerate() {
        item.index = n as i32;
    }
    let hash = [b"retry\0".as_slice(), id.as_bytes()].concat();
    let submission = Submission {
        advertiser_id,
        items: Items::Planned(items),
        limits: ChunkLimits { items: state.config.chunk_size, bytes: state.config.chunk_bytes },
        key: None,
        hash: &hash,
        label: job.label.as_deref(),
        dry_run: job.dry_run,
        retry_of: Some(id),
    };
    match submit::accept(&state, submission).await {
        Ok(new) => Ok(Json(Accepted { job_id: new })),
        // Another request retried it meanwhile: its job is the answer.
        Err(ApiError::Conflict(ALREADY_RETRIED, _)) => {
            let mut conn = state.pool.acquire().await?;
            let job = db::jobs::get(&mut conn, advertiser_id, id).await?.ok_or_else(|| not_found(&job_id))?;
            let retried_by =
                job.retried_by.ok_or_else(|| ApiError::Internal(anyhow::anyhow!("retry link vanished")))?;
            Ok(Json(Accepted { job_id: retried_by }))
        }
        Err(e) => Err(e),
    }
}

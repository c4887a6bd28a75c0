//! The paged form of `GET .../jobs/{job_id}`: `output` with `code`, `limit` or `cursor`.

use axum::response::{IntoResponse, Response};
use axum::Json;
use ratify_domain::ids::AdvertiserId;
use ratify_domain::job::OutcomeCode;
use ratify_wire::JobStatus;
use uuid::Uuid;

use super::jobs::JobParams;
use crate::cursor;
use crate::error::ApiError;
use crate::pages::{self, PageQuery};
use crate::reads::{Cause, Fallback, Scope, Source};
use crate::state::AppState;
use crate::views;

const DEFAULT_LIMIT: usize = 500;
const MAX_LIMIT: usize = 10_000;

/// One page of a job's list, with the cursor of the next.
pub async fn get_page(
    state: &AppState,
    advertiser_id: AdvertiserId,
    job_id: Uuid,
    errors_only: bool,
    params: &JobParams,
) -> Result<Response, ApiError> {
    let code = match params.code.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => {
            Some(c.parse().ok().and_then(OutcomeCode::from_status).map(OutcomeCode::status).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "code {c:?} is not an outcome's code: use 200, 304, 400, 404, 409, 422 or 500"
                ))
            })?)
        }
    };
    let limit = match params.limit.as_deref() {
        None => DEFAULT_LIMIT,
        Some(l) => l
            .parse()
            .ok()
            .filter(|l| (1..=MAX_LIMIT).contains(l))
            .ok_or_else(|| ApiError::bad_request(format!("limit must be between 1 and {MAX_LIMIT}")))?,
    };
    let scope = scope(errors_only, code);
    let secret = &state.config.admin_token;
    let start = match params.cursor.as_deref() {
        None => 0,
        Some(c) => cursor::open_items(secret, advertiser_id, &scope, job_id, c).ok_or_else(|| {
            ApiError::bad_request("cursor is not one this api gave out for this job with this output and code")
        })?,
    };
    let query = PageQuery { errors_only, code, start, limit };
    let whose = Scope::Advertiser(advertiser_id);
    let (conn, mut source) = state.reads.acquire(whose).await?;
    let mut page = pages::read(conn, advertiser_id, job_id, query).await;
    if source == Source::Replica && !matches!(page, Ok(Some(_))) {
        // Not (yet) on the replica, or the replica failed: the primary decides.
        let why = if page.is_ok() { Fallback::Miss } else { Fallback::ReplicaError };
        let conn = state.reads.fallback(why, page.as_ref().err().map(|e| e as Cause)).await?;
        source = Source::Primary;
        page = pages::read(conn, advertiser_id, job_id, query).await;
    }
    state.reads.served(whose, source).await;
    let page = page
        .map_err(|e| ApiError::Internal(e.into()))?
        .ok_or_else(|| ApiError::NotFound("JOB_NOT_FOUND", format!("job {job_id} does not exist")))?;
    let items: Vec<_> = page.items.into_iter().map(views::outcome).collect();
    let (failed_transactions, all_transactions) = if errors_only { (Some(items), None) } else { (None, Some(items)) };
    let next_cursor = page.next.map(|next| cursor::issue_items(secret, advertiser_id, &scope, job_id, next));
    let job = views::job(&page.job);
    Ok(Json(JobStatus { job, failed_transactions, all_transactions, next_cursor: Some(next_cursor) }).into_response())
}

/// The listing a cursor belongs to: which output, which code.
fn scope(errors_only: bool, code: Option<i16>) -> String {
    let output = if errors_only { "errors" } else { "all" };
    format!("{output}:{}", code.map(|c| c.to_string()).unwrap_or_default())
}

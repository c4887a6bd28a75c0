//! `GET /admin/jobs`: the jobs of every advertiser, for the operator, filtered by
//! advertiser, status, label and creation date.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use ratify_domain::ids::AdvertiserId;
use ratify_domain::job::JobState;
use ratify_shared::db;
use ratify_shared::db::jobs::JobFilter;
use ratify_wire::{AdminJobPage, AdminJobView, ErrorBody};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Admin;
use crate::cursor;
use crate::error::ApiError;
use crate::extract::Query;
use crate::reads::Scope;
use crate::state::AppState;
use crate::views;

/// The admin list's cursors are issued to no advertiser: ids are positive, so 0 keeps
/// them apart from every advertiser's own list.
pub const ADMIN_LIST: AdvertiserId = AdvertiserId(0);

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(rename_all = "camelCase")]
pub struct AdminListParams {
    /// Only this advertiser's jobs.
    #[param(value_type = i64, required = false)]
    pub(crate) advertiser_id: Option<String>,
    /// Only jobs reading this status now.
    #[param(value_type = JobState, inline, required = false)]
    pub(crate) status: Option<String>,
    /// Only jobs submitted with this `X-Job-Label`, exactly.
    #[param(value_type = String, required = false)]
    pub(crate) label: Option<String>,
    /// Only jobs created at or after: an RFC 3339 instant, or a date (its midnight, UTC).
    #[param(value_type = String, required = false, example = "2026-11-14")]
    pub(crate) from: Option<String>,
    /// Only jobs created before: an RFC 3339 instant, or a date (its midnight, UTC).
    #[param(value_type = String, required = false, example = "2026-11-15")]
    pub(crate) until: Option<String>,
    /// Jobs per page, 1 to 500 (default 50).
    #[param(value_type = i64, required = false, minimum = 1, maximum = 500, default = 50)]
    pub(crate) limit: Option<i64>,
    /// The `nextCursor` of the previous page, as given.
    #[param(value_type = String, required = false)]
    pub(crate) cursor: Option<String>,
}

/// The filter the parameters name, or a `400` saying which one is wrong.
pub fn filter(params: &AdminListParams) -> Result<JobFilter, ApiError> {
    let advertiser_id = match params.advertiser_id.as_deref().filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => Some(AdvertiserId(
            v.parse()
                .ok()
                .filter(|id| *id > 0)
                .ok_or_else(|| ApiError::bad_request("advertiserId must be a positive integer"))?,
        )),
    };
    let status = match params.status.as_deref().filter(|v| !v.is_empty()) {
        None => None,
        Some("QUEUED") => Some(JobState::Queued),
        Some("PROCESSING") => Some(JobState::Processing),
        Some("DONE") => Some(JobState::Done),
        Some(other) => {
            return Err(ApiError::bad_request(format!("status {other:?} is unknown: use QUEUED, PROCESSING or DONE")))
        }
    };
    let label = params.label.clone().filter(|v| !v.is_empty());
    let from = instant("from", params.from.as_deref())?;
    let until = instant("until", params.until.as_deref())?;
    Ok(JobFilter { within: None, advertiser_id, status, label, from, until })
}

/// An RFC 3339 instant or a date (its midnight, UTC).
fn instant(name: &str, value: Option<&str>) -> Result<Option<DateTime<Utc>>, ApiError> {
    let Some(value) = value.filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if let Ok(at) = DateTime::parse_from_rfc3339(value) {
        return Ok(Some(at.with_timezone(&Utc)));
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| Some(t.and_utc()))
        .ok_or_else(|| ApiError::bad_request(format!("{name} must be an RFC 3339 instant or a date (YYYY-MM-DD)")))
}

/// Every advertiser's jobs of the last 60 days, newest first, filtered and paginated.
#[utoipa::path(
    get,
    path = "/admin/jobs",
    tag = "admin",
    security(("admin_token" = [])),
    params(AdminListParams),
    responses(
        (status = 200, description = "A page of jobs.", body = AdminJobPage),
        (status = 400, description = "A filter is invalid, `limit` is out of range, or `cursor` is not one \
            this api gave out for this list (`BAD_REQUEST`).", body = ErrorBody),
        (status = 401, description = "Missing or wrong admin token.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
        (status = 503, description = "The database is unreachable. Has `Retry-After`.", body = ErrorBody),
    ),
)]
pub async fn list_all_jobs(
    _: Admin,
    State(state): State<AppState>,
    Query(params): Query<AdminListParams>,
) -> Result<Json<AdminJobPage>, ApiError> {
    let filter = filter(&params)?;
    let limit = params.limit.unwrap_or(super::jobs::DEFAULT_PAGE);
    if !(1..=super::jobs::MAX_PAGE).contains(&limit) {
        return Err(ApiError::bad_request(format!("limit must be between 1 and {}", super::jobs::MAX_PAGE)));
    }
    let secret = &state.config.admin_token;
    let before = match params.cursor.as_deref() {
        None => None,
        Some(c) => Some(
            cursor::open(secret, ADMIN_LIST, c)
                .ok_or_else(|| ApiError::bad_request("cursor is not one this api gave out for this list"))?,
        ),
    };
    let (rows, _, source) = state
        .reads
        .read(Scope::All, |mut conn| {
            let filter = filter.clone();
            async move { Ok((Some(db::jobs::list_all(&mut conn, &filter, before, limit).await?), conn)) }
        })
        .await?;
    state.reads.served(Scope::All, source).await;
    let rows = rows.unwrap_or_default();
    let next_cursor = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|j| cursor::issue(secret, ADMIN_LIST, j.created_at, j.id)))
        .flatten();
    let jobs = rows.iter().map(|j| AdminJobView { advertiser_id: j.advertiser_id.0, job: views::job(j) }).collect();
    Ok(Json(AdminJobPage { jobs, next_cursor }))
}

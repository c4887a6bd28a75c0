//! `/advertisers/{id}/transactions/jobs`: job status with streamed outcomes, and the
//! job list.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::{StreamExt, TryStreamExt};
use ratify_domain::ids::AdvertiserId;
use ratify_domain::job::JobState;
use ratify_shared::db;
use ratify_shared::db::jobs::{JobWithDocument, OutcomeDocument};
use ratify_wire::{ErrorBody, JobPage, JobStatus};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::auth::Caller;
use crate::cursor;
use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::merge::Merge;
use crate::output_cache::{Fill, Filler, OutputCache};
use crate::reads::{Cause, Fallback, Scope, Source};
use crate::state::AppState;
use crate::stream::ArrayWriter;
use crate::views;

#[derive(Deserialize, IntoParams)]
pub struct JobParams {
    /// Add the item outcomes, in index order: `errors` fills `failedTransactions` with the failed
    /// items, `all` fills `allTransactions` with every item. Absent: the summary only.
    #[param(value_type = ratify_wire::JobOutput, inline, required = false)]
    output: Option<String>,
    /// Page the list: only items with this status code (`404`; `200` and `304` only with
    /// `output=all`). Needs `output`.
    #[param(value_type = i32, required = false, example = 404)]
    pub(super) code: Option<String>,
    /// Page the list: at most this many items, 1 to 10,000 (default 500). Needs `output`.
    #[param(value_type = i64, required = false, minimum = 1, maximum = 10000, default = 500)]
    pub(super) limit: Option<String>,
    /// Page the list: the `nextCursor` of the previous page, passed back as given with the same
    /// `output` and `code`. Needs `output`.
    #[param(value_type = String, required = false)]
    pub(super) cursor: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Output {
    Summary,
    Errors,
    All,
}

/// A job's status, with its item outcomes when asked (streamed).
#[utoipa::path(
    get,
    path = "/advertisers/{aid}/transactions/jobs/{job_id}",
    tag = "validation",
    security(("advertiser_token" = [])),
    params(
        ("aid" = i64, Path, description = "The advertiser's id."),
        ("job_id" = Uuid, Path, description = "The `jobId` the batch was answered with."),
        JobParams,
    ),
    responses(
        (status = 200, description = "The job. With `code`, `limit` or `cursor`, one page of its list, with \
            `nextCursor` (`JobOutputPage`).", content(
                (JobStatus = "application/json"),
            )),
        (status = 400, description = "`output` is neither `errors` nor `all`, `code` or `limit` is invalid, paging \
            is asked without `output`, or `cursor` is not one this api gave out for this listing (`BAD_REQUEST`).",
            body = ErrorBody),
        (status = 401, description = "Missing or unknown bearer token (`UNAUTHORIZED`).", body = ErrorBody),
        (status = 403, description = "The token is not granted this advertiser (`FORBIDDEN`).", body = ErrorBody),
        (status = 404, description = "No such job for this advertiser (`JOB_NOT_FOUND`), or `aid` is not an \
            integer (`NOT_FOUND`).", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
        (status = 503, description = "The database is unreachable. Has `Retry-After`.", body = ErrorBody),
    ),
)]
pub async fn get_job(
    caller: Caller,
    State(state): State<AppState>,
    Path((advertiser_id, job_id)): Path<(AdvertiserId, String)>,
    Query(params): Query<JobParams>,
) -> Result<Response, ApiError> {
    caller.require(advertiser_id)?;
    let output = match params.output.as_deref() {
        None | Some("") => Output::Summary,
        Some("errors") => Output::Errors,
        Some("all") => Output::All,
        Some(other) => return Err(ApiError::bad_request(format!("output {other:?} is unknown: use errors or all"))),
    };
    let not_found = || ApiError::NotFound("JOB_NOT_FOUND", format!("job {job_id} does not exist"));
    let id: Uuid = job_id.parse().map_err(|_| not_found())?;
    if params.code.is_some() || params.limit.is_some() || params.cursor.is_some() {
        let errors_only = match output {
            Output::Summary => return Err(ApiError::bad_request("code, limit and cursor page a list: add output")),
            Output::Errors => true,
            Output::All => false,
        };
        return super::job_pages::get_page(&state, advertiser_id, id, errors_only, &params).await;
    }
    let scope = Scope::Advertiser(advertiser_id);
    let (job, conn, mut source) = state
        .reads
        .read(scope, |mut conn| async move { Ok((db::jobs::get(&mut conn, advertiser_id, id).await?, conn)) })
        .await?;
    let job = job.ok_or_else(not_found)?;
    let errors_only = match output {
        Output::Summary => {
            state.reads.served(scope, source).await;
            let job = views::job(&job);
            let status = JobStatus { job, failed_transactions: None, all_transactions: None, next_cursor: None };
            return Ok(Json(status).into_response());
        }
        Output::Errors => true,
        Output::All => false,
    };
    if job.status != JobState::Done {
        // One answer is one snapshot: the job's counts and the documents it lists come
        // from one statement, so a poll of a running job lists exactly what its counts say.
        let mut rows = Box::pin(job_with_documents(conn, advertiser_id, id, errors_only));
        let mut first = rows.try_next().await;
        if let (Err(error), Source::Replica) = (&first, source) {
            let conn = state.reads.fallback(Fallback::ReplicaError, Some(error as Cause)).await?;
            source = Source::Primary;
            rows = Box::pin(job_with_documents(conn, advertiser_id, id, errors_only));
            first = rows.try_next().await;
        }
        let first = first?.ok_or_else(not_found)?;
        state.reads.served(scope, source).await;
        let (prefix, suffix) =
            framing(&views::job(&first.job), errors_only).map_err(|e| ApiError::Internal(e.into()))?;
        let documents = futures::stream::iter([Ok(first)]).chain(rows).try_filter_map(|row| async move {
            Ok(row.document.map(|document| OutcomeDocument { first_index: row.first_index.unwrap_or(0), document }))
        });
        return Ok(crate::stream::json_body(Listing { prefix, suffix }.stream(documents, None)));
    }
    // A finished job never changes: serve it from memory, or render it once for everyone
    // asking at the same time.
    drop(conn);
    // Its documents were written with its last chunk, so whichever server had it DONE has them.
    state.reads.served(scope, source).await;
    if let Some(body) = state.outputs.get(advertiser_id, id, errors_only) {
        return Ok(json(body));
    }
    let (prefix, suffix) = framing(&views::job(&job), errors_only).map_err(|e| ApiError::Internal(e.into()))?;
    let listing = Listing { prefix, suffix };
    let (reads, outputs) = (state.reads.clone(), state.outputs.clone());
    let body = async_stream::try_stream! {
        match outputs.fill(advertiser_id, id, errors_only).await {
            Fill::Cached(body) => yield body,
            Fill::Render(filler) => {
                let conn = reads.connection(source).await.map_err(std::io::Error::other)?;
                let documents = outcome_documents(conn, advertiser_id, id, errors_only);
                let mut rendered = std::pin::pin!(listing.stream(documents, Some((&*outputs, filler))));
                while let Some(piece) = rendered.try_next().await? {
                    yield piece;
                }
            }
        }
    };
    Ok(crate::stream::json_body(body))
}

type Connection = sqlx::pool::PoolConnection<sqlx::Postgres>;

/// [`db::jobs::with_documents_sql`]'s rows, read on `conn`, which the stream owns.
fn job_with_documents(
    mut conn: Connection,
    advertiser_id: AdvertiserId,
    job_id: Uuid,
    errors_only: bool,
) -> impl futures::Stream<Item = sqlx::Result<JobWithDocument>> + Send + 'static {
    async_stream::try_stream! {
        let sql = db::jobs::with_documents_sql(errors_only);
        let mut rows = sqlx::query_as::<_, JobWithDocument>(&sql).bind(advertiser_id).bind(job_id).fetch(&mut *conn);
        while let Some(row) = rows.try_next().await? {
            yield row;
        }
    }
}

/// A finished job's outcome documents, read on `conn`, which the stream owns.
fn outcome_documents(
    mut conn: Connection,
    advertiser_id: AdvertiserId,
    job_id: Uuid,
    errors_only: bool,
) -> impl futures::Stream<Item = sqlx::Result<OutcomeDocument>> + Send + 'static {
    async_stream::try_stream! {
        let mut rows = sqlx::query_as::<_, OutcomeDocument>(db::jobs::outcome_documents_sql(errors_only))
            .bind(advertiser_id)
            .bind(job_id)
            .fetch(&mut *conn);
        while let Some(row) = rows.try_next().await? {
            yield row;
        }
    }
}

/// What goes before and after the streamed item list of a [`JobStatus`]: the summary's
/// fields, then the list asked for, the other list `null`.
fn framing(summary: &ratify_wire::JobView, errors_only: bool) -> serde_json::Result<(Vec<u8>, &'static [u8])> {
    let summary = serde_json::to_vec(summary)?;
    // The summary object without its closing brace, to which the item lists are added.
    let head = &summary[..summary.len() - 1];
    Ok(if errors_only {
        ([head, br#","failedTransactions":"#].concat(), br#","allTransactions":null}"#)
    } else {
        ([head, br#","failedTransactions":null,"allTransactions":"#].concat(), b"}")
    })
}

fn json(body: impl Into<axum::body::Body>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body.into()).into_response()
}

/// One job's item list, rendered as the rest of its answer.
struct Listing {
    prefix: Vec<u8>,
    suffix: &'static [u8],
}

impl Listing {
    /// Streams the items of `documents` (by first index), merged in index order. With a filler, the body is also collected for the
    /// cache, and given up (letting the next request render) once too large to keep.
    fn stream<'a>(
        self,
        documents: impl futures::Stream<Item = sqlx::Result<OutcomeDocument>> + Send + 'a,
        mut keep: Option<(&'a OutputCache, Option<Filler<'a>>)>,
    ) -> impl futures::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send + 'a {
        async_stream::try_stream! {
            let mut kept: Option<Vec<u8>> = keep.as_ref().and_then(|(_, f)| f.as_ref()).map(|_| Vec::new());
            let mut writer = ArrayWriter::new(&self.prefix);
            let mut documents = std::pin::pin!(documents.peekable());
            let mut merge = Merge::default();
            loop {
                // Open every document the next outcome may come from, then take it.
                while let Some(next) = documents.as_mut().peek().await {
                    let first_index = next.as_ref().map_or(i32::MIN, |d| d.first_index);
                    if !merge.needs(first_index) {
                        break;
                    }
                    if let Some(document) = documents.try_next().await.map_err(std::io::Error::other)? {
                        merge.open(&document.document)?;
                    }
                }
                let Some(row) = merge.take() else { break };
                if let Some(piece) = writer.push(&views::outcome(row))? {
                    collect(&mut kept, &piece, &mut keep);
                    yield piece;
                }
            }
            let last = writer.finish(self.suffix);
            collect(&mut kept, &last, &mut keep);
            if let (Some((_, Some(filler))), Some(body)) = (keep, kept) {
                filler.insert(body.into());
            }
            yield last;
        }
    }
}

/// Appends a streamed piece to the copy being kept for the cache, or gives the copy (and
/// the filler's turn) up when it grows past what the cache takes.
fn collect(kept: &mut Option<Vec<u8>>, piece: &[u8], keep: &mut Option<(&OutputCache, Option<Filler<'_>>)>) {
    let (Some(body), Some((outputs, filler))) = (kept.as_mut(), keep.as_mut()) else {
        return;
    };
    body.extend_from_slice(piece);
    if !outputs.worth_keeping(body.len()) {
        *kept = None;
        *filler = None;
    }
}

#[derive(Deserialize, IntoParams)]
pub struct ListParams {
    /// Jobs per page, 1 to 500 (default 50).
    #[param(value_type = i64, required = false, minimum = 1, maximum = 500, default = 50)]
    limit: Option<i64>,
    /// The `nextCursor` of the previous page, passed back as given: it is opaque, and one not
    /// given out by this api for this advertiser is a `400`.
    #[param(value_type = String, required = false)]
    cursor: Option<String>,
}

pub const DEFAULT_PAGE: i64 = 50;
pub const MAX_PAGE: i64 = 500;

/// The advertiser's jobs of the last 60 days, newest first, paginated.
#[utoipa::path(
    get,
    path = "/advertisers/{aid}/transactions/jobs",
    tag = "validation",
    security(("advertiser_token" = [])),
    params(("aid" = i64, Path, description = "The advertiser's id."), ListParams),
    responses(
        (status = 200, description = "A page of jobs.", body = JobPage),
        (status = 400, description = "`limit` is out of range or `cursor` is not one this api gave out \
            for this advertiser: altered, made up, or another advertiser's (`BAD_REQUEST`).", body = ErrorBody),
        (status = 401, description = "Missing or unknown bearer token (`UNAUTHORIZED`).", body = ErrorBody),
        (status = 403, description = "The token is not granted this advertiser (`FORBIDDEN`).", body = ErrorBody),
        (status = 404, description = "`aid` is not an integer (`NOT_FOUND`).", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
        (status = 503, description = "The database is unreachable. Has `Retry-After`.", body = ErrorBody),
    ),
)]
pub async fn list_jobs(
    caller: Caller,
    State(state): State<AppState>,
    Path(advertiser_id): Path<AdvertiserId>,
    Query(params): Query<ListParams>,
) -> Result<Json<JobPage>, ApiError> {
    caller.require(advertiser_id)?;
    let limit = params.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::bad_request(format!("limit must be between 1 and {MAX_PAGE}")));
    }
    let secret = &state.config.admin_token;
    let before = match params.cursor.as_deref() {
        None => None,
        Some(c) => Some(
            cursor::open(secret, advertiser_id, c)
                .ok_or_else(|| ApiError::bad_request("cursor is not one this api gave out for this advertiser"))?,
        ),
    };
    let scope = Scope::Advertiser(advertiser_id);
    let (rows, _, source) = state
        .reads
        .read(scope, |mut conn| async move {
            Ok((Some(db::jobs::list(&mut conn, advertiser_id, before, limit).await?), conn))
        })
        .await?;
    state.reads.served(scope, source).await;
    let rows = rows.unwrap_or_default();
    let next_cursor = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|j| cursor::issue(secret, advertiser_id, j.created_at, j.id)))
        .flatten();
    Ok(Json(JobPage { jobs: rows.iter().map(views::job).collect(), next_cursor }))
}

#[cfg(test)]
mod tests {
    use ratify_wire::{JobView, OutcomeCode, OutcomeView};

    use super::*;

    /// The streamed answer is byte for byte what serialising the one `JobStatus` type gives.
    #[test]
    fn streamed_job_status_is_the_wire_type() {
        let job = JobView {
            job_id: Uuid::nil(),
            status: JobState::Done,
            transaction_count: 2,
            processed_count: 2,
            error_count: 1,
            transactions: 2,
            errors: 1,
            creation_date: "2026-11-14T10:15:00.123Z".to_owned(),
            completion_date: None,
            label: Some("cutoff 15th".to_owned()),
            dry_run: true,
            cancelled: true,
            retry_of: Some(Uuid::nil()),
            retried_by: None,
        };
        let item = |index, code| OutcomeView {
            index,
            action: Some("approve".to_owned()),
            transaction_id: Some(7),
            order_ref: None,
            transaction_date: None,
            timezone: None,
            code,
            description: None,
        };
        let items = vec![item(0, OutcomeCode::Ok), item(1, OutcomeCode::NotFound)];
        for errors_only in [true, false] {
            let (prefix, suffix) = framing(&job, errors_only).unwrap();
            let mut writer = ArrayWriter::new(&prefix);
            let mut streamed = Vec::new();
            for item in &items {
                streamed.extend(writer.push(item).unwrap().unwrap_or_default());
            }
            streamed.extend(writer.finish(suffix));
            let (failed, all) = if errors_only { (Some(items.clone()), None) } else { (None, Some(items.clone())) };
            let whole =
                JobStatus { job: job.clone(), failed_transactions: failed, all_transactions: all, next_cursor: None };
            assert_eq!(String::from_utf8(streamed).unwrap(), serde_json::to_string(&whole).unwrap());
        }
    }
}

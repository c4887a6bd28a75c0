//! `/advertisers/{id}/transactions`: record tracked sales, read one, list.

use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;
use futures::TryStreamExt;
use ratify_domain::ids::AdvertiserId;
use ratify_domain::ids::TransactionId;
use ratify_domain::localtime;
use ratify_domain::state::CommissionStatus;
use ratify_domain::text::{self, TextKind};
use ratify_shared::db;
use ratify_shared::db::transactions::{DateType, TransactionRow};
use ratify_wire::{ErrorBody, NewTransaction, Recorded, TransactionView};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::ingest;
use crate::reads::Scope;
use crate::state::AppState;
use crate::stream::ArrayWriter;
use crate::views;

/// Records tracked sales, all or nothing (stands in for the tracking pipeline).
#[utoipa::path(
    post,
    path = "/advertisers/{aid}/transactions",
    tag = "transactions",
    security(("advertiser_token" = [])),
    params(("aid" = i64, Path, description = "The advertiser's id.")),
    request_body(
        content = Vec<NewTransaction>,
        content_type = "application/json",
        description = "A JSON array of 1 to 100,000 transactions.",
    ),
    responses(
        (status = 201, description = "Recorded; the new ids in input order.", body = Recorded),
        (status = 400, description = "The body is not a JSON array (`JSON_PARSE_ERROR`), or names the first bad \
            item and field (`BAD_REQUEST`); nothing was recorded.", body = ErrorBody),
        (status = 401, description = "Missing or unknown bearer token (`UNAUTHORIZED`).", body = ErrorBody),
        (status = 403, description = "The token is not granted this advertiser (`FORBIDDEN`).", body = ErrorBody),
        (status = 404, description = "No such advertiser (`ADVERTISER_NOT_FOUND`), or `aid` is not an integer \
            (`NOT_FOUND`).", body = ErrorBody),
        (status = 409, description = "A transaction with the same orderRef and transactionDate exists or appears \
            twice (`DUPLICATE_TRANSACTION`); nothing was recorded.", body = ErrorBody),
        (status = 413, description = "The body is too large (`PAYLOAD_TOO_LARGE`).", body = ErrorBody),
        (status = 415, description = "The body is not sent as `application/json`, or has a `Content-Encoding` \
            other than `gzip` or `identity` (`UNSUPPORTED_MEDIA_TYPE`).", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
        (status = 503, description = "The database is unreachable; nothing was stored. Has `Retry-After`.",
            body = ErrorBody),
    ),
)]
pub async fn record(
    caller: Caller,
    State(state): State<AppState>,
    Path(advertiser_id): Path<AdvertiserId>,
    headers: axum::http::HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Recorded>), ApiError> {
    caller.require(advertiser_id)?;
    let ids = ingest::record(&state, advertiser_id, &headers, body).await?;
    Ok((StatusCode::CREATED, Json(Recorded { ids })))
}

/// One transaction, with its parts and history.
#[utoipa::path(
    get,
    path = "/advertisers/{aid}/transactions/{id}",
    tag = "transactions",
    security(("advertiser_token" = [])),
    params(
        ("aid" = i64, Path, description = "The advertiser's id."),
        ("id" = i64, Path, description = "The transaction's id."),
    ),
    responses(
        (status = 200, description = "The transaction, with `history`.", body = TransactionView),
        (status = 401, description = "Missing or unknown bearer token (`UNAUTHORIZED`).", body = ErrorBody),
        (status = 403, description = "The token is not granted this advertiser (`FORBIDDEN`).", body = ErrorBody),
        (status = 404, description = "No such transaction for this advertiser (`TRANSACTION_NOT_FOUND`), or `aid` \
            is not an integer (`NOT_FOUND`).", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
        (status = 503, description = "The database is unreachable. Has `Retry-After`.", body = ErrorBody),
    ),
)]
pub async fn get_one(
    caller: Caller,
    State(state): State<AppState>,
    Path((advertiser_id, id)): Path<(AdvertiserId, String)>,
) -> Result<Json<TransactionView>, ApiError> {
    caller.require(advertiser_id)?;
    let not_found = || ApiError::NotFound("TRANSACTION_NOT_FOUND", format!("transaction {id} does not exist"));
    let numeric = TransactionId(id.parse().map_err(|_| not_found())?);
    let scope = Scope::Advertiser(advertiser_id);
    let (found, _, source) = state
        .reads
        .read(scope, |mut conn| async move {
            let Some(row) = db::transactions::get(&mut conn, advertiser_id, numeric).await? else {
                return Ok((None, conn));
            };
            let history = db::history::of_transaction(&mut conn, advertiser_id, numeric).await?;
            Ok((Some((row, history)), conn))
        })
        .await?;
    state.reads.served(scope, source).await;
    let (row, history) = found.ok_or_else(not_found)?;
    let view = views::transaction(row, None, Some(history)).map_err(|e| ApiError::Internal(e.into()))?;
    Ok(Json(view))
}

/// Either `ids`, or `orderRef`, or `startDate` and `endDate` (with `dateType`, `status`).
#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct ListParams {
    /// Local date-time `yyyy-MM-ddTHH:mm:ss` in `timezone`, inclusive; required unless `ids` or `orderRef`.
    #[param(value_type = String, required = false, example = "2026-11-01T00:00:00")]
    start_date: Option<String>,
    /// Local date-time `yyyy-MM-ddTHH:mm:ss` in `timezone`, inclusive, at most 31 days after `startDate`.
    #[param(value_type = String, required = false, example = "2026-11-30T23:59:59")]
    end_date: Option<String>,
    /// Which date the range selects on (default `transaction`).
    #[param(value_type = ratify_wire::DateType, inline, required = false)]
    date_type: Option<String>,
    /// IANA zone the dates are read and written in (default `UTC`).
    #[param(value_type = String, required = false, example = "Europe/Stockholm")]
    timezone: Option<String>,
    /// Only transactions of this status (with a date range).
    #[param(value_type = ratify_wire::CommissionStatus, inline, required = false)]
    status: Option<String>,
    /// Comma-separated transaction ids, 1 to 1,000.
    #[param(value_type = String, required = false, example = "1,2,3")]
    ids: Option<String>,
    /// Every transaction with this orderRef.
    #[param(value_type = String, required = false)]
    order_ref: Option<String>,
}

impl ListParams {
    /// Every parameter is identifier text: one that no stored value can hold is a `400`
    /// now, before the answer's head is sent.
    fn check_text(&self) -> Result<(), ApiError> {
        let params = [
            ("startDate", &self.start_date),
            ("endDate", &self.end_date),
            ("dateType", &self.date_type),
            ("timezone", &self.timezone),
            ("status", &self.status),
            ("ids", &self.ids),
            ("orderRef", &self.order_ref),
        ];
        for (name, value) in params {
            if let Some(value) = value {
                text::check(value, TextKind::Identifier).map_err(|e| ApiError::bad_request(format!("{name} {e}")))?;
            }
        }
        Ok(())
    }
}

/// The most ids one lookup may name.
const MAX_IDS: usize = 1000;
const MAX_RANGE_DAYS: i64 = 31;

/// What a listing selects, decided from the parameters before any query runs.
enum Selection {
    Ids(Vec<i64>),
    OrderRef(String),
    Dates { date_type: DateType, start: DateTime<Utc>, end: DateTime<Utc>, status: Option<CommissionStatus> },
}

fn selection(params: &ListParams, zone: Tz) -> Result<Selection, ApiError> {
    if let Some(ids) = &params.ids {
        let ids = ids
            .split(',')
            .map(|s| s.trim().parse::<i64>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| ApiError::bad_request("ids must be a comma-separated list of transaction ids"))?;
        if ids.is_empty() || ids.len() > MAX_IDS {
            return Err(ApiError::bad_request(format!("ids must name 1 to {MAX_IDS} transactions")));
        }
        return Ok(Selection::Ids(ids));
    }
    if let Some(order_ref) = &params.order_ref {
        return Ok(Selection::OrderRef(order_ref.clone()));
    }
    let date = |value: &Option<String>, name: &str| -> Result<(NaiveDateTime, DateTime<Utc>), ApiError> {
        let text = value.as_deref().ok_or_else(|| {
            ApiError::bad_request(format!("{name} is required (yyyy-MM-ddTHH:mm:ss), unless ids or orderRef is given"))
        })?;
        let local = localtime::parse_local(text)
            .ok_or_else(|| ApiError::bad_request(format!("{name} must be of the form yyyy-MM-ddTHH:mm:ss")))?;
        let instant = localtime::instants(local, zone)
            .first()
            .copied()
            .ok_or_else(|| ApiError::bad_request(format!("{name} does not exist in timezone {zone}")))?;
        Ok((local, instant))
    };
    let ((local_start, start), (local_end, end)) =
        (date(&params.start_date, "startDate")?, date(&params.end_date, "endDate")?);
    if end < start {
        return Err(ApiError::bad_request("endDate is before startDate"));
    }
    // The span is counted on the local clock, so a month in a zone that leaves summer time
    // within it (31 days and one hour elapsed) is still one month.
    if local_end - local_start > chrono::Duration::days(MAX_RANGE_DAYS) {
        return Err(ApiError::bad_request(format!(
            "startDate and endDate may be at most {MAX_RANGE_DAYS} local days apart"
        )));
    }
    let date_type = match params.date_type.as_deref() {
        None | Some("transaction") => DateType::Transaction,
        Some("validation") => DateType::Validation,
        Some(_) => return Err(ApiError::bad_request("dateType must be transaction or validation")),
    };
    let status = match params.status.as_deref() {
        None => None,
        Some(s) => Some(
            CommissionStatus::parse(s)
                .ok_or_else(|| ApiError::bad_request("status must be pending, approved or declined"))?,
        ),
    };
    Ok(Selection::Dates { date_type, start, end, status })
}

/// Lists transactions (streamed): by date range, by ids, or by orderRef.
#[utoipa::path(
    get,
    path = "/advertisers/{aid}/transactions",
    tag = "transactions",
    security(("advertiser_token" = [])),
    params(("aid" = i64, Path, description = "The advertiser's id."), ListParams),
    responses(
        (status = 200, description = "The transactions, without `history`.",
            body = Vec<TransactionView>),
        (status = 400, description = "A parameter is missing or invalid (`BAD_REQUEST`).", body = ErrorBody),
        (status = 401, description = "Missing or unknown bearer token (`UNAUTHORIZED`).", body = ErrorBody),
        (status = 403, description = "The token is not granted this advertiser (`FORBIDDEN`).", body = ErrorBody),
        (status = 404, description = "`aid` is not an integer (`NOT_FOUND`).", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
        (status = 503, description = "The database is unreachable. Has `Retry-After`.", body = ErrorBody),
    ),
)]
pub async fn list(
    caller: Caller,
    State(state): State<AppState>,
    Path(advertiser_id): Path<AdvertiserId>,
    Query(params): Query<ListParams>,
) -> Result<Response, ApiError> {
    caller.require(advertiser_id)?;
    params.check_text()?;
    let zone = match params.timezone.as_deref() {
        None => Tz::UTC,
        Some(z) => localtime::parse_zone(z)
            .ok_or_else(|| ApiError::bad_request(format!("timezone {z:?} is not an IANA time zone")))?,
    };
    let selection = selection(&params, zone)?;
    // Take the connection before answering, so an unreachable database is a 503.
    let scope = Scope::Advertiser(advertiser_id);
    let (mut conn, source) = state.reads.acquire(scope).await?;
    let reads = state.reads.clone();
    let body = async_stream::try_stream! {
        let mut writer = ArrayWriter::new(b"");
        let sql = match &selection {
            Selection::Ids(_) => db::transactions::list_by_ids_sql(),
            Selection::OrderRef(_) => db::transactions::list_by_order_ref_sql(),
            Selection::Dates { date_type, .. } => db::transactions::list_by_date_sql(*date_type),
        };
        let query = sqlx::query_as::<_, TransactionRow>(&sql).bind(advertiser_id);
        let query = match &selection {
            Selection::Ids(ids) => query.bind(ids.clone()),
            Selection::OrderRef(order_ref) => query.bind(order_ref.clone()),
            Selection::Dates { start, end, status, .. } => query.bind(*start).bind(*end).bind(*status),
        };
        let mut rows = query.fetch(&mut *conn);
        while let Some(row) = rows.try_next().await.map_err(std::io::Error::other)? {
            let view = views::transaction(row, Some(zone), None).map_err(std::io::Error::other)?;
            if let Some(chunk) = writer.push(&view)? {
                yield chunk;
            }
        }
        drop(rows);
        reads.served(scope, source).await;
        yield writer.finish(b"");
    };
    Ok(crate::stream::json_body(body))
}

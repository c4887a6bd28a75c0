//! Recording tracked sales (`POST /advertisers/{id}/transactions`): all or nothing, in
//! one bulk insert.

use axum::body::Body;
use axum::http::HeaderMap;
use ratify_domain::batch::array::{self, ArrayError};
use ratify_domain::commission::{build_parts, total_commission, Rate, DEFAULT_GROUP};
use ratify_domain::ids::AdvertiserId;
use ratify_domain::localtime;
use ratify_domain::money::{parse_minor, Currency, UnknownCurrency};
use ratify_domain::text::{self, TextKind};
use ratify_shared::db;
use ratify_shared::db::transactions::NewTransactions;
use ratify_wire::NewTransaction;
use std::collections::HashMap;

use crate::error::ApiError;
use crate::extract::{is_json, read_body};
use crate::state::AppState;

/// The most transactions one request may record.
pub const MAX_RECORDS: usize = 100_000;
/// Rows per insert statement.
const INSERT_SLICE: usize = 10_000;

pub async fn record(
    state: &AppState,
    advertiser_id: AdvertiserId,
    headers: &HeaderMap,
    body: Body,
) -> Result<Vec<i64>, ApiError> {
    if !is_json(headers) {
        return Err(ApiError::UnsupportedMediaType);
    }
    let bytes = read_body(headers, body, state.config.max_body_bytes).await?;
    let mut conn = state.pool.acquire().await?;
    let advertiser = db::advertisers::get(&mut conn, advertiser_id).await?.ok_or_else(|| {
        ApiError::NotFound("ADVERTISER_NOT_FOUND", format!("advertiser {advertiser_id} does not exist"))
    })?;
    let currency: Currency = advertiser.currency.parse().map_err(|e: UnknownCurrency| ApiError::Internal(e.into()))?;
    let rates = db::advertisers::rates(&mut conn, advertiser_id, currency.exponent()).await?;
    drop(conn);
    let mut rows = tokio::task::spawn_blocking(move || parse(&bytes, currency, &rates))
        .await
        .map_err(|e| ApiError::Internal(e.into()))??;

    let mut tx = state.pool.begin().await?;
    rows.ids = db::transactions::allocate_ids(&mut tx, rows.order_refs.len() as i64).await?;
    if let Some(&oldest) = rows.dates.iter().min() {
        db::auto_approve::recording(&mut tx, advertiser_id, oldest).await?;
    }
    let total = rows.ids.len();
    // In slices: one statement's parameters are held in the connection's buffer, which
    // keeps its largest size for as long as the connection lives.
    let mut inserted = Ok(());
    for start in (0..total).step_by(INSERT_SLICE) {
        inserted = db::transactions::insert(
            &mut tx,
            advertiser_id,
            currency.code(),
            &rows,
            start..total.min(start + INSERT_SLICE),
        )
        .await;
        if inserted.is_err() {
            break;
        }
    }
    if let Err(e) = inserted {
        if db::is_unique_violation(&e) {
            return Err(ApiError::Conflict(
                "DUPLICATE_TRANSACTION",
                "a transaction with the same orderRef and transactionDate already exists (or appears twice in the \
                 request); nothing was recorded"
                    .to_owned(),
            ));
        }
        return Err(e.into());
    }
    tx.commit().await?;
    // Before the answer: the client's next lookup must find them (see reads.rs).
    state.reads.wrote(advertiser_id).await;
    tracing::info!(advertiser_id = advertiser_id.0, count = rows.ids.len(), "transactions recorded");
    Ok(rows.ids)
}

fn parse(bytes: &[u8], currency: Currency, rates: &HashMap<String, Rate>) -> Result<NewTransactions, ApiError> {
    let elements = array::parse(bytes, MAX_RECORDS).map_err(|e| match e {
        ArrayError::TooMany => ApiError::bad_request(format!("send 1 to {MAX_RECORDS} transactions per request")),
        ArrayError::NotAnArray => {
            ApiError::BadRequest("JSON_PARSE_ERROR", "the body must be a JSON array of transactions".to_owned())
        }
    })?;
    if elements.is_empty() {
        return Err(ApiError::bad_request(format!("send 1 to {MAX_RECORDS} transactions per request")));
    }
    let mut rows = NewTransactions::default();
    for (i, raw) in elements.iter().enumerate() {
        let bad = |what: String| ApiError::bad_request(format!("item {i}: {what}"));
        let item: NewTransaction = serde_json::from_str(raw.get()).map_err(|e| bad(e.to_string()))?;
        let codes = item.transaction_parts.iter().flatten().map(|p| ("commissionGroupCode", &p.commission_group_code));
        let fields = [
            ("orderRef", &item.order_ref),
            ("transactionDate", &item.transaction_date),
            ("timezone", &item.timezone),
            ("currency", &item.currency),
        ];
        for (field, value) in fields.into_iter().chain(item.click_ref.iter().map(|c| ("clickRef", c))).chain(codes) {
            text::check(value, TextKind::Identifier).map_err(|e| bad(format!("{field} {e}")))?;
        }
        if item.order_ref.is_empty() || item.order_ref.chars().count() > ratify_domain::batch::MAX_ORDER_REF_LEN {
            return Err(bad("orderRef must be 1 to 255 characters".to_owned()));
        }
        if item.currency != currency.code() {
            return Err(bad(format!("currency {} differs from the advertiser's currency {currency}", item.currency)));
        }
        let local = localtime::parse_local(&item.transaction_date)
            .ok_or_else(|| bad("transactionDate must be of the form yyyy-MM-ddTHH:mm:ss".to_owned()))?;
        let zone = localtime::parse_zone(&item.timezone)
            .ok_or_else(|| bad(format!("timezone {:?} is not an IANA time zone", item.timezone)))?;
        // A repeated local hour is recorded at its first occurrence.
        let at = *localtime::instants(local, zone)
            .first()
            .ok_or_else(|| bad("transactionDate does not exist in that timezone (daylight-saving gap)".to_owned()))?;
        let exponent = currency.exponent();
        let sale = parse_minor(item.sale_amount.as_str(), exponent).map_err(|e| bad(format!("saleAmount {e}")))?;
        let requested = match &item.transaction_parts {
            None => vec![(DEFAULT_GROUP.to_owned(), sale)],
            Some(parts) if parts.is_empty() || parts.len() > ratify_domain::batch::MAX_PARTS => {
                return Err(bad(format!("transactionParts must have 1 to {} parts", ratify_domain::batch::MAX_PARTS)))
            }
            Some(parts) => parts
                .iter()
                .enumerate()
                .map(|(p, part)| {
                    parse_minor(part.amount.as_str(), exponent)
                        .map(|amount| (part.commission_group_code.clone(), amount))
                        .map_err(|e| bad(format!("transactionParts[{p}].amount {e}")))
                })
                .collect::<Result<Vec<_>, _>>()?,
        };
        let mut codes: Vec<&str> = requested.iter().map(|(code, _)| code.as_str()).collect();
        codes.sort_unstable();
        if codes.windows(2).any(|w| w[0] == w[1]) {
            return Err(bad("transactionParts names a commission group twice".to_owned()));
        }
        let parts =
            build_parts(sale, &requested, rates, exponent).map_err(|e| bad(format!("transactionParts: {e}")))?;
        rows.order_refs.push(item.order_ref);
        rows.dates.push(at);
        rows.timezones.push(item.timezone);
        rows.sale_amounts.push(sale);
        rows.commission_amounts.push(total_commission(&parts));
        rows.parts.push(serde_json::to_string(&parts).map_err(|e| ApiError::Internal(e.into()))?);
        rows.publisher_ids.push(item.publisher_id);
        rows.click_refs.push(item.click_ref);
    }
    Ok(rows)
}

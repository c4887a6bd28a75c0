//! How transactions and jobs look on the wire.

use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use ratify_shared::db::jobs::{JobRow, OutcomeRow};
use ratify_shared::db::transactions::{HistoryRow, TransactionRow};
use ratify_shared::job::OutcomeCode;
use ratify_shared::money::{Currency, JsonAmount, UnknownCurrency};
use serde::Serialize;
use serde_json::value::RawValue;
use utoipa::ToSchema;
use uuid::Uuid;

/// An amount of money in a currency.
#[derive(Serialize, ToSchema)]
pub struct Money {
    #[schema(value_type = crate::openapi::Amount)]
    pub amount: JsonAmount,
    /// ISO 4217 code.
    #[schema(example = "SEK")]
    pub currency: String,
}

/// One part of a transaction: the share of the sale paid by one commission group.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartView {
    #[schema(example = "DEFAULT")]
    pub commission_group_code: String,
    #[schema(value_type = crate::openapi::Amount)]
    pub amount: JsonAmount,
    #[schema(value_type = crate::openapi::Amount)]
    pub commission_amount: JsonAmount,
}

/// A transaction. Dates are RFC 3339 with the offset of the listing's `timezone`, or, for a
/// single transaction, of the zone it was recorded in.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransactionView {
    pub id: i64,
    pub advertiser_id: i64,
    pub order_ref: String,
    #[schema(example = "2026-11-14T10:15:00+01:00")]
    pub transaction_date: String,
    /// The IANA zone the transaction was recorded in.
    #[schema(example = "Europe/Stockholm")]
    pub timezone: String,
    #[schema(value_type = crate::openapi::CommissionStatus)]
    pub commission_status: String,
    pub sale_amount: Money,
    pub commission_amount: Money,
    pub transaction_parts: Vec<PartView>,
    #[schema(required = true)]
    pub decline_reason: Option<String>,
    pub amended: bool,
    #[schema(required = true)]
    pub amend_reason: Option<String>,
    #[schema(required = true)]
    pub old_sale_amount: Option<Money>,
    #[schema(required = true)]
    pub old_commission_amount: Option<Money>,
    #[schema(required = true)]
    pub validation_date: Option<String>,
    #[schema(required = true)]
    pub publisher_id: Option<i64>,
    #[schema(required = true)]
    pub click_ref: Option<String>,
    /// Every change, oldest first: present on `GET /advertisers/{aid}/transactions/{id}`, absent
    /// from listings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<HistoryView>>,
}

/// One change of a transaction: when, by which job item, from what to what.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryView {
    #[schema(example = "2026-11-14T10:15:00.123Z")]
    pub date: String,
    /// The job whose item made the change.
    #[schema(required = true)]
    pub job_id: Option<Uuid>,
    /// The item's index in that job's batch.
    #[schema(required = true)]
    pub item_index: Option<i32>,
    #[schema(value_type = crate::openapi::ActionKind)]
    pub action: String,
    #[schema(value_type = crate::openapi::HistorySnapshot)]
    pub from: Box<RawValue>,
    #[schema(value_type = crate::openapi::HistorySnapshot)]
    pub to: Box<RawValue>,
}

pub fn instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A transaction date in `zone`, with its offset (`2026-11-14T10:15:00+01:00`).
fn in_zone(t: DateTime<Utc>, zone: Tz) -> String {
    t.with_timezone(&zone).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Renders a transaction; dates in `zone`, or in the zone it was recorded in.
pub fn transaction(
    row: TransactionRow,
    zone: Option<Tz>,
    history: Option<Vec<HistoryRow>>,
) -> Result<TransactionView, UnknownCurrency> {
    let currency: Currency = row.currency.parse()?;
    let zone = zone.or_else(|| row.timezone.parse().ok()).unwrap_or(Tz::UTC);
    let money = |minor: i64| Money { amount: JsonAmount::new(minor, currency), currency: currency.code().to_owned() };
    Ok(TransactionView {
        id: row.id,
        advertiser_id: row.advertiser_id,
        order_ref: row.order_ref,
        transaction_date: in_zone(row.transaction_date, zone),
        timezone: row.timezone,
        commission_status: row.commission_status,
        sale_amount: money(row.sale_amount),
        commission_amount: money(row.commission_amount),
        transaction_parts: row
            .parts
            .0
            .into_iter()
            .map(|p| PartView {
                commission_group_code: p.code,
                amount: JsonAmount::new(p.amount, currency),
                commission_amount: JsonAmount::new(p.commission, currency),
            })
            .collect(),
        decline_reason: row.decline_reason,
        amended: row.amended,
        amend_reason: row.amend_reason,
        old_sale_amount: row.old_sale_amount.map(money),
        old_commission_amount: row.old_commission_amount.map(money),
        validation_date: row.validation_date.map(|t| in_zone(t, zone)),
        publisher_id: row.publisher_id,
        click_ref: row.click_ref,
        history: history.map(|rows| rows.into_iter().filter_map(history_entry).collect()),
    })
}

fn history_entry(row: HistoryRow) -> Option<HistoryView> {
    Some(HistoryView {
        date: instant(row.changed_at),
        job_id: row.job_id,
        item_index: row.item_index,
        action: row.action,
        from: RawValue::from_string(row.before).ok()?,
        to: RawValue::from_string(row.after).ok()?,
    })
}

/// A job's summary.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobView {
    pub job_id: Uuid,
    #[schema(value_type = crate::openapi::JobState)]
    pub status: String,
    pub transaction_count: i32,
    pub processed_count: i32,
    pub error_count: i32,
    /// Same values as `transactionCount` and `errorCount`, as in Awin's detailed output.
    pub transactions: i32,
    pub errors: i32,
    #[schema(example = "2026-11-14T10:15:00.123Z")]
    pub creation_date: String,
    /// Set when the job is `DONE`.
    #[schema(required = true, example = "2026-11-14T10:15:02.456Z")]
    pub completion_date: Option<String>,
}

pub fn job(row: &JobRow) -> JobView {
    JobView {
        job_id: row.id,
        status: row.status.clone(),
        transaction_count: row.transaction_count,
        processed_count: row.processed_count,
        error_count: row.error_count,
        transactions: row.transaction_count,
        errors: row.error_count,
        creation_date: instant(row.created_at),
        completion_date: row.completion_date.map(instant),
    }
}

/// One batch item's outcome. The reference fields echo what the item sent; `transactionId` is
/// the resolved id when the transaction was found.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutcomeView {
    /// The item's position in the submitted array.
    pub index: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_ref: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[schema(value_type = crate::openapi::OutcomeCode)]
    pub code: &'static str,
    /// Why, for any code but `[200 OK]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

pub fn outcome(row: OutcomeRow) -> OutcomeView {
    let code = OutcomeCode::from_status(row.code).unwrap_or(OutcomeCode::Internal);
    OutcomeView {
        index: row.item_index,
        action: row.action,
        transaction_id: row.transaction_id,
        order_ref: row.order_ref,
        transaction_date: row.transaction_date,
        timezone: row.timezone,
        code: code.label(),
        description: row.description,
    }
}

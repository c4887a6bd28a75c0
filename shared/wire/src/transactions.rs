//! `/advertisers/{aid}/transactions`: transactions as recorded and read.

pub use ratify_domain::state::CommissionStatus;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use uuid::Uuid;

use crate::number::Amount;
pub use ratify_domain::state::HistoryAction;

/// An amount of money in a currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Money {
    pub amount: Amount,
    /// ISO 4217 code.
    #[cfg_attr(feature = "openapi", schema(example = "SEK"))]
    pub currency: String,
}

/// One part of a transaction: the share of the sale paid by one commission group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PartView {
    #[cfg_attr(feature = "openapi", schema(example = "DEFAULT"))]
    pub commission_group_code: String,
    pub amount: Amount,
    pub commission_amount: Amount,
}

/// A transaction. Dates are RFC 3339 with the offset of the listing's `timezone`, or, for a
/// single transaction, of the zone it was recorded in.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TransactionView {
    pub id: i64,
    pub advertiser_id: i64,
    pub order_ref: String,
    #[cfg_attr(feature = "openapi", schema(example = "2026-11-14T10:15:00+01:00"))]
    pub transaction_date: String,
    /// The IANA zone the transaction was recorded in.
    #[cfg_attr(feature = "openapi", schema(example = "Europe/Stockholm"))]
    pub timezone: String,
    pub commission_status: CommissionStatus,
    pub sale_amount: Money,
    pub commission_amount: Money,
    pub transaction_parts: Vec<PartView>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub decline_reason: Option<String>,
    pub amended: bool,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub amend_reason: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub old_sale_amount: Option<Money>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub old_commission_amount: Option<Money>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub validation_date: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub publisher_id: Option<i64>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub click_ref: Option<String>,
    /// Every change, oldest first: present on `GET /advertisers/{aid}/transactions/{id}`, absent
    /// from listings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<HistoryView>>,
}

/// One change of a transaction: when, by which job item, from what to what.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct HistoryView {
    #[cfg_attr(feature = "openapi", schema(example = "2026-11-14T10:15:00.123Z"))]
    pub date: String,
    /// The job whose item made the change.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub job_id: Option<Uuid>,
    /// The item's index in that job's batch.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub item_index: Option<i32>,
    pub action: HistoryAction,
    // As stored, byte for byte (its shape is `HistorySnapshot`).
    #[cfg_attr(feature = "openapi", schema(value_type = HistorySnapshot))]
    pub from: Box<RawValue>,
    #[cfg_attr(feature = "openapi", schema(value_type = HistorySnapshot))]
    pub to: Box<RawValue>,
}

/// Which date a listing's range selects on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum DateType {
    Transaction,
    Validation,
}

/// What a history row records of the transaction before or after a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct HistorySnapshot {
    pub commission_status: CommissionStatus,
    pub decline_reason: Option<String>,
    /// Present when the change was an amend.
    pub sale_amount: Option<Amount>,
    pub commission_amount: Option<Amount>,
    pub transaction_parts: Option<Vec<HistoryPart>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct HistoryPart {
    pub commission_group_code: String,
    pub amount: Amount,
    pub commission_amount: Amount,
}

/// One tracked sale to record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", schema(example = json!({"orderRef": "SO-1", "transactionDate": "2026-11-14T10:15:00",
    "timezone": "Europe/Stockholm", "saleAmount": 125.50, "currency": "SEK",
    "transactionParts": [{"commissionGroupCode": "DEFAULT", "amount": 125.50}]})))]
pub struct NewTransaction {
    /// 1 to 255 characters; `(orderRef, transactionDate)` is unique per advertiser.
    pub order_ref: String,
    /// Local date-time, to the second, in `timezone`.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "2026-11-14T10:15:00", pattern = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
    )]
    pub transaction_date: String,
    /// IANA time zone.
    #[cfg_attr(feature = "openapi", schema(example = "Europe/Stockholm"))]
    pub timezone: String,
    pub sale_amount: Amount,
    /// Must be the advertiser's currency.
    #[cfg_attr(feature = "openapi", schema(example = "SEK"))]
    pub currency: String,
    /// 1 to 100 parts with distinct codes, each an existing group; when absent the whole sale
    /// is `DEFAULT`'s. Parts that do not sum to `saleAmount` are completed by `DEFAULT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_parts: Option<Vec<PartAmount>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub click_ref: Option<String>,
}

/// The share of a sale that one commission group pays on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PartAmount {
    #[cfg_attr(feature = "openapi", schema(example = "DEFAULT"))]
    pub commission_group_code: String,
    pub amount: Amount,
}

/// `POST /advertisers/{aid}/transactions`: the new ids, in input order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Recorded {
    pub ids: Vec<i64>,
}

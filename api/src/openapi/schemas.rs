//! Schema-only types: the shapes of bodies the api parses or writes by hand, for the
//! OpenAPI document. Never constructed at run time.

use std::borrow::Cow;

use serde_json::json;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

use crate::views::{JobView, OutcomeView};

/// Every error body, on every route.
#[derive(ToSchema)]
#[schema(example = json!({"error": "FORBIDDEN", "description": "this token is not granted advertiser 1002"}))]
pub struct ErrorBody {
    /// The reason, in UPPER_SNAKE case.
    #[schema(example = "BAD_REQUEST")]
    pub error: String,
    /// A human sentence.
    pub description: String,
}

/// An amount of money as a JSON number: an exact decimal with at most the currency's
/// minor-unit digits (ISO 4217: SEK 2, JPY 0, KWD 3), never negative.
pub struct Amount;

impl PartialSchema for Amount {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Number)
            .description(Some(
                "An amount of money as a JSON number: an exact decimal with at most the currency's minor-unit \
                 digits (ISO 4217: SEK 2, JPY 0, KWD 3), never negative.",
            ))
            .minimum(Some(0))
            .examples([json!(125.5)])
            .into()
    }
}

impl ToSchema for Amount {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Amount")
    }
}

/// An exact decimal written as a JSON number (read without passing through binary floats).
pub struct DecimalNumber;

impl PartialSchema for DecimalNumber {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Number)
            .description(Some("An exact decimal written as a JSON number."))
            .minimum(Some(0))
            .examples([json!(10)])
            .into()
    }
}

impl ToSchema for DecimalNumber {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("DecimalNumber")
    }
}

/// `GET /health`.
#[derive(ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: String,
}

/// `GET /ready`: whether each dependency answered.
#[derive(ToSchema)]
pub struct Readiness {
    pub postgres: Reachability,
    pub rabbitmq: Reachability,
}

#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum Reachability {
    Up,
    Down,
}

#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum CommissionStatus {
    Pending,
    Approved,
    Declined,
}

#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum ActionKind {
    Approve,
    Decline,
    Amend,
}

/// `percentage` pays `amount × value / 100` per part; `fixed` pays `value` per part whose
/// amount is above zero.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum GroupType {
    Percentage,
    Fixed,
}

/// Which date a listing's range selects on.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum DateType {
    Transaction,
    Validation,
}

/// `DONE` exactly when every item has its outcome.
#[derive(ToSchema)]
#[schema(rename_all = "UPPERCASE")]
pub enum JobState {
    Queued,
    Processing,
    Done,
}

/// Which item outcomes `GET .../jobs/{job_id}` adds.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum JobOutput {
    Errors,
    All,
}

/// An item's outcome. `errorCount` counts 400, 404, 422 and 500; 304 is not an error (the
/// desired state holds). 500 only for an item whose processing kept failing and was given up.
#[derive(ToSchema)]
pub enum OutcomeCode {
    #[schema(rename = "[200 OK]")]
    Ok,
    #[schema(rename = "[304 NOT_MODIFIED]")]
    NotModified,
    #[schema(rename = "[400 BAD_REQUEST]")]
    BadRequest,
    #[schema(rename = "[404 NOT_FOUND]")]
    NotFound,
    #[schema(rename = "[422 UNPROCESSABLE_ENTITY]")]
    Unprocessable,
    #[schema(rename = "[500 INTERNAL_SERVER_ERROR]")]
    Internal,
}

/// `GET /advertisers/{aid}/transactions/jobs/{job_id}`: the summary, plus at most one of
/// the item lists (as `output` asks; the other is `null`).
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct JobStatus {
    #[serde(flatten)]
    pub job: JobView,
    /// With `output=errors`: the failed items, in index order.
    #[schema(required = true)]
    pub failed_transactions: Option<Vec<OutcomeView>>,
    /// With `output=all`: every item, in index order.
    #[schema(required = true)]
    pub all_transactions: Option<Vec<OutcomeView>>,
}

/// What a history row records of the transaction before or after a change.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct HistorySnapshot {
    pub commission_status: CommissionStatus,
    pub decline_reason: Option<String>,
    /// Present when the change was an amend.
    pub sale_amount: Option<Amount>,
    pub commission_amount: Option<Amount>,
    pub transaction_parts: Option<Vec<HistoryPart>>,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct HistoryPart {
    pub commission_group_code: String,
    pub amount: Amount,
    pub commission_amount: Amount,
}

/// One tracked sale to record.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
#[schema(example = json!({"orderRef": "SO-1", "transactionDate": "2026-11-14T10:15:00",
    "timezone": "Europe/Stockholm", "saleAmount": 125.50, "currency": "SEK",
    "transactionParts": [{"commissionGroupCode": "DEFAULT", "amount": 125.50}]}))]
pub struct NewTransaction {
    /// 1 to 255 characters; `(orderRef, transactionDate)` is unique per advertiser.
    pub order_ref: String,
    /// Local date-time, to the second, in `timezone`.
    #[schema(example = "2026-11-14T10:15:00", pattern = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")]
    pub transaction_date: String,
    /// IANA time zone.
    #[schema(example = "Europe/Stockholm")]
    pub timezone: String,
    pub sale_amount: Amount,
    /// Must be the advertiser's currency.
    #[schema(example = "SEK")]
    pub currency: String,
    /// 1 to 100 parts with distinct codes, each an existing group; when absent the whole sale
    /// is `DEFAULT`'s. Parts that do not sum to `saleAmount` are completed by `DEFAULT`.
    pub transaction_parts: Option<Vec<PartAmount>>,
    pub publisher_id: Option<i64>,
    pub click_ref: Option<String>,
}

/// The share of a sale that one commission group pays on.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PartAmount {
    #[schema(example = "DEFAULT")]
    pub commission_group_code: String,
    pub amount: Amount,
}

/// `POST /advertisers/{aid}/transactions`: the new ids, in input order.
#[derive(ToSchema)]
pub struct Recorded {
    pub ids: Vec<i64>,
}

/// One action of a batch. An element that is malformed (not an object, unknown action,
/// neither way of referencing, a missing reason, a bad date, zone or amount) does not sink
/// the batch: it becomes that item's `[400 BAD_REQUEST]` outcome.
#[derive(ToSchema)]
#[schema(examples(
    json!({"action": "approve", "transaction": {"transactionId": 1234567}}),
    json!({"action": "decline", "transaction": {"orderRef": "123ABC555", "transactionDate": "2017-02-20T22:04:00",
        "timezone": "Europe/Paris", "declineReason": "order returned"}}),
    json!({"action": "amend", "approve": false, "transaction": {"transactionId": "484816099",
        "amendReason": "partial return", "currency": "EUR", "saleAmount": 55.96, "transactionParts": [
            {"amount": 44.76, "commissionGroupCode": "DEFAULT"},
            {"amount": 11.20, "commissionGroupCode": "EXISTING"}]}}),
))]
pub struct BatchAction {
    pub action: ActionKind,
    /// For `amend`: also approve the transaction (default false).
    pub approve: Option<bool>,
    pub transaction: BatchTransaction,
}

/// The transaction an action is aimed at, and the action's values. `transactionId` wins;
/// otherwise `orderRef` + `transactionDate` + `timezone` name it.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct BatchTransaction {
    pub transaction_id: Option<TransactionId>,
    /// 1 to 255 characters.
    pub order_ref: Option<String>,
    /// Local date-time, to the second, in `timezone` (with `orderRef`).
    #[schema(example = "2017-02-20T22:04:00", pattern = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")]
    pub transaction_date: Option<String>,
    /// IANA time zone (with `orderRef`).
    #[schema(example = "Europe/Paris")]
    pub timezone: Option<String>,
    /// Required for `decline`; at most 1,000 characters.
    pub decline_reason: Option<String>,
    /// Required for `amend`; at most 1,000 characters.
    pub amend_reason: Option<String>,
    /// Required for `amend`: the transaction's currency.
    pub currency: Option<String>,
    /// Required for `amend`.
    pub sale_amount: Option<Amount>,
    /// Required for `amend`: non-empty, distinct existing codes; `DEFAULT` absorbs the
    /// difference to `saleAmount`.
    pub transaction_parts: Option<Vec<PartAmount>>,
}

/// A positive transaction id, as a JSON number or a numeric string.
#[derive(ToSchema)]
#[serde(untagged)]
pub enum TransactionId {
    Number(i64),
    Numeric(String),
}

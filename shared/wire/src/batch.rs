//! The body of `POST /advertisers/{aid}/transactions/batch`: an array of actions.
//!
//! The api does not read a batch through these types: it reads each element on its own, so
//! that a malformed one becomes that item's `[400 BAD_REQUEST]` instead of sinking the batch
//! (`ratify_domain::batch`). These are what a client writes, and what the document shows.

pub use ratify_domain::state::ActionKind;
use serde::{Deserialize, Serialize};

use crate::number::Amount;
use crate::transactions::PartAmount;

/// One action of a batch. An element that is malformed (not an object, unknown action,
/// neither way of referencing, a missing reason, a bad date, zone or amount) does not sink
/// the batch: it becomes that item's `[400 BAD_REQUEST]` outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(examples(
    json!({"action": "approve", "transaction": {"transactionId": 1234567}}),
    json!({"action": "decline", "transaction": {"orderRef": "123ABC555", "transactionDate": "2017-02-20T22:04:00",
        "timezone": "Europe/Paris", "declineReason": "order returned"}}),
    json!({"action": "amend", "approve": false, "transaction": {"transactionId": "484816099",
        "amendReason": "partial return", "currency": "EUR", "saleAmount": 55.96, "transactionParts": [
            {"amount": 44.76, "commissionGroupCode": "DEFAULT"},
            {"amount": 11.20, "commissionGroupCode": "EXISTING"}]}}),
)))]
pub struct BatchAction {
    pub action: ActionKind,
    /// For `amend`: also approve the transaction (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approve: Option<bool>,
    pub transaction: BatchTransaction,
}

/// The transaction an action is aimed at, and the action's values. `transactionId` wins;
/// otherwise `orderRef` + `transactionDate` + `timezone` name it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BatchTransaction {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<TransactionId>,
    /// 1 to 255 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_ref: Option<String>,
    /// Local date-time, to the second, in `timezone` (with `orderRef`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(example = "2017-02-20T22:04:00", pattern = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
    )]
    pub transaction_date: Option<String>,
    /// IANA time zone (with `orderRef`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(example = "Europe/Paris"))]
    pub timezone: Option<String>,
    /// Required for `decline`; at most 1,000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_reason: Option<String>,
    /// Required for `amend`; at most 1,000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amend_reason: Option<String>,
    /// Required for `amend`: the transaction's currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Required for `amend`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sale_amount: Option<Amount>,
    /// Required for `amend`: non-empty, distinct existing codes; `DEFAULT` absorbs the
    /// difference to `saleAmount`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_parts: Option<Vec<PartAmount>>,
}

/// A positive transaction id, as a JSON number or a numeric string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum TransactionId {
    Number(i64),
    Numeric(String),
}

/// The body of `POST /advertisers/{aid}/transactions/{id}/actions`: one action on the
/// transaction the path names, with a batch item's values (its `transaction` object without
/// the reference) at the top level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(examples(
    json!({"action": "approve"}),
    json!({"action": "decline", "declineReason": "order returned"}),
    json!({"action": "amend", "approve": true, "amendReason": "partial return", "currency": "EUR",
        "saleAmount": 55.96, "transactionParts": [{"amount": 55.96, "commissionGroupCode": "DEFAULT"}]}),
)))]
#[serde(rename_all = "camelCase")]
pub struct TransactionAction {
    pub action: ActionKind,
    /// For `amend`: also approve the transaction (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approve: Option<bool>,
    /// Required for `decline`; at most 1,000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_reason: Option<String>,
    /// Required for `amend`; at most 1,000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amend_reason: Option<String>,
    /// Required for `amend`: the transaction's currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Required for `amend`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sale_amount: Option<Amount>,
    /// Required for `amend`: non-empty, distinct existing codes; `DEFAULT` absorbs the
    /// difference to `saleAmount`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_parts: Option<Vec<PartAmount>>,
}

//! Every request and response body the CLI exchanges with the api, in one place: the
//! api's JSON names (camelCase), serde both ways so `--json` prints what was read.
//! These are the CLI's own copies of the server's views (api/src/views.rs); they are
//! kept apart here so that the shared wire-types crate can replace this module whole.
//! Fields the CLI does not know are ignored on the way in, except where noted.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

/// The api's one error shape: `{"error": "UPPER_SNAKE", "description": "…"}`.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct ErrorBody {
    pub error: String,
    #[serde(default)]
    pub description: String,
}

/// The answer to `POST …/transactions/batch`.
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct Accepted {
    pub job_id: String,
}

/// A job as `GET …/jobs/{id}` shows it (the item lists are read with [`JobItems`]).
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct JobSummary {
    pub job_id: String,
    pub status: String,
    pub transaction_count: u64,
    pub processed_count: u64,
    pub error_count: u64,
    pub creation_date: String,
    pub completion_date: Option<String>,
}

/// The status of a job whose every item has its outcome.
pub const DONE: &str = "DONE";

/// A job with `?output=errors` (`failedTransactions`) or `?output=all` (`allTransactions`).
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct JobItems {
    pub status: String,
    #[serde(default)]
    pub failed_transactions: Option<Vec<Outcome>>,
    #[serde(default)]
    pub all_transactions: Option<Vec<Outcome>>,
}

/// One page of `GET …/transactions/jobs`.
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct JobPage {
    pub jobs: Vec<JobSummary>,
    pub next_cursor: Option<String>,
}

/// One item's outcome, with the api's fields in the api's order; fields this client does
/// not know yet are kept, after them, so `--errors` shows all the api said.
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    pub index: u64,
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
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(flatten)]
    pub rest: BTreeMap<String, Value>,
}

/// A commission group as the api takes and shows it; `value` is the exact decimal token.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Group {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub value: Box<RawValue>,
}

/// `POST /admin/advertisers`, sent and answered.
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct Advertiser {
    pub id: i64,
    pub name: String,
    pub currency: String,
    pub commission_groups: Vec<Group>,
}

/// `POST /admin/tokens`.
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct NewToken {
    pub name: String,
    pub advertiser_ids: Vec<i64>,
}

/// The answer to `POST /admin/tokens`: the token itself is shown this once.
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct CreatedToken {
    pub id: String,
    pub token: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub advertiser_ids: Vec<i64>,
}

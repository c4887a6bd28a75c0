//! `/advertisers/{aid}/transactions/batch` and `.../jobs`: accepted batches, their jobs
//! and the outcome of each item.

pub use ratify_domain::job::{JobState, OutcomeCode};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The accepted job: from now on it and all its items are durable, and every item will get
/// exactly one outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Accepted {
    pub job_id: Uuid,
}

/// A job's summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct JobView {
    pub job_id: Uuid,
    pub status: JobState,
    pub transaction_count: i32,
    pub processed_count: i32,
    pub error_count: i32,
    /// Same values as `transactionCount` and `errorCount`, as in Awin's detailed output.
    pub transactions: i32,
    pub errors: i32,
    #[cfg_attr(feature = "openapi", schema(example = "2026-11-14T10:15:00.123Z"))]
    pub creation_date: String,
    /// Set when the job is `DONE`.
    #[cfg_attr(feature = "openapi", schema(required = true, example = "2026-11-14T10:15:02.456Z"))]
    pub completion_date: Option<String>,
    /// The batch's `X-Job-Label`, when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Present (`true`) for a dry run: the outcomes are what the actions would get; no
    /// transaction was changed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
    /// Present (`true`) when the job was cancelled: items of chunks not applied by then are
    /// `[409 CANCELLED]`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cancelled: bool,
    /// The job whose `[500]` items this job applies again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_of: Option<Uuid>,
    /// The job that applies this job's `[500]` items again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retried_by: Option<Uuid>,
}

/// Which item outcomes `GET .../jobs/{job_id}` adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum JobOutput {
    Errors,
    All,
}

/// One batch item's outcome. The reference fields echo what the item sent; `transactionId` is
/// the resolved id when the transaction was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OutcomeView {
    /// The item's position in the submitted array.
    pub index: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    pub code: OutcomeCode,
    /// Why, for any code but `[200 OK]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `GET /advertisers/{aid}/transactions/jobs/{job_id}`: the summary, plus at most one of
/// the item lists (as `output` asks; the other is `null`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct JobStatus {
    #[serde(flatten)]
    pub job: JobView,
    /// With `output=errors`: the failed items, in index order.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub failed_transactions: Option<Vec<OutcomeView>>,
    /// With `output=all`: every item, in index order.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub all_transactions: Option<Vec<OutcomeView>>,
    /// Only in the paged forms (`code`, `limit` or `cursor` given): pass as `cursor`, with the
    /// same `output` and `code`, for the next page; `null` on the last page of what the job
    /// holds now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub next_cursor: Option<Option<String>>,
}

/// One job in the admin list: which advertiser's, and its summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AdminJobView {
    pub advertiser_id: i64,
    #[serde(flatten)]
    pub job: JobView,
}

/// A page of jobs across advertisers, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AdminJobPage {
    pub jobs: Vec<AdminJobView>,
    /// Pass as `cursor` (with the same filters) for the next page; `null` on the last page.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub next_cursor: Option<String>,
}

/// A page of the advertiser's jobs of the last 60 days, newest first, without item lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct JobPage {
    pub jobs: Vec<JobView>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub next_cursor: Option<String>,
}

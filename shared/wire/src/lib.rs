//! `ratify-wire`: every request and response body of Ratify's api, defined once, as it
//! crosses the wire (`docs/api.md` is what they mean). The api answers with these types and
//! its OpenAPI document is derived from them, so the document cannot drift from what is
//! sent; clients and tests read and write the same types.
//!
//! What it owns: field names and casing, which fields are `null` and which are absent, and
//! the schema of each body (behind the `openapi` feature, `utoipa::ToSchema`). What it does
//! not own: checking values. Bodies the api checks field by field (a recording, an admin
//! body) keep what the client sent, money included, so that the api can name the field
//! that is wrong; building these types from stored rows is the api's business.
//!
//! What it may depend on: serde, serde_json, uuid, `ratify-domain` (without its `sqlx`
//! feature: the outcome codes, statuses and actions the bodies carry are the domain's own
//! enums), and (optionally) utoipa. Never on `ratify-shared`, sqlx, axum or lapin: a client
//! linking this crate links no server.
//! Money is exact: an amount is the text of a JSON number, never an `f64`.

mod admin;
mod batch;
mod error;
mod jobs;
mod number;
mod ops;
mod transactions;
mod webhooks;

pub use admin::{
    AdvertiserSettings, AdvertiserView, CreatedToken, GroupKind, GroupView, NewAdvertiser, NewGroup, NewToken,
};
pub use batch::{ActionKind, BatchAction, BatchTransaction, TransactionAction, TransactionId};
pub use error::ErrorBody;
pub use jobs::{
    Accepted, AdminJobPage, AdminJobView, JobOutput, JobPage, JobState, JobStatus, JobView, OutcomeCode, OutcomeView,
};
pub use number::{Amount, DecimalNumber};
pub use ops::{Health, Reachability, Readiness, ReadyState};
pub use transactions::{
    CommissionStatus, DateType, HistoryPart, HistorySnapshot, HistoryView, Money, NewTransaction, PartAmount, PartView,
    Recorded, TransactionView,
};
pub use webhooks::{AttemptView, DeliveryList, DeliveryView, PingQueued, WebhookSettings, WebhookView};

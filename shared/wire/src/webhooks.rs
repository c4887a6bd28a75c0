//! Completion webhooks: an advertiser's endpoint, and the delivery log.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `PUT /advertisers/{aid}/webhook`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookSettings {
    /// `http://` or `https://`, at most 2,048 characters; its host must resolve to public
    /// addresses only (unless the operator allows private ones).
    #[cfg_attr(feature = "openapi", schema(example = "https://hooks.example.com/ratify"))]
    pub url: String,
    /// 16 to 256 printable ASCII characters; a Standard Webhooks secret (`whsec_` and base64)
    /// signs with its decoded bytes. Never shown again.
    #[cfg_attr(feature = "openapi", schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))]
    pub secret: String,
}

/// An advertiser's endpoint (the secret is never shown).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct WebhookView {
    pub url: String,
    #[cfg_attr(feature = "openapi", schema(example = "2026-11-14T10:15:00.123Z"))]
    pub updated_at: String,
}

/// `POST /advertisers/{aid}/webhook/test`: the test delivery queued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PingQueued {
    /// Its `webhook-id`; `GET /advertisers/{aid}/webhook/deliveries/{deliveryId}` follows it.
    pub delivery_id: Uuid,
}

/// One attempt at a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AttemptView {
    pub attempt: i32,
    pub at: String,
    pub url: String,
    /// The receiver's status code; null when it did not answer.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub status: Option<i32>,
    /// Why there was no answer (refused target, timeout, connection error).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub error: Option<String>,
    pub duration_ms: i32,
}

/// One delivery: the same `webhook-id` on every attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DeliveryView {
    pub delivery_id: Uuid,
    /// `job.done` or `ping`.
    pub event: String,
    pub created_at: String,
    /// Set when a receiver answered `2xx`.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub delivered_at: Option<String>,
    /// Set when it was given up (24 hours of failures, or the webhook removed).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub given_up_at: Option<String>,
    /// When the next attempt is due, while neither.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub next_attempt_at: Option<String>,
    pub attempts: Vec<AttemptView>,
}

/// `GET …/jobs/{jobId}/deliveries`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DeliveryList {
    pub deliveries: Vec<DeliveryView>,
}

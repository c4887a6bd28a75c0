//! Completion webhooks: each advertiser's endpoint, and the delivery outbox the workers
//! drain (claimed by a lease, so a worker that dies mid-delivery only delays it).

use chrono::{DateTime, Utc};
use ratify_domain::ids::AdvertiserId;
use sqlx::PgConnection;
use uuid::Uuid;

/// An advertiser's endpoint.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Webhook {
    pub url: String,
    pub secret: String,
    pub updated_at: DateTime<Utc>,
}

pub async fn get(conn: &mut PgConnection, advertiser_id: AdvertiserId) -> sqlx::Result<Option<Webhook>> {
    sqlx::query_as("SELECT url, secret, updated_at FROM webhooks WHERE advertiser_id = $1")
        .bind(advertiser_id)
        .fetch_optional(conn)
        .await
}

/// Sets an advertiser's endpoint and secret; returns when.
pub async fn set(
    conn: &mut PgConnection,
    advertiser_id: AdvertiserId,
    url: &str,
    secret: &str,
) -> sqlx::Result<DateTime<Utc>> {
    sqlx::query_scalar(
        "INSERT INTO webhooks (advertiser_id, url, secret) VALUES ($1, $2, $3)
         ON CONFLICT (advertiser_id) DO UPDATE SET url = $2, secret = $3, updated_at = now()
         RETURNING updated_at",
    )
    .bind(advertiser_id)
    .bind(url)
    .bind(secret)
    .fetch_one(conn)
    .await
}

/// Removes an advertiser's endpoint: deliveries not made yet are given up.
pub async fn delete(conn: &mut PgConnection, advertiser_id: AdvertiserId) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM webhooks WHERE advertiser_id = $1").bind(advertiser_id).execute(&mut *conn).await?;
    Ok(())
}

/// Queues a test delivery (`event` `ping`); returns its id.
pub async fn queue_ping(conn: &mut PgConnection, advertiser_id: AdvertiserId) -> sqlx::Result<Uuid> {
    let id = Uuid::new_v4();
    sqlx::query("INSERT INTO webhook_deliveries (advertiser_id, id, event) VALUES ($1, $2, 'ping')")
        .bind(advertiser_id)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(id)
}

/// A delivery a worker claimed: its attempt number is `attempts` (counting this one).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    pub advertiser_id: AdvertiserId,
    pub id: Uuid,
    pub job_id: Option<Uuid>,
    pub event: String,
    pub created_at: DateTime<Utc>,
    pub attempts: i32,
}

/// Claims up to `limit` due deliveries for `lease`: they are not due again until it is
/// over, whatever happens to this worker.
pub async fn claim(conn: &mut PgConnection, lease: std::time::Duration, limit: i64) -> sqlx::Result<Vec<Claimed>> {
    sqlx::query_as(
        "UPDATE webhook_deliveries d SET attempts = d.attempts + 1,
                next_attempt_at = now() + make_interval(secs => $1)
         FROM (SELECT advertiser_id, id FROM webhook_deliveries
               WHERE delivered_at IS NULL AND given_up_at IS NULL AND next_attempt_at <= now()
               ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED) c
         WHERE d.advertiser_id = c.advertiser_id AND d.id = c.id
         RETURNING d.advertiser_id, d.id, d.job_id, d.event, d.created_at, d.attempts",
    )
    .bind(lease.as_secs_f64())
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// What one attempt got.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub url: String,
    /// The receiver's status code, when it answered.
    pub status: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i32,
}

/// After an attempt: what becomes of the delivery.
#[derive(Debug, Clone, Copy)]
pub enum Next {
    Delivered,
    RetryAt(DateTime<Utc>),
    GiveUp,
}

/// Records an attempt and what follows it, in one statement each, in one transaction.
pub async fn record(conn: &mut PgConnection, claimed: &Claimed, attempt: &Attempt, next: Next) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO webhook_attempts (advertiser_id, delivery_id, attempt, url, status, error, duration_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
    )
    .bind(claimed.advertiser_id)
    .bind(claimed.id)
    .bind(claimed.attempts)
    .bind(&attempt.url)
    .bind(attempt.status)
    .bind(&attempt.error)
    .bind(attempt.duration_ms)
    .execute(&mut *conn)
    .await?;
    let (delivered, retry_at, given_up) = match next {
        Next::Delivered => (true, None, false),
        Next::RetryAt(at) => (false, Some(at), false),
        Next::GiveUp => (false, None, true),
    };
    sqlx::query(
        "UPDATE webhook_deliveries SET
             delivered_at = CASE WHEN $3 THEN now() END,
             given_up_at = CASE WHEN $5 THEN now() END,
             next_attempt_at = coalesce($4, next_attempt_at)
         WHERE advertiser_id = $1 AND id = $2",
    )
    .bind(claimed.advertiser_id)
    .bind(claimed.id)
    .bind(delivered)
    .bind(retry_at)
    .bind(given_up)
    .execute(conn)
    .await?;
    Ok(())
}

/// A delivery with its attempts, for the delivery log.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: Uuid,
    pub event: String,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub given_up_at: Option<DateTime<Utc>>,
    pub next_attempt_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttemptRow {
    pub delivery_id: Uuid,
    pub attempt: i32,
    pub at: DateTime<Utc>,
    pub url: String,
    pub status: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i32,
}

/// The deliveries of a job (or the one delivery `id`), oldest first, with their attempts.
pub async fn log(
    conn: &mut PgConnection,
    advertiser_id: AdvertiserId,
    job_id: Option<Uuid>,
    id: Option<Uuid>,
) -> sqlx::Result<(Vec<DeliveryRow>, Vec<AttemptRow>)> {
    let deliveries: Vec<DeliveryRow> = sqlx::query_as(
        "SELECT id, event, created_at, delivered_at, given_up_at, next_attempt_at FROM webhook_deliveries
         WHERE advertiser_id = $1 AND ($2::uuid IS NULL OR job_id = $2) AND ($3::uuid IS NULL OR id = $3)
         ORDER BY created_at, id",
    )
    .bind(advertiser_id)
    .bind(job_id)
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let ids: Vec<Uuid> = deliveries.iter().map(|d| d.id).collect();
    let attempts = sqlx::query_as(
        "SELECT delivery_id, attempt, at, url, status, error, duration_ms FROM webhook_attempts
         WHERE advertiser_id = $1 AND delivery_id = ANY($2) ORDER BY delivery_id, attempt",
    )
    .bind(advertiser_id)
    .bind(ids)
    .fetch_all(conn)
    .await?;
    Ok((deliveries, attempts))
}

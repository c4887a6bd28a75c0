//! The retention purge: jobs older than the retention period are deleted one short
//! transaction each, with their chunks, whose rows hold the items and the outcomes as
//! documents (a 100,000-item job is a hundred rows), so the purge never holds long locks
//! or bloats one huge transaction. Transaction history is kept: it belongs to the
//! transaction, not to the job.

use chrono::{DateTime, Utc};
use ratify_domain::ids::AdvertiserId;
use sqlx::PgConnection;
use uuid::Uuid;

/// A key only one purge at a time may hold (`pg_try_advisory_lock`).
const PURGE_LOCK: i64 = 0x5241_5449_4659; // "RATIFY"

/// Takes the purge lock for this session; `false` when another purge holds it.
pub async fn try_lock(conn: &mut PgConnection) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT pg_try_advisory_lock($1)").bind(PURGE_LOCK).fetch_one(conn).await
}

/// Releases the purge lock.
pub async fn unlock(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_advisory_unlock($1)").bind(PURGE_LOCK).execute(conn).await?;
    Ok(())
}

/// The oldest job created before `cutoff`, if any.
pub async fn oldest_expired(
    conn: &mut PgConnection,
    cutoff: DateTime<Utc>,
) -> sqlx::Result<Option<(AdvertiserId, Uuid)>> {
    sqlx::query_as("SELECT advertiser_id, id FROM jobs WHERE created_at < $1 ORDER BY created_at LIMIT 1")
        .bind(cutoff)
        .fetch_optional(conn)
        .await
}

/// Deletes a job; its chunks and their outcomes go with it (`ON DELETE CASCADE`).
pub async fn delete_job(conn: &mut PgConnection, advertiser_id: AdvertiserId, job_id: Uuid) -> sqlx::Result<()> {
    // Its chunks go with it (foreign key); its webhook deliveries and their attempts here.
    sqlx::query(
        "WITH d AS (DELETE FROM webhook_deliveries WHERE advertiser_id = $1 AND job_id = $2 RETURNING id),
              a AS (DELETE FROM webhook_attempts WHERE advertiser_id = $1 AND delivery_id IN (SELECT id FROM d))
         DELETE FROM jobs WHERE advertiser_id = $1 AND id = $2",
    )
    .bind(advertiser_id)
    .bind(job_id)
    .execute(conn)
    .await?;
    Ok(())
}

//! A job's own changes after it was accepted: cancelled, and linked to the job that
//! retries it. Its row is locked first, so a cancel and the workers, or two retries,
//! take turns.

use ratify_domain::ids::AdvertiserId;
use ratify_domain::job::JobState;
use sqlx::PgConnection;
use uuid::Uuid;

/// A job's row locked for a change of its own (a cancel, a retry): whether its row says
/// `DONE`, and its cancel and retry marks.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LockedJob {
    pub status: JobState,
    pub cancelled: bool,
    pub retried_by: Option<Uuid>,
}

pub async fn lock(
    conn: &mut PgConnection,
    advertiser_id: AdvertiserId,
    job_id: Uuid,
) -> sqlx::Result<Option<LockedJob>> {
    sqlx::query_as(
        "SELECT status, cancelled_at IS NOT NULL AS cancelled, retried_by FROM jobs
         WHERE advertiser_id = $1 AND id = $2 FOR UPDATE",
    )
    .bind(advertiser_id)
    .bind(job_id)
    .fetch_optional(conn)
    .await
}

pub async fn mark_cancelled(conn: &mut PgConnection, advertiser_id: AdvertiserId, job_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("UPDATE jobs SET cancelled_at = now() WHERE advertiser_id = $1 AND id = $2 AND cancelled_at IS NULL")
        .bind(advertiser_id)
        .bind(job_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Links a job to the job that retries its `[500]` items, unless another is linked
/// already (`false`).
pub async fn mark_retried(
    conn: &mut PgConnection,
    advertiser_id: AdvertiserId,
    job_id: Uuid,
    retry: Uuid,
) -> sqlx::Result<bool> {
    let linked =
        sqlx::query("UPDATE jobs SET retried_by = $3 WHERE advertiser_id = $1 AND id = $2 AND retried_by IS NULL")
            .bind(advertiser_id)
            .bind(job_id)
            .bind(retry)
            .execute(conn)
            .await?;
    Ok(linked.rows_affected() == 1)
}

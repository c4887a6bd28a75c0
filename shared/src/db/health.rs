//! What an operator watches across advertisers: the outbox's backlog and the jobs not
//! finished yet. Each count reads a partial index, so it stays cheap however many done
//! jobs and chunks are kept.

use sqlx::PgConnection;

/// The backlog at one instant.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct Backlog {
    /// Chunks stored and not confirmed by the broker (not waiting on a predecessor).
    pub unpublished_chunks: i64,
    /// Jobs not `DONE` by their row.
    pub unfinished_jobs: i64,
    /// Seconds since the oldest of them was accepted; 0 when none is.
    pub oldest_unfinished_seconds: f64,
    /// Which job that is.
    pub oldest_advertiser_id: Option<ratify_domain::ids::AdvertiserId>,
    pub oldest_job_id: Option<uuid::Uuid>,
}

/// Reads the [`Backlog`].
pub async fn backlog(conn: &mut PgConnection) -> sqlx::Result<Backlog> {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM job_chunks
                 WHERE published_at IS NULL AND done_at IS NULL AND NOT waiting) AS unpublished_chunks,
                count(*) AS unfinished_jobs,
                coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS oldest_unfinished_seconds,
                (array_agg(advertiser_id ORDER BY created_at))[1] AS oldest_advertiser_id,
                (array_agg(id ORDER BY created_at))[1] AS oldest_job_id
         FROM jobs WHERE status <> 'DONE'",
    )
    .fetch_one(conn)
    .await
}

/// A worker that said it was alive.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WorkerSeen {
    pub hostname: String,
    pub pid: i32,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub seen_at: chrono::DateTime<chrono::Utc>,
}

/// Records that worker `id` is alive now, and forgets workers not seen for a day.
pub async fn heartbeat(conn: &mut PgConnection, id: uuid::Uuid, hostname: &str, pid: i32) -> sqlx::Result<()> {
    sqlx::query(
        "WITH gone AS (DELETE FROM worker_heartbeats WHERE seen_at < now() - interval '1 day')
         INSERT INTO worker_heartbeats (id, hostname, pid) VALUES ($1, $2, $3)
         ON CONFLICT (id) DO UPDATE SET seen_at = now()",
    )
    .bind(id)
    .bind(hostname)
    .bind(pid)
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes a worker's heartbeat as it stops.
pub async fn forget_worker(conn: &mut PgConnection, id: uuid::Uuid) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM worker_heartbeats WHERE id = $1").bind(id).execute(conn).await?;
    Ok(())
}

/// Workers seen within `seconds`, the most recently seen first.
pub async fn workers_seen(conn: &mut PgConnection, seconds: f64) -> sqlx::Result<Vec<WorkerSeen>> {
    sqlx::query_as(
        "SELECT hostname, pid, started_at, seen_at FROM worker_heartbeats
         WHERE seen_at > now() - make_interval(secs => $1) ORDER BY seen_at DESC, hostname, pid",
    )
    .bind(seconds)
    .fetch_all(conn)
    .await
}

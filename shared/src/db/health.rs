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
}

/// Reads the [`Backlog`].
pub async fn backlog(conn: &mut PgConnection) -> sqlx::Result<Backlog> {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM job_chunks
                 WHERE published_at IS NULL AND done_at IS NULL AND NOT waiting) AS unpublished_chunks,
                count(*) AS unfinished_jobs,
                coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS oldest_unfinished_seconds
         FROM jobs WHERE status <> 'DONE'",
    )
    .fetch_one(conn)
    .await
}

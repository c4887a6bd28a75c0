//! The scheduled retention purge. Every worker runs the loop; an advisory lock lets one
//! purge at a time, so more workers never mean more deleting.

use std::time::Duration;

use chrono::Utc;
use ratify_shared::db::purge;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

pub struct Retention {
    pub days: i64,
    pub every: Duration,
}

/// Purges on every tick of `retention.every` until `shutdown`.
pub async fn run(pool: PgPool, retention: Retention, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(retention.every) => {}
        }
        match purge_once(&pool, retention.days, &shutdown).await {
            Ok(0) => {}
            Ok(jobs) => tracing::info!(jobs, days = retention.days, "purged jobs past retention"),
            Err(e) => tracing::warn!(error = %e, "purge failed; will try again"),
        }
    }
}

/// Deletes every job older than `days`, oldest first; returns how many.
pub async fn purge_once(pool: &PgPool, days: i64, shutdown: &CancellationToken) -> sqlx::Result<usize> {
    let mut lock = pool.acquire().await?;
    if !purge::try_lock(&mut lock).await? {
        return Ok(0);
    }
    let cutoff = Utc::now() - chrono::Duration::days(days);
    let mut jobs = 0;
    let result = async {
        let mut conn = pool.acquire().await?;
        while let Some((advertiser_id, job_id)) = purge::oldest_expired(&mut conn, cutoff).await? {
            if shutdown.is_cancelled() {
                return Ok(());
            }
            purge::delete_job(&mut conn, advertiser_id, job_id).await?;
            jobs += 1;
        }
        sqlx::Result::Ok(())
    }
    .await;
    purge::unlock(&mut lock).await?;
    result.map(|()| jobs)
}

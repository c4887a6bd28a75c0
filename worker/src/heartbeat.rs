//! The worker's heartbeat: every few seconds a row saying it is alive, for the console's
//! health page. It is advice for people, not part of any guarantee: a heartbeat that
//! cannot be written (Postgres away) is simply retried next time.

use std::time::Duration;

use ratify_shared::db;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// How often a worker says it is alive.
pub const EVERY: Duration = Duration::from_secs(5);

/// Beats until `shutdown`, then removes this worker's row.
pub async fn run(pool: PgPool, shutdown: CancellationToken) {
    let id = Uuid::new_v4();
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "unknown".to_owned());
    let pid = std::process::id() as i32;
    loop {
        if let Ok(mut conn) = pool.acquire().await {
            if let Err(e) = db::health::heartbeat(&mut conn, id, &hostname, pid).await {
                tracing::debug!(error = %e, "heartbeat not written");
            }
        }
        tokio::select! {
            () = tokio::time::sleep(EVERY) => {}
            () = shutdown.cancelled() => break,
        }
    }
    if let Ok(mut conn) = pool.acquire().await {
        let _ = db::health::forget_worker(&mut conn, id).await;
    }
}

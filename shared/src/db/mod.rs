//! Postgres access: one documented function per SQL statement, each taking a
//! connection (or a transaction) so callers compose transactions.

pub mod advertisers;
pub mod auto_approve;
pub mod chunks;
pub mod health;
pub mod history;
pub mod job_marks;
pub mod jobs;
pub mod purge;
pub mod sessions;
pub mod tokens;
pub mod transactions;
pub mod webhooks;

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

/// The embedded migrations of `shared/migrations`.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A pool that connects lazily: processes start while Postgres is away and report it
/// on `/ready`; every acquire fails fast after `acquire_timeout`.
pub fn lazy_pool(url: &str, size: u32) -> Result<PgPool, sqlx::Error> {
    let options: PgConnectOptions = url.parse()?;
    Ok(PgPoolOptions::new()
        .max_connections(size)
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(5))
        .idle_timeout(Duration::from_secs(300))
        .connect_lazy_with(options))
}

/// Whether an error is worth retrying: the database was away or the transaction lost a
/// serialization or deadlock race. Constraint violations and bad SQL are not.
pub fn is_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Tls(_) => true,
        sqlx::Error::Protocol(_) | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            // 40001 serialization failure, 40P01 deadlock, 57P0x shutdown/crash, 08xxx connection.
            code == "40001" || code == "40P01" || code.starts_with("57P") || code.starts_with("08") || code == "53300"
        }
        _ => false,
    }
}

/// Whether an error is a unique-constraint violation.
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.code().as_deref() == Some("23505"))
}

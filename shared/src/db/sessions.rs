//! Console sessions: stored by the hash of their id, with the hash of the token they were
//! opened with.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

/// A live session: the token it was opened with (by hash) and whether it is the admin's.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub token_hash: Vec<u8>,
    pub admin: bool,
}

/// Opens a session until `expires_at`, and drops sessions already expired (sessions are
/// few, so this costs nothing and keeps the table from growing).
pub async fn insert(
    conn: &mut PgConnection,
    id_hash: &[u8],
    token_hash: &[u8],
    admin: bool,
    expires_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "WITH expired AS (DELETE FROM console_sessions WHERE expires_at < now())
         INSERT INTO console_sessions (id_hash, token_hash, admin, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(id_hash)
    .bind(token_hash)
    .bind(admin)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The session with this id hash, unless it has expired.
pub async fn get(conn: &mut PgConnection, id_hash: &[u8]) -> sqlx::Result<Option<SessionRow>> {
    sqlx::query_as("SELECT token_hash, admin FROM console_sessions WHERE id_hash = $1 AND expires_at > now()")
        .bind(id_hash)
        .fetch_optional(conn)
        .await
}

/// Ends a session (signing out).
pub async fn delete(conn: &mut PgConnection, id_hash: &[u8]) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM console_sessions WHERE id_hash = $1").bind(id_hash).execute(conn).await?;
    Ok(())
}

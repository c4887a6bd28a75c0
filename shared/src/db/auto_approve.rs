//! The auto-approval scheduler's queries: which advertisers are due, and which of their
//! transactions are still pending past their validation period.

use chrono::{DateTime, Utc};
use ratify_domain::ids::AdvertiserId;
use sqlx::{PgConnection, PgPool};

/// The advisory lock that lets one scheduler run at a time, across workers.
const SCHEDULER_LOCK: i64 = 0x5241_5449_4659_4101;

/// Takes the scheduler's lock for the rest of the transaction; `false` when another
/// worker's scheduler holds it.
pub async fn try_lock(conn: &mut PgConnection) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)").bind(SCHEDULER_LOCK).fetch_one(conn).await
}

/// Advertisers with a validation period and no auto-approval job still running, with
/// their period in days.
pub async fn due_advertisers(conn: &mut PgConnection) -> sqlx::Result<Vec<(AdvertiserId, i32)>> {
    sqlx::query_as(
        "SELECT a.id, a.validation_period_days FROM advertisers a
         WHERE a.validation_period_days IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.advertiser_id = a.id AND j.auto_approve AND j.status <> 'DONE')
         ORDER BY a.id",
    )
    .fetch_all(conn)
    .await
}

/// The advisory lock space (two-integer form) that keeps raising an advertiser's
/// `auto_approve_from` apart from recording its transactions: recording takes it shared,
/// raising it exclusive, keyed by the advertiser's id hashed to 32 bits (a collision only
/// makes two advertisers wait for each other).
const WATERMARK_LOCK_SPACE: i32 = 0x5241_5457;

/// Called in the transaction that records `advertiser_id`'s transactions, before it
/// commits, with the oldest of their dates: lowers the advertiser's `auto_approve_from`
/// if they are older, so the scheduler's walk does not start after them. The shared lock
/// (held until commit) means a scheduler raising it either saw these rows or raises it
/// before this statement reads it.
pub async fn recording(
    conn: &mut PgConnection,
    advertiser_id: AdvertiserId,
    oldest: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock_shared($1, hashint8($2))")
        .bind(WATERMARK_LOCK_SPACE)
        .bind(advertiser_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE advertisers SET auto_approve_from = $2 WHERE id = $1 AND auto_approve_from > $2")
        .bind(advertiser_id)
        .bind(oldest)
        .execute(conn)
        .await?;
    Ok(())
}

/// Raises `advertiser_id`'s `auto_approve_from` past the transactions that are no longer
/// pending: to the date of its oldest pending transaction older than `days`, or to that
/// cutoff if there is none. Its own transaction, so recording waits for it only briefly.
pub async fn advance(pool: &PgPool, advertiser_id: AdvertiserId, days: i32) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1, hashint8($2))")
        .bind(WATERMARK_LOCK_SPACE)
        .bind(advertiser_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "WITH c AS (SELECT now() - make_interval(days => $2) AS cutoff)
         UPDATE advertisers a SET auto_approve_from = coalesce(
             (SELECT t.transaction_date FROM transactions t
              WHERE t.advertiser_id = $1 AND t.commission_status = 'pending'
                AND t.transaction_date >= coalesce(a.auto_approve_from, '-infinity') AND t.transaction_date < c.cutoff
              ORDER BY t.transaction_date LIMIT 1),
             greatest(a.auto_approve_from, c.cutoff))
         FROM c WHERE a.id = $1",
    )
    .bind(advertiser_id)
    .bind(days)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// At most `limit` of an advertiser's transactions still pending `days` after their
/// transaction date, oldest first, from its `auto_approve_from` on.
pub async fn overdue(
    conn: &mut PgConnection,
    advertiser_id: AdvertiserId,
    days: i32,
    limit: i64,
) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar(
        "SELECT id FROM transactions
         WHERE advertiser_id = $1 AND commission_status = 'pending'
           AND transaction_date >= coalesce((SELECT auto_approve_from FROM advertisers WHERE id = $1), '-infinity')
           AND transaction_date < now() - make_interval(days => $2)
         ORDER BY transaction_date, id LIMIT $3",
    )
    .bind(advertiser_id)
    .bind(days)
    .bind(limit)
    .fetch_all(conn)
    .await
}

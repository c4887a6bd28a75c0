//! The auto-approval scheduler's queries: which advertisers are due, and which of their
//! transactions are still pending past their validation period.

use ratify_domain::ids::AdvertiserId;
use sqlx::PgConnection;

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

/// At most `limit` of an advertiser's transactions still pending `days` after their
/// transaction date, oldest first.
pub async fn overdue(
    conn: &mut PgConnection,
    advertiser_id: AdvertiserId,
    days: i32,
    limit: i64,
) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar(
        "SELECT id FROM transactions
         WHERE advertiser_id = $1 AND commission_status = 'pending'
           AND transaction_date < now() - make_interval(days => $2)
         ORDER BY transaction_date, id LIMIT $3",
    )
    .bind(advertiser_id)
    .bind(days)
    .bind(limit)
    .fetch_all(conn)
    .await
}

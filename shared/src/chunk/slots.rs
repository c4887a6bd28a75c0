//! A cap on chunks applied at once across every worker of a deployment (`RATIFY_APPLY_SLOTS`).
//!
//! Chunks are CPU work for Postgres. Past about its cores plus one, more chunks at once only
//! lengthen its run queue: throughput stays, every other statement waits longer (a poll, a
//! small job's chunk), and more workers get slower. The bench showed it on two cores: 16 chunks
//! at once (4 workers × 4) were slower and had p99 polls 4 × longer than 4 at once. So each
//! chunk's transaction first takes one of N transaction-level advisory locks: a free one if
//! any (tried in turn, in one statement), else it queues on one of them chosen at random and
//! sleeps in Postgres until that one is released. Waiting costs no CPU: an earlier version
//! retried every few milliseconds instead, and with 4 workers × 4 chunks the twelve waiting
//! chunks' retries took a sixth of B2's throughput (72,141 items/s against 85,000–87,000
//! queued). The lock goes with the transaction's commit or rollback, so a worker that dies
//! frees its slot. It is taken right after the chunk's own row lock, before any transaction
//! is read or locked; slot holders never wait for a chunk row, so no lock cycle appears. Chunks of single-chunk jobs (the express
//! lane's small jobs) take no slot: a small job must not queue behind a large one. The cap is
//! per database: every process applying chunks of this deployment shares it.

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::PgConnection;

/// The advisory lock space of the slots (the two-integer form, apart from the single-key locks
/// of the purge and the auto-approval scheduler).
const SLOT_LOCK_SPACE: i32 = 0x5241_5446;

/// Slots of this process; 0: no cap.
static SLOTS: AtomicU32 = AtomicU32::new(0);

/// Sets this process's cap (a worker does at start; 0, the default, takes no slot).
pub fn set_slots(slots: u32) {
    SLOTS.store(slots, Ordering::Relaxed);
}

/// A slot in `1..=slots` to queue on, spread so that waiting chunks do not all queue on one.
fn any_slot(slots: u32) -> i32 {
    use std::hash::{BuildHasher, RandomState};
    (RandomState::new().hash_one(0u8) % u64::from(slots)) as i32 + 1
}

/// Takes a slot in the chunk's transaction: a free one, else the first of the chosen one's
/// queue; returns at once without a cap.
pub async fn take(tx: &mut PgConnection) -> sqlx::Result<()> {
    let slots = SLOTS.load(Ordering::Relaxed);
    if slots == 0 {
        return Ok(());
    }
    // The Limit stops the scan at the first lock taken: one slot, not several.
    let free: Option<i32> = sqlx::query_scalar(
        "SELECT s FROM generate_series(1, $1::int) AS s WHERE pg_try_advisory_xact_lock($2, s) LIMIT 1",
    )
    .bind(slots as i32)
    .bind(SLOT_LOCK_SPACE)
    .fetch_optional(&mut *tx)
    .await?;
    if free.is_none() {
        sqlx::query("SELECT pg_advisory_xact_lock($1, $2)")
            .bind(SLOT_LOCK_SPACE)
            .bind(any_slot(slots))
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

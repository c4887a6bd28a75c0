//! Chunks as the workers apply them, and the outbox relay's view of them.

use chrono::{DateTime, Utc};
use ratify_domain::ids::AdvertiserId;
use sqlx::PgConnection;
use uuid::Uuid;

/// A locked chunk: its items as JSON text, whether it was already applied, and the
/// chunk it continues.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LockedChunk {
    pub items: String,
    pub item_count: i32,
    pub done: bool,
    pub after_chunk: Option<i32>,
}

/// Locks a chunk row for the rest of the transaction. Two deliveries of the same chunk
/// serialize here; the second sees `done`.
pub async fn lock(
    conn: &mut PgConnection,
    advertiser_id: AdvertiserId,
    job_id: Uuid,
    chunk_no: i32,
) -> sqlx::Result<Option<LockedChunk>> {
    sqlx::query_as(
        "SELECT items, item_count, done_at IS NOT NULL AS done, after_chunk FROM job_chunks
         WHERE advertiser_id = $1 AND job_id = $2 AND chunk_no = $3 FOR UPDATE",
    )
    .bind(advertiser_id)
    .bind(job_id)
    .bind(chunk_no)
    .fetch_optional(conn)
    .await
}

/// Whether a chunk is done. Read in a statement of its own after the continuing chunk's
/// lock is held, so it sees a predecessor that committed while the lock was awaited.
pub async fn is_done(
    conn: &mut PgConnection,
    advertiser_id: AdvertiserId,
    job_id: Uuid,
    chunk_no: i32,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT coalesce(bool_or(done_at IS NOT NULL), false) FROM job_chunks
         WHERE advertiser_id = $1 AND job_id = $2 AND chunk_no = $3",
    )
    .bind(advertiser_id)
    .bind(job_id)
    .bind(chunk_no)
    .fetch_one(conn)
    .await
}

/// Puts a locked chunk whose predecessor is not done back to waiting: unpublished, for
/// its predecessor's worker to release.
pub async fn wait_again(
    conn: &mut PgConnection,
    advertiser_id: AdvertiserId,
    job_id: Uuid,
    chunk_no: i32,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE job_chunks SET waiting = true, published_at = NULL
         WHERE advertiser_id = $1 AND job_id = $2 AND chunk_no = $3",
    )
    .bind(advertiser_id)
    .bind(job_id)
    .bind(chunk_no)
    .execute(conn)
    .await?;
    Ok(())
}

/// Releases the chunks that continue a chunk just finished (in the same transaction):
/// they stop waiting and are returned, to be published after the commit. The update
/// takes their row locks, so a worker checking one of them either finishes its check
/// first (and this release then applies to what it wrote) or sees this chunk done.
pub async fn release_continuations(
    conn: &mut PgConnection,
    advertiser_id: AdvertiserId,
    job_id: Uuid,
    chunk_no: i32,
) -> sqlx::Result<Vec<i32>> {
    sqlx::query_scalar(
        "UPDATE job_chunks SET waiting = false
         WHERE advertiser_id = $1 AND job_id = $2 AND after_chunk = $3 AND done_at IS NULL
         RETURNING chunk_no",
    )
    .bind(advertiser_id)
    .bind(job_id)
    .bind(chunk_no)
    .fetch_all(conn)
    .await
}

/// Outcomes in columns for [`insert_outcomes`].
#[derive(Debug, Default)]
pub struct OutcomeRows {
    pub indexes: Vec<i32>,
    pub codes: Vec<i16>,
    pub descriptions: Vec<Option<String>>,
    pub actions: Vec<Option<String>>,
    pub transaction_ids: Vec<Option<i64>>,
    pub order_refs: Vec<Option<String>>,
    pub transaction_dates: Vec<Option<String>>,
    pub timezones: Vec<Option<String>>,
}

impl OutcomeRows {
    pub fn errors(&self) -> i32 {
        self.codes.iter().filter(|c| **c >= 400).count() as i32
    }

    /// How many items got each code.
    pub fn by_code(&self) -> std::collections::BTreeMap<i16, u64> {
        let mut counts = std::collections::BTreeMap::new();
        for code in &self.codes {
            *counts.entry(*code).or_insert(0) += 1;
        }
        counts
    }
}

/// Writes a chunk's outcomes in one statement. The primary key refuses a second
/// outcome for an item.
pub async fn insert_outcomes(
    conn: &mut PgConnection,
    advertiser_id: AdvertiserId,
    job_id: Uuid,
    rows: &OutcomeRows,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO job_outcomes (advertiser_id, job_id, item_index, code, description, action, transaction_id,
                                   order_ref, transaction_date, timezone)
         SELECT $1, $2, u.* FROM unnest($3::int[], $4::smallint[], $5::text[], $6::text[], $7::bigint[], $8::text[],
                                        $9::text[], $10::text[]) AS u",
    )
    .bind(advertiser_id)
    .bind(job_id)
    .bind(&rows.indexes)
    .bind(&rows.codes)
    .bind(&rows.descriptions)
    .bind(&rows.actions)
    .bind(&rows.transaction_ids)
    .bind(&rows.order_refs)
    .bind(&rows.transaction_dates)
    .bind(&rows.timezones)
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks a chunk applied.
pub async fn finish(
    conn: &mut PgConnection,
    advertiser_id: AdvertiserId,
    job_id: Uuid,
    chunk_no: i32,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE job_chunks SET done_at = now(), published_at = coalesce(published_at, now())
         WHERE advertiser_id = $1 AND job_id = $2 AND chunk_no = $3",
    )
    .bind(advertiser_id)
    .bind(job_id)
    .bind(chunk_no)
    .execute(conn)
    .await?;
    Ok(())
}

/// Adds a chunk's counts to its job; the job becomes `DONE`, with its completion date,
/// exactly when the last item has its outcome. Returns, when it is now done, the seconds
/// from acceptance to done.
pub async fn add_progress(
    conn: &mut PgConnection,
    advertiser_id: AdvertiserId,
    job_id: Uuid,
    processed: i32,
    errors: i32,
) -> sqlx::Result<Option<f64>> {
    sqlx::query_scalar(
        "UPDATE jobs SET processed_count = processed_count + $3, error_count = error_count + $4,
                status = CASE WHEN processed_count + $3 >= transaction_count THEN 'DONE' ELSE 'PROCESSING' END,
                completion_date = CASE WHEN processed_count + $3 >= transaction_count THEN now() END
         WHERE advertiser_id = $1 AND id = $2
         RETURNING extract(epoch FROM completion_date - created_at)::float8",
    )
    .bind(advertiser_id)
    .bind(job_id)
    .bind(processed)
    .bind(errors)
    .fetch_one(conn)
    .await
}

/// A chunk the broker never confirmed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UnpublishedChunk {
    pub advertiser_id: AdvertiserId,
    pub job_id: Uuid,
    pub chunk_no: i32,
    /// Chunks of the chunk's job, which picks its queue.
    pub chunk_count: i32,
}

/// Chunks written before `older_than` whose message was never confirmed (the broker was
/// away, or the api died between commit and publish), oldest job first. `SKIP LOCKED`
/// lets several relays share the work.
pub async fn unpublished(
    conn: &mut PgConnection,
    older_than: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<UnpublishedChunk>> {
    sqlx::query_as(
        "SELECT c.advertiser_id, c.job_id, c.chunk_no, j.chunk_count FROM job_chunks c
         JOIN jobs j ON j.advertiser_id = c.advertiser_id AND j.id = c.job_id
         WHERE c.published_at IS NULL AND c.done_at IS NULL AND NOT c.waiting AND j.created_at < $1
         ORDER BY j.created_at, c.chunk_no LIMIT $2 FOR UPDATE OF c SKIP LOCKED",
    )
    .bind(older_than)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Marks relayed chunks confirmed, in one statement.
pub async fn mark_published(conn: &mut PgConnection, chunks: &[UnpublishedChunk]) -> sqlx::Result<()> {
    let advertisers: Vec<AdvertiserId> = chunks.iter().map(|c| c.advertiser_id).collect();
    let jobs: Vec<Uuid> = chunks.iter().map(|c| c.job_id).collect();
    let numbers: Vec<i32> = chunks.iter().map(|c| c.chunk_no).collect();
    sqlx::query(
        "UPDATE job_chunks c SET published_at = now()
         FROM unnest($1::bigint[], $2::uuid[], $3::int[]) AS u(advertiser_id, job_id, chunk_no)
         WHERE c.advertiser_id = u.advertiser_id AND c.job_id = u.job_id AND c.chunk_no = u.chunk_no",
    )
    .bind(advertisers)
    .bind(jobs)
    .bind(numbers)
    .execute(conn)
    .await?;
    Ok(())
}

/// Chunks published before `published_before` that are still not done and that no
/// worker holds right now (a worker applying a chunk has its row locked: `SKIP LOCKED`
/// passes it by, as it does rows another relay is handling), longest waiting first.
pub async fn stalled(
    conn: &mut PgConnection,
    published_before: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<UnpublishedChunk>> {
    sqlx::query_as(
        "SELECT c.advertiser_id, c.job_id, c.chunk_no, j.chunk_count FROM job_chunks c
         JOIN jobs j ON j.advertiser_id = c.advertiser_id AND j.id = c.job_id
         WHERE c.published_at IS NOT NULL AND c.done_at IS NULL AND c.published_at < $1
         ORDER BY c.published_at LIMIT $2 FOR UPDATE OF c SKIP LOCKED",
    )
    .bind(published_before)
    .bind(limit)
    .fetch_all(conn)
    .await
}

//! Chunks as the workers apply them, and the outbox relay's view of them.

use chrono::{DateTime, Utc};
use ratify_domain::ids::AdvertiserId;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

/// A locked chunk: its items as JSON text, whether it was already applied, the chunk it
/// continues, and whether its job is a dry run.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LockedChunk {
    pub items: String,
    pub item_count: i32,
    pub done: bool,
    pub after_chunk: Option<i32>,
    pub dry_run: bool,
    /// The job is the scheduler's auto-approval: its changes are recorded as `auto-approve`.
    pub auto_approve: bool,
    /// Chunks of its job: a job of one chunk is a small one (the express lane's).
    pub chunk_count: i32,
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
        "SELECT c.items, c.item_count, c.done_at IS NOT NULL AS done, c.after_chunk, j.dry_run, j.auto_approve,
                j.chunk_count
         FROM job_chunks c JOIN jobs j ON j.advertiser_id = c.advertiser_id AND j.id = c.job_id
         WHERE c.advertiser_id = $1 AND c.job_id = $2 AND c.chunk_no = $3 FOR UPDATE OF c",
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

/// One item's outcome: an element of its chunk's outcome documents, and what
/// `output=errors|all` lists. Absent fields are left out of the document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutcomeRow {
    #[serde(rename = "index")]
    pub item_index: i32,
    pub code: i16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
}

impl OutcomeRow {
    pub fn is_error(&self) -> bool {
        self.code >= 400
    }
}

/// A chunk's outcomes, in the order its items were applied (index order).
#[derive(Debug, Default)]
pub struct OutcomeRows {
    pub rows: Vec<OutcomeRow>,
}

impl OutcomeRows {
    pub fn push(&mut self, row: OutcomeRow) {
        self.rows.push(row);
    }

    pub fn errors(&self) -> i32 {
        self.rows.iter().filter(|r| r.is_error()).count() as i32
    }

    /// How many items got each code.
    pub fn by_code(&self) -> std::collections::BTreeMap<i16, u64> {
        let mut counts = std::collections::BTreeMap::new();
        for row in &self.rows {
            *counts.entry(row.code).or_insert(0) += 1;
        }
        counts
    }

    /// The chunk's outcome documents.
    pub fn documents(&self) -> serde_json::Result<Documents> {
        let errors: Vec<&OutcomeRow> = self.rows.iter().filter(|r| r.is_error()).collect();
        Ok(Documents {
            first_index: self.rows.iter().map(|r| r.item_index).min().unwrap_or(0),
            error_count: errors.len() as i32,
            outcomes: serde_json::to_string(&self.rows)?,
            errors: serde_json::to_string(&errors)?,
            code_counts: serde_json::to_string(&self.by_code())?,
        })
    }
}

/// What a finished chunk stores: its outcomes as two JSON arrays (all, and the errors
/// alone, so that `output=errors` reads only those) and the counts its job's progress
/// sums.
#[derive(Debug, Clone)]
pub struct Documents {
    pub first_index: i32,
    pub error_count: i32,
    pub outcomes: String,
    pub errors: String,
    /// `{"200": 980, "404": 20}`: how many items got each code.
    pub code_counts: String,
}

impl Documents {
    /// A chunk of `items` that all failed and have no outcome to list: a dead chunk whose
    /// items cannot be read.
    pub fn failed_unlisted(items: i32) -> Documents {
        Documents {
            first_index: 0,
            error_count: items,
            outcomes: "[]".to_owned(),
            errors: "[]".to_owned(),
            code_counts: format!("{{\"500\": {items}}}"),
        }
    }
}

/// Marks a chunk applied, with its outcome documents. Only a chunk not done yet is
/// marked: `false` means it already was, and the caller must not commit.
pub async fn finish(
    conn: &mut PgConnection,
    advertiser_id: AdvertiserId,
    job_id: Uuid,
    chunk_no: i32,
    documents: &Documents,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE job_chunks SET done_at = now(), published_at = coalesce(published_at, now()), first_index = $4,
                error_count = $5, outcomes = $6, errors = $7, code_counts = $8::jsonb
         WHERE advertiser_id = $1 AND job_id = $2 AND chunk_no = $3 AND done_at IS NULL",
    )
    .bind(advertiser_id)
    .bind(job_id)
    .bind(chunk_no)
    .bind(documents.first_index)
    .bind(documents.error_count)
    .bind(&documents.outcomes)
    .bind(&documents.errors)
    .bind(&documents.code_counts)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The part of a statement that makes jobs `DONE` (a CTE `done` of `advertiser_id, id`)
/// queueing the completion webhook of each job whose advertiser has one: in the same
/// statement, so a job is never `DONE` without its delivery, nor delivered twice.
const QUEUE_WEBHOOKS: &str = "queued AS (
    INSERT INTO webhook_deliveries (advertiser_id, id, job_id, event)
    SELECT d.advertiser_id, gen_random_uuid(), d.id, 'job.done' FROM done d
    JOIN webhooks w ON w.advertiser_id = d.advertiser_id
    ON CONFLICT DO NOTHING)";

/// Writes a job's row as `DONE`, with its counts and completion date (its last chunk's),
/// once every chunk of it is done; run after a chunk's commit, so the worker of the last
/// chunk sees them all. Returns, when this call finished the job, the seconds from
/// acceptance to done.
pub async fn finish_job(
    conn: &mut PgConnection,
    advertiser_id: AdvertiserId,
    job_id: Uuid,
) -> sqlx::Result<Option<f64>> {
    sqlx::query_scalar(&format!(
        "WITH done AS (
             UPDATE jobs j SET status = 'DONE', processed_count = s.items, error_count = s.errors,
                               completion_date = s.last
             FROM (SELECT sum(item_count)::int AS items, coalesce(sum(error_count), 0)::int AS errors,
                          max(done_at) AS last, bool_and(done_at IS NOT NULL) AS all_done
                   FROM job_chunks WHERE advertiser_id = $1 AND job_id = $2) s
             WHERE j.advertiser_id = $1 AND j.id = $2 AND j.status <> 'DONE' AND s.all_done
             RETURNING j.advertiser_id, j.id, extract(epoch FROM j.completion_date - j.created_at)::float8 AS latency
         ), {QUEUE_WEBHOOKS}
         SELECT latency FROM done"
    ))
    .bind(advertiser_id)
    .bind(job_id)
    .fetch_optional(conn)
    .await
}

/// Writes as `DONE` the jobs created before `created_before` whose chunks are all done but
/// whose row is not: the worker of the last chunk died between its commit and
/// [`finish_job`]. Returns how many. (Their status already reads `DONE`: the api derives
/// it from the chunks.)
pub async fn finish_settled_jobs(conn: &mut PgConnection, created_before: DateTime<Utc>) -> sqlx::Result<u64> {
    let done: i64 = sqlx::query_scalar(&format!(
        "WITH done AS (
             UPDATE jobs j SET status = 'DONE', processed_count = s.items, error_count = s.errors,
                               completion_date = s.last
             FROM (SELECT c.advertiser_id, c.job_id, sum(c.item_count)::int AS items,
                          coalesce(sum(c.error_count), 0)::int AS errors, max(c.done_at) AS last
                   FROM jobs u JOIN job_chunks c ON c.advertiser_id = u.advertiser_id AND c.job_id = u.id
                   WHERE u.status <> 'DONE' AND u.created_at < $1
                   GROUP BY 1, 2 HAVING bool_and(c.done_at IS NOT NULL)) s
             WHERE j.advertiser_id = s.advertiser_id AND j.id = s.job_id AND j.status <> 'DONE'
             RETURNING j.advertiser_id, j.id
         ), {QUEUE_WEBHOOKS}
         SELECT count(*) FROM done"
    ))
    .bind(created_before)
    .fetch_one(conn)
    .await?;
    Ok(done as u64)
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

/// Marks relayed chunks confirmed, in one statement. (`advertiser_id = ANY` as well as
/// the join: a sharded cluster prunes shards on the former only; see docs/scaling.md.)
pub async fn mark_published(conn: &mut PgConnection, chunks: &[UnpublishedChunk]) -> sqlx::Result<()> {
    let advertisers: Vec<AdvertiserId> = chunks.iter().map(|c| c.advertiser_id).collect();
    let jobs: Vec<Uuid> = chunks.iter().map(|c| c.job_id).collect();
    let numbers: Vec<i32> = chunks.iter().map(|c| c.chunk_no).collect();
    sqlx::query(
        "UPDATE job_chunks c SET published_at = now()
         FROM unnest($1::bigint[], $2::uuid[], $3::int[]) AS u(advertiser_id, job_id, chunk_no)
         WHERE c.advertiser_id = ANY($1) AND c.advertiser_id = u.advertiser_id AND c.job_id = u.job_id
           AND c.chunk_no = u.chunk_no",
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

/// Locks the chunks of a job that are not done, in chunk order (the order workers lock a
/// chunk and then its continuations, so the two never deadlock), waiting for those being
/// applied: a chunk a worker commits meanwhile is done and not returned.
pub async fn lock_undone(conn: &mut PgConnection, advertiser_id: AdvertiserId, job_id: Uuid) -> sqlx::Result<Vec<i32>> {
    sqlx::query_scalar(
        "SELECT chunk_no FROM job_chunks WHERE advertiser_id = $1 AND job_id = $2 AND done_at IS NULL
         ORDER BY chunk_no FOR UPDATE",
    )
    .bind(advertiser_id)
    .bind(job_id)
    .fetch_all(conn)
    .await
}

/// A chunk's items as stored (a JSON array of job items).
pub async fn items(
    conn: &mut PgConnection,
    advertiser_id: AdvertiserId,
    job_id: Uuid,
    chunk_no: i32,
) -> sqlx::Result<String> {
    sqlx::query_scalar("SELECT items FROM job_chunks WHERE advertiser_id = $1 AND job_id = $2 AND chunk_no = $3")
        .bind(advertiser_id)
        .bind(job_id)
        .bind(chunk_no)
        .fetch_one(conn)
        .await
}

/// Every chunk's items of a job, in chunk order, as stored.
pub async fn all_items(
    conn: &mut PgConnection,
    advertiser_id: AdvertiserId,
    job_id: Uuid,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("SELECT items FROM job_chunks WHERE advertiser_id = $1 AND job_id = $2 ORDER BY chunk_no")
        .bind(advertiser_id)
        .bind(job_id)
        .fetch_all(conn)
        .await
}

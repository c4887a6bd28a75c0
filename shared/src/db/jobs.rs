//! Jobs as the api writes and reads them.

use chrono::{DateTime, Utc};
use ratify_domain::ids::AdvertiserId;
use ratify_domain::job::JobState;
use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobRow {
    pub id: Uuid,
    pub status: JobState,
    pub transaction_count: i32,
    pub processed_count: i32,
    pub error_count: i32,
    pub created_at: DateTime<Utc>,
    pub completion_date: Option<DateTime<Utc>>,
    pub label: Option<String>,
    pub advertiser_id: AdvertiserId,
    pub dry_run: bool,
    pub cancelled: bool,
    pub retry_of: Option<Uuid>,
    pub retried_by: Option<Uuid>,
}

/// A job's columns as [`JobRow`] reads them, from `jobs j`. A finished job's row holds its
/// counts; an unfinished one's are summed over its done chunks (a chunk does not write
/// its job's row, so that chunks of one job never wait for each other), and it reads as
/// `DONE` as soon as its last chunk is, before its row says so.
const JOB_COLUMNS: &str = "j.id,
    CASE WHEN j.status = 'DONE' OR p.pending = 0 THEN 'DONE' WHEN p.done > 0 THEN 'PROCESSING' ELSE j.status END
        AS status,
    j.transaction_count,
    CASE WHEN j.status = 'DONE' THEN j.processed_count ELSE p.items END AS processed_count,
    CASE WHEN j.status = 'DONE' THEN j.error_count ELSE p.errors END AS error_count,
    j.created_at,
    CASE WHEN j.status = 'DONE' THEN j.completion_date WHEN p.pending = 0 THEN p.last END AS completion_date,
    j.label, j.advertiser_id, j.dry_run, j.cancelled_at IS NOT NULL AS cancelled, j.retry_of, j.retried_by";

/// The chunk sums [`JOB_COLUMNS`] reads as `p`, for a job `j` not finished.
const PROGRESS: &str = "LEFT JOIN LATERAL (
    SELECT count(*) FILTER (WHERE c.done_at IS NULL) AS pending, count(c.done_at) AS done,
           coalesce(sum(c.item_count) FILTER (WHERE c.done_at IS NOT NULL), 0)::int AS items,
           coalesce(sum(c.error_count) FILTER (WHERE c.done_at IS NOT NULL), 0)::int AS errors,
           max(c.done_at) AS last
    FROM job_chunks c WHERE c.advertiser_id = j.advertiser_id AND c.job_id = j.id AND j.status <> 'DONE'
    HAVING j.status <> 'DONE') p ON true";

/// A job with the same idempotency key, with its request hash and whether it is
/// young enough (24 h) to be replayed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyedJob {
    pub id: Uuid,
    pub request_hash: Option<Vec<u8>>,
    pub fresh: bool,
}

/// Finds the job an idempotency key names, locking it so two submissions with the
/// same key serialize.
pub async fn find_by_key(
    conn: &mut PgConnection,
    advertiser_id: AdvertiserId,
    key: &str,
) -> sqlx::Result<Option<KeyedJob>> {
    sqlx::query_as(
        "SELECT id, request_hash, created_at > now() - interval '24 hours' AS fresh
         FROM jobs WHERE advertiser_id = $1 AND idempotency_key = $2 FOR UPDATE",
    )
    .bind(advertiser_id)
    .bind(key)
    .fetch_optional(conn)
    .await
}

/// Frees an expired idempotency key for reuse; the old job keeps everything else.
pub async fn release_key(conn: &mut PgConnection, advertiser_id: AdvertiserId, job_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("UPDATE jobs SET idempotency_key = NULL WHERE advertiser_id = $1 AND id = $2")
        .bind(advertiser_id)
        .bind(job_id)
        .execute(conn)
        .await?;
    Ok(())
}

pub struct NewJob<'a> {
    pub id: Uuid,
    pub transaction_count: i32,
    pub chunk_count: i32,
    pub idempotency_key: Option<&'a str>,
    pub request_hash: Option<&'a [u8]>,
    pub label: Option<&'a str>,
    /// Outcomes only: no transaction changes, no history.
    pub dry_run: bool,
    /// The job whose `[500]` items this one applies again.
    pub retry_of: Option<Uuid>,
    /// The scheduler's auto-approval of overdue transactions.
    pub auto_approve: bool,
}

/// Inserts a job. Fails with a unique violation if its idempotency key is taken.
pub async fn insert(conn: &mut PgConnection, advertiser_id: AdvertiserId, job: &NewJob<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO jobs (advertiser_id, id, transaction_count, chunk_count, idempotency_key, request_hash, label,
                           dry_run, retry_of, auto_approve)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(advertiser_id)
    .bind(job.id)
    .bind(job.transaction_count)
    .bind(job.chunk_count)
    .bind(job.idempotency_key)
    .bind(job.request_hash)
    .bind(job.label)
    .bind(job.dry_run)
    .bind(job.retry_of)
    .bind(job.auto_approve)
    .execute(conn)
    .await?;
    Ok(())
}

/// Chunks written per insert statement.
const CHUNKS_PER_INSERT: usize = 8;

/// A job's chunks as they are stored: each one's item count, items (a JSON array) and the
/// chunk it continues.
pub struct ChunkRows {
    pub counts: Vec<i32>,
    pub documents: Vec<String>,
    pub after: Vec<Option<i32>>,
}

impl ChunkRows {
    pub fn of(chunks: &[ratify_domain::job::Chunk]) -> serde_json::Result<ChunkRows> {
        Ok(ChunkRows {
            counts: chunks.iter().map(|c| c.items.len() as i32).collect(),
            documents: chunks.iter().map(|c| serde_json::to_string(&c.items)).collect::<Result<_, _>>()?,
            after: chunks.iter().map(|c| c.after.map(|a| a as i32)).collect(),
        })
    }

    pub fn len(&self) -> i32 {
        self.counts.len() as i32
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// The chunks to publish at once: those that continue no other (the others wait for
    /// theirs, and the worker finishing that one publishes them).
    pub fn ready(&self) -> Vec<i32> {
        (0..self.len()).filter(|&n| self.after[n as usize].is_none()).collect()
    }
}

/// Inserts every chunk of a job, a few per statement: one statement's parameters stay in
/// the connection's buffer at their largest size for as long as the connection lives.
pub async fn insert_all_chunks(
    conn: &mut PgConnection,
    advertiser_id: AdvertiserId,
    job_id: Uuid,
    rows: &ChunkRows,
) -> sqlx::Result<()> {
    for (n, ((counts, documents), after)) in rows
        .counts
        .chunks(CHUNKS_PER_INSERT)
        .zip(rows.documents.chunks(CHUNKS_PER_INSERT))
        .zip(rows.after.chunks(CHUNKS_PER_INSERT))
        .enumerate()
    {
        let first_no = (n * CHUNKS_PER_INSERT) as i32;
        insert_chunks(&mut *conn, advertiser_id, job_id, first_no, counts, documents, after).await?;
    }
    Ok(())
}

/// Inserts chunks `first_no`, `first_no + 1`, … of a job: `items[i]` is the JSON array of
/// chunk `first_no + i`, and `after[i]` the chunk it continues (it then waits for it).
pub async fn insert_chunks(
    conn: &mut PgConnection,
    advertiser_id: AdvertiserId,
    job_id: Uuid,
    first_no: i32,
    item_counts: &[i32],
    items: &[String],
    after: &[Option<i32>],
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO job_chunks (advertiser_id, job_id, chunk_no, item_count, items, after_chunk, waiting)
         SELECT $1, $2, $3 + (u.n - 1)::int, u.item_count, u.items, u.after_chunk, u.after_chunk IS NOT NULL
         FROM unnest($4::int[], $5::text[], $6::int[]) WITH ORDINALITY AS u(item_count, items, after_chunk, n)",
    )
    .bind(advertiser_id)
    .bind(job_id)
    .bind(first_no)
    .bind(item_counts)
    .bind(items)
    .bind(after)
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks chunks as confirmed by the broker (the outbox is then done with them). Chunks a
/// worker has locked are skipped rather than waited for: the worker marks them when it
/// finishes.
pub async fn mark_published(
    conn: &mut PgConnection,
    advertiser_id: AdvertiserId,
    job_id: Uuid,
    chunk_nos: &[i32],
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE job_chunks SET published_at = now()
         WHERE advertiser_id = $1 AND job_id = $2 AND chunk_no IN (
             SELECT chunk_no FROM job_chunks
             WHERE advertiser_id = $1 AND job_id = $2 AND chunk_no = ANY($3) AND published_at IS NULL
             FOR UPDATE SKIP LOCKED)",
    )
    .bind(advertiser_id)
    .bind(job_id)
    .bind(chunk_nos)
    .execute(conn)
    .await?;
    Ok(())
}

/// A job with one of its done chunks' outcome documents: [`with_documents_sql`]'s rows.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobWithDocument {
    #[sqlx(flatten)]
    pub job: JobRow,
    pub first_index: Option<i32>,
    pub document: Option<String>,
}

/// The SQL reading a job (`$1` advertiser, `$2` job) and the outcome documents of its done
/// chunks by first index, one row per document (one row with no document when none is
/// done) — in one statement, so the counts and the documents are one snapshot.
/// `errors_only` reads the documents of the failed items.
pub fn with_documents_sql(errors_only: bool) -> String {
    let column = if errors_only { "errors" } else { "outcomes" };
    format!(
        "SELECT {JOB_COLUMNS}, d.first_index, d.document FROM jobs j {PROGRESS}
         LEFT JOIN LATERAL (
             SELECT coalesce(c.first_index, 0) AS first_index, c.{column} AS document, c.chunk_no FROM job_chunks c
             WHERE c.advertiser_id = j.advertiser_id AND c.job_id = j.id AND c.done_at IS NOT NULL
               AND c.{column} IS NOT NULL) d ON true
         WHERE j.advertiser_id = $1 AND j.id = $2
         ORDER BY d.first_index, d.chunk_no"
    )
}

/// One job of an advertiser.
pub async fn get(conn: &mut PgConnection, advertiser_id: AdvertiserId, id: Uuid) -> sqlx::Result<Option<JobRow>> {
    sqlx::query_as(&format!("SELECT {JOB_COLUMNS} FROM jobs j {PROGRESS} WHERE j.advertiser_id = $1 AND j.id = $2"))
        .bind(advertiser_id)
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// A page of an advertiser's jobs of the last 60 days, newest first, strictly older
/// than the `(created_at, id)` cursor when one is given.
pub async fn list(
    conn: &mut PgConnection,
    advertiser_id: AdvertiserId,
    before: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> sqlx::Result<Vec<JobRow>> {
    let (at, id) = before.unzip();
    sqlx::query_as(&format!(
        "SELECT {JOB_COLUMNS} FROM jobs j {PROGRESS}
         WHERE j.advertiser_id = $1 AND j.created_at > now() - interval '60 days'
           AND ($2::timestamptz IS NULL OR (j.created_at, j.id) < ($2, $3))
         ORDER BY j.created_at DESC, j.id DESC LIMIT $4"
    ))
    .bind(advertiser_id)
    .bind(at)
    .bind(id)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// What the admin list of jobs (across advertisers) is narrowed to; `None` is no filter.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    /// Only jobs of these advertisers (a console session's).
    pub within: Option<Vec<AdvertiserId>>,
    pub advertiser_id: Option<AdvertiserId>,
    pub status: Option<JobState>,
    pub label: Option<String>,
    /// Created at or after.
    pub from: Option<DateTime<Utc>>,
    /// Created before.
    pub until: Option<DateTime<Utc>>,
}

/// A page of the jobs of the last 60 days across advertisers (or of one), newest first,
/// narrowed by `filter`, strictly older than the `(created_at, id)` cursor when one is
/// given. The status filtered on is the one the job reads as (see [`JOB_COLUMNS`]).
pub async fn list_all(
    conn: &mut PgConnection,
    filter: &JobFilter,
    before: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> sqlx::Result<Vec<JobRow>> {
    let (at, id) = before.unzip();
    sqlx::query_as(&format!(
        "SELECT * FROM (
             SELECT {JOB_COLUMNS} FROM jobs j {PROGRESS}
             WHERE j.created_at > now() - interval '60 days'
               AND ($1::bigint IS NULL OR j.advertiser_id = $1)
               AND ($2::text IS NULL OR j.label = $2)
               AND ($3::timestamptz IS NULL OR j.created_at >= $3)
               AND ($4::timestamptz IS NULL OR j.created_at < $4)
               AND ($5::timestamptz IS NULL OR (j.created_at, j.id) < ($5, $6))
               AND ($7::text IS NULL OR $7 = 'DONE' OR j.status <> 'DONE')
               AND ($9::bigint[] IS NULL OR j.advertiser_id = ANY($9))
         ) l
         WHERE $7::text IS NULL OR l.status = $7
         ORDER BY l.created_at DESC, l.id DESC LIMIT $8"
    ))
    .bind(filter.advertiser_id)
    .bind(filter.label.as_deref())
    .bind(filter.from)
    .bind(filter.until)
    .bind(at)
    .bind(id)
    .bind(filter.status.map(|s| s.as_str()))
    .bind(limit)
    .bind(filter.within.as_deref())
    .fetch_all(conn)
    .await
}

/// How many items of each job got each code, summed over its done chunks: `(advertiser,
/// job)` pairs in, `(job, code, count)` rows out. Chunks finished before counts were kept
/// count for nothing here. (`advertiser_id = ANY` as well as the pairs: a sharded
/// cluster prunes shards on the former only; see docs/scaling.md.)
pub async fn counts_by_code(
    conn: &mut PgConnection,
    jobs: &[(AdvertiserId, Uuid)],
) -> sqlx::Result<Vec<(Uuid, i16, i64)>> {
    let (advertisers, ids): (Vec<AdvertiserId>, Vec<Uuid>) = jobs.iter().copied().unzip();
    sqlx::query_as(
        "SELECT c.job_id, k.key::int2, sum(k.value::bigint)::int8 FROM job_chunks c
         CROSS JOIN LATERAL jsonb_each_text(c.code_counts) k
         WHERE c.advertiser_id = ANY($1) AND (c.advertiser_id, c.job_id) IN (SELECT * FROM unnest($1::bigint[], $2::uuid[]))
           AND c.done_at IS NOT NULL
         GROUP BY 1, 2 ORDER BY 1, 2",
    )
    .bind(&advertisers)
    .bind(&ids)
    .fetch_all(conn)
    .await
}

/// A done chunk's outcome document, for the listings.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutcomeDocument {
    pub first_index: i32,
    pub document: String,
}

/// The SQL listing the outcome documents of a job's done chunks by their first index
/// (`$1` advertiser, `$2` job): `errors_only` reads the documents of the failed items.
pub fn outcome_documents_sql(errors_only: bool) -> &'static str {
    if errors_only {
        "SELECT coalesce(first_index, 0) AS first_index, errors AS document FROM job_chunks
         WHERE advertiser_id = $1 AND job_id = $2 AND done_at IS NOT NULL AND errors IS NOT NULL
         ORDER BY first_index, chunk_no"
    } else {
        "SELECT coalesce(first_index, 0) AS first_index, outcomes AS document FROM job_chunks
         WHERE advertiser_id = $1 AND job_id = $2 AND done_at IS NOT NULL AND outcomes IS NOT NULL
         ORDER BY first_index, chunk_no"
    }
}

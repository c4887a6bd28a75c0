//! A job's item outcomes read from its row and its done chunks' documents in one
//! statement (so counts and items are one snapshot, as the whole listings are): one page
//! of them (from an item index on, optionally one code, at most a number of items), or all
//! of them as a stream, for downloads.

use futures::{Stream, StreamExt, TryStreamExt};
use ratify_domain::ids::AdvertiserId;
use ratify_shared::db;
use ratify_shared::db::chunks::OutcomeRow;
use ratify_shared::db::jobs::{JobRow, JobWithDocument};
use uuid::Uuid;

use crate::merge::Merge;

type Connection = sqlx::pool::PoolConnection<sqlx::Postgres>;

/// Which items a page lists.
#[derive(Debug, Clone, Copy)]
pub struct PageQuery {
    /// Only the failed items (`output=errors`), or every item.
    pub errors_only: bool,
    /// Only items with this status code (`404`).
    pub code: Option<i16>,
    /// The lowest item index listed.
    pub start: i32,
    /// At most this many items.
    pub limit: usize,
}

/// A page: the job, its items, and the index the next page starts at (`None` when no
/// item past this page matches now).
pub struct Page {
    pub job: JobRow,
    pub items: Vec<OutcomeRow>,
    pub next: Option<i32>,
}

/// [`db::jobs::with_documents_sql`]'s rows, read on `conn`, which the stream owns.
fn documents(
    mut conn: Connection,
    advertiser_id: AdvertiserId,
    job_id: Uuid,
    errors_only: bool,
) -> impl Stream<Item = Result<JobWithDocument, std::io::Error>> + Send + 'static {
    async_stream::try_stream! {
        let sql = db::jobs::with_documents_sql(errors_only);
        let mut rows = sqlx::query_as::<_, JobWithDocument>(&sql).bind(advertiser_id).bind(job_id).fetch(&mut *conn);
        while let Some(row) = rows.try_next().await.map_err(std::io::Error::other)? {
            yield row;
        }
    }
}

/// The outcomes of `documents` (by first index), merged in index order.
fn merged(
    documents: impl Stream<Item = Result<JobWithDocument, std::io::Error>> + Send,
) -> impl Stream<Item = Result<OutcomeRow, std::io::Error>> + Send {
    async_stream::try_stream! {
        let mut documents = std::pin::pin!(documents.peekable());
        let mut merge = Merge::default();
        loop {
            // Open every document the next outcome may come from, then take it.
            while let Some(next) = documents.as_mut().peek().await {
                let first_index = next.as_ref().map_or(i32::MIN, |r| r.first_index.unwrap_or(0));
                if !merge.needs(first_index) {
                    break;
                }
                if let Some(JobWithDocument { document: Some(document), .. }) = documents.try_next().await? {
                    merge.open(&document)?;
                }
            }
            let Some(row) = merge.take() else { break };
            yield row;
        }
    }
}

/// The page `query` names of a job, or `None` when the job does not exist.
pub async fn read(
    conn: Connection,
    advertiser_id: AdvertiserId,
    job_id: Uuid,
    query: PageQuery,
) -> Result<Option<Page>, std::io::Error> {
    let mut documents = Box::pin(documents(conn, advertiser_id, job_id, query.errors_only).peekable());
    let job = match documents.as_mut().peek().await {
        None => return Ok(None),
        Some(Err(e)) => return Err(std::io::Error::other(e.to_string())),
        Some(Ok(first)) => first.job.clone(),
    };
    let matching = merged(documents).try_filter(|row| {
        std::future::ready(row.item_index >= query.start && query.code.is_none_or(|c| c == row.code))
    });
    let mut matching = std::pin::pin!(matching);
    let mut items = Vec::with_capacity(query.limit.min(1_000));
    while let Some(row) = matching.try_next().await? {
        if items.len() == query.limit {
            return Ok(Some(Page { job, items, next: Some(row.item_index) }));
        }
        items.push(row);
    }
    Ok(Some(Page { job, items, next: None }))
}

/// Every outcome of a job as it stands now (the failed ones with `errors_only`), in index
/// order, on `conn`: for downloads, which stream whatever the job's size. A job that does
/// not exist has none.
pub fn rows(
    conn: Connection,
    advertiser_id: AdvertiserId,
    job_id: Uuid,
    errors_only: bool,
) -> impl Stream<Item = Result<OutcomeRow, std::io::Error>> + Send + 'static {
    merged(documents(conn, advertiser_id, job_id, errors_only))
}

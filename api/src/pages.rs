//! One page of a job's item outcomes: from an item index on, optionally only one code,
//! at most a number of items. Read from the job's row and its done chunks' documents in
//! one statement, so a page's counts and items are one snapshot, as the whole listings
//! are.

use futures::{StreamExt, TryStreamExt};
use ratify_domain::ids::AdvertiserId;
use ratify_shared::db;
use ratify_shared::db::chunks::OutcomeRow;
use ratify_shared::db::jobs::{JobRow, JobWithDocument};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::merge::Merge;

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

/// The page `query` names of a job, or `None` when the job does not exist.
pub async fn read(
    conn: &mut PgConnection,
    advertiser_id: AdvertiserId,
    job_id: Uuid,
    query: PageQuery,
) -> Result<Option<Page>, std::io::Error> {
    let sql = db::jobs::with_documents_sql(query.errors_only);
    let rows = sqlx::query_as::<_, JobWithDocument>(&sql).bind(advertiser_id).bind(job_id).fetch(&mut *conn);
    let mut rows = std::pin::pin!(rows.map_err(std::io::Error::other).peekable());
    let Some(first) = rows.as_mut().peek().await else {
        return Ok(None);
    };
    let job = first.as_ref().map_err(|e| std::io::Error::other(e.to_string()))?.job.clone();
    let mut merge = Merge::default();
    let mut items = Vec::with_capacity(query.limit.min(1_000));
    loop {
        // Open every document the next outcome may come from, then take it.
        while let Some(next) = rows.as_mut().peek().await {
            let first_index = next.as_ref().map_or(i32::MIN, |r| r.first_index.unwrap_or(0));
            if !merge.needs(first_index) {
                break;
            }
            if let Some(JobWithDocument { document: Some(document), .. }) = rows.try_next().await? {
                merge.open(&document)?;
            }
        }
        let Some(row) = merge.take() else { break };
        if row.item_index < query.start || query.code.is_some_and(|c| c != row.code) {
            continue;
        }
        if items.len() == query.limit {
            return Ok(Some(Page { job, items, next: Some(row.item_index) }));
        }
        items.push(row);
    }
    Ok(Some(Page { job, items, next: None }))
}

//! Cancelling a job: the chunks not applied yet end, every item `[409 CANCELLED]`; the
//! chunks already applied keep their outcomes; the job is `DONE`, marked cancelled.
//!
//! One Postgres transaction locks the job's row and then every chunk not done, in chunk
//! order, waiting for the ones workers are applying right now (those commit first and
//! keep their outcomes). Once it commits, no chunk of the job is left to apply: a worker
//! that receives one afterwards finds it done. Every item so has exactly one outcome,
//! whichever of a cancel and a worker gets to a chunk first.

use std::collections::BTreeMap;

use crate::db;
use crate::db::chunks::OutcomeRows;
use ratify_domain::batch::Echo;
use ratify_domain::ids::AdvertiserId;
use ratify_domain::job::{JobItem, JobState, OutcomeCode};
use sqlx::PgPool;
use uuid::Uuid;

use super::push_outcome;

const CANCELLED: &str = "the job was cancelled before this item was applied";

/// What a cancel did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cancel {
    /// No such job for the advertiser.
    NoSuchJob,
    /// Every chunk was already applied: nothing to cancel, and the job is not marked.
    AlreadyDone,
    /// Cancelled now (`chunks` ended cancelled), or by an earlier request (`0`).
    Cancelled { chunks: usize, items: u64 },
}

/// Just the index of an item, for a chunk whose items do not decode in full.
#[derive(serde::Deserialize)]
struct Indexed {
    index: i32,
}

/// Every item of a chunk `[409 CANCELLED]`, echoed as far as its items can be read.
fn cancelled(items: &str) -> anyhow::Result<OutcomeRows> {
    let mut outcomes = OutcomeRows::default();
    let description = || Some(CANCELLED.to_owned());
    match serde_json::from_str::<Vec<JobItem>>(items) {
        Ok(items) => {
            for item in &items {
                push_outcome(
                    &mut outcomes,
                    item.index,
                    &item.echo,
                    OutcomeCode::Cancelled,
                    description(),
                    item.target(),
                );
            }
        }
        Err(_) => {
            for item in serde_json::from_str::<Vec<Indexed>>(items)? {
                push_outcome(&mut outcomes, item.index, &Echo::default(), OutcomeCode::Cancelled, description(), None);
            }
        }
    }
    Ok(outcomes)
}

/// Cancels a job of `advertiser_id` (see the module's notes). Idempotent: cancelling a
/// cancelled job changes nothing.
pub async fn cancel_job(pool: &PgPool, advertiser_id: AdvertiserId, job_id: Uuid) -> anyhow::Result<Cancel> {
    let mut tx = pool.begin().await?;
    let Some(job) = db::job_marks::lock(&mut tx, advertiser_id, job_id).await? else {
        return Ok(Cancel::NoSuchJob);
    };
    if job.cancelled {
        return Ok(Cancel::Cancelled { chunks: 0, items: 0 });
    }
    let undone = db::chunks::lock_undone(&mut tx, advertiser_id, job_id).await?;
    if undone.is_empty() || job.status == JobState::Done {
        return Ok(Cancel::AlreadyDone);
    }
    db::job_marks::mark_cancelled(&mut tx, advertiser_id, job_id).await?;
    let mut codes: BTreeMap<i16, u64> = BTreeMap::new();
    for &chunk_no in &undone {
        let items = db::chunks::items(&mut tx, advertiser_id, job_id, chunk_no).await?;
        let outcomes = cancelled(&items)?;
        for (code, n) in outcomes.by_code() {
            *codes.entry(code).or_default() += n;
        }
        db::chunks::finish(&mut tx, advertiser_id, job_id, chunk_no, &outcomes.documents()?).await?;
    }
    tx.commit().await?;
    // As after a worker's last chunk; should it fail, the job still reads DONE and the
    // relay's sweep writes its row.
    let mut conn = pool.acquire().await?;
    if let Err(e) = db::chunks::finish_job(&mut conn, advertiser_id, job_id).await {
        tracing::warn!(%job_id, error = %e, "writing the cancelled job's row failed; the sweep will");
    }
    let items = codes.values().sum();
    tracing::info!(%job_id, chunks = undone.len(), items, "job cancelled");
    Ok(Cancel::Cancelled { chunks: undone.len(), items })
}

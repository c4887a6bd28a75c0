//! Giving up on a chunk RabbitMQ dead-lettered (it kept failing, or kept killing the
//! workers that held it). Nothing is applied: items that were to be applied end `[500]`,
//! outcomes decided at submit keep their codes, and the job still finishes. Each step
//! has a fallback that depends less on the chunk's content, down to one that needs
//! nothing of it, so a dead chunk always ends.

use std::collections::BTreeMap;

use crate::db;
use crate::db::chunks::{Documents, OutcomeRows};
use ratify_domain::batch::Echo;
use ratify_domain::job::{JobItem, OutcomeCode, Plan};
use sqlx::PgPool;

use super::isolate::{in_savepoint, without_echo};
use super::{complete, finish_and_commit, lock, push_outcome, release_and_commit, ChunkId, ChunkResult};

const GAVE_UP: &str = "processing this item kept failing and was given up; it was not applied";

/// Just the index of an item, for a chunk whose items no longer decode in full.
#[derive(serde::Deserialize)]
struct Indexed {
    index: i32,
}

/// The outcomes of a given-up chunk, from as much of its items as can be read.
fn outcomes_of(items: &str) -> Option<OutcomeRows> {
    let mut outcomes = OutcomeRows::default();
    if let Ok(items) = serde_json::from_str::<Vec<JobItem>>(items) {
        for item in &items {
            match &item.plan {
                Plan::Reject { code, description } => {
                    push_outcome(&mut outcomes, item.index, &item.echo, *code, Some(description.clone()), None)
                }
                Plan::Apply { transaction_id, .. } => {
                    let (code, description) = (OutcomeCode::Internal, Some(GAVE_UP.to_owned()));
                    push_outcome(&mut outcomes, item.index, &item.echo, code, description, Some(*transaction_id))
                }
            }
        }
        return Some(outcomes);
    }
    let items: Vec<Indexed> = serde_json::from_str(items).ok()?;
    for item in items {
        let description = Some(GAVE_UP.to_owned());
        push_outcome(&mut outcomes, item.index, &Echo::default(), OutcomeCode::Internal, description, None);
    }
    Some(outcomes)
}

/// Gives up on a chunk: records its outcomes without applying anything, marks it done
/// and counts it in its job. Idempotent like [`super::apply_chunk`].
pub async fn give_up_chunk(pool: &PgPool, id: ChunkId) -> anyhow::Result<ChunkResult> {
    let (mut tx, chunk) = match lock(pool, id).await? {
        Ok(locked) => locked,
        Err(result) => return Ok(result),
    };
    let Some(outcomes) = outcomes_of(&chunk.items) else {
        // Nothing of the items can be read: the job still finishes, its items of this
        // chunk counted as failed, with no outcome to list.
        tracing::error!(items = chunk.item_count, "a dead chunk's items cannot be read; finishing it without outcomes");
        let items = chunk.item_count.max(0);
        let codes = BTreeMap::from([(500, items as u64)]);
        return finish_and_commit(pool, tx, id, Documents::failed_unlisted(items), codes).await;
    };
    let documents = outcomes.documents()?;
    let written = in_savepoint(&mut tx, async |conn| {
        Ok(db::chunks::finish(conn, id.advertiser_id, id.job_id, id.chunk_no, &documents).await?)
    })
    .await?;
    match written {
        Ok(true) => release_and_commit(pool, tx, id, outcomes.by_code()).await,
        // Cannot happen while the chunk's row lock is held.
        Ok(false) => Ok(ChunkResult::AlreadyDone),
        Err(e) => {
            tracing::warn!(
                error = format!("{e:#}"),
                "a dead chunk's outcomes were refused; recording them without echo"
            );
            complete(pool, tx, id, &without_echo(&outcomes)).await
        }
    }
}

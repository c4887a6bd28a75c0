//! Giving up on a chunk RabbitMQ dead-lettered (it kept failing, or kept killing the
//! workers that held it). Nothing is applied: items that were to be applied end `[500]`,
//! outcomes decided at submit keep their codes, and the job still finishes. Each step
//! has a fallback that depends less on the chunk's content, down to one that needs
//! nothing of it, so a dead chunk always ends.

use std::collections::BTreeMap;

use ratify_domain::batch::Echo;
use ratify_domain::job::{JobItem, OutcomeCode, Plan};
use ratify_shared::db;
use ratify_shared::db::chunks::OutcomeRows;
use sqlx::PgPool;

use super::isolate::{in_savepoint, without_echo};
use super::{count_and_commit, lock, push_outcome, ChunkId, ChunkResult, Counts};

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
        let counts = Counts { items: items as usize, errors: items, codes: BTreeMap::from([(500, items as u64)]) };
        return count_and_commit(tx, id, counts).await;
    };
    let written = in_savepoint(&mut tx, async |conn| {
        db::chunks::insert_outcomes(conn, id.advertiser_id, id.job_id, &outcomes).await?;
        Ok(())
    })
    .await?;
    if let Err(e) = written {
        tracing::warn!(error = format!("{e:#}"), "a dead chunk's outcomes were refused; recording them without echo");
        let bare = without_echo(&outcomes);
        db::chunks::insert_outcomes(&mut tx, id.advertiser_id, id.job_id, &bare).await?;
    }
    count_and_commit(tx, id, (&outcomes).into()).await
}

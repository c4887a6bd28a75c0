//! The careful path for a chunk that failed once: the same items in the same order, but
//! each change written in a savepoint of its own, so that an item whose own write fails
//! (something in its content that Postgres refuses, a trigger, a constraint) ends
//! `[500]` and leaves the transaction as it was before it, while every other item is
//! applied as usual. One statement per change instead of one per chunk: this path runs
//! only after a failure.

use crate::db;
use crate::db::chunks::OutcomeRows;
use crate::db::history::HistoryRows;
use crate::db::transactions::StateUpdates;
use chrono::Utc;
use ratify_domain::apply::apply;
use ratify_domain::batch::{Command, Echo};
use ratify_domain::job::{OutcomeCode, Plan};
use sqlx::{PgConnection, PgPool};

use super::{
    complete, history_action, load, not_found, push_outcome, release_and_commit, ChunkId, ChunkResult, Conflict, Loaded,
};

const BARE: &str = "this outcome's description and echo could not be stored; its code stands";
const UNREADABLE: &str = "this item's transaction has a stored state that cannot be read; it was not applied";
const ITEM_FAILED: &str = "this item could not be stored and was not applied; the other items were";

/// Runs `statements` inside a savepoint: kept when they succeed, rolled back when they
/// fail for a reason of their own. An error that is no fault of the item (Postgres away,
/// a conflict) fails the whole chunk, to be retried.
pub(super) async fn in_savepoint<T>(
    tx: &mut PgConnection,
    statements: impl AsyncFnOnce(&mut PgConnection) -> anyhow::Result<T>,
) -> anyhow::Result<Result<T, anyhow::Error>> {
    sqlx::query("SAVEPOINT item").execute(&mut *tx).await?;
    match statements(&mut *tx).await {
        Ok(value) => {
            sqlx::query("RELEASE SAVEPOINT item").execute(&mut *tx).await?;
            Ok(Ok(value))
        }
        Err(e) if e.is::<Conflict>() || e.downcast_ref::<sqlx::Error>().is_some_and(db::is_transient) => Err(e),
        Err(e) => {
            sqlx::query("ROLLBACK TO SAVEPOINT item").execute(&mut *tx).await?;
            Ok(Err(e))
        }
    }
}

/// Applies a chunk item by item, isolating any item whose write fails.
pub async fn apply_chunk_isolating(pool: &PgPool, id: ChunkId) -> anyhow::Result<ChunkResult> {
    let (mut tx, Loaded { items, mut states, corrupt, rates, dry_run, auto_approve }) = match load(pool, id).await? {
        Ok(loaded) => loaded,
        Err(result) => return Ok(result),
    };
    let now = Utc::now();
    let mut outcomes = OutcomeRows::default();
    // The chunk's changes go to one history document, written at the end; each update
    // names it. Its id is taken at the first change.
    let mut history = HistoryRows::default();
    let mut history_id = None;
    for item in &items {
        let (transaction_id, command) = match &item.plan {
            Plan::Reject { code, description } => {
                push_outcome(&mut outcomes, item.index, &item.echo, *code, Some(description.clone()), None);
                continue;
            }
            Plan::Apply { transaction_id, command } => (*transaction_id, command),
        };
        if let Some(e) = corrupt.get(&transaction_id) {
            tracing::error!(item = item.index, error = %e, "item's transaction unreadable; isolated");
            let (code, description) = (OutcomeCode::Internal, Some(UNREADABLE.to_owned()));
            push_outcome(&mut outcomes, item.index, &item.echo, code, description, Some(transaction_id));
            continue;
        }
        let Some((state, version)) = states.get_mut(&transaction_id) else {
            let description = Some(not_found(transaction_id));
            push_outcome(&mut outcomes, item.index, &item.echo, OutcomeCode::NotFound, description, None);
            continue;
        };
        let mut next = state.clone();
        let applied = apply(&mut next, command, &rates, now);
        let change = match applied.change {
            // A dry run writes nothing: the item's outcome is what it would be.
            Some(_) if dry_run => None,
            change => change,
        };
        let Some(change) = change else {
            *state = next;
            let tid = Some(transaction_id);
            push_outcome(&mut outcomes, item.index, &item.echo, applied.code, applied.description, tid);
            continue;
        };
        let mut update = StateUpdates::default();
        update.push(&next, version.clone(), matches!(command, Command::Amend { .. }))?;
        let document = match history_id {
            Some(document) => document,
            None => *history_id.insert(db::history::next_id(&mut tx).await?),
        };
        let written = in_savepoint(&mut tx, async |conn| {
            let mut written = db::transactions::update_states(conn, id.advertiser_id, &update, document).await?;
            let Some((_, new_version)) = written.pop() else { return Err(Conflict.into()) };
            Ok(new_version)
        })
        .await?;
        match written {
            Ok(new_version) => {
                *state = next;
                *version = new_version;
                history.push(transaction_id, item.index, history_action(auto_approve, command), change);
                let tid = Some(transaction_id);
                push_outcome(&mut outcomes, item.index, &item.echo, applied.code, applied.description, tid);
            }
            Err(e) => {
                tracing::warn!(item = item.index, transaction_id, error = format!("{e:#}"), "item failed; isolated");
                let description = Some(ITEM_FAILED.to_owned());
                let tid = Some(transaction_id);
                push_outcome(&mut outcomes, item.index, &item.echo, OutcomeCode::Internal, description, tid);
            }
        }
    }
    if let Some(document) = history_id {
        db::history::insert(&mut tx, id.advertiser_id, document, id.job_id, id.chunk_no, &history).await?;
    }
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
            // An outcome Postgres refuses: keep the codes, drop what was echoed.
            tracing::warn!(error = format!("{e:#}"), "the chunk's outcomes were refused; recording them without echo");
            complete(pool, tx, id, &without_echo(&outcomes)).await
        }
    }
}

/// The outcomes with nothing of the items' own text: only what Ratify wrote.
pub(super) fn without_echo(outcomes: &OutcomeRows) -> OutcomeRows {
    let mut bare = OutcomeRows::default();
    for row in &outcomes.rows {
        let code = OutcomeCode::from_status(row.code).unwrap_or(OutcomeCode::Internal);
        let echo = Echo { transaction_id: row.transaction_id, ..Echo::default() };
        let description = (code != OutcomeCode::Ok).then(|| BARE.to_owned());
        push_outcome(&mut bare, row.item_index, &echo, code, description, None);
    }
    bare
}

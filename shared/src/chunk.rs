//! Applying one chunk: load, apply item by item in index order, store, all in one
//! Postgres transaction. The chunk row lock, and marking it done only if it is not,
//! make a second delivery of the same chunk a no-op.
//!
//! Three ways to finish a chunk, from fast to sure:
//! - [`apply_chunk`], the hot path: every write of the chunk in one statement each;
//! - [`apply_chunk_isolating`] (`isolate`), after the chunk failed once: each change in
//!   a savepoint of its own, so an item whose own write keeps failing ends `[500]` and
//!   every other item is applied as usual;
//! - [`give_up_chunk`] (`give_up`), for a chunk RabbitMQ dead-lettered: items that
//!   were to be applied end `[500]`, outcomes decided at submit keep their codes, and a
//!   last resort records what no item's content can break.
//!
//! And one way to end a job early: [`cancel_job`] (`cancel`).

mod cancel;
mod give_up;
mod isolate;
pub mod slots;

use ratify_domain::ids::AdvertiserId;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::db;
use crate::db::chunks::{Documents, OutcomeRow, OutcomeRows};
use crate::db::history::HistoryRows;
use crate::db::transactions::{CorruptState, StateUpdates};
use anyhow::Context;
use chrono::Utc;
use ratify_domain::apply::{apply, TransactionState};
use ratify_domain::batch::{Command, Echo};
use ratify_domain::commission::Rate;
use ratify_domain::job::{JobItem, OutcomeCode, Plan};
use ratify_domain::state::HistoryAction;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

pub use cancel::{cancel_job, Cancel};
pub use give_up::give_up_chunk;
pub use isolate::apply_chunk_isolating;

/// Another transaction changed one of the chunk's transactions between our read and our
/// update. Nothing was written; applying the chunk again reads the new state.
#[derive(Debug, thiserror::Error)]
#[error("a transaction of the chunk changed concurrently; the chunk will be applied again")]
pub struct Conflict;

/// Whether an error is no fault of the chunk: Postgres is away, or another transaction
/// changed one of its transactions first (a conflict, or a deadlock Postgres broke).
/// Applying it again later can succeed.
pub fn not_the_chunks_fault(error: &anyhow::Error) -> bool {
    error.is::<Conflict>() || error.downcast_ref::<sqlx::Error>().is_some_and(db::is_transient)
}

/// What happened to a chunk.
#[derive(Debug, Clone, PartialEq)]
pub enum ChunkResult {
    /// Applied: items by outcome code, and the job's latency if this chunk finished it.
    /// `released` are the chunks that continue this one, to publish now.
    Applied { items: usize, codes: BTreeMap<i16, u64>, job_latency: Option<f64>, released: Vec<i32> },
    /// An earlier delivery already applied it.
    AlreadyDone,
    /// It continues a chunk that is not done yet: it was put back to waiting, and the
    /// worker that finishes that chunk publishes it.
    Waiting,
    /// No such chunk (its job was purged): nothing to do.
    Missing,
}

/// The chunk a task names.
#[derive(Debug, Clone, Copy)]
pub struct ChunkId {
    pub advertiser_id: AdvertiserId,
    pub job_id: Uuid,
    pub chunk_no: i32,
}

fn push_outcome(
    rows: &mut OutcomeRows,
    index: i32,
    echo: &Echo,
    code: OutcomeCode,
    description: Option<String>,
    id: Option<i64>,
) {
    rows.push(OutcomeRow {
        item_index: index,
        code: code.status(),
        description,
        action: echo.action.clone(),
        transaction_id: id.or(echo.transaction_id),
        order_ref: echo.order_ref.clone(),
        transaction_date: echo.transaction_date.clone(),
        timezone: echo.timezone.clone(),
    });
}

fn not_found(transaction_id: i64) -> String {
    format!("transaction {transaction_id} does not exist for this advertiser")
}

/// A locked chunk with everything its items apply to, read in the chunk's transaction.
struct Loaded {
    items: Vec<JobItem>,
    /// The chunk's transactions that exist, with the version each was read at.
    states: HashMap<i64, (TransactionState, String)>,
    /// The chunk's transactions whose stored state cannot be read.
    corrupt: HashMap<i64, CorruptState>,
    rates: HashMap<String, Rate>,
    /// The job is a dry run: compute the outcomes, write no transaction and no history.
    dry_run: bool,
    /// The job is the scheduler's auto-approval.
    auto_approve: bool,
}

/// What the history records for an item's command, in an auto-approval job or not.
fn history_action(auto_approve: bool, command: &Command) -> HistoryAction {
    match command {
        Command::Approve if auto_approve => HistoryAction::AutoApprove,
        command => command.kind().into(),
    }
}

/// A chunk's Postgres transaction, with the chunk row locked for the rest of it.
type Locked = (Transaction<'static, Postgres>, db::chunks::LockedChunk);

/// Begins the chunk's transaction and locks its row, unless the chunk is gone, already
/// applied, or continues a chunk not done yet (it is then put back to waiting). Those
/// ends are committed here and returned as the result to acknowledge.
async fn lock(pool: &PgPool, id: ChunkId) -> anyhow::Result<Result<Locked, ChunkResult>> {
    let ChunkId { advertiser_id, job_id, chunk_no } = id;
    let mut tx = pool.begin().await?;
    let result = match db::chunks::lock(&mut tx, advertiser_id, job_id, chunk_no).await? {
        None => ChunkResult::Missing,
        Some(chunk) if chunk.done => ChunkResult::AlreadyDone,
        Some(chunk) => match chunk.after_chunk {
            Some(after) if !db::chunks::is_done(&mut tx, advertiser_id, job_id, after).await? => {
                db::chunks::wait_again(&mut tx, advertiser_id, job_id, chunk_no).await?;
                ChunkResult::Waiting
            }
            _ => {
                // Small jobs never wait for a slot: they are what the express lane is for.
                if chunk.chunk_count > 1 {
                    slots::take(&mut tx).await?;
                }
                return Ok(Ok((tx, chunk)));
            }
        },
    };
    tx.commit().await?;
    Ok(Err(result))
}

/// Locks the chunk (see [`lock`]), decodes its items and reads the state of their
/// transactions.
async fn load(
    pool: &PgPool,
    id: ChunkId,
) -> anyhow::Result<Result<(Transaction<'static, Postgres>, Loaded), ChunkResult>> {
    let (mut tx, chunk) = match lock(pool, id).await? {
        Ok(locked) => locked,
        Err(result) => return Ok(Err(result)),
    };
    let items: Vec<JobItem> = serde_json::from_str(&chunk.items).context("decoding the chunk's items")?;
    let targets: BTreeSet<i64> = items.iter().filter_map(JobItem::target).collect();
    let targets: Vec<i64> = targets.into_iter().collect();
    let mut states = HashMap::with_capacity(targets.len());
    let mut corrupt = HashMap::new();
    for row in db::transactions::read_states(&mut tx, id.advertiser_id, &targets).await? {
        match row.into_state() {
            Ok((state, version)) => {
                states.insert(state.id, (state, version));
            }
            Err(e) => {
                corrupt.insert(e.id, e);
            }
        }
    }
    let needs_rates = items.iter().any(|i| matches!(&i.plan, Plan::Apply { command: Command::Amend { .. }, .. }));
    let rates = match states.values().next() {
        Some((state, _)) if needs_rates => {
            db::advertisers::rates(&mut tx, id.advertiser_id, state.currency.exponent()).await?
        }
        _ => HashMap::new(),
    };
    Ok(Ok((tx, Loaded { items, states, corrupt, rates, dry_run: chunk.dry_run, auto_approve: chunk.auto_approve })))
}

/// Records the chunk's outcomes, marks it done and commits (see [`finish_and_commit`]).
async fn complete(
    pool: &PgPool,
    tx: Transaction<'_, Postgres>,
    id: ChunkId,
    outcomes: &OutcomeRows,
) -> anyhow::Result<ChunkResult> {
    finish_and_commit(pool, tx, id, outcomes.documents()?, outcomes.by_code()).await
}

/// Marks the chunk done with its outcome documents, then [`release_and_commit`].
async fn finish_and_commit(
    pool: &PgPool,
    mut tx: Transaction<'_, Postgres>,
    id: ChunkId,
    documents: Documents,
    codes: BTreeMap<i16, u64>,
) -> anyhow::Result<ChunkResult> {
    if !db::chunks::finish(&mut tx, id.advertiser_id, id.job_id, id.chunk_no, &documents).await? {
        // Cannot happen while the chunk's row lock is held; a second finish is refused.
        return Ok(ChunkResult::AlreadyDone);
    }
    release_and_commit(pool, tx, id, codes).await
}

/// With the chunk marked done: releases the chunks that continue it and commits; then, if
/// it was its job's last, writes the job's row as `DONE`.
async fn release_and_commit(
    pool: &PgPool,
    mut tx: Transaction<'_, Postgres>,
    id: ChunkId,
    codes: BTreeMap<i16, u64>,
) -> anyhow::Result<ChunkResult> {
    let ChunkId { advertiser_id, job_id, chunk_no } = id;
    let released = db::chunks::release_continuations(&mut tx, advertiser_id, job_id, chunk_no).await?;
    tx.commit().await?;
    let items = codes.values().sum::<u64>() as usize;
    // The chunk is applied whatever happens next: should writing the job's row fail, the
    // job still reads DONE (its status is derived from its chunks) and the relay's sweep
    // writes the row.
    let job_latency = match finish_job(pool, id).await {
        Ok(latency) => latency,
        Err(e) => {
            tracing::warn!(error = format!("{e:#}"), "writing the finished job's row failed; the sweep will");
            None
        }
    };
    Ok(ChunkResult::Applied { items, codes, job_latency, released })
}

async fn finish_job(pool: &PgPool, id: ChunkId) -> sqlx::Result<Option<f64>> {
    let mut conn = pool.acquire().await?;
    db::chunks::finish_job(&mut conn, id.advertiser_id, id.job_id).await
}

/// The hot path: the chunk's items applied in memory, then one statement each for the
/// new states, the history and the outcomes.
pub async fn apply_chunk(pool: &PgPool, id: ChunkId) -> anyhow::Result<ChunkResult> {
    let (mut tx, Loaded { items, mut states, corrupt, rates, dry_run, auto_approve }) = match load(pool, id).await? {
        Ok(loaded) => loaded,
        Err(result) => return Ok(result),
    };
    if let Some(e) = corrupt.into_values().next() {
        // Failing the chunk sends it down the careful path, which fails only its items.
        return Err(e.into());
    }
    let now = Utc::now();
    let mut outcomes = OutcomeRows::default();
    let mut history = HistoryRows::default();
    let mut changed = BTreeSet::new();
    let mut amended = BTreeSet::new();
    for item in &items {
        match &item.plan {
            Plan::Reject { code, description } => {
                push_outcome(&mut outcomes, item.index, &item.echo, *code, Some(description.clone()), None)
            }
            Plan::Apply { transaction_id, command } => match states.get_mut(transaction_id) {
                None => push_outcome(
                    &mut outcomes,
                    item.index,
                    &item.echo,
                    OutcomeCode::NotFound,
                    Some(not_found(*transaction_id)),
                    None,
                ),
                Some((state, _)) => {
                    let applied = apply(state, command, &rates, now);
                    if let Some(change) = applied.change {
                        history.push(*transaction_id, item.index, history_action(auto_approve, command), change);
                        changed.insert(*transaction_id);
                        if matches!(command, Command::Amend { .. }) {
                            amended.insert(*transaction_id);
                        }
                    }
                    let id = Some(*transaction_id);
                    push_outcome(&mut outcomes, item.index, &item.echo, applied.code, applied.description, id);
                }
            },
        }
    }

    let mut updates = StateUpdates::default();
    for id in &changed {
        let Some((state, version)) = states.get(id) else { continue };
        updates.push(state, version.clone(), amended.contains(id))?;
    }
    // The arrays are in id order (`changed` is a BTreeSet), so concurrent chunks tend to
    // meet rows in the same order; a deadlock Postgres breaks is retried like a conflict.
    // A dry run's items saw each other's changes in memory; none of them is stored.
    if !history.is_empty() && !dry_run {
        let history_id = db::history::next_id(&mut tx).await?;
        let written = db::transactions::update_states(&mut tx, id.advertiser_id, &updates, history_id).await?;
        if written.len() != updates.ids.len() {
            return Err(Conflict.into());
        }
        db::history::insert(&mut tx, id.advertiser_id, history_id, id.job_id, id.chunk_no, &history).await?;
    }
    complete(pool, tx, id, &outcomes).await
}

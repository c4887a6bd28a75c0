//! Applying one chunk: load, apply item by item in index order, store, all in one
//! Postgres transaction. The chunk row lock and the outcome primary key make a second
//! delivery of the same chunk a no-op.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::Context;
use chrono::Utc;
use ratify_shared::apply::{apply, TransactionState};
use ratify_shared::batch::{Command, Echo};
use ratify_shared::commission::Part;
use ratify_shared::db;
use ratify_shared::db::chunks::OutcomeRows;
use ratify_shared::db::transactions::{HistoryRows, StateRow, StateUpdates};
use ratify_shared::job::{JobItem, OutcomeCode, Plan};
use ratify_shared::state::Status;
use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use uuid::Uuid;

/// Another transaction changed one of the chunk's transactions between our read and our
/// update. Nothing was written; applying the chunk again reads the new state.
#[derive(Debug, thiserror::Error)]
#[error("a transaction of the chunk changed concurrently; the chunk will be applied again")]
pub struct Conflict;

/// What happened to a chunk.
#[derive(Debug, Clone, PartialEq)]
pub enum ChunkResult {
    /// Applied: items by outcome code, and the job's latency if this chunk finished it.
    Applied { items: usize, codes: BTreeMap<i16, u64>, job_latency: Option<f64> },
    /// An earlier delivery already applied it.
    AlreadyDone,
    /// No such chunk (its job was purged): nothing to do.
    Missing,
}

/// The chunk a task names.
#[derive(Debug, Clone, Copy)]
pub struct ChunkId {
    pub advertiser_id: i64,
    pub job_id: Uuid,
    pub chunk_no: i32,
}

fn to_state(row: StateRow) -> anyhow::Result<TransactionState> {
    Ok(TransactionState {
        id: row.id,
        status: Status::parse(&row.commission_status).context("stored commission status")?,
        currency: row.currency.parse().context("stored currency")?,
        sale_amount: row.sale_amount,
        commission_amount: row.commission_amount,
        parts: row.parts.0,
        decline_reason: row.decline_reason,
        amended: row.amended,
        amend_reason: row.amend_reason,
        old_sale_amount: row.old_sale_amount,
        old_commission_amount: row.old_commission_amount,
        validation_date: row.validation_date,
    })
}

fn push_outcome(
    rows: &mut OutcomeRows,
    index: i32,
    echo: &Echo,
    code: OutcomeCode,
    description: Option<String>,
    id: Option<i64>,
) {
    rows.indexes.push(index);
    rows.codes.push(code.status());
    rows.descriptions.push(description);
    rows.actions.push(echo.action.clone());
    rows.transaction_ids.push(id.or(echo.transaction_id));
    rows.order_refs.push(echo.order_ref.clone());
    rows.transaction_dates.push(echo.transaction_date.clone());
    rows.timezones.push(echo.timezone.clone());
}

fn parts_json(parts: &[Part]) -> anyhow::Result<String> {
    serde_json::to_string(parts).context("serializing parts")
}

/// A locked chunk's items, or why there is nothing to do.
enum Pending {
    Items(Vec<JobItem>),
    Nothing(ChunkResult),
}

/// Locks the chunk row for the rest of `tx` and decodes its items, unless the chunk is
/// gone or already applied.
async fn lock_pending(tx: &mut PgConnection, id: ChunkId) -> anyhow::Result<Pending> {
    let Some(chunk) = db::chunks::lock(tx, id.advertiser_id, id.job_id, id.chunk_no).await? else {
        return Ok(Pending::Nothing(ChunkResult::Missing));
    };
    if chunk.done {
        return Ok(Pending::Nothing(ChunkResult::AlreadyDone));
    }
    let items = serde_json::from_str(&chunk.items).context("decoding the chunk's items")?;
    Ok(Pending::Items(items))
}

/// Records the chunk's outcomes, marks it done, counts it in its job and commits.
async fn complete(
    mut tx: Transaction<'_, Postgres>,
    id: ChunkId,
    outcomes: &OutcomeRows,
) -> anyhow::Result<ChunkResult> {
    let ChunkId { advertiser_id, job_id, chunk_no } = id;
    let items = outcomes.indexes.len();
    db::chunks::insert_outcomes(&mut tx, advertiser_id, job_id, outcomes).await?;
    db::chunks::finish(&mut tx, advertiser_id, job_id, chunk_no).await?;
    let job_latency = db::chunks::add_progress(&mut tx, advertiser_id, job_id, items as i32, outcomes.errors()).await?;
    tx.commit().await?;
    Ok(ChunkResult::Applied { items, codes: outcomes.by_code(), job_latency })
}

pub async fn apply_chunk(pool: &PgPool, id: ChunkId) -> anyhow::Result<ChunkResult> {
    let ChunkId { advertiser_id, job_id, .. } = id;
    let mut tx = pool.begin().await?;
    let items = match lock_pending(&mut tx, id).await? {
        Pending::Items(items) => items,
        Pending::Nothing(result) => return Ok(result),
    };
    let targets: BTreeSet<i64> = items.iter().filter_map(JobItem::target).collect();
    let targets: Vec<i64> = targets.into_iter().collect();
    let mut states: HashMap<i64, TransactionState> = HashMap::with_capacity(targets.len());
    let mut versions: HashMap<i64, String> = HashMap::with_capacity(targets.len());
    for mut row in db::transactions::read_states(&mut tx, advertiser_id, &targets).await? {
        versions.insert(row.id, std::mem::take(&mut row.version));
        states.insert(row.id, to_state(row)?);
    }
    let needs_rates = items.iter().any(|i| matches!(&i.plan, Plan::Apply { command: Command::Amend { .. }, .. }));
    let rates = match states.values().next() {
        Some(state) if needs_rates => db::advertisers::rates(&mut tx, advertiser_id, state.currency.exponent()).await?,
        _ => HashMap::new(),
    };

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
                    Some(format!("transaction {transaction_id} does not exist for this advertiser")),
                    None,
                ),
                Some(state) => {
                    let applied = apply(state, command, &rates, now);
                    if let Some(change) = applied.change {
                        history.transaction_ids.push(*transaction_id);
                        history.item_indexes.push(item.index);
                        history.actions.push(command.kind().as_str().to_owned());
                        history.befores.push(change.before);
                        history.afters.push(change.after);
                        changed.insert(*transaction_id);
                        if matches!(command, Command::Amend { .. }) {
                            amended.insert(*transaction_id);
                        }
                    }
                    push_outcome(
                        &mut outcomes,
                        item.index,
                        &item.echo,
                        applied.code,
                        applied.description,
                        Some(*transaction_id),
                    );
                }
            },
        }
    }

    let mut updates = StateUpdates::default();
    for id in &changed {
        let (Some(s), Some(version)) = (states.get(id), versions.get(id)) else { continue };
        updates.ids.push(s.id);
        updates.versions.push(version.clone());
        updates.statuses.push(s.status.as_str().to_owned());
        updates.sale_amounts.push(s.sale_amount);
        updates.commission_amounts.push(s.commission_amount);
        updates.parts.push(if amended.contains(id) { Some(parts_json(&s.parts)?) } else { None });
        updates.decline_reasons.push(s.decline_reason.clone());
        updates.amended.push(s.amended);
        updates.amend_reasons.push(s.amend_reason.clone());
        updates.old_sale_amounts.push(s.old_sale_amount);
        updates.old_commission_amounts.push(s.old_commission_amount);
        updates.validation_dates.push(s.validation_date);
    }
    // The arrays are in id order (`changed` is a BTreeSet), so concurrent chunks tend to
    // meet rows in the same order; a deadlock Postgres breaks is retried like a conflict.
    if db::transactions::update_states(&mut tx, advertiser_id, &updates).await? != updates.ids.len() as u64 {
        return Err(Conflict.into());
    }
    db::transactions::insert_history(&mut tx, advertiser_id, job_id, &history).await?;
    complete(tx, id, &outcomes).await
}

/// Gives up on a chunk that kept failing: every item gets `[500]`, the job still
/// finishes. Idempotent like [`apply_chunk`].
pub async fn give_up_chunk(pool: &PgPool, id: ChunkId) -> anyhow::Result<ChunkResult> {
    let mut tx = pool.begin().await?;
    let items = match lock_pending(&mut tx, id).await? {
        Pending::Items(items) => items,
        Pending::Nothing(result) => return Ok(result),
    };
    let mut outcomes = OutcomeRows::default();
    for item in &items {
        let description = "processing this item kept failing and was given up; it was not applied".to_owned();
        push_outcome(&mut outcomes, item.index, &item.echo, OutcomeCode::Internal, Some(description), item.target());
    }
    complete(tx, id, &outcomes).await
}

//! Accepting a batch: resolve order references, split into chunks, store the job and
//! its chunks in one Postgres transaction, then hand the chunks to the broker.

use ratify_domain::ids::AdvertiserId;
use std::collections::HashMap;

use ratify_domain::batch::{parse_item, ParsedItem, Reference};
use ratify_domain::job::{split_into_chunks, ChunkLimits, JobItem, OutcomeCode, Plan};
use ratify_shared::db;
use ratify_shared::message::QueueTask;
use serde_json::value::RawValue;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::ApiError;
use crate::state::AppState;

pub fn parse_items(elements: &[&RawValue]) -> Vec<ParsedItem> {
    elements.iter().map(|raw| parse_item(raw)).collect()
}

/// A job's items: as a request parsed them (references still to resolve), or as an
/// earlier job planned them (a retry).
pub enum Items {
    Parsed(Vec<ParsedItem>),
    Planned(Vec<JobItem>),
}

/// What a request asks to store: its items, how to chunk them, and what names the job.
pub struct Submission<'a> {
    pub advertiser_id: AdvertiserId,
    pub items: Items,
    pub limits: ChunkLimits,
    pub key: Option<&'a str>,
    pub hash: &'a [u8],
    pub label: Option<&'a str>,
    /// Outcomes only: nothing is written to the transactions.
    pub dry_run: bool,
    /// The job whose `[500]` items this one applies again; it is linked back, once.
    pub retry_of: Option<Uuid>,
}

/// Another request retried the job first: the caller answers with that retry.
pub const ALREADY_RETRIED: &str = "ALREADY_RETRIED";

/// A job stored in Postgres, its chunks not yet handed to the broker.
pub struct Stored {
    pub job_id: Uuid,
    chunk_count: i32,
    /// The chunks that continue no other: those to publish now.
    ready: Vec<i32>,
}

impl Stored {
    /// A job an idempotency key already named: stored and published by its first request.
    fn existing(job_id: Uuid) -> Stored {
        Stored { job_id, chunk_count: 0, ready: Vec::new() }
    }
}

/// Stores the job durably and publishes its chunks. Returns the job id, or the id of
/// the job an idempotency key already names.
pub async fn accept(state: &AppState, submission: Submission<'_>) -> Result<Uuid, ApiError> {
    let advertiser_id = submission.advertiser_id;
    let stored = store(state, submission).await?;
    publish(state, advertiser_id, &stored).await;
    Ok(stored.job_id)
}

/// Stores the job and its chunks in one Postgres transaction: from its commit the job is
/// durable, and the relay publishes any chunk nobody else does.
pub async fn store(state: &AppState, submission: Submission<'_>) -> Result<Stored, ApiError> {
    let Submission { advertiser_id, items, limits, key, hash, label, dry_run, retry_of } = submission;
    let mut tx = state.pool.begin().await?;
    if let Some(key) = key {
        if let Some(existing) = db::jobs::find_by_key(&mut tx, advertiser_id, key).await? {
            if !existing.fresh {
                db::jobs::release_key(&mut tx, advertiser_id, existing.id).await?;
            } else if existing.request_hash.as_deref() == Some(hash) {
                return Ok(Stored::existing(existing.id));
            } else {
                return Err(ApiError::Unprocessable(
                    "IDEMPOTENCY_KEY_REUSED",
                    "this Idempotency-Key was used within 24 hours for a different request body".to_owned(),
                ));
            }
        }
    }
    let planned = match items {
        Items::Parsed(items) => plan(&mut tx, advertiser_id, items).await?,
        Items::Planned(items) => items,
    };
    let count = planned.len();
    let chunks = split_into_chunks(planned, limits);
    let job_id = Uuid::new_v4();
    let rows = db::jobs::ChunkRows::of(&chunks).map_err(|e| ApiError::Internal(e.into()))?;
    let chunk_count = rows.len();
    drop(chunks);
    let job = db::jobs::NewJob {
        id: job_id,
        transaction_count: count as i32,
        chunk_count,
        idempotency_key: key,
        request_hash: Some(hash),
        label,
        dry_run,
        retry_of,
        auto_approve: false,
    };
    if let Err(e) = db::jobs::insert(&mut tx, advertiser_id, &job).await {
        // Another request with the same key committed first: answer as a replay would.
        if db::is_unique_violation(&e) && key.is_some() {
            drop(tx);
            return Box::pin(replay(state, advertiser_id, key.unwrap_or_default(), hash)).await.map(Stored::existing);
        }
        return Err(e.into());
    }
    if let Some(first) = retry_of {
        if !db::job_marks::mark_retried(&mut tx, advertiser_id, first, job_id).await? {
            return Err(ApiError::Conflict(ALREADY_RETRIED, format!("job {first} was retried by another request")));
        }
    }
    db::jobs::insert_all_chunks(&mut tx, advertiser_id, job_id, &rows).await?;
    tx.commit().await?;
    // Before the answer: the client's next poll must find the job (see reads.rs).
    state.reads.wrote(advertiser_id).await;
    tracing::info!(%job_id, advertiser_id = advertiser_id.0, items = count, chunks = chunk_count, "job accepted");
    metrics::counter!(ratify_shared::metrics::JOBS_ACCEPTED).increment(1);
    metrics::counter!(ratify_shared::metrics::ITEMS_ACCEPTED).increment(count as u64);
    Ok(Stored { job_id, chunk_count, ready: rows.ready() })
}

/// Hands a stored job's ready chunks to the broker. Never fails the request: a chunk the
/// broker did not confirm stays in the outbox for the relay.
pub async fn publish(state: &AppState, advertiser_id: AdvertiserId, stored: &Stored) {
    let Stored { job_id, chunk_count, ref ready } = *stored;
    if ready.is_empty() {
        return;
    }
    let ready = ready.clone();
    let tasks: Vec<QueueTask> =
        ready.iter().map(|&chunk_no| QueueTask::ApplyChunk { advertiser_id, job_id, chunk_no }).collect();
    match state.publisher.publish(chunk_count, &tasks).await {
        Ok(()) => {
            // The job is accepted whatever happens from here: mark the outbox in the
            // background, so neither a slow nor an unreachable database delays or changes
            // the answer. A mark that fails only means the relay publishes again.
            let pool = state.pool.clone();
            tokio::spawn(async move {
                let marked = match pool.acquire().await {
                    Ok(mut conn) => db::jobs::mark_published(&mut conn, advertiser_id, job_id, &ready).await,
                    Err(e) => Err(e),
                };
                if let Err(e) = marked {
                    tracing::warn!(%job_id, error = %e, "could not mark chunks published");
                }
            });
        }
        Err(e) => {
            tracing::warn!(%job_id, error = %e, "broker unavailable; the relay will publish the job")
        }
    }
}

async fn replay(state: &AppState, advertiser_id: AdvertiserId, key: &str, hash: &[u8]) -> Result<Uuid, ApiError> {
    let mut conn = state.pool.acquire().await?;
    match db::jobs::find_by_key(&mut conn, advertiser_id, key).await? {
        Some(existing) if existing.request_hash.as_deref() == Some(hash) => Ok(existing.id),
        _ => Err(ApiError::Unprocessable(
            "IDEMPOTENCY_KEY_REUSED",
            "this Idempotency-Key was used within 24 hours for a different request body".to_owned(),
        )),
    }
}

/// Decides each item's plan. Order references are resolved now, in one query, so that
/// every item is known by its transaction id and the chunking can keep a transaction's
/// items together.
async fn plan(
    conn: &mut PgConnection,
    advertiser_id: AdvertiserId,
    items: Vec<ParsedItem>,
) -> Result<Vec<JobItem>, ApiError> {
    let mut positions = Vec::new();
    let mut order_refs = Vec::new();
    let mut instants = Vec::new();
    for (pos, item) in items.iter().enumerate() {
        if let Ok((Reference::Order { order_ref, instants: at }, _)) = &item.parsed {
            for instant in at {
                positions.push(pos as i32);
                order_refs.push(order_ref.clone());
                instants.push(*instant);
            }
        }
    }
    let mut matches: HashMap<i32, Vec<i64>> = HashMap::new();
    if !positions.is_empty() {
        for (pos, id) in
            db::transactions::resolve_order_refs(conn, advertiser_id, &positions, &order_refs, &instants).await?
        {
            matches.entry(pos).or_default().push(id);
        }
    }
    let planned = items
        .into_iter()
        .enumerate()
        .map(|(pos, item)| {
            let plan = match item.parsed {
                Err(description) => Plan::Reject { code: OutcomeCode::BadRequest, description },
                Ok((Reference::Id(id), command)) => Plan::Apply { transaction_id: id, command },
                Ok((Reference::Order { instants, .. }, command)) => {
                    resolved(matches.get(&(pos as i32)).map(Vec::as_slice).unwrap_or(&[]), instants.is_empty(), command)
                }
            };
            JobItem { index: pos as i32, echo: item.echo, plan }
        })
        .collect();
    Ok(planned)
}

fn resolved(ids: &[i64], gap: bool, command: ratify_domain::batch::Command) -> Plan {
    match ids {
        [id] => Plan::Apply { transaction_id: *id, command },
        [] if gap => Plan::Reject {
            code: OutcomeCode::NotFound,
            description: "transactionDate does not exist in that timezone (skipped by a daylight-saving change), \
                          so no transaction matches"
                .to_owned(),
        },
        [] => Plan::Reject {
            code: OutcomeCode::NotFound,
            description: "no transaction of this advertiser matches orderRef, transactionDate and timezone".to_owned(),
        },
        _ => Plan::Reject {
            code: OutcomeCode::Unprocessable,
            description: format!(
                "the reference is ambiguous: {} transactions match orderRef, transactionDate and timezone; \
                 use transactionId",
                ids.len()
            ),
        },
    }
}

//! Auto-approval: every `RATIFY_AUTO_APPROVE_INTERVAL_SECONDS`, the transactions still
//! pending past their advertiser's validation period (`validationPeriodDays` after their
//! transaction date) are approved — as a job per advertiser, marked `auto_approve` and
//! labelled `auto-approve`, applied by the workers like any other. So each is approved
//! once (a transaction no longer pending gets `[304]` or `[422]`, and nothing changes), with
//! a history entry `auto-approve` naming the job and item, and every run is visible with
//! its counts and times wherever jobs are listed.
//!
//! Every worker runs the loop; an advisory lock lets one scheduler run at a time, and an
//! advertiser whose last auto-approval job is still running is left until it is done.

use std::sync::Arc;
use std::time::Duration;

use ratify_domain::batch::{Command, Echo};
use ratify_domain::ids::AdvertiserId;
use ratify_domain::job::{split_into_chunks, ChunkLimits, JobItem, Plan};
use ratify_shared::db;
use ratify_shared::message::QueueTask;
use ratify_shared::outbox::Publisher;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// The label of every auto-approval job.
pub const LABEL: &str = "auto-approve";
/// Transactions per job: a larger backlog is approved over several runs.
const PER_JOB: i64 = 100_000;
const LIMITS: ChunkLimits = ChunkLimits { items: 1000, bytes: 1024 * 1024 };

/// One job a run made.
#[derive(Debug, Clone)]
pub struct Run {
    pub advertiser_id: AdvertiserId,
    pub job_id: Uuid,
    pub transactions: usize,
}

/// Schedules on every tick of `every` until `shutdown`.
pub async fn run(pool: PgPool, publisher: Arc<Publisher>, every: Duration, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
        match schedule_once(&pool, &publisher).await {
            Ok(runs) => {
                for run in runs {
                    tracing::info!(advertiser_id = run.advertiser_id.0, job_id = %run.job_id,
                        transactions = run.transactions, "auto-approving overdue transactions");
                }
            }
            Err(e) => tracing::warn!(error = %e, "auto-approval failed; will try again"),
        }
    }
}

/// One run: a job for each advertiser with overdue transactions, stored in one Postgres
/// transaction under the scheduler's lock, then published (what the broker does not
/// confirm, the relay publishes).
pub async fn schedule_once(pool: &PgPool, publisher: &Publisher) -> anyhow::Result<Vec<Run>> {
    let mut tx = pool.begin().await?;
    if !db::auto_approve::try_lock(&mut tx).await? {
        return Ok(Vec::new());
    }
    let mut runs = Vec::new();
    let mut published = Vec::new();
    for (advertiser_id, days) in db::auto_approve::due_advertisers(&mut tx).await? {
        // The walk's start first moves past what is no longer pending, in a short transaction
        // of its own (on another connection) so recording waits for it only briefly.
        db::auto_approve::advance(pool, advertiser_id, days).await?;
        let ids = db::auto_approve::overdue(&mut tx, advertiser_id, days, PER_JOB).await?;
        if ids.is_empty() {
            continue;
        }
        let items: Vec<JobItem> = ids
            .iter()
            .enumerate()
            .map(|(n, &id)| JobItem {
                index: n as i32,
                echo: Echo { action: Some("approve".to_owned()), transaction_id: Some(id), ..Echo::default() },
                plan: Plan::Apply { transaction_id: id, command: Command::Approve },
            })
            .collect();
        let rows = db::jobs::ChunkRows::of(&split_into_chunks(items, LIMITS))?;
        let job_id = Uuid::new_v4();
        let job = db::jobs::NewJob {
            id: job_id,
            transaction_count: ids.len() as i32,
            chunk_count: rows.len(),
            idempotency_key: None,
            request_hash: None,
            label: Some(LABEL),
            dry_run: false,
            retry_of: None,
            auto_approve: true,
        };
        db::jobs::insert(&mut tx, advertiser_id, &job).await?;
        db::jobs::insert_all_chunks(&mut tx, advertiser_id, job_id, &rows).await?;
        published.push((advertiser_id, job_id, rows.len(), rows.ready()));
        runs.push(Run { advertiser_id, job_id, transactions: ids.len() });
    }
    tx.commit().await?;
    for (advertiser_id, job_id, chunk_count, ready) in published {
        let tasks: Vec<QueueTask> =
            ready.iter().map(|&chunk_no| QueueTask::ApplyChunk { advertiser_id, job_id, chunk_no }).collect();
        match publisher.publish(chunk_count, &tasks).await {
            Ok(()) => {
                let mut conn = pool.acquire().await?;
                db::jobs::mark_published(&mut conn, advertiser_id, job_id, &ready).await?;
            }
            Err(e) => tracing::warn!(%job_id, error = %e, "broker unavailable; the relay will publish the job"),
        }
    }
    Ok(runs)
}

//! The consume loop: connect (with backoff, again after any broker restart), take
//! deliveries up to the prefetch, apply each chunk, and ack only after Postgres has
//! committed.
//!
//! Failures come in two kinds. Postgres being away is not the chunk's fault: the worker
//! keeps the delivery and retries with capped backoff until the database is back (or
//! the worker stops, which gives the delivery back). Any other error is retried a few
//! times with backoff, item by item after the first (see `chunk::isolate`), then the
//! delivery is given back to the broker, whose delivery limit dead-letters it; the
//! dead-letter consumer gives the chunk up (`chunk::give_up`). Errors log one line;
//! the full chain with its backtrace is at debug level.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder, Retryable};
use futures::StreamExt;
use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicNackOptions};
use lapin::types::FieldTable;
use lapin::Channel;
use ratify_shared::broker::{self, Topology};
use ratify_shared::message::QueueTask;
use ratify_shared::metrics as names;
use ratify_shared::outbox::Publisher;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use ratify_shared::chunk::{
    apply_chunk, apply_chunk_isolating, give_up_chunk, not_the_chunks_fault, ChunkId, ChunkResult,
};

/// Counts a chunk in `ratify_chunks_in_flight` for as long as it lives.
struct InFlight;

impl InFlight {
    fn enter() -> InFlight {
        metrics::gauge!(names::CHUNKS_IN_FLIGHT).increment(1.0);
        InFlight
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        metrics::gauge!(names::CHUNKS_IN_FLIGHT).decrement(1.0);
    }
}

/// Which queue a consumer serves and what it does with a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Apply chunks of large jobs.
    Work,
    /// Apply chunks of single-chunk jobs, on channels of their own so a small job never
    /// waits behind a large backlog.
    Express,
    /// Chunks RabbitMQ dead-lettered: record `[500]` outcomes.
    Dead,
}

pub struct Consumer {
    pub pool: PgPool,
    pub amqp: broker::Nodes,
    pub topology: Topology,
    pub prefetch: u16,
    pub drain: Duration,
    /// In-process retries of a failing chunk before it is given back to the broker.
    pub retries: usize,
    /// Publishes the chunks a finished chunk released; should that fail, the relay does.
    pub publisher: Arc<Publisher>,
}

/// The one retry policy for a chunk: jittered exponential backoff, 200 ms to 5 s.
fn chunk_retry(times: usize) -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(200))
        .with_max_delay(Duration::from_secs(5))
        .with_max_times(times)
        .with_jitter()
}

impl Lane {
    fn name(self) -> &'static str {
        match self {
            Lane::Work => "work",
            Lane::Express => "express",
            Lane::Dead => "dead",
        }
    }
}

impl Consumer {
    /// Runs until `shutdown`, reconnecting whenever the broker goes away.
    pub async fn run(self: Arc<Self>, lane: Lane, shutdown: CancellationToken) {
        while !shutdown.is_cancelled() {
            let connection = tokio::select! {
                _ = shutdown.cancelled() => return,
                c = self.amqp.connect(usize::MAX) => c,
            };
            let connection = match connection {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "RabbitMQ connection failed");
                    continue;
                }
            };
            match self.consume(&connection, lane, &shutdown).await {
                Ok(()) => tracing::info!(?lane, "consumer stopped"),
                Err(e) => {
                    tracing::warn!(?lane, error = %e, "consumer lost its channel; reconnecting")
                }
            }
            let _ = connection.close(200, "worker stopping").await;
        }
    }

    async fn consume(
        self: &Arc<Self>,
        connection: &lapin::Connection,
        lane: Lane,
        shutdown: &CancellationToken,
    ) -> lapin::Result<()> {
        let channel = broker::consumer_channel(connection, &self.topology, self.prefetch).await?;
        let queue = match lane {
            Lane::Work => &self.topology.work_queue,
            Lane::Express => &self.topology.express_queue,
            Lane::Dead => &self.topology.dead_queue,
        };
        let mut deliveries =
            channel.basic_consume(queue, "", BasicConsumeOptions::default(), FieldTable::default()).await?;
        let tag = deliveries.tag().to_string();
        tracing::info!(?lane, queue, prefetch = self.prefetch, "consuming");
        let tracker = TaskTracker::new();
        let outcome = loop {
            tokio::select! {
                _ = shutdown.cancelled() => break Ok(()),
                next = deliveries.next() => match next {
                    Some(Ok(delivery)) => {
                        let this = self.clone();
                        let stop = shutdown.clone();
                        tracker.spawn(async move { this.handle(lane, delivery, stop).await });
                    }
                    Some(Err(e)) => break Err(e),
                    None => break Ok(()),
                }
            }
        };
        // Stop taking new work, then let in-flight chunks finish (and ack) within the
        // drain time. Anything unacked when the channel closes goes back to the queue.
        let _ = channel.basic_cancel(&tag, BasicCancelOptions::default()).await;
        tracker.close();
        if tokio::time::timeout(self.drain, tracker.wait()).await.is_err() {
            tracing::warn!("drain time over: giving unfinished chunks back to the broker");
        }
        let _ = close(&channel).await;
        outcome
    }

    async fn handle(&self, lane: Lane, delivery: Delivery, shutdown: CancellationToken) {
        let task = match QueueTask::from_bytes(&delivery.data) {
            Ok(task) => task,
            Err(e) => {
                // Not ours to understand: retrying cannot help, so dead-letter it now.
                tracing::error!(error = %e, "undecodable message; dead-lettering it");
                let _ = delivery.nack(BasicNackOptions { requeue: false, ..BasicNackOptions::default() }).await;
                return;
            }
        };
        let QueueTask::ApplyChunk { advertiser_id, job_id, chunk_no } = task;
        let id = ChunkId { advertiser_id, job_id, chunk_no };
        let span = tracing::info_span!("chunk", %job_id, advertiser_id = advertiser_id.0, chunk_no, ?lane);
        self.finish(lane, id, delivery, shutdown).instrument(span).await;
    }

    async fn finish(&self, lane: Lane, id: ChunkId, delivery: Delivery, shutdown: CancellationToken) {
        // After the chunk's first failure of its own, apply it item by item so that an
        // item that keeps failing takes no other item with it.
        let isolating = AtomicBool::new(false);
        let attempt = || async {
            match lane {
                Lane::Work | Lane::Express if isolating.load(Ordering::Relaxed) => {
                    apply_chunk_isolating(&self.pool, id).await
                }
                Lane::Work | Lane::Express => apply_chunk(&self.pool, id).await,
                Lane::Dead => give_up_chunk(&self.pool, id).await,
            }
        };
        let started = std::time::Instant::now();
        let _in_flight = InFlight::enter();
        // Bounded retries of a chunk that fails for any other reason.
        let mut delays = chunk_retry(self.retries).build();
        let result = loop {
            // While Postgres is away (or on a conflict), retry without counting, as long as it takes.
            let outcome = attempt
                .retry(chunk_retry(usize::MAX))
                .when(not_the_chunks_fault)
                .notify(|e, wait| tracing::warn!(error = format!("{e:#}"), ?wait, "retrying the chunk"));
            // On SIGTERM a chunk being applied is let finish; one waiting for Postgres to
            // come back is given back unapplied once the drain time is over.
            let outcome = tokio::select! {
                outcome = outcome => outcome,
                _ = async { shutdown.cancelled().await; tokio::time::sleep(self.drain).await } => {
                    tracing::info!("stopping: giving the chunk back unapplied");
                    return;
                }
            };
            match (outcome, delays.next()) {
                (Err(e), Some(wait)) => {
                    tracing::warn!(error = format!("{e:#}"), ?wait, "chunk failed; retrying it item by item");
                    tracing::debug!(error = ?e, "chunk failure in full");
                    isolating.store(true, Ordering::Relaxed);
                    tokio::time::sleep(wait).await;
                }
                (outcome, _) => break outcome,
            }
        };
        let lane_name = lane.name();
        metrics::histogram!(names::CHUNK_DURATION, "lane" => lane_name).record(started.elapsed().as_secs_f64());
        match result {
            Ok(done) => {
                let counted = match &done {
                    ChunkResult::Applied { items, codes, job_latency, released } => {
                        tracing::info!(items, job_done = job_latency.is_some(), "chunk applied");
                        self.publish_released(id, released).await;
                        for (code, count) in codes {
                            metrics::counter!(names::ITEMS_PROCESSED, "code" => code.to_string()).increment(*count);
                        }
                        if let Some(seconds) = job_latency {
                            metrics::counter!(names::JOBS_DONE).increment(1);
                            metrics::histogram!(names::JOB_LATENCY).record(*seconds);
                        }
                        "applied"
                    }
                    ChunkResult::AlreadyDone => {
                        tracing::info!("chunk already applied; acknowledging the duplicate");
                        "duplicate"
                    }
                    ChunkResult::Waiting => {
                        tracing::info!("chunk continues one not done yet; it waits to be released");
                        "waiting"
                    }
                    ChunkResult::Missing => {
                        tracing::warn!("chunk does not exist (job purged?); dropping the message");
                        "missing"
                    }
                };
                metrics::counter!(names::CHUNKS, "lane" => lane_name, "result" => counted).increment(1);
                if let Err(e) = delivery.ack(BasicAckOptions::default()).await {
                    // The commit stands; the broker will redeliver and the duplicate is a no-op.
                    tracing::warn!(error = %e, "ack failed after commit");
                }
            }
            Err(e) if lane == Lane::Dead => {
                // The last lane: nothing is requeued here, so a chunk that cannot even be
                // given up never loops. Its job waits for the stall watchdog, which
                // publishes the chunk again after RATIFY_STALL_SECONDS.
                metrics::counter!(names::CHUNKS, "lane" => lane_name, "result" => "failed").increment(1);
                tracing::error!(
                    error = format!("{e:#}"),
                    "a dead chunk could not be given up; leaving it to the watchdog"
                );
                tracing::debug!(error = ?e, "give-up failure in full");
                let _ = delivery.nack(BasicNackOptions { requeue: false, ..BasicNackOptions::default() }).await;
            }
            Err(e) => {
                metrics::counter!(names::CHUNKS, "lane" => lane_name, "result" => "failed").increment(1);
                tracing::error!(error = format!("{e:#}"), "chunk kept failing; giving it back to the broker");
                tracing::debug!(error = ?e, "chunk failure in full");
                let _ = delivery.nack(BasicNackOptions { requeue: true, ..BasicNackOptions::default() }).await;
            }
        }
    }
}

impl Consumer {
    /// Publishes the chunks that continue a chunk just committed, and marks them
    /// published. A failure only delays them: they are unpublished and not waiting, so a
    /// relay publishes them.
    async fn publish_released(&self, id: ChunkId, released: &[i32]) {
        if released.is_empty() {
            return;
        }
        let ChunkId { advertiser_id, job_id, .. } = id;
        let queue = self.topology.work_queue.as_str();
        let tasks: Vec<(&str, QueueTask)> = released
            .iter()
            .map(|&chunk_no| (queue, QueueTask::ApplyChunk { advertiser_id, job_id, chunk_no }))
            .collect();
        let published = match self.publisher.publish_routed(&tasks).await {
            Ok(()) => match self.pool.acquire().await {
                Ok(mut conn) => {
                    ratify_shared::db::jobs::mark_published(&mut conn, advertiser_id, job_id, released).await
                }
                Err(e) => Err(e),
            }
            .map_err(anyhow::Error::from),
            Err(e) => Err(e.into()),
        };
        if let Err(e) = published {
            tracing::warn!(error = format!("{e:#}"), chunks = ?released, "could not publish the continuing chunks; the relay will");
        }
    }
}

async fn close(channel: &Channel) -> lapin::Result<()> {
    channel.close(200, "worker stopping").await
}

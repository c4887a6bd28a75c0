//! The outbox: chunks are durable in Postgres before their task is published, and
//! `published_at` records the broker's confirm. [`relay`] re-publishes any chunk the
//! broker never confirmed (broker away at submit time, or the api died right after the
//! commit). The api and every worker run a relay; `SKIP LOCKED` lets them share it.
//!
//! The relay is also the stall watchdog. A confirmed message can still be lost (a
//! purged queue, a broker that lost its disk, a message dropped from the dead queue),
//! and then nothing would ever finish its chunk. So a chunk confirmed longer ago than
//! the stall time, not done, held by no worker, is published again once its queue has
//! no message waiting (a queue with a backlog may still hold it; an empty one cannot).
//! A duplicate is harmless: the chunk lock and the outcome key make it a no-op.

use std::sync::Arc;
use std::time::Duration;

use crate::broker::{self, PublishError, Topology};
use crate::db;
use crate::db::chunks::UnpublishedChunk;
use crate::message::QueueTask;
use chrono::Utc;
use lapin::{Channel, Connection};
use sqlx::{PgPool, Postgres, Transaction};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

/// How often a relay looks for unconfirmed chunks.
pub const RELAY_INTERVAL: Duration = Duration::from_secs(2);
/// How long a chunk may wait unconfirmed before a relay publishes it: long enough for
/// the api's own publish right after the commit to have finished.
pub const RELAY_GRACE: Duration = Duration::from_secs(10);

/// How long a publish may take before the chunk is left to the relay.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Publisher {
    nodes: broker::Nodes,
    topology: Topology,
    link: Mutex<Option<(Connection, Channel)>>,
}

impl Publisher {
    pub fn new(nodes: broker::Nodes, topology: Topology) -> Publisher {
        Publisher { nodes, topology, link: Mutex::new(None) }
    }

    /// The open confirm-mode channel, connecting (one round over the nodes, no retry
    /// loop: callers fall back to the relay) when there is none.
    async fn channel(&self) -> Result<Channel, PublishError> {
        let mut link = self.link.lock().await;
        if let Some((connection, channel)) = link.as_ref() {
            if connection.status().connected() && channel.status().connected() {
                return Ok(channel.clone());
            }
        }
        *link = None;
        let connection = self.nodes.connect(0).await?;
        let channel = broker::publisher_channel(&connection, &self.topology).await?;
        *link = Some((connection, channel.clone()));
        Ok(channel)
    }

    /// The topology it publishes to.
    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// Publishes the chunk tasks of a job with `chunk_count` chunks (to the express queue
    /// for a single-chunk job) and waits for the broker's confirms, within a deadline.
    pub async fn publish(&self, chunk_count: i32, tasks: &[QueueTask]) -> Result<(), PublishError> {
        let queue = self.topology.queue_for(chunk_count);
        let routed: Vec<(&str, QueueTask)> = tasks.iter().map(|t| (queue, t.clone())).collect();
        self.publish_routed(&routed).await
    }

    /// Publishes each `(queue, task)` and waits for the broker's confirms, within a deadline.
    pub async fn publish_routed(&self, tasks: &[(&str, QueueTask)]) -> Result<(), PublishError> {
        let attempt = async {
            let channel = self.channel().await?;
            broker::publish_confirmed(&channel, tasks).await
        };
        let result = match tokio::time::timeout(PUBLISH_TIMEOUT, attempt).await {
            Ok(result) => result,
            Err(_) => Err(PublishError::Amqp(lapin::Error::InvalidConnectionState(lapin::ConnectionState::Closed))),
        };
        if result.is_err() {
            // Start from a fresh connection next time.
            *self.link.lock().await = None;
        }
        result
    }

    /// Messages waiting in each of the topology's queues (empty when the broker is away).
    pub async fn queue_depths(&self) -> Vec<(String, u32)> {
        let Ok(Ok(channel)) = tokio::time::timeout(Duration::from_secs(2), self.channel()).await else {
            return Vec::new();
        };
        let t = &self.topology;
        let mut depths = Vec::new();
        for queue in [&t.work_queue, &t.express_queue, &t.dead_queue] {
            // A passive declare only reads the queue's state.
            let passive = lapin::options::QueueDeclareOptions { passive: true, ..Default::default() };
            match channel.queue_declare(queue, passive, lapin::types::FieldTable::default()).await {
                Ok(q) => depths.push((queue.clone(), q.message_count())),
                Err(_) => {
                    // A failed passive declare closes the channel: start afresh next time.
                    *self.link.lock().await = None;
                    break;
                }
            }
        }
        depths
    }

    /// Whether the broker is reachable now.
    pub async fn ready(&self) -> bool {
        matches!(tokio::time::timeout(Duration::from_secs(2), self.channel()).await, Ok(Ok(_)))
    }
}

/// When the relay looks and how long it waits before it acts.
#[derive(Debug, Clone, Copy)]
pub struct RelayTiming {
    /// Between passes.
    pub interval: Duration,
    /// How long a chunk may wait unconfirmed before it is published.
    pub grace: Duration,
    /// How long a confirmed chunk may stay not done before it is published again.
    pub stall: Duration,
}

/// The outbox relay: every `interval`, publishes chunks that have waited unconfirmed
/// for longer than `grace`, and chunks stalled for longer than `stall`, until `shutdown`.
pub async fn relay(pool: PgPool, publisher: Arc<Publisher>, timing: RelayTiming, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(timing.interval) => {}
        }
        match relay_once(&pool, &publisher, timing.grace).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(chunks = n, "relay published chunks the broker had not confirmed"),
            Err(e) => tracing::warn!(error = format!("{e:#}"), "relay pass failed; will retry"),
        }
        match republish_stalled(&pool, &publisher, timing.stall).await {
            Ok(0) => {}
            Ok(n) => {
                metrics::counter!(crate::metrics::CHUNKS_REPUBLISHED).increment(n as u64);
                tracing::warn!(chunks = n, "watchdog published again chunks whose message was lost");
            }
            Err(e) => tracing::warn!(error = format!("{e:#}"), "watchdog pass failed; will retry"),
        }
        match finish_settled(&pool, timing.stall).await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(jobs = n, "sweep wrote the row of jobs whose last chunk's worker stopped before"),
            Err(e) => tracing::warn!(error = format!("{e:#}"), "sweep of settled jobs failed; will retry"),
        }
    }
}

/// One sweep: writes as `DONE` the rows of jobs older than `stall` whose chunks are all
/// done (see [`db::chunks::finish_settled_jobs`]).
async fn finish_settled(pool: &PgPool, stall: Duration) -> anyhow::Result<u64> {
    let created_before = Utc::now() - chrono::Duration::from_std(stall)?;
    let mut conn = pool.acquire().await?;
    Ok(db::chunks::finish_settled_jobs(&mut conn, created_before).await?)
}

fn task_of(publisher: &Publisher, c: &UnpublishedChunk) -> (String, QueueTask) {
    let task = QueueTask::ApplyChunk { advertiser_id: c.advertiser_id, job_id: c.job_id, chunk_no: c.chunk_no };
    (publisher.topology().queue_for(c.chunk_count).to_owned(), task)
}

/// Publishes `chunks`, marks them published now and commits.
async fn publish_and_mark(
    mut tx: Transaction<'_, Postgres>,
    publisher: &Publisher,
    chunks: &[UnpublishedChunk],
) -> anyhow::Result<usize> {
    let tasks: Vec<(String, QueueTask)> = chunks.iter().map(|c| task_of(publisher, c)).collect();
    let routed: Vec<(&str, QueueTask)> = tasks.iter().map(|(q, t)| (q.as_str(), t.clone())).collect();
    publisher.publish_routed(&routed).await?;
    db::chunks::mark_published(&mut tx, chunks).await?;
    tx.commit().await?;
    Ok(chunks.len())
}

/// One relay pass: returns how many chunks it published.
async fn relay_once(pool: &PgPool, publisher: &Publisher, grace: Duration) -> anyhow::Result<usize> {
    let older_than = Utc::now() - chrono::Duration::from_std(grace)?;
    let mut tx = pool.begin().await?;
    let chunks = db::chunks::unpublished(&mut tx, older_than, 500).await?;
    if chunks.is_empty() {
        return Ok(0);
    }
    publish_and_mark(tx, publisher, &chunks).await
}

/// One watchdog pass: publishes again the stalled chunks whose queue holds no waiting
/// message, and returns how many.
async fn republish_stalled(pool: &PgPool, publisher: &Publisher, stall: Duration) -> anyhow::Result<usize> {
    let published_before = Utc::now() - chrono::Duration::from_std(stall)?;
    let mut tx = pool.begin().await?;
    let chunks = db::chunks::stalled(&mut tx, published_before, 500).await?;
    if chunks.is_empty() {
        return Ok(0);
    }
    // Read after the candidates: a queue empty now was empty after they were chosen.
    let depths = publisher.queue_depths().await;
    let drained = |c: &UnpublishedChunk| {
        let queue = publisher.topology().queue_for(c.chunk_count);
        depths.iter().any(|(name, waiting)| name == queue && *waiting == 0)
    };
    let lost: Vec<UnpublishedChunk> = chunks.into_iter().filter(drained).collect();
    if lost.is_empty() {
        return Ok(0);
    }
    publish_and_mark(tx, publisher, &lost).await
}

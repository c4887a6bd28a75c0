//! The outbox: chunks are durable in Postgres before their task is published, and
//! `published_at` records the broker's confirm. [`relay`] re-publishes any chunk the
//! broker never confirmed (broker away at submit time, or the api died right after the
//! commit). The api and every worker run a relay; `SKIP LOCKED` lets them share it.

use std::time::Duration;

use crate::broker::{self, PublishError, Topology};
use crate::db;
use crate::message::QueueTask;
use chrono::Utc;
use lapin::{Channel, Connection};
use sqlx::PgPool;
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
    url: String,
    topology: Topology,
    link: Mutex<Option<(Connection, Channel)>>,
}

impl Publisher {
    pub fn new(url: String, topology: Topology) -> Publisher {
        Publisher { url, topology, link: Mutex::new(None) }
    }

    /// The open confirm-mode channel, connecting (once, no retry loop: callers fall back
    /// to the relay) when there is none.
    async fn channel(&self) -> Result<Channel, PublishError> {
        let mut link = self.link.lock().await;
        if let Some((connection, channel)) = link.as_ref() {
            if connection.status().connected() && channel.status().connected() {
                return Ok(channel.clone());
            }
        }
        *link = None;
        let connection = broker::connect(&self.url, 0).await?;
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

/// The outbox relay: every `interval`, publishes chunks that have waited unconfirmed
/// for longer than `grace`, until `shutdown`.
pub async fn relay(
    pool: PgPool,
    publisher: std::sync::Arc<Publisher>,
    interval: Duration,
    grace: Duration,
    shutdown: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(interval) => {}
        }
        match relay_once(&pool, &publisher, grace).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(chunks = n, "relay published chunks the broker had not confirmed"),
            Err(e) => tracing::warn!(error = %e, "relay pass failed; will retry"),
        }
    }
}

/// One relay pass: returns how many chunks it published.
async fn relay_once(pool: &PgPool, publisher: &Publisher, grace: Duration) -> anyhow::Result<usize> {
    let older_than = Utc::now() - chrono::Duration::from_std(grace)?;
    let mut tx = pool.begin().await?;
    let chunks = db::chunks::unpublished(&mut tx, older_than, 500).await?;
    if chunks.is_empty() {
        return Ok(0);
    }
    let tasks: Vec<(&str, QueueTask)> = chunks
        .iter()
        .map(|c| {
            let task = QueueTask::ApplyChunk { advertiser_id: c.advertiser_id, job_id: c.job_id, chunk_no: c.chunk_no };
            (publisher.topology().queue_for(c.chunk_count), task)
        })
        .collect();
    publisher.publish_routed(&tasks).await?;
    db::chunks::mark_published(&mut tx, &chunks).await?;
    tx.commit().await?;
    Ok(chunks.len())
}

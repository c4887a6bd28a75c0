//! `ratify-worker`: consumes chunk tasks from RabbitMQ and applies them to Postgres, as a
//! library. [`run`] works until a shutdown token is cancelled; `main.rs` is the thin binary
//! around it (the environment and the signals). Any number run side by side; each is
//! stateless. Tests that need no process of their own run it in-process; the fault tests
//! keep real processes, since what they test is a process dying.
//!
//! It owns the three consumer lanes (and when a chunk is retried, isolated or given up),
//! the heartbeat, the retention purge, the auto-approval scheduler and the webhook
//! deliveries (the only HTTP it speaks, as a client, through `ratify-webhooks`). Rules come from `ratify-domain`; applying a
//! chunk (`ratify_shared::chunk`), storage and the broker from `ratify-shared`.

pub mod auto_approve;
mod config;
mod consumer;
mod heartbeat;
pub mod purge;
pub mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use ratify_shared::db;
use ratify_shared::outbox::{self, Publisher};
use tokio_util::sync::CancellationToken;

pub use crate::config::WorkerConfig;
pub use ratify_shared::config::Vars;

use crate::consumer::{Consumer, Lane};

/// Applies chunks until `shutdown` is cancelled, then finishes or gives back the chunks in
/// flight (within `RATIFY_DRAIN_SECONDS`) and stops the relay and the purge.
pub async fn run(config: WorkerConfig, shutdown: CancellationToken) -> anyhow::Result<()> {
    let pool = db::lazy_pool(&config.common.database_url, config.common.db_pool_size)
        .context("DATABASE_URL is not a valid Postgres URL")?;
    // One cap for the process (a worker runs one deployment's chunks).
    ratify_shared::chunk::slots::set_slots(config.apply_slots);
    // Workers relay too, so a job whose publish failed is delivered even while no api runs.
    let publisher = Arc::new(Publisher::new(config.common.amqp.clone(), config.common.topology()));
    let consumer = Arc::new(Consumer {
        pool,
        amqp: config.common.amqp.clone(),
        topology: config.common.topology(),
        prefetch: config.concurrency,
        drain: Duration::from_secs(config.drain_seconds),
        retries: config.chunk_retries,
        publisher: publisher.clone(),
    });
    if let Some(addr) = config.metrics_addr {
        ratify_shared::metrics::install_with_listener(addr).context("serving metrics on RATIFY_METRICS_ADDR")?;
        ratify_shared::metrics::describe("worker");
        tokio::spawn(sample_process(shutdown.clone()));
        tracing::info!(%addr, "metrics on /metrics");
    }
    let scheduler = tokio::spawn(auto_approve::run(
        consumer.pool.clone(),
        publisher.clone(),
        Duration::from_secs(config.auto_approve_every_seconds),
        shutdown.clone(),
    ));
    let deliveries = tokio::spawn(webhooks::run(
        consumer.pool.clone(),
        webhooks::Settings {
            poster: ratify_webhooks::Poster {
                timeout: Duration::from_secs(config.webhook_timeout_seconds),
                allow_private: config.webhook_allow_private,
            },
            retry: Duration::from_secs(config.webhook_retry_seconds),
        },
        shutdown.clone(),
    ));
    let relay = tokio::spawn(outbox::relay(
        consumer.pool.clone(),
        publisher,
        outbox::RelayTiming {
            interval: outbox::RELAY_INTERVAL,
            grace: outbox::RELAY_GRACE,
            stall: config.common.stall,
        },
        shutdown.clone(),
    ));
    let retention =
        purge::Retention { days: config.retention_days, every: Duration::from_secs(config.purge_every_seconds) };
    let purger = tokio::spawn(purge::run(consumer.pool.clone(), retention, shutdown.clone()));
    let heartbeat = tokio::spawn(heartbeat::run(consumer.pool.clone(), shutdown.clone()));
    let work = tokio::spawn(consumer.clone().run(Lane::Work, shutdown.clone()));
    let express = tokio::spawn(consumer.clone().run(Lane::Express, shutdown.clone()));
    let dead = tokio::spawn(consumer.clone().run(Lane::Dead, shutdown.clone()));
    tracing::info!(concurrency = config.concurrency, apply_slots = config.apply_slots, "worker started");
    shutdown.cancelled().await;
    tracing::info!("shutting down: finishing or giving back in-flight chunks");
    let _ = tokio::join!(work, express, dead, relay, purger, heartbeat, scheduler, deliveries);
    tracing::info!("stopped");
    Ok(())
}

/// Samples the process's metrics every few seconds (the worker's listener renders on its
/// own, without a hook to sample on each scrape).
async fn sample_process(shutdown: CancellationToken) {
    let collector = ratify_shared::metrics::process_collector();
    loop {
        collector.collect();
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(5)) => {}
            () = shutdown.cancelled() => return,
        }
    }
}

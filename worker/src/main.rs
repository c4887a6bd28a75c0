//! `ratify-worker`: consumes chunk tasks from RabbitMQ and applies them to Postgres.
//! Any number run side by side; each is stateless.

mod chunk;
mod config;
mod consumer;
mod purge;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use ratify_shared::config::init_tracing;
use ratify_shared::db;
use ratify_shared::outbox::{self, Publisher};
use tokio_util::sync::CancellationToken;

use crate::config::WorkerConfig;
use crate::consumer::{Consumer, Lane};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = WorkerConfig::from_env()?;
    init_tracing(config.common.json_logs);
    let pool = db::lazy_pool(&config.common.database_url, config.common.db_pool_size)
        .context("DATABASE_URL is not a valid Postgres URL")?;
    // Workers relay too, so a job whose publish failed is delivered even while no api runs.
    let publisher = Arc::new(Publisher::new(config.common.amqp_url.clone(), config.common.topology()));
    let consumer = Arc::new(Consumer {
        pool,
        amqp_url: config.common.amqp_url.clone(),
        topology: config.common.topology(),
        prefetch: config.concurrency,
        drain: Duration::from_secs(config.drain_seconds),
        retries: config.chunk_retries,
        publisher: publisher.clone(),
    });
    if let Some(addr) = config.metrics_addr {
        ratify_shared::metrics::install_with_listener(addr).context("serving metrics on RATIFY_METRICS_ADDR")?;
        tracing::info!(%addr, "metrics on /metrics");
    }
    let shutdown = CancellationToken::new();
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
    let work = tokio::spawn(consumer.clone().run(Lane::Work, shutdown.clone()));
    let express = tokio::spawn(consumer.clone().run(Lane::Express, shutdown.clone()));
    let dead = tokio::spawn(consumer.clone().run(Lane::Dead, shutdown.clone()));
    tracing::info!(concurrency = config.concurrency, "worker started");
    shutdown_signal().await;
    tracing::info!("shutting down: finishing or giving back in-flight chunks");
    shutdown.cancel();
    let _ = tokio::join!(work, express, dead, relay, purger);
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = term => {},
    }
}

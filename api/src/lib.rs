//! `ratify-api`: the HTTP service as a library. [`run`] serves on a listener until a
//! shutdown token is cancelled; `main.rs` is the thin binary around it (signals, the
//! listen address, `migrate`). Tests that need no process of their own run it in-process.
//!
//! It owns the routes, authentication, the body extractors and the submit path (a job and
//! its chunks written with their outbox rows in one transaction). Bodies come from
//! `ratify-wire`, rules from `ratify-domain`, storage and the broker from `ratify-shared`.

mod auth;
mod config;
mod console;
mod cursor;
mod error;
mod extract;
mod ingest;
mod merge;
mod metrics;
mod openapi;
mod output_cache;
mod pages;
mod rate_limit;
mod reads;
mod routes;
mod server;
mod state;
mod stream;
mod submit;
mod views;
mod wire;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use ratify_shared::db;
use ratify_shared::outbox::{self, Publisher};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use crate::config::ApiConfig;
pub use ratify_shared::config::Vars;

use crate::state::AppState;

/// Applies the database migrations at `database_url` once.
pub async fn migrate(database_url: &str) -> anyhow::Result<()> {
    let pool = db::lazy_pool(database_url, 1).context("DATABASE_URL is not a valid Postgres URL")?;
    db::MIGRATOR.run(&pool).await.context("applying migrations")?;
    Ok(())
}

/// Serves the api on `listener` until `shutdown` is cancelled, then lets in-flight requests
/// finish and stops the outbox relay. `config.addr` is not used: the caller has bound.
pub async fn run(config: ApiConfig, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    let common = &config.common;
    let pool =
        db::lazy_pool(&common.database_url, common.db_pool_size).context("DATABASE_URL is not a valid Postgres URL")?;
    let publisher = Arc::new(Publisher::new(common.amqp.clone(), common.topology()));
    let relay = tokio::spawn(outbox::relay(
        pool.clone(),
        publisher.clone(),
        outbox::RelayTiming { interval: outbox::RELAY_INTERVAL, grace: outbox::RELAY_GRACE, stall: common.stall },
        shutdown.clone(),
    ));
    let rate_limit =
        std::num::NonZeroU32::new(config.rate_limit_per_minute).map(|n| Arc::new(rate_limit::RateLimit::per_minute(n)));
    if let Some(limit) = rate_limit.clone() {
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(60)) => limit.forget_idle(),
                    () = shutdown.cancelled() => break,
                }
            }
        });
    }
    let replica = match &config.read_database_url {
        Some(url) => Some(
            reads::replica_pool(url, common.db_pool_size).context("DATABASE_READ_URL is not a valid Postgres URL")?,
        ),
        None => None,
    };
    let state = AppState {
        reads: Arc::new(reads::Reads::new(pool.clone(), replica)),
        pool,
        publisher,
        admin_token_hash: auth::hash(&config.admin_token).into(),
        outputs: Arc::new(output_cache::OutputCache::new(config.output_cache_bytes)),
        metrics: {
            let handle = ratify_shared::metrics::install_for_render().context("installing the metrics recorder")?;
            ratify_shared::metrics::describe("api");
            handle
        },
        rate_limit,
        config: Arc::new(config.clone()),
    };
    tracing::info!(addr = %listener.local_addr()?, "listening");
    let bounds = server::Bounds {
        header_timeout: Duration::from_secs(config.header_timeout_seconds),
        max_connections: config.max_connections,
    };
    let stopping = shutdown.clone();
    let stop = async move {
        stopping.cancelled().await;
        tracing::info!("shutting down: finishing in-flight requests");
    };
    server::serve(listener, routes::router(state), bounds, stop).await;
    shutdown.cancel();
    let _ = relay.await;
    tracing::info!("stopped");
    Ok(())
}

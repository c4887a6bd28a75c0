//! `ratify-api`: the HTTP service. `ratify-api` (or `ratify-api serve`) serves;
//! `ratify-api migrate` applies the database migrations once and exits.

mod auth;
mod config;
mod cursor;
mod error;
mod extract;
mod ingest;
mod metrics;
mod openapi;
mod output_cache;
mod rate_limit;
mod routes;
mod server;
mod state;
mod stream;
mod submit;
mod views;
mod wire;

use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use ratify_shared::config::{init_tracing, required, Common};
use ratify_shared::db;
use tokio_util::sync::CancellationToken;

use crate::config::ApiConfig;
use crate::state::AppState;
use ratify_shared::outbox::{self, Publisher};

#[derive(Parser)]
#[command(name = "ratify-api", about = "Ratify's HTTP api")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the api (the default).
    Serve,
    /// Apply database migrations (DATABASE_URL) and exit.
    Migrate,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command.unwrap_or(Command::Serve) {
        Command::Serve => serve().await,
        Command::Migrate => migrate().await,
    }
}

async fn migrate() -> anyhow::Result<()> {
    init_tracing(false);
    let url: String = required("DATABASE_URL")?;
    let pool = db::lazy_pool(&url, 1).context("DATABASE_URL is not a valid Postgres URL")?;
    db::MIGRATOR.run(&pool).await.context("applying migrations")?;
    tracing::info!("migrations applied");
    Ok(())
}

async fn serve() -> anyhow::Result<()> {
    let config = ApiConfig::from_env()?;
    init_tracing(config.common.json_logs);
    let Common { database_url, amqp_url, db_pool_size, .. } = &config.common;
    let pool = db::lazy_pool(database_url, *db_pool_size).context("DATABASE_URL is not a valid Postgres URL")?;
    let publisher = Arc::new(Publisher::new(amqp_url.clone(), config.common.topology()));
    let shutdown = CancellationToken::new();
    let relay = tokio::spawn(outbox::relay(
        pool.clone(),
        publisher.clone(),
        outbox::RelayTiming {
            interval: outbox::RELAY_INTERVAL,
            grace: outbox::RELAY_GRACE,
            stall: config.common.stall,
        },
        shutdown.clone(),
    ));
    let rate_limit =
        std::num::NonZeroU32::new(config.rate_limit_per_minute).map(|n| Arc::new(rate_limit::RateLimit::per_minute(n)));
    if let Some(limit) = rate_limit.clone() {
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(60)).await;
                limit.forget_idle();
            }
        });
    }
    let state = AppState {
        pool,
        publisher,
        admin_token_hash: auth::hash(&config.admin_token).into(),
        outputs: Arc::new(output_cache::OutputCache::new(config.output_cache_bytes)),
        metrics: ratify_shared::metrics::install_for_render().context("installing the metrics recorder")?,
        rate_limit: rate_limit.clone(),
        config: Arc::new(config.clone()),
    };
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .with_context(|| format!("binding API_ADDR {}", config.addr))?;
    let addr = listener.local_addr()?;
    // One plain line on stdout says where the api listens (API_ADDR may use port 0).
    println!("ratify-api listening on http://{addr}");
    tracing::info!(%addr, "listening");
    let bounds = server::Bounds {
        header_timeout: std::time::Duration::from_secs(config.header_timeout_seconds),
        max_connections: config.max_connections,
    };
    server::serve(listener, routes::router(state), bounds, shutdown_signal(shutdown.clone())).await;
    shutdown.cancel();
    let _ = relay.await;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C, and cancels `token` so background tasks stop too.
async fn shutdown_signal(token: CancellationToken) {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
        _ = token.cancelled() => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
    token.cancel();
}

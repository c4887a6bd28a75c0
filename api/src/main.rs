//! `ratify-api`: the HTTP service. `ratify-api` (or `ratify-api serve`) serves;
//! `ratify-api migrate` applies the database migrations once and exits. The service itself
//! is the library's [`ratify_api::run`]; this binary adds the environment and the signals.

use anyhow::Context;
use clap::{Parser, Subcommand};
use ratify_api::{ApiConfig, Vars};
use ratify_shared::config::{cancel_on_signal, init_tracing};
use tokio_util::sync::CancellationToken;

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
        Command::Migrate => {
            init_tracing(false);
            let url: String = Vars::process().required("DATABASE_URL")?;
            ratify_api::migrate(&url).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
    }
}

async fn serve() -> anyhow::Result<()> {
    let config = ApiConfig::from_env()?;
    init_tracing(config.common.json_logs);
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .with_context(|| format!("binding API_ADDR {}", config.addr))?;
    // One plain line on stdout says where the api listens (API_ADDR may use port 0).
    println!("ratify-api listening on http://{}", listener.local_addr()?);
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    ratify_api::run(config, listener, shutdown).await
}

//! `ratify-worker`: the binary around [`ratify_worker::run`]: settings from the
//! environment, and SIGTERM or Ctrl-C to stop.

use ratify_shared::config::{cancel_on_signal, init_tracing};
use ratify_worker::WorkerConfig;
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = WorkerConfig::from_env()?;
    init_tracing(config.common.json_logs);
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    ratify_worker::run(config, shutdown).await
}

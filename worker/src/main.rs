//! `ratify-worker`: the binary around [`ratify_worker::run`]: settings from the
//! environment, and SIGTERM or Ctrl-C to stop.

use ratify_shared::config::init_tracing;
use ratify_worker::WorkerConfig;
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = WorkerConfig::from_env()?;
    init_tracing(config.common.json_logs);
    let shutdown = CancellationToken::new();
    tokio::spawn(on_signal(shutdown.clone()));
    ratify_worker::run(config, shutdown).await
}

/// Cancels `token` on SIGTERM or Ctrl-C.
async fn on_signal(token: CancellationToken) {
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
    token.cancel();
}

//! The worker's settings, from the environment.

use ratify_shared::config::{in_range, Common, ConfigError, Vars};

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub common: Common,
    /// Chunks applied at once per lane (the RabbitMQ prefetch of each consumer). Each holds
    /// one Postgres connection while it runs.
    pub concurrency: u16,
    /// Chunks applied at once across all workers of the deployment (0: no cap); see
    /// `ratify_shared::chunk::slots`.
    pub apply_slots: u32,
    /// Seconds a worker waits for in-flight chunks on SIGTERM before giving them back.
    pub drain_seconds: u64,
    /// In-process retries of a failing chunk before it goes back to the broker.
    pub chunk_retries: usize,
    /// Jobs and their outcomes older than this are purged.
    pub retention_days: i64,
    /// Seconds between purges.
    pub purge_every_seconds: u64,
    /// Seconds between auto-approval runs.
    pub auto_approve_every_seconds: u64,
    /// Seconds a webhook receiver has to answer.
    pub webhook_timeout_seconds: u64,
    /// Seconds before a failed webhook's first retry (then doubling, up to an hour).
    pub webhook_retry_seconds: u64,
    /// Whether webhooks may go to private, loopback and link-local addresses.
    pub webhook_allow_private: bool,
    /// Where Prometheus scrapes this worker (`RATIFY_METRICS_ADDR`); unset: not served.
    pub metrics_addr: Option<std::net::SocketAddr>,
}

impl WorkerConfig {
    pub fn from_env() -> Result<WorkerConfig, ConfigError> {
        WorkerConfig::from_vars(&Vars::process())
    }

    pub fn from_vars(vars: &Vars) -> Result<WorkerConfig, ConfigError> {
        let concurrency = in_range("RATIFY_WORKER_CONCURRENCY", vars.var("RATIFY_WORKER_CONCURRENCY", 4)?, 1..=64)?;
        Ok(WorkerConfig {
            // Work and express lanes may each run `concurrency` chunks, plus the dead-letter
            // lane, the relay, the purge (two), the heartbeat, the auto-approval scheduler and the
            // webhook deliveries.
            common: Common::from_vars(vars, 2 * u32::from(concurrency) + 7)?,
            concurrency,
            apply_slots: in_range("RATIFY_APPLY_SLOTS", vars.var("RATIFY_APPLY_SLOTS", 0)?, 0..=10_000)?,
            drain_seconds: in_range("RATIFY_DRAIN_SECONDS", vars.var("RATIFY_DRAIN_SECONDS", 30)?, 0..=3600)?,
            chunk_retries: in_range("RATIFY_CHUNK_RETRIES", vars.var("RATIFY_CHUNK_RETRIES", 3)?, 0..=100)?,
            metrics_addr: vars.optional("RATIFY_METRICS_ADDR")?,
            retention_days: in_range("RATIFY_RETENTION_DAYS", vars.var("RATIFY_RETENTION_DAYS", 60)?, 1..=3650)?,
            webhook_timeout_seconds: in_range(
                "RATIFY_WEBHOOK_TIMEOUT_SECONDS",
                vars.var("RATIFY_WEBHOOK_TIMEOUT_SECONDS", 10)?,
                1..=300,
            )?,
            webhook_retry_seconds: in_range(
                "RATIFY_WEBHOOK_RETRY_SECONDS",
                vars.var("RATIFY_WEBHOOK_RETRY_SECONDS", 5)?,
                1..=3600,
            )?,
            webhook_allow_private: vars.var::<u8>("RATIFY_WEBHOOK_ALLOW_PRIVATE", 0)? == 1,
            auto_approve_every_seconds: in_range(
                "RATIFY_AUTO_APPROVE_INTERVAL_SECONDS",
                vars.var("RATIFY_AUTO_APPROVE_INTERVAL_SECONDS", 60)?,
                1..=24 * 3600,
            )?,
            purge_every_seconds: in_range(
                "RATIFY_PURGE_INTERVAL_SECONDS",
                vars.var("RATIFY_PURGE_INTERVAL_SECONDS", 3600)?,
                1..=7 * 24 * 3600,
            )?,
        })
    }
}

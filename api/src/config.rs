//! The api's settings, from the environment (see the README's configuration table).

use std::net::SocketAddr;

use ratify_shared::config::{in_range, Common, ConfigError, Vars};

#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Whether webhook URLs may name private, loopback and link-local addresses.
    pub webhook_allow_private: bool,
    pub common: Common,
    /// A streaming replica of the database for job status, job lists and transaction lookups
    /// (`DATABASE_READ_URL`; unset: everything on the primary). See `reads.rs`.
    pub read_database_url: Option<String>,
    pub addr: SocketAddr,
    pub admin_token: String,
    pub max_batch_items: usize,
    pub max_batch_bytes: usize,
    pub max_body_bytes: usize,
    pub chunk_size: usize,
    /// Weight (about the bytes its items take) a chunk may reach; bounds a worker's memory.
    pub chunk_bytes: usize,
    /// Bytes of finished jobs' rendered item lists kept in memory (0: none).
    pub output_cache_bytes: u64,
    /// Calls a minute per token on the advertiser routes (0: unlimited).
    pub rate_limit_per_minute: u32,
    /// Seconds one request may take, body read and answer included.
    pub request_timeout_seconds: u64,
    /// Seconds a client has to send a request head whole (also how long an idle
    /// keep-alive connection is kept).
    pub header_timeout_seconds: u64,
    /// Connections served at once; more wait in the listen backlog.
    pub max_connections: usize,
}

impl ApiConfig {
    pub fn from_env() -> Result<ApiConfig, ConfigError> {
        ApiConfig::from_vars(&Vars::process())
    }

    pub fn from_vars(vars: &Vars) -> Result<ApiConfig, ConfigError> {
        let admin_token: String = vars.required("ADMIN_TOKEN")?;
        if admin_token.len() < 16 {
            return Err(ConfigError::Invalid {
                name: "ADMIN_TOKEN",
                value: "(hidden)".to_owned(),
                reason: "must be at least 16 characters".to_owned(),
            });
        }
        Ok(ApiConfig {
            common: Common::from_vars(vars, 16)?,
            read_database_url: vars.optional("DATABASE_READ_URL")?,
            addr: vars.var("API_ADDR", SocketAddr::from(([127, 0, 0, 1], 8080)))?,
            admin_token,
            max_batch_items: in_range(
                "RATIFY_MAX_BATCH_ITEMS",
                vars.var("RATIFY_MAX_BATCH_ITEMS", 100_000)?,
                1..=1_000_000,
            )?,
            max_batch_bytes: in_range(
                "RATIFY_MAX_BATCH_BYTES",
                vars.var("RATIFY_MAX_BATCH_BYTES", 64 * 1024 * 1024)?,
                1024..=1024 * 1024 * 1024,
            )?,
            max_body_bytes: in_range(
                "RATIFY_MAX_BODY_BYTES",
                vars.var("RATIFY_MAX_BODY_BYTES", 64 * 1024 * 1024)?,
                1024..=1024 * 1024 * 1024,
            )?,
            webhook_allow_private: vars.var::<u8>("RATIFY_WEBHOOK_ALLOW_PRIVATE", 0)? == 1,
            chunk_size: in_range("RATIFY_CHUNK_SIZE", vars.var("RATIFY_CHUNK_SIZE", 1000)?, 1..=100_000)?,
            chunk_bytes: in_range(
                "RATIFY_CHUNK_BYTES",
                vars.var("RATIFY_CHUNK_BYTES", 1024 * 1024)?,
                64 * 1024..=256 * 1024 * 1024,
            )?,
            rate_limit_per_minute: in_range(
                "RATIFY_RATE_LIMIT_PER_MINUTE",
                vars.var("RATIFY_RATE_LIMIT_PER_MINUTE", 600)?,
                0..=1_000_000,
            )?,
            output_cache_bytes: in_range(
                "RATIFY_OUTPUT_CACHE_BYTES",
                vars.var("RATIFY_OUTPUT_CACHE_BYTES", 64 * 1024 * 1024)?,
                0..=16 * 1024 * 1024 * 1024,
            )?,
            request_timeout_seconds: in_range(
                "RATIFY_REQUEST_TIMEOUT_SECONDS",
                vars.var("RATIFY_REQUEST_TIMEOUT_SECONDS", 60)?,
                1..=3600,
            )?,
            header_timeout_seconds: in_range(
                "RATIFY_HEADER_TIMEOUT_SECONDS",
                vars.var("RATIFY_HEADER_TIMEOUT_SECONDS", 10)?,
                1..=600,
            )?,
            max_connections: in_range(
                "RATIFY_MAX_CONNECTIONS",
                vars.var("RATIFY_MAX_CONNECTIONS", 1024)?,
                1..=1_000_000,
            )?,
        })
    }
}

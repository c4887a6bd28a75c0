//! What every handler shares.

use std::sync::Arc;

use sqlx::PgPool;

use crate::config::ApiConfig;
use crate::output_cache::OutputCache;
use ratify_shared::outbox::Publisher;

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    /// Where the reads a replica may serve go (see `reads.rs`).
    pub reads: Arc<crate::reads::Reads>,
    pub publisher: Arc<Publisher>,
    pub config: Arc<ApiConfig>,
    pub admin_token_hash: Arc<[u8]>,
    pub outputs: Arc<OutputCache>,
    /// Renders the Prometheus text of `/metrics`.
    pub metrics: metrics_exporter_prometheus::PrometheusHandle,
    /// Per-token limit of the advertiser routes; `None` when RATIFY_RATE_LIMIT_PER_MINUTE=0.
    pub rate_limit: Option<Arc<crate::rate_limit::RateLimit>>,
}

//! `ratify-shared`: the I/O the api and the workers share. Postgres access (the schema's
//! migrations and every query), applying a chunk (the workers for batches, the api for
//! one action now), the queue topology and the durable publish path (the
//! outbox and its relay), the one message that crosses the queue, configuration, tracing
//! and the metrics exporter.
//!
//! What it computes it takes from `ratify-domain`; this crate adds only where things are
//! stored and how they travel. It may depend on sqlx, lapin, tokio, tracing and the
//! metrics crates, never on axum (the api's) or an HTTP client.

pub mod broker;
pub mod chunk;
pub mod config;
pub mod db;
pub mod message;
pub mod metrics;
pub mod outbox;

//! Ratify's domain and persistence, shared by the api and the workers: actions and
//! references, money, commission, the validation state machine, jobs and their chunks,
//! Postgres access, the queue topology, and configuration.

pub mod apply;
pub mod batch;
pub mod broker;
pub mod commission;
pub mod config;
pub mod db;
pub mod job;
pub mod localtime;
pub mod message;
pub mod metrics;
pub mod money;
pub mod outbox;
pub mod state;
pub mod text;

//! `ratify-domain`: what Ratify computes, apart from where it reads and writes. Exact
//! money and currencies, commission groups and what they pay, the validation state
//! machine (what an action does to a transaction in a given commission status), a batch
//! item read into a command, a job's items and chunks, item outcomes, local times in IANA
//! zones, and which text can be stored.
//!
//! What it may depend on: serde, chrono (with chrono-tz), rust_decimal, iso_currency and
//! small pure helpers; never on an I/O crate. With the `sqlx` feature its enums map onto
//! the columns that store them, for the store (`ratify-shared`); with `openapi` they carry
//! their schemas, for the api's document (`ratify-wire`). Its users: the store and the
//! broker code (`ratify-shared`), the api's bodies (`ratify-wire`), the api, the workers
//! and the fuzz targets, which build it alone.

pub mod apply;
pub mod batch;
pub mod commission;
pub mod ids;
pub mod job;
pub mod localtime;
pub mod money;
pub mod state;
pub mod text;
pub mod webhook;

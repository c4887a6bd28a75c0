//! Ratify end to end, in one test binary: each module is one area of the api or one kind
//! of fault, each test one scenario, on the real Postgres and RabbitMQ that
//! `deploy/local.sh test` starts. Every test gets its own database and queue names
//! ([`ratify_tests::Stack`]); shared builders live in the test library
//! (`ratify_tests::actions`). One binary links reqwest, sqlx and lapin once, not once per
//! area. Run one area with `deploy/local.sh test -E 'test(/^faults::/)'`.

mod api_contract;
mod browser_smoke;
mod chunk_chain;
mod cli;
mod compose;
mod console;
mod doc_links;
mod edges;
mod faults;
mod hostile_input;
mod hot_updates;
mod isolation;
mod job_snapshot;
mod limits;
mod metrics;
mod openapi;
mod outcomes;
mod purge;
mod rate_limit;
mod references;
mod replica;
mod schemathesis;
mod secrets;
mod smoke;
mod webhooks;
mod workers;

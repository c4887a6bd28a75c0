//! The job console at `/console`: server-rendered HTML (maud) for people, beside the JSON
//! api for programs. Every page reads what the api routes read, through the same
//! functions; the live progress of a job page polls the api's own job route, which takes
//! the console's session cookie for reads.
//!
//! Pages are not in the OpenAPI document, which describes the api for programs; they
//! are listed in docs/console.md. No page changes anything on GET: signing in and out
//! are the only writes, and they are POSTs. Every asset is compiled in and served here.

mod downloads;
mod error;
mod health;
mod jobs;
mod layout;
pub mod session;
mod transactions;

use axum::response::Redirect;
use axum::routing::{get, post};
use axum::Router;

pub use error::ConsoleError;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console", get(|| async { Redirect::to("/console/jobs") }))
        .route("/console/", get(|| async { Redirect::to("/console/jobs") }))
        .route("/console/sign-in", get(session::sign_in_page).post(session::sign_in))
        .route("/console/sign-out", post(session::sign_out))
        .route("/console/jobs", get(jobs::list))
        .route("/console/jobs/{aid}/{job_id}", get(jobs::one))
        .route("/console/jobs/{aid}/{job_id}/outcomes.csv", get(downloads::csv))
        .route("/console/transactions/{aid}/{id}", get(transactions::one))
        .route("/console/health", get(health::page_))
        .route("/console/assets/console.css", get(layout::stylesheet))
        .route("/console/assets/console.js", get(layout::script))
}

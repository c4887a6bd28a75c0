//! `GET /console/health`: what an operator checks first on a bad day: the queues, the
//! outbox, the workers, the oldest job not finished.

use axum::extract::State;
use maud::{html, Markup};
use ratify_shared::db;

use super::error::ConsoleError;
use super::layout::page;
use super::session::Session;
use crate::state::AppState;
use crate::views;

/// Workers that beat within this many seconds are listed as alive.
const SEEN_WITHIN: f64 = 30.0;

pub async fn page_(session: Session, State(state): State<AppState>) -> Result<Markup, ConsoleError> {
    let (depths, read) = tokio::join!(state.publisher.queue_depths(), async {
        let mut conn = state.pool.acquire().await?;
        let backlog = db::health::backlog(&mut conn).await?;
        let workers = db::health::workers_seen(&mut conn, SEEN_WITHIN).await?;
        Ok::<_, sqlx::Error>((backlog, workers))
    });
    let (backlog, workers) = read?;
    let body = html! {
        h2 { "Queues" }
        @if depths.is_empty() {
            p.problem role="status" { "RabbitMQ is unreachable: batches are still accepted and wait in the outbox." }
        } @else {
            table aria-label="Queue depths" {
                thead { tr { th scope="col" { "Queue" } th.num scope="col" { "Messages waiting" } } }
                tbody { @for (queue, depth) in &depths { tr { td { code { (queue) } } td.num { (depth) } } } }
            }
        }
        h2 { "Outbox" }
        p { (backlog.unpublished_chunks) " chunks stored and not yet confirmed by the broker." }
        h2 { "Jobs not finished" }
        p {
            (backlog.unfinished_jobs) " jobs not DONE."
            @if let (Some(aid), Some(job)) = (backlog.oldest_advertiser_id, backlog.oldest_job_id) {
                " The oldest was accepted " (format!("{:.0}", backlog.oldest_unfinished_seconds)) " s ago"
                @if session.sees(aid) {
                    ": " a href={"/console/jobs/" (aid) "/" (job)} { code { (job) } }
                }
                "."
            }
        }
        h2 { "Workers seen in the last " (SEEN_WITHIN) " s" }
        @if workers.is_empty() {
            p.problem role="status" { "No worker has been seen: jobs make no progress." }
        } @else {
            table aria-label="Workers" {
                thead { tr { th scope="col" { "Host" } th.num scope="col" { "PID" } th scope="col" { "Started" } th scope="col" { "Last seen" } } }
                tbody {
                    @for w in &workers {
                        tr { td { (w.hostname) } td.num { (w.pid) } td { (views::instant(w.started_at)) } td { (views::instant(w.seen_at)) } }
                    }
                }
            }
        }
    };
    Ok(page("Health", true, body))
}

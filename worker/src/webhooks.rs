//! Draining the webhook outbox: every worker claims due deliveries (by a lease a little
//! longer than the receiver's time limit), posts each, and records the attempt and what
//! follows it. At least once: a delivery is done only when the receiver answered `2xx`;
//! a worker that dies mid-post leaves it to be claimed again once its lease is over, with
//! the same `webhook-id`. Failed attempts are retried with exponential backoff (backon's,
//! jittered, from `RATIFY_WEBHOOK_RETRY_SECONDS` up to an hour) for 24 hours, then given up.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use chrono::Utc;
use ratify_domain::job::OutcomeCode;
use ratify_shared::db;
use ratify_shared::db::webhooks::{Attempt, Claimed, Next};
use ratify_webhooks::{Message, Poster};
use serde_json::json;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

/// How long a delivery is retried before it is given up.
const RETRY_FOR: chrono::TimeDelta = chrono::TimeDelta::hours(24);
/// Deliveries claimed at once by one worker.
const CLAIM: i64 = 16;
/// How often an idle worker looks for due deliveries.
const POLL: Duration = Duration::from_millis(500);

#[derive(Debug, Clone)]
pub struct Settings {
    pub poster: Poster,
    /// The first retry's delay; each later one doubles, up to an hour.
    pub retry: Duration,
}

impl Settings {
    /// A claim outlasts the post's time limit, so two workers never post one delivery at once.
    fn lease(&self) -> Duration {
        self.poster.timeout * 2 + Duration::from_secs(5)
    }

    /// The delay before the attempt after attempt `n` (1-based).
    fn delay_after(&self, n: i32) -> Duration {
        let mut delays = ExponentialBuilder::default()
            .with_min_delay(self.retry)
            .with_max_delay(Duration::from_secs(3600))
            .with_jitter()
            .without_max_times()
            .build();
        delays.nth(n.saturating_sub(1) as usize).unwrap_or(Duration::from_secs(3600))
    }
}

pub async fn run(pool: PgPool, settings: Settings, shutdown: CancellationToken) {
    loop {
        let worked = match drain_once(&pool, &settings).await {
            Ok(n) => n > 0,
            Err(e) => {
                tracing::warn!(error = %e, "webhook deliveries failed; will try again");
                false
            }
        };
        if !worked {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(POLL) => {}
            }
        } else if shutdown.is_cancelled() {
            return;
        }
    }
}

/// Claims and posts what is due; returns how many were attempted.
pub async fn drain_once(pool: &PgPool, settings: &Settings) -> sqlx::Result<usize> {
    let claimed = {
        let mut conn = pool.acquire().await?;
        db::webhooks::claim(&mut conn, settings.lease(), CLAIM).await?
    };
    let n = claimed.len();
    for delivery in claimed {
        attempt(pool, settings, &delivery).await?;
    }
    Ok(n)
}

async fn attempt(pool: &PgPool, settings: &Settings, delivery: &Claimed) -> sqlx::Result<()> {
    let mut conn = pool.acquire().await?;
    let Some(webhook) = db::webhooks::get(&mut conn, delivery.advertiser_id).await? else {
        let attempt = Attempt {
            url: String::new(),
            status: None,
            error: Some("the advertiser has no webhook any more".to_owned()),
            duration_ms: 0,
        };
        return db::webhooks::record(&mut conn, delivery, &attempt, Next::GiveUp).await;
    };
    let body = payload(&mut conn, delivery).await?;
    drop(conn);
    let id = delivery.id.to_string();
    let message =
        Message { url: &webhook.url, secret: &webhook.secret, id: &id, timestamp: Utc::now().timestamp(), body: &body };
    let outcome = settings.poster.post(&message).await;
    let next = if outcome.delivered() {
        Next::Delivered
    } else if Utc::now() - delivery.created_at > RETRY_FOR {
        Next::GiveUp
    } else {
        let wait =
            chrono::TimeDelta::from_std(settings.delay_after(delivery.attempts)).unwrap_or(chrono::TimeDelta::hours(1));
        Next::RetryAt(Utc::now() + wait)
    };
    tracing::info!(delivery = %delivery.id, attempt = delivery.attempts, status = ?outcome.status,
        error = ?outcome.error, ?next, "webhook attempt");
    let attempt = Attempt {
        url: webhook.url,
        status: outcome.status.map(i32::from),
        error: outcome.error,
        duration_ms: outcome.duration.as_millis().min(i32::MAX as u128) as i32,
    };
    let mut conn = pool.acquire().await?;
    db::webhooks::record(&mut conn, delivery, &attempt, next).await
}

/// The delivery's body: for a job, what it ended with; for a ping, who it is for.
async fn payload(conn: &mut sqlx::PgConnection, delivery: &Claimed) -> sqlx::Result<String> {
    let Some(job_id) = delivery.job_id else {
        return Ok(json!({"type": "ping", "advertiserId": delivery.advertiser_id.0}).to_string());
    };
    let Some(job) = db::jobs::get(&mut *conn, delivery.advertiser_id, job_id).await? else {
        return Ok(json!({"type": delivery.event, "jobId": job_id, "status": "PURGED"}).to_string());
    };
    let counts: serde_json::Map<String, serde_json::Value> =
        db::jobs::counts_by_code(conn, &[(delivery.advertiser_id, job_id)])
            .await?
            .into_iter()
            .map(|(_, code, n)| {
                let label = OutcomeCode::from_status(code).map_or_else(|| code.to_string(), |c| c.label().to_owned());
                (label, json!(n))
            })
            .collect();
    Ok(json!({
        "type": delivery.event,
        "jobId": job.id,
        "status": job.status,
        "transactionCount": job.transaction_count,
        "errorCount": job.error_count,
        "countsByCode": counts,
        "completionDate": job.completion_date.map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
    })
    .to_string())
}

//! `ratify webhook set|show|delete|test`: an advertiser's completion webhook.

use std::io::Write;
use std::time::{Duration, Instant};

use ratify_wire::{DeliveryView, PingQueued, WebhookSettings, WebhookView};
use reqwest::Method;

use crate::client::Api;
use crate::error::{exit, CliError};
use crate::output;

fn path(advertiser: i64) -> String {
    format!("/advertisers/{advertiser}/webhook")
}

pub async fn set(api: &Api, advertiser: i64, url: &str, secret: &str, json: bool) -> Result<u8, CliError> {
    let body = WebhookSettings { url: url.to_owned(), secret: secret.to_owned() };
    let saved: WebhookView = api.json(api.request(Method::PUT, &path(advertiser)).json(&body), None).await?;
    let mut out = std::io::stdout().lock();
    if json {
        output::json(&mut out, &saved)?;
    } else {
        writeln!(out, "advertiser {advertiser}: jobs that are DONE are posted to {}", saved.url)?;
    }
    Ok(exit::APPLIED)
}

pub async fn show(api: &Api, advertiser: i64, json: bool) -> Result<u8, CliError> {
    let saved: WebhookView = api.get(&path(advertiser)).await?;
    let mut out = std::io::stdout().lock();
    if json {
        output::json(&mut out, &saved)?;
    } else {
        writeln!(out, "{} (set {})", saved.url, saved.updated_at)?;
    }
    Ok(exit::APPLIED)
}

pub async fn delete(api: &Api, advertiser: i64) -> Result<u8, CliError> {
    api.send(api.request(Method::DELETE, &path(advertiser)), None).await?;
    Ok(exit::APPLIED)
}

/// Queues a test delivery and follows it until it is delivered or `timeout` is over: exit
/// `0` when the receiver answered `2xx`, `4` when it has not (yet).
pub async fn test(api: &Api, advertiser: i64, timeout: Duration, json: bool) -> Result<u8, CliError> {
    let queued: PingQueued = api.json(api.request(Method::POST, &format!("{}/test", path(advertiser))), None).await?;
    let follow = format!("{}/deliveries/{}", path(advertiser), queued.delivery_id);
    let started = Instant::now();
    loop {
        let delivery: DeliveryView = api.get(&follow).await?;
        let over = started.elapsed() >= timeout || delivery.given_up_at.is_some();
        if delivery.delivered_at.is_some() || over {
            let mut out = std::io::stdout().lock();
            if json {
                output::json(&mut out, &delivery)?;
            } else {
                for a in &delivery.attempts {
                    let got = a.status.map_or_else(|| a.error.clone().unwrap_or_default(), |s| format!("HTTP {s}"));
                    writeln!(out, "attempt {}: {got} in {} ms", a.attempt, a.duration_ms)?;
                }
                let verdict = if delivery.delivered_at.is_some() { "delivered" } else { "not delivered" };
                writeln!(out, "test delivery {} {verdict}", delivery.delivery_id)?;
            }
            return Ok(if delivery.delivered_at.is_some() { exit::APPLIED } else { exit::UNFINISHED });
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

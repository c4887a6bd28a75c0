//! The one retry policy. An answer of `429` (rate limited) or `503` (the api cannot take
//! the request now) means nothing was done, so the request is sent again: after the
//! `Retry-After` the api gave, else after a jittered exponential backoff. Bounded in
//! count ([`MAX_TIMES`]) and in the longest wait anyone would sit through
//! ([`MAX_RETRY_AFTER`]); a network failure is not retried here (`--wait` waits those
//! out itself; a submit that timed out is safe to run again by its Idempotency-Key).

use std::time::Duration;

use backon::ExponentialBuilder;
use reqwest::header::{HeaderMap, RETRY_AFTER};

use crate::error::CliError;

/// Attempts after the first.
pub const MAX_TIMES: usize = 8;
/// A `Retry-After` longer than this ends the run with the api's answer instead.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

pub fn policy() -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_secs(1))
        .with_max_delay(Duration::from_secs(30))
        .with_max_times(MAX_TIMES)
        .with_jitter()
}

/// Whether an error is worth asking again.
pub fn retryable(e: &CliError) -> bool {
    matches!(e, CliError::Api { status: 429 | 503, .. })
}

/// The wait before the next attempt: the api's `Retry-After` if it gave one (and it is
/// not too long), else the backoff's; `None` when the attempts are spent.
pub fn delay(e: &CliError, backoff: Option<Duration>) -> Option<Duration> {
    let backoff = backoff?;
    match e {
        CliError::Api { retry_after: Some(after), .. } => (*after <= MAX_RETRY_AFTER).then_some(*after),
        _ => Some(backoff),
    }
}

/// `Retry-After` in seconds, the form the api sends. (The HTTP-date form, which only a
/// proxy might send, falls back to the backoff.)
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let seconds: u64 = headers.get(RETRY_AFTER)?.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(seconds))
}

/// What the user reads before the wait.
pub fn note(e: &CliError, wait: Duration) -> String {
    let why = match e {
        CliError::Api { retry_after: Some(_), .. } => " (Retry-After)",
        _ => "",
    };
    format!("{e}; asking again in {:.1} s{why}", wait.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    fn api(status: u16, retry_after: Option<u64>) -> CliError {
        CliError::Api {
            status,
            error: "RATE_LIMITED".into(),
            description: "slow down".into(),
            retry_after: retry_after.map(Duration::from_secs),
        }
    }

    #[test]
    fn only_429_and_503_are_asked_again() {
        assert!(retryable(&api(429, None)) && retryable(&api(503, Some(5))));
        for status in [400, 403, 404, 413, 422, 500, 502] {
            assert!(!retryable(&api(status, None)), "{status}");
        }
        assert!(!retryable(&CliError::Transport { url: "u".into(), message: "refused".into() }));
    }

    #[test]
    fn the_api_s_retry_after_wins_over_the_backoff_within_bounds() {
        let backoff = Some(Duration::from_millis(1500));
        assert_eq!(delay(&api(429, Some(7)), backoff), Some(Duration::from_secs(7)));
        assert_eq!(delay(&api(503, None), backoff), backoff);
        assert_eq!(delay(&api(429, Some(7)), None), None, "the attempts are spent");
        assert_eq!(delay(&api(429, Some(301)), backoff), None, "too long a wait ends the run");
        assert!(note(&api(429, Some(7)), Duration::from_secs(7)).ends_with("asking again in 7.0 s (Retry-After)"));
    }

    #[test]
    fn retry_after_is_read_in_seconds() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(RETRY_AFTER, HeaderValue::from_static(" 12 "));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(12)));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"));
        assert_eq!(retry_after(&headers), None);
    }
}

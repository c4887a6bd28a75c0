//! Per-token rate limiting of the advertiser routes (`/advertisers/...`), like Awin's
//! limit per user: a token may make `RATIFY_RATE_LIMIT_PER_MINUTE` calls a minute, all of
//! them at once if it saved them up. Every answer says where the caller stands
//! (`X-RateLimit-Limit`, `-Remaining`, `-Reset`); over the limit it is `429` with
//! `Retry-After`. Tokens are keyed by their hash, as everywhere.

use std::num::NonZeroU32;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::auth;
use crate::error::ApiError;
use crate::state::AppState;

type Limiter = RateLimiter<Vec<u8>, DefaultKeyedStateStore<Vec<u8>>, DefaultClock, StateInformationMiddleware>;

pub struct RateLimit {
    limiter: Limiter,
    per_minute: NonZeroU32,
}

impl RateLimit {
    pub fn per_minute(per_minute: NonZeroU32) -> RateLimit {
        let limiter = RateLimiter::keyed(Quota::per_minute(per_minute)).with_middleware::<StateInformationMiddleware>();
        RateLimit { limiter, per_minute }
    }

    /// Forgets tokens whose allowance is full again, so unknown tokens cannot grow the
    /// table without bound.
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    /// Seconds until `remaining` calls have become a full allowance again.
    fn reset_seconds(&self, remaining: u32) -> u64 {
        let per_call = 60.0 / f64::from(self.per_minute.get());
        (f64::from(self.per_minute.get() - remaining.min(self.per_minute.get())) * per_call).ceil() as u64
    }

    fn headers(&self, headers: &mut HeaderMap, remaining: u32) {
        headers.insert("x-ratelimit-limit", HeaderValue::from(self.per_minute.get()));
        headers.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
        headers.insert("x-ratelimit-reset", HeaderValue::from(self.reset_seconds(remaining)));
    }
}

/// The middleware. Requests without a bearer token pass (they are refused with `401`).
pub async fn enforce(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(limit) = state.rate_limit.as_deref() else { return next.run(request).await };
    if !request.uri().path().starts_with("/advertisers/") {
        return next.run(request).await;
    }
    let Some(key) = auth::bearer(request.headers()).map(auth::hash) else { return next.run(request).await };
    match limit.limiter.check_key(&key) {
        Ok(snapshot) => {
            let mut response = next.run(request).await;
            limit.headers(response.headers_mut(), snapshot.remaining_burst_capacity());
            response
        }
        Err(not_until) => {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let mut response = ApiError::RateLimited(retry_after(wait)).into_response();
            limit.headers(response.headers_mut(), 0);
            response
        }
    }
}

/// Whole seconds to wait, at least one.
fn retry_after(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0).max(u64::from(wait.as_secs() == 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_the_quota_then_refuses_per_token() {
        let limit = RateLimit::per_minute(NonZeroU32::new(3).unwrap());
        let (a, b) = (b"a".to_vec(), b"b".to_vec());
        let remaining: Vec<u32> =
            (0..3).map(|_| limit.limiter.check_key(&a).unwrap().remaining_burst_capacity()).collect();
        assert_eq!(remaining, vec![2, 1, 0]);
        let refused = limit.limiter.check_key(&a).unwrap_err();
        let wait = refused.wait_time_from(DefaultClock::default().now());
        assert!(wait > Duration::from_secs(15) && wait <= Duration::from_secs(20), "{wait:?}");
        assert!(limit.limiter.check_key(&b).is_ok(), "another token has its own allowance");
        assert_eq!(limit.reset_seconds(0), 60);
        assert_eq!(limit.reset_seconds(3), 0);
        assert_eq!(retry_after(Duration::from_millis(200)), 1);
        assert_eq!(retry_after(Duration::from_secs(20)), 20);
        assert_eq!(retry_after(Duration::from_millis(20_100)), 21);
    }
}

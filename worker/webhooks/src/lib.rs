//! `ratify-webhooks`: posting one signed webhook, the only HTTP the workers speak (as a
//! client; they serve none). Signed per the Standard Webhooks spec: `webhook-id`,
//! `webhook-timestamp` (Unix seconds) and `webhook-signature: v1,<base64 HMAC-SHA256 of
//! "{id}.{timestamp}.{body}">`. The target is checked by `ratify_domain::webhook` at the
//! moment it is resolved, the post goes to the address checked, redirects are never
//! followed (a `3xx` is a failed attempt), and a receiver gets a time limit.
//!
//! It knows nothing of Postgres or of the outbox: the worker claims a delivery, calls
//! [`Poster::post`], and records what it returns.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use ratify_domain::webhook;
use sha2::Sha256;

/// The key a secret signs with: a Standard Webhooks secret (`whsec_` and base64) is its
/// decoded bytes; any other secret, its own bytes.
pub fn signing_key(secret: &str) -> Vec<u8> {
    secret
        .strip_prefix("whsec_")
        .and_then(|b64| STANDARD.decode(b64).ok())
        .unwrap_or_else(|| secret.as_bytes().to_vec())
}

/// The `webhook-signature` header's value for one message.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> String {
    // HMAC takes a key of any length: new_from_slice cannot fail for it.
    let mut mac = Hmac::<Sha256>::new_from_slice(&signing_key(secret)).unwrap_or_else(|_| unreachable!());
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// What one attempt got: the receiver's status (`2xx` is delivered), or why there was none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status: Option<u16>,
    pub error: Option<String>,
    pub duration: Duration,
}

impl Outcome {
    pub fn delivered(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Posts webhooks with one policy.
#[derive(Debug, Clone)]
pub struct Poster {
    pub timeout: Duration,
    pub allow_private: bool,
}

/// One message to post.
pub struct Message<'a> {
    pub url: &'a str,
    pub secret: &'a str,
    pub id: &'a str,
    pub timestamp: i64,
    pub body: &'a str,
}

impl Poster {
    /// Posts one message; never fails: what went wrong is the outcome.
    pub async fn post(&self, message: &Message<'_>) -> Outcome {
        let started = Instant::now();
        let (status, error) = match self.send(message).await {
            Ok(status) => (Some(status), None),
            Err(error) => (None, Some(error)),
        };
        Outcome { status, error, duration: started.elapsed() }
    }

    async fn send(&self, message: &Message<'_>) -> Result<u16, String> {
        let target = webhook::parse(message.url)?;
        let addr = self.resolve(&target).await?;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(self.timeout)
            .connect_timeout(self.timeout)
            .user_agent(concat!("Ratify-Webhooks/", env!("CARGO_PKG_VERSION")))
            .resolve(&target.host, addr)
            .build()
            .map_err(|e| format!("cannot set up the HTTP client: {e}"))?;
        let response = client
            .post(target.url)
            .header("content-type", "application/json")
            .header("webhook-id", message.id)
            .header("webhook-timestamp", message.timestamp.to_string())
            .header("webhook-signature", sign(message.secret, message.id, message.timestamp, message.body))
            .body(message.body.to_owned())
            .send()
            .await
            .map_err(|e| describe(&e))?;
        Ok(response.status().as_u16())
    }

    /// The address to post to: the host's, every one of them allowed.
    async fn resolve(&self, target: &webhook::Target) -> Result<SocketAddr, String> {
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((target.host.as_str(), target.port))
            .await
            .map_err(|e| format!("cannot resolve {}: {e}", target.host))?
            .collect();
        if let Some(refused) = addrs.iter().find(|a| !webhook::allowed(a.ip(), self.allow_private)) {
            return Err(format!(
                "{} resolves to {}, a private, loopback or link-local address: refused",
                target.host,
                refused.ip()
            ));
        }
        addrs.first().copied().ok_or_else(|| format!("{} resolves to no address", target.host))
    }
}

/// The innermost cause of a transport error, which says what happened.
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "the receiver did not answer in time".to_owned();
    }
    let mut cause: &dyn std::error::Error = e;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_follow_the_standard_webhooks_example() {
        // The example of the Standard Webhooks specification.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = r#"{"test": 2432232314}"#;
        let signature = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[tokio::test]
    async fn a_private_target_is_refused_before_anything_is_sent() {
        let poster = Poster { timeout: Duration::from_secs(1), allow_private: false };
        for url in ["http://127.0.0.1:9/hook", "http://169.254.169.254/latest", "http://localhost:9/"] {
            let message = Message { url, secret: "s", id: "msg_1", timestamp: 1, body: "{}" };
            let outcome = poster.post(&message).await;
            assert_eq!(outcome.status, None, "{url}");
            assert!(outcome.error.as_deref().is_some_and(|e| e.contains("refused")), "{url}: {outcome:?}");
        }
    }
}

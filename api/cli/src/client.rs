//! The HTTP side of the CLI: one client per run, bearer authentication, the retry
//! policy around every request ([`crate::retry`]), and the one place where an answer
//! that is not 2xx becomes a [`CliError`].

use std::time::Duration;

use backon::Retryable;
use indicatif::ProgressBar;
use ratify_wire::ErrorBody;
use reqwest::{Method, RequestBuilder, Response};
use serde::de::DeserializeOwned;

use crate::error::CliError;
use crate::retry;

/// Ratify's api at one base URL, with one token.
pub struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

/// How long one request may take to connect; a job list of 100,000 items may take
/// longer than this to stream, so the request itself has no overall limit.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl Api {
    /// `token` is `None` when neither the flag nor the variable gave one; `which` names
    /// both for the message.
    pub fn new(url: &str, token: Option<String>, which: &str) -> Result<Api, CliError> {
        let base = url.trim_end_matches('/').to_owned();
        if !base.starts_with("http://") && !base.starts_with("https://") {
            return Err(CliError::Usage(format!("--url {base:?} must start with http:// or https://")));
        }
        let token =
            token.filter(|t| !t.trim().is_empty()).ok_or_else(|| CliError::Usage(format!("no token: {which}")))?;
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("ratify-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| CliError::Unfinished(format!("cannot set up the HTTP client: {e}")))?;
        Ok(Api { http, base, token })
    }

    /// A request to `path` (which starts with `/`), authenticated.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token)
    }

    /// Sends a request, asked again on `429`/`503` by the retry policy (its notes on
    /// stderr, around `bar` when one is drawn); a non-2xx answer becomes
    /// [`CliError::Api`].
    pub async fn send(&self, request: RequestBuilder, bar: Option<&ProgressBar>) -> Result<Response, CliError> {
        let attempt = || async {
            let request = request
                .try_clone()
                .ok_or_else(|| CliError::Unfinished("a streamed request body cannot be sent again".to_owned()))?;
            self.send_once(request).await
        };
        attempt
            .retry(retry::policy())
            .sleep(tokio::time::sleep)
            .when(retry::retryable)
            .adjust(retry::delay)
            .notify(|e, wait| {
                let note = retry::note(e, wait);
                match bar {
                    Some(bar) => bar.suspend(|| eprintln!("{note}")),
                    None => eprintln!("{note}"),
                }
            })
            .await
    }

    async fn send_once(&self, request: RequestBuilder) -> Result<Response, CliError> {
        let response = request.send().await.map_err(|e| self.transport(e))?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status();
        let retry_after = retry::retry_after(response.headers());
        let text = response.text().await.unwrap_or_default();
        let (error, description) = match serde_json::from_str::<ErrorBody>(&text) {
            Ok(body) => (body.error, body.description),
            Err(_) => {
                let snippet: String = text.trim().chars().take(200).collect();
                (format!("HTTP {}", status.as_u16()), if snippet.is_empty() { status.to_string() } else { snippet })
            }
        };
        Err(CliError::Api { status: status.as_u16(), error, description, retry_after })
    }

    /// Sends a request and reads its JSON answer.
    pub async fn json<T: DeserializeOwned>(
        &self,
        request: RequestBuilder,
        bar: Option<&ProgressBar>,
    ) -> Result<T, CliError> {
        let response = self.send(request, bar).await?;
        let url = response.url().path().to_owned();
        let bytes = response.bytes().await.map_err(|e| self.transport(e))?;
        serde_json::from_slice(&bytes).map_err(|e| CliError::Unfinished(format!("unexpected answer from {url}: {e}")))
    }

    /// GET `path`, read as JSON.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, CliError> {
        self.json(self.request(Method::GET, path), None).await
    }

    fn transport(&self, e: reqwest::Error) -> CliError {
        let message = if e.is_timeout() {
            "the request timed out".to_owned()
        } else {
            // The innermost cause says what happened ("Connection refused"); the outer
            // layers only repeat the URL.
            let mut cause: &dyn std::error::Error = &e;
            while let Some(source) = cause.source() {
                cause = source;
            }
            cause.to_string()
        };
        CliError::Transport { url: self.base.clone(), message }
    }
}

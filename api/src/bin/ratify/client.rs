//! The HTTP side of the CLI: one client per run, bearer authentication, and the single
//! place where failures become what the user reads (`error: <ERROR>: <description>`) and
//! the exit code (1 for the api or the network, 2 for bad input).

use std::fmt;
use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response};
use serde::de::DeserializeOwned;

/// Everything that ends a run early.
#[derive(Debug)]
pub enum CliError {
    /// Bad input or missing settings: nothing was sent. Exit code 2.
    Usage(String),
    /// The api answered with an error (`{"error", "description"}`). Exit code 1.
    Api { error: String, description: String },
    /// The api could not be reached at all. Exit code 1.
    Transport { url: String, message: String },
    /// Anything else that failed. Exit code 1.
    Failed(String),
    /// stdout was closed by the reader (`ratify job … --csv | head`): stop quietly.
    ClosedOutput,
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            CliError::ClosedOutput => 0,
            _ => 1,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Usage(message) | CliError::Failed(message) => f.write_str(message),
            CliError::Api { error, description, .. } => write!(f, "{error}: {description}"),
            CliError::Transport { url, message } => write!(f, "could not reach the api at {url}: {message}"),
            CliError::ClosedOutput => Ok(()),
        }
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            CliError::ClosedOutput
        } else {
            CliError::Failed(format!("cannot write the output: {e}"))
        }
    }
}

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
        if base.starts_with("https://") {
            return Err(CliError::Usage(format!(
                "{base}: this build of ratify speaks plain http only; reach the api over http:// (e.g. through an \
                 ssh tunnel or on the host itself)"
            )));
        }
        if !base.starts_with("http://") {
            return Err(CliError::Usage(format!("--url {base:?} must start with http://")));
        }
        let token =
            token.filter(|t| !t.trim().is_empty()).ok_or_else(|| CliError::Usage(format!("no token: {which}")))?;
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("ratify-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| CliError::Failed(format!("cannot set up the HTTP client: {e}")))?;
        Ok(Api { http, base, token })
    }

    /// A request to `path` (which starts with `/`), authenticated.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token)
    }

    /// Sends a request; a non-2xx answer becomes [`CliError::Api`].
    pub async fn send(&self, request: RequestBuilder) -> Result<Response, CliError> {
        let response = request.send().await.map_err(|e| self.transport(e))?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        #[derive(serde::Deserialize)]
        struct Body {
            error: String,
            #[serde(default)]
            description: String,
        }
        Err(match serde_json::from_str::<Body>(&text) {
            Ok(body) => CliError::Api { error: body.error, description: body.description },
            Err(_) => {
                let snippet: String = text.trim().chars().take(200).collect();
                CliError::Api {
                    error: format!("HTTP {}", status.as_u16()),
                    description: if snippet.is_empty() { status.to_string() } else { snippet },
                }
            }
        })
    }

    /// Sends a request and reads its JSON answer.
    pub async fn json<T: DeserializeOwned>(&self, request: RequestBuilder) -> Result<T, CliError> {
        let response = self.send(request).await?;
        let url = response.url().path().to_owned();
        let bytes = response.bytes().await.map_err(|e| self.transport(e))?;
        serde_json::from_slice(&bytes).map_err(|e| CliError::Failed(format!("unexpected answer from {url}: {e}")))
    }

    /// GET `path`, read as JSON.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, CliError> {
        self.json(self.request(Method::GET, path)).await
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

//! The api's one error type. Every error leaves as `{"error", "description"}`;
//! internal causes are logged, never shown.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use ratify_domain::ids::AdvertiserId;
use ratify_wire::ErrorBody;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{1}")]
    BadRequest(&'static str, String),
    #[error("the request needs a valid bearer token")]
    Unauthorized,
    #[error("this token is not granted advertiser {0}")]
    Forbidden(AdvertiserId),
    #[error("{1}")]
    NotFound(&'static str, String),
    #[error("{1}")]
    Conflict(&'static str, String),
    #[error("{1}")]
    PayloadTooLarge(&'static str, String),
    #[error("this route does not take that method")]
    MethodNotAllowed,
    #[error("send the body as JSON with Content-Type: application/json")]
    UnsupportedMediaType,
    #[error("{0}")]
    UnsupportedEncoding(String),
    #[error("{1}")]
    Unprocessable(&'static str, String),
    #[error("this token made too many requests; retry after {0} s")]
    RateLimited(u64),
    #[error("the database cannot take the request right now; nothing was stored, retry later")]
    Unavailable,
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    pub fn bad_request(description: impl Into<String>) -> ApiError {
        ApiError::BadRequest("BAD_REQUEST", description.into())
    }

    fn parts(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(code, _) => (StatusCode::BAD_REQUEST, code),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "UNAUTHORIZED"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "FORBIDDEN"),
            ApiError::NotFound(code, _) => (StatusCode::NOT_FOUND, code),
            ApiError::Conflict(code, _) => (StatusCode::CONFLICT, code),
            ApiError::PayloadTooLarge(code, _) => (StatusCode::PAYLOAD_TOO_LARGE, code),
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED"),
            ApiError::UnsupportedMediaType | ApiError::UnsupportedEncoding(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE")
            }
            ApiError::Unprocessable(code, _) => (StatusCode::UNPROCESSABLE_ENTITY, code),
            ApiError::RateLimited(_) => (StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED"),
            ApiError::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_SERVER_ERROR"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.parts();
        if let ApiError::Internal(cause) = &self {
            tracing::error!(error = ?cause, "request failed");
        }
        let body = ErrorBody { error: code.to_owned(), description: self.to_string() };
        let mut response = (status, axum::Json(body)).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        if let ApiError::RateLimited(seconds) = &self {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(*seconds));
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// The `error` code and description of an answer the HTTP layer gives before or around
/// the handlers (a malformed head, the request timeout, a body over the layer's limit).
fn http_layer_error(status: StatusCode) -> (String, String) {
    let description = match status.as_u16() {
        400 => {
            "the request is not well-formed HTTP/1.1: its request line or a header (such as Content-Length, \
            Transfer-Encoding, or a control character in a value) cannot be read"
        }
        404 => "no such route",
        405 => "this route does not take that method",
        408 => "the request was not received and answered within the api's time limit; send it again",
        413 => "the body is too large",
        414 => "the request URI is too long",
        431 => "the request head has too many headers or is too large",
        _ => status.canonical_reason().unwrap_or("the request failed"),
    };
    let code = status.canonical_reason().unwrap_or("ERROR").to_ascii_uppercase().replace([' ', '-'], "_");
    (code, description.to_owned())
}

/// The JSON error body for an HTTP-layer answer of `status`.
pub fn http_layer_body(status: StatusCode) -> Vec<u8> {
    let (code, description) = http_layer_error(status);
    // Two strings into a Vec: serde_json fails only on a writer's I/O error or a map with
    // non-string keys, and this has neither.
    serde_json::to_vec(&ErrorBody { error: code, description }).expect("an error body serialises")
}

/// Gives every error answer that has no body (the request timeout's `408`, and any other a
/// layer makes) the one error shape. `HEAD` answers have no body by definition.
pub async fn shape_bodiless(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let head = request.method() == axum::http::Method::HEAD;
    let response = next.run(request).await;
    let status = response.status();
    if head || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    if axum::body::HttpBody::size_hint(response.body()).exact() != Some(0) {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(http_layer_body(status)))
}

/// Database errors: an unreachable database is a 503 (nothing was accepted), anything
/// else is internal.
impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> ApiError {
        if ratify_shared::db::is_transient(&error) {
            tracing::warn!(error = %error, "database unavailable");
            ApiError::Unavailable
        } else {
            ApiError::Internal(error.into())
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> ApiError {
        ApiError::NotFound("NOT_FOUND", format!("no such resource: {}", rejection.body_text()))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> ApiError {
        ApiError::bad_request(rejection.body_text())
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> ApiError {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType,
            JsonRejection::BytesRejection(_) => {
                ApiError::PayloadTooLarge("PAYLOAD_TOO_LARGE", "the body is too large".to_owned())
            }
            other => ApiError::BadRequest("JSON_PARSE_ERROR", other.body_text()),
        }
    }
}

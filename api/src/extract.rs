//! Reading requests: `Path`, `Query` and `Json` extractors whose rejections speak the api's
//! error shape, and raw bodies ([`body`]) read against a byte limit as they arrive, gzip
//! inflated. Every body the api takes is read here: the admin routes through [`Json`], the
//! recording (`crate::ingest`) and the batch through [`read_body`] and [`read_body_with`].

mod body;

use axum::extract::{FromRequest, FromRequestParts};

pub use body::{is_json, read_body, read_body_with};

use crate::error::ApiError;
use crate::state::AppState;

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// A JSON body, read like every other body ([`read_body`]: held to `RATIFY_MAX_BODY_BYTES`,
/// gzip inflated).
pub struct Json<T>(pub T);

impl<T: serde::de::DeserializeOwned> FromRequest<AppState> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &AppState) -> Result<Self, ApiError> {
        if !is_json(request.headers()) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let (parts, body) = request.into_parts();
        let bytes = read_body(&parts.headers, body, state.config.max_body_bytes).await?;
        let axum::Json(value) = axum::Json::<T>::from_bytes(&bytes)?;
        Ok(Json(value))
    }
}

//! `/docs`: the OpenAPI document rendered by Swagger UI. Its assets are compiled into
//! the binary (the `vendored` build of utoipa-swagger-ui), so the page loads nothing from
//! outside the api.

use std::sync::{Arc, LazyLock};

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use ratify_wire::ErrorBody;
use utoipa_swagger_ui::Config;

use crate::error::ApiError;

/// Swagger UI pointed at the document this api serves; "try it out" sends the requests
/// to this api, with the bearer token entered under Authorize.
static CONFIG: LazyLock<Arc<Config<'static>>> =
    LazyLock::new(|| Arc::new(Config::from("/openapi.json").try_it_out_enabled(true).persist_authorization(false)));

/// The rendered OpenAPI document (redirects to `/docs/`, which its assets are relative to).
#[utoipa::path(
    get,
    path = "/docs",
    tag = "operations",
    responses((status = 308, description = "To `/docs/`, the Swagger UI page.",
        headers(("Location" = String, description = "`/docs/`")))),
)]
pub async fn docs() -> Redirect {
    Redirect::permanent("/docs/")
}

/// The Swagger UI page.
#[utoipa::path(
    get,
    path = "/docs/",
    tag = "operations",
    responses((status = 200, description = "The page.", content_type = "text/html", body = String)),
)]
pub async fn page() -> Result<Response, ApiError> {
    serve(String::new())
}

/// One of the page's assets (scripts, styles, icons).
#[utoipa::path(
    get,
    path = "/docs/{file}",
    tag = "operations",
    params(("file" = String, Path, description = "The asset's file name.")),
    responses(
        (status = 200, description = "The asset.", content_type = "application/javascript", body = String),
        (status = 404, description = "No such asset (`NOT_FOUND`).", body = ErrorBody),
    ),
)]
pub async fn asset(Path(file): Path<String>) -> Result<Response, ApiError> {
    serve(file)
}

fn serve(file: String) -> Result<Response, ApiError> {
    let not_found = || ApiError::NotFound("NOT_FOUND", format!("no such asset: {file:?}"));
    let found =
        utoipa_swagger_ui::serve(&file, CONFIG.clone()).map_err(|e| ApiError::Internal(anyhow::anyhow!("{e}")))?;
    let found = found.ok_or_else(not_found)?;
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, found.content_type)], found.bytes.into_owned()).into_response())
}

//! The api's OpenAPI document, generated from the handlers' `#[utoipa::path]` annotations
//! and the wire types (`ToSchema`), served at `GET /openapi.json`.
//!
//! Bodies the api parses by hand (the batch of actions, the recorded transactions) and
//! values it writes without a Rust type of their own are described by schema-only types
//! here. `shared/` knows nothing of this.

use std::sync::LazyLock;

use axum::http::header;
use axum::response::IntoResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::{admin, batch, jobs, ops, transactions};

pub use schemas::*;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Ratify",
        description = "Asynchronous, at-scale validation of affiliate-network transactions, in the shape of Awin's \
            Transaction Validation API.\n\n\
            Every error, on every route, is `{\"error\": \"<UPPER_SNAKE reason>\", \"description\": \"<sentence>\"}` \
            (the `ErrorBody` schema). Besides the statuses listed per operation, any route answers `405 \
            METHOD_NOT_ALLOWED` to a method it does not take, an unknown path is `404 NOT_FOUND`, and a request \
            that takes longer than 60 seconds is cut with `408`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(
        ops::health,
        ops::ready,
        openapi_json,
        crate::metrics::render,
        admin::create_advertiser,
        admin::put_group,
        admin::create_token,
        admin::revoke_token,
        transactions::record,
        transactions::list,
        transactions::get_one,
        batch::submit_batch,
        jobs::get_job,
        jobs::list_jobs,
    ),
    components(schemas(ErrorBody, Amount, DecimalNumber)),
    modifiers(&BearerTokens, &RateLimited),
    tags(
        (name = "validation", description = "Batches of approve, decline and amend actions, and their jobs."),
        (name = "transactions", description = "Recording and reading the transactions that validation acts on."),
        (name = "admin", description = "Advertisers, commission groups and tokens, with `ADMIN_TOKEN`."),
        (name = "operations", description = "Liveness, readiness and this document."),
    ),
)]
pub struct ApiDoc;

/// The two bearer schemes: the operator's `ADMIN_TOKEN` and advertiser tokens.
struct BearerTokens;

impl Modify for BearerTokens {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = |description: &str| {
            SecurityScheme::Http(
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some(description.to_owned())).build(),
            )
        };
        components.add_security_scheme(
            "admin_token",
            bearer("`Authorization: Bearer $ADMIN_TOKEN`, the operator's secret, for `/admin/...`."),
        );
        components.add_security_scheme(
            "advertiser_token",
            bearer(
                "`Authorization: Bearer <token>` made by `POST /admin/tokens`, for `/advertisers/{aid}/...`: missing \
                 or unknown is `401`, not granted `aid` is `403`.",
            ),
        );
    }
}

/// Every advertiser route may answer `429` (per-token rate limit).
struct RateLimited;

impl Modify for RateLimited {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let response = ResponseBuilder::new()
            .description(
                "RATE_LIMITED: this token used up its calls of the minute (RATIFY_RATE_LIMIT_PER_MINUTE); \
                 `Retry-After` says when to try again.",
            )
            .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build())
            .build();
        for (path, item) in openapi.paths.paths.iter_mut() {
            if !path.starts_with("/advertisers/") {
                continue;
            }
            let operations = [&mut item.get, &mut item.post, &mut item.put, &mut item.delete, &mut item.patch];
            for operation in operations.into_iter().flatten() {
                operation.responses.responses.insert("429".to_owned(), response.clone().into());
            }
        }
    }
}

/// The document as served, rendered once.
static DOCUMENT: LazyLock<String> =
    LazyLock::new(|| ApiDoc::openapi().to_json().expect("the OpenAPI document serializes"));

/// This OpenAPI document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document of this api.", body = Object,
        content_type = "application/json")),
)]
pub async fn openapi_json() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT.as_str())
}

/// Schema-only types: they describe JSON the api reads or writes, and are never built.
#[allow(dead_code)]
mod schemas;

#[cfg(test)]
mod tests;

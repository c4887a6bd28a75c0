//! The api's OpenAPI document, assembled: the operations come from the router's own
//! declarations (`crate::routes`, utoipa-axum's `routes!` over each handler's
//! `#[utoipa::path]`), the bodies from the wire types (`ratify_wire`, `ToSchema`). This
//! module adds what belongs to no one route: the description, the tags, the two bearer
//! schemes, and the `429` every advertiser route may answer. It knows no route.

use ratify_wire::{Amount, DecimalNumber, ErrorBody};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The whole document: `operations` (as the router collected them) within the frame.
pub fn assemble(operations: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    let mut document = Frame::openapi().merge_from(operations);
    BearerTokens.modify(&mut document);
    RateLimited.modify(&mut document);
    document
}

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
    components(schemas(ErrorBody, Amount, DecimalNumber)),
    tags(
        (name = "validation", description = "Batches of approve, decline and amend actions, and their jobs."),
        (name = "transactions", description = "Recording and reading the transactions that validation acts on."),
        (name = "webhooks", description = "An advertiser's completion webhook and its deliveries, with the \
            advertiser's token or `ADMIN_TOKEN`."),
        (name = "admin", description = "Advertisers, commission groups and tokens, with `ADMIN_TOKEN`."),
        (name = "operations", description = "Liveness, readiness and this document."),
    ),
)]
struct Frame;

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

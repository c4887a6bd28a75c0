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
mod schemas {
    use std::borrow::Cow;

    use serde_json::json;
    use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
    use utoipa::openapi::RefOr;
    use utoipa::{PartialSchema, ToSchema};

    use crate::views::{JobView, OutcomeView};

    /// Every error body, on every route.
    #[derive(ToSchema)]
    #[schema(example = json!({"error": "FORBIDDEN", "description": "this token is not granted advertiser 1002"}))]
    pub struct ErrorBody {
        /// The reason, in UPPER_SNAKE case.
        #[schema(example = "BAD_REQUEST")]
        pub error: String,
        /// A human sentence.
        pub description: String,
    }

    /// An amount of money as a JSON number: an exact decimal with at most the currency's
    /// minor-unit digits (ISO 4217: SEK 2, JPY 0, KWD 3), never negative.
    pub struct Amount;

    impl PartialSchema for Amount {
        fn schema() -> RefOr<Schema> {
            ObjectBuilder::new()
                .schema_type(Type::Number)
                .description(Some(
                    "An amount of money as a JSON number: an exact decimal with at most the currency's minor-unit \
                     digits (ISO 4217: SEK 2, JPY 0, KWD 3), never negative.",
                ))
                .minimum(Some(0))
                .examples([json!(125.5)])
                .into()
        }
    }

    impl ToSchema for Amount {
        fn name() -> Cow<'static, str> {
            Cow::Borrowed("Amount")
        }
    }

    /// An exact decimal written as a JSON number (read without passing through binary floats).
    pub struct DecimalNumber;

    impl PartialSchema for DecimalNumber {
        fn schema() -> RefOr<Schema> {
            ObjectBuilder::new()
                .schema_type(Type::Number)
                .description(Some("An exact decimal written as a JSON number."))
                .minimum(Some(0))
                .examples([json!(10)])
                .into()
        }
    }

    impl ToSchema for DecimalNumber {
        fn name() -> Cow<'static, str> {
            Cow::Borrowed("DecimalNumber")
        }
    }

    /// `GET /health`.
    #[derive(ToSchema)]
    pub struct Health {
        #[schema(example = "ok")]
        pub status: String,
    }

    /// `GET /ready`: whether each dependency answered.
    #[derive(ToSchema)]
    pub struct Readiness {
        pub postgres: Reachability,
        pub rabbitmq: Reachability,
    }

    #[derive(ToSchema)]
    #[schema(rename_all = "lowercase")]
    pub enum Reachability {
        Up,
        Down,
    }

    #[derive(ToSchema)]
    #[schema(rename_all = "lowercase")]
    pub enum CommissionStatus {
        Pending,
        Approved,
        Declined,
    }

    #[derive(ToSchema)]
    #[schema(rename_all = "lowercase")]
    pub enum ActionKind {
        Approve,
        Decline,
        Amend,
    }

    /// `percentage` pays `amount × value / 100` per part; `fixed` pays `value` per part whose
    /// amount is above zero.
    #[derive(ToSchema)]
    #[schema(rename_all = "lowercase")]
    pub enum GroupType {
        Percentage,
        Fixed,
    }

    /// Which date a listing's range selects on.
    #[derive(ToSchema)]
    #[schema(rename_all = "lowercase")]
    pub enum DateType {
        Transaction,
        Validation,
    }

    /// `DONE` exactly when every item has its outcome.
    #[derive(ToSchema)]
    #[schema(rename_all = "UPPERCASE")]
    pub enum JobState {
        Queued,
        Processing,
        Done,
    }

    /// Which item outcomes `GET .../jobs/{job_id}` adds.
    #[derive(ToSchema)]
    #[schema(rename_all = "lowercase")]
    pub enum JobOutput {
        Errors,
        All,
    }

    /// An item's outcome. `errorCount` counts 400, 404, 422 and 500; 304 is not an error (the
    /// desired state holds). 500 only for an item whose processing kept failing and was given up.
    #[derive(ToSchema)]
    pub enum OutcomeCode {
        #[schema(rename = "[200 OK]")]
        Ok,
        #[schema(rename = "[304 NOT_MODIFIED]")]
        NotModified,
        #[schema(rename = "[400 BAD_REQUEST]")]
        BadRequest,
        #[schema(rename = "[404 NOT_FOUND]")]
        NotFound,
        #[schema(rename = "[422 UNPROCESSABLE_ENTITY]")]
        Unprocessable,
        #[schema(rename = "[500 INTERNAL_SERVER_ERROR]")]
        Internal,
    }

    /// `GET /advertisers/{aid}/transactions/jobs/{job_id}`: the summary, plus at most one of
    /// the item lists (as `output` asks; the other is `null`).
    #[derive(ToSchema)]
    #[schema(rename_all = "camelCase")]
    pub struct JobStatus {
        #[serde(flatten)]
        pub job: JobView,
        /// With `output=errors`: the failed items, in index order.
        #[schema(required = true)]
        pub failed_transactions: Option<Vec<OutcomeView>>,
        /// With `output=all`: every item, in index order.
        #[schema(required = true)]
        pub all_transactions: Option<Vec<OutcomeView>>,
    }

    /// What a history row records of the transaction before or after a change.
    #[derive(ToSchema)]
    #[schema(rename_all = "camelCase")]
    pub struct HistorySnapshot {
        pub commission_status: CommissionStatus,
        pub decline_reason: Option<String>,
        /// Present when the change was an amend.
        pub sale_amount: Option<Amount>,
        pub commission_amount: Option<Amount>,
        pub transaction_parts: Option<Vec<HistoryPart>>,
    }

    #[derive(ToSchema)]
    #[schema(rename_all = "camelCase")]
    pub struct HistoryPart {
        pub commission_group_code: String,
        pub amount: Amount,
        pub commission_amount: Amount,
    }

    /// One tracked sale to record.
    #[derive(ToSchema)]
    #[schema(rename_all = "camelCase")]
    #[schema(example = json!({"orderRef": "SO-1", "transactionDate": "2026-11-14T10:15:00",
        "timezone": "Europe/Stockholm", "saleAmount": 125.50, "currency": "SEK",
        "transactionParts": [{"commissionGroupCode": "DEFAULT", "amount": 125.50}]}))]
    pub struct NewTransaction {
        /// 1 to 255 characters; `(orderRef, transactionDate)` is unique per advertiser.
        pub order_ref: String,
        /// Local date-time, to the second, in `timezone`.
        #[schema(example = "2026-11-14T10:15:00", pattern = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")]
        pub transaction_date: String,
        /// IANA time zone.
        #[schema(example = "Europe/Stockholm")]
        pub timezone: String,
        pub sale_amount: Amount,
        /// Must be the advertiser's currency.
        #[schema(example = "SEK")]
        pub currency: String,
        /// 1 to 100 parts with distinct codes, each an existing group; when absent the whole sale
        /// is `DEFAULT`'s. Parts that do not sum to `saleAmount` are completed by `DEFAULT`.
        pub transaction_parts: Option<Vec<PartAmount>>,
        pub publisher_id: Option<i64>,
        pub click_ref: Option<String>,
    }

    /// The share of a sale that one commission group pays on.
    #[derive(ToSchema)]
    #[schema(rename_all = "camelCase")]
    pub struct PartAmount {
        #[schema(example = "DEFAULT")]
        pub commission_group_code: String,
        pub amount: Amount,
    }

    /// `POST /advertisers/{aid}/transactions`: the new ids, in input order.
    #[derive(ToSchema)]
    pub struct Recorded {
        pub ids: Vec<i64>,
    }

    /// One action of a batch. An element that is malformed (not an object, unknown action,
    /// neither way of referencing, a missing reason, a bad date, zone or amount) does not sink
    /// the batch: it becomes that item's `[400 BAD_REQUEST]` outcome.
    #[derive(ToSchema)]
    #[schema(examples(
        json!({"action": "approve", "transaction": {"transactionId": 1234567}}),
        json!({"action": "decline", "transaction": {"orderRef": "123ABC555", "transactionDate": "2017-02-20T22:04:00",
            "timezone": "Europe/Paris", "declineReason": "order returned"}}),
        json!({"action": "amend", "approve": false, "transaction": {"transactionId": "484816099",
            "amendReason": "partial return", "currency": "EUR", "saleAmount": 55.96, "transactionParts": [
                {"amount": 44.76, "commissionGroupCode": "DEFAULT"},
                {"amount": 11.20, "commissionGroupCode": "EXISTING"}]}}),
    ))]
    pub struct BatchAction {
        pub action: ActionKind,
        /// For `amend`: also approve the transaction (default false).
        pub approve: Option<bool>,
        pub transaction: BatchTransaction,
    }

    /// The transaction an action is aimed at, and the action's values. `transactionId` wins;
    /// otherwise `orderRef` + `transactionDate` + `timezone` name it.
    #[derive(ToSchema)]
    #[schema(rename_all = "camelCase")]
    pub struct BatchTransaction {
        pub transaction_id: Option<TransactionId>,
        /// 1 to 255 characters.
        pub order_ref: Option<String>,
        /// Local date-time, to the second, in `timezone` (with `orderRef`).
        #[schema(example = "2017-02-20T22:04:00", pattern = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")]
        pub transaction_date: Option<String>,
        /// IANA time zone (with `orderRef`).
        #[schema(example = "Europe/Paris")]
        pub timezone: Option<String>,
        /// Required for `decline`; at most 1,000 characters.
        pub decline_reason: Option<String>,
        /// Required for `amend`; at most 1,000 characters.
        pub amend_reason: Option<String>,
        /// Required for `amend`: the transaction's currency.
        pub currency: Option<String>,
        /// Required for `amend`.
        pub sale_amount: Option<Amount>,
        /// Required for `amend`: non-empty, distinct existing codes; `DEFAULT` absorbs the
        /// difference to `saleAmount`.
        pub transaction_parts: Option<Vec<PartAmount>>,
    }

    /// A positive transaction id, as a JSON number or a numeric string.
    #[derive(ToSchema)]
    #[serde(untagged)]
    pub enum TransactionId {
        Number(i64),
        Numeric(String),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::sync::Arc;
    use std::time::Duration;

    use axum::body::Body;
    use axum::http::{Method, Request, StatusCode};
    use axum::Router;
    use ratify_shared::config::Common;
    use ratify_shared::outbox::Publisher;
    use serde_json::Value;
    use tower::ServiceExt;

    use super::ApiDoc;
    use crate::config::ApiConfig;
    use crate::output_cache::OutputCache;
    use crate::state::AppState;
    use utoipa::OpenApi;

    const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

    /// A router over servers that are never reached: nothing here needs them.
    fn router() -> Router {
        let database_url = "postgres://x@127.0.0.1:1/x".to_owned();
        let amqp_url = "amqp://x:x@127.0.0.1:1/%2f".to_owned();
        let pool = sqlx::postgres::PgPoolOptions::new()
            .acquire_timeout(Duration::from_millis(500))
            .connect_lazy(&database_url)
            .unwrap();
        let common = Common {
            database_url,
            amqp_url: amqp_url.clone(),
            queue_prefix: "openapi-test".to_owned(),
            delivery_limit: 5,
            db_pool_size: 1,
            json_logs: false,
        };
        let publisher = Arc::new(Publisher::new(amqp_url, common.topology()));
        let config = ApiConfig {
            common,
            addr: "127.0.0.1:0".parse().unwrap(),
            admin_token: "a-test-admin-token".to_owned(),
            max_batch_items: 10,
            max_batch_bytes: 1 << 20,
            max_body_bytes: 1 << 20,
            chunk_size: 10,
            output_cache_bytes: 0,
            rate_limit_per_minute: 0,
        };
        crate::routes::router(AppState {
            pool,
            publisher,
            admin_token_hash: crate::auth::hash(&config.admin_token).into(),
            outputs: Arc::new(OutputCache::new(0)),
            metrics: metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder().handle(),
            rate_limit: None,
            config: Arc::new(config),
        })
    }

    fn document() -> Value {
        serde_json::from_str(&ApiDoc::openapi().to_json().unwrap()).unwrap()
    }

    /// `(METHOD, path)` of every operation in the document.
    fn documented(doc: &Value) -> BTreeSet<(String, String)> {
        let mut operations = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in METHODS {
                if item.get(method).is_some() {
                    operations.insert((method.to_uppercase(), path.clone()));
                }
            }
        }
        operations
    }

    /// `(METHOD, path)` of every `.route(...)` in the router's source (`routes/mod.rs`). The
    /// tests below check this reading against the running router, both ways.
    fn routed() -> BTreeSet<(String, String)> {
        let source: String = include_str!("routes/mod.rs")
            .lines()
            .map(|line| line.split_once("//").map_or(line, |(code, _)| code))
            .collect::<Vec<_>>()
            .join("\n");
        for unsupported in [".nest(", ".merge(", ".nest_service(", ".route_service("] {
            assert!(!source.contains(unsupported), "routes/mod.rs uses {unsupported}: teach this test to read it");
        }
        let mut routes = BTreeSet::new();
        for (at, _) in source.match_indices(".route(") {
            let rest = source[at + ".route(".len()..].trim_start();
            let path = rest.strip_prefix('"').expect(".route( must start with a string literal path");
            let (path, rest) = path.split_once('"').unwrap();
            // The method router: every `get(`, `.post(`, ... directly inside `.route( ... )`.
            let (mut depth, mut word, mut methods) = (1, String::new(), Vec::new());
            for c in rest.chars() {
                match c {
                    '(' => {
                        if depth == 1 && METHODS.contains(&word.as_str()) {
                            methods.push(word.to_uppercase());
                        }
                        let unsupported = word == "any" || word == "on" || word.ends_with("_service");
                        assert!(!(depth == 1 && unsupported), "{path} uses {word}(: teach this test to read it");
                        depth += 1;
                        word.clear();
                    }
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                        word.clear();
                    }
                    c if c.is_alphanumeric() || c == '_' => word.push(c),
                    _ => word.clear(),
                }
            }
            assert!(!methods.is_empty(), "no method found for route {path}");
            for method in methods {
                assert!(routes.insert((method, path.to_owned())), "{path} is routed twice");
            }
        }
        assert!(!routes.is_empty());
        routes
    }

    /// The path with every `{param}` filled with a sample value.
    fn concrete(path: &str) -> String {
        path.split('/')
            .map(|segment| if segment.starts_with('{') { "1001" } else { segment })
            .collect::<Vec<_>>()
            .join("/")
    }

    async fn send(router: &Router, method: &str, path: &str) -> (StatusCode, Value) {
        let request = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).unwrap())
            .uri(concrete(path))
            .body(Body::empty())
            .unwrap();
        let response = router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    fn is_fallback(status: StatusCode, body: &Value) -> bool {
        status == StatusCode::METHOD_NOT_ALLOWED
            || (status == StatusCode::NOT_FOUND && body["description"] == "no such route")
    }

    #[test]
    fn the_document_lists_exactly_the_routes_of_the_router() {
        let doc = document();
        let routes = routed();
        let operations = documented(&doc);
        let missing: Vec<_> = routes.difference(&operations).collect();
        let extra: Vec<_> = operations.difference(&routes).collect();
        assert!(missing.is_empty(), "routed but not documented: {missing:?}");
        assert!(extra.is_empty(), "documented but not routed: {extra:?}");
        let paths: BTreeSet<_> = routes.iter().map(|(_, path)| path).collect();
        assert_eq!(doc["paths"].as_object().unwrap().len(), paths.len());
    }

    #[tokio::test]
    async fn the_router_serves_every_documented_operation_and_no_other_method() {
        let router = router();
        let doc = document();
        let operations = documented(&doc);
        // The check can tell the fallback from a route.
        let (status, body) = send(&router, "GET", "/no/such/route").await;
        assert!(is_fallback(status, &body));
        let (status, body) = send(&router, "PATCH", "/health").await;
        assert!(is_fallback(status, &body));

        for (method, path) in &operations {
            let (status, body) = send(&router, method, path).await;
            assert!(!is_fallback(status, &body), "{method} {path} is documented but not routed: {status} {body}");
            // Unauthenticated: the routes the document says need a token refuse with 401.
            let secured = doc["paths"][path][method.to_lowercase()].get("security").is_some();
            assert_eq!(status == StatusCode::UNAUTHORIZED, secured, "{method} {path}: {status}, secured {secured}");
        }
        // Every other method on a documented path is refused by the router: the document
        // has all the methods of each of its paths.
        let paths: BTreeSet<_> = operations.iter().map(|(_, path)| path.clone()).collect();
        for path in &paths {
            for method in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
                if !operations.contains(&(method.to_owned(), path.clone())) {
                    let (status, _) = send(&router, method, path).await;
                    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path} is routed but not documented");
                }
            }
        }
        // And what the router's source says is routed, the router serves.
        for (method, path) in routed() {
            let (status, body) = send(&router, &method, &path).await;
            assert!(!is_fallback(status, &body), "{method} {path} is in routes/mod.rs but not served");
        }
    }

    #[tokio::test]
    async fn openapi_json_is_served_as_openapi_3() {
        let request = Request::get("/openapi.json").body(Body::empty()).unwrap();
        let response = router().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "application/json");
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let served: Value = serde_json::from_slice(&bytes).expect("/openapi.json is JSON");
        assert!(served["openapi"].as_str().unwrap().starts_with("3."), "{}", served["openapi"]);
        assert_eq!(served, document());
    }

    /// Every `$ref` in the document names a schema it defines.
    #[test]
    fn every_reference_resolves() {
        fn walk(value: &Value, refs: &mut Vec<String>) {
            match value {
                Value::Object(map) => {
                    if let Some(Value::String(r)) = map.get("$ref") {
                        refs.push(r.clone());
                    }
                    map.values().for_each(|v| walk(v, refs));
                }
                Value::Array(items) => items.iter().for_each(|v| walk(v, refs)),
                _ => {}
            }
        }
        let doc = document();
        let mut refs = Vec::new();
        walk(&doc, &mut refs);
        assert!(!refs.is_empty());
        for r in refs {
            let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("unexpected $ref {r}"));
            assert!(doc["components"]["schemas"].get(name).is_some(), "$ref {r} names no schema");
        }
    }

    /// Every documented error answers with `ErrorBody`, and `ErrorBody` is the shape the
    /// api really sends.
    #[tokio::test]
    async fn errors_have_the_one_error_shape() {
        let doc = document();
        for (method, path) in documented(&doc) {
            let responses = doc["paths"][&path][method.to_lowercase()]["responses"].as_object().unwrap();
            for (status, response) in responses {
                let status: u16 = status.parse().unwrap();
                if status < 400 || path == "/ready" {
                    continue;
                }
                let schema = &response["content"]["application/json"]["schema"]["$ref"];
                assert_eq!(schema, "#/components/schemas/ErrorBody", "{method} {path} {status}");
            }
        }
        let documented: BTreeSet<&String> =
            doc["components"]["schemas"]["ErrorBody"]["properties"].as_object().unwrap().keys().collect();
        let (status, body) = send(&router(), "GET", "/advertisers/{aid}/transactions/jobs").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let sent: BTreeSet<&String> = body.as_object().unwrap().keys().collect();
        assert_eq!(sent, documented);
    }
}

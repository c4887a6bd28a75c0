//! The router and its OpenAPI document, checked against each other: every documented
//! operation is served, no other method is, the document served is the one assembled, and it
//! is the reviewed snapshot.

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

use crate::config::ApiConfig;
use crate::output_cache::OutputCache;
use crate::state::AppState;

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// A router over servers that are never reached: nothing here needs them.
fn router() -> Router {
    let database_url = "postgres://x@127.0.0.1:1/x".to_owned();
    let amqp = ratify_shared::broker::Nodes::parse("amqp://x:x@127.0.0.1:1/%2f").unwrap();
    let pool = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(Duration::from_millis(500))
        .connect_lazy(&database_url)
        .unwrap();
    let common = Common {
        database_url,
        amqp: amqp.clone(),
        queue_prefix: "openapi-test".to_owned(),
        delivery_limit: 5,
        db_pool_size: 1,
        json_logs: false,
        stall: Duration::from_secs(300),
    };
    let publisher = Arc::new(Publisher::new(amqp, common.topology()));
    let config = ApiConfig {
        webhook_allow_private: false,
        common,
        read_database_url: None,
        addr: "127.0.0.1:0".parse().unwrap(),
        admin_token: "a-test-admin-token".to_owned(),
        max_batch_items: 10,
        max_batch_bytes: 1 << 20,
        max_body_bytes: 1 << 20,
        chunk_size: 10,
        chunk_bytes: 1024 * 1024,
        output_cache_bytes: 0,
        rate_limit_per_minute: 0,
        request_timeout_seconds: 60,
        header_timeout_seconds: 10,
        max_connections: 16,
    };
    super::router(AppState {
        reads: Arc::new(crate::reads::Reads::new(pool.clone(), None)),
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
    serde_json::from_str(&super::document().to_json().unwrap()).unwrap()
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

/// The path with every `{param}` filled with a sample value.
fn concrete(path: &str) -> String {
    path.split('/').map(|segment| if segment.starts_with('{') { "1001" } else { segment }).collect::<Vec<_>>().join("/")
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

/// Where the document as last reviewed is kept.
const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/routes/openapi.snapshot.json");

/// The document is the reviewed snapshot: a change to a route, a handler's annotations or a
/// wire type that changes what clients are promised shows up here, in review. After a
/// deliberate change, `RATIFY_UPDATE_OPENAPI=1 cargo test -p ratify-api snapshot` writes the
/// new snapshot.
#[test]
fn the_document_is_the_reviewed_snapshot() {
    let document = super::document().to_pretty_json().unwrap() + "\n";
    if std::env::var_os("RATIFY_UPDATE_OPENAPI").is_some() {
        std::fs::write(SNAPSHOT, &document).unwrap();
    }
    let snapshot = std::fs::read_to_string(SNAPSHOT).expect("the snapshot exists");
    let (now, reviewed): (Value, Value) =
        (serde_json::from_str(&document).unwrap(), serde_json::from_str(&snapshot).unwrap());
    assert!(now == reviewed, "the OpenAPI document differs from {SNAPSHOT}: review the change, then update it");
}

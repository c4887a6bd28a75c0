//! `GET /openapi.json` on the running api: served without a token, lists every route, every
//! operation it lists is served, and the real answers of a walkthrough match its schemas.

use ratify_tests::Stack;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Every route of the api, as the README lists them.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/health"),
    ("GET", "/ready"),
    ("GET", "/openapi.json"),
    ("GET", "/metrics"),
    ("GET", "/docs"),
    ("GET", "/docs/"),
    ("GET", "/docs/{file}"),
    ("GET", "/admin/jobs"),
    ("POST", "/admin/advertisers"),
    ("PATCH", "/admin/advertisers/{id}"),
    ("PUT", "/admin/advertisers/{id}/commission-groups/{code}"),
    ("POST", "/admin/tokens"),
    ("DELETE", "/admin/tokens/{id}"),
    ("POST", "/advertisers/{aid}/transactions"),
    ("GET", "/advertisers/{aid}/transactions"),
    ("GET", "/advertisers/{aid}/transactions/{id}"),
    ("POST", "/advertisers/{aid}/transactions/{id}/actions"),
    ("POST", "/advertisers/{aid}/transactions/batch"),
    ("GET", "/advertisers/{aid}/transactions/jobs"),
    ("GET", "/advertisers/{aid}/transactions/jobs/{job_id}"),
    ("GET", "/advertisers/{aid}/transactions/jobs/{job_id}/deliveries"),
    ("PUT", "/advertisers/{aid}/webhook"),
    ("GET", "/advertisers/{aid}/webhook"),
    ("DELETE", "/advertisers/{aid}/webhook"),
    ("POST", "/advertisers/{aid}/webhook/test"),
    ("GET", "/advertisers/{aid}/webhook/deliveries/{delivery_id}"),
    ("POST", "/advertisers/{aid}/transactions/jobs/{job_id}/cancel"),
    ("POST", "/advertisers/{aid}/transactions/jobs/{job_id}/retry"),
];

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

async fn fetch_document(base: &str) -> Value {
    let response = reqwest::get(format!("{base}/openapi.json")).await.expect("GET /openapi.json");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    response.json().await.expect("/openapi.json is JSON")
}

fn operations(doc: &Value) -> Vec<(String, String)> {
    let mut operations = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if item.get(method).is_some() {
                operations.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    operations
}

/// Checks `value` against `schema` of `doc`: types, enums, required and (for objects with
/// properties) no undocumented field. Enough of JSON Schema for what utoipa writes.
fn check(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.trim_start_matches("#/components/schemas/");
        return check(doc, &doc["components"]["schemas"][name], value, at);
    }
    if let Some(branches) = schema.get("oneOf").and_then(Value::as_array) {
        let errors: Vec<String> = branches.iter().filter_map(|b| check(doc, b, value, at).err()).collect();
        return if errors.len() < branches.len() { Ok(()) } else { Err(errors.join(" | ")) };
    }
    if let Some(types) = schema.get("type") {
        let types: Vec<&str> = match types {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let fits = |t: &str| match t {
            "null" => value.is_null(),
            "boolean" => value.is_boolean(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "string" => value.is_string(),
            "array" => value.is_array(),
            "object" => value.is_object(),
            _ => true,
        };
        if !types.iter().any(|t| fits(t)) {
            return Err(format!("{at}: {value} is not of type {types:?}"));
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
        if !value.is_null() && !allowed.contains(value) {
            return Err(format!("{at}: {value} is not one of {allowed:?}"));
        }
    }
    if let (Some(items), Some(values)) = (schema.get("items"), value.as_array()) {
        for (i, item) in values.iter().enumerate() {
            check(doc, items, item, &format!("{at}[{i}]"))?;
        }
    }
    // Objects: the properties and required fields of the schema and of all its allOf parts.
    let mut parts = vec![schema.clone()];
    let mut properties = serde_json::Map::new();
    let mut required = Vec::new();
    while let Some(part) = parts.pop() {
        if let Some(reference) = part.get("$ref").and_then(Value::as_str) {
            parts.push(doc["components"]["schemas"][reference.trim_start_matches("#/components/schemas/")].clone());
            continue;
        }
        parts.extend(part.get("allOf").and_then(Value::as_array).cloned().unwrap_or_default());
        properties.extend(part.get("properties").and_then(Value::as_object).cloned().unwrap_or_default());
        required.extend(part.get("required").and_then(Value::as_array).cloned().unwrap_or_default());
    }
    if let (false, Some(object)) = (properties.is_empty(), value.as_object()) {
        for name in required.iter().filter_map(Value::as_str) {
            if !object.contains_key(name) {
                return Err(format!("{at}: required field {name} is missing"));
            }
        }
        for (name, field) in object {
            let property = properties.get(name).ok_or_else(|| format!("{at}: field {name} is not documented"))?;
            check(doc, property, field, &format!("{at}.{name}"))?;
        }
    }
    Ok(())
}

/// Asserts `body` is what the document says `method path` answers with `status`.
fn conforms(doc: &Value, method: &str, path: &str, status: StatusCode, body: &Value) {
    let operation = &doc["paths"][path][method.to_lowercase()];
    let response = &operation["responses"][status.as_str()];
    assert!(response.is_object(), "{method} {path} answered {status}, which it does not document: {body}");
    let schema = &response["content"]["application/json"]["schema"];
    if let Err(e) = check(doc, schema, body, "body") {
        panic!("{method} {path} {status}: {e}\n{body}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn openapi_json_lists_every_route_and_describes_the_real_answers() {
    let stack = Stack::builder().workers(1).start().await;
    let base = stack.base_url.clone();
    let doc = fetch_document(&base).await;
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")), "{}", doc["openapi"]);

    let documented = operations(&doc);
    for (method, path) in ROUTES {
        assert!(documented.contains(&(method.to_string(), path.to_string())), "{method} {path} is not documented");
    }
    assert_eq!(documented.len(), ROUTES.len(), "documented: {documented:?}");

    // Every documented operation is served; without a token, exactly the secured ones say 401.
    let http = reqwest::Client::new();
    for (method, path) in &documented {
        let concrete: String = path
            .split('/')
            .map(|segment| if segment.starts_with('{') { "1001" } else { segment })
            .collect::<Vec<_>>()
            .join("/");
        let response = http
            .request(Method::from_bytes(method.as_bytes()).unwrap(), format!("{base}{concrete}"))
            .send()
            .await
            .expect("request");
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let fallback = status == StatusCode::METHOD_NOT_ALLOWED
            || (status == StatusCode::NOT_FOUND && body["description"] == "no such route");
        assert!(!fallback, "{method} {path} is documented but not served: {status} {body}");
        let secured = doc["paths"][path][method.to_lowercase()].get("security").is_some();
        assert_eq!(status == StatusCode::UNAUTHORIZED, secured, "{method} {path}: {status}");
        if secured {
            conforms(&doc, method, path, status, &body);
        }
    }

    // The walkthrough's answers match the document.
    let admin = stack.admin();
    let (status, body) = admin.get("/health").await;
    conforms(&doc, "GET", "/health", status, &body);
    let (status, body) = admin.get("/ready").await;
    conforms(&doc, "GET", "/ready", status, &body);
    let (status, body) = admin
        .post(
            "/admin/advertisers",
            &json!({"id": 1001, "name": "Store SE", "currency": "SEK", "commissionGroups": [
                {"code": "DEFAULT", "name": "Default", "type": "percentage", "value": 10},
                {"code": "EXISTING", "name": "Existing", "type": "fixed", "value": 5.5}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    conforms(&doc, "POST", "/admin/advertisers", status, &body);
    let (status, body) = admin
        .send(
            Method::PUT,
            "/admin/advertisers/1001/commission-groups/EXISTING",
            Some(&json!({"name": "Existing", "type": "percentage", "value": 5})),
        )
        .await;
    conforms(&doc, "PUT", "/admin/advertisers/{id}/commission-groups/{code}", status, &body);
    let (status, body) = admin.post("/admin/tokens", &json!({"name": "finance-bot", "advertiserIds": [1001]})).await;
    conforms(&doc, "POST", "/admin/tokens", status, &body);
    let client = stack.client(body["token"].as_str().expect("token"));

    let rows = json!([
        {"orderRef": "SO-1", "transactionDate": "2026-11-14T10:15:00", "timezone": "Europe/Stockholm",
         "saleAmount": 125.50, "currency": "SEK",
         "transactionParts": [{"commissionGroupCode": "DEFAULT", "amount": 125.50}]},
        {"orderRef": "SO-2", "transactionDate": "2026-11-14T11:00:00", "timezone": "Europe/Stockholm",
         "saleAmount": 80, "currency": "SEK", "publisherId": 7, "clickRef": "c-1"}]);
    let (status, body) = client.post("/advertisers/1001/transactions", &rows).await;
    conforms(&doc, "POST", "/advertisers/{aid}/transactions", status, &body);
    let first = body["ids"][0].as_i64().expect("id");
    let second = body["ids"][1].as_i64().expect("id");
    let items = json!([
        {"action": "amend", "approve": true, "transaction": {"transactionId": first.to_string(),
         "amendReason": "partial", "currency": "SEK", "saleAmount": 100,
         "transactionParts": [{"commissionGroupCode": "EXISTING", "amount": 20}]}},
        {"action": "decline", "transaction": {"orderRef": "SO-2", "transactionDate": "2026-11-14T11:00:00",
         "timezone": "Europe/Stockholm", "declineReason": "returned"}},
        {"action": "approve", "transaction": {"transactionId": 999_999_999}},
        {"action": "frobnicate"}]);
    let (status, body) = client.post("/advertisers/1001/transactions/batch", &items).await;
    conforms(&doc, "POST", "/advertisers/{aid}/transactions/batch", status, &body);
    let job = body["jobId"].as_str().expect("jobId").to_owned();
    let done = client.wait_done(1001, &job).await;
    let codes: Vec<&str> = (0..4).map(|i| done.code(i)).collect();
    assert_eq!(codes, ["[200 OK]", "[200 OK]", "[404 NOT_FOUND]", "[400 BAD_REQUEST]"]);
    conforms(&doc, "GET", "/advertisers/{aid}/transactions/jobs/{job_id}", StatusCode::OK, &done.body);
    for query in ["", "?output=errors", "?output=all&limit=1", "?output=errors&code=404"] {
        let (status, body) = client.get(&format!("/advertisers/1001/transactions/jobs/{job}{query}")).await;
        conforms(&doc, "GET", "/advertisers/{aid}/transactions/jobs/{job_id}", status, &body);
    }
    let (status, body) = admin.get("/admin/jobs?advertiserId=1001&status=DONE").await;
    assert_eq!(body["jobs"][0]["jobId"], job.as_str(), "{body}");
    conforms(&doc, "GET", "/admin/jobs", status, &body);
    let (status, body) = admin.get("/admin/jobs?status=SOON").await;
    conforms(&doc, "GET", "/admin/jobs", status, &body);
    let (status, body) = client.get("/advertisers/1001/transactions/jobs?limit=1").await;
    conforms(&doc, "GET", "/advertisers/{aid}/transactions/jobs", status, &body);
    let (status, body) = client.get(&format!("/advertisers/1001/transactions/{first}")).await;
    assert!(body["history"].as_array().is_some_and(|h| !h.is_empty()), "{body}");
    conforms(&doc, "GET", "/advertisers/{aid}/transactions/{id}", status, &body);
    let action = "/advertisers/{aid}/transactions/{id}/actions";
    let (status, body) =
        client.post(&format!("/advertisers/1001/transactions/{second}/actions"), &json!({"action": "approve"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "declined by the batch: {body}");
    conforms(&doc, "POST", action, status, &body);
    let (status, body) =
        client.post(&format!("/advertisers/1001/transactions/{first}/actions"), &json!({"action": "decline"})).await;
    conforms(&doc, "POST", action, status, &body);
    let rows = json!([{"orderRef": "SO-3", "transactionDate": "2026-11-14T12:00:00", "timezone": "Europe/Stockholm",
                       "saleAmount": 10, "currency": "SEK"}]);
    let (_, body) = client.post("/advertisers/1001/transactions", &rows).await;
    let third = body["ids"][0].as_i64().expect("id");
    let (status, body) =
        client.post(&format!("/advertisers/1001/transactions/{third}/actions"), &json!({"action": "approve"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    conforms(&doc, "POST", action, status, &body);
    let range = "startDate=2026-11-14T00:00:00&endDate=2026-11-14T11:30:00&timezone=Europe/Stockholm";
    let (status, body) = client.get(&format!("/advertisers/1001/transactions?{range}")).await;
    assert_eq!(body.as_array().map(Vec::len), Some(2), "{body}");
    conforms(&doc, "GET", "/advertisers/{aid}/transactions", status, &body);

    // Errors, in the one error shape.
    let (status, body) = client.get("/advertisers/1002/transactions/jobs").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    conforms(&doc, "GET", "/advertisers/{aid}/transactions/jobs", status, &body);
    let (status, body) = client.get(&format!("/advertisers/1001/transactions/jobs/{job}?output=some")).await;
    conforms(&doc, "GET", "/advertisers/{aid}/transactions/jobs/{job_id}", status, &body);
    let (status, body) = client.post("/advertisers/1001/transactions", &rows).await;
    assert_eq!(status, StatusCode::CONFLICT);
    conforms(&doc, "POST", "/advertisers/{aid}/transactions", status, &body);
    let (status, body) = client.post("/advertisers/1001/transactions/batch", &json!({"action": "approve"})).await;
    conforms(&doc, "POST", "/advertisers/{aid}/transactions/batch", status, &body);
    let (status, body) = admin.send(Method::DELETE, &format!("/admin/tokens/{}", uuid::Uuid::new_v4()), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    conforms(&doc, "DELETE", "/admin/tokens/{id}", status, &body);
}

//! Batch items as the tests write them, one builder per action, so every test file sends
//! the same shapes (a test that needs a malformed item writes it out where it is used).

use serde_json::{json, Value};

/// The outcome labels a job's items carry, as the tests compare them.
pub mod labels {
    pub const OK: &str = "[200 OK]";
    pub const NOT_MODIFIED: &str = "[304 NOT_MODIFIED]";
    pub const BAD_REQUEST: &str = "[400 BAD_REQUEST]";
    pub const NOT_FOUND: &str = "[404 NOT_FOUND]";
    pub const UNPROCESSABLE: &str = "[422 UNPROCESSABLE_ENTITY]";
}

/// Approves transaction `id` (a number, or any JSON value, to test what is refused).
pub fn approve(id: impl Into<Value>) -> Value {
    json!({"action": "approve", "transaction": {"transactionId": id.into()}})
}

/// Declines transaction `id` with `reason`.
pub fn decline(id: impl Into<Value>, reason: &str) -> Value {
    json!({"action": "decline", "transaction": {"transactionId": id.into(), "declineReason": reason}})
}

/// Amends transaction `id` to a sale of `sale` EUR split into `parts` as `(group code,
/// amount)`, approving it too when `approve`. Amounts go out as JSON numbers, as clients
/// send them; the api reads them as exact decimals.
pub fn amend(id: i64, approve: bool, sale: f64, parts: &[(&str, f64)]) -> Value {
    let parts: Vec<Value> =
        parts.iter().map(|(code, amount)| json!({"commissionGroupCode": code, "amount": amount})).collect();
    json!({"action": "amend", "approve": approve, "transaction": {
        "transactionId": id, "amendReason": "partial return", "currency": "EUR",
        "saleAmount": sale, "transactionParts": parts}})
}

/// One item per id, made by `action`.
pub fn batch(ids: &[i64], action: impl Fn(i64) -> Value) -> Value {
    Value::Array(ids.iter().map(|id| action(*id)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builders_write_the_documented_shapes() {
        assert_eq!(approve(7), json!({"action": "approve", "transaction": {"transactionId": 7}}));
        assert_eq!(decline("7", "returned")["transaction"]["transactionId"], json!("7"));
        let item = amend(7, true, 80.0, &[("DEFAULT", 80.0)]);
        assert_eq!(item["approve"], json!(true));
        assert_eq!(item["transaction"]["transactionParts"][0]["commissionGroupCode"], json!("DEFAULT"));
        assert_eq!(batch(&[1, 2], approve).as_array().map(Vec::len), Some(2));
    }

    #[test]
    fn the_labels_are_the_domain_s() {
        use ratify_domain::job::OutcomeCode;
        assert_eq!(labels::OK, OutcomeCode::Ok.label());
        assert_eq!(labels::NOT_MODIFIED, OutcomeCode::NotModified.label());
        assert_eq!(labels::BAD_REQUEST, OutcomeCode::BadRequest.label());
        assert_eq!(labels::NOT_FOUND, OutcomeCode::NotFound.label());
        assert_eq!(labels::UNPROCESSABLE, OutcomeCode::Unprocessable.label());
    }
}

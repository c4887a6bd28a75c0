//! The api's edges, tried as a hostile client would: job-list cursors it did not give out,
//! request heads hyper refuses before any handler runs, the request timeout, a client that
//! never finishes its head, the connection cap, gzipped bodies (a bomb among them), other
//! encodings, and a month of local days in a zone that leaves summer time within it. Every
//! refusal is checked for its status and the one error shape `{"error", "description"}`.

use ratify_tests::{Client, Stack};
use serde_json::json;

const ADV: i64 = 1001;
const OTHER: i64 = 1002;

mod bodies;
mod cursors;
mod http;
mod local_days;
mod shutdown;

/// Advertisers 1001 and 1002 (SEK) and a client whose token is granted both.
async fn setup(stack: &Stack) -> Client {
    let admin = stack.admin();
    for id in [ADV, OTHER] {
        admin.create_advertiser(id, "SEK", &[("DEFAULT", "percentage", json!(10))]).await;
    }
    stack.client(&admin.create_token(&[ADV, OTHER]).await)
}

/// `host:port` of the api.
fn authority(stack: &Stack) -> String {
    stack.base_url.trim_start_matches("http://").trim_end_matches('/').to_owned()
}

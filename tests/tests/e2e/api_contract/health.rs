//! `/health`, `/ready` and the error shape of unknown routes.

use ratify_tests::assert_error;

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn health_and_ready() {
    let stack = Stack::builder().in_process().workers(0).start().await;
    let got = raw(&stack, Method::GET, "/health", None, None, &[], None).await;
    assert_eq!(got.0, StatusCode::OK, "{}", got.1);
    let got = raw(&stack, Method::GET, "/ready", None, None, &[], None).await;
    assert_eq!(got.0, StatusCode::OK, "{}", got.1);
    assert_eq!(got.1["postgres"], "up", "{}", got.1);
    assert_eq!(got.1["rabbitmq"], "up", "{}", got.1);

    // Unknown routes speak the error shape too.
    let got = raw(&stack, Method::GET, "/no/such/route", None, None, &[], None).await;
    assert_error("unknown route", &got, StatusCode::NOT_FOUND);
}

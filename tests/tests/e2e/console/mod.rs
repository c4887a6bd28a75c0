//! The console at `/console`: sessions and what each page shows, over HTTP here
//! ([`sessions`], [`pages`]), and in a real browser ([`browser`]).

mod browser;
mod pages;
mod sessions;

use ratify_tests::Stack;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::StatusCode;

/// A client that follows no redirect, so each answer can be checked.
fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("a client")
}

/// Signs in with `token`; returns the `Set-Cookie` header and the cookie to send back.
async fn sign_in(stack: &Stack, token: &str) -> (String, String) {
    let response = http()
        .post(format!("{}/console/sign-in", stack.base_url))
        .form(&[("token", token)])
        .send()
        .await
        .expect("sign in");
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "signing in redirects");
    assert_eq!(response.headers()[LOCATION], "/console/jobs");
    let set = response.headers()[SET_COOKIE].to_str().expect("ASCII").to_owned();
    let cookie = set.split(';').next().expect("name=value").to_owned();
    (set, cookie)
}

/// A GET with the session cookie: status, `Location` and body.
async fn get(stack: &Stack, cookie: &str, path: &str) -> (StatusCode, Option<String>, String) {
    let response =
        http().get(format!("{}{path}", stack.base_url)).header(COOKIE, cookie).send().await.expect("request");
    let status = response.status();
    let location = response.headers().get(LOCATION).map(|l| l.to_str().expect("ASCII").to_owned());
    (status, location, response.text().await.expect("body"))
}

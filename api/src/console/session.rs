//! Console sessions: signing in with a token, the session cookie, signing out.
//!
//! The cookie is never the token. It holds a random session id and an HMAC tag over it
//! (keyed from `ADMIN_TOKEN` under a label of its own), so a forged or altered cookie is
//! refused before any lookup; the session row is found by the id's hash and names the
//! token's hash, which is checked again on every request, so revoking a token ends its
//! sessions at once. The cookie is `HttpOnly` and `SameSite=Strict` (and `Secure` behind
//! https), and sessions expire after [`LIFETIME`].

use axum::extract::{FromRef, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use hmac::{Hmac, Mac};
use rand::RngCore;
use ratify_domain::ids::AdvertiserId;
use ratify_shared::db;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::error::ConsoleError;
use super::layout;
use crate::auth;
use crate::state::AppState;

pub const COOKIE: &str = "ratify_session";
/// How long a session lasts from sign-in.
pub const LIFETIME: chrono::TimeDelta = chrono::TimeDelta::hours(8);
const LABEL: &[u8] = b"ratify console session v1\0";
const ID_LEN: usize = 32;
const TAG_LEN: usize = 16;

/// A signed-in person: the admin (every advertiser) or a token's advertisers.
#[derive(Debug, Clone)]
pub struct Session {
    id_hash: Vec<u8>,
    pub admin: bool,
    pub advertisers: Vec<AdvertiserId>,
}

impl Session {
    /// Whether this session may see the advertiser's jobs and transactions.
    pub fn sees(&self, advertiser_id: AdvertiserId) -> bool {
        self.admin || self.advertisers.contains(&advertiser_id)
    }
}

fn tag(secret: &str, id: &[u8]) -> Vec<u8> {
    // HMAC takes a key of any length, so this cannot fail whatever secret is configured.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(LABEL);
    mac.update(id);
    mac.finalize().into_bytes()[..TAG_LEN].to_vec()
}

/// The session id a cookie value carries, when its tag is right.
fn open(secret: &str, value: &str) -> Option<Vec<u8>> {
    let (id, given) = value.split_once('.')?;
    let (id, given) = (hex::decode(id).ok()?, hex::decode(given).ok()?);
    (id.len() == ID_LEN && bool::from(tag(secret, &id).ct_eq(&given))).then_some(id)
}

fn cookie_value(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(name, value)| (name == COOKIE).then_some(value))
}

/// The live session a request's cookie names, if any.
pub async fn of(state: &AppState, headers: &HeaderMap) -> Result<Option<Session>, ConsoleError> {
    let Some(id) = cookie_value(headers).and_then(|v| open(&state.config.admin_token, v)) else {
        return Ok(None);
    };
    let id_hash = Sha256::digest(&id).to_vec();
    let mut conn = state.pool.acquire().await?;
    let Some(row) = db::sessions::get(&mut conn, &id_hash).await? else {
        return Ok(None);
    };
    if row.admin {
        let still: bool = row.token_hash.ct_eq(&state.admin_token_hash).into();
        return Ok(still.then_some(Session { id_hash, admin: true, advertisers: Vec::new() }));
    }
    let advertisers = db::tokens::advertisers_for(&mut conn, &row.token_hash).await?;
    Ok(advertisers.map(|advertisers| Session { id_hash, admin: false, advertisers }))
}

impl<S> FromRequestParts<S> for Session
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Session, ConsoleError> {
        let state = AppState::from_ref(state);
        of(&state, &parts.headers).await?.ok_or(ConsoleError::SignIn)
    }
}

/// `GET /console/sign-in`.
pub async fn sign_in_page() -> Response {
    layout::sign_in(None).into_response()
}

#[derive(Deserialize)]
pub struct SignIn {
    token: String,
}

/// `POST /console/sign-in`: opens a session for a valid token.
pub async fn sign_in(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<SignIn>) -> Response {
    match open_session(&state, form.token.trim()).await {
        Ok(Some(id)) => {
            let mut response = Redirect::to("/console/jobs").into_response();
            let secure = if https(&headers) { "; Secure" } else { "" };
            let value = format!(
                "{COOKIE}={}.{}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
                hex::encode(&id),
                hex::encode(tag(&state.config.admin_token, &id)),
                LIFETIME.num_seconds()
            );
            if let Ok(value) = HeaderValue::from_str(&value) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
        Ok(None) => {
            (axum::http::StatusCode::UNAUTHORIZED, layout::sign_in(Some("That token is not valid."))).into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// A new session's id for `token`, or `None` when it is neither the admin token nor a
/// live advertiser token.
async fn open_session(state: &AppState, token: &str) -> Result<Option<Vec<u8>>, ConsoleError> {
    if token.is_empty() {
        return Ok(None);
    }
    let token_hash = auth::hash(token);
    let admin: bool = token_hash.ct_eq(&state.admin_token_hash).into();
    let mut conn = state.pool.acquire().await?;
    if !admin && db::tokens::advertisers_for(&mut conn, &token_hash).await?.is_none() {
        return Ok(None);
    }
    let mut id = vec![0_u8; ID_LEN];
    rand::thread_rng().fill_bytes(&mut id);
    let expires = chrono::Utc::now() + LIFETIME;
    db::sessions::insert(&mut conn, &Sha256::digest(&id), &token_hash, admin, expires).await?;
    Ok(Some(id))
}

/// `POST /console/sign-out`: ends the session and clears the cookie.
pub async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ConsoleError> {
    if let Some(session) = of(&state, &headers).await? {
        let mut conn = state.pool.acquire().await?;
        db::sessions::delete(&mut conn, &session.id_hash).await?;
    }
    let mut response = Redirect::to("/console/sign-in").into_response();
    let clear = format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    if let Ok(value) = HeaderValue::from_str(&clear) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// Whether the request reached us over https (through a proxy that says so).
fn https(headers: &HeaderMap) -> bool {
    headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_cookie_this_api_signed_opens() {
        let id = vec![7_u8; ID_LEN];
        let value = format!("{}.{}", hex::encode(&id), hex::encode(tag("secret-of-sixteen+", &id)));
        assert_eq!(open("secret-of-sixteen+", &value), Some(id.clone()));
        assert_eq!(open("another-secret-here", &value), None);
        let mut forged = value.clone().into_bytes();
        forged[0] = if forged[0] == b'0' { b'1' } else { b'0' };
        assert_eq!(open("secret-of-sixteen+", std::str::from_utf8(&forged).unwrap()), None);
        for bad in ["", ".", "abc", &hex::encode(&id)] {
            assert_eq!(open("secret-of-sixteen+", bad), None, "{bad:?}");
        }
    }
}

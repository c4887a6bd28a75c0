//! Bearer tokens: advertiser tokens (hashed in Postgres, each granted advertisers) and
//! the operator's `ADMIN_TOKEN`.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::Method;
use rand::RngCore;
use ratify_domain::ids::AdvertiserId;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::console::ConsoleError;
use crate::error::ApiError;
use crate::state::AppState;

/// Prefix of every token, so a leaked one is recognisable in a secret scan.
const TOKEN_PREFIX: &str = "rat_";

/// A new random token (256 bits) and the hash to store.
pub fn new_token() -> (String, Vec<u8>) {
    let mut bytes = [0_u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let token = format!("{TOKEN_PREFIX}{}", hex::encode(bytes));
    let hash = hash(&token);
    (token, hash)
}

pub fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// The bearer token of a request, if it has one.
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// A caller with a valid advertiser token, or (for reads) a console session.
#[derive(Debug, Clone)]
pub struct Caller {
    advertisers: Vec<AdvertiserId>,
    /// The admin's console session: every advertiser.
    every_advertiser: bool,
}

impl Caller {
    /// Checks the token is granted `advertiser_id`: 403 otherwise.
    pub fn require(&self, advertiser_id: AdvertiserId) -> Result<(), ApiError> {
        if self.every_advertiser || self.advertisers.contains(&advertiser_id) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(advertiser_id))
        }
    }
}

impl<S> FromRequestParts<S> for Caller
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Caller, ApiError> {
        let Some(token) = bearer(&parts.headers) else {
            return from_session(parts, &AppState::from_ref(state)).await;
        };
        // Tokens are looked up by their hash: what travels to the database, and what a
        // timing difference could reveal, is never the token itself.
        let digest = hash(token);
        let state = AppState::from_ref(state);
        let mut conn = state.pool.acquire().await?;
        let advertisers = ratify_shared::db::tokens::advertisers_for(&mut conn, &digest).await?;
        advertisers.map(|advertisers| Caller { advertisers, every_advertiser: false }).ok_or(ApiError::Unauthorized)
    }
}

/// A read by the console (its live progress, its JSON downloads): the session cookie
/// stands for the token it was opened with. Only for GET and HEAD, so a cookie can never
/// change anything through the api (and it is `SameSite=Strict`, never sent cross-site).
async fn from_session(parts: &Parts, state: &AppState) -> Result<Caller, ApiError> {
    if !matches!(parts.method, Method::GET | Method::HEAD) {
        return Err(ApiError::Unauthorized);
    }
    match crate::console::session::of(state, &parts.headers).await {
        Ok(Some(session)) => Ok(Caller { advertisers: session.advertisers, every_advertiser: session.admin }),
        Ok(None) => Err(ApiError::Unauthorized),
        Err(ConsoleError::Api(e)) => Err(e),
        Err(_) => Err(ApiError::Unauthorized),
    }
}

/// An advertiser's caller (as [`Caller`]) or the operator (`ADMIN_TOKEN`, every
/// advertiser): for the routes both manage, such as an advertiser's webhook.
#[derive(Debug, Clone)]
pub struct CallerOrAdmin(pub Caller);

impl<S> FromRequestParts<S> for CallerOrAdmin
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<CallerOrAdmin, ApiError> {
        if Admin::from_request_parts(parts, state).await.is_ok() {
            return Ok(CallerOrAdmin(Caller { advertisers: Vec::new(), every_advertiser: true }));
        }
        Caller::from_request_parts(parts, state).await.map(CallerOrAdmin)
    }
}

/// A caller holding `ADMIN_TOKEN`.
#[derive(Debug, Clone, Copy)]
pub struct Admin;

impl<S> FromRequestParts<S> for Admin
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Admin, ApiError> {
        let token = bearer(&parts.headers).ok_or(ApiError::Unauthorized)?;
        let state = AppState::from_ref(state);
        // Compare fixed-length digests in constant time.
        let matches: bool = hash(token).ct_eq(&state.admin_token_hash).into();
        if matches {
            Ok(Admin)
        } else {
            Err(ApiError::Unauthorized)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, hash_a) = new_token();
        let (b, _) = new_token();
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 64);
        assert_eq!(hash_a, hash(&a));
        assert_eq!(hash_a.len(), 32);
    }
}

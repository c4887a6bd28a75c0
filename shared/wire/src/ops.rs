//! `GET /health` and `GET /ready`.

use serde::{Deserialize, Serialize};

/// `GET /health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    #[cfg_attr(feature = "openapi", schema(example = "ok"))]
    pub status: String,
}

/// `GET /ready`: whether submissions are accepted, whether each dependency answered, and
/// what works less well than it should.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Readiness {
    pub status: ReadyState,
    pub postgres: Reachability,
    pub rabbitmq: Reachability,
    /// What is degraded, in words, and what it means for jobs; empty when nothing is.
    #[cfg_attr(feature = "openapi", schema(example = json!(["rabbitmq is unreachable: batches are still accepted and wait in the outbox; jobs make no progress until it is back"])))]
    pub degraded: Vec<String>,
}

/// Whether the api can take batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ReadyState {
    /// Everything answers.
    Ready,
    /// Batches are accepted, but something is down (see `degraded`).
    Degraded,
    /// Postgres is unreachable: nothing can be accepted.
    Unavailable,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Reachability {
    Up,
    Down,
}

impl Reachability {
    pub fn of(up: bool) -> Reachability {
        if up {
            Reachability::Up
        } else {
            Reachability::Down
        }
    }
}

//! What a console page answers when it cannot show what was asked: a page, never JSON.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::layout;
use crate::error::ApiError;

#[derive(Debug)]
pub enum ConsoleError {
    /// No live session: to the sign-in page.
    SignIn,
    /// Nothing here for this session (also what another advertiser's job looks like).
    NotFound(String),
    BadRequest(String),
    /// Postgres is away, or an internal error (logged, not shown).
    Api(ApiError),
}

impl From<ApiError> for ConsoleError {
    fn from(e: ApiError) -> ConsoleError {
        ConsoleError::Api(e)
    }
}

impl From<sqlx::Error> for ConsoleError {
    fn from(e: sqlx::Error) -> ConsoleError {
        ConsoleError::Api(e.into())
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let (status, title, text) = match self {
            ConsoleError::SignIn => return Redirect::to("/console/sign-in").into_response(),
            ConsoleError::NotFound(text) => (StatusCode::NOT_FOUND, "Not found", text),
            ConsoleError::BadRequest(text) => (StatusCode::BAD_REQUEST, "Bad request", text),
            ConsoleError::Api(e) => {
                // The api's error logs what is internal; its status and words are what to show.
                let response = e.into_response();
                let status = response.status();
                let text = if status == StatusCode::SERVICE_UNAVAILABLE {
                    "The database is unreachable right now; try again in a moment.".to_owned()
                } else {
                    "Something went wrong on our side; it has been logged.".to_owned()
                };
                (status, "Unavailable", text)
            }
        };
        (status, layout::message(title, &text)).into_response()
    }
}

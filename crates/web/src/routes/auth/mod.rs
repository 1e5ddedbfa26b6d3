//! Signing up, logging in and out, password reset, e-mail confirmation.

pub mod login;
pub mod logout;
pub mod password;
pub mod signup;
pub mod verify;

use crate::context::SessionCookie;
use axum::response::Response;

/// Gives the browser the cookie of a new session.
pub fn with_session(mut res: Response, token: String) -> Response {
    res.extensions_mut().insert(SessionCookie::Start(token));
    res
}

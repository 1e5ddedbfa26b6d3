//! Signing up, logging in and out, password reset, e-mail confirmation.

pub mod login;
pub mod logout;
pub mod password;
pub mod signup;
pub mod verify;

use crate::context::{SESSION_COOKIE, build_cookie};
use axum::http::header;
use axum::response::Response;

/// Puts the session cookie on a response.
pub fn with_session(mut res: Response, token: String, secure: bool) -> Response {
    let max_age = services::sessions::LIFETIME.num_seconds();
    res.headers_mut().append(
        header::SET_COOKIE,
        build_cookie(SESSION_COOKIE, token, max_age, secure),
    );
    res
}

//! Signing up, logging in and out, password reset, e-mail confirmation.

pub mod login;
pub mod logout;
pub mod password;
pub mod signup;
pub mod verify;

use crate::AppState;
use crate::context::SessionCookie;
use axum::Router;
use axum::response::Response;
use axum::routing::{get, post};

/// The routes of signing up, logging in and out, password reset and e-mail confirmation.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/signup", get(signup::form).post(signup::submit))
        .route("/signup/sent", get(signup::sent))
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", post(logout::submit))
        .route(
            "/password/forgot",
            get(password::forgot_form).post(password::forgot_submit),
        )
        .route(
            "/password/reset/{token}",
            get(password::reset_form).post(password::reset_submit),
        )
        .route("/verify/resend", post(verify::resend))
        .route("/verify/{token}", get(verify::page).post(verify::confirm))
}

/// Gives the browser the cookie of a new session.
pub fn with_session(mut res: Response, token: String) -> Response {
    res.extensions_mut().insert(SessionCookie::Start(token));
    res
}

//! The session concern of the request context: the session cookie, and who it names.

use super::{SESSION_COOKIE, cookie, looks_like_token};
use crate::AppState;
use crate::error::AppError;
use axum::http::HeaderMap;
use services::sessions::AuthSession;

/// Who the browser's session cookie names.
pub(super) struct Session {
    /// The session cookie's value, when it has the shape of one of our tokens.
    pub token: Option<String>,
    /// The session and its user, when the cookie names a live session.
    pub auth: Option<AuthSession>,
    /// The browser sent a session cookie that no longer names a session.
    pub stale: bool,
}

/// Reads the session cookie and looks up the session it names.
pub(super) async fn read(state: &AppState, headers: &HeaderMap) -> Result<Session, AppError> {
    let token = cookie(headers, SESSION_COOKIE)
        .filter(|t| looks_like_token(t))
        .map(str::to_owned);
    let auth = match &token {
        Some(token) => state.services.authenticate_session(token).await?,
        None => None,
    };
    let stale = cookie(headers, SESSION_COOKIE).is_some() && auth.is_none();
    Ok(Session { token, auth, stale })
}

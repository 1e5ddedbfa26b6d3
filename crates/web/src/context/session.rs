//! The session concern of the request context: the session cookie, who it names, and the rest
//! of the signed-in frame (their workspaces, and their place in the one the page is in), read
//! with it in one statement (`services::frame`).

use super::{SESSION_COOKIE, cookie, looks_like_token};
use crate::AppState;
use crate::error::AppError;
use axum::http::HeaderMap;
use domain::WorkspaceId;
use services::frame::Frame;

/// Who the browser's session cookie names.
pub(super) struct Session {
    /// The session cookie's value, when it has the shape of one of our tokens.
    pub token: Option<String>,
    /// The session, its user and their frame, when the cookie names a live session.
    pub frame: Option<Frame>,
    /// The browser sent a session cookie that no longer names a session.
    pub stale: bool,
}

/// Reads the session cookie and the frame of the session it names, in workspace `here` (the
/// page's `wid`, if it has one).
pub(super) async fn read(
    state: &AppState,
    headers: &HeaderMap,
    here: Option<WorkspaceId>,
) -> Result<Session, AppError> {
    let token = cookie(headers, SESSION_COOKIE)
        .filter(|t| looks_like_token(t))
        .map(str::to_owned);
    let frame = match &token {
        Some(token) => state.services.frame(token, here).await?,
        None => None,
    };
    let stale = cookie(headers, SESSION_COOKIE).is_some() && frame.is_none();
    Ok(Session {
        token,
        frame,
        stale,
    })
}

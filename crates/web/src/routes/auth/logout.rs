//! Log-out: ends this browser's session.

use crate::AppState;
use crate::context::{SESSION_COOKIE, SessionCookie, cookie};
use crate::error::AppResult;
use crate::flash::{Flash, redirect_with};
use axum::extract::State;
use axum::http::HeaderMap;

pub async fn submit(State(state): State<AppState>, headers: HeaderMap) -> AppResult {
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        state.services.end_session(token).await?;
    }
    let mut res = redirect_with("/login", Flash::LoggedOut);
    res.extensions_mut().insert(SessionCookie::End);
    Ok(res)
}

//! The list of one's sessions, and signing them out.

use crate::AppState;
use crate::error::AppResult;
use crate::extract::{CurrentUser, PathIds};
use crate::flash::{Flash, redirect_with};
use crate::page::Layout;
use crate::routes::{fmt_time, render};
use askama::Template;
use axum::extract::State;
use domain::SessionId;

struct SessionRow {
    id: i64,
    device: String,
    current: bool,
    created: String,
    created_iso: String,
    seen: String,
    seen_iso: String,
}

#[derive(Template)]
#[template(path = "settings/sessions.html")]
struct SessionsPage {
    layout: Layout,
    tab: &'static str,
    sessions: Vec<SessionRow>,
}

pub async fn page(State(state): State<AppState>, user: CurrentUser) -> AppResult {
    let tz = user.auth.user.timezone.clone();
    let rows = state
        .services
        .sessions_of(user.auth.user_id())
        .await?
        .into_iter()
        .map(|s| SessionRow {
            id: s.id,
            current: s.id == user.auth.session_id.0,
            device: s.device,
            created: fmt_time(&s.created_at, &tz),
            created_iso: s.created_at.to_rfc3339(),
            seen: fmt_time(&s.last_seen_at, &tz),
            seen_iso: s.last_seen_at.to_rfc3339(),
        })
        .collect();
    let layout = Layout::new(&state, &user.ctx, "Settings").await?;
    render(SessionsPage {
        layout,
        tab: "sessions",
        sessions: rows,
    })
}

pub async fn end_others(State(state): State<AppState>, user: CurrentUser) -> AppResult {
    state
        .services
        .end_other_sessions(user.auth.user_id(), user.auth.session_id)
        .await?;
    Ok(redirect_with("/settings/sessions", Flash::SessionsEnded))
}

pub async fn end_one(
    State(state): State<AppState>,
    user: CurrentUser,
    PathIds(sid): PathIds<SessionId>,
) -> AppResult {
    state
        .services
        .end_one_session(user.auth.user_id(), sid)
        .await?;
    Ok(redirect_with("/settings/sessions", Flash::SessionEnded))
}

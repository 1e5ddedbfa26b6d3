//! A post's state and each account's, as JSON, for its page to follow while it is published
//! (`static/post.js` asks every 2 s while `publishing` is true). Who may see the post's page may
//! see this; anyone else gets 404.

use super::{badge_at, shown_state};
use crate::AppState;
use crate::error::AppResult;
use crate::extract::{PathIds, WorkspaceMember};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use domain::{PostId, WorkspaceId};
use services::posts::{PostState, PostView};

#[derive(serde::Serialize)]
struct PostStatus {
    /// The state as the page shows it (see `shown_state`).
    state: &'static str,
    label: &'static str,
    /// The badge's `state-…` class.
    class: &'static str,
    /// Whether something is still going out (the page asks again while it is).
    publishing: bool,
    targets: Vec<TargetStatus>,
}

#[derive(serde::Serialize)]
struct TargetStatus {
    id: i64,
    state: &'static str,
    label: &'static str,
    class: &'static str,
    attempts: i32,
    permalink: Option<String>,
    error: Option<String>,
}

pub async fn status(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((_, post_id)): PathIds<(WorkspaceId, PostId)>,
) -> AppResult {
    let PostView { post, targets, .. } = state
        .services
        .post_view(m.membership.workspace_id(), post_id)
        .await?;
    let now = services::now();
    let shown = shown_state(post.state, post.scheduled_at, now);
    let badge = badge_at(post.state, post.scheduled_at, now);
    let body = PostStatus {
        state: shown.as_str(),
        label: badge.label,
        class: badge.class,
        publishing: shown == PostState::Publishing,
        targets: targets
            .iter()
            .map(|t| {
                let badge = badge_at(t.target.state, post.scheduled_at, now);
                TargetStatus {
                    id: t.target.id,
                    state: shown_state(t.target.state, post.scheduled_at, now).as_str(),
                    label: badge.label,
                    class: badge.class,
                    attempts: t.target.attempts,
                    permalink: t.target.permalink.clone(),
                    error: t.target.last_error.clone(),
                }
            })
            .collect(),
    };
    let mut res = Json(body).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

//! Opening a workspace: `/dashboard` goes to the one used last, `/w/{wid}` shows one (and
//! switching is following a link in the switcher).

use crate::AppState;
use crate::error::AppResult;
use crate::extract::{CurrentUser, WorkspaceMember};
use crate::page::Layout;
use crate::routes::render;
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect};
use domain::Role;

pub async fn dashboard(State(state): State<AppState>, user: CurrentUser) -> AppResult {
    let list = state.services.memberships_of(user.auth.user_id()).await?;
    let last = user.auth.user.last_workspace_id;
    let target = list
        .iter()
        .find(|m| Some(m.workspace.id) == last)
        .or_else(|| list.first())
        .map(|m| m.workspace.id);
    Ok(match target {
        Some(id) => Redirect::to(&format!("/w/{id}")).into_response(),
        None => Redirect::to("/workspaces/new").into_response(),
    })
}

#[derive(Template)]
#[template(path = "workspaces/show.html")]
struct ShowPage {
    layout: Layout,
    id: i64,
    name: String,
    role: Role,
    members: u64,
}

pub async fn show(State(state): State<AppState>, m: WorkspaceMember) -> AppResult {
    let ws = &m.membership.workspace;
    let members = state
        .services
        .member_count(m.membership.workspace_id())
        .await?;
    state
        .services
        .remember_workspace(&m.auth.user, m.membership.workspace_id())
        .await?;
    let layout = Layout::for_member(&state, &m, &ws.name);
    render(ShowPage {
        layout,
        id: ws.id,
        name: ws.name.clone(),
        role: m.membership.role,
        members,
    })
}

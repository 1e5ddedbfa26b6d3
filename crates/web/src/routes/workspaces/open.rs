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
    let list = state.services.workspaces_of(user.auth.user_id()).await?;
    let last = user.auth.user.last_workspace_id;
    let target = list
        .iter()
        .find(|(ws, _)| Some(ws.id) == last)
        .or_else(|| list.first())
        .map(|(ws, _)| ws.id);
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
    members: usize,
}

pub async fn show(State(state): State<AppState>, m: WorkspaceMember) -> AppResult {
    let ws = &m.membership.workspace;
    let members = state
        .services
        .members(m.membership.workspace_id())
        .await?
        .len();
    state
        .services
        .remember_workspace(&m.auth.user, m.membership.workspace_id())
        .await?;
    let layout = Layout::new(&state, &m.ctx, &ws.name)
        .await?
        .in_workspace(&m.membership);
    render(ShowPage {
        layout,
        id: ws.id,
        name: ws.name.clone(),
        role: m.membership.role,
        members,
    })
}

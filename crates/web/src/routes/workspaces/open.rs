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
use store::entities::states::AccountStatus;

pub async fn dashboard(user: CurrentUser) -> AppResult {
    // The person's workspaces came with the session.
    let last = user.auth.user.last_workspace_id;
    let target = user
        .ctx
        .memberships
        .iter()
        .find(|m| Some(m.workspace.id) == last)
        .or_else(|| user.ctx.memberships.first())
        .map(|m| m.workspace.id);
    Ok(match target {
        Some(id) => Redirect::to(&format!("/w/{id}")).into_response(),
        None => Redirect::to("/workspaces/new").into_response(),
    })
}

/// A post on the dashboard.
struct PostLink {
    id: i64,
    excerpt: String,
    when: String,
    state: crate::routes::posts::StateBadge,
}

#[derive(Template)]
#[template(path = "workspaces/show.html")]
struct ShowPage {
    layout: Layout,
    id: i64,
    name: String,
    role: Role,
    members: u64,
    upcoming: Vec<PostLink>,
    attention: Vec<PostLink>,
    accounts: Vec<(&'static str, String)>,
    /// Accounts disconnected or whose authorisation the platform refused: posts for them wait.
    reconnect: Vec<(&'static str, String)>,
}

/// The workspace's home. Besides the frame (which brings the member count), one statement for
/// the posts and one for the accounts; a write only when the person comes from another
/// workspace, and a read of the notices only when some wait.
pub async fn show(State(state): State<AppState>, m: WorkspaceMember) -> AppResult {
    let ws = &m.membership.workspace;
    let members = m.members;
    state
        .services
        .remember_workspace(&m.auth.user, m.membership.workspace_id())
        .await?;
    let (upcoming, attention) = state
        .services
        .dashboard_posts(m.membership.workspace_id(), 5)
        .await?;
    let tz = crate::routes::posts::zone_of(&m);
    let link = |p: &store::entities::post::Model| PostLink {
        id: p.id,
        excerpt: match services::posts::excerpt(&p.body) {
            e if e.is_empty() => "(no text)".to_owned(),
            e => e,
        },
        when: p
            .scheduled_at
            .map(|at| domain::schedule::describe(at, tz))
            .unwrap_or_default(),
        state: crate::routes::posts::badge(p.state),
    };
    let accounts = state
        .services
        .accounts_of(m.membership.workspace_id())
        .await?
        .into_iter()
        .map(|a| {
            (
                domain::Platform::parse(&a.platform)
                    .map(|p| p.label())
                    .unwrap_or("?"),
                a.username,
                a.status == AccountStatus::Connected,
            )
        })
        .collect::<Vec<_>>();
    let (accounts, reconnect): (Vec<_>, Vec<_>) = accounts
        .into_iter()
        .partition(|(_, _, connected)| *connected);
    let accounts = accounts.into_iter().map(|(p, u, _)| (p, u)).collect();
    let reconnect = reconnect.into_iter().map(|(p, u, _)| (p, u)).collect();
    let mut layout = Layout::for_member(&state, &m, &ws.name);
    layout.take_notices(&state, &m.ctx).await?;
    render(ShowPage {
        layout,
        id: ws.id,
        name: ws.name.clone(),
        role: m.membership.role,
        members,
        upcoming: upcoming.iter().map(link).collect(),
        attention: attention.iter().map(link).collect(),
        accounts,
        reconnect,
    })
}

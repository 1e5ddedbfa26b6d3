//! The members-and-settings page of a workspace, and renaming it.

use crate::AppState;
use crate::error::AppResult;
use crate::extract::WorkspaceMember;
use crate::flash::{Flash, redirect_with};
use crate::forms::FieldErrors;
use crate::page::Layout;
use crate::routes::{fmt_time, render, rerender};
use askama::Template;
use axum::Form;
use axum::extract::State;
use domain::{Role, WorkspaceName};
use services::workspaces::Member;

pub struct InvitationRow {
    pub id: i64,
    pub email: String,
    pub role: String,
    pub expires: String,
    pub expires_iso: String,
}

#[derive(Template)]
#[template(path = "workspaces/settings.html")]
pub struct SettingsPage {
    layout: Layout,
    errors: FieldErrors,
    id: i64,
    name: String,
    role: &'static str,
    me: i64,
    manage: bool,
    members: Vec<Member>,
    invitations: Vec<InvitationRow>,
    roles: [Role; 4],
    invite_email: String,
    invite_role: String,
}

/// Values typed into the page's forms, kept when it is shown again with errors.
#[derive(Default)]
pub struct Typed {
    pub name: Option<String>,
    pub invite_email: String,
    pub invite_role: String,
}

pub async fn build(
    state: &AppState,
    m: &WorkspaceMember,
    typed: Typed,
    errors: FieldErrors,
) -> AppResult<SettingsPage> {
    let ws = &m.membership.workspace;
    let tz = m.auth.user.timezone.as_str();
    let manage = m.membership.role.can_manage_members();
    let invitations = if manage {
        state
            .services
            .pending_invitations(m.membership.workspace_id())
            .await?
            .into_iter()
            .map(|i| InvitationRow {
                id: i.id,
                email: i.email,
                role: i.role,
                expires: fmt_time(&i.expires_at, tz),
                expires_iso: i.expires_at.to_rfc3339(),
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(SettingsPage {
        layout: Layout::new(state, &m.ctx, "Members and settings")
            .await?
            .in_workspace(&m.membership),
        errors,
        id: ws.id,
        name: typed.name.unwrap_or_else(|| ws.name.clone()),
        role: m.membership.role.as_str(),
        me: m.membership.id.0,
        manage,
        members: state.services.members(m.membership.workspace_id()).await?,
        invitations,
        roles: Role::ALL,
        invite_email: typed.invite_email,
        invite_role: if typed.invite_role.is_empty() {
            "editor".to_owned()
        } else {
            typed.invite_role
        },
    })
}

pub async fn page(State(state): State<AppState>, m: WorkspaceMember) -> AppResult {
    render(build(&state, &m, Typed::default(), FieldErrors::new()).await?)
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct RenameForm {
    name: String,
}

pub async fn rename(
    State(state): State<AppState>,
    m: WorkspaceMember,
    Form(form): Form<RenameForm>,
) -> AppResult {
    let mut errors = FieldErrors::new();
    if let Some(name) = errors.check("name", WorkspaceName::parse(&form.name)) {
        state
            .services
            .rename_workspace(&m.membership, &m.auth.user, &name)
            .await?;
        let to = format!("/w/{}/settings", m.membership.workspace.id);
        return Ok(redirect_with(&to, Flash::WorkspaceRenamed));
    }
    let typed = Typed {
        name: Some(form.name),
        ..Default::default()
    };
    rerender(build(&state, &m, typed, errors).await?)
}

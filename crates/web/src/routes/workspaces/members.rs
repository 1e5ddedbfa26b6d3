//! Changing a member's role, removing a member, leaving.

use crate::AppState;
use crate::error::AppResult;
use crate::extract::WorkspaceMember;
use crate::flash::{Flash, redirect_with};
use crate::forms::FieldErrors;
use crate::routes::rerender;
use crate::routes::workspaces::settings::{Typed, build};
use axum::Form;
use axum::extract::{Path, State};
use domain::{MembershipId, Role};

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct RoleForm {
    role: String,
}

pub async fn change_role(
    State(state): State<AppState>,
    m: WorkspaceMember,
    Path((_, mid)): Path<(i64, i64)>,
    Form(form): Form<RoleForm>,
) -> AppResult {
    let mut errors = FieldErrors::new();
    if let Some(role) = errors.check("role", Role::parse(&form.role)) {
        state
            .services
            .change_role(&m.membership, &m.auth.user, MembershipId(mid), role)
            .await?;
        let to = format!("/w/{}/settings", m.membership.workspace.id);
        return Ok(redirect_with(&to, Flash::RoleChanged));
    }
    rerender(build(&state, &m, Typed::default(), errors).await?)
}

pub async fn remove(
    State(state): State<AppState>,
    m: WorkspaceMember,
    Path((_, mid)): Path<(i64, i64)>,
) -> AppResult {
    state
        .services
        .remove_member(&m.membership, &m.auth.user, MembershipId(mid))
        .await?;
    let to = format!("/w/{}/settings", m.membership.workspace.id);
    Ok(redirect_with(&to, Flash::MemberRemoved))
}

pub async fn leave(State(state): State<AppState>, m: WorkspaceMember) -> AppResult {
    state
        .services
        .leave_workspace(&m.membership, &m.auth.user)
        .await?;
    Ok(redirect_with("/dashboard", Flash::LeftWorkspace))
}

//! Changing a member's role, removing a member, leaving.

use crate::AppState;
use crate::error::AppResult;
use crate::extract::{PathIds, WorkspaceMember};
use crate::flash::Flash;
use crate::routes::workspaces::settings::{Typed, outcome, path};
use axum::Form;
use axum::extract::State;
use domain::{MembershipId, Role, WorkspaceId};
use services::ServiceError;

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct RoleForm {
    role: String,
}

pub async fn change_role(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((_, mid)): PathIds<(WorkspaceId, MembershipId)>,
    Form(form): Form<RoleForm>,
) -> AppResult {
    let result = match Role::parse(&form.role) {
        Ok(role) => {
            state
                .services
                .change_role(&m.membership, &m.auth.user, MembershipId(mid.0), role)
                .await
        }
        Err(e) => Err(ServiceError::invalid("member", e.0)),
    };
    outcome(
        &state,
        &m,
        result,
        &path(&m),
        Flash::RoleChanged,
        Typed::default(),
    )
    .await
}

pub async fn remove(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((_, mid)): PathIds<(WorkspaceId, MembershipId)>,
) -> AppResult {
    let result = state
        .services
        .remove_member(&m.membership, &m.auth.user, MembershipId(mid.0))
        .await;
    outcome(
        &state,
        &m,
        result,
        &path(&m),
        Flash::MemberRemoved,
        Typed::default(),
    )
    .await
}

pub async fn leave(State(state): State<AppState>, m: WorkspaceMember) -> AppResult {
    let result = state
        .services
        .leave_workspace(&m.membership, &m.auth.user)
        .await;
    outcome(
        &state,
        &m,
        result,
        "/dashboard",
        Flash::LeftWorkspace,
        Typed::default(),
    )
    .await
}

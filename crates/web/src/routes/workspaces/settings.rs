//! The members-and-settings page of a workspace, and renaming it.

use crate::AppState;
use crate::error::AppResult;
use crate::extract::WorkspaceMember;
use crate::flash::{Flash, redirect_with};
use crate::forms::FieldErrors;
use crate::page::Layout;
use crate::routes::{fmt_time, render};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use domain::approval::{Approvers, Rules};
use domain::{Role, WorkspaceName};
use services::ServiceError;
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
    my_role: Role,
    last_owner: bool,
    me: i64,
    manage: bool,
    members: Vec<Member>,
    invitations: Vec<InvitationRow>,
    roles: [Role; 4],
    invite_email: String,
    invite_role: String,
    approvals: ApprovalSettings,
}

/// The approval settings as the page shows them.
pub struct ApprovalSettings {
    pub required: bool,
    pub approvers: Approvers,
    pub own_posts: bool,
    /// The reader is an owner (only owners change them).
    pub owner: bool,
    /// The plan has approval workflows (else the page names the plan that does).
    pub refused: Option<String>,
    pub choices: [Approvers; 3],
}

impl ApprovalSettings {
    fn is(&self, a: &Approvers) -> bool {
        self.approvers == *a
    }
}

impl SettingsPage {
    /// Whether the reader may change or remove a member who holds `current`.
    fn may_manage(&self, current: &Role) -> bool {
        self.manage && self.my_role.may_manage(*current, None)
    }

    /// Whether the reader may give `role` to a member who holds `current`.
    fn may_assign(&self, current: &Role, role: &Role) -> bool {
        self.my_role.may_manage(*current, Some(*role))
    }

    /// Whether the reader may invite someone as `role`.
    fn may_invite(&self, role: &Role) -> bool {
        self.my_role.may_manage(Role::Viewer, Some(*role))
    }
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
                role: Role::parse(&i.role)
                    .map(|r| r.label().to_owned())
                    .unwrap_or(i.role),
                expires: fmt_time(&i.expires_at, tz),
                expires_iso: i.expires_at.to_rfc3339(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let stored = services::posts::approval::stored_rules(ws);
    let refused = match state
        .services
        .require_approvals(m.membership.workspace_id())
        .await
    {
        Ok(()) => None,
        Err(ServiceError::PlanLimit { refusal, .. }) => Some(refusal.to_string()),
        Err(e) => return Err(e.into()),
    };
    Ok(SettingsPage {
        approvals: ApprovalSettings {
            required: stored.required,
            approvers: stored.approvers,
            own_posts: stored.own_posts,
            owner: m.membership.role == Role::Owner,
            refused,
            choices: Approvers::ALL,
        },
        layout: Layout::for_member(state, m, "Members and settings"),
        errors,
        id: ws.id,
        name: typed.name.unwrap_or_else(|| ws.name.clone()),
        my_role: m.membership.role,
        last_owner: m.membership.role == Role::Owner
            && state.services.owners(m.membership.workspace_id()).await? <= 1,
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

/// Ends a change made from this page: on success, a redirect to `done` with `flash`; when the
/// service refuses (a rule, or bad input), this page again with the reason at the top and the
/// status that says why.
pub async fn outcome(
    state: &AppState,
    m: &WorkspaceMember,
    result: Result<(), ServiceError>,
    done: &str,
    flash: Flash,
    typed: Typed,
) -> AppResult {
    let err = match result {
        Ok(()) => return Ok(redirect_with(done, flash)),
        Err(err) => err,
    };
    let mut errors = FieldErrors::new();
    let status = match err {
        ServiceError::Forbidden(message) => {
            errors.add("member", message);
            StatusCode::FORBIDDEN
        }
        other => {
            errors.absorb(other)?;
            StatusCode::UNPROCESSABLE_ENTITY
        }
    };
    let mut res = render(build(state, m, typed, errors).await?)?;
    *res.status_mut() = status;
    Ok(res)
}

/// The address of the members-and-settings page.
pub fn path(m: &WorkspaceMember) -> String {
    format!("/w/{}/settings", m.membership.workspace.id)
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
    let typed = Typed {
        name: Some(form.name.clone()),
        ..Default::default()
    };
    let result = match WorkspaceName::parse(&form.name) {
        Ok(name) => {
            state
                .services
                .rename_workspace(&m.membership, &m.auth.user, &name)
                .await
        }
        Err(e) => Err(ServiceError::invalid("name", e.0)),
    };
    outcome(
        &state,
        &m,
        result,
        &path(&m),
        Flash::WorkspaceRenamed,
        typed,
    )
    .await
}

/// The approval settings form: a checkbox per member for the named approvers.
pub async fn approvals(
    State(state): State<AppState>,
    m: WorkspaceMember,
    body: axum::body::Bytes,
) -> AppResult {
    let form = crate::routes::posts::FormPairs::parse(&body);
    let result = match Approvers::parse(form.get("approvers")) {
        Ok(approvers) => {
            let rules = Rules {
                required: form.get("required") == "1",
                approvers,
                own_posts: form.get("own_posts") == "1",
            };
            let named: Vec<i64> = form
                .all("approver")
                .filter_map(|id| id.parse().ok())
                .collect();
            state
                .services
                .set_approval_rules(&m.membership, &m.auth.user, rules, &named)
                .await
        }
        Err(e) => Err(ServiceError::invalid("approvers", e.0)),
    };
    outcome(
        &state,
        &m,
        result,
        &format!("{}#approvals", path(&m)),
        Flash::ApprovalsSaved,
        Typed::default(),
    )
    .await
}

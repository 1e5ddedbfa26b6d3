//! Inviting people by e-mail, withdrawing invitations, and accepting them.

use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::extract::{Ctx, CurrentUser, PathIds, WorkspaceMember};
use crate::flash::{Flash, redirect_with};
use crate::forms::FieldErrors;
use crate::page::Layout;
use crate::routes::workspaces::settings::{Typed, build, outcome, path};
use crate::routes::{render, rerender};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use domain::{Email, InvitationId, Role, WorkspaceId};
use services::ServiceError;

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct InviteForm {
    email: String,
    role: String,
}

pub async fn create(
    State(state): State<AppState>,
    m: WorkspaceMember,
    Form(form): Form<InviteForm>,
) -> AppResult {
    let mut errors = FieldErrors::new();
    let email = errors.check("email", Email::parse(&form.email));
    let role = errors.check("role", Role::parse(&form.role));
    let typed = Typed {
        name: None,
        invite_email: form.email,
        invite_role: form.role,
    };
    let (Some(email), Some(role)) = (email, role) else {
        return rerender(build(&state, &m, typed, errors).await?);
    };
    let result = state
        .services
        .invite(&m.membership, &m.auth.user, &email, role)
        .await
        .map(|_| ());
    match result {
        // A limit on invitations: the form again, the reason next to the address.
        Err(ServiceError::Invalid {
            field: services::workspaces::invitations::LIMIT_FIELD,
            message,
        }) => {
            let mut errors = FieldErrors::new();
            errors.add("email", message);
            let mut res = render(build(&state, &m, typed, errors).await?)?;
            *res.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            Ok(res)
        }
        result => outcome(&state, &m, result, &path(&m), Flash::InvitationSent, typed).await,
    }
}

pub async fn revoke(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((_, iid)): PathIds<(WorkspaceId, InvitationId)>,
) -> AppResult {
    let result = state
        .services
        .revoke_invitation(&m.membership, &m.auth.user, iid)
        .await;
    outcome(
        &state,
        &m,
        result,
        &path(&m),
        Flash::InvitationRevoked,
        Typed::default(),
    )
    .await
}

#[derive(Template)]
#[template(path = "workspaces/invitation.html")]
struct InvitationPage {
    layout: Layout,
    problem: Option<String>,
    workspace: String,
    role: &'static str,
    invited: String,
    here: String,
}

async fn show_page(
    state: &AppState,
    ctx: &crate::context::RequestCtx,
    token: &str,
    problem: Option<String>,
) -> AppResult {
    let layout = Layout::new(state, ctx, "Invitation").await?;
    let here = format!("/invitations/{token}");
    let mut page = InvitationPage {
        layout,
        problem,
        workspace: String::new(),
        role: "",
        invited: String::new(),
        here,
    };
    if page.problem.is_none() {
        match state.services.peek_invitation(token).await {
            Ok(view) => {
                page.workspace = view.workspace_name;
                page.role = view.role.label();
                page.invited = view.invitation.email;
            }
            Err(ServiceError::Invalid { message, .. }) => page.problem = Some(message),
            Err(err) => return Err(err.into()),
        }
    }
    let failed = page.problem.is_some();
    let mut res = render(page)?;
    if failed {
        *res.status_mut() = StatusCode::GONE;
    }
    Ok(crate::routes::no_referrer(res))
}

pub async fn show(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    PathIds(token): PathIds<String>,
) -> AppResult {
    show_page(&state, &ctx, &token, None).await
}

pub async fn accept(
    State(state): State<AppState>,
    user: CurrentUser,
    PathIds(token): PathIds<String>,
) -> AppResult {
    match state
        .services
        .accept_invitation(&user.auth.user, &token)
        .await
    {
        Ok(ws) => Ok(redirect_with(
            &format!("/w/{ws}"),
            Flash::InvitationAccepted,
        )),
        Err(ServiceError::Invalid { message, .. } | ServiceError::Forbidden(message)) => {
            let mut res = show_page(&state, &user.ctx, &token, Some(message)).await?;
            *res.status_mut() = StatusCode::FORBIDDEN;
            Ok(res)
        }
        Err(err) => Err(AppError::from(err)),
    }
}

//! Deleting one's own account: what goes and what stays (from the data map), the password
//! again and the address typed out, then everything at once. The posts and files the person
//! made in workspaces others keep go too, unless they tick the box that leaves them there; the
//! page shown afterwards says which happened.

use crate::AppState;
use crate::context::SessionCookie;
use crate::error::AppResult;
use crate::extract::{Ctx, CurrentUser};
use crate::forms::FieldErrors;
use crate::page::Layout;
use crate::routes::{render, rerender};
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect};
use services::deletion::{KeptOutcome, KeptWork, Preview};

#[derive(Template)]
#[template(path = "settings/delete.html")]
struct DeletePage {
    layout: Layout,
    tab: &'static str,
    email: String,
    preview: Preview,
    /// The box that leaves the posts and files made in workspaces others keep, as last sent.
    leave_kept: bool,
    errors: FieldErrors,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct DeleteForm {
    password: String,
    confirm: String,
    /// Ticked: leave the posts and files made in workspaces others keep (unticked by default).
    leave_kept: Option<String>,
}

async fn page(
    state: &AppState,
    user: &CurrentUser,
    errors: FieldErrors,
    leave_kept: bool,
) -> AppResult<DeletePage> {
    let preview = state.services.deletion_preview(&user.auth.user).await?;
    Ok(DeletePage {
        layout: Layout::new(state, &user.ctx, "Delete your account").await?,
        tab: "delete",
        email: user.auth.user.email.clone(),
        preview,
        leave_kept,
        errors,
    })
}

pub async fn form(State(state): State<AppState>, user: CurrentUser) -> AppResult {
    render(page(&state, &user, FieldErrors::new(), false).await?)
}

pub async fn submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<DeleteForm>,
) -> AppResult {
    let mut errors = FieldErrors::new();
    let kept_work = if form.leave_kept.is_some_and(|v| !v.is_empty()) {
        KeptWork::Leave
    } else {
        KeptWork::Delete
    };
    if form.password.is_empty() {
        errors.add("password", "Enter your password.");
    }
    if form.confirm.trim().is_empty() {
        errors.add("confirm", "Type your e-mail address to confirm.");
    }
    if errors.is_empty() {
        match state
            .services
            .delete_own_account(
                &user.auth,
                &form.password,
                &form.confirm,
                &user.ctx.client,
                kept_work,
            )
            .await
        {
            Ok(outcome) => {
                let to = match outcome.as_query() {
                    Some(kept) => format!("/account-deleted?kept={kept}"),
                    None => "/account-deleted".to_owned(),
                };
                let mut res = Redirect::to(&to).into_response();
                res.extensions_mut().insert(SessionCookie::End);
                return Ok(res);
            }
            Err(err) => errors.absorb(err)?,
        }
    }
    rerender(page(&state, &user, errors, kept_work == KeptWork::Leave).await?)
}

#[derive(Template)]
#[template(path = "settings/deleted.html")]
struct DeletedPage {
    layout: Layout,
    kept: KeptOutcome,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct DeletedQuery {
    /// What became of the posts and files in workspaces others keep (set by the redirect).
    kept: Option<String>,
}

/// Shown once the account is gone (the browser is signed out by then).
pub async fn deleted(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Query(q): Query<DeletedQuery>,
) -> AppResult {
    let layout = Layout::new(&state, &ctx, "Your account is deleted").await?;
    render(DeletedPage {
        layout,
        kept: KeptOutcome::from_query(q.kept.as_deref()),
    })
}

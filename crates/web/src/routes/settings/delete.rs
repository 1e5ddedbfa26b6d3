//! Deleting one's own account: what goes and what stays (from the data map), the password
//! again and the address typed out, then everything at once.

use crate::AppState;
use crate::context::SessionCookie;
use crate::error::AppResult;
use crate::extract::{Ctx, CurrentUser};
use crate::forms::FieldErrors;
use crate::page::Layout;
use crate::routes::{render, rerender};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect};
use services::deletion::Preview;

#[derive(Template)]
#[template(path = "settings/delete.html")]
struct DeletePage {
    layout: Layout,
    tab: &'static str,
    email: String,
    preview: Preview,
    errors: FieldErrors,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct DeleteForm {
    password: String,
    confirm: String,
}

async fn page(state: &AppState, user: &CurrentUser, errors: FieldErrors) -> AppResult<DeletePage> {
    let preview = state.services.deletion_preview(&user.auth.user).await?;
    Ok(DeletePage {
        layout: Layout::new(state, &user.ctx, "Delete your account").await?,
        tab: "delete",
        email: user.auth.user.email.clone(),
        preview,
        errors,
    })
}

pub async fn form(State(state): State<AppState>, user: CurrentUser) -> AppResult {
    render(page(&state, &user, FieldErrors::new()).await?)
}

pub async fn submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<DeleteForm>,
) -> AppResult {
    let mut errors = FieldErrors::new();
    if form.password.is_empty() {
        errors.add("password", "Enter your password.");
    }
    if form.confirm.trim().is_empty() {
        errors.add("confirm", "Type your e-mail address to confirm.");
    }
    if errors.is_empty() {
        match state
            .services
            .delete_own_account(&user.auth, &form.password, &form.confirm, &user.ctx.client)
            .await
        {
            Ok(_) => {
                let mut res = Redirect::to("/account-deleted").into_response();
                res.extensions_mut().insert(SessionCookie::End);
                return Ok(res);
            }
            Err(err) => errors.absorb(err)?,
        }
    }
    rerender(page(&state, &user, errors).await?)
}

#[derive(Template)]
#[template(path = "settings/deleted.html")]
struct DeletedPage {
    layout: Layout,
}

/// Shown once the account is gone (the browser is signed out by then).
pub async fn deleted(State(state): State<AppState>, Ctx(ctx): Ctx) -> AppResult {
    let layout = Layout::new(&state, &ctx, "Your account is deleted").await?;
    render(DeletedPage { layout })
}

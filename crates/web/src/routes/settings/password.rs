//! Change of password, after checking the current one.

use crate::AppState;
use crate::error::AppResult;
use crate::extract::CurrentUser;
use crate::flash::{Flash, redirect_with};
use crate::forms::FieldErrors;
use crate::page::Layout;
use crate::routes::{render, rerender};
use askama::Template;
use axum::Form;
use axum::extract::State;

#[derive(Template)]
#[template(path = "settings/password.html")]
struct PasswordPage {
    layout: Layout,
    tab: &'static str,
    errors: FieldErrors,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
}

pub async fn form(State(state): State<AppState>, user: CurrentUser) -> AppResult {
    let layout = Layout::new(&state, &user.ctx, "Settings").await?;
    render(PasswordPage {
        layout,
        tab: "password",
        errors: FieldErrors::new(),
    })
}

pub async fn submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<PasswordForm>,
) -> AppResult {
    let mut errors = FieldErrors::new();
    if form.current_password.is_empty() {
        errors.add("current_password", "Enter your current password.");
    }
    if errors.is_empty() {
        match state
            .services
            .change_password(
                &user.auth,
                &form.current_password,
                &form.new_password,
                &user.ctx.client,
            )
            .await
        {
            Ok(()) => {
                return Ok(redirect_with("/settings/password", Flash::PasswordChanged));
            }
            Err(err) => errors.absorb(err)?,
        }
    }
    let layout = Layout::new(&state, &user.ctx, "Settings").await?;
    rerender(PasswordPage {
        layout,
        tab: "password",
        errors,
    })
}

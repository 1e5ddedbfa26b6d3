//! Change of e-mail address, confirmed from the new address.

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
use domain::Email;

#[derive(Template)]
#[template(path = "settings/email.html")]
struct EmailPage {
    layout: Layout,
    tab: &'static str,
    errors: FieldErrors,
    current: String,
    verified: bool,
    pending: Option<String>,
    email: String,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct EmailForm {
    email: String,
    password: String,
}

async fn page(
    state: &AppState,
    user: &CurrentUser,
    email: String,
    errors: FieldErrors,
) -> AppResult<EmailPage> {
    Ok(EmailPage {
        layout: Layout::new(state, &user.ctx, "Settings").await?,
        tab: "email",
        errors,
        current: user.auth.user.email.clone(),
        verified: user.auth.user.email_verified_at.is_some(),
        pending: state
            .services
            .pending_email_change(user.auth.user_id())
            .await?,
        email,
    })
}

pub async fn form(State(state): State<AppState>, user: CurrentUser) -> AppResult {
    render(page(&state, &user, String::new(), FieldErrors::new()).await?)
}

pub async fn submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<EmailForm>,
) -> AppResult {
    let mut errors = FieldErrors::new();
    let email = errors.check("email", Email::parse(&form.email));
    if form.password.is_empty() {
        errors.add("password", "Enter your password to change your address.");
    }
    if let (Some(email), true) = (&email, errors.is_empty()) {
        match state
            .services
            .request_email_change(&user.auth, email, &form.password, &user.ctx.client)
            .await
        {
            Ok(()) => {
                return Ok(redirect_with("/settings/email", Flash::EmailChangeSent));
            }
            Err(err) => errors.absorb(err)?,
        }
    }
    rerender(page(&state, &user, form.email, errors).await?)
}

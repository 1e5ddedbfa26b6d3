//! Forgotten password: ask for a link, then choose a new password with it.

use crate::AppState;
use crate::error::AppResult;
use crate::extract::{Ctx, PathIds};
use crate::flash::{Flash, redirect_with};
use crate::forms::FieldErrors;
use crate::page::Layout;
use crate::routes::{no_referrer, render, rerender};
use askama::Template;
use axum::Form;
use axum::extract::State;
use domain::Email;
use services::ServiceError;
use services::accounts::Purpose;

#[derive(Template)]
#[template(path = "auth/forgot.html")]
struct ForgotPage {
    layout: Layout,
    errors: FieldErrors,
    email: String,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ForgotForm {
    email: String,
}

pub async fn forgot_form(State(state): State<AppState>, Ctx(ctx): Ctx) -> AppResult {
    let layout = Layout::new(&state, &ctx, "Reset your password").await?;
    render(ForgotPage {
        layout,
        errors: FieldErrors::new(),
        email: String::new(),
    })
}

pub async fn forgot_submit(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Form(form): Form<ForgotForm>,
) -> AppResult {
    let mut errors = FieldErrors::new();
    let Some(email) = errors.check("email", Email::parse(&form.email)) else {
        let layout = Layout::new(&state, &ctx, "Reset your password").await?;
        return rerender(ForgotPage {
            layout,
            errors,
            email: form.email,
        });
    };
    state.services.request_password_reset(&email).await?;
    Ok(redirect_with("/login", Flash::ResetSent))
}

#[derive(Template)]
#[template(path = "auth/reset.html")]
struct ResetPage {
    layout: Layout,
    errors: FieldErrors,
    email: String,
    dead: Option<String>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ResetForm {
    password: String,
}

async fn reset_page(
    state: &AppState,
    ctx: &crate::context::RequestCtx,
    token: &str,
    errors: FieldErrors,
) -> AppResult<ResetPage> {
    let layout = Layout::new(state, ctx, "Choose a new password").await?;
    let (email, dead) = match state
        .services
        .peek_link(token, &[Purpose::ResetPassword])
        .await
    {
        Ok(link) => (link.email, None),
        Err(ServiceError::Invalid { message, .. }) => (String::new(), Some(message)),
        Err(err) => return Err(err.into()),
    };
    Ok(ResetPage {
        layout,
        errors,
        email,
        dead,
    })
}

pub async fn reset_form(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    PathIds(token): PathIds<String>,
) -> AppResult {
    let page = reset_page(&state, &ctx, &token, FieldErrors::new()).await?;
    let dead = page.dead.is_some();
    let mut res = render(page)?;
    if dead {
        *res.status_mut() = axum::http::StatusCode::GONE;
    }
    Ok(no_referrer(res))
}

pub async fn reset_submit(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    PathIds(token): PathIds<String>,
    Form(form): Form<ResetForm>,
) -> AppResult {
    match state.services.reset_password(&token, &form.password).await {
        Ok(_) => Ok(redirect_with("/login", Flash::PasswordReset)),
        Err(err) => {
            let mut errors = FieldErrors::new();
            errors.absorb(err)?;
            let page = reset_page(&state, &ctx, &token, errors).await?;
            Ok(no_referrer(rerender(page)?))
        }
    }
}

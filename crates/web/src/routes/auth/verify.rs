//! E-mail confirmation links (a new account's address, or a new address). Opening the link
//! shows a button; only pressing it confirms, so mail scanners that open links change nothing.

use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::extract::{Ctx, CurrentUser, PathIds};
use crate::flash::{Flash, redirect_with};
use crate::page::Layout;
use crate::routes::render;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use services::ServiceError;
use services::accounts::Purpose;

#[derive(Template)]
#[template(path = "auth/verify.html")]
struct VerifyPage {
    layout: Layout,
    email: String,
    dead: Option<String>,
}

async fn show(
    state: &AppState,
    ctx: &crate::context::RequestCtx,
    token: &str,
    dead: Option<String>,
) -> AppResult {
    let layout = Layout::new(state, ctx, "Confirm your e-mail address").await?;
    let (email, dead) = match dead {
        Some(problem) => (String::new(), Some(problem)),
        None => match state
            .services
            .peek_link(token, &[Purpose::VerifyEmail, Purpose::ChangeEmail])
            .await
        {
            Ok(link) => (link.email, None),
            Err(ServiceError::Invalid { message, .. }) => (String::new(), Some(message)),
            Err(err) => return Err(err.into()),
        },
    };
    let gone = dead.is_some();
    let mut res = render(VerifyPage {
        layout,
        email,
        dead,
    })?;
    if gone {
        *res.status_mut() = StatusCode::GONE;
    }
    Ok(crate::routes::no_referrer(res))
}

pub async fn page(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    PathIds(token): PathIds<String>,
) -> AppResult {
    show(&state, &ctx, &token, None).await
}

pub async fn confirm(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    PathIds(token): PathIds<String>,
) -> AppResult {
    match state.services.confirm_email(&token).await {
        Ok(_) => {
            let to = if ctx.auth.is_some() {
                "/dashboard"
            } else {
                "/login"
            };
            Ok(redirect_with(to, Flash::EmailConfirmed))
        }
        Err(ServiceError::Invalid { message, .. }) => {
            show(&state, &ctx, &token, Some(message)).await
        }
        Err(err) => Err(AppError::from(err)),
    }
}

pub async fn resend(State(state): State<AppState>, user: CurrentUser) -> AppResult {
    state.services.resend_verification(&user.auth.user).await?;
    Ok(redirect_with("/dashboard", Flash::VerificationSent))
}

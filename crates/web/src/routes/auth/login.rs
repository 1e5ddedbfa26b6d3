//! Log-in, limited per client address and per account.

use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::extract::{Ctx, UserAgent};
use crate::forms::FieldErrors;
use crate::page::Layout;
use crate::routes::auth::signup::NextQuery;
use crate::routes::{render, rerender, safe_next};
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use services::ServiceError;

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginPage {
    layout: Layout,
    errors: FieldErrors,
    email: String,
    next: String,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct LoginForm {
    email: String,
    password: String,
    next: String,
}

pub async fn form(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Query(q): Query<NextQuery>,
) -> AppResult {
    if ctx.auth.is_some() {
        return Ok(Redirect::to(safe_next(&q.next)).into_response());
    }
    let layout = Layout::new(&state, &ctx, "Log in").await?;
    render(LoginPage {
        layout,
        errors: FieldErrors::new(),
        email: String::new(),
        next: q.next,
    })
}

pub async fn submit(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    UserAgent(ua): UserAgent,
    Form(form): Form<LoginForm>,
) -> AppResult {
    let mut errors = FieldErrors::new();
    if form.email.trim().is_empty() {
        errors.add("email", "Enter your e-mail address.");
    }
    if form.password.is_empty() {
        errors.add("password", "Enter your password.");
    }
    let mut status = StatusCode::UNPROCESSABLE_ENTITY;
    if errors.is_empty() {
        match state
            .services
            .log_in(&form.email, &form.password, &ctx.client, &ua)
            .await
        {
            Ok((_, token)) => {
                let res = Redirect::to(safe_next(&form.next)).into_response();
                return Ok(super::with_session(res, token));
            }
            Err(err @ ServiceError::RateLimited { .. }) => {
                errors.add("password", err.to_string());
                status = StatusCode::TOO_MANY_REQUESTS;
            }
            Err(err) => errors.absorb(err).map_err(AppError::from)?,
        }
    }
    let layout = Layout::new(&state, &ctx, "Log in").await?;
    let mut res = rerender(LoginPage {
        layout,
        errors,
        email: form.email,
        next: form.next,
    })?;
    *res.status_mut() = status;
    Ok(res)
}

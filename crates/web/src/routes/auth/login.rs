//! Log-in, limited per account and client address, and slowed down per account for browsers
//! the account does not know. A successful log-in makes the browser known: it keeps a random
//! token in a long-lived cookie, whose hash the server stores for the account.

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
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect};
use services::accounts::AuthError;

/// The cookie that makes a browser known to the accounts that signed in with it.
pub const DEVICE_COOKIE: &str = "sz_device";

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
    headers: HeaderMap,
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
    let mut retry_after = None;
    if errors.is_empty() {
        let device = crate::context::cookie(&headers, DEVICE_COOKIE);
        match state
            .services
            .log_in(&form.email, &form.password, &ctx.client, &ua, device)
            .await
        {
            Ok(done) => {
                let mut res = Redirect::to(safe_next(&form.next)).into_response();
                res.headers_mut().append(
                    header::SET_COOKIE,
                    crate::context::build_cookie(
                        DEVICE_COOKIE,
                        done.device,
                        services::sessions::DEVICE_LIFETIME.num_seconds(),
                        state.config.https,
                    ),
                );
                return Ok(super::with_session(res, done.session));
            }
            Err(AuthError::Limited {
                message,
                retry_after: wait,
            }) => {
                errors.add("password", message);
                status = StatusCode::TOO_MANY_REQUESTS;
                retry_after = Some(wait);
            }
            Err(AuthError::Service(err)) => errors.absorb(err).map_err(AppError::from)?,
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
    if let Some(wait) = retry_after {
        res.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(wait.as_secs().max(1)),
        );
    }
    Ok(res)
}

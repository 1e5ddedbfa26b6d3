//! E-mail confirmation links (a new account's address, or a new address). Opening the link
//! shows a button; only pressing it confirms, so mail scanners that open links change nothing.
//! Confirmed in the browser that signed up (it holds the sign-up cookie), the new account is
//! signed in and goes where the sign-up was headed (`next`, such as an invitation); anywhere
//! else the person logs in with their password.

use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::extract::{Ctx, CurrentUser, PathIds, UserAgent};
use crate::flash::{Flash, redirect_with};
use crate::page::Layout;
use crate::routes::auth::signup::{NextQuery, SIGNUP_COOKIE};
use crate::routes::{render, safe_next};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
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
    UserAgent(ua): UserAgent,
    PathIds(token): PathIds<String>,
    Query(q): Query<NextQuery>,
    headers: HeaderMap,
) -> AppResult {
    match state.services.confirm_email(&token).await {
        Ok(user) => {
            let next = if q.next.is_empty() {
                "/dashboard"
            } else {
                safe_next(&q.next)
            };
            if ctx.auth.is_some() {
                return Ok(redirect_with(next, Flash::EmailConfirmed));
            }
            let proof = crate::context::cookie(&headers, SIGNUP_COOKIE);
            let session = state
                .services
                .session_after_confirmation(&token, proof, &user, &ua)
                .await?;
            match session {
                Some(session) => {
                    let mut res = redirect_with(next, Flash::EmailConfirmed);
                    res.headers_mut().append(
                        header::SET_COOKIE,
                        crate::context::clear_cookie(SIGNUP_COOKIE, state.config.https),
                    );
                    Ok(super::with_session(res, session))
                }
                None if q.next.is_empty() => Ok(redirect_with("/login", Flash::EmailConfirmed)),
                None => {
                    let to = format!(
                        "/login?next={}",
                        form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
                    );
                    Ok(redirect_with(&to, Flash::EmailConfirmed))
                }
            }
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

//! Sign-up: name, e-mail, password, time zone and language. Reached from an invitation's page
//! (`next=/invitations/{token}`), the address the invitation went to is filled in, read from
//! the invitation on the server (never carried in a link).
//!
//! A valid form is answered the same way whether its address is new or already has an
//! account: the browser is sent to "check your inbox" with a sign-up cookie, and the e-mail
//! (a confirmation link, or a note to the address's owner) does the rest. Opening the
//! confirmation link in the browser that holds the cookie signs the new account in.

use crate::AppState;
use crate::error::AppResult;
use crate::extract::{Ctx, UserAgent};
use crate::forms::FieldErrors;
use crate::page::Layout;
use crate::routes::{no_referrer, render, rerender, safe_next};
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect};
use domain::{Email, Language, Password, PersonName, Timezone};
use services::ServiceError;
use services::accounts::signup::SignupOrigin;
use services::accounts::{AuthError, NewAccount};

/// The browser that signed up holds this until its confirmation link expires: opening the link
/// there signs the new account in (see `services::accounts::Services::signup_proof`).
pub const SIGNUP_COOKIE: &str = "sz_signup";

#[derive(Template)]
#[template(path = "auth/signup_sent.html")]
struct SentPage {
    layout: Layout,
}

#[derive(Template)]
#[template(path = "auth/signup.html")]
struct SignupPage {
    layout: Layout,
    errors: FieldErrors,
    name: String,
    email: String,
    timezone: String,
    language: String,
    next: String,
    zones: &'static [&'static str],
    /// The browser's time zone replaces the default (on the first showing only: a form sent
    /// back keeps what the person chose).
    detect: &'static str,
    /// The workspace of the invitation that led here.
    invited_to: Option<String>,
    languages: [Language; 3],
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct NextQuery {
    pub next: String,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct SignupForm {
    name: String,
    email: String,
    password: String,
    timezone: String,
    language: String,
    next: String,
    accept_policies: String,
}

/// The invitation that sign-up was reached from: its token, when `next` is its page.
fn invitation_token(next: &str) -> Option<&str> {
    safe_next(next)
        .strip_prefix("/invitations/")
        .filter(|token| !token.is_empty() && !token.contains(['/', '?']))
}

/// The invitation behind `next`, if it is still open.
async fn invitation_of(
    state: &AppState,
    next: &str,
) -> AppResult<Option<services::workspaces::invitations::InvitationView>> {
    let Some(token) = invitation_token(next) else {
        return Ok(None);
    };
    match state.services.peek_invitation(token).await {
        Ok(view) => Ok(Some(view)),
        Err(ServiceError::Invalid { .. } | ServiceError::NotFound) => Ok(None),
        Err(err) => Err(err.into()),
    }
}

async fn page(
    state: &AppState,
    ctx: &crate::context::RequestCtx,
    form: SignupForm,
    errors: FieldErrors,
) -> AppResult<SignupPage> {
    let invitation = invitation_of(state, &form.next).await?;
    Ok(SignupPage {
        layout: Layout::new(state, ctx, "Sign up").await?,
        errors,
        name: form.name,
        email: match &invitation {
            Some(i) if form.email.is_empty() => i.invitation.email.clone(),
            _ => form.email,
        },
        detect: if form.timezone.is_empty() { "fill" } else { "" },
        timezone: if form.timezone.is_empty() {
            "UTC".to_owned()
        } else {
            form.timezone
        },
        invited_to: invitation.map(|i| i.workspace_name),
        language: if form.language.is_empty() {
            "en".to_owned()
        } else {
            form.language
        },
        next: form.next,
        zones: Timezone::offered(),
        languages: Language::ALL,
    })
}

pub async fn form(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Query(q): Query<NextQuery>,
) -> AppResult {
    if ctx.auth.is_some() {
        return Ok(Redirect::to(safe_next(&q.next)).into_response());
    }
    let from_invitation = invitation_token(&q.next).is_some();
    let form = SignupForm {
        next: q.next,
        ..Default::default()
    };
    let res = render(page(&state, &ctx, form, FieldErrors::new()).await?)?;
    // The address of this page carries the invitation's token: it goes nowhere else.
    Ok(if from_invitation {
        no_referrer(res)
    } else {
        res
    })
}

pub async fn submit(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    UserAgent(ua): UserAgent,
    Form(form): Form<SignupForm>,
) -> AppResult {
    let mut errors = FieldErrors::new();
    let name = errors.check("name", PersonName::parse(&form.name));
    let email = errors.check("email", Email::parse(&form.email));
    let password = errors.check("password", Password::parse(&form.password, email.as_ref()));
    let timezone = errors.check("timezone", Timezone::choose(&form.timezone));
    let language = errors.check("language", Language::parse(&form.language));
    if form.accept_policies != "yes" {
        errors.add(
            "accept_policies",
            "To create an account, accept the Terms of Service, Privacy Policy, Acceptable Use Policy and Data Deletion Policy.",
        );
    }
    let (Some(name), Some(email), Some(password), Some(timezone), Some(language), true) =
        (name, email, password, timezone, language, errors.is_empty())
    else {
        return rerender(page(&state, &ctx, form, errors).await?);
    };
    let account = NewAccount {
        name,
        email,
        password,
        timezone,
        language,
    };
    let origin = SignupOrigin {
        consent_id: ctx.consent.cookie.as_ref().map(|c| c.id.clone()),
        locale: ctx.lang.code().to_owned(),
        client: ctx.client.clone(),
    };
    let next = if form.next.is_empty() {
        ""
    } else {
        safe_next(&form.next)
    };
    match state.services.sign_up(account, &ua, &origin, next).await {
        Ok(proof) => {
            let mut res = Redirect::to("/signup/sent").into_response();
            res.headers_mut().append(
                header::SET_COOKIE,
                crate::context::build_cookie(
                    SIGNUP_COOKIE,
                    proof,
                    services::accounts::LINK_HOURS_VERIFY * 3600,
                    state.config.https,
                ),
            );
            Ok(res)
        }
        Err(AuthError::Limited {
            message,
            retry_after,
        }) => {
            let mut res = crate::error::AppError::RateLimited(message).into_response();
            res.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(retry_after.as_secs().max(1)),
            );
            Ok(res)
        }
        Err(AuthError::Service(err)) => {
            errors.absorb(err)?;
            rerender(page(&state, &ctx, form, errors).await?)
        }
    }
}

/// "Check your inbox": the one answer to every sign-up that was accepted.
pub async fn sent(State(state): State<AppState>, Ctx(ctx): Ctx) -> AppResult {
    render(SentPage {
        layout: Layout::new(&state, &ctx, "Check your inbox").await?,
    })
}

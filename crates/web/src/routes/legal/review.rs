//! The interstitial for updated policies: what changed, a link to the differences, and a
//! button to accept; or "later", which lets the person read (not change) their workspaces
//! until they do.

use crate::AppState;
use crate::context::{POLICIES_LATER_COOKIE, build_cookie, pending_signature};
use crate::error::AppResult;
use crate::extract::CurrentUser;
use crate::page::Layout;
use crate::routes::{render, safe_next};
use askama::Template;
use axum::Form;
use axum::extract::{Query, RawForm, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect};
use domain::policy::PolicyKind;
use services::ServiceError;
use services::policies::{Acceptor, Pending};

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct Next {
    next: String,
}

#[derive(Template)]
#[template(path = "legal/review.html")]
struct ReviewPage {
    layout: Layout,
    pending: Vec<Pending>,
    next: String,
    problem: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<Next>,
) -> AppResult {
    let next = safe_next(&q.next).to_owned();
    if user.ctx.pending_policies.is_empty() {
        return Ok(Redirect::to(&next).into_response());
    }
    let mut layout = Layout::new(&state, &user.ctx, "Updated policies").await?;
    // This page is the notice; no need to repeat it above itself.
    layout.policies_pending = false;
    render(ReviewPage {
        layout,
        pending: user.ctx.pending_policies.clone(),
        next,
        problem: None,
    })
}

pub async fn accept(
    State(state): State<AppState>,
    user: CurrentUser,
    RawForm(body): RawForm,
) -> AppResult {
    let mut next = String::new();
    let mut shown = Vec::new();
    for (key, value) in form_urlencoded::parse(&body) {
        match key.as_ref() {
            "next" => next = value.into_owned(),
            // "terms:1.1": a policy and the version the page showed.
            "policy" => {
                if let Some((kind, version)) = value.split_once(':')
                    && let Ok(kind) = PolicyKind::parse(kind)
                {
                    shown.push((kind, version.to_owned()));
                }
            }
            _ => {}
        }
    }
    let who = Acceptor {
        user_id: user.auth.user.id,
        consent_id: user.ctx.consent.cookie.as_ref().map(|c| c.id.clone()),
        locale: user.ctx.lang.code().to_owned(),
        client: user.ctx.client.clone(),
        browser: user.ctx.browser.clone(),
    };
    match state.services.accept_pending(&who, &shown).await {
        Ok(()) => Ok(Redirect::to(safe_next(&next)).into_response()),
        Err(ServiceError::Invalid { message, .. }) => {
            // What is pending changed while the page was open: show the current versions.
            let fresh = user.ctx.pending_policies.clone();
            let mut layout = Layout::new(&state, &user.ctx, "Updated policies").await?;
            layout.policies_pending = false;
            let mut res = render(ReviewPage {
                layout,
                pending: fresh,
                next: safe_next(&next).to_owned(),
                problem: Some(message),
            })?;
            *res.status_mut() = axum::http::StatusCode::CONFLICT;
            Ok(res)
        }
        Err(err) => Err(err.into()),
    }
}

pub async fn later(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(q): Form<Next>,
) -> AppResult {
    let signature = pending_signature(&user.ctx.pending_policies);
    let mut res = Redirect::to(safe_next(&q.next)).into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        build_cookie(
            POLICIES_LATER_COOKIE,
            signature,
            12 * 60 * 60,
            state.config.https,
        ),
    );
    Ok(res)
}

//! Saving a cookie choice from the banner or the cookie policy page. Works as a plain form
//! (a redirect back to the page it came from, which says the choice is saved) and for the
//! banner's script (a JSON answer, so the page needs no reload; the script says it).

use crate::AppState;
use crate::consent::{ConsentCookie, Origin};
use crate::error::{AppError, AppResult};
use crate::extract::Ctx;
use crate::flash::{Flash, redirect_with};
use crate::routes::safe_next;
use axum::extract::{RawForm, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Json};
use domain::consent::ConsentChoice;
use services::consent::{Decision, Event, Source};

pub async fn save(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    RawForm(body): RawForm,
) -> AppResult {
    let mut choice_kind = String::new();
    let mut categories = Vec::new();
    let mut back = String::new();
    let mut from_page = false;
    for (key, value) in form_urlencoded::parse(&body) {
        match key.as_ref() {
            "choice" => choice_kind = value.into_owned(),
            "category" => categories.push(value.into_owned()),
            "back" => back = value.into_owned(),
            "source" => from_page = value == "page",
            _ => {}
        }
    }
    let choice = match choice_kind.as_str() {
        "accept" => ConsentChoice::ACCEPT_ALL,
        "reject" => ConsentChoice::REJECT,
        "custom" => ConsentChoice::from_keys(categories.iter().map(String::as_str))
            .map_err(|e| AppError::Invalid(e.0))?,
        _ => {
            return Err(AppError::Invalid(
                "Choose Accept all, Reject non-essential, or save your own choices.".into(),
            ));
        }
    };
    let now = chrono::Utc::now();
    let previous = ctx.consent.cookie.clone();
    // Measured against the person's own last choice; a choice the GPC signal made, or none,
    // makes this the first grant.
    let event = match previous.as_ref().filter(|p| p.origin == Origin::Explicit) {
        Some(p)
            if (p.choice.analytics && !choice.analytics)
                || (p.choice.marketing && !choice.marketing) =>
        {
            Event::Withdraw
        }
        Some(_) => Event::Update,
        None => Event::Grant,
    };
    let gpc_now = headers.get("sec-gpc").is_some_and(|v| v.as_bytes() == b"1");
    let stored = ConsentCookie {
        id: previous
            .as_ref()
            .map(|p| p.id.clone())
            .unwrap_or_else(services::tokens::random_token),
        choice,
        version: ctx.cookie_policy.version.clone(),
        at: now,
        origin: Origin::Explicit,
        gpc_seen: previous
            .as_ref()
            .and_then(|p| p.gpc_seen)
            .or(gpc_now.then_some(now)),
    };
    state
        .services
        .record_consent(Decision {
            consent_id: stored.id.clone(),
            user_id: ctx.auth.as_ref().map(|a| a.user.id),
            event,
            categories: choice.keys(),
            policies: ctx.cookie_policy.as_json(),
            source: if from_page {
                Source::CookiePolicyPage
            } else {
                Source::CookieBanner
            },
            locale: ctx.lang.code().to_owned(),
            client: ctx.client.clone(),
            browser: ctx.browser.clone(),
        })
        .await?;
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    let mut res = if wants_json {
        // The tags the new choice allows, for the banner's script to load without a reload.
        let tags: Vec<&String> = [
            (choice.analytics, &state.config.analytics_script),
            (choice.marketing, &state.config.marketing_script),
        ]
        .into_iter()
        .filter_map(|(granted, tag)| tag.as_ref().filter(|_| granted))
        .collect();
        Json(serde_json::json!({
            "consent_id": stored.id,
            "categories": choice.keys(),
            "tags": tags,
        }))
        .into_response()
    } else {
        redirect_with(
            safe_next(if back.is_empty() { "/" } else { &back }),
            Flash::ConsentSaved,
        )
    };
    res.extensions_mut().insert(stored);
    Ok(res)
}

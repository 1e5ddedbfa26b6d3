//! Routes: one folder per area, one file per action.

pub(crate) mod accounts;
mod admin;
mod agent;
mod analytics;
mod assets;
mod auth;
mod campaigns;
mod comments;
mod deletion_requests;
mod generate;
mod health;
mod help;
mod home;
mod inbox;
mod legal;
mod media;
mod notifications;
pub mod posts;
pub mod previews;
mod pricing;
mod settings;
mod webhooks;
mod workspaces;

use crate::error::{AppError, AppResult};
use crate::{AppState, context, security};
use askama::Template;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::{Router, middleware};
use std::time::Duration;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

/// The whole map: each area's router, merged. The pages pass the request context
/// (`context::load`); the probes, the static files, the GPC statement and the signed media
/// links do not. Around everything: hygiene, the security headers, and outermost the request's
/// trace (its id, span and closing log line).
pub fn router(state: AppState) -> Router {
    let pages = Router::new()
        .merge(home::router())
        .merge(legal::router())
        .merge(auth::router())
        .merge(workspaces::router())
        .merge(agent::router())
        .merge(posts::router())
        .merge(previews::router())
        .merge(comments::router())
        .merge(inbox::router())
        .merge(campaigns::router())
        .merge(analytics::router())
        .merge(accounts::router())
        .merge(media::router())
        .merge(notifications::router())
        .merge(generate::router())
        .merge(deletion_requests::router())
        .merge(admin::router())
        .merge(settings::router())
        .merge(help::router())
        .merge(pricing::router())
        .fallback(|| async { AppError::NotFound })
        .layer(RequestBodyLimitLayer::new(1024 * 1024))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ));
    let mut app = pages
        .merge(media::upload_router(&state))
        .route_layer(middleware::from_fn_with_state(state.clone(), context::load))
        .merge(legal::router_without_context())
        .merge(health::router())
        .merge(assets::router())
        .merge(media::router_without_context())
        .merge(previews::router_without_context())
        // No address, query or form of ours takes a control character: refused here, once.
        .layer(middleware::from_fn(
            crate::hygiene::refuse_control_characters,
        ))
        // PayPal's signed JSON may carry what a payer typed, escapes and all: it is checked by
        // its signature, not read as a form.
        .merge(webhooks::router());
    let tag_origins: Vec<String> = [
        &state.config.analytics_script,
        &state.config.marketing_script,
    ]
    .into_iter()
    .flatten()
    .filter_map(|url| security::origin_of(url))
    .collect();
    // A connect form's redirect leads to the platform's authorisation page.
    let connectors = &state.services.connectors;
    let mut form_origins: Vec<String> = connectors
        .platforms()
        .into_iter()
        .filter_map(|p| connectors.get(p))
        .filter_map(|c| security::origin_of(&c.authorize_url("", None, "", &[])))
        .collect();
    // The checkout's redirect leads to PayPal's approval page.
    if let Some(paypal) = &state.services.billing.paypal {
        form_origins.extend(security::origin_of(&paypal.approve_origin));
    }
    form_origins.sort();
    form_origins.dedup();
    for layer in security::layers(state.config.https, &tag_origins, &form_origins) {
        app = app.layer(layer);
    }
    // Outermost: every line logged while the request is served carries its id.
    app.layer(middleware::from_fn(crate::trace::request))
        .with_state(state)
}

/// Renders a page.
pub fn render(page: impl Template) -> AppResult {
    let html = page
        .render()
        .map_err(|e| AppError::Unexpected(anyhow::anyhow!("template: {e}")))?;
    Ok(Html(html).into_response())
}

/// Renders a form again with its errors, with the status that says the input was refused.
pub fn rerender(page: impl Template) -> AppResult {
    let mut res = render(page)?;
    *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    Ok(res)
}

/// Where to go after logging in: only a path of this site, never another origin.
/// Only a path of this site passes: it starts with one `/`, and every character is one that a
/// path or query of ours uses (no whitespace or control characters, which browsers drop while
/// reading a `Location` and so turn `/\t/evil.example` into `//evil.example`; no backslash).
pub fn safe_next(next: &str) -> &str {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "/-_.~?=&%+".contains(c);
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && next.len() <= 512
        && next.chars().all(allowed);
    if ok { next } else { "/dashboard" }
}

pub fn fmt_time(t: &chrono::DateTime<chrono::Utc>, tz: &str) -> String {
    let tz = domain::Timezone::stored(tz);
    t.with_timezone(&tz.tz())
        .format("%-d %b %Y, %H:%M")
        .to_string()
}

/// Pages reached through a link that carries a secret must not pass it on: no referrer at all.
pub fn no_referrer(mut res: Response) -> Response {
    res.headers_mut().insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("no-referrer"),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_paths_of_this_site_are_followed() {
        for ok in [
            "/settings",
            "/w/12/settings",
            "/invitations/abc-DEF_123",
            "/login?next=%2Fw%2F1",
        ] {
            assert_eq!(safe_next(ok), ok);
        }
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n",
            "/ /x",
            "evil",
            "",
            "/%0a\r\n",
        ] {
            assert_eq!(safe_next(bad), "/dashboard", "{bad:?}");
        }
    }
}

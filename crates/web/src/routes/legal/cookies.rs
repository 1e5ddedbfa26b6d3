//! The cookie policy page: every category with its cookies (from the registry), the current
//! choice as a consent receipt, and a form to change it. Also `/.well-known/gpc.json`.

use crate::AppState;
use crate::error::AppResult;
use crate::extract::Ctx;
use crate::page::Layout;
use crate::routes::render;
use askama::Template;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use domain::consent::Category;
use domain::policy::PolicyKind;

#[derive(Template)]
#[template(path = "legal/cookies.html")]
struct CookiesPage {
    layout: Layout,
    version: String,
    categories: [Category; 3],
    receipt: Option<Receipt>,
    policy: Option<super::policy::Shown>,
}

struct Receipt {
    consent_id: String,
    at: String,
    at_iso: String,
    granted: String,
    by_gpc: bool,
}

pub async fn page(State(state): State<AppState>, Ctx(ctx): Ctx) -> AppResult {
    let layout = Layout::new(&state, &ctx, "Cookie policy").await?;
    let tz = ctx
        .auth
        .as_ref()
        .map(|a| a.user.timezone.clone())
        .unwrap_or_else(|| "UTC".to_owned());
    let receipt = ctx.consent.cookie.as_ref().map(|c| Receipt {
        consent_id: c.id.clone(),
        at: crate::routes::fmt_time(&c.at, &tz),
        at_iso: c.at.to_rfc3339(),
        granted: Category::ALL
            .into_iter()
            .filter(|cat| c.choice.allows(*cat))
            .map(|cat| cat.name(ctx.lang))
            .collect::<Vec<_>>()
            .join(", "),
        by_gpc: matches!(c.origin, crate::consent::Origin::Gpc { .. }),
    });
    let policy = state
        .services
        .policy_in_effect(PolicyKind::Cookies)
        .await?
        .map(|row| super::policy::show(&state, PolicyKind::Cookies, &row));
    render(CookiesPage {
        layout,
        version: ctx.cookie_policy.version.clone(),
        categories: Category::ALL,
        receipt,
        policy,
    })
}

/// The site's Global Privacy Control support resource.
pub async fn gpc_json() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        r#"{"gpc": true, "lastUpdate": "2026-11-29"}"#,
    )
}

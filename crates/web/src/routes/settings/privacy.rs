//! The person's own consent history: every cookie decision and policy acceptance recorded for
//! them, on a page and as a JSON download.

use crate::AppState;
use crate::error::AppResult;
use crate::extract::CurrentUser;
use crate::page::Layout;
use crate::routes::{fmt_time, render};
use askama::Template;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use store::entities::consent_record;

struct Row {
    at: String,
    at_iso: String,
    event: String,
    categories: String,
    source: String,
    consent_id: String,
}

#[derive(Template)]
#[template(path = "settings/privacy.html")]
struct PrivacyPage {
    layout: Layout,
    tab: &'static str,
    rows: Vec<Row>,
}

async fn history(state: &AppState, user: &CurrentUser) -> AppResult<Vec<consent_record::Model>> {
    let browser = user.ctx.consent.cookie.as_ref().map(|c| c.id.as_str());
    Ok(state
        .services
        .consent_history(user.auth.user.id, browser)
        .await?)
}

pub async fn page(State(state): State<AppState>, user: CurrentUser) -> AppResult {
    let tz = user.auth.user.timezone.clone();
    let rows = history(&state, &user)
        .await?
        .into_iter()
        .rev()
        .map(|r| Row {
            at: fmt_time(&r.created_at, &tz),
            at_iso: r.created_at.to_rfc3339(),
            event: r.event,
            categories: r.categories,
            source: r.source,
            consent_id: r.consent_id,
        })
        .collect();
    let layout = Layout::new(&state, &user.ctx, "Settings").await?;
    render(PrivacyPage {
        layout,
        tab: "privacy",
        rows,
    })
}

/// The same history as a file: every field of every record, including the hashes that tie it
/// into the ledger's chain.
pub async fn download(State(state): State<AppState>, user: CurrentUser) -> AppResult {
    let records: Vec<serde_json::Value> = history(&state, &user)
        .await?
        .into_iter()
        .map(|r| {
            serde_json::json!({
                "recorded_at": r.created_at.to_rfc3339(),
                "consent_id": r.consent_id,
                "event": r.event,
                "categories": r.categories.split(',').collect::<Vec<_>>(),
                "policies": serde_json::from_str::<serde_json::Value>(&r.policies).unwrap_or(serde_json::Value::Null),
                "banner_version": r.banner_version,
                "source": r.source,
                "locale": r.locale,
                "browser": r.browser,
                "row_hash": r.row_hash,
                "previous_row_hash": r.prev_hash,
            })
        })
        .collect();
    let body = serde_json::to_string_pretty(&serde_json::json!({ "consent_history": records }))
        .map_err(anyhow::Error::from)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"socializioz-consent-history.json\"",
            ),
        ],
        body,
    )
        .into_response())
}

//! `/legal`: the six policies, each with the version in effect and a link to it.

use crate::AppState;
use crate::error::AppResult;
use crate::extract::Ctx;
use crate::page::Layout;
use crate::routes::render;
use askama::Template;
use axum::extract::State;
use domain::policy::PolicyKind;

/// One policy as the list shows it.
struct Line {
    kind: PolicyKind,
    /// The version in effect and since when; none before the first takes effect.
    current: Option<(String, String)>,
    /// A newer version published to take effect later: its version and date.
    upcoming: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "legal/index.html")]
struct IndexPage {
    layout: Layout,
    lines: Vec<Line>,
}

fn day(at: &chrono::DateTime<chrono::Utc>) -> String {
    at.format("%-d %B %Y").to_string()
}

pub async fn page(State(state): State<AppState>, Ctx(ctx): Ctx) -> AppResult {
    let now = services::now();
    let mut lines = Vec::with_capacity(PolicyKind::ALL.len());
    for kind in PolicyKind::ALL {
        let current = state.services.policy_in_effect(kind).await?;
        // The earliest version not yet in effect is the next to take effect.
        let upcoming = state
            .services
            .policy_versions(kind)
            .await?
            .into_iter()
            .filter(|v| v.effective_at > now)
            .min_by_key(|v| v.effective_at);
        lines.push(Line {
            kind,
            current: current.map(|v| (v.version, day(&v.effective_at))),
            upcoming: upcoming.map(|v| (v.version, day(&v.effective_at))),
        });
    }
    let layout = Layout::new(&state, &ctx, "Policies").await?;
    render(IndexPage { layout, lines })
}

//! A workspace's plan and this month's use of each limit. Absent (404) when the instance has no
//! `[billing]` section, since then every workspace has everything.

use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::extract::WorkspaceMember;
use crate::page::Layout;
use crate::routes::render;
use askama::Template;
use axum::extract::State;

struct Line {
    what: &'static str,
    used: String,
    /// "of 10", or "unlimited".
    most: String,
    /// The bar, when the limit has a number.
    bar: Option<u64>,
}

#[derive(Template)]
#[template(path = "workspaces/billing.html")]
struct BillingPage {
    layout: Layout,
    plan: String,
    month: String,
    lines: Vec<Line>,
}

pub async fn page(State(state): State<AppState>, m: WorkspaceMember) -> AppResult {
    if !state.services.billing.is_on() {
        return Err(AppError::NotFound);
    }
    let view = state
        .services
        .plan_view(m.membership.workspace_id())
        .await?;
    let lines = view
        .lines
        .iter()
        .map(|l| Line {
            what: l.limit.noun(),
            used: l.limit.amount(l.used),
            most: l.most.map_or_else(
                || "unlimited".to_owned(),
                |n| format!("of {}", l.limit.amount(n)),
            ),
            bar: l.most.map(|_| l.percent()),
        })
        .collect();
    render(BillingPage {
        layout: Layout::for_member(&state, &m, "Plan and usage"),
        plan: view.plan.label().to_owned(),
        month: view.month,
        lines,
    })
}

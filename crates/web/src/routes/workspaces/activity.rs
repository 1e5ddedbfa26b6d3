//! The activity log of a workspace, for its owners and admins.

use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::extract::WorkspaceMember;
use crate::page::Layout;
use crate::routes::{fmt_time, render};
use askama::Template;
use axum::extract::{Query, State};
use domain::ActivityId;

const PAGE: u64 = 50;

struct EntryRow {
    at: String,
    at_iso: String,
    actor: String,
    summary: String,
}

#[derive(Template)]
#[template(path = "workspaces/activity.html")]
struct ActivityPage {
    layout: Layout,
    id: i64,
    entries: Vec<EntryRow>,
    older: Option<i64>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct Before {
    /// Kept as text: a mangled value shows the newest entries rather than an error.
    before: String,
}

pub async fn page(
    State(state): State<AppState>,
    m: WorkspaceMember,
    Query(q): Query<Before>,
) -> AppResult {
    if !m.membership.role.can_manage_members() {
        return Err(AppError::Forbidden(
            "Only owners and admins can read the activity log.".into(),
        ));
    }
    let tz = m.auth.user.timezone.as_str();
    let rows = state
        .services
        .activity_of(
            m.membership.workspace_id(),
            PAGE,
            q.before.parse().ok().map(ActivityId),
        )
        .await?;
    let older = (rows.len() as u64 == PAGE)
        .then(|| rows.last().map(|r| r.id))
        .flatten();
    let entries = rows
        .into_iter()
        .map(|r| EntryRow {
            at: fmt_time(&r.created_at, tz),
            at_iso: r.created_at.to_rfc3339(),
            actor: r.actor_name,
            summary: r.summary,
        })
        .collect();
    let layout = Layout::for_member(&state, &m, "Activity");
    render(ActivityPage {
        layout,
        id: m.membership.workspace.id,
        entries,
        older,
    })
}

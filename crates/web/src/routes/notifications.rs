//! A person's notifications in a workspace: the list (newest first, a page at a time), opening
//! one (which marks it read and goes to what it is about), and marking all read. Opening is a
//! form's POST, as every change is; the list shows only the signed-in person's own.

use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::extract::{PathIds, WorkspaceMember};
use crate::flash::{Flash, redirect_with};
use crate::page::Layout;
use crate::routes::render;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use domain::{NotificationId, UserId, WorkspaceId, schedule};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/w/{wid}/notifications", get(page))
        .route("/w/{wid}/notifications/read", post(read_all))
        .route("/w/{wid}/notifications/{nid}/open", post(open))
}

/// A notification in the list.
pub struct Item {
    pub id: i64,
    pub text: String,
    pub when: String,
    pub unread: bool,
}

#[derive(Template)]
#[template(path = "notifications/list.html")]
pub struct NotificationsPage {
    pub layout: Layout,
    pub ws: i64,
    pub workspace: String,
    pub items: Vec<Item>,
    pub unread: u64,
    /// The page shows notifications older than this one.
    pub older_than: Option<i64>,
    /// The id to ask for older ones with, when this page is full.
    pub older: Option<i64>,
}

#[derive(serde::Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    before: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    m: WorkspaceMember,
    Query(query): Query<ListQuery>,
) -> AppResult {
    let ws = m.membership.workspace_id();
    let before = query
        .before
        .as_deref()
        .and_then(|b| b.trim().parse::<i64>().ok());
    let user = UserId(m.auth.user.id);
    let lines = state
        .services
        .notifications(user, ws, before.map(NotificationId))
        .await?;
    let tz = domain::Timezone::stored(&m.auth.user.timezone);
    let full = lines.len() as u64 == services::notifications::PAGE;
    let older = full
        .then(|| lines.last().map(|l| l.notification.id))
        .flatten();
    let items = lines
        .iter()
        .map(|l| Item {
            id: l.notification.id,
            text: l.text(),
            when: schedule::describe(l.notification.created_at, tz),
            unread: l.unread(),
        })
        .collect();
    render(NotificationsPage {
        layout: Layout::for_member(&state, &m, "Notifications"),
        ws: ws.0,
        workspace: m.membership.workspace.name.clone(),
        items,
        unread: m.unread,
        older_than: before,
        older,
    })
}

/// Marks a notification read and goes to what it is about.
pub async fn open(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((ws, id)): PathIds<(WorkspaceId, NotificationId)>,
) -> AppResult {
    let link = state
        .services
        .open_notification(UserId(m.auth.user.id), ws, id)
        .await?;
    // Only a path of this workspace is followed (the service writes nothing else).
    if !link.starts_with(&format!("/w/{}/", ws.0)) || link.contains("//") {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to(&link).into_response())
}

/// Marks every unread notification of the person in the workspace read.
pub async fn read_all(State(state): State<AppState>, m: WorkspaceMember) -> AppResult {
    let ws = m.membership.workspace_id();
    state
        .services
        .mark_notifications_read(UserId(m.auth.user.id), ws)
        .await?;
    Ok(redirect_with(
        &format!("/w/{}/notifications", ws.0),
        Flash::NotificationsRead,
    ))
}

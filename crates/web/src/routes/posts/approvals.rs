//! The Publishing area's Approvals tab: the posts waiting for approval, soonest due first (as
//! the service sorts them), as cards with their text, files, accounts, time and author, each
//! opening the post's review.

use super::list::PostLine;
use super::zone_of;
use crate::AppState;
use crate::error::AppResult;
use crate::extract::WorkspaceMember;
use crate::page::Layout;
use crate::routes::render;
use askama::Template;
use axum::extract::State;
use services::posts::{PostFilter, PostState};
use std::collections::HashMap;

/// A post waiting for approval.
pub struct Card {
    pub line: PostLine,
    pub body: String,
    pub author: String,
    /// Its files with a thumbnail: (id, file name).
    pub thumbs: Vec<(i64, String)>,
    /// Its time passed while it waited: approved, it goes out at once.
    pub overdue: bool,
    /// No member may approve it under the rules as they stand.
    pub stuck: bool,
}

#[derive(Template)]
#[template(path = "posts/approvals.html")]
struct ApprovalsPage {
    layout: Layout,
    ws: i64,
    cards: Vec<Card>,
    /// Posts need approval here now (else the page says what the setting is).
    required: bool,
    /// The reader approves posts here.
    approver: bool,
}

pub async fn page(State(state): State<AppState>, m: WorkspaceMember) -> AppResult {
    let ws = m.membership.workspace_id();
    let tz = zone_of(&m);
    let filter = PostFilter {
        state: Some(PostState::PendingApproval),
        ..Default::default()
    };
    let summaries = state.services.list_posts(ws, &filter).await?;
    let names: HashMap<i64, String> = state
        .services
        .members(ws)
        .await?
        .into_iter()
        .map(|m| (m.user_id.0, m.name))
        .collect();
    let (rules, member) = state.services.approval_of(&m.membership).await?;
    let now = services::now();
    let ids: Vec<i64> = summaries.iter().map(|s| s.post.id).collect();
    let mut thumbs = state.services.thumbs_of(ws, &ids).await?;
    let posts: Vec<_> = summaries.iter().map(|s| s.post.clone()).collect();
    let stuck = state.services.unapprovable(ws, &posts).await?;
    let mut cards = Vec::with_capacity(summaries.len());
    for s in &summaries {
        let thumbs = thumbs.remove(&s.post.id).unwrap_or_default();
        cards.push(Card {
            line: PostLine::from(s, tz),
            body: s.post.body.clone(),
            author: s
                .post
                .author_id
                .and_then(|id| names.get(&id).cloned())
                .unwrap_or_else(|| "A former member".to_owned()),
            thumbs,
            overdue: s.post.scheduled_at.is_some_and(|t| t < now),
            stuck: stuck.contains(&s.post.id),
        });
    }
    render(ApprovalsPage {
        layout: Layout::for_member(&state, &m, "Approvals"),
        ws: ws.0,
        cards,
        required: rules.required,
        approver: rules.is_approver(member),
    })
}

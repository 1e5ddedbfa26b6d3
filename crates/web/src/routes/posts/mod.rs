//! Posts: the composer, a post's page and its actions and notes, the list and the calendar.

pub mod actions;
pub mod approvals;
pub mod calendar;
pub mod compose;
pub mod list;
pub mod notes;
pub mod show;
pub mod status;

use crate::AppState;
use crate::extract::WorkspaceMember;
use axum::Router;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use domain::Timezone;
use services::posts::PostState;

/// The routes of a workspace's posts: the list, the composer, a post's page and actions, and
/// the calendar.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/w/{wid}/posts", get(list::page).post(compose::create))
        .route("/w/{wid}/posts/new", get(compose::new_form))
        .route("/w/{wid}/posts/assist", post(compose::assist_stream))
        .route(
            "/w/{wid}/posts/{pid}",
            get(show::page).post(compose::update),
        )
        .route("/w/{wid}/posts/{pid}/edit", get(compose::edit_form))
        .route("/w/{wid}/posts/{pid}/status", get(status::status))
        .route("/w/{wid}/posts/{pid}/duplicate", post(actions::duplicate))
        .route(
            "/w/{wid}/posts/{pid}/delete",
            get(actions::confirm_delete).post(actions::delete),
        )
        .route("/w/{wid}/posts/{pid}/unschedule", post(actions::unschedule))
        .route("/w/{wid}/posts/{pid}/reschedule", post(actions::reschedule))
        .route("/w/{wid}/posts/{pid}/review", post(actions::review))
        .route("/w/{wid}/posts/{pid}/notes", post(notes::add))
        .route(
            "/w/{wid}/posts/{pid}/notes/{nid}/delete",
            post(notes::delete),
        )
        .route("/w/{wid}/approvals", get(approvals::page))
        .route(
            "/w/{wid}/posts/{pid}/targets/{tid}/retry",
            post(actions::retry),
        )
        .route(
            "/w/{wid}/posts/{pid}/targets/{tid}/resolve",
            post(actions::resolve),
        )
        .route(
            "/w/{wid}/posts/{pid}/targets/{tid}/comment/retry",
            post(actions::retry_comment),
        )
        .route("/w/{wid}/calendar", get(calendar::page))
}

/// Pairs of a urlencoded form body; repeated names (checkboxes) stay separate.
pub struct FormPairs(Vec<(String, String)>);

impl FormPairs {
    pub fn parse(body: &[u8]) -> Self {
        Self(form_urlencoded::parse(body).into_owned().collect())
    }

    /// The first value of `name`, or "".
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    }

    /// Every value of `name`.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The member's time zone, in which times are entered and shown.
pub fn zone_of(m: &WorkspaceMember) -> Timezone {
    Timezone::stored(&m.auth.user.timezone)
}

/// The path of a post's page.
pub fn post_path(ws: i64, post: i64) -> String {
    format!("/w/{ws}/posts/{post}")
}

/// A state's CSS modifier and label, for badges.
pub struct StateBadge {
    pub class: &'static str,
    pub label: &'static str,
}

pub fn badge(state: PostState) -> StateBadge {
    StateBadge {
        class: match state {
            PostState::Published => "ok",
            PostState::Failed => "bad",
            PostState::PartiallyPublished | PostState::Unconfirmed => "warn",
            PostState::Scheduled | PostState::Publishing => "info",
            PostState::PendingApproval => "pending",
            _ => "muted",
        },
        label: match state {
            PostState::Publishing => "Publishing…",
            other => other.label(),
        },
    }
}

/// The state to show for a post (or one of its targets) in `state`, due at `due`: a scheduled
/// one whose time has come is publishing, because its job is due and a worker takes it up at
/// once. So "Publish now" (which saves the post scheduled for the moment it is sent) lands on a
/// page that says "Publishing…", never "Scheduled" for a time already past.
pub fn shown_state(state: PostState, due: Option<DateTime<Utc>>, now: DateTime<Utc>) -> PostState {
    if state == PostState::Scheduled && due.is_some_and(|at| at <= now) {
        PostState::Publishing
    } else {
        state
    }
}

/// The badge of [`shown_state`].
pub fn badge_at(state: PostState, due: Option<DateTime<Utc>>, now: DateTime<Utc>) -> StateBadge {
    badge(shown_state(state, due, now))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scheduled_post_whose_time_has_come_shows_as_publishing() {
        let now = chrono::Utc::now();
        let past = Some(now - chrono::Duration::seconds(1));
        let future = Some(now + chrono::Duration::minutes(5));
        assert_eq!(
            shown_state(PostState::Scheduled, past, now),
            PostState::Publishing
        );
        assert_eq!(
            shown_state(PostState::Scheduled, Some(now), now),
            PostState::Publishing
        );
        assert_eq!(
            shown_state(PostState::Scheduled, future, now),
            PostState::Scheduled
        );
        assert_eq!(
            shown_state(PostState::Scheduled, None, now),
            PostState::Scheduled
        );
        for other in [
            PostState::Draft,
            PostState::Published,
            PostState::Failed,
            PostState::Waiting,
        ] {
            assert_eq!(shown_state(other, past, now), other);
        }
        assert_eq!(
            badge_at(PostState::Scheduled, past, now).label,
            "Publishing…"
        );
        assert_eq!(badge(PostState::Scheduled).label, "Scheduled");
    }
}

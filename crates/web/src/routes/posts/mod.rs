//! Posts: the composer, a post's page and its actions, the list and the calendar.

pub mod actions;
pub mod calendar;
pub mod compose;
pub mod list;
pub mod show;

use crate::extract::WorkspaceMember;
use domain::Timezone;

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
    Timezone::parse(&m.auth.user.timezone).unwrap_or_else(|_| Timezone::utc())
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

pub fn badge(state: &str) -> StateBadge {
    use services::posts::state;
    StateBadge {
        class: match state {
            state::PUBLISHED => "ok",
            state::FAILED => "bad",
            state::PARTIALLY_PUBLISHED | state::UNCONFIRMED => "warn",
            state::SCHEDULED | state::PUBLISHING => "info",
            _ => "muted",
        },
        label: state::label(state),
    }
}

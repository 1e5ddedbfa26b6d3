//! The states kept in string columns, as enums. Each variant is stored as the same string the
//! column held before these types existed, so no data changes: a raw `WHERE state = 'queued'`
//! still finds what `JobState::Queued` names.

use sea_orm::entity::prelude::*;
use std::fmt;

/// Writes the stored string, so a state reads the same in a template, a log line or a URL.
macro_rules! display_as_stored {
    ($($name:ident),*) => {$(
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )*};
}

display_as_stored!(
    PostState,
    JobState,
    AttemptOutcome,
    ExportState,
    CommentState
);

/// The state of a post (`posts.state`) and of each of its targets (`post_targets.state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum PostState {
    #[sea_orm(string_value = "draft")]
    Draft,
    #[sea_orm(string_value = "scheduled")]
    Scheduled,
    #[sea_orm(string_value = "publishing")]
    Publishing,
    #[sea_orm(string_value = "published")]
    Published,
    #[sea_orm(string_value = "partially_published")]
    PartiallyPublished,
    #[sea_orm(string_value = "failed")]
    Failed,
    /// A target's outcome is unknown (the process stopped mid-call and the platform cannot be
    /// asked): a person decides.
    #[sea_orm(string_value = "unconfirmed")]
    Unconfirmed,
    /// The account needs to be reconnected; the post goes out once it is.
    #[sea_orm(string_value = "waiting")]
    Waiting,
}

impl PostState {
    /// Every state, in the order the interface lists them.
    pub const ALL: [PostState; 8] = [
        PostState::Draft,
        PostState::Scheduled,
        PostState::Publishing,
        PostState::Published,
        PostState::PartiallyPublished,
        PostState::Failed,
        PostState::Unconfirmed,
        PostState::Waiting,
    ];

    /// The string stored in the column.
    pub fn as_str(self) -> &'static str {
        match self {
            PostState::Draft => "draft",
            PostState::Scheduled => "scheduled",
            PostState::Publishing => "publishing",
            PostState::Published => "published",
            PostState::PartiallyPublished => "partially_published",
            PostState::Failed => "failed",
            PostState::Unconfirmed => "unconfirmed",
            PostState::Waiting => "waiting",
        }
    }

    /// The state a stored string names, if any (as in a filter's query string).
    pub fn parse(s: &str) -> Option<PostState> {
        PostState::ALL.into_iter().find(|state| state.as_str() == s)
    }

    /// How a state is named in the interface.
    pub fn label(self) -> &'static str {
        match self {
            PostState::Draft => "Draft",
            PostState::Scheduled => "Scheduled",
            PostState::Publishing => "Publishing",
            PostState::Published => "Published",
            PostState::PartiallyPublished => "Partly published",
            PostState::Failed => "Failed",
            PostState::Unconfirmed => "Needs a check",
            PostState::Waiting => "Waiting for reconnection",
        }
    }
}

/// The state of a background job (`jobs.state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum JobState {
    #[sea_orm(string_value = "queued")]
    Queued,
    #[sea_orm(string_value = "running")]
    Running,
    #[sea_orm(string_value = "done")]
    Done,
    #[sea_orm(string_value = "dead")]
    Dead,
}

impl JobState {
    /// The string stored in the column.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Dead => "dead",
        }
    }
}

/// How one call to a platform ended (`publish_attempts.outcome`; no value while in flight).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum AttemptOutcome {
    #[sea_orm(string_value = "published")]
    Published,
    #[sea_orm(string_value = "failed")]
    Failed,
    /// Failed in a way that will pass; tried again later.
    #[sea_orm(string_value = "retry")]
    Retry,
    /// Unknown: a person decides.
    #[sea_orm(string_value = "unconfirmed")]
    Unconfirmed,
    /// The process stopped mid-call; the platform said the post exists.
    #[sea_orm(string_value = "reconciled")]
    Reconciled,
}

impl AttemptOutcome {
    /// The string stored in the column.
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptOutcome::Published => "published",
            AttemptOutcome::Failed => "failed",
            AttemptOutcome::Retry => "retry",
            AttemptOutcome::Unconfirmed => "unconfirmed",
            AttemptOutcome::Reconciled => "reconciled",
        }
    }
}

/// The state of a data export (`data_exports.state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum ExportState {
    #[sea_orm(string_value = "queued")]
    Queued,
    #[sea_orm(string_value = "building")]
    Building,
    #[sea_orm(string_value = "ready")]
    Ready,
    #[sea_orm(string_value = "failed")]
    Failed,
    #[sea_orm(string_value = "expired")]
    Expired,
}

impl ExportState {
    /// The string stored in the column.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportState::Queued => "queued",
            ExportState::Building => "building",
            ExportState::Ready => "ready",
            ExportState::Failed => "failed",
            ExportState::Expired => "expired",
        }
    }

    /// Whether the ZIP can be downloaded.
    pub fn is_ready(self) -> bool {
        self == ExportState::Ready
    }
}

/// The state of a target's first comment (`post_targets.comment_state`; no value when the post
/// has none or it is not due yet).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum CommentState {
    /// Planned: its job will post it.
    #[sea_orm(string_value = "pending")]
    Pending,
    /// The call is being made (written before it).
    #[sea_orm(string_value = "posting")]
    Posting,
    #[sea_orm(string_value = "posted")]
    Posted,
    /// Refused, or given up: the reason is kept and a person may retry.
    #[sea_orm(string_value = "failed")]
    Failed,
    /// The call may or may not have gone through.
    #[sea_orm(string_value = "unconfirmed")]
    Unconfirmed,
    /// The platform's API takes no comments (TikTok).
    #[sea_orm(string_value = "unsupported")]
    Unsupported,
}

impl CommentState {
    /// The string stored in the column.
    pub fn as_str(self) -> &'static str {
        match self {
            CommentState::Pending => "pending",
            CommentState::Posting => "posting",
            CommentState::Posted => "posted",
            CommentState::Failed => "failed",
            CommentState::Unconfirmed => "unconfirmed",
            CommentState::Unsupported => "unsupported",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{ActiveEnum, Iterable};

    /// The hand-written strings agree with the ones the column stores.
    #[test]
    fn as_str_is_the_stored_value() {
        for s in PostState::iter() {
            assert_eq!(s.as_str(), s.to_value());
            assert_eq!(PostState::parse(s.as_str()), Some(s));
        }
        assert_eq!(PostState::iter().count(), PostState::ALL.len());
        assert_eq!(PostState::parse("nonsense"), None);
        for s in JobState::iter() {
            assert_eq!(s.as_str(), s.to_value());
        }
        for s in AttemptOutcome::iter() {
            assert_eq!(s.as_str(), s.to_value());
        }
        for s in ExportState::iter() {
            assert_eq!(s.as_str(), s.to_value());
        }
        for s in CommentState::iter() {
            assert_eq!(s.as_str(), s.to_value());
        }
    }
}

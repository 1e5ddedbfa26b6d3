//! The states of a post and of each of its targets, as stored and as named in the interface.

pub const DRAFT: &str = "draft";
pub const SCHEDULED: &str = "scheduled";
pub const PUBLISHING: &str = "publishing";
pub const PUBLISHED: &str = "published";
pub const PARTIALLY_PUBLISHED: &str = "partially_published";
pub const FAILED: &str = "failed";
/// A target's outcome is unknown (the process stopped mid-call and the platform cannot be
/// asked): a person decides.
pub const UNCONFIRMED: &str = "unconfirmed";
/// The account needs to be reconnected; the post goes out once it is.
pub const WAITING: &str = "waiting";

pub const ALL: [&str; 8] = [
    DRAFT,
    SCHEDULED,
    PUBLISHING,
    PUBLISHED,
    PARTIALLY_PUBLISHED,
    FAILED,
    UNCONFIRMED,
    WAITING,
];

/// How a state is named in the interface.
pub fn label(state: &str) -> &'static str {
    match state {
        DRAFT => "Draft",
        SCHEDULED => "Scheduled",
        PUBLISHING => "Publishing",
        PUBLISHED => "Published",
        PARTIALLY_PUBLISHED => "Partly published",
        FAILED => "Failed",
        UNCONFIRMED => "Needs a check",
        WAITING => "Waiting for reconnection",
        _ => "Unknown",
    }
}

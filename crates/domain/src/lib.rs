//! Pure types and rules of Socializioz. Nothing here performs IO.
//!
//! Values that come from people (forms, the command line) are parsed into these types at the
//! edge; everything below the handlers works with them and never with raw strings.

mod account;
pub mod approval;
pub mod campaign;
pub mod comments;
pub mod consent;
pub mod content;
mod ids;
pub mod media;
pub mod metrics;
pub mod notes;
pub mod plans;
pub mod policy;
pub mod schedule;
mod workspace;
pub mod zones;

pub use account::{Email, Language, Password, PersonName, Timezone};
pub use content::Platform;
pub use ids::{
    ActivityId, CampaignId, DeletionId, DeletionRequestId, ExportId, InvitationId, JobId, MediaId,
    MembershipId, NoteId, NotificationId, PostId, SessionId, SocialAccountId, TargetId, UserId,
    WorkspaceId,
};
pub use workspace::{Role, WorkspaceName};

/// Why a value typed by a person was refused. The message is shown next to the field, so it says
/// what to do, not only what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

impl Invalid {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// Trims `raw` and checks it is non-empty, at most `max` characters, and free of control
/// characters. Shared by every single-line text field.
fn single_line(raw: &str, what: &str, max: usize) -> Result<String, Invalid> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(Invalid(format!("Enter {what}.")));
    }
    let chars = value.chars().count();
    if chars > max {
        return Err(Invalid(format!(
            "{} can be at most {max} characters long (this one has {chars}).",
            capitalise(what)
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(Invalid(format!(
            "{} cannot contain control characters.",
            capitalise(what)
        )));
    }
    Ok(value.to_owned())
}

fn capitalise(what: &str) -> String {
    let what = what
        .strip_prefix("a ")
        .or_else(|| what.strip_prefix("an "))
        .unwrap_or(what);
    let what = what.strip_prefix("your ").unwrap_or(what);
    let mut chars = what.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A count with its noun in the right number: `counted(1, "post", "posts")` is "1 post",
/// `counted(3, "post", "posts")` is "3 posts" (and so is 0).
pub fn counted<N>(n: N, one: &str, many: &str) -> String
where
    N: Copy + std::fmt::Display + TryInto<i128>,
{
    let noun = if n.try_into().is_ok_and(|n: i128| n == 1) {
        one
    } else {
        many
    };
    format!("{n} {noun}")
}

#[cfg(test)]
mod tests {
    use super::counted;

    #[test]
    fn counts_take_the_singular_only_for_one() {
        assert_eq!(counted(1_usize, "post", "posts"), "1 post");
        assert_eq!(counted(0_u64, "post", "posts"), "0 posts");
        assert_eq!(
            counted(2_i64, "other member", "other members"),
            "2 other members"
        );
        assert_eq!(counted(-1_i64, "day", "days"), "-1 days");
    }
}

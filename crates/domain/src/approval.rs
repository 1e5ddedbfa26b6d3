//! Approvals: whether a workspace's posts wait for someone's approval before they are
//! published, who may give it, and whether an approver may approve their own post.
//!
//! The rules are the workspace owner's choice. "Any member" is what the original product did
//! (any member who can publish); owners and admins only, or the members named as approvers,
//! are stricter. Viewers never approve: they cannot publish either.

use crate::{Invalid, Role};

/// Who may approve a post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approvers {
    /// Any member who can publish (owners, admins, editors).
    AnyMember,
    /// Owners and admins.
    OwnersAndAdmins,
    /// The members named as approvers.
    Named,
}

impl Approvers {
    pub const ALL: [Approvers; 3] = [Self::AnyMember, Self::OwnersAndAdmins, Self::Named];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AnyMember => "any_member",
            Self::OwnersAndAdmins => "owners_and_admins",
            Self::Named => "named",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == raw.trim())
            .ok_or_else(|| {
                Invalid::new("Choose any member, owners and admins, or the members you name.")
            })
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::AnyMember => "Any member who can publish",
            Self::OwnersAndAdmins => "Owners and admins",
            Self::Named => "The members named as approvers",
        }
    }
}

/// A workspace's approval rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// Posts wait for approval before they are scheduled. Off, a post is scheduled as it is
    /// saved (and the other two settings are kept for when it is turned on again).
    pub required: bool,
    pub approvers: Approvers,
    /// An approver may approve a post they wrote (and so skip the review with Auto-approve).
    pub own_posts: bool,
}

/// A member as the rules see them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    pub role: Role,
    /// Named as an approver (counts only when the rules say [`Approvers::Named`]).
    pub named: bool,
}

/// Why a member may not approve a post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotAllowed(pub String);

impl Rules {
    /// Approval off: every post is scheduled as it is saved.
    pub const OFF: Rules = Rules {
        required: false,
        approvers: Approvers::AnyMember,
        own_posts: false,
    };

    /// Whether `member` approves posts at all under these rules.
    pub fn is_approver(&self, member: Member) -> bool {
        member.role.can_publish()
            && match self.approvers {
                Approvers::AnyMember => true,
                Approvers::OwnersAndAdmins => member.role.can_manage_members(),
                Approvers::Named => member.named,
            }
    }

    /// Whether `member` may approve a post; `author` says they wrote it.
    pub fn may_approve(&self, member: Member, author: bool) -> Result<(), NotAllowed> {
        if !self.is_approver(member) {
            return Err(NotAllowed(match self.approvers {
                Approvers::AnyMember => "Viewers cannot approve posts.".to_owned(),
                Approvers::OwnersAndAdmins => {
                    "In this workspace only owners and admins approve posts.".to_owned()
                }
                Approvers::Named => {
                    "In this workspace only the members named as approvers approve posts."
                        .to_owned()
                }
            }));
        }
        if author && !self.own_posts {
            return Err(NotAllowed(
                "You wrote this post: in this workspace another approver reviews it.".to_owned(),
            ));
        }
        Ok(())
    }

    /// Whether a post `member` saves goes straight to scheduled when they ask for it
    /// (Auto-approve): when approval is off, or when they could approve it themselves.
    pub fn may_skip_review(&self, member: Member) -> bool {
        !self.required || self.may_approve(member, true).is_ok()
    }
}

/// What a reviewer decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approved,
    /// Back to draft: the post is not to go out as it is.
    Rejected,
    /// Back to draft: the author is asked to change it and send it again.
    ChangesRequested,
}

impl Decision {
    pub const ALL: [Decision; 3] = [Self::Approved, Self::Rejected, Self::ChangesRequested];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::ChangesRequested => "changes_requested",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        Self::ALL
            .into_iter()
            .find(|d| d.as_str() == raw.trim())
            .ok_or_else(|| Invalid::new("Approve, reject or ask for changes."))
    }

    /// "approved", "rejected", "asked for changes to".
    pub fn verb(self) -> &'static str {
        match self {
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::ChangesRequested => "asked for changes to",
        }
    }
}

/// The longest reviewer's note kept.
pub const MAX_NOTE: usize = 2_000;

/// A reviewer's note: trimmed, at most [`MAX_NOTE`] characters; required when the post goes
/// back to its author (they need to know why).
pub fn note(raw: &str, decision: Decision) -> Result<Option<String>, Invalid> {
    let text = raw.trim();
    if text.chars().count() > MAX_NOTE {
        return Err(Invalid::new(format!(
            "Keep the note under {MAX_NOTE} characters."
        )));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(Invalid::new(
            "The note holds characters that cannot be shown.",
        ));
    }
    match (text.is_empty(), decision) {
        (true, Decision::Approved) => Ok(None),
        (true, _) => Err(Invalid::new(
            "Say what should change: the author reads this note.",
        )),
        (false, _) => Ok(Some(text.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(role: Role, named: bool) -> Member {
        Member { role, named }
    }

    #[test]
    fn who_approves_under_each_setting() {
        let any = Rules {
            required: true,
            approvers: Approvers::AnyMember,
            own_posts: false,
        };
        let admins = Rules {
            approvers: Approvers::OwnersAndAdmins,
            ..any
        };
        let named = Rules {
            approvers: Approvers::Named,
            ..any
        };
        for rules in [any, admins, named] {
            assert!(
                rules
                    .may_approve(member(Role::Viewer, true), false)
                    .is_err()
            );
        }
        assert!(any.may_approve(member(Role::Editor, false), false).is_ok());
        assert!(
            admins
                .may_approve(member(Role::Editor, false), false)
                .is_err()
        );
        assert!(
            admins
                .may_approve(member(Role::Admin, false), false)
                .is_ok()
        );
        assert!(
            named
                .may_approve(member(Role::Owner, false), false)
                .is_err()
        );
        assert!(named.may_approve(member(Role::Editor, true), false).is_ok());
        // Their own post: only when the rules allow it.
        let own = any
            .may_approve(member(Role::Owner, false), true)
            .unwrap_err();
        assert!(own.0.contains("another approver"), "{}", own.0);
        let own_ok = Rules {
            own_posts: true,
            ..any
        };
        assert!(own_ok.may_approve(member(Role::Owner, false), true).is_ok());
    }

    #[test]
    fn auto_approve_is_for_those_who_could_approve_their_own_post() {
        let rules = Rules {
            required: true,
            approvers: Approvers::OwnersAndAdmins,
            own_posts: true,
        };
        assert!(rules.may_skip_review(member(Role::Admin, false)));
        assert!(!rules.may_skip_review(member(Role::Editor, false)));
        let strict = Rules {
            own_posts: false,
            ..rules
        };
        assert!(!strict.may_skip_review(member(Role::Owner, false)));
        assert!(Rules::OFF.may_skip_review(member(Role::Editor, false)));
    }

    #[test]
    fn a_post_sent_back_needs_a_note() {
        assert_eq!(note("  ", Decision::Approved).unwrap(), None);
        assert!(note("", Decision::Rejected).is_err());
        assert!(note("", Decision::ChangesRequested).is_err());
        assert_eq!(
            note(" Shorter, please ", Decision::ChangesRequested).unwrap(),
            Some("Shorter, please".to_owned())
        );
        assert!(note(&"x".repeat(MAX_NOTE + 1), Decision::Rejected).is_err());
        assert!(note("a\u{0}b", Decision::Rejected).is_err());
        for d in Decision::ALL {
            assert_eq!(Decision::parse(d.as_str()).unwrap(), d);
        }
        for a in Approvers::ALL {
            assert_eq!(Approvers::parse(a.as_str()).unwrap(), a);
        }
        assert!(Approvers::parse("everyone").is_err());
    }
}

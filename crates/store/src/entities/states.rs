//! The states and kinds kept in string columns, as enums. Each variant is stored as the same
//! string the column held before these types existed, so no data changes: a raw
//! `WHERE state = 'queued'` still finds what `JobState::Queued` names.
//!
//! `stored_enum!` writes each string once: the column's mapping, `as_str`, `parse`, `ALL`,
//! `Display` and serde all come from the one list.
//!
//! Platforms and roles are the exception: their enums (`domain::Platform`, `domain::Role`) live
//! in the IO-free `domain`, which does not depend on the database layer, and the orphan rule
//! keeps this crate from teaching sea-orm about them; their columns are read through their
//! `parse`, which refuses an unknown value with a message.

use sea_orm::entity::prelude::*;
use std::fmt;

macro_rules! stored_enum {
    ($(
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[$vmeta:meta])* $variant:ident = $stored:tt),* $(,)?
        }
    )*) => {$(
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
        #[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
        pub enum $name {
            $($(#[$vmeta])* #[sea_orm(string_value = $stored)] $variant),*
        }

        impl $name {
            /// Every value, in the order they are declared.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The string stored in the column.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $stored),*
                }
            }

            /// The value a stored string names, if any (as in a filter's query string).
            pub fn parse(s: &str) -> Option<$name> {
                match s {
                    $($stored => Some($name::$variant),)*
                    _ => None,
                }
            }
        }

        /// Writes the stored string, so a value reads the same in a template, a log line or a
        /// URL.
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        /// Serialised as the stored string (in exports and backups).
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                $name::parse(&raw).ok_or_else(|| {
                    serde::de::Error::custom(format_args!(
                        "{raw:?} is not a {}",
                        stringify!($name)
                    ))
                })
            }
        }
    )*};
}

stored_enum! {
    /// The state of a post (`posts.state`) and of each of its targets (`post_targets.state`).
    pub enum PostState {
        Draft = "draft",
        Scheduled = "scheduled",
        Publishing = "publishing",
        Published = "published",
        PartiallyPublished = "partially_published",
        Failed = "failed",
        /// A target's outcome is unknown (the process stopped mid-call and the platform cannot
        /// be asked): a person decides.
        Unconfirmed = "unconfirmed",
        /// The account needs to be reconnected; the post goes out once it is.
        Waiting = "waiting",
        /// Sent for approval: not published until an approver approves it.
        PendingApproval = "pending_approval",
    }

    /// The state of a background job (`jobs.state`).
    pub enum JobState {
        Queued = "queued",
        Running = "running",
        Done = "done",
        Dead = "dead",
    }

    /// How one call to a platform ended (`publish_attempts.outcome`; no value while in flight).
    pub enum AttemptOutcome {
        Published = "published",
        Failed = "failed",
        /// Failed in a way that will pass; tried again later.
        Retry = "retry",
        /// Unknown: a person decides.
        Unconfirmed = "unconfirmed",
        /// The process stopped mid-call; the platform said the post exists.
        Reconciled = "reconciled",
    }

    /// The state of a data export (`data_exports.state`).
    pub enum ExportState {
        Queued = "queued",
        Building = "building",
        Ready = "ready",
        Failed = "failed",
        Expired = "expired",
    }

    /// The state of a target's first comment (`post_targets.comment_state`; no value when the
    /// post has none or it is not due yet).
    pub enum CommentState {
        /// Planned: its job will post it.
        Pending = "pending",
        /// The call is being made (written before it).
        Posting = "posting",
        Posted = "posted",
        /// Refused, or given up: the reason is kept and a person may retry.
        Failed = "failed",
        /// The call may or may not have gone through.
        Unconfirmed = "unconfirmed",
        /// The platform's API takes no comments (TikTok).
        Unsupported = "unsupported",
    }

    /// Whether a connected account can be used (`social_accounts.status`).
    pub enum AccountStatus {
        Connected = "connected",
        /// Its authorisation lapsed or was withdrawn at the platform: a person reconnects it.
        ReconnectNeeded = "reconnect_needed",
        /// Disconnected by a person: its tokens are revoked and gone; the row stays for the
        /// posts that name it.
        Disconnected = "disconnected",
    }

    /// Where a deletion was asked for (`account_deletions.via`).
    pub enum DeletionVia {
        /// From the settings page, after the password and the typed confirmation.
        App = "app",
        /// A request sent to the privacy address, confirmed from the account's mailbox.
        Email = "email",
    }

    /// A step of a deletion (`account_deletions.step`); each is stored before the next begins.
    pub enum DeletionStep {
        Revoke = "revoke",
        Receipt = "receipt",
        Rows = "rows",
        Objects = "objects",
        /// Waiting for the platform calls under way on posts the deletion deletes.
        InFlight = "in_flight",
        Done = "done",
    }

    /// Where a deletion request stands (`deletion_requests.state`).
    pub enum RequestState {
        /// Waiting for the person to confirm through the e-mailed link.
        Open = "open",
        /// Confirmed: the account deletion started (and `closed_at` says when it ended).
        Confirmed = "confirmed",
        /// The person withdrew it.
        Withdrawn = "withdrawn",
        /// Closed unconfirmed after the link expired.
        Expired = "expired",
    }

    /// What a forget-list entry names (`forget_entries.kind`): what a restore must delete again.
    pub enum ForgetKind {
        User = "user",
        Workspace = "workspace",
        /// An e-mail address, for the outbox.
        Address = "address",
    }

    /// Which note a person is shown once (`notices.kind`).
    pub enum NoticeKind {
        /// A workspace the person belonged to was deleted with its owner's account.
        WorkspaceDeleted = "workspace_deleted",
        /// Someone deleted their account, and the posts and files they made in a workspace the
        /// person belongs to were deleted with it.
        WorkDeleted = "work_deleted",
        /// PayPal could not take a workspace's payment: its plan lasts to the end of the grace
        /// period.
        PaymentFailed = "payment_failed",
    }

    /// Where a workspace's PayPal subscription stands (`subscriptions.status`): PayPal's own
    /// statuses, and before them the checkout's.
    pub enum SubscriptionStatus {
        /// The row is written; PayPal is being asked to create the subscription.
        Creating = "creating",
        /// PayPal could not be reached or refused: nothing was created, nothing charged.
        Failed = "failed",
        /// Created; waiting for the owner to approve it at PayPal.
        ApprovalPending = "approval_pending",
        /// The owner came back from PayPal without approving.
        Abandoned = "abandoned",
        /// Approved at PayPal, not yet active.
        Approved = "approved",
        Active = "active",
        /// PayPal stopped billing (failed payments, or on request); it can be activated again.
        Suspended = "suspended",
        /// Cancelled: the plan lasts to the end of the period paid for.
        Cancelled = "cancelled",
        Expired = "expired",
    }
}

impl PostState {
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
            PostState::PendingApproval => "Pending approval",
        }
    }
}

impl ExportState {
    /// Whether the ZIP can be downloaded.
    pub fn is_ready(self) -> bool {
        self == ExportState::Ready
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{ActiveEnum, Iterable};

    /// The hand-written strings agree with the ones the column stores.
    #[test]
    fn as_str_is_the_stored_value() {
        fn agree<E: ActiveEnum<Value = String> + Iterable + Copy + PartialEq + std::fmt::Debug>(
            all: &[E],
            as_str: fn(E) -> &'static str,
            parse: fn(&str) -> Option<E>,
        ) {
            assert_eq!(E::iter().count(), all.len());
            for &v in all {
                assert_eq!(as_str(v), v.to_value());
                assert_eq!(parse(as_str(v)), Some(v));
            }
            assert_eq!(parse("nonsense"), None);
        }
        agree(PostState::ALL, PostState::as_str, PostState::parse);
        agree(JobState::ALL, JobState::as_str, JobState::parse);
        agree(
            AttemptOutcome::ALL,
            AttemptOutcome::as_str,
            AttemptOutcome::parse,
        );
        agree(ExportState::ALL, ExportState::as_str, ExportState::parse);
        agree(CommentState::ALL, CommentState::as_str, CommentState::parse);
        agree(
            AccountStatus::ALL,
            AccountStatus::as_str,
            AccountStatus::parse,
        );
        agree(DeletionVia::ALL, DeletionVia::as_str, DeletionVia::parse);
        agree(DeletionStep::ALL, DeletionStep::as_str, DeletionStep::parse);
        agree(RequestState::ALL, RequestState::as_str, RequestState::parse);
        agree(ForgetKind::ALL, ForgetKind::as_str, ForgetKind::parse);
        agree(NoticeKind::ALL, NoticeKind::as_str, NoticeKind::parse);
        agree(
            SubscriptionStatus::ALL,
            SubscriptionStatus::as_str,
            SubscriptionStatus::parse,
        );
    }
}

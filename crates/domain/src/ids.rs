//! Typed identifiers: a workspace id can never be passed where a user id belongs.

use serde::{Deserialize, Serialize};

macro_rules! typed_id {
    ($($name:ident),* $(,)?) => {$(
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }
    )*};
}

typed_id!(
    UserId,
    WorkspaceId,
    MembershipId,
    InvitationId,
    SessionId,
    PostId,
    TargetId,
    SocialAccountId,
    MediaId,
    CampaignId,
    JobId,
    ExportId,
    DeletionId,
    DeletionRequestId,
    ActivityId,
    NoteId,
    NotificationId,
);

use sea_orm::entity::prelude::*;
use std::fmt;

/// What a notification tells (`notifications.kind`), stored as the string beside each variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum NotificationKind {
    /// Someone mentioned the person in a note on a post.
    #[sea_orm(string_value = "mention")]
    Mention,
    /// A post waits for the person's approval.
    #[sea_orm(string_value = "approval_asked")]
    ApprovalAsked,
    /// An approver decided on the person's post.
    #[sea_orm(string_value = "post_reviewed")]
    PostReviewed,
}

impl NotificationKind {
    pub const ALL: &'static [NotificationKind] = &[
        NotificationKind::Mention,
        NotificationKind::ApprovalAsked,
        NotificationKind::PostReviewed,
    ];

    /// The string stored in the column.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mention => "mention",
            Self::ApprovalAsked => "approval_asked",
            Self::PostReviewed => "post_reviewed",
        }
    }

    /// The value a stored string names, if any.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for NotificationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Serialised as the stored string (in exports and backups).
impl serde::Serialize for NotificationKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Something a person is told inside the app, in one workspace (see the migration).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Whom it is for.
    pub user_id: i64,
    pub workspace_id: i64,
    /// Who caused it; none once their account is deleted (their name is read at display time,
    /// never copied here).
    pub actor_id: Option<i64>,
    pub kind: NotificationKind,
    /// What happened, without names or secrets: "mentioned you in a note on “…”".
    pub summary: String,
    /// The path of this site it leads to (`/w/1/posts/2#note-3`).
    pub link: String,
    /// What it is about: `post` or `post_note`, and its id.
    pub object_type: String,
    pub object_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub read_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for kind in NotificationKind::ALL {
            assert_eq!(NotificationKind::parse(kind.as_str()), Some(*kind));
        }
        assert_eq!(NotificationKind::parse("nonsense"), None);
    }
}

use sea_orm::entity::prelude::*;

/// A reply a member wrote to a comment, from draft to sent (see the migration).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "comment_replies")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub workspace_id: i64,
    pub comment_id: i64,
    pub author_id: Option<i64>,
    pub body: String,
    /// `draft`, `pending` (waiting for an approver), `sending`, `sent` or `unconfirmed`.
    pub state: String,
    /// Began as an AI suggestion (a person edited and sent it).
    pub suggested: bool,
    /// The reply's id at the platform, once sent.
    pub platform_id: Option<String>,
    /// The platform's reason when it refused.
    pub error: Option<String>,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
    /// Who approved it or sent it back, when replies need approval.
    pub reviewed_by: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

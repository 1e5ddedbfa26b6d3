use sea_orm::entity::prelude::*;

/// A message of a conversation (see the migration).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "direct_messages")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub workspace_id: i64,
    pub conversation_id: i64,
    /// Its id at the platform (none for a reply on its way, or refused).
    pub platform_id: Option<String>,
    pub by_account: bool,
    pub body: String,
    pub sent_at: DateTimeUtc,
    /// The member who sent a reply from here.
    pub sent_by: Option<i64>,
    /// `received`, `sent`, `sending`, `unconfirmed` or `refused`.
    pub state: String,
    /// The platform's reason when it refused.
    pub error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

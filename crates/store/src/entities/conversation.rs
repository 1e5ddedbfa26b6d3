use sea_orm::entity::prelude::*;

/// A direct-message conversation between an account and one person (see the migration). The
/// person never signed up here: their name and words are a third party's.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "conversations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub workspace_id: i64,
    pub account_id: i64,
    pub platform_id: String,
    pub person_platform_id: String,
    pub person_name: String,
    /// When its last message was sent (by either side).
    pub last_at: DateTimeUtc,
    /// When the person last wrote: the reply window runs from it.
    pub person_last_at: Option<DateTimeUtc>,
    /// When it was first read here.
    pub seen_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

use super::states::NoticeKind;
use sea_orm::entity::prelude::*;

/// Something to tell a person once, on the next page they open (see the migration).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notices")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    /// What happened: `workspace_deleted`.
    pub kind: NoticeKind,
    /// What it happened to: the workspace's name.
    pub subject: String,
    pub occurred_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

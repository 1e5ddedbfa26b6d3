use sea_orm::entity::prelude::*;

/// One line of a workspace's activity log: who did what to which object, and when.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "activity_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub workspace_id: i64,
    pub actor_user_id: Option<i64>,
    /// The actor's name when the entry was written, so the log stays readable.
    pub actor_name: String,
    pub action: String,
    pub object_type: String,
    pub object_id: Option<i64>,
    pub summary: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

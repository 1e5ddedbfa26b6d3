use sea_orm::entity::prelude::*;

/// What a client said through a preview link (see the migration).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "preview_feedback")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub workspace_id: i64,
    pub link_id: i64,
    pub post_id: i64,
    /// The name the client gave (they have no account).
    pub name: String,
    /// `approved` or `comment`.
    pub kind: String,
    pub comment: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

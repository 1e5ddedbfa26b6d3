use sea_orm::entity::prelude::*;

/// One decision on a post sent for approval (see the migration).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "post_reviews")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub workspace_id: i64,
    pub post_id: i64,
    /// The post's revision the reviewer saw.
    pub revision: i32,
    pub reviewer_id: Option<i64>,
    /// `approved`, `rejected` or `changes_requested` (`domain::approval::Decision`).
    pub decision: String,
    pub note: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

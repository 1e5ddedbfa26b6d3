use sea_orm::entity::prelude::*;

/// What the AI is told about a workspace's brand, in every prompt of that workspace.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "brand_profiles")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub workspace_id: i64,
    pub name: String,
    /// What the brand does.
    pub about: String,
    pub audience: String,
    pub voice: String,
    pub words_to_use: String,
    pub words_to_avoid: String,
    /// Example posts, separated by blank lines.
    pub examples: String,
    pub updated_by: Option<i64>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

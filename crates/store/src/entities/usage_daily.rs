use sea_orm::entity::prelude::*;

/// An anonymized aggregate: how often a feature was used on one UTC day, per platform. Names
/// no person and no workspace.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "usage_daily")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub day: Date,
    /// `post_created`, `publish_published`, `media_uploaded`, … (see `services::usage`).
    pub feature: String,
    /// The platform's slug, or empty when the feature has none.
    pub platform: String,
    pub count: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

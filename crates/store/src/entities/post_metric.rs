use sea_orm::entity::prelude::*;

/// A published post's lifetime total of one metric at one target (account), as read on `day`
/// (the latest reading of that day).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "post_metrics")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub workspace_id: i64,
    pub account_id: i64,
    pub target_id: i64,
    pub metric: String,
    pub day: Date,
    pub value: i64,
    pub read_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

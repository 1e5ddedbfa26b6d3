use sea_orm::entity::prelude::*;

/// One figure of a connected account: a day's value (`span = "day"`, `day` the day it counts)
/// or a lifetime total such as followers (`span = "lifetime"`, `day` the day it was read).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "account_metrics")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub workspace_id: i64,
    pub account_id: i64,
    /// A normalised key (`views`) or the platform's own (`instagram.profile_links_taps`).
    pub metric: String,
    pub span: String,
    pub day: Date,
    pub value: i64,
    pub read_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

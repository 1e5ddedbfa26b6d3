use sea_orm::entity::prelude::*;

/// A platform's answer to a metrics read, as it came (kept 30 days), for tracing a figure back
/// to what the platform said. Holds no token.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "metric_answers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub workspace_id: i64,
    pub account_id: i64,
    /// Which call: `GET /{page}/insights`.
    pub call: String,
    pub body: String,
    pub read_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

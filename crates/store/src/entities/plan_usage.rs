use sea_orm::entity::prelude::*;

/// How much of a monthly limit a workspace has used in one month: only ever counted up, so
/// deleting what was counted does not give the count back.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "plan_usage")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub workspace_id: i64,
    /// `YYYY-MM`, in the workspace owner's time zone.
    pub month: String,
    /// The limit's key (`domain::plans::Limit::key`: `posts_per_month`, …).
    pub counter: String,
    pub count: i64,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

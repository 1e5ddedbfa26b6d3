use super::states::AttemptOutcome;
use sea_orm::entity::prelude::*;

/// One call to a platform to publish a target. Written before the call ("started") and
/// completed after it, so a crash in between is visible and never followed by a blind retry.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "publish_attempts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub target_id: i64,
    pub number: i32,
    /// Sent to the platform where its API takes one, and used to find the post afterwards.
    pub idempotency_key: String,
    pub started_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
    /// `published`, `failed`, `retry`, `unconfirmed` or `reconciled`; `None` while in flight.
    pub outcome: Option<AttemptOutcome>,
    pub error: Option<String>,
    pub platform_post_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

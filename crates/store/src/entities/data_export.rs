use super::states::ExportState;
use sea_orm::entity::prelude::*;

/// One "export all my data" request (see the migration).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "data_exports")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    /// `queued`, `building`, `ready`, `failed` or `expired`.
    pub state: ExportState,
    /// Work done and to do while building, in rows and files.
    pub progress_done: i64,
    pub progress_total: i64,
    /// The size of the ZIP once ready.
    pub bytes: Option<i64>,
    /// Where the ZIP is in the media store (under the user's prefix); cleared when it expires.
    pub object_key: Option<String>,
    pub requested_at: DateTimeUtc,
    pub ready_at: Option<DateTimeUtc>,
    /// Seven days after `ready_at`; the ZIP is deleted then.
    pub expires_at: Option<DateTimeUtc>,
    /// Why the build failed, in words for the person.
    pub error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

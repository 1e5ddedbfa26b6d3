use super::states::JobState;
use sea_orm::entity::prelude::*;

/// A durable unit of background work.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "jobs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: String,
    pub payload: String,
    /// `queued`, `running`, `done` or `dead`.
    pub state: JobState,
    pub run_at: DateTimeUtc,
    pub attempts: i32,
    pub max_attempts: i32,
    pub locked_until: Option<DateTimeUtc>,
    pub locked_by: Option<String>,
    pub last_error: Option<String>,
    #[sea_orm(unique)]
    pub idempotency_key: Option<String>,
    /// The person the job concerns, so account deletion finds their jobs.
    pub user_id: Option<i64>,
    pub workspace_id: Option<i64>,
    /// Jobs with the same key share that key's concurrency limit (e.g. `publish:x`).
    pub concurrency_key: Option<String>,
    /// What the job works on (e.g. `post_target:12`), so it can be found and withdrawn.
    pub subject: Option<String>,
    /// For an e-mail still to be sent: the address it goes to, in lower case (cleared with the
    /// payload once it is sent or given up), so a deletion of the address withdraws it.
    pub recipient: Option<String>,
    /// The id of the web request that enqueued the job, so its log lines carry the same id.
    pub request_id: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

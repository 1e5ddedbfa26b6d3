use sea_orm::entity::prelude::*;

/// A change the agent proposed, which runs only when the person approves it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agent_proposals")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub conversation_id: i64,
    pub workspace_id: i64,
    pub user_id: i64,
    /// The tool (`draft_post`, `schedule_post`, `create_campaign`).
    pub tool: String,
    /// Its arguments, as JSON.
    pub arguments: String,
    /// What it does, for people ("Schedule “…” to @shop on X, Tue 10 Dec 10:00").
    pub summary: String,
    /// `pending`, `running`, `done`, `rejected`, `failed` or `done_unasked` (run at once, as
    /// the workspace allows for drafts).
    pub state: String,
    /// What happened (the post's id, the reason it failed).
    pub outcome: Option<String>,
    pub decided_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

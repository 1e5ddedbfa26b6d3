use sea_orm::entity::prelude::*;

/// One message of a conversation: the person's (`user`), the agent's (`assistant`, with the
/// tools it called), or what a tool returned (`tool`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agent_messages")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub conversation_id: i64,
    pub role: String,
    pub content: String,
    /// The assistant's tool calls, as JSON (`[{id, name, arguments}]`).
    pub tool_calls: Option<String>,
    /// The call a tool message answers.
    pub tool_call_id: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

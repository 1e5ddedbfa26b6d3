//! The AI agent: each person's conversations in a workspace, their messages (the person's, the
//! agent's, and what its tools returned), the changes the agent proposed with what became of
//! them, and whether a workspace lets the agent create drafts without asking (Professional and
//! above; scheduling always asks).
//!
//! Conversations and proposals belong to the person and go with them; messages go with their
//! conversation.

use super::refs::{Users, Workspaces};
use super::{fk, index};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_pk_auto, string, string_null, text, text_null, timestamp_with_time_zone,
    timestamp_with_time_zone_null,
};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000027_agent"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum WorkspacesAgent {
    #[sea_orm(iden = "workspaces")]
    Table,
    AgentDraftsFree,
}

#[derive(DeriveIden, Clone, Copy)]
enum AgentConversations {
    Table,
    Id,
    WorkspaceId,
    UserId,
    Title,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum AgentMessages {
    Table,
    Id,
    ConversationId,
    Role,
    Content,
    ToolCalls,
    ToolCallId,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum AgentProposals {
    Table,
    Id,
    ConversationId,
    WorkspaceId,
    UserId,
    Tool,
    Arguments,
    Summary,
    State,
    Outcome,
    DecidedAt,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(WorkspacesAgent::Table)
                    .add_column(
                        ColumnDef::new(WorkspacesAgent::AgentDraftsFree)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AgentConversations::Table)
                    .col(big_pk_auto(AgentConversations::Id))
                    .col(big_integer(AgentConversations::WorkspaceId))
                    .col(big_integer(AgentConversations::UserId))
                    .col(string(AgentConversations::Title))
                    .col(timestamp_with_time_zone(AgentConversations::CreatedAt))
                    .col(timestamp_with_time_zone(AgentConversations::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_agent_conversations_workspace",
                        (AgentConversations::Table, AgentConversations::WorkspaceId),
                        (Workspaces::Table, Workspaces::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_agent_conversations_user",
                        (AgentConversations::Table, AgentConversations::UserId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "ix_agent_conversations_user",
                    AgentConversations::Table,
                    &[AgentConversations::WorkspaceId, AgentConversations::UserId],
                )
                .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AgentMessages::Table)
                    .col(big_pk_auto(AgentMessages::Id))
                    .col(big_integer(AgentMessages::ConversationId))
                    .col(string(AgentMessages::Role))
                    .col(text(AgentMessages::Content))
                    .col(text_null(AgentMessages::ToolCalls))
                    .col(string_null(AgentMessages::ToolCallId))
                    .col(timestamp_with_time_zone(AgentMessages::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_agent_messages_conversation",
                        (AgentMessages::Table, AgentMessages::ConversationId),
                        (AgentConversations::Table, AgentConversations::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "ix_agent_messages_conversation",
                    AgentMessages::Table,
                    &[AgentMessages::ConversationId],
                )
                .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AgentProposals::Table)
                    .col(big_pk_auto(AgentProposals::Id))
                    .col(big_integer(AgentProposals::ConversationId))
                    .col(big_integer(AgentProposals::WorkspaceId))
                    .col(big_integer(AgentProposals::UserId))
                    .col(string(AgentProposals::Tool))
                    .col(text(AgentProposals::Arguments))
                    .col(text(AgentProposals::Summary))
                    .col(string(AgentProposals::State))
                    .col(text_null(AgentProposals::Outcome))
                    .col(timestamp_with_time_zone_null(AgentProposals::DecidedAt))
                    .col(timestamp_with_time_zone(AgentProposals::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_agent_proposals_conversation",
                        (AgentProposals::Table, AgentProposals::ConversationId),
                        (AgentConversations::Table, AgentConversations::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_agent_proposals_workspace",
                        (AgentProposals::Table, AgentProposals::WorkspaceId),
                        (Workspaces::Table, Workspaces::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_agent_proposals_user",
                        (AgentProposals::Table, AgentProposals::UserId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "ix_agent_proposals_conversation",
                    AgentProposals::Table,
                    &[AgentProposals::ConversationId],
                )
                .to_owned(),
            )
            .await?;
        Ok(())
    }
}

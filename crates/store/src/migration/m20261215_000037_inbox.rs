//! The inbox: Instagram direct messages people send to a workspace's accounts, read back, and
//! the text replies the team sends within Instagram's reply window.
//!
//! - `workspaces.inbox_on_at`: when the workspace turned the inbox on (none: off).
//! - `conversations`: one per account and person, by the platform's id (unique per account),
//!   with the person's id and name as the platform shows them, when the last message was sent
//!   and when the person last wrote (the reply window runs from it).
//! - `direct_messages`: the messages of a conversation, by the platform's id once it has one;
//!   a reply written here carries who sent it and how its sending went.

use super::refs::{SocialAccounts, Users, Workspaces};
use super::{fk, index};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, big_pk_auto, boolean, string, string_null, text, text_null,
    timestamp_with_time_zone, timestamp_with_time_zone_null,
};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261215_000037_inbox"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum WorkspacesCols {
    #[sea_orm(iden = "workspaces")]
    Table,
    InboxOnAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Conversations {
    Table,
    Id,
    WorkspaceId,
    AccountId,
    PlatformId,
    PersonPlatformId,
    PersonName,
    LastAt,
    PersonLastAt,
    SeenAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum DirectMessages {
    Table,
    Id,
    WorkspaceId,
    ConversationId,
    PlatformId,
    ByAccount,
    Body,
    SentAt,
    SentBy,
    State,
    Error,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(WorkspacesCols::Table)
                    .add_column(timestamp_with_time_zone_null(WorkspacesCols::InboxOnAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Conversations::Table)
                    .col(big_pk_auto(Conversations::Id))
                    .col(big_integer(Conversations::WorkspaceId))
                    .col(big_integer(Conversations::AccountId))
                    .col(string(Conversations::PlatformId))
                    .col(string(Conversations::PersonPlatformId))
                    .col(string(Conversations::PersonName))
                    .col(timestamp_with_time_zone(Conversations::LastAt))
                    .col(timestamp_with_time_zone_null(Conversations::PersonLastAt))
                    .col(timestamp_with_time_zone(Conversations::SeenAt))
                    .foreign_key(&mut fk(
                        "fk_conversations_workspace",
                        (Conversations::Table, Conversations::WorkspaceId),
                        (Workspaces::Table, Workspaces::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_conversations_account",
                        (Conversations::Table, Conversations::AccountId),
                        (SocialAccounts::Table, SocialAccounts::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "ux_conversations_platform_id",
                    Conversations::Table,
                    &[Conversations::AccountId, Conversations::PlatformId],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "ix_conversations_workspace",
                    Conversations::Table,
                    &[Conversations::WorkspaceId, Conversations::LastAt],
                )
                .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DirectMessages::Table)
                    .col(big_pk_auto(DirectMessages::Id))
                    .col(big_integer(DirectMessages::WorkspaceId))
                    .col(big_integer(DirectMessages::ConversationId))
                    .col(string_null(DirectMessages::PlatformId))
                    .col(boolean(DirectMessages::ByAccount).default(false))
                    .col(text(DirectMessages::Body))
                    .col(timestamp_with_time_zone(DirectMessages::SentAt))
                    .col(big_integer_null(DirectMessages::SentBy))
                    .col(string(DirectMessages::State))
                    .col(text_null(DirectMessages::Error))
                    .foreign_key(&mut fk(
                        "fk_direct_messages_workspace",
                        (DirectMessages::Table, DirectMessages::WorkspaceId),
                        (Workspaces::Table, Workspaces::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_direct_messages_conversation",
                        (DirectMessages::Table, DirectMessages::ConversationId),
                        (Conversations::Table, Conversations::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_direct_messages_sender",
                        (DirectMessages::Table, DirectMessages::SentBy),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        // A message is stored once however often it is read (idempotent by the platform's id;
        // replies on their way have none yet).
        manager
            .create_index(
                index(
                    "ux_direct_messages_platform_id",
                    DirectMessages::Table,
                    &[DirectMessages::ConversationId, DirectMessages::PlatformId],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        Ok(())
    }
}

//! The AI assistant: which provider each workspace agreed to send text to (`ai_enabled_for`,
//! the disclosure's fingerprint; AI is on only while the configured provider still matches it),
//! the workspace's brand profile, each suggestion the assistant made (kept so that "Use this"
//! takes exactly what was offered, and so that a post can say where its text came from), and a
//! post's provenance: the provider and model of the suggestion its text came from, who accepted
//! it and when.
//!
//! A generation belongs to the person who asked for it and goes with them; a brand profile goes
//! with its workspace.

use super::refs::{Users, Workspaces};
use super::{fk, index};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, big_pk_auto, string, text, timestamp_with_time_zone,
    timestamp_with_time_zone_null,
};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000026_ai"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum WorkspacesAi {
    #[sea_orm(iden = "workspaces")]
    Table,
    AiEnabledFor,
}

#[derive(DeriveIden, Clone, Copy)]
enum PostsAi {
    #[sea_orm(iden = "posts")]
    Table,
    AiProvider,
    AiModel,
    AiAcceptedBy,
    AiAcceptedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum BrandProfiles {
    Table,
    Id,
    WorkspaceId,
    Name,
    About,
    Audience,
    Voice,
    WordsToUse,
    WordsToAvoid,
    Examples,
    UpdatedBy,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum AiGenerations {
    Table,
    Id,
    WorkspaceId,
    UserId,
    Kind,
    Provider,
    Model,
    PromptTokens,
    CompletionTokens,
    Output,
    AcceptedAt,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(WorkspacesAi::Table)
                    .add_column(ColumnDef::new(WorkspacesAi::AiEnabledFor).string().null())
                    .to_owned(),
            )
            .await?;
        // One column per statement: SQLite adds one at a time.
        for column in [PostsAi::AiProvider, PostsAi::AiModel] {
            manager
                .alter_table(
                    Table::alter()
                        .table(PostsAi::Table)
                        .add_column(ColumnDef::new(column).string().null())
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(PostsAi::Table)
                    .add_column(ColumnDef::new(PostsAi::AiAcceptedBy).big_integer().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(PostsAi::Table)
                    .add_column(
                        ColumnDef::new(PostsAi::AiAcceptedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BrandProfiles::Table)
                    .col(big_pk_auto(BrandProfiles::Id))
                    .col(big_integer(BrandProfiles::WorkspaceId))
                    .col(string(BrandProfiles::Name))
                    .col(text(BrandProfiles::About))
                    .col(text(BrandProfiles::Audience))
                    .col(text(BrandProfiles::Voice))
                    .col(text(BrandProfiles::WordsToUse))
                    .col(text(BrandProfiles::WordsToAvoid))
                    .col(text(BrandProfiles::Examples))
                    .col(big_integer_null(BrandProfiles::UpdatedBy))
                    .col(timestamp_with_time_zone(BrandProfiles::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_brand_profiles_workspace",
                        (BrandProfiles::Table, BrandProfiles::WorkspaceId),
                        (Workspaces::Table, Workspaces::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_brand_profiles_updated_by",
                        (BrandProfiles::Table, BrandProfiles::UpdatedBy),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "uq_brand_profiles_workspace",
                    BrandProfiles::Table,
                    &[BrandProfiles::WorkspaceId],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AiGenerations::Table)
                    .col(big_pk_auto(AiGenerations::Id))
                    .col(big_integer(AiGenerations::WorkspaceId))
                    .col(big_integer(AiGenerations::UserId))
                    .col(string(AiGenerations::Kind))
                    .col(string(AiGenerations::Provider))
                    .col(string(AiGenerations::Model))
                    .col(big_integer(AiGenerations::PromptTokens))
                    .col(big_integer(AiGenerations::CompletionTokens))
                    .col(text(AiGenerations::Output))
                    .col(timestamp_with_time_zone_null(AiGenerations::AcceptedAt))
                    .col(timestamp_with_time_zone(AiGenerations::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_ai_generations_workspace",
                        (AiGenerations::Table, AiGenerations::WorkspaceId),
                        (Workspaces::Table, Workspaces::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_ai_generations_user",
                        (AiGenerations::Table, AiGenerations::UserId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "ix_ai_generations_user",
                    AiGenerations::Table,
                    &[AiGenerations::UserId, AiGenerations::CreatedAt],
                )
                .to_owned(),
            )
            .await?;
        Ok(())
    }
}

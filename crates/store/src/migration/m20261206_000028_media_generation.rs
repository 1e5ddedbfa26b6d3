//! AI media generation and video facts: one row per request of the media library's Generate tab (what was
//! asked, of which provider and model, by whom, how far it has got and how it ended, and the
//! file it made), and on each library file the model that made it and the person who reviewed
//! an AI-made file before it could be scheduled; and a video's length, read with ffprobe.
//!
//! A generation belongs to its workspace, like the files it makes: the person who asked is a
//! reference, cleared when they delete their account.

use super::refs::{Users, Workspaces};
use super::{fk, index};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, big_pk_auto, integer, string, string_null, text,
    timestamp_with_time_zone, timestamp_with_time_zone_null,
};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000028_media_generation"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum MediaItemsAi {
    #[sea_orm(iden = "media_items")]
    Table,
    AiModel,
    ReviewedBy,
    ReviewedAt,
    DurationMs,
}

#[derive(DeriveIden, Clone, Copy)]
enum MediaGenerations {
    Table,
    Id,
    WorkspaceId,
    RequestedBy,
    Kind,
    Provider,
    Model,
    Prompt,
    Options,
    State,
    Progress,
    Outcome,
    MediaId,
    CountedIn,
    CreatedAt,
    UpdatedAt,
    FinishedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(MediaItemsAi::Table)
                    .add_column(ColumnDef::new(MediaItemsAi::AiModel).string().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(MediaItemsAi::Table)
                    .add_column(
                        ColumnDef::new(MediaItemsAi::ReviewedBy)
                            .big_integer()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(MediaItemsAi::Table)
                    .add_column(
                        ColumnDef::new(MediaItemsAi::ReviewedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        // A video's length, as ffprobe read it (none for images, or without ffmpeg).
        manager
            .alter_table(
                Table::alter()
                    .table(MediaItemsAi::Table)
                    .add_column(
                        ColumnDef::new(MediaItemsAi::DurationMs)
                            .big_integer()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MediaGenerations::Table)
                    .col(big_pk_auto(MediaGenerations::Id))
                    .col(big_integer(MediaGenerations::WorkspaceId))
                    .col(big_integer_null(MediaGenerations::RequestedBy))
                    .col(string(MediaGenerations::Kind))
                    .col(string(MediaGenerations::Provider))
                    .col(string(MediaGenerations::Model))
                    .col(text(MediaGenerations::Prompt))
                    .col(text(MediaGenerations::Options))
                    .col(string(MediaGenerations::State))
                    .col(integer(MediaGenerations::Progress))
                    .col(ColumnDef::new(MediaGenerations::Outcome).text().null())
                    .col(big_integer_null(MediaGenerations::MediaId))
                    .col(string_null(MediaGenerations::CountedIn))
                    .col(timestamp_with_time_zone(MediaGenerations::CreatedAt))
                    .col(timestamp_with_time_zone(MediaGenerations::UpdatedAt))
                    .col(timestamp_with_time_zone_null(MediaGenerations::FinishedAt))
                    .foreign_key(&mut fk(
                        "fk_media_generations_workspace",
                        (MediaGenerations::Table, MediaGenerations::WorkspaceId),
                        (Workspaces::Table, Workspaces::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_media_generations_requested_by",
                        (MediaGenerations::Table, MediaGenerations::RequestedBy),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "ix_media_generations_workspace",
                    MediaGenerations::Table,
                    &[MediaGenerations::WorkspaceId, MediaGenerations::CreatedAt],
                )
                .to_owned(),
            )
            .await?;
        // An account deletion finds the person's rows by these.
        manager
            .create_index(
                index(
                    "ix_media_generations_requested_by",
                    MediaGenerations::Table,
                    &[MediaGenerations::RequestedBy],
                )
                .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "ix_media_items_reviewed_by",
                    MediaItemsAi::Table,
                    &[MediaItemsAi::ReviewedBy],
                )
                .to_owned(),
            )
            .await?;
        Ok(())
    }
}

//! The media library and the files attached to posts.

use super::refs::{Posts, Users, Workspaces};
use super::{fk, index};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, big_pk_auto, integer, integer_null, string, string_null,
    text_null, timestamp_with_time_zone,
};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000005_media"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum MediaItems {
    Table,
    Id,
    WorkspaceId,
    UploadedBy,
    Kind,
    Mime,
    Filename,
    SizeBytes,
    Width,
    Height,
    ObjectKey,
    ThumbKey,
    Folder,
    Tags,
    Provenance,
    AiProvider,
    AiPrompt,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum PostMedia {
    Table,
    Id,
    PostId,
    MediaId,
    Position,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MediaItems::Table)
                    .col(big_pk_auto(MediaItems::Id))
                    .col(big_integer(MediaItems::WorkspaceId))
                    .col(big_integer_null(MediaItems::UploadedBy))
                    .col(string(MediaItems::Kind))
                    .col(string(MediaItems::Mime))
                    .col(string(MediaItems::Filename))
                    .col(big_integer(MediaItems::SizeBytes))
                    .col(integer_null(MediaItems::Width))
                    .col(integer_null(MediaItems::Height))
                    .col(string(MediaItems::ObjectKey).unique_key())
                    .col(string_null(MediaItems::ThumbKey))
                    .col(string(MediaItems::Folder))
                    .col(string(MediaItems::Tags))
                    .col(string(MediaItems::Provenance))
                    .col(string_null(MediaItems::AiProvider))
                    .col(text_null(MediaItems::AiPrompt))
                    .col(timestamp_with_time_zone(MediaItems::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_media_items_workspace",
                        (MediaItems::Table, MediaItems::WorkspaceId),
                        (Workspaces::Table, Workspaces::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_media_items_uploaded_by",
                        (MediaItems::Table, MediaItems::UploadedBy),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_media_items_workspace",
                MediaItems::Table,
                &[MediaItems::WorkspaceId, MediaItems::CreatedAt],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PostMedia::Table)
                    .col(big_pk_auto(PostMedia::Id))
                    .col(big_integer(PostMedia::PostId))
                    .col(big_integer(PostMedia::MediaId))
                    .col(integer(PostMedia::Position))
                    .foreign_key(&mut fk(
                        "fk_post_media_post",
                        (PostMedia::Table, PostMedia::PostId),
                        (Posts::Table, Posts::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_post_media_item",
                        (PostMedia::Table, PostMedia::MediaId),
                        (MediaItems::Table, MediaItems::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "idx_post_media_unique",
                    PostMedia::Table,
                    &[PostMedia::PostId, PostMedia::MediaId],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_post_media_item",
                PostMedia::Table,
                &[PostMedia::MediaId],
            ))
            .await?;
        Ok(())
    }
}

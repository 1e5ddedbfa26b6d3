//! Client preview links: a read-only page of one post, or of the posts scheduled in a range of
//! days, reachable without an account by an unguessable link that expires and that its
//! creator can revoke.
//!
//! - `preview_links`: the link's token as a SHA-256 hash (the link itself is shown once),
//!   what it shows (`post_id`, or `from_day`..`to_day` in `time_zone`), until when, whether it was revoked,
//!   and whether the client may approve or comment.
//! - `preview_feedback`: what a client said through a link: their name as they typed it, an
//!   approval or a comment, on which post, when.

use super::refs::{Posts, Users, Workspaces};
use super::{fk, index};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, big_pk_auto, boolean, date_null, string, string_uniq, text_null,
    timestamp_with_time_zone, timestamp_with_time_zone_null,
};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261212_000034_preview_links"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum PreviewLinks {
    Table,
    Id,
    WorkspaceId,
    CreatedBy,
    TokenHash,
    PostId,
    FromDay,
    ToDay,
    TimeZone,
    ExpiresAt,
    RevokedAt,
    ClientMayRespond,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum PreviewFeedback {
    Table,
    Id,
    WorkspaceId,
    LinkId,
    PostId,
    Name,
    Kind,
    Comment,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PreviewLinks::Table)
                    .col(big_pk_auto(PreviewLinks::Id))
                    .col(big_integer(PreviewLinks::WorkspaceId))
                    .col(big_integer_null(PreviewLinks::CreatedBy))
                    .col(string_uniq(PreviewLinks::TokenHash))
                    .col(big_integer_null(PreviewLinks::PostId))
                    .col(date_null(PreviewLinks::FromDay))
                    .col(date_null(PreviewLinks::ToDay))
                    .col(string(PreviewLinks::TimeZone).default("UTC"))
                    .col(timestamp_with_time_zone(PreviewLinks::ExpiresAt))
                    .col(timestamp_with_time_zone_null(PreviewLinks::RevokedAt))
                    .col(boolean(PreviewLinks::ClientMayRespond).default(false))
                    .col(timestamp_with_time_zone(PreviewLinks::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_preview_links_workspace",
                        (PreviewLinks::Table, PreviewLinks::WorkspaceId),
                        (Workspaces::Table, Workspaces::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_preview_links_creator",
                        (PreviewLinks::Table, PreviewLinks::CreatedBy),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .foreign_key(&mut fk(
                        "fk_preview_links_post",
                        (PreviewLinks::Table, PreviewLinks::PostId),
                        (Posts::Table, Posts::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "ix_preview_links_workspace",
                    PreviewLinks::Table,
                    &[PreviewLinks::WorkspaceId, PreviewLinks::Id],
                )
                .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PreviewFeedback::Table)
                    .col(big_pk_auto(PreviewFeedback::Id))
                    .col(big_integer(PreviewFeedback::WorkspaceId))
                    .col(big_integer(PreviewFeedback::LinkId))
                    .col(big_integer(PreviewFeedback::PostId))
                    .col(string(PreviewFeedback::Name))
                    .col(string(PreviewFeedback::Kind))
                    .col(text_null(PreviewFeedback::Comment))
                    .col(timestamp_with_time_zone(PreviewFeedback::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_preview_feedback_workspace",
                        (PreviewFeedback::Table, PreviewFeedback::WorkspaceId),
                        (Workspaces::Table, Workspaces::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_preview_feedback_link",
                        (PreviewFeedback::Table, PreviewFeedback::LinkId),
                        (PreviewLinks::Table, PreviewLinks::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_preview_feedback_post",
                        (PreviewFeedback::Table, PreviewFeedback::PostId),
                        (Posts::Table, Posts::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "ix_preview_feedback_post",
                    PreviewFeedback::Table,
                    &[PreviewFeedback::PostId, PreviewFeedback::Id],
                )
                .to_owned(),
            )
            .await?;
        Ok(())
    }
}

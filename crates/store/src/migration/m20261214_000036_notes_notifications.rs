//! Internal notes on posts and in-app notifications.
//!
//! - `post_notes`: the team's discussion of a post, never published: who wrote each note (their
//!   id is cleared when their account is deleted; the workspace keeps the note), its text and
//!   when. A deleted note is deleted, not hidden.
//! - `notifications`: what a person is told inside the app in one workspace (mentioned in a
//!   note, a post waits for their approval, a decision on their post): what kind, who caused
//!   it (cleared with that person's account), a short summary without names or secrets, the
//!   path it links to and the object it is about, when it was made and when it was read. Unread
//!   ones are counted on every workspace page through `ix_notifications_unread`.

use super::refs::{Posts, Users, Workspaces};
use super::{fk, index};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, big_pk_auto, string, text, timestamp_with_time_zone,
    timestamp_with_time_zone_null,
};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261214_000036_notes_notifications"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum PostNotes {
    Table,
    Id,
    WorkspaceId,
    PostId,
    AuthorId,
    Body,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Notifications {
    Table,
    Id,
    UserId,
    WorkspaceId,
    ActorId,
    Kind,
    Summary,
    Link,
    ObjectType,
    ObjectId,
    CreatedAt,
    ReadAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PostNotes::Table)
                    .col(big_pk_auto(PostNotes::Id))
                    .col(big_integer(PostNotes::WorkspaceId))
                    .col(big_integer(PostNotes::PostId))
                    .col(big_integer_null(PostNotes::AuthorId))
                    .col(text(PostNotes::Body))
                    .col(timestamp_with_time_zone(PostNotes::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_post_notes_workspace",
                        (PostNotes::Table, PostNotes::WorkspaceId),
                        (Workspaces::Table, Workspaces::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_post_notes_post",
                        (PostNotes::Table, PostNotes::PostId),
                        (Posts::Table, Posts::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_post_notes_author",
                        (PostNotes::Table, PostNotes::AuthorId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "ix_post_notes_post",
                    PostNotes::Table,
                    &[PostNotes::PostId, PostNotes::Id],
                )
                .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "ix_post_notes_author",
                    PostNotes::Table,
                    &[PostNotes::AuthorId],
                )
                .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Notifications::Table)
                    .col(big_pk_auto(Notifications::Id))
                    .col(big_integer(Notifications::UserId))
                    .col(big_integer(Notifications::WorkspaceId))
                    .col(big_integer_null(Notifications::ActorId))
                    .col(string(Notifications::Kind))
                    .col(text(Notifications::Summary))
                    .col(string(Notifications::Link))
                    .col(string(Notifications::ObjectType))
                    .col(big_integer_null(Notifications::ObjectId))
                    .col(timestamp_with_time_zone(Notifications::CreatedAt))
                    .col(timestamp_with_time_zone_null(Notifications::ReadAt))
                    .foreign_key(&mut fk(
                        "fk_notifications_user",
                        (Notifications::Table, Notifications::UserId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_notifications_workspace",
                        (Notifications::Table, Notifications::WorkspaceId),
                        (Workspaces::Table, Workspaces::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_notifications_actor",
                        (Notifications::Table, Notifications::ActorId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        // A person's list in one workspace, newest first.
        manager
            .create_index(
                index(
                    "ix_notifications_list",
                    Notifications::Table,
                    &[
                        Notifications::UserId,
                        Notifications::WorkspaceId,
                        Notifications::Id,
                    ],
                )
                .to_owned(),
            )
            .await?;
        // The unread count on every workspace page: `read_at IS NULL` within the same prefix.
        manager
            .create_index(
                index(
                    "ix_notifications_unread",
                    Notifications::Table,
                    &[
                        Notifications::UserId,
                        Notifications::WorkspaceId,
                        Notifications::ReadAt,
                    ],
                )
                .to_owned(),
            )
            .await?;
        // Withdrawing the notifications about a deleted post or note.
        manager
            .create_index(
                index(
                    "ix_notifications_object",
                    Notifications::Table,
                    &[Notifications::ObjectType, Notifications::ObjectId],
                )
                .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "ix_notifications_actor",
                    Notifications::Table,
                    &[Notifications::ActorId],
                )
                .to_owned(),
            )
            .await?;
        Ok(())
    }
}

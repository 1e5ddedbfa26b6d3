//! The comments workspace: the comments people leave under a workspace's published posts, read
//! back from the platforms, and the replies the team writes.
//!
//! - `workspaces.comments_on_at`: when the workspace turned the comments workspace on (none:
//!   off); `comments_kept_days`: how long a conversation is kept after it went quiet.
//! - `post_targets.comments_read_at`, `comments_error`: the last read of a published post's
//!   comments, and why it could not be read.
//! - `comments`: one comment or reply at the platform, by its id there (unique per account),
//!   with its author's name as the platform shows it, its text, and the team's handling of it
//!   (labels, the member it is assigned to, open or done).
//! - `comment_replies`: a reply a member wrote (or took from an AI suggestion and edited),
//!   from draft to sent, with the platform's reason when it refused.
//! - `comment_rules`: a workspace's keyword rules that label comments (question, complaint,
//!   order, or its own).

use super::refs::{SocialAccounts, Users, Workspaces};
use super::{fk, index};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, big_pk_auto, boolean, integer, string, string_null, text,
    text_null, timestamp_with_time_zone, timestamp_with_time_zone_null,
};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261213_000035_comments"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum WorkspacesCols {
    #[sea_orm(iden = "workspaces")]
    Table,
    CommentsOnAt,
    CommentsKeptDays,
}

#[derive(DeriveIden, Clone, Copy)]
enum PostTargets {
    Table,
    Id,
    CommentsReadAt,
    CommentsError,
}

#[derive(DeriveIden, Clone, Copy)]
enum Comments {
    Table,
    Id,
    WorkspaceId,
    AccountId,
    TargetId,
    PlatformId,
    ParentPlatformId,
    AuthorName,
    AuthorPlatformId,
    Body,
    ByAccount,
    Hidden,
    WrittenAt,
    SeenAt,
    GoneAt,
    Labels,
    AssignedTo,
    Done,
    RepliedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum CommentReplies {
    Table,
    Id,
    WorkspaceId,
    CommentId,
    AuthorId,
    Body,
    State,
    Suggested,
    PlatformId,
    Error,
    CreatedAt,
    SentAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum CommentRules {
    Table,
    Id,
    WorkspaceId,
    Label,
    Keywords,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one at a time.
        let columns = [
            timestamp_with_time_zone_null(WorkspacesCols::CommentsOnAt),
            integer(WorkspacesCols::CommentsKeptDays)
                .default(90)
                .to_owned(),
        ];
        for mut column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(WorkspacesCols::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        let columns = [
            timestamp_with_time_zone_null(PostTargets::CommentsReadAt),
            string_null(PostTargets::CommentsError),
        ];
        for mut column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(PostTargets::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(Comments::Table)
                    .col(big_pk_auto(Comments::Id))
                    .col(big_integer(Comments::WorkspaceId))
                    .col(big_integer(Comments::AccountId))
                    .col(big_integer(Comments::TargetId))
                    .col(string(Comments::PlatformId))
                    .col(string_null(Comments::ParentPlatformId))
                    .col(string(Comments::AuthorName))
                    .col(string_null(Comments::AuthorPlatformId))
                    .col(text(Comments::Body))
                    .col(boolean(Comments::ByAccount).default(false))
                    .col(boolean(Comments::Hidden).default(false))
                    .col(timestamp_with_time_zone(Comments::WrittenAt))
                    .col(timestamp_with_time_zone(Comments::SeenAt))
                    .col(timestamp_with_time_zone_null(Comments::GoneAt))
                    .col(string(Comments::Labels).default(""))
                    .col(big_integer_null(Comments::AssignedTo))
                    .col(boolean(Comments::Done).default(false))
                    .col(timestamp_with_time_zone_null(Comments::RepliedAt))
                    .foreign_key(&mut fk(
                        "fk_comments_workspace",
                        (Comments::Table, Comments::WorkspaceId),
                        (Workspaces::Table, Workspaces::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_comments_account",
                        (Comments::Table, Comments::AccountId),
                        (SocialAccounts::Table, SocialAccounts::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_comments_target",
                        (Comments::Table, Comments::TargetId),
                        (PostTargets::Table, PostTargets::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_comments_assignee",
                        (Comments::Table, Comments::AssignedTo),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        // A comment is stored once however often it is read (idempotent by the platform's id).
        manager
            .create_index(
                index(
                    "ux_comments_platform_id",
                    Comments::Table,
                    &[Comments::AccountId, Comments::PlatformId],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "ix_comments_workspace",
                    Comments::Table,
                    &[Comments::WorkspaceId, Comments::WrittenAt],
                )
                .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "ix_comments_target",
                    Comments::Table,
                    &[Comments::TargetId, Comments::WrittenAt],
                )
                .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CommentReplies::Table)
                    .col(big_pk_auto(CommentReplies::Id))
                    .col(big_integer(CommentReplies::WorkspaceId))
                    .col(big_integer(CommentReplies::CommentId))
                    .col(big_integer_null(CommentReplies::AuthorId))
                    .col(text(CommentReplies::Body))
                    .col(string(CommentReplies::State))
                    .col(boolean(CommentReplies::Suggested).default(false))
                    .col(string_null(CommentReplies::PlatformId))
                    .col(text_null(CommentReplies::Error))
                    .col(timestamp_with_time_zone(CommentReplies::CreatedAt))
                    .col(timestamp_with_time_zone_null(CommentReplies::SentAt))
                    .foreign_key(&mut fk(
                        "fk_comment_replies_workspace",
                        (CommentReplies::Table, CommentReplies::WorkspaceId),
                        (Workspaces::Table, Workspaces::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_comment_replies_comment",
                        (CommentReplies::Table, CommentReplies::CommentId),
                        (Comments::Table, Comments::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_comment_replies_author",
                        (CommentReplies::Table, CommentReplies::AuthorId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "ix_comment_replies_comment",
                    CommentReplies::Table,
                    &[CommentReplies::CommentId, CommentReplies::Id],
                )
                .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CommentRules::Table)
                    .col(big_pk_auto(CommentRules::Id))
                    .col(big_integer(CommentRules::WorkspaceId))
                    .col(string(CommentRules::Label))
                    .col(text(CommentRules::Keywords))
                    .col(timestamp_with_time_zone(CommentRules::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_comment_rules_workspace",
                        (CommentRules::Table, CommentRules::WorkspaceId),
                        (Workspaces::Table, Workspaces::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "ix_comment_rules_workspace",
                    CommentRules::Table,
                    &[CommentRules::WorkspaceId, CommentRules::Id],
                )
                .to_owned(),
            )
            .await?;
        Ok(())
    }
}

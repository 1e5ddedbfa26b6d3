//! Approvals before publishing.
//!
//! - `workspaces`: `approvals_required` (posts wait for approval before they are scheduled),
//!   `approvers` (`any_member`, `owners_and_admins` or `named`) and `approve_own_posts`
//!   (whether an approver may approve a post they wrote).
//! - `memberships.approver`: named as an approver (counts when `approvers` is `named`).
//! - `posts`: the last review (`review_note`, `reviewed_by`, `reviewed_at`), shown to the
//!   author, who approved the post as it will go out (`approved_by`, `approved_at`), and who
//!   last sent it for approval (`submitted_by`: they may not approve it either).
//! - `post_reviews`: every decision on a post, with the revision the reviewer saw.

use super::refs::{Posts, Users, Workspaces};
use super::{fk, index};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, big_pk_auto, boolean, integer, string, text_null,
    timestamp_with_time_zone, timestamp_with_time_zone_null,
};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261211_000033_approvals"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum WorkspaceCols {
    #[sea_orm(iden = "workspaces")]
    Table,
    ApprovalsRequired,
    Approvers,
    ApproveOwnPosts,
}

#[derive(DeriveIden, Clone, Copy)]
enum Memberships {
    Table,
    Approver,
}

#[derive(DeriveIden, Clone, Copy)]
enum PostCols {
    #[sea_orm(iden = "posts")]
    Table,
    ReviewNote,
    ReviewedBy,
    ReviewedAt,
    ApprovedBy,
    ApprovedAt,
    SubmittedBy,
}

#[derive(DeriveIden, Clone, Copy)]
enum PostReviews {
    Table,
    Id,
    WorkspaceId,
    PostId,
    Revision,
    ReviewerId,
    Decision,
    Note,
    CreatedAt,
}

async fn add(
    manager: &SchemaManager<'_>,
    table: impl IntoIden + Copy,
    mut column: ColumnDef,
) -> Result<(), DbErr> {
    manager
        .alter_table(
            Table::alter()
                .table(table)
                .add_column(&mut column)
                .to_owned(),
        )
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one at a time.
        let t = WorkspaceCols::Table;
        add(
            manager,
            t,
            boolean(WorkspaceCols::ApprovalsRequired)
                .default(false)
                .take(),
        )
        .await?;
        add(
            manager,
            t,
            string(WorkspaceCols::Approvers)
                .default("any_member")
                .take(),
        )
        .await?;
        add(
            manager,
            t,
            boolean(WorkspaceCols::ApproveOwnPosts)
                .default(false)
                .take(),
        )
        .await?;
        add(
            manager,
            Memberships::Table,
            boolean(Memberships::Approver).default(false).take(),
        )
        .await?;
        let t = PostCols::Table;
        add(manager, t, text_null(PostCols::ReviewNote)).await?;
        add(manager, t, big_integer_null(PostCols::ReviewedBy)).await?;
        add(
            manager,
            t,
            timestamp_with_time_zone_null(PostCols::ReviewedAt),
        )
        .await?;
        add(manager, t, big_integer_null(PostCols::ApprovedBy)).await?;
        add(
            manager,
            t,
            timestamp_with_time_zone_null(PostCols::ApprovedAt),
        )
        .await?;
        add(manager, t, big_integer_null(PostCols::SubmittedBy)).await?;
        manager
            .create_table(
                Table::create()
                    .table(PostReviews::Table)
                    .col(big_pk_auto(PostReviews::Id))
                    .col(big_integer(PostReviews::WorkspaceId))
                    .col(big_integer(PostReviews::PostId))
                    .col(integer(PostReviews::Revision))
                    .col(big_integer_null(PostReviews::ReviewerId))
                    .col(string(PostReviews::Decision))
                    .col(text_null(PostReviews::Note))
                    .col(timestamp_with_time_zone(PostReviews::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_post_reviews_workspace",
                        (PostReviews::Table, PostReviews::WorkspaceId),
                        (Workspaces::Table, Workspaces::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_post_reviews_post",
                        (PostReviews::Table, PostReviews::PostId),
                        (Posts::Table, Posts::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_post_reviews_reviewer",
                        (PostReviews::Table, PostReviews::ReviewerId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "ix_post_reviews_post",
                    PostReviews::Table,
                    &[PostReviews::PostId, PostReviews::Id],
                )
                .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "ix_post_reviews_reviewer",
                    PostReviews::Table,
                    &[PostReviews::ReviewerId],
                )
                .to_owned(),
            )
            .await?;
        Ok(())
    }
}

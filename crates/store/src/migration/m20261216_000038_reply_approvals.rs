//! Replies that wait for an approver: a workspace may have the replies its members write to
//! comments approved before they are sent (`workspaces.replies_need_approval`), by the same
//! approvers as its posts; the approver is kept on the reply (`comment_replies.reviewed_by`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer_null, boolean};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261216_000038_reply_approvals"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum WorkspacesCols {
    #[sea_orm(iden = "workspaces")]
    Table,
    RepliesNeedApproval,
}

#[derive(DeriveIden, Clone, Copy)]
enum CommentReplies {
    Table,
    ReviewedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(WorkspacesCols::Table)
                    .add_column(boolean(WorkspacesCols::RepliesNeedApproval).default(false))
                    .to_owned(),
            )
            .await?;
        // A plain column, as the posts' reviewers are: a deletion clears it (the data map).
        manager
            .alter_table(
                Table::alter()
                    .table(CommentReplies::Table)
                    .add_column(big_integer_null(CommentReplies::ReviewedBy))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

//! The indexes the posts list reads its pages from: each section of the list in its own order,
//! per state, so that a page is read from the index whatever the size of the workspace (see
//! `services::posts::list`). No table changes.
//!
//! - `idx_posts_list_due`: by time due, soonest first, the newer post first on a tie (waiting
//!   for approval, scheduled, publishing);
//! - `idx_posts_list_edited`: by last change (drafts, and posts needing attention);
//! - `idx_posts_list_published`: by when published, else when due (published posts); an
//!   index on that expression, written exactly as the list's query writes it.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261217_000039_post_list_indexes"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Posts {
    Table,
    Id,
    WorkspaceId,
    State,
    ScheduledAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_posts_list_due")
                    .table(Posts::Table)
                    .col(Posts::WorkspaceId)
                    .col(Posts::State)
                    .col(Posts::ScheduledAt)
                    .col((Posts::Id, IndexOrder::Desc))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_posts_list_edited")
                    .table(Posts::Table)
                    .col(Posts::WorkspaceId)
                    .col(Posts::State)
                    .col(Posts::UpdatedAt)
                    .col(Posts::Id)
                    .to_owned(),
            )
            .await?;
        // The same statement on both backends: an expression in an index's columns.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX idx_posts_list_published ON posts (workspace_id, state, \
                 COALESCE(published_at, scheduled_at), id)",
            )
            .await?;
        Ok(())
    }
}

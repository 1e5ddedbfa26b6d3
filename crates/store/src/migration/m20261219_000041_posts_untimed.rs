//! `ix_posts_untimed`: the posts without a time due, by workspace, state and id (a partial
//! index). The posts list reads the posts of a section that have no time (a scheduled or
//! published post without one: few or none) newest first; without it, PostgreSQL's planner
//! walked the whole table backwards by id to find that there were none (`services::posts::list`).
//! No table changes.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261219_000041_posts_untimed"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The same words on both databases: a partial index.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX ix_posts_untimed ON posts (workspace_id, state, id) WHERE \
                 scheduled_at IS NULL",
            )
            .await?;
        Ok(())
    }
}

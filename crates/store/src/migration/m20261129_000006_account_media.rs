//! Files chosen for one account of a post (instead of the post's files): `post_media` rows with
//! an `account_id`. Rows without one are the post's own files.
//!
//! No foreign key: SQLite cannot add one to an existing table. The rows go with their post
//! (whose key cascades), and the code ignores rows for accounts the post no longer targets.

use super::index;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::big_integer_null;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000006_account_media"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum PostMedia {
    Table,
    PostId,
    AccountId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(PostMedia::Table)
                    .add_column(big_integer_null(PostMedia::AccountId))
                    .to_owned(),
            )
            .await?;
        // The same file may now appear for the post and for one of its accounts.
        manager
            .drop_index(
                Index::drop()
                    .name("idx_post_media_unique")
                    .table(PostMedia::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_post_media_post_account",
                PostMedia::Table,
                &[PostMedia::PostId, PostMedia::AccountId],
            ))
            .await?;
        Ok(())
    }
}

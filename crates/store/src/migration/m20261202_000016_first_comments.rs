//! The outcome of a post's first comment, per target: whether it is waiting, being posted,
//! posted (with the comment's id at the platform), failed (with the reason, for a person to
//! retry) or unknown after an interrupted call. A first comment never changes the target's
//! own state: the post is published whatever becomes of its comment.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::string_null;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000016_first_comments"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum PostTargets {
    Table,
    CommentState,
    CommentId,
    CommentError,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        for column in [
            PostTargets::CommentState,
            PostTargets::CommentId,
            PostTargets::CommentError,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(PostTargets::Table)
                        .add_column(string_null(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

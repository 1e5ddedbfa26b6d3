//! AI videos: a generation made at a provider as a task records the task's id (so that a
//! worker that takes the job over after a crash looks at the same task instead of paying for a
//! second one) and when it was sent (the time limit counts from then).

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000029_video_tasks"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum MediaGenerations {
    Table,
    ProviderTask,
    SentAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(MediaGenerations::Table)
                    .add_column(
                        ColumnDef::new(MediaGenerations::ProviderTask)
                            .string()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(MediaGenerations::Table)
                    .add_column(
                        ColumnDef::new(MediaGenerations::SentAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

//! The request a job came from: a random id (no person, address or text in it) that the web
//! request which enqueued the job logged on its lines, so the job's log lines carry the same id.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000021_job_request_id"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Jobs {
    Table,
    RequestId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Jobs::Table)
                    .add_column(ColumnDef::new(Jobs::RequestId).string().null())
                    .to_owned(),
            )
            .await
    }
}

//! Why an account's own figures could not be read the last time (`social_accounts.metrics_error`,
//! and when: `metrics_error_at`), so that the analytics page says it instead of showing a gap as
//! if nothing had happened. Cleared by the next read that succeeds.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{string_null, timestamp_with_time_zone_null};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261210_000032_account_read_errors"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum SocialAccounts {
    Table,
    MetricsError,
    MetricsErrorAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one at a time.
        let columns = [
            string_null(SocialAccounts::MetricsError),
            timestamp_with_time_zone_null(SocialAccounts::MetricsErrorAt),
        ];
        for mut column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(SocialAccounts::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

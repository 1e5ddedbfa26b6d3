//! What the analytics page reads on every look, made cheap:
//!
//! - `workspaces.figures_version`: a count raised in the same transaction as anything that
//!   changes what the analytics page of the workspace shows (figures read, X reads counted, a
//!   post removed, a campaign saved or deleted). The web processes keep the computed figures of a view under the version
//!   they were computed at, so a changed version is a new computation in every process, at once.
//! - `social_accounts.metrics_read_at`: when the account's own figures were last read (was the
//!   latest `read_at` of its figures, found by reading them all), filled from them here.
//! - `ix_post_targets_unread`: the targets whose last read gave nothing, by account (a partial
//!   index: the page counts them without reading every published target).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, timestamp_with_time_zone_null};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261218_000040_figures_version"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Workspaces {
    Table,
    FiguresVersion,
}

#[derive(DeriveIden, Clone, Copy)]
enum SocialAccounts {
    Table,
    MetricsReadAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Workspaces::Table)
                    .add_column(big_integer(Workspaces::FiguresVersion).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(SocialAccounts::Table)
                    .add_column(timestamp_with_time_zone_null(SocialAccounts::MetricsReadAt))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(
            "UPDATE social_accounts SET metrics_read_at = (SELECT MAX(m.read_at) FROM \
             account_metrics m WHERE m.account_id = social_accounts.id)",
        )
        .await?;
        // The same words on both databases: a partial index.
        db.execute_unprepared(
            "CREATE INDEX ix_post_targets_unread ON post_targets (account_id) WHERE \
             metrics_error IS NOT NULL",
        )
        .await?;
        Ok(())
    }
}

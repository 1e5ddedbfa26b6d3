//! Analytics: the figures read back from the platforms, kept as a time series.
//!
//! - `account_metrics`: an account's values, one row per (metric, span, day): a day's value
//!   (`span = 'day'`, the day it counts) or a lifetime total (`span = 'lifetime'`, the day it
//!   was read; read again the same day, the row is overwritten). The two spans are never added.
//! - `post_metrics`: a published post's lifetime totals at one target, one row per (metric,
//!   day read): the latest reading of each day, so the history shows how a post grew.
//! - `metric_answers`: the platforms' answers as they came (kept 30 days), so a figure can be
//!   traced to what the platform said.
//! - `post_targets.metrics_read_at`: when a published target's figures were last read (the
//!   age-decayed plan counts from it) and `metrics_error` why its last read gave nothing (a post
//!   gone at the platform is not asked again); `workspaces.analytics_on_at`: when a workspace turned
//!   analytics on (none: off, nothing is read).
//!
//! Everything belongs to the workspace (deleted with it) and to the account it was read for.

use super::refs::{SocialAccounts, Workspaces};
use super::{fk, index};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_pk_auto, date, string, text, timestamp_with_time_zone,
};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261208_000030_analytics"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum AccountMetrics {
    Table,
    Id,
    WorkspaceId,
    AccountId,
    Metric,
    Span,
    Day,
    Value,
    ReadAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum PostMetrics {
    Table,
    Id,
    WorkspaceId,
    AccountId,
    TargetId,
    Metric,
    Day,
    Value,
    ReadAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum MetricAnswers {
    Table,
    Id,
    WorkspaceId,
    AccountId,
    Call,
    Body,
    ReadAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum PostTargets {
    Table,
    Id,
    MetricsReadAt,
    MetricsError,
}

#[derive(DeriveIden, Clone, Copy)]
enum WorkspacesAnalytics {
    #[sea_orm(iden = "workspaces")]
    Table,
    AnalyticsOnAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AccountMetrics::Table)
                    .col(big_pk_auto(AccountMetrics::Id))
                    .col(big_integer(AccountMetrics::WorkspaceId))
                    .col(big_integer(AccountMetrics::AccountId))
                    .col(string(AccountMetrics::Metric))
                    .col(string(AccountMetrics::Span))
                    .col(date(AccountMetrics::Day))
                    .col(big_integer(AccountMetrics::Value))
                    .col(timestamp_with_time_zone(AccountMetrics::ReadAt))
                    .foreign_key(&mut fk(
                        "fk_account_metrics_workspace",
                        (AccountMetrics::Table, AccountMetrics::WorkspaceId),
                        (Workspaces::Table, Workspaces::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_account_metrics_account",
                        (AccountMetrics::Table, AccountMetrics::AccountId),
                        (SocialAccounts::Table, SocialAccounts::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "ux_account_metrics_reading",
                    AccountMetrics::Table,
                    &[
                        AccountMetrics::AccountId,
                        AccountMetrics::Metric,
                        AccountMetrics::Span,
                        AccountMetrics::Day,
                    ],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "ix_account_metrics_workspace_day",
                    AccountMetrics::Table,
                    &[
                        AccountMetrics::WorkspaceId,
                        AccountMetrics::Day,
                        AccountMetrics::Id,
                    ],
                )
                .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PostMetrics::Table)
                    .col(big_pk_auto(PostMetrics::Id))
                    .col(big_integer(PostMetrics::WorkspaceId))
                    .col(big_integer(PostMetrics::AccountId))
                    .col(big_integer(PostMetrics::TargetId))
                    .col(string(PostMetrics::Metric))
                    .col(date(PostMetrics::Day))
                    .col(big_integer(PostMetrics::Value))
                    .col(timestamp_with_time_zone(PostMetrics::ReadAt))
                    .foreign_key(&mut fk(
                        "fk_post_metrics_workspace",
                        (PostMetrics::Table, PostMetrics::WorkspaceId),
                        (Workspaces::Table, Workspaces::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_post_metrics_account",
                        (PostMetrics::Table, PostMetrics::AccountId),
                        (SocialAccounts::Table, SocialAccounts::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_post_metrics_target",
                        (PostMetrics::Table, PostMetrics::TargetId),
                        (PostTargets::Table, PostTargets::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "ux_post_metrics_reading",
                    PostMetrics::Table,
                    &[PostMetrics::TargetId, PostMetrics::Metric, PostMetrics::Day],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "ix_post_metrics_workspace_day",
                    PostMetrics::Table,
                    &[PostMetrics::WorkspaceId, PostMetrics::Day, PostMetrics::Id],
                )
                .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MetricAnswers::Table)
                    .col(big_pk_auto(MetricAnswers::Id))
                    .col(big_integer(MetricAnswers::WorkspaceId))
                    .col(big_integer(MetricAnswers::AccountId))
                    .col(string(MetricAnswers::Call))
                    .col(text(MetricAnswers::Body))
                    .col(timestamp_with_time_zone(MetricAnswers::ReadAt))
                    .foreign_key(&mut fk(
                        "fk_metric_answers_workspace",
                        (MetricAnswers::Table, MetricAnswers::WorkspaceId),
                        (Workspaces::Table, Workspaces::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_metric_answers_account",
                        (MetricAnswers::Table, MetricAnswers::AccountId),
                        (SocialAccounts::Table, SocialAccounts::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "ix_metric_answers_account_read",
                    MetricAnswers::Table,
                    &[MetricAnswers::AccountId, MetricAnswers::ReadAt],
                )
                .to_owned(),
            )
            .await?;
        // One column per statement: SQLite adds one at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(PostTargets::Table)
                    .add_column(
                        ColumnDef::new(PostTargets::MetricsReadAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(PostTargets::Table)
                    .add_column(ColumnDef::new(PostTargets::MetricsError).text().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(WorkspacesAnalytics::Table)
                    .add_column(
                        ColumnDef::new(WorkspacesAnalytics::AnalyticsOnAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

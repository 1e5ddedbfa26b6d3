//! Plans: the plan each workspace is on (`free` until an operator or a payment says otherwise;
//! with no `[billing]` section nothing reads it and every workspace has everything), the month a
//! post was counted against its workspace's monthly post limit, and the monthly counters.
//!
//! A counter row survives the post it counted: deleting a post does not give the count back.
//! The counters go with their workspace (cascade, and the data map's deletion).

use super::refs::Workspaces;
use super::{fk, index};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, big_pk_auto, string, timestamp_with_time_zone};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000022_plans"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum WorkspacesPlan {
    #[sea_orm(iden = "workspaces")]
    Table,
    Plan,
}

#[derive(DeriveIden, Clone, Copy)]
enum PostsCounted {
    #[sea_orm(iden = "posts")]
    Table,
    CountedIn,
}

#[derive(DeriveIden, Clone, Copy)]
enum PlanUsage {
    Table,
    Id,
    WorkspaceId,
    Month,
    Counter,
    Count,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(WorkspacesPlan::Table)
                    .add_column(
                        ColumnDef::new(WorkspacesPlan::Plan)
                            .string()
                            .not_null()
                            .default("free"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(PostsCounted::Table)
                    .add_column(ColumnDef::new(PostsCounted::CountedIn).string().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PlanUsage::Table)
                    .col(big_pk_auto(PlanUsage::Id))
                    .col(big_integer(PlanUsage::WorkspaceId))
                    .col(string(PlanUsage::Month))
                    .col(string(PlanUsage::Counter))
                    .col(big_integer(PlanUsage::Count))
                    .col(timestamp_with_time_zone(PlanUsage::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_plan_usage_workspace",
                        (PlanUsage::Table, PlanUsage::WorkspaceId),
                        (Workspaces::Table, Workspaces::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "uq_plan_usage_workspace_month_counter",
                    PlanUsage::Table,
                    &[PlanUsage::WorkspaceId, PlanUsage::Month, PlanUsage::Counter],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        Ok(())
    }
}

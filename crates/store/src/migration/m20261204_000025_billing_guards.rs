//! Two facts billing needs to be fair: when a subscription last moved to a bigger plan (a move
//! back down waits for the first payment at the bigger plan's price, since PayPal does not
//! prorate), and who set a workspace's plan (`operator` or `billing`: billing changes only
//! plans it set, or that a live subscription pays for).

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000025_billing_guards"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Subscriptions {
    Table,
    UpgradedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Workspaces {
    Table,
    PlanSource,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Subscriptions::Table)
                    .add_column(
                        ColumnDef::new(Subscriptions::UpgradedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Workspaces::Table)
                    .add_column(
                        ColumnDef::new(Workspaces::PlanSource)
                            .string()
                            .not_null()
                            .default("operator"),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

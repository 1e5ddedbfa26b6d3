//! What is kept after an account is deleted, detached from the person.
//!
//! `legal_records` keeps what tax law asks of an invoice (its number, date, amount, currency
//! and country) for the configured legal period, with no name, address or account id: billing
//! writes one per invoice, and a daily job deletes those past `keep_until`.
//!
//! `usage_daily` holds anonymized aggregates: per UTC day, feature and platform (empty when
//! none), a count. A daily job adds the days that have ended; nothing in it names a person or a
//! workspace, so deleting an account leaves it as it is.

use super::index;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_pk_auto, date, string, string_len, timestamp_with_time_zone,
};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000011_retention"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum LegalRecords {
    Table,
    Id,
    InvoiceNumber,
    IssueDate,
    AmountMinor,
    Currency,
    Country,
    KeepUntil,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum UsageDaily {
    Table,
    Id,
    Day,
    Feature,
    Platform,
    Count,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LegalRecords::Table)
                    .col(big_pk_auto(LegalRecords::Id))
                    .col(string_len(LegalRecords::InvoiceNumber, 64).unique_key())
                    .col(date(LegalRecords::IssueDate))
                    .col(big_integer(LegalRecords::AmountMinor))
                    .col(string_len(LegalRecords::Currency, 3))
                    .col(string_len(LegalRecords::Country, 2))
                    .col(date(LegalRecords::KeepUntil))
                    .col(timestamp_with_time_zone(LegalRecords::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_legal_records_keep_until",
                LegalRecords::Table,
                &[LegalRecords::KeepUntil],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(UsageDaily::Table)
                    .col(big_pk_auto(UsageDaily::Id))
                    .col(date(UsageDaily::Day))
                    .col(string(UsageDaily::Feature))
                    .col(string(UsageDaily::Platform))
                    .col(big_integer(UsageDaily::Count))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "uq_usage_daily_day_feature_platform",
                    UsageDaily::Table,
                    &[UsageDaily::Day, UsageDaily::Feature, UsageDaily::Platform],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        Ok(())
    }
}

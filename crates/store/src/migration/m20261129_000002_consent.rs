//! The consent ledger and the head of its hash chain.

use super::refs::Users;
use super::{fk, index};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, big_pk_auto, integer, string, text, timestamp_with_time_zone,
};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000002_consent"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum ConsentLedger {
    Table,
    Id,
    ConsentId,
    UserId,
    Event,
    Categories,
    Policies,
    BannerVersion,
    Source,
    Locale,
    IpHash,
    Browser,
    CreatedAt,
    PrevHash,
    RowHash,
}

#[derive(DeriveIden, Clone, Copy)]
enum ConsentChain {
    Table,
    Id,
    HeadHash,
    Length,
}

/// The hash the chain starts from.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ConsentLedger::Table)
                    .col(big_pk_auto(ConsentLedger::Id))
                    .col(string(ConsentLedger::ConsentId))
                    .col(big_integer_null(ConsentLedger::UserId))
                    .col(string(ConsentLedger::Event))
                    .col(string(ConsentLedger::Categories))
                    .col(text(ConsentLedger::Policies))
                    .col(string(ConsentLedger::BannerVersion))
                    .col(string(ConsentLedger::Source))
                    .col(string(ConsentLedger::Locale))
                    .col(string(ConsentLedger::IpHash))
                    .col(string(ConsentLedger::Browser))
                    .col(timestamp_with_time_zone(ConsentLedger::CreatedAt))
                    .col(string(ConsentLedger::PrevHash))
                    .col(string(ConsentLedger::RowHash).unique_key())
                    .foreign_key(&mut fk(
                        "fk_consent_ledger_user",
                        (ConsentLedger::Table, ConsentLedger::UserId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_consent_ledger_consent", ConsentLedger::ConsentId),
            ("idx_consent_ledger_user", ConsentLedger::UserId),
        ] {
            manager
                .create_index(index(name, ConsentLedger::Table, &[col]))
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(ConsentChain::Table)
                    .col(integer(ConsentChain::Id).primary_key())
                    .col(string(ConsentChain::HeadHash))
                    .col(big_integer(ConsentChain::Length))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(ConsentChain::Table)
                    .columns([
                        ConsentChain::Id,
                        ConsentChain::HeadHash,
                        ConsentChain::Length,
                    ])
                    .values_panic([1.into(), GENESIS.into(), 0i64.into()])
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

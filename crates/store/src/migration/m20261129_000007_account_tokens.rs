//! Platform tokens of connected accounts, sealed with the key ring (never plain text).

use super::fk;
use super::refs::SocialAccounts;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, string, text, text_null, timestamp_with_time_zone, timestamp_with_time_zone_null,
};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000007_account_tokens"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum AccountTokens {
    Table,
    AccountId,
    AccessToken,
    RefreshToken,
    ExpiresAt,
    RefreshExpiresAt,
    Scopes,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AccountTokens::Table)
                    .col(big_integer(AccountTokens::AccountId).primary_key())
                    .col(text(AccountTokens::AccessToken))
                    .col(text_null(AccountTokens::RefreshToken))
                    .col(timestamp_with_time_zone_null(AccountTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(
                        AccountTokens::RefreshExpiresAt,
                    ))
                    .col(string(AccountTokens::Scopes))
                    .col(timestamp_with_time_zone(AccountTokens::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_account_tokens_account",
                        (AccountTokens::Table, AccountTokens::AccountId),
                        (SocialAccounts::Table, SocialAccounts::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

//! Known devices: browsers that signed in to an account before. A browser keeps a random token
//! in a long-lived cookie; the row keeps only its SHA-256, per user, so that when someone keeps
//! guessing an account's password its owner's own browsers are not slowed down. The rows go
//! with the person (cascade, and the data map's deletion).

use super::refs::Users;
use super::{fk, index};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, big_pk_auto, string, timestamp_with_time_zone};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000020_known_devices"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum KnownDevices {
    Table,
    Id,
    UserId,
    TokenHash,
    Device,
    CreatedAt,
    LastUsedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(KnownDevices::Table)
                    .col(big_pk_auto(KnownDevices::Id))
                    .col(big_integer(KnownDevices::UserId))
                    .col(string(KnownDevices::TokenHash))
                    .col(string(KnownDevices::Device))
                    .col(timestamp_with_time_zone(KnownDevices::CreatedAt))
                    .col(timestamp_with_time_zone(KnownDevices::LastUsedAt))
                    .foreign_key(&mut fk(
                        "fk_known_devices_user",
                        (KnownDevices::Table, KnownDevices::UserId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "uq_known_devices_user_token",
                    KnownDevices::Table,
                    &[KnownDevices::UserId, KnownDevices::TokenHash],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        Ok(())
    }
}

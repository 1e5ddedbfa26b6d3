//! Data exports: one row per "export all my data" request, from queued to expired.
//!
//! The ZIP itself is in the media store under the person's prefix (`user-{id}/`); the row
//! holds its key, its size and when it expires, and goes with the user (cascade), its object
//! with the row (the data map names `object_key`).

use super::refs::Users;
use super::{fk, index};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, big_pk_auto, string, string_null, text_null,
    timestamp_with_time_zone, timestamp_with_time_zone_null,
};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000013_exports"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum DataExports {
    Table,
    Id,
    UserId,
    State,
    ProgressDone,
    ProgressTotal,
    Bytes,
    ObjectKey,
    RequestedAt,
    ReadyAt,
    ExpiresAt,
    Error,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DataExports::Table)
                    .col(big_pk_auto(DataExports::Id))
                    .col(big_integer(DataExports::UserId))
                    .col(string(DataExports::State))
                    .col(big_integer(DataExports::ProgressDone))
                    .col(big_integer(DataExports::ProgressTotal))
                    .col(big_integer_null(DataExports::Bytes))
                    .col(string_null(DataExports::ObjectKey))
                    .col(timestamp_with_time_zone(DataExports::RequestedAt))
                    .col(timestamp_with_time_zone_null(DataExports::ReadyAt))
                    .col(timestamp_with_time_zone_null(DataExports::ExpiresAt))
                    .col(text_null(DataExports::Error))
                    .foreign_key(&mut fk(
                        "fk_data_exports_user",
                        (DataExports::Table, DataExports::UserId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_data_exports_user",
                DataExports::Table,
                &[DataExports::UserId, DataExports::RequestedAt],
            ))
            .await?;
        Ok(())
    }
}

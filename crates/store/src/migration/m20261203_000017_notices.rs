//! Notices: something that happened to a person while they were away, said once on the next
//! page they open and then deleted. The first kind: a workspace they belonged to was deleted
//! with its owner's account (its name and the date; they were e-mailed too). The row goes with
//! the person (cascade).

use super::refs::Users;
use super::{fk, index};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, big_pk_auto, string, timestamp_with_time_zone};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000017_notices"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Notices {
    Table,
    Id,
    UserId,
    Kind,
    Subject,
    OccurredAt,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Notices::Table)
                    .col(big_pk_auto(Notices::Id))
                    .col(big_integer(Notices::UserId))
                    .col(string(Notices::Kind))
                    .col(string(Notices::Subject))
                    .col(timestamp_with_time_zone(Notices::OccurredAt))
                    .col(timestamp_with_time_zone(Notices::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_notices_user",
                        (Notices::Table, Notices::UserId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_notices_user",
                Notices::Table,
                &[Notices::UserId, Notices::Id],
            ))
            .await?;
        Ok(())
    }
}

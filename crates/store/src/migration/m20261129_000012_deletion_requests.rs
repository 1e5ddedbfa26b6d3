//! Deletion requests received by e-mail.
//!
//! The privacy page promises that a request sent to the privacy address is carried out within
//! 30 days. An administrator records each one (the address, the day it arrived); the address is
//! e-mailed a confirmation link when an account uses it, otherwise word that nothing is held.
//! The row keeps the proof that the request was answered in time: the dates, the state, and a
//! keyed hash of the address (HMAC with the server's key), which outlives the address itself.
//! The address is kept only while the request is open; the user id only until the account is
//! gone (the key clears it when the user row is deleted, the deletion clears it too).
//!
//! Only a SHA-256 of the confirmation token is stored, never the token.

use super::refs::Users;
use super::{fk, index};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer_null, big_pk_auto, date, string, string_null, timestamp_with_time_zone,
    timestamp_with_time_zone_null,
};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000012_deletion_requests"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum DeletionRequests {
    Table,
    Id,
    Email,
    EmailHash,
    ReceivedOn,
    DeadlineOn,
    State,
    TokenHash,
    LinkExpiresAt,
    UserId,
    DeletionId,
    RecordedBy,
    RecordedVia,
    SevenDayReminderAt,
    TwoDayReminderAt,
    OverdueAt,
    ConfirmedAt,
    ClosedAt,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DeletionRequests::Table)
                    .col(big_pk_auto(DeletionRequests::Id))
                    .col(string_null(DeletionRequests::Email))
                    .col(string(DeletionRequests::EmailHash))
                    .col(date(DeletionRequests::ReceivedOn))
                    .col(date(DeletionRequests::DeadlineOn))
                    .col(string(DeletionRequests::State))
                    .col(string(DeletionRequests::TokenHash).unique_key())
                    .col(timestamp_with_time_zone(DeletionRequests::LinkExpiresAt))
                    .col(big_integer_null(DeletionRequests::UserId))
                    .col(big_integer_null(DeletionRequests::DeletionId))
                    .col(big_integer_null(DeletionRequests::RecordedBy))
                    .col(string(DeletionRequests::RecordedVia))
                    .col(timestamp_with_time_zone_null(
                        DeletionRequests::SevenDayReminderAt,
                    ))
                    .col(timestamp_with_time_zone_null(
                        DeletionRequests::TwoDayReminderAt,
                    ))
                    .col(timestamp_with_time_zone_null(DeletionRequests::OverdueAt))
                    .col(timestamp_with_time_zone_null(DeletionRequests::ConfirmedAt))
                    .col(timestamp_with_time_zone_null(DeletionRequests::ClosedAt))
                    .col(timestamp_with_time_zone(DeletionRequests::CreatedAt))
                    .col(timestamp_with_time_zone(DeletionRequests::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_deletion_requests_user",
                        (DeletionRequests::Table, DeletionRequests::UserId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .foreign_key(&mut fk(
                        "fk_deletion_requests_recorded_by",
                        (DeletionRequests::Table, DeletionRequests::RecordedBy),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_deletion_requests_state",
                DeletionRequests::Table,
                &[DeletionRequests::State, DeletionRequests::ReceivedOn],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_deletion_requests_email_hash",
                DeletionRequests::Table,
                &[DeletionRequests::EmailHash],
            ))
            .await?;
        Ok(())
    }
}

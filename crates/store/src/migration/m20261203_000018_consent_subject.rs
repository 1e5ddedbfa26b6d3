//! Who consented becomes part of each consent ledger row's hash.
//!
//! - `consent_subjects`: one random salt per person, made with their first ledger row and
//!   deleted with their account (cascade).
//! - `consent_ledger.subject`: for a row recorded while someone was signed in, a keyed hash of
//!   their user id and salt; empty for a row recorded without anyone signed in. It is covered by
//!   the row hash and stays when an account deletion clears `user_id`; once the salt is gone it
//!   no longer leads to anyone.
//! - `consent_ledger.hash_version`: 1 for the rows written before this migration (their hash
//!   covers neither the subject nor a key, and is checked as it always was: rewriting their
//!   hashes would defeat the chain), 2 for every row written after it.
//!
//! `services::consent` describes the checks.

use super::fk;
use super::refs::Users;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, big_pk_auto, integer, string};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000018_consent_subject"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum ConsentLedger {
    Table,
    Subject,
    HashVersion,
}

#[derive(DeriveIden, Clone, Copy)]
enum ConsentSubjects {
    Table,
    Id,
    UserId,
    Salt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time. The existing rows take the
        // defaults: no subject, hash version 1.
        for mut column in [
            string(ConsentLedger::Subject).default("").take(),
            integer(ConsentLedger::HashVersion).default(1).take(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(ConsentLedger::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(ConsentSubjects::Table)
                    .col(big_pk_auto(ConsentSubjects::Id))
                    .col(big_integer(ConsentSubjects::UserId).unique_key())
                    .col(string(ConsentSubjects::Salt))
                    .foreign_key(&mut fk(
                        "fk_consent_subjects_user",
                        (ConsentSubjects::Table, ConsentSubjects::UserId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

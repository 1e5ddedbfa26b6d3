//! Account deletion and the forget list.
//!
//! `account_deletions` carries a deletion from the moment the person confirms it (the account
//! can no longer sign in) to its end; a crash leaves the row and its job, and the job resumes
//! from the step recorded. It references nobody by key: the user row it deletes is gone at the
//! end, when the address, name and user id on it are cleared too and only the counts remain.
//!
//! `forget_list` keeps keyed hashes (HMAC with the server's key) of every deleted user id,
//! workspace id and address, longer than backups are kept, so that a restore from a backup
//! re-applies each deletion before the instance serves traffic.

use super::index;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer_null, big_pk_auto, string, string_null, text_null, timestamp_with_time_zone,
    timestamp_with_time_zone_null,
};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000010_deletions"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum AccountDeletions {
    Table,
    Id,
    UserId,
    SubjectHash,
    Email,
    Name,
    Via,
    Step,
    Receipt,
    StartedAt,
    FinishedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ForgetList {
    Table,
    Id,
    DeletionId,
    Kind,
    Hash,
    CreatedAt,
    KeepUntil,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AccountDeletions::Table)
                    .col(big_pk_auto(AccountDeletions::Id))
                    .col(big_integer_null(AccountDeletions::UserId))
                    .col(string(AccountDeletions::SubjectHash))
                    .col(string_null(AccountDeletions::Email))
                    .col(string_null(AccountDeletions::Name))
                    .col(string(AccountDeletions::Via))
                    .col(string(AccountDeletions::Step))
                    .col(text_null(AccountDeletions::Receipt))
                    .col(timestamp_with_time_zone(AccountDeletions::StartedAt))
                    .col(timestamp_with_time_zone_null(AccountDeletions::FinishedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_account_deletions_subject",
                AccountDeletions::Table,
                &[AccountDeletions::SubjectHash],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ForgetList::Table)
                    .col(big_pk_auto(ForgetList::Id))
                    .col(big_integer_null(ForgetList::DeletionId))
                    .col(string(ForgetList::Kind))
                    .col(string(ForgetList::Hash))
                    .col(timestamp_with_time_zone(ForgetList::CreatedAt))
                    .col(timestamp_with_time_zone(ForgetList::KeepUntil))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_forget_list_hash",
                ForgetList::Table,
                &[ForgetList::Kind, ForgetList::Hash],
            ))
            .await?;
        // The columns a deletion looks people up by, which had no index: without them its one
        // transaction scans whole tables (and PostgreSQL's foreign-key checks scan them again
        // when the user and workspace rows go). With the id second, the export's pages (rows of
        // one person or workspace, by id) are read in index order instead of sorted each time.
        for (table, columns) in [
            ("activity_log", ["actor_user_id", "id"].as_slice()),
            ("activity_log", &["workspace_id", "id"]),
            ("posts", &["author_id"]),
            ("posts", &["workspace_id", "id"]),
            ("media_items", &["uploaded_by"]),
            ("media_items", &["workspace_id", "id"]),
            ("campaigns", &["created_by"]),
            ("jobs", &["user_id"]),
            ("jobs", &["workspace_id"]),
            ("consent_ledger", &["user_id"]),
            ("invitations", &["invited_by"]),
        ] {
            let mut index = Index::create();
            index
                .name(format!("idx_{table}_{}", columns.join("_")))
                .table(Alias::new(table));
            for column in columns {
                index.col(Alias::new(*column));
            }
            manager.create_index(index).await?;
        }
        Ok(())
    }
}

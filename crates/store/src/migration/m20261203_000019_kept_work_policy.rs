//! Version 1.2 of the Data Deletion Policy: an account deletion now deletes, by default, the
//! posts and files the person made in workspaces other people keep (scheduled ones withdrawn,
//! the other members told which), and leaving them there is an explicit choice on the deletion
//! page, recorded in the receipt. The choice lives in the deletion's receipt, so no column is
//! added. In effect from the moment the migration runs, so people who accepted 1.1 are asked
//! to accept 1.2 on their next visit.

use sea_orm_migration::prelude::*;
use sha2::{Digest, Sha256};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000019_kept_work_policy"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum PolicyVersions {
    Table,
    Kind,
    Version,
    EffectiveAt,
    Summary,
    Body,
    Sha256,
    PublishedAt,
}

const BODY: &str = include_str!("../../policies/1.2/data-deletion.md");

const SUMMARY: &str = "Deleting your account now also deletes the posts and files you made in \
                       workspaces other people keep, unless you choose on the deletion page to \
                       leave them there; scheduled ones are withdrawn and the other members are \
                       told which, and the receipt records your choice.";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let now = chrono::Utc::now();
        let sha = hex::encode(Sha256::digest(BODY.as_bytes()));
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(PolicyVersions::Table)
                    .columns([
                        PolicyVersions::Kind,
                        PolicyVersions::Version,
                        PolicyVersions::EffectiveAt,
                        PolicyVersions::Summary,
                        PolicyVersions::Body,
                        PolicyVersions::Sha256,
                        PolicyVersions::PublishedAt,
                    ])
                    .values_panic([
                        "data-deletion".into(),
                        "1.2".into(),
                        now.into(),
                        SUMMARY.into(),
                        BODY.into(),
                        sha.into(),
                        now.into(),
                    ])
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

//! Version 1.1 of the Privacy Policy and the Data Deletion Policy: the single-click export,
//! the deletion receipt, the forget list and the revoke-access page now exist, and the texts
//! say so. In effect from the moment the migration runs, so people who accepted 1.0 are asked
//! to accept 1.1 on their next visit.

use sea_orm_migration::prelude::*;
use sha2::{Digest, Sha256};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000014_policies_export"
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

const SECOND: [(&str, &str, &str); 2] = [
    (
        "privacy",
        include_str!("../../policies/1.1/privacy.md"),
        "You can now export all your data in one ZIP file from your privacy settings, and a new \
         page shows how to remove Socializioz from each platform.",
    ),
    (
        "data-deletion",
        include_str!("../../policies/1.1/data-deletion.md"),
        "Export all your data before deleting; how the deletion is confirmed, the receipt we \
         e-mail, how a restored backup forgets you again, and the periods things are kept.",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let now = chrono::Utc::now();
        for (kind, body, summary) in SECOND {
            let sha = hex::encode(Sha256::digest(body.as_bytes()));
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
                            kind.into(),
                            "1.1".into(),
                            now.into(),
                            summary.into(),
                            body.into(),
                            sha.into(),
                            now.into(),
                        ])
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

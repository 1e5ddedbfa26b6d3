//! Versioned policies, who accepted which version, and version 1.0 of the six policies.

use super::refs::Users;
use super::{fk, index};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, big_pk_auto, string, text, timestamp_with_time_zone};
use sha2::{Digest, Sha256};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000003_policies"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum PolicyVersions {
    Table,
    Id,
    Kind,
    Version,
    EffectiveAt,
    Summary,
    Body,
    Sha256,
    PublishedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum PolicyAcceptances {
    Table,
    Id,
    UserId,
    Kind,
    Version,
    Sha256,
    Source,
    AcceptedAt,
}

/// Version 1.0 of every policy, as shipped.
const FIRST: [(&str, &str); 6] = [
    ("terms", include_str!("../../policies/terms.md")),
    ("privacy", include_str!("../../policies/privacy.md")),
    ("cookies", include_str!("../../policies/cookies.md")),
    ("refund", include_str!("../../policies/refund.md")),
    (
        "acceptable-use",
        include_str!("../../policies/acceptable-use.md"),
    ),
    (
        "data-deletion",
        include_str!("../../policies/data-deletion.md"),
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PolicyVersions::Table)
                    .col(big_pk_auto(PolicyVersions::Id))
                    .col(string(PolicyVersions::Kind))
                    .col(string(PolicyVersions::Version))
                    .col(timestamp_with_time_zone(PolicyVersions::EffectiveAt))
                    .col(text(PolicyVersions::Summary))
                    .col(text(PolicyVersions::Body))
                    .col(string(PolicyVersions::Sha256))
                    .col(timestamp_with_time_zone(PolicyVersions::PublishedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "uq_policy_versions_kind_version",
                    PolicyVersions::Table,
                    &[PolicyVersions::Kind, PolicyVersions::Version],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PolicyAcceptances::Table)
                    .col(big_pk_auto(PolicyAcceptances::Id))
                    .col(big_integer(PolicyAcceptances::UserId))
                    .col(string(PolicyAcceptances::Kind))
                    .col(string(PolicyAcceptances::Version))
                    .col(string(PolicyAcceptances::Sha256))
                    .col(string(PolicyAcceptances::Source))
                    .col(timestamp_with_time_zone(PolicyAcceptances::AcceptedAt))
                    .foreign_key(&mut fk(
                        "fk_policy_acceptances_user",
                        (PolicyAcceptances::Table, PolicyAcceptances::UserId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_policy_acceptances_user",
                PolicyAcceptances::Table,
                &[PolicyAcceptances::UserId],
            ))
            .await?;
        let effective = chrono::DateTime::parse_from_rfc3339("2026-11-29T00:00:00Z")
            .map_err(|e| DbErr::Custom(e.to_string()))?
            .with_timezone(&chrono::Utc);
        for (kind, body) in FIRST {
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
                            "1.0".into(),
                            effective.into(),
                            "First version.".into(),
                            body.into(),
                            sha.into(),
                            effective.into(),
                        ])
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

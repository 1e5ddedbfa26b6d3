//! Posts and their per-account targets, publish attempts, campaigns, the accounts posts go to,
//! and the queue's concurrency slots.

use super::refs::{Users, Workspaces};
use super::{fk, index};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, big_pk_auto, date_null, integer, string, string_null, text,
    text_null, timestamp_with_time_zone, timestamp_with_time_zone_null,
};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000004_content"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum SocialAccounts {
    Table,
    Id,
    WorkspaceId,
    Platform,
    ExternalId,
    Username,
    DisplayName,
    AvatarUrl,
    Status,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Campaigns {
    Table,
    Id,
    WorkspaceId,
    Name,
    Description,
    StartsOn,
    EndsOn,
    Colour,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Posts {
    Table,
    Id,
    WorkspaceId,
    CampaignId,
    AuthorId,
    Body,
    FirstComment,
    State,
    FailureReason,
    ScheduledAt,
    ScheduleTz,
    Revision,
    PublishedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum PostTargets {
    Table,
    Id,
    PostId,
    AccountId,
    Body,
    Options,
    State,
    Attempts,
    PlatformPostId,
    Permalink,
    LastError,
    PublishedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum PublishAttempts {
    Table,
    Id,
    TargetId,
    Number,
    IdempotencyKey,
    StartedAt,
    FinishedAt,
    Outcome,
    Error,
    PlatformPostId,
}

#[derive(DeriveIden, Clone, Copy)]
enum JobSlots {
    Table,
    Id,
    Key,
    Slot,
    JobId,
    LockedUntil,
}

#[derive(DeriveIden, Clone, Copy)]
enum Jobs {
    Table,
    ConcurrencyKey,
    Subject,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SocialAccounts::Table)
                    .col(big_pk_auto(SocialAccounts::Id))
                    .col(big_integer(SocialAccounts::WorkspaceId))
                    .col(string(SocialAccounts::Platform))
                    .col(string(SocialAccounts::ExternalId))
                    .col(string(SocialAccounts::Username))
                    .col(string(SocialAccounts::DisplayName))
                    .col(string_null(SocialAccounts::AvatarUrl))
                    .col(string(SocialAccounts::Status))
                    .col(timestamp_with_time_zone(SocialAccounts::CreatedAt))
                    .col(timestamp_with_time_zone(SocialAccounts::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_social_accounts_workspace",
                        (SocialAccounts::Table, SocialAccounts::WorkspaceId),
                        (Workspaces::Table, Workspaces::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "idx_social_accounts_identity",
                    SocialAccounts::Table,
                    &[
                        SocialAccounts::WorkspaceId,
                        SocialAccounts::Platform,
                        SocialAccounts::ExternalId,
                    ],
                )
                .unique()
                .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Campaigns::Table)
                    .col(big_pk_auto(Campaigns::Id))
                    .col(big_integer(Campaigns::WorkspaceId))
                    .col(string(Campaigns::Name))
                    .col(text(Campaigns::Description))
                    .col(date_null(Campaigns::StartsOn))
                    .col(date_null(Campaigns::EndsOn))
                    .col(string(Campaigns::Colour))
                    .col(big_integer_null(Campaigns::CreatedBy))
                    .col(timestamp_with_time_zone(Campaigns::CreatedAt))
                    .col(timestamp_with_time_zone(Campaigns::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_campaigns_workspace",
                        (Campaigns::Table, Campaigns::WorkspaceId),
                        (Workspaces::Table, Workspaces::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_campaigns_created_by",
                        (Campaigns::Table, Campaigns::CreatedBy),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "idx_campaigns_name",
                    Campaigns::Table,
                    &[Campaigns::WorkspaceId, Campaigns::Name],
                )
                .unique()
                .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Posts::Table)
                    .col(big_pk_auto(Posts::Id))
                    .col(big_integer(Posts::WorkspaceId))
                    .col(big_integer_null(Posts::CampaignId))
                    .col(big_integer_null(Posts::AuthorId))
                    .col(text(Posts::Body))
                    .col(text_null(Posts::FirstComment))
                    .col(string(Posts::State))
                    .col(text_null(Posts::FailureReason))
                    .col(timestamp_with_time_zone_null(Posts::ScheduledAt))
                    .col(string_null(Posts::ScheduleTz))
                    .col(integer(Posts::Revision))
                    .col(timestamp_with_time_zone_null(Posts::PublishedAt))
                    .col(timestamp_with_time_zone(Posts::CreatedAt))
                    .col(timestamp_with_time_zone(Posts::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_posts_workspace",
                        (Posts::Table, Posts::WorkspaceId),
                        (Workspaces::Table, Workspaces::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_posts_campaign",
                        (Posts::Table, Posts::CampaignId),
                        (Campaigns::Table, Campaigns::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .foreign_key(&mut fk(
                        "fk_posts_author",
                        (Posts::Table, Posts::AuthorId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_posts_schedule",
                Posts::Table,
                &[Posts::WorkspaceId, Posts::ScheduledAt],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_posts_campaign",
                Posts::Table,
                &[Posts::CampaignId],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PostTargets::Table)
                    .col(big_pk_auto(PostTargets::Id))
                    .col(big_integer(PostTargets::PostId))
                    .col(big_integer(PostTargets::AccountId))
                    .col(text_null(PostTargets::Body))
                    .col(text(PostTargets::Options))
                    .col(string(PostTargets::State))
                    .col(integer(PostTargets::Attempts))
                    .col(string_null(PostTargets::PlatformPostId))
                    .col(string_null(PostTargets::Permalink))
                    .col(text_null(PostTargets::LastError))
                    .col(timestamp_with_time_zone_null(PostTargets::PublishedAt))
                    .col(timestamp_with_time_zone(PostTargets::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_post_targets_post",
                        (PostTargets::Table, PostTargets::PostId),
                        (Posts::Table, Posts::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_post_targets_account",
                        (PostTargets::Table, PostTargets::AccountId),
                        (SocialAccounts::Table, SocialAccounts::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "idx_post_targets_account",
                    PostTargets::Table,
                    &[PostTargets::PostId, PostTargets::AccountId],
                )
                .unique()
                .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PublishAttempts::Table)
                    .col(big_pk_auto(PublishAttempts::Id))
                    .col(big_integer(PublishAttempts::TargetId))
                    .col(integer(PublishAttempts::Number))
                    .col(string(PublishAttempts::IdempotencyKey).unique_key())
                    .col(timestamp_with_time_zone(PublishAttempts::StartedAt))
                    .col(timestamp_with_time_zone_null(PublishAttempts::FinishedAt))
                    .col(string_null(PublishAttempts::Outcome))
                    .col(text_null(PublishAttempts::Error))
                    .col(string_null(PublishAttempts::PlatformPostId))
                    .foreign_key(&mut fk(
                        "fk_publish_attempts_target",
                        (PublishAttempts::Table, PublishAttempts::TargetId),
                        (PostTargets::Table, PostTargets::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "idx_publish_attempts_number",
                    PublishAttempts::Table,
                    &[PublishAttempts::TargetId, PublishAttempts::Number],
                )
                .unique()
                .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(JobSlots::Table)
                    .col(big_pk_auto(JobSlots::Id))
                    .col(string(JobSlots::Key))
                    .col(integer(JobSlots::Slot))
                    .col(big_integer_null(JobSlots::JobId))
                    .col(timestamp_with_time_zone_null(JobSlots::LockedUntil))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "idx_job_slots_key",
                    JobSlots::Table,
                    &[JobSlots::Key, JobSlots::Slot],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_job_slots_job",
                JobSlots::Table,
                &[JobSlots::JobId],
            ))
            .await?;

        // SQLite adds one column per ALTER TABLE.
        for column in [Jobs::ConcurrencyKey, Jobs::Subject] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Jobs::Table)
                        .add_column(string_null(column))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(index("idx_jobs_subject", Jobs::Table, &[Jobs::Subject]))
            .await?;
        Ok(())
    }
}

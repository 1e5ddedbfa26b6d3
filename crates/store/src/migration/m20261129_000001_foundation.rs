//! Accounts, sessions, e-mail links, workspaces, members, invitations, the activity log and the
//! job queue.

use super::{fk, index};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, big_pk_auto, integer, string, string_null, text, text_null,
    timestamp_with_time_zone, timestamp_with_time_zone_null,
};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000001_foundation"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
    Name,
    Email,
    EmailVerifiedAt,
    PasswordHash,
    Timezone,
    Language,
    LastWorkspaceId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Sessions {
    Table,
    Id,
    TokenHash,
    UserId,
    Device,
    CreatedAt,
    LastSeenAt,
    ExpiresAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum EmailTokens {
    Table,
    Id,
    UserId,
    Purpose,
    TokenHash,
    Email,
    ExpiresAt,
    UsedAt,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Workspaces {
    Table,
    Id,
    Name,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Memberships {
    Table,
    Id,
    WorkspaceId,
    UserId,
    Role,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Invitations {
    Table,
    Id,
    WorkspaceId,
    Email,
    Role,
    TokenHash,
    InvitedBy,
    ExpiresAt,
    AcceptedAt,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ActivityLog {
    Table,
    Id,
    WorkspaceId,
    ActorUserId,
    ActorName,
    Action,
    ObjectType,
    ObjectId,
    Summary,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Jobs {
    Table,
    Id,
    Kind,
    Payload,
    State,
    RunAt,
    Attempts,
    MaxAttempts,
    LockedUntil,
    LockedBy,
    LastError,
    IdempotencyKey,
    UserId,
    WorkspaceId,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(big_pk_auto(Users::Id))
                    .col(string(Users::Name))
                    .col(string(Users::Email).unique_key())
                    .col(timestamp_with_time_zone_null(Users::EmailVerifiedAt))
                    .col(string(Users::PasswordHash))
                    .col(string(Users::Timezone))
                    .col(string(Users::Language))
                    .col(big_integer_null(Users::LastWorkspaceId))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone(Users::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(big_pk_auto(Sessions::Id))
                    .col(string(Sessions::TokenHash).unique_key())
                    .col(big_integer(Sessions::UserId))
                    .col(string(Sessions::Device))
                    .col(timestamp_with_time_zone(Sessions::CreatedAt))
                    .col(timestamp_with_time_zone(Sessions::LastSeenAt))
                    .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                    .foreign_key(&mut fk(
                        "fk_sessions_user",
                        (Sessions::Table, Sessions::UserId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_sessions_user",
                Sessions::Table,
                &[Sessions::UserId],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(EmailTokens::Table)
                    .col(big_pk_auto(EmailTokens::Id))
                    .col(big_integer(EmailTokens::UserId))
                    .col(string(EmailTokens::Purpose))
                    .col(string(EmailTokens::TokenHash).unique_key())
                    .col(string(EmailTokens::Email))
                    .col(timestamp_with_time_zone(EmailTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(EmailTokens::UsedAt))
                    .col(timestamp_with_time_zone(EmailTokens::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_email_tokens_user",
                        (EmailTokens::Table, EmailTokens::UserId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_email_tokens_user",
                EmailTokens::Table,
                &[EmailTokens::UserId],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Workspaces::Table)
                    .col(big_pk_auto(Workspaces::Id))
                    .col(string(Workspaces::Name))
                    .col(timestamp_with_time_zone(Workspaces::CreatedAt))
                    .col(timestamp_with_time_zone(Workspaces::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Memberships::Table)
                    .col(big_pk_auto(Memberships::Id))
                    .col(big_integer(Memberships::WorkspaceId))
                    .col(big_integer(Memberships::UserId))
                    .col(string(Memberships::Role))
                    .col(timestamp_with_time_zone(Memberships::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_memberships_workspace",
                        (Memberships::Table, Memberships::WorkspaceId),
                        (Workspaces::Table, Workspaces::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_memberships_user",
                        (Memberships::Table, Memberships::UserId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "uq_memberships_workspace_user",
                    Memberships::Table,
                    &[Memberships::WorkspaceId, Memberships::UserId],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_memberships_user",
                Memberships::Table,
                &[Memberships::UserId],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Invitations::Table)
                    .col(big_pk_auto(Invitations::Id))
                    .col(big_integer(Invitations::WorkspaceId))
                    .col(string(Invitations::Email))
                    .col(string(Invitations::Role))
                    .col(string(Invitations::TokenHash).unique_key())
                    .col(big_integer_null(Invitations::InvitedBy))
                    .col(timestamp_with_time_zone(Invitations::ExpiresAt))
                    .col(timestamp_with_time_zone_null(Invitations::AcceptedAt))
                    .col(timestamp_with_time_zone(Invitations::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_invitations_workspace",
                        (Invitations::Table, Invitations::WorkspaceId),
                        (Workspaces::Table, Workspaces::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_invitations_invited_by",
                        (Invitations::Table, Invitations::InvitedBy),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_invitations_workspace",
                Invitations::Table,
                &[Invitations::WorkspaceId],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ActivityLog::Table)
                    .col(big_pk_auto(ActivityLog::Id))
                    .col(big_integer(ActivityLog::WorkspaceId))
                    .col(big_integer_null(ActivityLog::ActorUserId))
                    .col(string(ActivityLog::ActorName))
                    .col(string(ActivityLog::Action))
                    .col(string(ActivityLog::ObjectType))
                    .col(big_integer_null(ActivityLog::ObjectId))
                    .col(text(ActivityLog::Summary))
                    .col(timestamp_with_time_zone(ActivityLog::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_activity_workspace",
                        (ActivityLog::Table, ActivityLog::WorkspaceId),
                        (Workspaces::Table, Workspaces::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_activity_actor",
                        (ActivityLog::Table, ActivityLog::ActorUserId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_activity_workspace_time",
                ActivityLog::Table,
                &[ActivityLog::WorkspaceId, ActivityLog::CreatedAt],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Jobs::Table)
                    .col(big_pk_auto(Jobs::Id))
                    .col(string(Jobs::Kind))
                    .col(text(Jobs::Payload))
                    .col(string(Jobs::State))
                    .col(timestamp_with_time_zone(Jobs::RunAt))
                    .col(integer(Jobs::Attempts))
                    .col(integer(Jobs::MaxAttempts))
                    .col(timestamp_with_time_zone_null(Jobs::LockedUntil))
                    .col(string_null(Jobs::LockedBy))
                    .col(text_null(Jobs::LastError))
                    .col(string_null(Jobs::IdempotencyKey).unique_key())
                    .col(big_integer_null(Jobs::UserId))
                    .col(big_integer_null(Jobs::WorkspaceId))
                    .col(timestamp_with_time_zone(Jobs::CreatedAt))
                    .col(timestamp_with_time_zone(Jobs::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_jobs_due",
                Jobs::Table,
                &[Jobs::State, Jobs::RunAt],
            ))
            .await?;
        Ok(())
    }
}

//! Authorisations in progress: the OAuth `state` sent to a platform, bound to the session that
//! sent it, for ten minutes and one use. Only a hash of the state is kept; the PKCE verifier
//! is derived from the state with the server's key, so nothing secret is stored.

use super::fk;
use super::refs::{Sessions, Users, Workspaces};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, big_pk_auto, string, timestamp_with_time_zone};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000008_oauth_states"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum OauthStates {
    Table,
    Id,
    StateHash,
    UserId,
    SessionId,
    WorkspaceId,
    Platform,
    Scopes,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OauthStates::Table)
                    .col(big_pk_auto(OauthStates::Id))
                    .col(string(OauthStates::StateHash).unique_key())
                    .col(big_integer(OauthStates::UserId))
                    .col(big_integer(OauthStates::SessionId))
                    .col(big_integer(OauthStates::WorkspaceId))
                    .col(string(OauthStates::Platform))
                    .col(string(OauthStates::Scopes))
                    .col(timestamp_with_time_zone(OauthStates::ExpiresAt))
                    .foreign_key(&mut fk(
                        "fk_oauth_states_user",
                        (OauthStates::Table, OauthStates::UserId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_oauth_states_session",
                        (OauthStates::Table, OauthStates::SessionId),
                        (Sessions::Table, Sessions::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_oauth_states_workspace",
                        (OauthStates::Table, OauthStates::WorkspaceId),
                        (Workspaces::Table, Workspaces::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

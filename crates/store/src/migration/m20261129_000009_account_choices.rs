//! Choosing which account to connect, and follower counts.
//!
//! A Facebook login can manage several pages: the callback then keeps the person's grant,
//! sealed, in a fresh single-use `oauth_states` row with the pages to choose from, and the
//! choice spends it. Connected accounts gain their follower count and when it was read, and,
//! for pages, the platform id of the person whose authorisation they share (revoking it for
//! one page would cut off the others).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer_null, string_null, text_null, timestamp_with_time_zone_null,
};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000009_account_choices"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum OauthStates {
    Table,
    PendingGrant,
    Candidates,
}

#[derive(DeriveIden, Clone, Copy)]
enum SocialAccounts {
    Table,
    FollowerCount,
    FollowersUpdatedAt,
    AuthorizedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        for column in [
            text_null(OauthStates::PendingGrant),
            text_null(OauthStates::Candidates),
        ] {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter()
                        .table(OauthStates::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        for column in [
            big_integer_null(SocialAccounts::FollowerCount),
            timestamp_with_time_zone_null(SocialAccounts::FollowersUpdatedAt),
            string_null(SocialAccounts::AuthorizedBy),
        ] {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter()
                        .table(SocialAccounts::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

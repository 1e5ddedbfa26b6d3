//! Keeping connected accounts' profiles current: once a day a job per account reads who the
//! account is at the platform (name, avatar, follower count) and stores it.

use crate::account_tokens::connected_account;
use crate::jobs::{Job, JobError};
use crate::queue;
use crate::{Result, Services};
use domain::{SocialAccountId, WorkspaceId};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};
use serde::{Deserialize, Serialize};
use store::entities::states::AccountStatus;
use store::entities::{job, social_account};

/// How often profiles are read again.
pub const EVERY: chrono::Duration = chrono::Duration::hours(24);

/// A profile reading: the account whose profile is read.
#[derive(Serialize, Deserialize)]
pub struct ProfileOf {
    account: i64,
}

impl queue::Payload for ProfileOf {
    const KIND: &'static str = "refresh_profile";
}

fn subject(account_id: i64) -> String {
    format!("profile:{account_id}")
}

/// Plans the next reading of an account's profile, replacing any already planned.
pub(crate) async fn schedule<C: ConnectionTrait>(
    conn: &C,
    account: &social_account::Model,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    queue::replan(
        conn,
        subject(account.id),
        WorkspaceId(account.workspace_id),
        &ProfileOf {
            account: account.id,
        },
        Some(at),
    )
    .await
}

/// One profile reading; plans the next one a day later while the account is connected.
pub struct RefreshProfile;

impl Job for RefreshProfile {
    type Payload = ProfileOf;

    async fn run(
        services: &Services,
        job: &job::Model,
        payload: ProfileOf,
    ) -> Result<(), JobError> {
        run(services, job, payload).await
    }
}

async fn run(services: &Services, job: &job::Model, payload: ProfileOf) -> Result<(), JobError> {
    let retry = |e: crate::ServiceError| JobError::Retry(format!("{e:#}"));
    let Some((account, platform)) =
        connected_account(&services.db, SocialAccountId(payload.account)).await?
    else {
        return Ok(());
    };
    let (Some(connector), Some(tokens)) = (
        services.connectors.get(platform),
        services
            .tokens_of(SocialAccountId(account.id))
            .await
            .map_err(retry)?,
    ) else {
        return Ok(());
    };
    let next = crate::now() + EVERY;
    match connector.identity(&tokens.access).await {
        // Only the same account: a token that now answers for someone else changes nothing.
        Ok(who) if who.external_id == account.external_id => {
            let mut row: social_account::ActiveModel = account.clone().into();
            row.username = Set(who.username);
            row.display_name = Set(who.display_name);
            row.avatar_url = Set(who.avatar_url);
            if let Some(followers) = who.followers {
                row.follower_count = Set(i64::try_from(followers).ok());
                row.followers_updated_at = Set(Some(crate::now()));
            }
            let txn = store::begin_write(&services.db)
                .await
                .map_err(|e| retry(e.into()))?;
            // Written only while the account is still connected.
            let current = social_account::Entity::find_by_id(account.id)
                .one(&txn)
                .await
                .map_err(|e| retry(e.into()))?;
            if current.is_some_and(|a| a.status == AccountStatus::Connected) {
                row.update(&txn).await.map_err(|e| retry(e.into()))?;
                crate::analytics::kept::account_changed(&txn, account.id)
                    .await
                    .map_err(retry)?;
                schedule(&txn, &account, next).await.map_err(retry)?;
            }
            txn.commit().await.map_err(|e| retry(e.into()))?;
            Ok(())
        }
        // A refused token is the refresh job's business (it asks for a reconnection); try
        // again tomorrow.
        Ok(_) | Err(providers::social::ConnectError::Refused(_)) => {
            schedule(&services.db, &account, next)
                .await
                .map_err(retry)?;
            Ok(())
        }
        // Unreachable: retried with backoff, and on the last try planned for tomorrow instead
        // of dying, so that one outage does not end the daily readings.
        Err(providers::social::ConnectError::Unavailable(why)) => {
            if job.attempts >= job.max_attempts {
                schedule(&services.db, &account, next)
                    .await
                    .map_err(retry)?;
                Ok(())
            } else {
                Err(JobError::Retry(why))
            }
        }
    }
}

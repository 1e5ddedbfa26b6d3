//! Keeping connected accounts' profiles current: once a day a job per account reads who the
//! account is at the platform (name, avatar, follower count) and stores it.

use crate::queue;
use crate::worker::JobError;
use crate::{Result, Services};
use domain::Platform;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};
use serde::{Deserialize, Serialize};
use store::entities::{job, social_account};

pub const JOB_KIND: &str = "refresh_profile";

/// How often profiles are read again.
pub const EVERY: chrono::Duration = chrono::Duration::hours(24);

#[derive(Serialize, Deserialize)]
struct Payload {
    account: i64,
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
    let payload = serde_json::to_value(Payload {
        account: account.id,
    })
    .map_err(anyhow::Error::from)?;
    queue::replan(
        conn,
        JOB_KIND,
        subject(account.id),
        account.workspace_id,
        payload,
        Some(at),
    )
    .await
}

/// Runs one profile reading; plans the next one a day later while the account is connected.
pub async fn run(services: &Services, job: &job::Model) -> Result<(), JobError> {
    let payload: Payload = serde_json::from_str(&job.payload)
        .map_err(|e| JobError::Permanent(format!("unreadable payload: {e}")))?;
    let retry = |e: crate::ServiceError| JobError::Retry(format!("{e:#}"));
    let Some(account) = social_account::Entity::find_by_id(payload.account)
        .one(&services.db)
        .await
        .map_err(|e| retry(e.into()))?
    else {
        return Ok(());
    };
    if account.status != "connected" {
        return Ok(());
    }
    let platform = Platform::parse(&account.platform)
        .map_err(|_| JobError::Permanent("unknown platform".into()))?;
    let (Some(connector), Some(tokens)) = (
        services.connectors.get(platform),
        services.tokens_of(account.id).await.map_err(retry)?,
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
            if current.is_some_and(|a| a.status == "connected") {
                row.update(&txn).await.map_err(|e| retry(e.into()))?;
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

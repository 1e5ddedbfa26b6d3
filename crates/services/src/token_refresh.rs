//! Keeping platform tokens alive: a job per account refreshes its token ahead of expiry and
//! stores what comes back (platforms such as X rotate the refresh token, so the newest one is
//! kept every time). When a refresh is refused, the account becomes "reconnect needed", its
//! owners and admins are told, and its posts wait instead of failing one by one; reconnecting
//! sends them.

use crate::account_tokens::TokenSet;
use crate::account_tokens::connected_account;
use crate::jobs::{Job, JobError};
use crate::queue;
use crate::{Result, Services, activity, emails, publishing};
use chrono::{DateTime, Utc};
use domain::{Platform, Role, SocialAccountId, UserId, WorkspaceId};
use providers::social::{AccountRef, ConnectError};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use store::entities::states::AccountStatus;
use store::entities::states::PostState;
use store::entities::{account_token, job, membership, post, post_target, social_account, user};

/// How long before expiry a token is refreshed.
pub const AHEAD: chrono::Duration = chrono::Duration::minutes(10);

/// A token refresh: the account whose tokens are renewed.
#[derive(Serialize, Deserialize)]
pub struct TokensOf {
    account: i64,
}

impl queue::Payload for TokensOf {
    const KIND: &'static str = "refresh_tokens";
}

fn subject(account_id: i64) -> String {
    format!("account:{account_id}")
}

/// Plans the refresh of an account's token at `expires_at` less the margin (now, if that has
/// passed), replacing any refresh already planned.
pub(crate) async fn schedule<C: ConnectionTrait>(
    conn: &C,
    account_id: SocialAccountId,
    workspace_id: WorkspaceId,
    expires_at: Option<DateTime<Utc>>,
) -> Result<()> {
    queue::replan(
        conn,
        subject(account_id.0),
        workspace_id,
        &TokensOf {
            account: account_id.0,
        },
        expires_at.map(|at| refresh_time(crate::now(), at)),
    )
    .await
}

/// When to refresh a token that ends at `expires_at`: ten minutes before, but never sooner than
/// half its remaining life, so that short-lived tokens cannot make the job loop.
fn refresh_time(now: DateTime<Utc>, expires_at: DateTime<Utc>) -> DateTime<Utc> {
    let remaining = expires_at - now;
    if remaining <= chrono::Duration::zero() {
        return now;
    }
    (expires_at - AHEAD).max(now + remaining / 2)
}

/// Refreshes an account's token as soon as a worker can (a platform refused it early).
pub(crate) async fn refresh_soon(
    services: &Services,
    account_id: SocialAccountId,
    workspace_id: WorkspaceId,
) -> Result<()> {
    let txn = store::begin_write(&services.db).await?;
    schedule(&txn, account_id, workspace_id, Some(crate::now())).await?;
    txn.commit().await?;
    services.wake.notify_one();
    Ok(())
}

/// The refresh job of one account.
pub struct RefreshTokens;

impl Job for RefreshTokens {
    type Payload = TokensOf;

    async fn run(services: &Services, job: &job::Model, payload: TokensOf) -> Result<(), JobError> {
        run(services, job, payload).await
    }
}

async fn run(services: &Services, _job: &job::Model, payload: TokensOf) -> Result<(), JobError> {
    let retry = |e: crate::ServiceError| JobError::Retry(format!("{e:#}"));
    let Some((account, platform)) =
        connected_account(&services.db, SocialAccountId(payload.account)).await?
    else {
        return Ok(());
    };
    let Some(connector) = services.connectors.get(platform) else {
        return Err(JobError::Permanent(format!(
            "{platform} is not set up on this server"
        )));
    };
    // One read: the tokens to renew with, and their sealed form, which the renewal below is
    // written over only if it is still the stored one (another refresh, a disconnect or a
    // reconnect may come in between).
    let Some(row) = sealed_tokens(services, account.id).await.map_err(retry)? else {
        return Ok(());
    };
    let tokens = services.open_tokens(&row).map_err(retry)?;
    let (access_before, refresh_before) = (row.access_token, row.refresh_token);
    let account_ref = AccountRef {
        id: account.id,
        platform,
        external_id: account.external_id.clone(),
        username: account.username.clone(),
    };
    match connector
        .refresh(&account_ref, &tokens.access, tokens.refresh.as_ref())
        .await
    {
        Ok(grant) => {
            let now = crate::now();
            let rotated = match (&grant.refresh, &tokens.refresh) {
                (Some(new), Some(old)) => {
                    secrecy::ExposeSecret::expose_secret(new)
                        != secrecy::ExposeSecret::expose_secret(old)
                }
                (Some(_), None) => true,
                _ => false,
            };
            let renewed = TokenSet {
                access: grant.access,
                // Keep the newest refresh token: a rotated one replaces the old.
                refresh: grant.refresh.or(tokens.refresh.clone()),
                expires_at: after_seconds(now, grant.expires_in),
                // A new refresh token does not inherit the old one's end (a past end would plan
                // the next renewal at once, again and again).
                refresh_expires_at: after_seconds(now, grant.refresh_expires_in).or(if rotated {
                    None
                } else {
                    tokens.refresh_expires_at
                }),
                scopes: if grant.scopes.is_empty() {
                    tokens.scopes.clone()
                } else {
                    grant.scopes
                },
            };
            let txn = store::begin_write(&services.db)
                .await
                .map_err(|e| retry(e.into()))?;
            // Takes the token row's lock, and only if nothing replaced the token meanwhile.
            let unchanged = account_token::Entity::update_many()
                .col_expr(account_token::Column::UpdatedAt, Expr::value(now))
                .filter(account_token::Column::AccountId.eq(account.id))
                .filter(account_token::Column::AccessToken.eq(access_before.as_str()))
                .filter(match &refresh_before {
                    Some(sealed) => account_token::Column::RefreshToken.eq(sealed.as_str()),
                    None => account_token::Column::RefreshToken.is_null(),
                })
                .exec(&txn)
                .await
                .map_err(|e| retry(e.into()))?
                .rows_affected
                == 1;
            let connected = social_account::Entity::find_by_id(account.id)
                .one(&txn)
                .await
                .map_err(|e| retry(e.into()))?
                .is_some_and(|a| a.status == AccountStatus::Connected);
            if !(unchanged && connected) {
                drop(txn);
                // Ours lost (the account was disconnected, or refreshed elsewhere): give the
                // new tokens back rather than leave them alive.
                connector
                    .discard(&renewed.access, renewed.refresh.as_ref())
                    .await;
                return Ok(());
            }
            services
                .store_tokens(&txn, SocialAccountId(account.id), &renewed)
                .await
                .map_err(retry)?;
            schedule(
                &txn,
                SocialAccountId(account.id),
                WorkspaceId(account.workspace_id),
                renewed.renew_by(),
            )
            .await
            .map_err(retry)?;
            txn.commit().await.map_err(|e| retry(e.into()))?;
            Ok(())
        }
        Err(ConnectError::Refused(why)) => {
            // Refused because another refresh already used this refresh token: nothing wrong.
            let now_stored = sealed_tokens(services, account.id).await.map_err(retry)?;
            if now_stored.map(|r| (r.access_token, r.refresh_token))
                != Some((access_before, refresh_before))
            {
                return Ok(());
            }
            reconnect_needed(services, &account, &why)
                .await
                .map_err(retry)?;
            Ok(())
        }
        Err(ConnectError::Unavailable(why)) => Err(JobError::Retry(why)),
    }
}

/// The stored (sealed) token row of an account, to notice when it changes (platforms without
/// refresh tokens renew the access token itself).
async fn sealed_tokens(
    services: &Services,
    account_id: i64,
) -> Result<Option<account_token::Model>> {
    Ok(account_token::Entity::find_by_id(account_id)
        .one(&services.db)
        .await?)
}

/// `now` plus a platform's `expires_in`, when it gave one (at most ten years, so that an
/// absurd answer cannot overflow).
pub(crate) fn after_seconds(now: DateTime<Utc>, seconds: Option<u64>) -> Option<DateTime<Utc>> {
    let seconds = i64::try_from(seconds?.min(10 * 365 * 24 * 3600)).ok()?;
    now.checked_add_signed(chrono::Duration::seconds(seconds))
}

/// Marks the account "reconnect needed", logs it and e-mails the workspace's owners and admins.
async fn reconnect_needed(
    services: &Services,
    account: &social_account::Model,
    why: &str,
) -> Result<()> {
    let platform = Platform::parse(&account.platform)
        .map(|p| p.label())
        .unwrap_or("the platform");
    let txn = store::begin_write(&services.db).await?;
    let changed = social_account::Entity::update_many()
        .col_expr(
            social_account::Column::Status,
            Expr::value(AccountStatus::ReconnectNeeded),
        )
        .col_expr(social_account::Column::UpdatedAt, Expr::value(crate::now()))
        .filter(social_account::Column::Id.eq(account.id))
        .filter(social_account::Column::Status.eq(AccountStatus::Connected))
        .exec(&txn)
        .await?
        .rows_affected;
    if changed == 0 {
        // Disconnected or reconnected meanwhile: nothing to tell.
        return Ok(());
    }
    crate::analytics::kept::account_changed(&txn, account.id).await?;
    activity::record(
        &txn,
        WorkspaceId(account.workspace_id),
        None,
        activity::Entry {
            action: "account.reconnect_needed",
            object_type: "account",
            object_id: Some(account.id),
            summary: format!(
                "{platform} @{} needs to be reconnected ({why}); its posts wait",
                account.username
            ),
        },
    )
    .await?;
    let managers = membership::Entity::find()
        .filter(membership::Column::WorkspaceId.eq(account.workspace_id))
        .filter(membership::Column::Role.is_in([Role::Owner.as_str(), Role::Admin.as_str()]))
        .find_also_related(user::Entity)
        .all(&txn)
        .await?;
    let link = format!("{}/w/{}/accounts", services.base_url, account.workspace_id);
    for (_, person) in managers {
        if let Some(person) = person {
            let email = emails::reconnect_needed(
                &person.email,
                &person.name,
                platform,
                &account.username,
                &link,
            );
            emails::queue(&txn, email, Some(UserId(person.id))).await?;
        }
    }
    txn.commit().await?;
    Ok(())
}

/// After a reconnection: the account's waiting posts are sent (at their time, or now if it has
/// passed), and its next refresh is planned.
pub(crate) async fn resume<C: ConnectionTrait>(
    conn: &C,
    account: &social_account::Model,
    expires_at: Option<DateTime<Utc>>,
) -> Result<usize> {
    schedule(
        conn,
        SocialAccountId(account.id),
        WorkspaceId(account.workspace_id),
        expires_at,
    )
    .await?;
    // Targets still scheduled drop the note a disconnect left on them.
    post_target::Entity::update_many()
        .col_expr(
            post_target::Column::LastError,
            sea_orm::sea_query::Expr::value(Option::<String>::None),
        )
        .filter(post_target::Column::AccountId.eq(account.id))
        .filter(post_target::Column::State.eq(PostState::Scheduled))
        .exec(conn)
        .await?;
    let waiting = post_target::Entity::find()
        .filter(post_target::Column::AccountId.eq(account.id))
        .filter(post_target::Column::State.eq(PostState::Waiting))
        .find_also_related(post::Entity)
        .all(conn)
        .await?;
    let now = crate::now();
    let mut resumed = 0;
    for (target, post) in waiting {
        let Some(post) = post else { continue };
        let mut row: post_target::ActiveModel = target.clone().into();
        row.state = Set(PostState::Scheduled);
        row.last_error = Set(None);
        row.updated_at = Set(now);
        let target = row.update(conn).await?;
        let at = post.scheduled_at.unwrap_or(now).max(now);
        publishing::enqueue(conn, &post, &target, &account.platform, at).await?;
        publishing::update_post_state(conn, &post).await?;
        resumed += 1;
    }
    Ok(resumed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refreshes_come_ahead_of_expiry_but_never_in_a_loop() {
        let now = crate::now();
        let two_hours = now + chrono::Duration::hours(2);
        assert_eq!(refresh_time(now, two_hours), two_hours - AHEAD);
        // A five-minute token is refreshed after half its life, not at once.
        let short = now + chrono::Duration::minutes(5);
        assert_eq!(
            refresh_time(now, short),
            now + chrono::Duration::seconds(150)
        );
        assert_eq!(refresh_time(now, now - chrono::Duration::minutes(1)), now);
        assert!(after_seconds(now, Some(u64::MAX)).is_some(), "no overflow");
        assert_eq!(after_seconds(now, None), None);
    }
}

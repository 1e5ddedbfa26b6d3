//! Reading comments back: one planned job per connected account of a workspace with the
//! comments workspace on (`comments:<account>`), which reads the conversation under each of the
//! account's published posts on the age-decayed plan of the metrics
//! ([`domain::metrics::next_look`]: hourly for 48 hours, daily to 30 days, weekly to 90 days),
//! then plans itself for the next post due.
//!
//! A comment is written once by its id at the platform (per account), however often it is read:
//! a read again updates only what the platform may change (the text, hidden). Comments older
//! than the workspace's retention period are not taken in again after the purge forgot them.
//! On X every comment read is counted against the workspace's monthly read budget, with the
//! metrics' reads.

use super::{account_ref, rules};
use crate::account_tokens::connected_account;
use crate::analytics::ingest::{GONE, X_READS, missing_scopes};
use crate::jobs::{Job, JobError};
use crate::queue;
use crate::{Result, Services};
use chrono::{DateTime, Duration, Utc};
use domain::comments::{labels_for, stored_text};
use domain::metrics::next_look;
use domain::{Platform, SocialAccountId, WorkspaceId};
use providers::social::comments::{CommentError, Thread};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use store::entities::states::{AccountStatus, PostState};
use store::entities::{comment, job, post_target, social_account, workspace};

/// How far back X's recent search reaches.
const X_SEARCH_REACH: Duration = Duration::days(7);
/// Posts older than this are not read any more.
const SETTLED: Duration = Duration::days(90);
/// At most this many posts are read in one run (the rest in the next, planned at once).
const POSTS_PER_RUN: usize = 100;
/// Posts due within this long are read together with those due now.
const GATHER: Duration = Duration::minutes(15);
/// When nothing is due, the account is looked at again after this long (a post published
/// meanwhile brings it forward).
const IDLE: Duration = Duration::days(1);

/// A comments read: the account read.
#[derive(Serialize, Deserialize)]
pub struct CommentsOf {
    pub account: i64,
}

impl queue::Payload for CommentsOf {
    const KIND: &'static str = "read_comments";
}

impl queue::AccountRead for CommentsOf {
    const PREFIX: &'static str = "comments";
    fn of(account: i64) -> Self {
        Self { account }
    }
}

/// Called in the transaction that records a post published to `account`: in a workspace with
/// the comments workspace on, the account's next read is brought forward to now.
pub(crate) async fn on_published<C: ConnectionTrait>(
    conn: &C,
    account: &social_account::Model,
    workspace: &workspace::Model,
    now: DateTime<Utc>,
) -> Result<()> {
    let on = workspace.comments_on_at.is_some();
    if on {
        queue::plan_read_by::<CommentsOf, _>(conn, account, now).await?;
    }
    Ok(())
}

/// One read of an account's comments.
pub struct ReadComments;

impl Job for ReadComments {
    type Payload = CommentsOf;

    async fn run(
        services: &Services,
        _job: &job::Model,
        payload: CommentsOf,
    ) -> Result<(), JobError> {
        read(services, SocialAccountId(payload.account)).await
    }
}

fn retry(err: impl Into<crate::ServiceError>) -> JobError {
    JobError::retry(err)
}

async fn read(services: &Services, account_id: SocialAccountId) -> Result<(), JobError> {
    let Some((account, platform)) = connected_account(&services.db, account_id).await? else {
        return Ok(());
    };
    let Some(ws_row) = workspace::Entity::find_by_id(account.workspace_id)
        .one(&services.db)
        .await
        .map_err(retry)?
    else {
        return Ok(());
    };
    let (Some(_), Some(adapter)) = (ws_row.comments_on_at, services.comments.get(platform)) else {
        return Ok(());
    };
    let ws = WorkspaceId(account.workspace_id);
    match services.require_comments(ws).await {
        Ok(()) => {}
        Err(crate::ServiceError::PlanLimit { .. }) => return Ok(()),
        Err(e) => return Err(retry(e)),
    }
    let who = account_ref(&account, platform);
    if !adapter.abilities(&who).read {
        return Ok(());
    }
    let Some(tokens) = services.tokens_of(account_id).await.map_err(retry)? else {
        return Ok(());
    };
    // Connected before the comments workspace asked for its permissions: nothing is read until
    // the account is connected again (the page says so).
    if missing_scopes(adapter.comment_scopes(), &tokens.scopes).is_some() {
        return Ok(());
    }
    let now = crate::now();
    let kept_from = now - Duration::days(i64::from(ws_row.comments_kept_days.max(1)));
    let rules = rules(&services.db, ws).await.map_err(retry)?;
    let month = crate::plans::month_of(&services.db, ws, now)
        .await
        .map_err(retry)?;
    let mut left = if platform == Platform::X {
        let used = crate::plans::counted(&services.db, ws, X_READS, &month)
            .await
            .map_err(retry)?;
        Some(services.x_reads_per_month.saturating_sub(used))
    } else {
        None
    };

    let targets = post_target::Entity::find()
        .filter(post_target::Column::AccountId.eq(account.id))
        .filter(post_target::Column::State.eq(PostState::Published))
        .filter(post_target::Column::PlatformPostId.is_not_null())
        .filter(post_target::Column::PublishedAt.gt(now - SETTLED))
        .all(&services.db)
        .await
        .map_err(retry)?;
    let mut due: Vec<(post_target::Model, DateTime<Utc>)> = targets
        .into_iter()
        .filter(|t| t.comments_error.as_deref() != Some(GONE))
        // X's search reaches back seven days: an older post's replies cannot be read.
        .filter(|t| {
            platform != Platform::X || t.published_at.is_some_and(|at| at > now - X_SEARCH_REACH)
        })
        .filter_map(|t| {
            let next = next_look(t.published_at?, t.comments_read_at)?;
            Some((t, next))
        })
        .collect();
    due.sort_by_key(|(_, next)| *next);
    let (now_due, later): (Vec<_>, Vec<_>) =
        due.into_iter().partition(|(_, next)| *next <= now + GATHER);
    let mut more_now = false;
    for (n, (target, _)) in now_due.iter().enumerate() {
        if n >= POSTS_PER_RUN {
            more_now = true;
            break;
        }
        if left == Some(0) {
            break;
        }
        let Some(post_id) = target.platform_post_id.as_deref() else {
            continue;
        };
        // X bills each post read: only what is new since the last read is asked for.
        let since = (platform == Platform::X)
            .then_some(target.comments_read_at)
            .flatten();
        let started = crate::now();
        let read = adapter.comments(&who, &tokens.access, post_id, since).await;
        if let Some(l) = left.as_mut() {
            // X bills each post and each profile an answer carries: the replies, the post
            // itself, and their authors.
            let reads = read.as_ref().map_or(1, |t| {
                let authors: std::collections::HashSet<&str> =
                    t.comments.iter().map(|c| c.author_name.as_str()).collect();
                (t.comments.len() + 1 + authors.len()) as u64
            });
            crate::plans::count_up_key(&services.db, ws, X_READS, &month, reads, now)
                .await
                .map_err(retry)?;
            *l = l.saturating_sub(reads);
        }
        let problem = match read {
            Ok(thread) => {
                store_thread(
                    &services.db,
                    &account,
                    target,
                    thread,
                    kept_from,
                    &rules,
                    started,
                )
                .await
                .map_err(retry)?;
                None
            }
            Err(CommentError::Gone) => Some(GONE.to_owned()),
            Err(e @ (CommentError::TokenExpired | CommentError::MissingPermission(_))) => {
                // Renewing the token, or the reconnection, is another job's: tomorrow again.
                tracing::info!(account = account.id, "comments not read: {e}");
                queue::plan_read_by::<CommentsOf, _>(&services.db, &account, now + IDLE)
                    .await
                    .map_err(retry)?;
                return Ok(());
            }
            Err(CommentError::RateLimited { retry_after }) => {
                let at = now + Duration::from_std(retry_after).unwrap_or(Duration::hours(1));
                queue::plan_read_by::<CommentsOf, _>(&services.db, &account, at)
                    .await
                    .map_err(retry)?;
                return Ok(());
            }
            Err(e) => Some(e.to_string()),
        };
        // A read that failed is not a read: the post stays due (and on X, the next read asks
        // from the last one that worked, so no reply in between is missed).
        let mut update = post_target::Entity::update_many().col_expr(
            post_target::Column::CommentsError,
            Expr::value(problem.clone()),
        );
        if problem.is_none() || problem.as_deref() == Some(GONE) {
            update = update.col_expr(post_target::Column::CommentsReadAt, Expr::value(now));
        }
        update
            .filter(post_target::Column::Id.eq(target.id))
            .exec(&services.db)
            .await
            .map_err(retry)?;
    }
    let next = if more_now {
        now
    } else {
        later.first().map_or(now + IDLE, |(_, next)| *next)
    };
    queue::plan_read_by::<CommentsOf, _>(&services.db, &account, next.min(now + IDLE))
        .await
        .map_err(retry)?;
    Ok(())
}

/// Writes what a read of `target`'s conversation gave: new comments labelled, known ones
/// updated where the platform changed them, the comments the account answered marked (and a
/// reply whose sending was unconfirmed settled), and, after a read of the whole conversation,
/// those no longer there marked gone. `started` is when the read began: a row written since
/// (a reply sent meanwhile) is not judged by it.
pub(crate) async fn store_thread<C: ConnectionTrait>(
    conn: &C,
    account: &social_account::Model,
    target: &post_target::Model,
    thread: Thread,
    kept_from: DateTime<Utc>,
    rules: &[domain::comments::Rule],
    started: DateTime<Utc>,
) -> Result<()> {
    let now = crate::now();
    // X's search does not say whether a reply is hidden: what was set here is kept.
    let changing: &[comment::Column] = if account.platform == Platform::X.slug() {
        &[comment::Column::Body, comment::Column::GoneAt]
    } else {
        &[
            comment::Column::Body,
            comment::Column::Hidden,
            comment::Column::GoneAt,
        ]
    };
    for c in &thread.comments {
        if c.created_at < kept_from {
            continue;
        }
        let labels = if c.by_account {
            String::new()
        } else {
            labels_for(&c.text, rules).join(",")
        };
        comment::Entity::insert(comment::ActiveModel {
            workspace_id: Set(account.workspace_id),
            account_id: Set(account.id),
            target_id: Set(target.id),
            platform_id: Set(c.id.clone()),
            parent_platform_id: Set(c.parent_id.clone()),
            author_name: Set(stored_text(&c.author_name)),
            author_platform_id: Set(c.author_id.clone()),
            body: Set(stored_text(&c.text)),
            by_account: Set(c.by_account),
            hidden: Set(c.hidden),
            written_at: Set(c.created_at),
            seen_at: Set(now),
            gone_at: Set(None),
            labels: Set(labels),
            assigned_to: Set(None),
            done: Set(false),
            replied_at: Set(None),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::columns([comment::Column::AccountId, comment::Column::PlatformId])
                .update_columns(changing.iter().copied())
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    }
    // What the account answered (here or on the platform) no longer needs a reply.
    for c in thread.comments.iter().filter(|c| c.by_account) {
        if let Some(parent) = &c.parent_id {
            comment::Entity::update_many()
                .col_expr(comment::Column::RepliedAt, Expr::value(c.created_at))
                .filter(comment::Column::AccountId.eq(account.id))
                .filter(comment::Column::PlatformId.eq(parent.as_str()))
                .filter(comment::Column::RepliedAt.is_null())
                .exec(conn)
                .await?;
            super::reply::confirm(
                conn,
                account.id,
                parent,
                &c.id,
                &stored_text(&c.text),
                c.created_at,
            )
            .await?;
        }
    }
    if thread.complete {
        let there: Vec<String> = thread.comments.iter().map(|c| c.id.clone()).collect();
        let mut gone = comment::Entity::update_many()
            .col_expr(comment::Column::GoneAt, Expr::value(now))
            .filter(comment::Column::TargetId.eq(target.id))
            .filter(comment::Column::GoneAt.is_null())
            .filter(comment::Column::SeenAt.lt(started))
            .filter(comment::Column::WrittenAt.gte(kept_from));
        if !there.is_empty() {
            gone = gone.filter(comment::Column::PlatformId.is_not_in(there));
        }
        gone.exec(conn).await?;
    }
    Ok(())
}

/// The daily upkeep of the comments workspace, run by the retention job: each workspace's
/// conversations quiet for longer than its retention period are deleted (whether or not the
/// comments workspace is still on), and every connected account of a workspace with it on that
/// has no read planned gets one.
pub(crate) async fn upkeep(services: &Services, now: DateTime<Utc>) -> Result<u64> {
    let purged = purge(&services.db, now).await?;
    super::reply::settle_stale(&services.db, now).await?;
    let workspaces: Vec<i64> = workspace::Entity::find()
        .filter(workspace::Column::CommentsOnAt.is_not_null())
        .all(&services.db)
        .await?
        .into_iter()
        .map(|w| w.id)
        .collect();
    if workspaces.is_empty() {
        return Ok(purged);
    }
    let accounts = social_account::Entity::find()
        .filter(social_account::Column::WorkspaceId.is_in(workspaces))
        .filter(social_account::Column::Status.eq(AccountStatus::Connected))
        .all(&services.db)
        .await?;
    for account in accounts {
        if !queue::is_planned::<_, CommentsOf>(
            &services.db,
            &<CommentsOf as queue::AccountRead>::subject(account.id),
        )
        .await?
        {
            queue::plan_read::<CommentsOf, _>(&services.db, &account, Some(now)).await?;
        }
    }
    Ok(purged)
}

/// Deletes the conversations (a post target's comments, and the replies written to them) whose
/// last comment is older than their workspace's retention period. Returns the comments deleted.
pub async fn purge<C: ConnectionTrait>(conn: &C, now: DateTime<Utc>) -> Result<u64> {
    use sea_orm::{
        QuerySelect,
        sea_query::{ExprTrait as _, Func, Query},
    };
    let holders: Vec<i64> = comment::Entity::find()
        .select_only()
        .column(comment::Column::WorkspaceId)
        .distinct()
        .into_tuple()
        .all(conn)
        .await?;
    let mut purged = 0;
    for ws in holders {
        let Some(w) = workspace::Entity::find_by_id(ws).one(conn).await? else {
            continue;
        };
        let cutoff = now - Duration::days(i64::from(Ord::max(w.comments_kept_days, 1)));
        // The targets whose newest comment is older than the cutoff.
        let quiet = Query::select()
            .column(comment::Column::TargetId)
            .from(comment::Entity)
            .and_where(comment::Column::WorkspaceId.eq(ws))
            .group_by_col(comment::Column::TargetId)
            .and_having(Expr::expr(Func::max(Expr::col(comment::Column::WrittenAt))).lt(cutoff))
            .to_owned();
        purged += comment::Entity::delete_many()
            .filter(comment::Column::WorkspaceId.eq(ws))
            .filter(comment::Column::TargetId.in_subquery(quiet))
            .exec(conn)
            .await?
            .rows_affected;
    }
    Ok(purged)
}

//! Publishing a post's targets: on time, once.
//!
//! Each target of a scheduled post has one `publish` job, due at the post's time. Running it
//! takes three steps:
//!
//! 1. In one transaction: check the job still matches the post (same revision, target still
//!    waiting), then write the attempt as *started*, with a fresh idempotency key.
//! 2. Outside any transaction: hand the request to the platform's [`Publisher`].
//! 3. In one transaction: write the attempt's result, the target's state and the post's.
//!
//! If the process dies between 1 and 3, the job's lease runs out and another worker finds the
//! attempt still open. It never simply calls the platform again: it asks the platform whether a
//! post with that idempotency key exists (where the API can tell), and otherwise marks the
//! target *unconfirmed* for a person to decide. The same holds when a call fails in a way that
//! may have reached the platform (a timeout after sending).
//!
//! This module is what other areas use: the job's payload and how it is queued, the post's
//! state from its targets', and holding targets of a disconnected account. The job itself is
//! in [`job`]; a person's actions on a failed or unconfirmed target are in [`resolve`].
//!
//! [`Publisher`]: providers::social::Publisher

pub mod batch;
pub mod job;
pub mod resolve;

use crate::Result;
use crate::queue::{self, NewJob};
use chrono::{DateTime, Utc};
use domain::{Platform, PostId, TargetId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use store::entities::states::PostState;
use store::entities::{post, post_target, publish_attempt, social_account};

/// How many times a target is tried before it is marked failed.
pub const MAX_ATTEMPTS: i32 = 5;

/// The outcomes a publish attempt ends with.
pub use store::entities::states::AttemptOutcome;

/// A publish job: one target, as it was at the post's `revision` when it was queued.
#[derive(Debug, Serialize, Deserialize)]
pub struct PublishTarget {
    pub target: i64,
    pub revision: i32,
}

impl queue::Payload for PublishTarget {
    const KIND: &'static str = "publish";
}

/// The job subject of a target, by which its queued jobs are found and withdrawn.
pub fn subject(target_id: TargetId) -> String {
    format!("post_target:{target_id}")
}

/// The concurrency key of publish jobs for one platform.
pub fn concurrency_key(platform: &str) -> String {
    format!("{}:{platform}", <PublishTarget as queue::Payload>::KIND)
}

/// The concurrency key of publish jobs for one account: under its platform's key, so that the
/// platform's limit and the per-account limit (`publish:<platform>:*`) both hold.
pub fn account_key(platform: &str, account_id: i64) -> String {
    format!("{}:{account_id}", concurrency_key(platform))
}

/// The limit that holds for each account of `platform` on its own.
pub fn per_account_limit_key(platform: &str) -> String {
    format!("{}:*", concurrency_key(platform))
}

/// Queues the publish job of `target`, due at `at`.
pub(crate) async fn enqueue<C: ConnectionTrait>(
    conn: &C,
    post: &post::Model,
    target: &post_target::Model,
    platform: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    let mut job = NewJob::of(&PublishTarget {
        target: target.id,
        revision: post.revision,
    })?;
    job.run_at = at;
    job.max_attempts = MAX_ATTEMPTS;
    job.workspace_id = Some(post.workspace_id);
    job.concurrency_key = Some(account_key(platform, target.account_id));
    job.subject = Some(subject(TargetId(target.id)));
    queue::enqueue(conn, job).await?;
    Ok(())
}

/// The longest a platform call may take. Well under the job's lease, so that no other worker
/// takes the job while the call is still running.
pub const CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// Takes the post's row lock for the rest of the transaction, so that targets finishing at
/// the same moment update the post's state one after the other, and reads the post in the
/// same statement. `None` if the post is gone.
pub(crate) async fn locked_post<C: ConnectionTrait>(
    conn: &C,
    post_id: PostId,
) -> Result<Option<post::Model>> {
    let mut locked = post::Entity::update_many()
        .col_expr(post::Column::UpdatedAt, Expr::value(crate::now()))
        .filter(post::Column::Id.eq(post_id.0))
        .exec_with_returning(conn)
        .await?;
    Ok(locked.pop())
}

/// Recomputes a post's state from its targets' and writes it (with the failures' reasons).
pub(crate) async fn update_post_state<C: ConnectionTrait>(
    conn: &C,
    post: &post::Model,
) -> Result<post::Model> {
    let targets = post_target::Entity::find()
        .filter(post_target::Column::PostId.eq(post.id))
        .find_also_related(social_account::Entity)
        .all(conn)
        .await?;
    let of = state_of_post(targets.iter().map(|(t, a)| (t, a.as_ref())));
    let mut row: post::ActiveModel = post.clone().into();
    row.state = Set(of.state);
    row.failure_reason = Set(of.failure_reason);
    row.published_at = Set(of.published_at);
    row.updated_at = Set(crate::now());
    Ok(row.update(conn).await?)
}

/// Takes the row locks of the posts `ids` for the rest of the transaction, in the order of
/// their ids, and reads them (those gone are left out). Two transactions that lock some of the
/// same posts this way take them in the same order, so neither waits on the other in a circle.
/// Nothing is written: a post the caller then leaves alone is as it was. (PostgreSQL locks the
/// rows; SQLite's write transaction, begun `IMMEDIATE`, already holds the one write lock.)
pub(crate) async fn locked_posts<C: ConnectionTrait>(
    conn: &C,
    ids: impl IntoIterator<Item = i64>,
) -> Result<std::collections::HashMap<i64, post::Model>> {
    use sea_orm::QueryOrder;
    let ids: std::collections::BTreeSet<i64> = ids.into_iter().collect();
    let mut select = post::Entity::find()
        .filter(post::Column::Id.is_in(ids))
        .order_by_asc(post::Column::Id);
    if conn.get_database_backend() == sea_orm::DbBackend::Postgres {
        select = select.lock_exclusive();
    }
    let posts = select.all(conn).await?;
    Ok(posts.into_iter().map(|p| (p.id, p)).collect())
}

/// Closes the attempts still open among those `which` names, as `outcome` with `error`;
/// answers how many it closed (an attempt another run closed first is left as it was).
pub(crate) async fn close_open_attempts<C: ConnectionTrait>(
    conn: &C,
    which: sea_orm::Condition,
    outcome: AttemptOutcome,
    error: Option<&str>,
) -> Result<u64> {
    Ok(publish_attempt::Entity::update_many()
        .col_expr(
            publish_attempt::Column::FinishedAt,
            Expr::value(crate::now()),
        )
        .col_expr(publish_attempt::Column::Outcome, Expr::value(outcome))
        .col_expr(
            publish_attempt::Column::Error,
            Expr::value(error.map(str::to_owned)),
        )
        .filter(which)
        .filter(publish_attempt::Column::FinishedAt.is_null())
        .exec(conn)
        .await?
        .rows_affected)
}

/// A new attempt at `target`, its `number`th, started `now`, with a fresh idempotency key.
pub(crate) fn new_attempt(
    target: i64,
    number: i32,
    now: DateTime<Utc>,
) -> publish_attempt::ActiveModel {
    publish_attempt::ActiveModel {
        target_id: Set(target),
        number: Set(number),
        idempotency_key: Set(format!(
            "sz-{target}-{number}-{}",
            &crate::tokens::random_token()[..10]
        )),
        started_at: Set(now),
        ..Default::default()
    }
}

/// A post's state, the reasons of its failed or unconfirmed targets and when it was last
/// published, from its targets (each with its account, when that still exists).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PostStateOf {
    pub state: PostState,
    pub failure_reason: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
}

pub(crate) fn state_of_post<'a>(
    targets: impl IntoIterator<Item = (&'a post_target::Model, Option<&'a social_account::Model>)>,
) -> PostStateOf {
    let mut targets: Vec<_> = targets.into_iter().collect();
    targets.sort_by_key(|(t, _)| t.id);
    let states: Vec<PostState> = targets.iter().map(|(t, _)| t.state).collect();
    let reasons: Vec<String> = targets
        .iter()
        .filter(|(t, _)| t.state == PostState::Failed || t.state == PostState::Unconfirmed)
        .map(|(t, a)| {
            let who = a
                .map(|a| format!("{} @{}", a.platform, a.username))
                .unwrap_or_default();
            format!("{who}: {}", t.last_error.as_deref().unwrap_or("failed"))
        })
        .collect();
    PostStateOf {
        state: aggregate(&states),
        failure_reason: (!reasons.is_empty()).then(|| reasons.join("\n")),
        published_at: targets.iter().filter_map(|(t, _)| t.published_at).max(),
    }
}

/// Writes the state of each of `posts` from its targets among `targets` (all of each post's,
/// with their `accounts`), one statement for the posts that end the same; answers the posts as
/// written.
pub(crate) async fn write_post_states<C: ConnectionTrait>(
    conn: &C,
    posts: Vec<post::Model>,
    targets: &[post_target::Model],
    accounts: &std::collections::HashMap<i64, social_account::Model>,
    now: DateTime<Utc>,
) -> Result<Vec<post::Model>> {
    let mut groups: Vec<(PostStateOf, Vec<i64>)> = Vec::new();
    let mut written = Vec::with_capacity(posts.len());
    for mut post in posts {
        let of = state_of_post(
            targets
                .iter()
                .filter(|t| t.post_id == post.id)
                .map(|t| (t, accounts.get(&t.account_id))),
        );
        match groups.iter_mut().find(|(g, _)| *g == of) {
            Some((_, ids)) => ids.push(post.id),
            None => groups.push((of.clone(), vec![post.id])),
        }
        post.state = of.state;
        post.failure_reason = of.failure_reason;
        post.published_at = of.published_at;
        post.updated_at = now;
        written.push(post);
    }
    for (of, ids) in groups {
        post::Entity::update_many()
            .col_expr(post::Column::State, Expr::value(of.state))
            .col_expr(post::Column::FailureReason, Expr::value(of.failure_reason))
            .col_expr(post::Column::PublishedAt, Expr::value(of.published_at))
            .col_expr(post::Column::UpdatedAt, Expr::value(now))
            .filter(post::Column::Id.is_in(ids))
            .exec(conn)
            .await?;
    }
    Ok(written)
}

/// A post's state from its targets' states.
pub fn aggregate(targets: &[PostState]) -> PostState {
    let all = |s: PostState| !targets.is_empty() && targets.iter().all(|t| *t == s);
    let any = |s: PostState| targets.contains(&s);
    if targets.is_empty() || all(PostState::Draft) {
        PostState::Draft
    } else if all(PostState::Scheduled) {
        PostState::Scheduled
    } else if any(PostState::Publishing) || any(PostState::Scheduled) {
        PostState::Publishing
    } else if any(PostState::Waiting) {
        PostState::Waiting
    } else if any(PostState::Unconfirmed) {
        PostState::Unconfirmed
    } else if all(PostState::Published) {
        PostState::Published
    } else if any(PostState::Published) {
        PostState::PartiallyPublished
    } else {
        PostState::Failed
    }
}

/// After a deliberate disconnect: the account's targets that are still to go out keep their
/// state and their jobs (a post scheduled days ahead stays scheduled, its other accounts
/// untouched, and can be edited to drop or replace the account); each says why it will wait.
/// If the account is still disconnected when a target's time comes, the target waits for a
/// reconnection instead of going out (see `begin`). Returns how many posts are affected.
pub(crate) async fn hold_for_disconnected<C: ConnectionTrait>(
    conn: &C,
    account: &social_account::Model,
) -> Result<usize> {
    let posts: Vec<i64> = post_target::Entity::find()
        .filter(post_target::Column::AccountId.eq(account.id))
        .filter(post_target::Column::State.is_in([PostState::Scheduled, PostState::Waiting]))
        .select_only()
        .column(post_target::Column::PostId)
        .distinct()
        .into_tuple()
        .all(conn)
        .await?;
    post_target::Entity::update_many()
        .col_expr(
            post_target::Column::LastError,
            Expr::value(disconnected_note(account)),
        )
        .col_expr(post_target::Column::UpdatedAt, Expr::value(crate::now()))
        .filter(post_target::Column::AccountId.eq(account.id))
        .filter(post_target::Column::State.is_in([PostState::Scheduled, PostState::Waiting]))
        .exec(conn)
        .await?;
    Ok(posts.len())
}

/// What a target of a disconnected account says until the account is back or the post is
/// edited.
pub(crate) fn disconnected_note(account: &social_account::Model) -> String {
    format!(
        "{} @{} was disconnected: reconnect it, or edit the post to drop or replace it. Until \
         then nothing goes out to it; the post's other accounts are not affected.",
        Platform::label_of(&account.platform),
        account.username
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_posts_state_follows_its_targets() {
        use PostState::*;
        assert_eq!(aggregate(&[]), Draft);
        assert_eq!(aggregate(&[Scheduled, Scheduled]), Scheduled);
        assert_eq!(aggregate(&[Scheduled, Published]), Publishing);
        assert_eq!(aggregate(&[Publishing, Failed]), Publishing);
        assert_eq!(aggregate(&[Published, Published]), Published);
        assert_eq!(aggregate(&[Published, Failed]), PartiallyPublished);
        assert_eq!(aggregate(&[Failed, Failed]), Failed);
        assert_eq!(aggregate(&[Published, Unconfirmed]), Unconfirmed);
        assert_eq!(aggregate(&[Published, Waiting]), Waiting);
        assert_eq!(aggregate(&[Scheduled, Waiting]), Publishing);
    }
}

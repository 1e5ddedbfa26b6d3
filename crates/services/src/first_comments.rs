//! A post's first comment: posted under each target's post once the post is out, on every
//! platform whose API takes comments (Facebook, Instagram and LinkedIn as a comment, X as a
//! reply in the post's thread; TikTok's publishing API has none, which the composer says).
//!
//! The comment is its own job, planned in the transaction that records the post as
//! published, so a crash after publishing cannot lose it. Its outcome lives on the target
//! (`comment_state`) and never changes the target's own state: a failed comment leaves the
//! post published, shows the reason, and a person can retry it. As with posts, a call is
//! written as started (`posting`) before it is made; a job that finds a comment still
//! `posting` (its worker stopped mid-call) does not post again blindly but leaves it
//! `unconfirmed` for a person, who can look at the post and retry.

use crate::jobs::{Job, JobError};
use crate::queue::{self, NewJob};
use crate::workspaces::{Membership, lock_as_editor};
use crate::{Result, ServiceError, Services};
use domain::media::Format;
use domain::{Platform, PostId, SocialAccountId, TargetId};
use providers::social::{CommentRequest, PublishError};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use store::entities::{job, post, post_target, social_account, user};

/// How many times a comment that failed in a passing way is tried.
const MAX_ATTEMPTS: i32 = 5;

/// The states of a target's first comment (`post_targets.comment_state`).
pub use store::entities::states::CommentState;

/// A first-comment job: the target whose comment it posts.
#[derive(Debug, Serialize, Deserialize)]
pub struct CommentTarget {
    target: i64,
}

impl queue::Payload for CommentTarget {
    const KIND: &'static str = "first_comment";
}

/// The comment text of `post`, when it has one worth posting.
fn text_of(post: &post::Model) -> Option<&str> {
    post.first_comment
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// Called in the transaction that records `target` as published: plans its first comment
/// (or records that the platform takes none). Does nothing for a post without one.
pub(crate) async fn plan<C: ConnectionTrait>(
    services: &Services,
    conn: &C,
    post: &post::Model,
    target_id: TargetId,
    platform: &str,
    format: Format,
) -> Result<()> {
    if text_of(post).is_none() {
        return Ok(());
    }
    let takes = Platform::parse(platform)
        .ok()
        .and_then(|p| services.publishers.get(p))
        .is_some_and(|p| p.takes_comments());
    if !takes || format == Format::Story {
        let why = if format == Format::Story {
            "A story takes no comments.".to_owned()
        } else {
            format!(
                "{}'s API takes no comments: add it in the app if you want one.",
                Platform::label_of(platform)
            )
        };
        set_state(
            conn,
            target_id.0,
            CommentState::Unsupported,
            None,
            Some(&why),
        )
        .await?;
        return Ok(());
    }
    set_state(conn, target_id.0, CommentState::Pending, None, None).await?;
    enqueue(conn, post.workspace_id, target_id.0, platform).await
}

async fn enqueue<C: ConnectionTrait>(
    conn: &C,
    workspace_id: i64,
    target_id: i64,
    platform: &str,
) -> Result<()> {
    let mut job = NewJob::of(&CommentTarget { target: target_id })?;
    job.max_attempts = MAX_ATTEMPTS;
    job.workspace_id = Some(workspace_id);
    // Comments count against the platform's publishing slots (its rate limits).
    job.concurrency_key = Some(crate::publishing::concurrency_key(platform));
    job.subject = Some(format!("first_comment:{target_id}"));
    queue::enqueue(conn, job).await?;
    Ok(())
}

async fn set_state<C: ConnectionTrait>(
    conn: &C,
    target_id: i64,
    to: CommentState,
    comment_id: Option<&str>,
    error: Option<&str>,
) -> Result<()> {
    post_target::Entity::update_many()
        .col_expr(post_target::Column::CommentState, Expr::value(to))
        .col_expr(
            post_target::Column::CommentId,
            Expr::value(comment_id.map(str::to_owned)),
        )
        .col_expr(
            post_target::Column::CommentError,
            Expr::value(error.map(str::to_owned)),
        )
        .filter(post_target::Column::Id.eq(target_id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Moves the comment of `target_id` from `from` to `to` when it is still in `from`; false
/// when it was not (someone else moved it first).
async fn move_state<C: ConnectionTrait>(
    conn: &C,
    target_id: i64,
    from: &[CommentState],
    to: CommentState,
    error: Option<&str>,
) -> Result<bool> {
    let res = post_target::Entity::update_many()
        .col_expr(post_target::Column::CommentState, Expr::value(to))
        .col_expr(
            post_target::Column::CommentError,
            Expr::value(error.map(str::to_owned)),
        )
        .filter(post_target::Column::Id.eq(target_id))
        .filter(post_target::Column::CommentState.is_in(from.iter().copied()))
        .exec(conn)
        .await?;
    Ok(res.rows_affected > 0)
}

/// The first-comment job: posts one target's comment.
pub struct PostFirstComment;

impl Job for PostFirstComment {
    type Payload = CommentTarget;

    async fn run(
        services: &Services,
        job: &job::Model,
        payload: CommentTarget,
    ) -> Result<(), JobError> {
        let last_try = job.attempts >= job.max_attempts;
        post_comment(services, payload.target, last_try)
            .await
            .map_err(JobError::retry)?
    }
}

/// What the job does; the outer `Result` is for failures of our own (the database), the inner
/// one is the job's outcome.
async fn post_comment(
    services: &Services,
    target_id: i64,
    last_try: bool,
) -> Result<Result<(), JobError>> {
    let db = &services.db;
    let Some(target) = post_target::Entity::find_by_id(target_id).one(db).await? else {
        return Ok(Ok(()));
    };
    match target.comment_state {
        Some(CommentState::Pending) => {}
        Some(CommentState::Posting) => {
            // The worker making the call stopped before recording its answer.
            let why = "The first comment was being posted when publishing was interrupted, so \
                       it may or may not be there. Look at the post, and retry the comment if \
                       it is missing.";
            move_state(
                db,
                target_id,
                &[CommentState::Posting],
                CommentState::Unconfirmed,
                Some(why),
            )
            .await?;
            return Ok(Ok(()));
        }
        _ => return Ok(Ok(())),
    }
    let (Some(post), Some(account)) = (
        post::Entity::find_by_id(target.post_id).one(db).await?,
        social_account::Entity::find_by_id(target.account_id)
            .one(db)
            .await?,
    ) else {
        return Ok(Ok(()));
    };
    let (Some(text), Some(post_id)) = (text_of(&post), target.platform_post_id.clone()) else {
        move_state(
            db,
            target_id,
            &[CommentState::Pending],
            CommentState::Failed,
            Some("The post has no first comment or no id at the platform any more."),
        )
        .await?;
        return Ok(Ok(()));
    };
    let platform =
        Platform::parse(&account.platform).map_err(|_| anyhow::anyhow!("unknown platform"))?;
    let Some(publisher) = services.publishers.get(platform) else {
        let why = format!("{platform} is not configured on this server any more.");
        move_state(
            db,
            target_id,
            &[CommentState::Pending],
            CommentState::Failed,
            Some(&why),
        )
        .await?;
        return Ok(Ok(()));
    };
    let request = CommentRequest {
        account: providers::social::AccountRef {
            id: account.id,
            platform,
            external_id: account.external_id.clone(),
            username: account.username.clone(),
        },
        access_token: services
            .tokens_of(SocialAccountId(account.id))
            .await?
            .map(|t| t.access),
        post_id,
        text: text.to_owned(),
    };
    // Written before the call, so that a crash mid-call is never followed by a blind repeat.
    if !move_state(
        db,
        target_id,
        &[CommentState::Pending],
        CommentState::Posting,
        None,
    )
    .await?
    {
        return Ok(Ok(()));
    }
    let answer = tokio::time::timeout(crate::publishing::CALL_TIMEOUT, publisher.comment(&request))
        .await
        .unwrap_or_else(|_| {
            Err(PublishError::Transient {
                reason: providers::social::TIMED_OUT.to_owned(),
                maybe_published: true,
            })
        });
    let who = format!("@{}", account.username);
    let (to, comment_id, error, outcome) = match answer {
        Ok(id) => (CommentState::Posted, Some(id), None, Ok(())),
        Err(PublishError::Transient {
            reason,
            maybe_published: true,
        }) => (
            CommentState::Unconfirmed,
            None,
            Some(format!(
                "{platform} gave no clear answer to the first comment ({reason}), so it may or \
                 may not be there. Look at the post, and retry the comment if it is missing."
            )),
            Ok(()),
        ),
        Err(PublishError::TokenExpired) => (
            CommentState::Failed,
            None,
            Some(format!(
                "{platform} did not let {who} comment: the authorisation has expired or does \
                 not include commenting. Reconnect the account, then retry the comment."
            )),
            Ok(()),
        ),
        Err(PublishError::InvalidContent { reason }) => (
            CommentState::Failed,
            None,
            Some(format!("{platform} refused the first comment: {reason}")),
            Ok(()),
        ),
        Err(err @ (PublishError::Transient { .. } | PublishError::RateLimited { .. }))
            if last_try =>
        {
            (
                CommentState::Failed,
                None,
                Some(format!("Gave up on the first comment: {err}")),
                Ok(()),
            )
        }
        Err(PublishError::RateLimited { retry_after }) => (
            CommentState::Pending,
            None,
            Some(format!("{platform}'s rate limit was reached; trying again")),
            Err(JobError::RetryAfter("rate limited".into(), retry_after)),
        ),
        Err(err) => (
            CommentState::Pending,
            None,
            Some(format!("{err}; trying again")),
            Err(JobError::Retry(err.to_string())),
        ),
    };
    let txn = store::begin_write(db).await?;
    if move_state(
        &txn,
        target_id,
        &[CommentState::Posting],
        to,
        error.as_deref(),
    )
    .await?
    {
        if let Some(id) = comment_id {
            post_target::Entity::update_many()
                .col_expr(post_target::Column::CommentId, Expr::value(id))
                .filter(post_target::Column::Id.eq(target_id))
                .exec(&txn)
                .await?;
        }
        let summary = match to {
            CommentState::Posted => Some(format!(
                "posted the first comment to {} {who}",
                platform.label()
            )),
            CommentState::Failed | CommentState::Unconfirmed => Some(format!(
                "the first comment to {} {who} {}",
                platform.label(),
                if to == CommentState::Failed {
                    "failed"
                } else {
                    "needs a check"
                }
            )),
            _ => None,
        };
        if let Some(summary) = summary {
            crate::posts::log_post(
                &txn,
                domain::WorkspaceId(post.workspace_id),
                None,
                "post.first_comment",
                PostId(post.id),
                summary,
            )
            .await?;
        }
    }
    txn.commit().await?;
    Ok(outcome)
}

impl Services {
    /// A person asks for a failed or unconfirmed first comment to be posted again (they
    /// looked, and it is not there).
    pub async fn retry_first_comment(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        post_id: PostId,
        target_id: TargetId,
    ) -> Result<()> {
        let txn = store::begin_write(&self.db).await?;
        lock_as_editor(&txn, ctx).await?;
        let target = post_target::Entity::find_by_id(target_id)
            .one(&txn)
            .await?
            .filter(|t| t.post_id == post_id.0)
            .ok_or(ServiceError::NotFound)?;
        let post = post::Entity::find_by_id(post_id)
            .one(&txn)
            .await?
            .filter(|p| p.workspace_id == ctx.workspace.id)
            .ok_or(ServiceError::NotFound)?;
        let account = social_account::Entity::find_by_id(target.account_id)
            .one(&txn)
            .await?
            .ok_or(ServiceError::NotFound)?;
        if !move_state(
            &txn,
            target_id.0,
            &[CommentState::Failed, CommentState::Unconfirmed],
            CommentState::Pending,
            None,
        )
        .await?
        {
            return Err(ServiceError::Forbidden(
                "Only a first comment that failed or needs a check can be tried again.".into(),
            ));
        }
        enqueue(&txn, post.workspace_id, target_id.0, &account.platform).await?;
        crate::posts::log_post(
            &txn,
            ctx.workspace_id(),
            Some(actor),
            "post.first_comment_retried",
            PostId(post.id),
            format!(
                "asked for the first comment to {} @{} to be posted again",
                Platform::label_of(&account.platform),
                account.username
            ),
        )
        .await?;
        txn.commit().await?;
        self.wake.notify_one();
        Ok(())
    }
}

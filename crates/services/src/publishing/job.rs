//! The publish job: the three steps of one target's attempt (see [`super`]), reconciling an
//! attempt a stopped process left open, and telling the author when a target fails.
//!
//! This file is longer than the others (about 850 lines) on purpose: the three steps, the
//! reconciliation of an attempt left open and the author's notice are one sequence around types
//! private to it (the prepared call, the step, how it finishes), and the exactly-once rules are
//! easiest to check when they are read in one place.

use super::batch::{Began, BeginAsk, CloseAsk, Closed, Opened};
use super::disconnected_note;
use super::{AttemptOutcome, CALL_TIMEOUT, PublishTarget, locked_post, update_post_state};
use crate::jobs::stages::{Stage, timed};
use crate::jobs::{Job, JobError};
use crate::posts::{self, log_post};
use crate::{Result, ServiceError, Services, emails};
use domain::media::MediaKind;
use providers::social::{
    AccountRef, FindRequest, Lookup, MediaRef, PublishError, PublishRequest, Published, Publisher,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use std::sync::Arc;
use store::entities::states::AccountStatus;
use store::entities::states::PostState;
use store::entities::{job, media_item, post, post_target, publish_attempt, social_account, user};

use domain::{Platform, PostId, SocialAccountId, TargetId, UserId, WorkspaceId};

/// Everything step 2 needs, read and written in step 1.
struct Prepared {
    /// The job's row, as claimed: a terminal result finishes it in the same transaction.
    job: job::Model,
    post: post::Model,
    target: post_target::Model,
    account: social_account::Model,
    attempt: publish_attempt::Model,
    publisher: Arc<dyn Publisher>,
}

impl Prepared {
    fn new(job: &job::Model, opened: Opened) -> Self {
        let Opened {
            post,
            target,
            account,
            attempt,
            publisher,
        } = opened;
        Self {
            job: job.clone(),
            post,
            target,
            account,
            attempt,
            publisher,
        }
    }

    fn account_ref(&self) -> Result<AccountRef> {
        Ok(AccountRef {
            id: self.account.id,
            platform: platform_of(&self.account)?,
            external_id: self.account.external_id.clone(),
            username: self.account.username.clone(),
        })
    }
}

enum Step {
    /// The job no longer applies (post changed, deleted, or target already done).
    Skip,
    /// An attempt was written; call the platform.
    Call(Box<Prepared>),
    /// An earlier attempt is still open: its process stopped mid-call.
    Reconcile(Box<Prepared>),
    /// Could not start; the target is marked failed with this reason.
    Refused(String),
    /// The account reached its platform's limit of posts in a window: try again after this.
    Wait(std::time::Duration),
}

/// How step 3 ends for the job.
enum Finish {
    Done,
    Retry(String, Option<std::time::Duration>),
    /// Nothing was posted and it is certain: start a fresh attempt now.
    Again,
    /// Not decided and not failed: look again after this wait, which is not an attempt.
    Later(std::time::Duration),
}

/// The publish job (see the three steps in [`super`]).
pub struct Publish;

impl Job for Publish {
    type Payload = PublishTarget;

    #[tracing::instrument(name = "publish", skip_all, fields(target = payload.target, revision = payload.revision))]
    async fn run(
        services: &Services,
        job: &job::Model,
        payload: PublishTarget,
    ) -> Result<(), JobError> {
        run(services, job, payload).await
    }
}

async fn run(
    services: &Services,
    job: &job::Model,
    payload: PublishTarget,
) -> Result<(), JobError> {
    let last_try = job.attempts >= job.max_attempts;
    match attempt(services, job, &payload, last_try).await {
        Err(JobError::Retry(reason) | JobError::RetryAfter(reason, _)) if last_try => {
            // The queue gives the job up now: the target must not stay "publishing".
            if let Err(err) = give_up(services, payload.target, &reason).await {
                tracing::error!(target = payload.target, error = ?err, "could not mark a target as given up");
            }
            Err(JobError::Permanent(reason))
        }
        other => other,
    }
}

async fn attempt(
    services: &Services,
    job: &job::Model,
    payload: &PublishTarget,
    last_try: bool,
) -> Result<(), JobError> {
    // Everything the request needs that can fail is read before the attempt is written, so
    // an attempt is only ever open while a call is really being made. The first begins in a
    // group with the jobs starting at the same moment, which reads it in its transaction; a
    // job the group leaves reads it here, then begins alone.
    let mut parts = None;
    // At most one fresh attempt after a reconciliation that found nothing.
    for round in 0..2 {
        let grouped = if round == 0 {
            let ask = BeginAsk {
                target: payload.target,
                revision: payload.revision,
            };
            timed(Stage::Begin, services.begin_in_group(ask)).await
        } else {
            Began::Alone
        };
        let step = match grouped {
            Began::Call(call) => {
                let (opened, gathered) = *call;
                parts = Some(Parts {
                    media: media_refs_of(services, gathered.media).await,
                    access_token: gathered.access_token,
                    utm: gathered.utm,
                });
                Step::Call(Box::new(Prepared::new(job, opened)))
            }
            Began::Skip => Step::Skip,
            Began::Alone => {
                if parts.is_none() {
                    let read = timed(Stage::Prepare, request_parts(services, payload.target));
                    parts = Some(read.await.map_err(retry)?);
                }
                timed(Stage::Begin, begin(services, job, payload))
                    .await
                    .map_err(retry)?
            }
        };
        let Some(parts) = parts.as_ref() else {
            // Not reached: a call or a reconciliation comes with its parts.
            return Ok(());
        };
        let finish = match step {
            Step::Skip => return Ok(()),
            Step::Refused(reason) => return Err(JobError::Permanent(reason)),
            Step::Wait(wait) => return Err(JobError::Later(wait)),
            Step::Call(prepared) => {
                tracing::info!(
                    post = prepared.post.id,
                    account = prepared.account.id,
                    platform = %prepared.account.platform,
                    attempt = prepared.attempt.id,
                    "calling the platform"
                );
                let request = PublishRequest {
                    account: prepared.account_ref().map_err(retry)?,
                    access_token: parts.access_token.clone(),
                    media: parts.media.clone(),
                    text: published_text(&prepared, parts.utm.as_deref()),
                    first_comment: prepared.post.first_comment.clone(),
                    options: serde_json::from_str(&prepared.target.options)
                        .unwrap_or(serde_json::Value::Null),
                    idempotency_key: prepared.attempt.idempotency_key.clone(),
                };
                let call = tokio::time::timeout(CALL_TIMEOUT, prepared.publisher.publish(&request));
                let result = timed(Stage::Call, call).await.unwrap_or_else(|_| {
                    Err(PublishError::Transient {
                        reason: format!(
                            "{} after {} seconds without an answer",
                            providers::social::TIMED_OUT,
                            CALL_TIMEOUT.as_secs()
                        ),
                        maybe_published: true,
                    })
                });
                match &result {
                    Ok(_) => {
                        tracing::info!(attempt = prepared.attempt.id, "the platform published it")
                    }
                    Err(err) => {
                        tracing::warn!(attempt = prepared.attempt.id, error = %err, "the platform call failed")
                    }
                }
                timed(
                    Stage::Settle,
                    settle(services, &prepared, parts, result, last_try),
                )
                .await
                .map_err(retry)?
            }
            Step::Reconcile(prepared) => {
                tracing::info!(
                    post = prepared.post.id,
                    attempt = prepared.attempt.id,
                    "an earlier attempt was left open: asking the platform"
                );
                let lookup = lookup(&prepared, parts).await;
                reconcile(services, &prepared, lookup, last_try, &Unknown::Stopped)
                    .await
                    .map_err(retry)?
            }
        };
        match finish {
            Finish::Done => return Ok(()),
            Finish::Retry(reason, Some(wait)) => return Err(JobError::RetryAfter(reason, wait)),
            Finish::Retry(reason, None) => return Err(JobError::Retry(reason)),
            Finish::Again => continue,
            Finish::Later(wait) => return Err(JobError::Later(wait)),
        }
    }
    Err(JobError::Retry(
        "the platform could not be reconciled".into(),
    ))
}

/// Asks the platform whether the open attempt's post exists, within the call time limit.
async fn lookup(prepared: &Prepared, parts: &Parts) -> Result<Lookup, PublishError> {
    let account = prepared
        .account_ref()
        .map_err(|e| PublishError::Transient {
            reason: e.to_string(),
            maybe_published: true,
        })?;
    let text = published_text(prepared, parts.utm.as_deref());
    let attempt = FindRequest {
        idempotency_key: &prepared.attempt.idempotency_key,
        text: &text,
        since: prepared.attempt.started_at,
        access_token: parts.access_token.as_ref(),
    };
    let asked = prepared.publisher.find(&account, &attempt);
    tokio::time::timeout(CALL_TIMEOUT, asked)
        .await
        .unwrap_or_else(|_| {
            Err(PublishError::Transient {
                reason: "the platform did not answer the lookup in time".into(),
                maybe_published: true,
            })
        })
}

/// What a target's request carries besides the post's text.
#[derive(Default)]
struct Parts {
    /// The files, with signed addresses for the platform to fetch.
    media: Vec<MediaRef>,
    /// The account's access token, opened.
    access_token: Option<secrecy::SecretString>,
    /// The campaign's UTM tag for the post's links, when its campaign asks for one.
    utm: Option<String>,
}

/// The parts of a target's request (none when the target is gone).
async fn request_parts(services: &Services, target_id: i64) -> Result<Parts> {
    match post_target::Entity::find_by_id(target_id)
        .one(&services.db)
        .await?
    {
        Some(target) => Ok(Parts {
            media: media_refs(services, target.post_id, target.account_id).await?,
            access_token: services
                .tokens_of(SocialAccountId(target.account_id))
                .await?
                .map(|t| t.access),
            utm: crate::campaigns::utm_of_post(&services.db, target.post_id).await?,
        }),
        None => Ok(Parts::default()),
    }
}

/// After the job's last run failed unexpectedly: a target with an attempt still open becomes
/// "unconfirmed" (its call may have gone through); one without fails with the reason.
async fn give_up(services: &Services, target_id: i64, reason: &str) -> Result<()> {
    let Some(target) = post_target::Entity::find_by_id(target_id)
        .one(&services.db)
        .await?
    else {
        return Ok(());
    };
    let txn = store::begin_write(&services.db).await?;
    let (Some(post), Some(target)) = (
        locked_post(&txn, PostId(target.post_id)).await?,
        post_target::Entity::find_by_id(target.id).one(&txn).await?,
    ) else {
        return Ok(());
    };
    if ![PostState::Scheduled, PostState::Publishing].contains(&target.state) {
        return Ok(());
    }
    let open = super::close_open_attempts(
        &txn,
        sea_orm::Condition::all().add(publish_attempt::Column::TargetId.eq(target.id)),
        AttemptOutcome::Unconfirmed,
        Some(reason),
    )
    .await?;
    if open > 0 {
        let account = social_account::Entity::find_by_id(target.account_id)
            .one(&txn)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let why = format!(
            "Publishing stopped after an error ({reason}) and it is not known whether the post \
             went out. Check @{} and tell Socializioz what happened.",
            account.username
        );
        let mut row: post_target::ActiveModel = target.into();
        row.state = Set(PostState::Unconfirmed);
        row.last_error = Set(Some(why.clone()));
        row.updated_at = Set(crate::now());
        row.update(&txn).await?;
        let post = update_post_state(&txn, &post).await?;
        tell_author(&txn, &services.base_url, &post, &account, &why).await?;
    } else {
        let why = format!("Gave up after {} attempts: {reason}", target.attempts);
        mark_failed(&txn, &services.base_url, &post, &target, &why).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// The files one account of a post publishes, with signed addresses for the platform to fetch.
async fn media_refs(services: &Services, post_id: i64, account_id: i64) -> Result<Vec<MediaRef>> {
    let items =
        posts::media_for_account(&services.db, PostId(post_id), SocialAccountId(account_id))
            .await?;
    Ok(media_refs_of(services, items).await)
}

/// `items`, with signed addresses for the platform to fetch.
async fn media_refs_of(services: &Services, items: Vec<media_item::Model>) -> Vec<MediaRef> {
    let mut refs = Vec::new();
    for item in items {
        refs.push(MediaRef {
            url: services.public_media_url(&item).await,
            mime: item.mime.clone(),
            kind: MediaKind::parse(&item.kind).unwrap_or(MediaKind::Image),
            size_bytes: u64::try_from(item.size_bytes).unwrap_or_default(),
            width: item.width.and_then(|w| u32::try_from(w).ok()),
            height: item.height.and_then(|h| u32::try_from(h).ok()),
            ai_generated: item.provenance == "ai",
        });
    }
    refs
}

/// The text sent to the platform: the target's own or the post's, with the campaign's UTM
/// parameters on its links when the campaign asks for them.
fn published_text(prepared: &Prepared, utm: Option<&str>) -> String {
    let text = posts::effective_text(&prepared.post.body, prepared.target.body.as_deref());
    match (utm, platform_of(&prepared.account)) {
        (Some(campaign), Ok(platform)) => {
            domain::campaign::tag_links_within(text, platform, campaign)
        }
        _ => text.to_owned(),
    }
}

fn retry(err: ServiceError) -> JobError {
    JobError::Retry(format!("{err:#}"))
}

fn platform_of(account: &social_account::Model) -> Result<Platform> {
    Platform::parse(&account.platform)
        .map_err(|_| anyhow::anyhow!("account {} has an unknown platform", account.id).into())
}

/// Step 1.
async fn begin(services: &Services, job: &job::Model, payload: &PublishTarget) -> Result<Step> {
    let Some(target) = post_target::Entity::find_by_id(payload.target)
        .one(&services.db)
        .await?
    else {
        return Ok(Step::Skip);
    };
    let txn = store::begin_write(&services.db).await?;
    let (Some(post), Some(target)) = (
        locked_post(&txn, PostId(target.post_id)).await?,
        post_target::Entity::find_by_id(target.id).one(&txn).await?,
    ) else {
        return Ok(Step::Skip);
    };
    if post.revision != payload.revision
        || ![PostState::Scheduled, PostState::Publishing].contains(&target.state)
    {
        return Ok(Step::Skip);
    }
    let account = social_account::Entity::find_by_id(target.account_id)
        .one(&txn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let platform = platform_of(&account)?;
    // Not connected as read: take the account's row lock and read again, so that a
    // reconnection committing now is seen (else this target could wait after its resume ran).
    let account = if account.status == AccountStatus::Connected {
        account
    } else {
        social_account::Entity::update_many()
            .col_expr(
                social_account::Column::UpdatedAt,
                Expr::col(social_account::Column::UpdatedAt),
            )
            .filter(social_account::Column::Id.eq(account.id))
            .exec(&txn)
            .await?;
        social_account::Entity::find_by_id(account.id)
            .one(&txn)
            .await?
            .ok_or(ServiceError::NotFound)?
    };
    if account.status != AccountStatus::Connected {
        // Held, not failed: it goes out when the account is reconnected.
        let mut row: post_target::ActiveModel = target.into();
        row.state = Set(PostState::Waiting);
        row.last_error = Set(Some(if account.status == AccountStatus::Disconnected {
            disconnected_note(&account)
        } else {
            format!(
                "{platform} @{} needs to be reconnected; the post goes out once it is.",
                account.username
            )
        }));
        row.updated_at = Set(crate::now());
        row.update(&txn).await?;
        update_post_state(&txn, &post).await?;
        txn.commit().await?;
        return Ok(Step::Skip);
    }
    let Some(publisher) = services.publishers.get(platform) else {
        let reason = format!("Publishing to {platform} is not set up on this server.");
        mark_failed(&txn, &services.base_url, &post, &target, &reason).await?;
        txn.commit().await?;
        return Ok(Step::Refused(reason));
    };
    let open = publish_attempt::Entity::find()
        .filter(publish_attempt::Column::TargetId.eq(target.id))
        .filter(publish_attempt::Column::FinishedAt.is_null())
        .order_by_desc(publish_attempt::Column::Id)
        .one(&txn)
        .await?;
    if let Some(attempt) = open {
        txn.commit().await?;
        let opened = Opened {
            post,
            target,
            account,
            attempt,
            publisher,
        };
        return Ok(Step::Reconcile(Box::new(Prepared::new(job, opened))));
    }
    if let Some(window) = platform.publish_window()
        && let Some(wait) = window_wait(&txn, &account, window).await?
    {
        // Not an attempt: the post waits, with the reason shown, and goes out when the window
        // has room.
        let mut row: post_target::ActiveModel = target.into();
        row.last_error = Set(Some(format!(
            "{platform} allows {}; @{} has reached it, so this post goes out in {}.",
            window.said,
            account.username,
            crate::human_wait(wait)
        )));
        row.updated_at = Set(crate::now());
        row.update(&txn).await?;
        txn.commit().await?;
        return Ok(Step::Wait(wait));
    }
    let number = target.attempts + 1;
    let attempt = super::new_attempt(target.id, number, crate::now())
        .insert(&txn)
        .await?;
    let mut row: post_target::ActiveModel = target.into();
    row.state = Set(PostState::Publishing);
    row.attempts = Set(number);
    row.updated_at = Set(crate::now());
    let target = row.update(&txn).await?;
    let post = update_post_state(&txn, &post).await?;
    txn.commit().await?;
    let opened = Opened {
        post,
        target,
        account,
        attempt,
        publisher,
    };
    Ok(Step::Call(Box::new(Prepared::new(job, opened))))
}

/// How long `account` must wait before its platform's `window` has room for one more post
/// (none: it has room now). Takes the account's row lock for the rest of the transaction, so
/// that workers starting posts of the same account count one after the other.
async fn window_wait<C: ConnectionTrait>(
    conn: &C,
    account: &social_account::Model,
    window: domain::content::PublishWindow,
) -> Result<Option<std::time::Duration>> {
    use sea_orm::QuerySelect;
    use sea_orm::sea_query::ExprTrait;
    social_account::Entity::update_many()
        .col_expr(
            social_account::Column::UpdatedAt,
            Expr::col(social_account::Column::UpdatedAt),
        )
        .filter(social_account::Column::Id.eq(account.id))
        .exec(conn)
        .await?;
    let now = crate::now();
    let span = chrono::Duration::seconds(i64::from(window.seconds));
    let targets = sea_orm::sea_query::Query::select()
        .column(post_target::Column::Id)
        .from(post_target::Entity)
        .and_where(Expr::col(post_target::Column::AccountId).eq(account.id))
        .to_owned();
    // Every attempt in the window counts, but those the platform certainly refused or that
    // were closed for a retry before a post was made.
    let started: Vec<chrono::DateTime<chrono::Utc>> = publish_attempt::Entity::find()
        .select_only()
        .column(publish_attempt::Column::StartedAt)
        .filter(publish_attempt::Column::TargetId.in_subquery(targets))
        .filter(publish_attempt::Column::StartedAt.gt(now - span))
        .filter(
            sea_orm::Condition::any()
                .add(publish_attempt::Column::Outcome.is_null())
                .add(publish_attempt::Column::Outcome.is_in([
                    AttemptOutcome::Published,
                    AttemptOutcome::Reconciled,
                    AttemptOutcome::Unconfirmed,
                ])),
        )
        .order_by_asc(publish_attempt::Column::StartedAt)
        .into_tuple()
        .all(conn)
        .await?;
    let allowed = usize::try_from(window.posts).unwrap_or(usize::MAX);
    if started.len() < allowed {
        return Ok(None);
    }
    // Room comes when the oldest attempts that fill the window leave it.
    let frees_at = started[started.len() - allowed] + span;
    Ok(Some(
        (frees_at - now)
            .to_std()
            .unwrap_or_default()
            .max(std::time::Duration::from_secs(1)),
    ))
}

/// Step 3: writes what the platform answered.
async fn settle(
    services: &Services,
    prepared: &Prepared,
    parts: &Parts,
    result: Result<Published, PublishError>,
    last_try: bool,
) -> Result<Finish> {
    match result {
        Ok(published) => {
            // Written in a group with the answers coming back at the same moment.
            let ask = CloseAsk {
                job: prepared.job.clone(),
                post: prepared.post.id,
                target: prepared.target.clone(),
                account: prepared.account.clone(),
                attempt: prepared.attempt.id,
                published: published.clone(),
            };
            match services.close_in_group(ask).await {
                Closed::Written { job_done: true } => crate::queue::mark_finished(),
                Closed::Written { job_done: false } | Closed::Nothing => {}
                Closed::Alone => {
                    close(
                        services,
                        prepared,
                        AttemptOutcome::Published,
                        None,
                        Some(published),
                    )
                    .await?
                }
            }
            Ok(Finish::Done)
        }
        Err(PublishError::Transient {
            reason,
            maybe_published: true,
        }) => {
            // The request may have arrived: ask before trying again.
            let lookup = lookup(prepared, parts).await.map_err(|e| match e {
                PublishError::Transient { reason: failed, .. } => PublishError::Transient {
                    reason: format!("{reason}; then the lookup failed: {failed}"),
                    maybe_published: true,
                },
                other => other,
            });
            reconcile(
                services,
                prepared,
                lookup,
                last_try,
                &Unknown::NoAnswer(&reason),
            )
            .await
        }
        Err(PublishError::RateLimited { retry_after }) => {
            let reason = format!(
                "{} asked to wait {} (rate limit)",
                platform_of(&prepared.account)?,
                crate::human_wait(retry_after)
            );
            retry_later(services, prepared, reason, Some(retry_after), last_try).await
        }
        Err(PublishError::Transient { reason, .. }) => {
            retry_later(services, prepared, reason, None, last_try).await
        }
        Err(PublishError::InvalidContent { reason }) => {
            let reason = format!(
                "{} refused the post: {reason}",
                platform_of(&prepared.account)?
            );
            close(
                services,
                prepared,
                AttemptOutcome::Failed,
                Some(&reason),
                None,
            )
            .await?;
            Ok(Finish::Done)
        }
        Err(PublishError::TokenExpired) => {
            // Refresh the token now; this job runs again shortly and either publishes with
            // the new token or, if the refresh failed, holds the post until a reconnection.
            let reason = format!(
                "{} no longer accepted the token of @{}; refreshing it",
                platform_of(&prepared.account)?,
                prepared.account.username
            );
            // The call certainly did not post: close the attempt before anything else.
            let closed = if last_try {
                AttemptOutcome::Failed
            } else {
                AttemptOutcome::Retry
            };
            close(services, prepared, closed, Some(&reason), None).await?;
            crate::token_refresh::refresh_soon(
                services,
                SocialAccountId(prepared.account.id),
                WorkspaceId(prepared.account.workspace_id),
            )
            .await?;
            if last_try {
                return Ok(Finish::Done);
            }
            Ok(Finish::Retry(
                reason,
                Some(std::time::Duration::from_secs(30)),
            ))
        }
    }
}

/// Why an attempt's outcome is unknown.
enum Unknown<'a> {
    /// The attempt was found open: the worker making the call stopped mid-way.
    Stopped,
    /// The call got no answer: it timed out, or the connection failed after sending (the
    /// reason says which).
    NoAnswer(&'a str),
}

impl Unknown<'_> {
    /// The start of the message shown on the post: what happened to the call.
    fn what_happened(&self, platform: &str) -> String {
        match self {
            Self::Stopped => {
                "Publishing was interrupted: the worker making the call stopped before the \
                 answer came"
                    .to_owned()
            }
            Self::NoAnswer(reason) if reason.starts_with(providers::social::TIMED_OUT) => {
                format!("Publishing timed out: {platform} did not answer in time")
            }
            Self::NoAnswer(reason) => {
                format!("The connection to {platform} failed before its answer came ({reason})")
            }
        }
    }
}

/// Acts on the platform's answer about an attempt whose outcome was unknown.
async fn reconcile(
    services: &Services,
    prepared: &Prepared,
    lookup: Result<Lookup, PublishError>,
    last_try: bool,
    cause: &Unknown<'_>,
) -> Result<Finish> {
    match lookup {
        // A post with the same text that another target of the account already recorded is
        // that target's, not this attempt's: it cannot tell whether this one went out.
        Ok(Lookup::Found(published))
            if recorded_elsewhere(services, prepared, &published).await? =>
        {
            unconfirmed(services, prepared, cause, "cannot tell").await
        }
        Ok(Lookup::Found(published)) => {
            close(
                services,
                prepared,
                AttemptOutcome::Reconciled,
                None,
                Some(published),
            )
            .await?;
            Ok(Finish::Done)
        }
        Ok(Lookup::NotFound) => {
            let reason = "interrupted; the platform confirmed nothing was posted";
            // Certain that nothing went out: one fresh attempt now is safe, even on the
            // job's last try, as long as the target has calls left (a lookup that waited did
            // not count as a try, so the target's own attempts bound the calls).
            let out_of_calls = prepared.attempt.number >= prepared.job.max_attempts;
            match retry_later(services, prepared, reason.to_owned(), None, out_of_calls).await? {
                Finish::Retry(..) => Ok(Finish::Again),
                gave_up => Ok(gave_up),
            }
        }
        Ok(Lookup::NotYet { wait, reason }) => {
            // The attempt stays open and the job waits without using a try: the platform's
            // listing will settle the question.
            let platform = platform_of(&prepared.account)?;
            let shown = format!(
                "{}; {reason}. Socializioz asks again in {}.",
                cause.what_happened(&platform.to_string()),
                crate::human_wait(wait)
            );
            note_on_target(services, prepared.target.id, &shown).await?;
            Ok(Finish::Later(wait))
        }
        Ok(Lookup::Unsupported) => unconfirmed(services, prepared, cause, "cannot tell").await,
        Err(err) if last_try => {
            let why = format!("could not be asked ({err})");
            unconfirmed(services, prepared, cause, &why).await
        }
        Err(PublishError::TokenExpired) => {
            // The lookup needs a token the platform takes: refresh it, and ask again with it.
            crate::token_refresh::refresh_soon(
                services,
                SocialAccountId(prepared.account.id),
                WorkspaceId(prepared.account.workspace_id),
            )
            .await?;
            Ok(Finish::Retry(
                format!(
                    "{} no longer accepted the token of @{} for the lookup; refreshing it",
                    platform_of(&prepared.account)?,
                    prepared.account.username
                ),
                Some(std::time::Duration::from_secs(30)),
            ))
        }
        Err(PublishError::RateLimited { retry_after }) => Ok(Finish::Retry(
            format!(
                "{} asked to wait {} before the lookup (rate limit)",
                platform_of(&prepared.account)?,
                crate::human_wait(retry_after)
            ),
            Some(retry_after),
        )),
        // Leave the attempt open: the next run asks again.
        Err(err) => Ok(Finish::Retry(err.to_string(), None)),
    }
}

/// Shows why a target waits, without changing where it is.
async fn note_on_target(services: &Services, target: i64, why: &str) -> Result<()> {
    post_target::Entity::update_many()
        .col_expr(post_target::Column::LastError, Expr::value(why))
        .col_expr(post_target::Column::UpdatedAt, Expr::value(crate::now()))
        .filter(post_target::Column::Id.eq(target))
        .exec(&services.db)
        .await?;
    Ok(())
}

/// Whether another target of the same account already recorded `published` as its post.
async fn recorded_elsewhere(
    services: &Services,
    prepared: &Prepared,
    published: &Published,
) -> Result<bool> {
    let other = post_target::Entity::find()
        .filter(post_target::Column::AccountId.eq(prepared.account.id))
        .filter(post_target::Column::PlatformPostId.eq(published.platform_post_id.as_str()))
        .filter(post_target::Column::Id.ne(prepared.target.id))
        .one(&services.db)
        .await?;
    Ok(other.is_some())
}

/// Leaves the outcome to a person: the platform `why` (cannot tell, could not be asked)
/// whether the post went out.
async fn unconfirmed(
    services: &Services,
    prepared: &Prepared,
    cause: &Unknown<'_>,
    why: &str,
) -> Result<Finish> {
    let platform = platform_of(&prepared.account)?;
    let reason = format!(
        "{}, and {platform} {why} whether the post went out. Check @{} and tell Socializioz \
         what happened.",
        cause.what_happened(&platform.to_string()),
        prepared.account.username
    );
    close(
        services,
        prepared,
        AttemptOutcome::Unconfirmed,
        Some(&reason),
        None,
    )
    .await?;
    Ok(Finish::Done)
}

/// A failure that will pass: the attempt is closed as `retry` and the job runs again, unless
/// this was its last try, when the target fails.
async fn retry_later(
    services: &Services,
    prepared: &Prepared,
    reason: String,
    wait: Option<std::time::Duration>,
    last_try: bool,
) -> Result<Finish> {
    if last_try {
        let reason = format!(
            "Gave up after {} attempts: {reason}",
            prepared.attempt.number
        );
        close(
            services,
            prepared,
            AttemptOutcome::Failed,
            Some(&reason),
            None,
        )
        .await?;
        return Ok(Finish::Done);
    }
    close(
        services,
        prepared,
        AttemptOutcome::Retry,
        Some(&reason),
        None,
    )
    .await?;
    Ok(Finish::Retry(reason, wait))
}

/// Closes the attempt with `result` and moves the target (and its post) on.
async fn close(
    services: &Services,
    prepared: &Prepared,
    result: AttemptOutcome,
    error: Option<&str>,
    published: Option<Published>,
) -> Result<()> {
    let now = crate::now();
    let txn = store::begin_write(&services.db).await?;
    let Some(post) = locked_post(&txn, PostId(prepared.post.id)).await? else {
        // Deleted meanwhile (only possible for a post not publishing): nothing to record.
        return Ok(());
    };
    let closed = publish_attempt::Entity::update_many()
        .col_expr(publish_attempt::Column::FinishedAt, Expr::value(now))
        .col_expr(publish_attempt::Column::Outcome, Expr::value(result))
        .col_expr(
            publish_attempt::Column::Error,
            Expr::value(error.map(str::to_owned)),
        )
        .col_expr(
            publish_attempt::Column::PlatformPostId,
            Expr::value(published.as_ref().map(|p| p.platform_post_id.clone())),
        )
        .filter(publish_attempt::Column::Id.eq(prepared.attempt.id))
        .filter(publish_attempt::Column::FinishedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    if closed == 0 {
        // Another run closed it first (this one lost its lease meanwhile): what that run wrote
        // stands, and the target is not touched again.
        tracing::warn!(
            attempt = prepared.attempt.id,
            "the attempt was already closed by another run"
        );
        return Ok(());
    }
    let target = prepared.target.clone();
    match (result, published) {
        (AttemptOutcome::Published | AttemptOutcome::Reconciled, Some(p)) => {
            let mut row: post_target::ActiveModel = target.into();
            row.state = Set(PostState::Published);
            row.platform_post_id = Set(Some(p.platform_post_id));
            row.permalink = Set(p.permalink);
            row.last_error = Set(None);
            row.published_at = Set(Some(now));
            row.updated_at = Set(now);
            row.update(&txn).await?;
            crate::first_comments::plan(
                services,
                &txn,
                &post,
                TargetId(prepared.target.id),
                &prepared.account.platform,
                crate::posts::format_of(&prepared.target.options),
            )
            .await?;
            // A new post brings the account's next reads forward, where the workspace reads.
            let workspace = store::entities::workspace::Entity::find_by_id(post.workspace_id)
                .one(&txn)
                .await?
                .ok_or(ServiceError::NotFound)?;
            crate::analytics::ingest::on_published(&txn, &prepared.account, &workspace, now)
                .await?;
            crate::comments::ingest::on_published(&txn, &prepared.account, &workspace, now).await?;
            let post = update_post_state(&txn, &post).await?;
            log_post(
                &txn,
                WorkspaceId(post.workspace_id),
                None,
                "post.published",
                PostId(post.id),
                format!(
                    "published to {} @{}",
                    Platform::label_of(&prepared.account.platform),
                    prepared.account.username
                ),
            )
            .await?;
        }
        (AttemptOutcome::Failed, _) => {
            mark_failed(
                &txn,
                &services.base_url,
                &post,
                &target,
                error.unwrap_or("failed"),
            )
            .await?;
        }
        (AttemptOutcome::Unconfirmed, _) => {
            let mut row: post_target::ActiveModel = target.clone().into();
            row.state = Set(PostState::Unconfirmed);
            row.last_error = Set(error.map(str::to_owned));
            row.updated_at = Set(now);
            row.update(&txn).await?;
            let post = update_post_state(&txn, &post).await?;
            tell_author(
                &txn,
                &services.base_url,
                &post,
                &prepared.account,
                error.unwrap_or_default(),
            )
            .await?;
        }
        _ => {
            // A retry: the target keeps waiting, with the reason shown.
            let mut row: post_target::ActiveModel = target.into();
            row.last_error = Set(error.map(str::to_owned));
            row.updated_at = Set(now);
            row.update(&txn).await?;
        }
    }
    if result != AttemptOutcome::Retry {
        // The target's outcome is written: its job ends in the same transaction.
        crate::queue::complete_within(&txn, &prepared.job).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Marks a target failed, updates its post, logs it and e-mails the author.
async fn mark_failed<C: ConnectionTrait>(
    conn: &C,
    base_url: &str,
    post: &post::Model,
    target: &post_target::Model,
    reason: &str,
) -> Result<()> {
    let now = crate::now();
    let mut row: post_target::ActiveModel = target.clone().into();
    row.state = Set(PostState::Failed);
    row.last_error = Set(Some(reason.to_owned()));
    row.updated_at = Set(now);
    row.update(conn).await?;
    let post = update_post_state(conn, post).await?;
    let account = social_account::Entity::find_by_id(target.account_id)
        .one(conn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    log_post(
        conn,
        WorkspaceId(post.workspace_id),
        None,
        "post.failed",
        PostId(post.id),
        format!(
            "could not publish to {} @{}: {reason}",
            Platform::label_of(&account.platform),
            account.username
        ),
    )
    .await?;
    failure_mail(conn, base_url, &post, &account, reason).await
}

async fn tell_author<C: ConnectionTrait>(
    conn: &C,
    base_url: &str,
    post: &post::Model,
    account: &social_account::Model,
    reason: &str,
) -> Result<()> {
    log_post(
        conn,
        WorkspaceId(post.workspace_id),
        None,
        "post.unconfirmed",
        PostId(post.id),
        format!(
            "could not confirm a post to {} @{}",
            Platform::label_of(&account.platform),
            account.username
        ),
    )
    .await?;
    failure_mail(conn, base_url, post, account, reason).await
}

/// E-mails the post's author (if they still have an account) about a target that needs them.
async fn failure_mail<C: ConnectionTrait>(
    conn: &C,
    base_url: &str,
    post: &post::Model,
    account: &social_account::Model,
    reason: &str,
) -> Result<()> {
    let Some(author_id) = post.author_id else {
        return Ok(());
    };
    let Some(author) = user::Entity::find_by_id(author_id).one(conn).await? else {
        return Ok(());
    };
    let platform = Platform::parse(&account.platform)
        .map(|p| p.label())
        .unwrap_or("the platform");
    let email = emails::publish_problem(
        &author.email,
        &author.name,
        platform,
        &account.username,
        &posts::excerpt(&post.body),
        reason,
        &format!("{base_url}/w/{}/posts/{}", post.workspace_id, post.id),
    );
    emails::queue(conn, email, Some(UserId(author.id))).await
}

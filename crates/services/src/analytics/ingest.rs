//! Reading the figures back: one planned job per connected account of a workspace with
//! analytics on (`metrics:<account>`), which reads the account's daily values once a day and
//! the lifetime totals of its published posts on the age-decayed plan of
//! [`domain::metrics::next_look`] (hourly for 48 hours, daily to 30 days, weekly to 90 days),
//! as many posts per call as the platform takes, then plans itself for the next post due (or
//! tomorrow's account read).
//!
//! Readings are written by their key (account, metric, span, day; or target, metric, day), so a
//! reading repeated the same day overwrites and a day's value read again after the platform
//! revised it (Instagram's data lags up to 48 hours) is corrected, never added. Lifetime totals
//! and daily values are separate rows and never summed together.

use crate::account_tokens::connected_account;
use crate::jobs::{Job, JobError};
use crate::queue;
use crate::{Result, Services};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use domain::metrics::{Metric, Span, next_look};
use domain::{SocialAccountId, WorkspaceId};
use providers::social::AccountRef;
use providers::social::metrics::{Metrics, MetricsError, Reading};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use store::entities::states::{AccountStatus, PostState};
use store::entities::{
    account_metric, job, metric_answer, post_metric, post_target, social_account, workspace,
};

/// Days read back on the first read of an account.
const FIRST_DAYS: i64 = 30;
/// Days read again on each daily read: the platforms revise the last two.
const AGAIN_DAYS: i64 = 3;
/// How long the raw answers are kept.
const ANSWERS_KEPT: Duration = Duration::days(30);
/// Posts older than this are not read any more (their figures have settled).
const SETTLED: Duration = Duration::days(90);
/// At most this many posts are read in one run (the rest in the next, planned at once).
const POSTS_PER_RUN: usize = 200;
/// Posts due within this long are read together with those due now.
const GATHER: Duration = Duration::minutes(15);
/// The monthly count of X posts and profiles read back (X bills each read).
pub const X_READS: &str = "x_reads";
/// What a post gone at the platform (deleted there) is marked with; it is not asked again.
pub const GONE: &str = "gone at the platform";
/// When an account's daily read runs (UTC): after the platforms have closed the day.
const DAILY_AT: (u32, u32) = (4, 15);

/// A metrics read: the account read.
#[derive(Serialize, Deserialize)]
pub struct MetricsOf {
    pub account: i64,
}

impl queue::Payload for MetricsOf {
    const KIND: &'static str = "read_metrics";
}

impl queue::AccountRead for MetricsOf {
    const PREFIX: &'static str = "metrics";
    fn of(account: i64) -> Self {
        Self { account }
    }
}

/// Called in the transaction that records a post published to `account`: in a workspace that
/// reads analytics, the account's next read is brought forward to the post's first look (now)
/// unless one is planned sooner.
pub(crate) async fn on_published<C: ConnectionTrait>(
    conn: &C,
    account: &social_account::Model,
    workspace: &workspace::Model,
    now: DateTime<Utc>,
) -> Result<()> {
    let on = workspace.analytics_on_at.is_some();
    if !on {
        return Ok(());
    }
    queue::plan_read_by::<MetricsOf, _>(conn, account, now).await?;
    Ok(())
}

/// One read of an account's figures.
pub struct ReadMetrics;

impl Job for ReadMetrics {
    type Payload = MetricsOf;

    async fn run(
        services: &Services,
        _job: &job::Model,
        payload: MetricsOf,
    ) -> Result<(), JobError> {
        read(services, SocialAccountId(payload.account)).await
    }
}

/// The first daily read time after `now`.
fn next_daily(now: DateTime<Utc>) -> DateTime<Utc> {
    let at = now
        .date_naive()
        .and_time(NaiveTime::from_hms_opt(DAILY_AT.0, DAILY_AT.1, 0).unwrap_or(NaiveTime::MIN))
        .and_utc();
    if at > now { at } else { at + Duration::days(1) }
}

fn retry(err: impl Into<crate::ServiceError>) -> JobError {
    JobError::retry(err)
}

async fn read(services: &Services, account_id: SocialAccountId) -> Result<(), JobError> {
    let Some((account, platform)) = connected_account(&services.db, account_id).await? else {
        return Ok(());
    };
    let on = workspace::Entity::find_by_id(account.workspace_id)
        .one(&services.db)
        .await
        .map_err(retry)?
        .and_then(|w| w.analytics_on_at);
    let (Some(_), Some(reader)) = (on, services.metrics.get(platform)) else {
        return Ok(());
    };
    // A plan without analytics any more (a downgrade): nothing is read, nothing planned; turning
    // analytics on again (on a plan that has it) plans the reads.
    match services
        .require_analytics(WorkspaceId(account.workspace_id))
        .await
    {
        Ok(()) => {}
        Err(crate::ServiceError::PlanLimit { .. }) => return Ok(()),
        Err(e) => return Err(retry(e)),
    }
    let Some(tokens) = services.tokens_of(account_id).await.map_err(retry)? else {
        return Ok(());
    };
    // Connected before analytics asked for its permissions: nothing is read until the account
    // is connected again (the analytics page says so, with the reason).
    if missing_scopes(reader.insight_scopes(), &tokens.scopes).is_some() {
        return Ok(());
    }
    let now = crate::now();
    let today = now.date_naive();
    let tomorrow = next_daily(now);
    let who = AccountRef {
        id: account.id,
        platform,
        external_id: account.external_id.clone(),
        username: account.username.clone(),
    };
    // The token refused (its renewal, and the reconnection it may ask for, are another job's)
    // or a permission revoked (the page's): the reads wait for tomorrow's. A rate limit: the
    // reads wait for it to pass, without counting as a failed attempt.
    let stop = |e: &MetricsError| match e {
        MetricsError::TokenExpired | MetricsError::MissingPermission(_) => Some(tomorrow),
        MetricsError::RateLimited { retry_after } => {
            Some(now + Duration::from_std(*retry_after).unwrap_or_else(|_| Duration::hours(1)))
        }
        _ => None,
    };
    let mut failure: Option<String> = None;
    // Whether the account's own figures failed in this read (kept for the page to say).
    let mut account_failed = false;
    // X bills every read: what is left of the workspace's monthly budget (none elsewhere).
    let ws = WorkspaceId(account.workspace_id);
    let month = crate::plans::month_of(&services.db, ws, now)
        .await
        .map_err(retry)?;
    let mut left = if platform == domain::Platform::X {
        let used = crate::plans::counted(&services.db, ws, X_READS, &month)
            .await
            .map_err(retry)?;
        Some(services.x_reads_per_month.saturating_sub(used))
    } else {
        None
    };
    let spend = |left: &mut Option<u64>, n: u64| {
        if let Some(l) = left.as_mut() {
            *l = l.saturating_sub(n);
        }
    };

    // The account's days: once a day, from the day after the last one read (the last few again:
    // the platforms revise them), at most 30 days back.
    let last_daily = account.metrics_read_at;
    if last_daily.is_none_or(|at| at.date_naive() < today) && left != Some(0) {
        let back = match last_daily {
            Some(at) => {
                ((today - at.date_naive()).num_days() + AGAIN_DAYS).clamp(AGAIN_DAYS, FIRST_DAYS)
            }
            None => FIRST_DAYS,
        };
        let since = today - Duration::days(back);
        let read = reader.account(&who, &tokens.access, since, today).await;
        if left.is_some() {
            let calls = read.as_ref().map_or(1, |r| u64::from(r.calls));
            count_reads(services, ws, &month, calls, now).await?;
            spend(&mut left, calls);
        }
        match read {
            Ok(read) => store_account(services, &account, read, now)
                .await
                .map_err(retry)?,
            Err(e) => match stop(&e) {
                Some(at) => return halt(services, &account, at, &e).await,
                // The posts are read all the same.
                None => {
                    account_read(&services.db, &account, Some(&e), now)
                        .await
                        .map_err(retry)?;
                    account_failed = true;
                    failure = Some(e.to_string());
                }
            },
        }
    }

    // The posts that are due, oldest look first; one gone at the platform is not asked again.
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
        .filter(|t| t.metrics_error.as_deref() != Some(GONE))
        .filter_map(|t| {
            let next = next_look(t.published_at?, t.metrics_read_at)?;
            Some((t, next))
        })
        .collect();
    due.sort_by_key(|(_, next)| *next);
    // Those due within the next few minutes are read now, in as few calls as the platform
    // allows, rather than waking once for each.
    let (now_due, later): (Vec<_>, Vec<_>) =
        due.into_iter().partition(|(_, next)| *next <= now + GATHER);
    let batch = reader.batch_size().max(1);
    let mut read_posts = 0;
    let mut more_now = false;
    for chunk in now_due.chunks(batch) {
        if read_posts >= POSTS_PER_RUN {
            more_now = true;
            break;
        }
        // No more than the budget has left.
        let chunk = match left {
            Some(0) => break,
            Some(l) => &chunk[..chunk.len().min(usize::try_from(l).unwrap_or(usize::MAX))],
            None => chunk,
        };
        read_posts += chunk.len();
        let ids: Vec<String> = chunk
            .iter()
            .filter_map(|(t, _)| t.platform_post_id.clone())
            .collect();
        if left.is_some() {
            count_reads(services, ws, &month, ids.len() as u64, now).await?;
            spend(&mut left, ids.len() as u64);
        }
        let chunk: Vec<&post_target::Model> = chunk.iter().map(|(t, _)| t).collect();
        let (read, problem) = match reader.posts(&who, &tokens.access, &ids).await {
            Ok(read) => (read, None),
            Err(MetricsError::Gone) => (Metrics::default(), Some(GONE.to_owned())),
            Err(e) => match stop(&e) {
                Some(at) => return halt(services, &account, at, &e).await,
                // This post (or batch) is marked read with the reason, and waits for its
                // next look; the others are read all the same.
                None => {
                    failure = Some(e.to_string());
                    (Metrics::default(), Some(e.to_string()))
                }
            },
        };
        store_posts(services, &account, &chunk, read, problem, now)
            .await
            .map_err(retry)?;
    }

    // Next: the next post due, or tomorrow's daily read.
    let next_post = if more_now {
        Some(now)
    } else {
        later.first().map(|(_, next)| *next)
    };
    let next = next_post.map_or(tomorrow, |p| p.min(tomorrow));
    queue::plan_read_by::<MetricsOf, _>(&services.db, &account, next)
        .await
        .map_err(retry)?;
    // A read that went through clears what an earlier one could not do.
    if !account_failed && account.metrics_error.is_some() {
        account_read(&services.db, &account, None, now)
            .await
            .map_err(retry)?;
    }
    // Something could not be read: logged (and kept on the post's target); the next read is
    // planned, so the series goes on whatever the platform answered.
    if let Some(why) = failure {
        tracing::warn!(account = account.id, "some figures were not read: {why}");
    }
    Ok(())
}

/// Counts `n` X reads against the workspace's month.
async fn count_reads(
    services: &Services,
    ws: WorkspaceId,
    month: &str,
    n: u64,
    now: DateTime<Utc>,
) -> Result<(), JobError> {
    crate::plans::count_up_key(&services.db, ws, X_READS, month, n, now)
        .await
        .map_err(retry)?;
    // The page shows the month's reads.
    super::kept::figures_changed(&services.db, ws.0)
        .await
        .map_err(retry)
}

/// Stops this read: the next is planned at `at`, and why is logged.
async fn halt(
    services: &Services,
    account: &social_account::Model,
    at: DateTime<Utc>,
    why: &MetricsError,
) -> Result<(), JobError> {
    tracing::info!(account = account.id, "metrics not read: {why}");
    account_read(&services.db, account, Some(why), crate::now())
        .await
        .map_err(retry)?;
    queue::plan_read_by::<MetricsOf, _>(&services.db, account, at)
        .await
        .map_err(retry)
}

/// Keeps why `account`'s figures could not be read (the page shows it), or clears it once a
/// read works.
async fn account_read(
    db: &store::Db,
    account: &social_account::Model,
    why: Option<&MetricsError>,
    now: DateTime<Utc>,
) -> Result<()> {
    let txn = store::begin_write(db).await?;
    social_account::Entity::update_many()
        .col_expr(
            social_account::Column::MetricsError,
            Expr::value(why.map(ToString::to_string)),
        )
        .col_expr(
            social_account::Column::MetricsErrorAt,
            Expr::value(why.map(|_| now)),
        )
        .filter(social_account::Column::Id.eq(account.id))
        .exec(&txn)
        .await?;
    super::kept::account_changed(&txn, account.id).await?;
    txn.commit().await?;
    Ok(())
}

/// The daily upkeep of analytics, run by the retention job: the platforms' answers older than
/// 30 days are deleted (whether or not their account is still read), and every connected
/// account of a workspace with analytics on that has no read planned (its job gave up) gets
/// one, so no account's series ends by accident.
pub(crate) async fn upkeep(services: &Services, now: DateTime<Utc>) -> Result<u64> {
    let purged = metric_answer::Entity::delete_many()
        .filter(metric_answer::Column::ReadAt.lt(now - ANSWERS_KEPT))
        .exec(&services.db)
        .await?
        .rows_affected;
    let workspaces: Vec<i64> = workspace::Entity::find()
        .filter(workspace::Column::AnalyticsOnAt.is_not_null())
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
        if !queue::is_planned::<_, MetricsOf>(
            &services.db,
            &<MetricsOf as queue::AccountRead>::subject(account.id),
        )
        .await?
        {
            queue::plan_read::<MetricsOf, _>(&services.db, &account, Some(now)).await?;
        }
    }
    Ok(purged)
}

/// The permissions among `needed` that `granted` lacks, as the page names them; none when all
/// are there.
pub fn missing_scopes(needed: &[&str], granted: &[String]) -> Option<String> {
    let missing: Vec<&str> = needed
        .iter()
        .copied()
        .filter(|s| !granted.iter().any(|g| g == s))
        .collect();
    (!missing.is_empty()).then(|| missing.join(", "))
}

async fn store_account(
    services: &Services,
    account: &social_account::Model,
    read: Metrics,
    now: DateTime<Utc>,
) -> Result<()> {
    let txn = store::begin_write(&services.db).await?;
    let mut stored = false;
    for reading in read.readings.iter().filter(|r| r.post_id.is_none()) {
        upsert_account(&txn, account, reading, now).await?;
        stored = true;
    }
    if stored {
        social_account::Entity::update_many()
            .col_expr(social_account::Column::MetricsReadAt, Expr::value(now))
            .filter(social_account::Column::Id.eq(account.id))
            .exec(&txn)
            .await?;
    }
    store_answers(&txn, account, &read, now).await?;
    super::kept::figures_changed(&txn, account.workspace_id).await?;
    txn.commit().await?;
    Ok(())
}

async fn upsert_account<C: ConnectionTrait>(
    conn: &C,
    account: &social_account::Model,
    reading: &Reading,
    now: DateTime<Utc>,
) -> Result<()> {
    account_metric::Entity::insert(account_metric::ActiveModel {
        workspace_id: Set(account.workspace_id),
        account_id: Set(account.id),
        metric: Set(reading.metric.clone()),
        span: Set(reading.span.key().to_owned()),
        day: Set(reading.day),
        value: Set(reading.value),
        read_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            account_metric::Column::AccountId,
            account_metric::Column::Metric,
            account_metric::Column::Span,
            account_metric::Column::Day,
        ])
        .update_columns([
            account_metric::Column::Value,
            account_metric::Column::ReadAt,
        ])
        .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

async fn store_posts(
    services: &Services,
    account: &social_account::Model,
    targets: &[&post_target::Model],
    read: Metrics,
    problem: Option<String>,
    now: DateTime<Utc>,
) -> Result<()> {
    let by_post: HashMap<&str, i64> = targets
        .iter()
        .filter_map(|t| Some((t.platform_post_id.as_deref()?, t.id)))
        .collect();
    let today: NaiveDate = now.date_naive();
    let txn = store::begin_write(&services.db).await?;
    // Each target's totals of this read, for the interactions kept beside it.
    let mut read_now: HashMap<i64, BTreeMap<String, i64>> = HashMap::new();
    for reading in &read.readings {
        let Some(target) = reading.post_id.as_deref().and_then(|p| by_post.get(p)) else {
            continue;
        };
        // A post's figures are its lifetime totals, kept by the day they were read.
        if reading.span != Span::Lifetime {
            continue;
        }
        read_now
            .entry(*target)
            .or_default()
            .insert(reading.metric.clone(), reading.value);
        post_metric::Entity::insert(post_metric::ActiveModel {
            workspace_id: Set(account.workspace_id),
            account_id: Set(account.id),
            target_id: Set(*target),
            metric: Set(reading.metric.clone()),
            day: Set(today),
            value: Set(reading.value),
            read_at: Set(now),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::columns([
                post_metric::Column::TargetId,
                post_metric::Column::Metric,
                post_metric::Column::Day,
            ])
            .update_columns([post_metric::Column::Value, post_metric::Column::ReadAt])
            .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    }
    // The latest interactions, so that the top posts are found without adding up figures:
    // each kind's latest figure, whether this read gave it or an earlier one did, as the page
    // shows them.
    for (target, totals) in &read_now {
        if Metric::interactions_of(totals).is_some() {
            let latest = crate::analytics::sql::latest_totals(
                &txn,
                account.workspace_id,
                crate::analytics::sql::Targets::Ids(vec![*target]),
            )
            .await?;
            let interactions = latest
                .get(target)
                .and_then(Metric::interactions_of)
                .or_else(|| Metric::interactions_of(totals));
            post_target::Entity::update_many()
                .col_expr(
                    post_target::Column::Interactions,
                    sea_orm::sea_query::Expr::value(interactions),
                )
                .filter(post_target::Column::Id.eq(*target))
                .exec(&txn)
                .await?;
        }
    }
    post_target::Entity::update_many()
        .col_expr(
            post_target::Column::MetricsReadAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .col_expr(
            post_target::Column::MetricsError,
            sea_orm::sea_query::Expr::value(problem),
        )
        .filter(post_target::Column::Id.is_in(targets.iter().map(|t| t.id)))
        .exec(&txn)
        .await?;
    store_answers(&txn, account, &read, now).await?;
    super::kept::figures_changed(&txn, account.workspace_id).await?;
    txn.commit().await?;
    Ok(())
}

/// Keeps the raw answers of a read, and forgets the account's answers older than 30 days.
async fn store_answers<C: ConnectionTrait>(
    conn: &C,
    account: &social_account::Model,
    read: &Metrics,
    now: DateTime<Utc>,
) -> Result<()> {
    for answer in &read.raw {
        metric_answer::Entity::insert(metric_answer::ActiveModel {
            workspace_id: Set(account.workspace_id),
            account_id: Set(account.id),
            call: Set(answer.call.chars().take(200).collect()),
            body: Set(redact(&answer.body)),
            read_at: Set(now),
            ..Default::default()
        })
        .exec_without_returning(conn)
        .await?;
    }
    Ok(())
}

/// An answer as it is kept: any `access_token=` value in it (Graph's paging links carry the
/// token when it was sent in the address) replaced, so that no token is ever stored.
pub fn redact(body: &str) -> String {
    const KEY: &str = "access_token=";
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(at) = rest.find(KEY) {
        out.push_str(&rest[..at + KEY.len()]);
        out.push_str("REDACTED");
        rest = &rest[at + KEY.len()..];
        let end = rest
            .find(['&', '"', '\\', '\'', ' ', '<', '>'])
            .unwrap_or(rest.len());
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_daily_read_is_after_the_day_closed() {
        let at = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_default()
        };
        assert_eq!(
            next_daily(at("2026-12-04T03:00:00Z")),
            at("2026-12-04T04:15:00Z")
        );
        assert_eq!(
            next_daily(at("2026-12-04T04:15:00Z")),
            at("2026-12-05T04:15:00Z")
        );
        assert_eq!(
            missing_scopes(&["read_insights", "x"], &["x".to_owned()]).as_deref(),
            Some("read_insights")
        );
        assert_eq!(missing_scopes(&[], &[]), None);
        assert_eq!(
            redact(
                r#"{"paging":{"next":"https://graph.facebook.com/v25.0/1/insights?access_token=EAAB123&since=1"}}"#
            ),
            r#"{"paging":{"next":"https://graph.facebook.com/v25.0/1/insights?access_token=REDACTED&since=1"}}"#
        );
        assert_eq!(redact("x access_token=abc"), "x access_token=REDACTED");
        assert_eq!(redact("no token"), "no token");
    }
}

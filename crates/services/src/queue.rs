//! The durable job queue, in the same database as everything else.
//!
//! A job is written in the same transaction as the change that needs it (the outbox pattern),
//! claimed with a lease (`locked_until`) so that a crashed worker's job is taken again, retried
//! with exponential backoff and jitter, and left `dead` with its reason after the last attempt.
//!
//! Claiming is one `UPDATE … WHERE id = (SELECT … LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING *`:
//! PostgreSQL skips rows other workers hold; SQLite has a single writer, so the statement is
//! atomic there and the query builder leaves the lock clause out.
//!
//! Concurrency limits (per kind, and per kind and platform through a job's `concurrency_key`)
//! are rows in `job_slots`: a limit of n is n rows, and a job runs only while it holds a free
//! slot of each limited key, taken in the claiming transaction with `SKIP LOCKED`. So the limit
//! holds across any number of worker processes, and a crashed worker's slots come free when its
//! lease runs out. Leases are short because a live worker renews them (`renew`, its
//! heartbeat); a worker starting again on the same machine ends at once the leases a previous
//! run of itself left (`release_stopped`).

use crate::Result;
use anyhow::Context;
use chrono::{DateTime, Utc};
use domain::{JobId, UserId, WorkspaceId};
use rand::Rng;
use sea_orm::sea_query::{Expr, LikeExpr, LockBehavior, LockType, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set,
};
use std::collections::BTreeMap;
use std::time::Duration;
use store::entities::{job, job_slot};

pub use store::entities::states::JobState;

/// What a kind of job carries in its row. The type names the kind, so a payload cannot be
/// enqueued under another kind's name; the job that runs it is in [`crate::jobs::registry`].
pub trait Payload: serde::Serialize + serde::de::DeserializeOwned + Send + 'static {
    /// The kind stored in `jobs.kind`.
    const KIND: &'static str;
}

/// A job to add.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: &'static str,
    pub payload: serde_json::Value,
    pub run_at: DateTime<Utc>,
    pub max_attempts: i32,
    pub idempotency_key: Option<String>,
    pub user_id: Option<i64>,
    pub workspace_id: Option<i64>,
    pub concurrency_key: Option<String>,
    pub subject: Option<String>,
    /// The address an e-mail job sends to (see `emails::queue`).
    pub recipient: Option<String>,
    /// The request the job is done for (see [`crate::trace`]): the one being served when the
    /// job was made. A job planned as the next run of a series carries none.
    pub request_id: Option<String>,
}

impl NewJob {
    pub fn now(kind: &'static str, payload: serde_json::Value) -> Self {
        Self {
            kind,
            payload,
            run_at: crate::now(),
            max_attempts: 8,
            idempotency_key: None,
            user_id: None,
            workspace_id: None,
            concurrency_key: None,
            subject: None,
            recipient: None,
            request_id: crate::trace::current_request_id(),
        }
    }

    /// A job of `payload`'s kind, due now.
    pub fn of<P: Payload>(payload: &P) -> Result<Self> {
        let value = serde_json::to_value(payload).map_err(anyhow::Error::from)?;
        Ok(Self::now(P::KIND, value))
    }

    pub fn for_user(mut self, user_id: UserId) -> Self {
        self.user_id = Some(user_id.0);
        self
    }
}

/// Replaces the queued job of `payload`'s kind about `subject` (one planned job per subject, such as an
/// account's next token refresh): withdraws any still queued, then, when `run_at` is given,
/// plans one at that time with `payload`.
pub(crate) async fn replan<C: ConnectionTrait, P: Payload>(
    conn: &C,
    subject: String,
    workspace_id: WorkspaceId,
    payload: &P,
    run_at: Option<DateTime<Utc>>,
) -> Result<()> {
    job::Entity::delete_many()
        .filter(job::Column::Subject.eq(subject.as_str()))
        .filter(job::Column::Kind.eq(P::KIND))
        .filter(job::Column::State.eq(JobState::Queued))
        .exec(conn)
        .await?;
    let Some(run_at) = run_at else {
        return Ok(());
    };
    let mut job = NewJob::of(payload)?;
    // The next run of a series, not work for whoever asked for the first one.
    job.request_id = None;
    job.run_at = run_at;
    job.workspace_id = Some(workspace_id.0);
    job.subject = Some(subject);
    enqueue(conn, job).await?;
    Ok(())
}

/// A job that reads one connected account (its metrics, comments or messages), planned one at a
/// time per account under the subject `<PREFIX>:<account>`.
pub(crate) trait AccountRead: Payload + Sized {
    const PREFIX: &'static str;
    fn of(account: i64) -> Self;
    fn subject(account: i64) -> String {
        format!("{}:{account}", Self::PREFIX)
    }
}

/// Plans `account`'s next read of kind `P` at `at` (none: withdraws it), replacing any planned.
pub(crate) async fn plan_read<P: AccountRead, C: ConnectionTrait>(
    conn: &C,
    account: &store::entities::social_account::Model,
    at: Option<DateTime<Utc>>,
) -> Result<()> {
    replan(
        conn,
        P::subject(account.id),
        WorkspaceId(account.workspace_id),
        &P::of(account.id),
        at,
    )
    .await
}

/// Plans `account`'s next read of kind `P` at `at`, unless one is planned sooner (a post
/// published while a read ran brings it forward, and that is kept).
pub(crate) async fn plan_read_by<P: AccountRead, C: ConnectionTrait>(
    conn: &C,
    account: &store::entities::social_account::Model,
    at: DateTime<Utc>,
) -> Result<()> {
    replan_by(
        conn,
        P::subject(account.id),
        WorkspaceId(account.workspace_id),
        &P::of(account.id),
        at,
    )
    .await
}

/// Plans the job of `payload`'s kind about `subject` at `at`, unless one is queued sooner (a
/// read brought forward while another ran keeps its earlier time).
pub(crate) async fn replan_by<C: ConnectionTrait, P: Payload>(
    conn: &C,
    subject: String,
    workspace_id: WorkspaceId,
    payload: &P,
    at: DateTime<Utc>,
) -> Result<()> {
    let sooner = job::Entity::find()
        .filter(job::Column::Subject.eq(subject.as_str()))
        .filter(job::Column::Kind.eq(P::KIND))
        .filter(job::Column::State.eq(JobState::Queued))
        .filter(job::Column::RunAt.lte(at))
        .one(conn)
        .await?;
    if sooner.is_none() {
        replan(conn, subject, workspace_id, payload, Some(at)).await?;
    }
    Ok(())
}

/// Whether a job of kind `P` about `subject` is queued or running.
pub(crate) async fn is_planned<C: ConnectionTrait, P: Payload>(
    conn: &C,
    subject: &str,
) -> Result<bool> {
    Ok(job::Entity::find()
        .filter(job::Column::Subject.eq(subject))
        .filter(job::Column::Kind.eq(P::KIND))
        .filter(job::Column::State.is_in([JobState::Queued, JobState::Running]))
        .one(conn)
        .await?
        .is_some())
}

/// Adds a job, inside the caller's transaction when given one.
pub async fn enqueue<C: ConnectionTrait>(conn: &C, job: NewJob) -> Result<JobId> {
    let row = row_of(job).insert(conn).await?;
    Ok(JobId(row.id))
}

/// Adds `job` unless a job with its idempotency key exists (planned by another caller a moment
/// ago, or run already); answers whether it was added. The duplicate is not an error, so this
/// is safe inside a transaction on both backends.
pub async fn enqueue_once<C: ConnectionTrait>(conn: &C, job: NewJob) -> Result<bool> {
    use sea_orm::sea_query::OnConflict;
    let added = job::Entity::insert(row_of(job))
        .on_conflict(
            OnConflict::column(job::Column::IdempotencyKey)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(added == 1)
}

/// The row a new job is written as.
fn row_of(job: NewJob) -> job::ActiveModel {
    let now = crate::now();
    job::ActiveModel {
        kind: Set(job.kind.to_owned()),
        payload: Set(job.payload.to_string()),
        state: Set(JobState::Queued),
        run_at: Set(job.run_at),
        attempts: Set(0),
        max_attempts: Set(job.max_attempts.max(1)),
        locked_until: Set(None),
        locked_by: Set(None),
        last_error: Set(None),
        idempotency_key: Set(job.idempotency_key),
        user_id: Set(job.user_id),
        workspace_id: Set(job.workspace_id),
        concurrency_key: Set(job.concurrency_key),
        subject: Set(job.subject),
        recipient: Set(job.recipient),
        request_id: Set(job.request_id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

/// Concurrency limits by key: a job kind (`publish`), a part of a job's concurrency key up to
/// a `:` (`publish:x`), or the whole key. A limit whose key ends in `:*` (`publish:x:*`) holds
/// for each key under it on its own (`publish:x:12` and `publish:x:13` each get that many
/// slots): one busy account cannot take all of a platform's. Keys without a limit are
/// unlimited.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Limits(BTreeMap<String, u32>);

/// The suffix of a limit that holds for each key under it.
const EACH: &str = ":*";

impl Limits {
    pub fn new(limits: impl IntoIterator<Item = (String, u32)>) -> Self {
        Self(limits.into_iter().collect())
    }

    pub fn get(&self, key: &str) -> Option<u32> {
        self.0.get(key).copied()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The limit of `key`: its own, or that of the `…:*` limit it falls under.
    fn limit_of(&self, key: &str) -> Option<u32> {
        self.get(key).or_else(|| {
            let (under, _) = key.rsplit_once(':')?;
            self.get(&format!("{under}{EACH}"))
        })
    }

    /// Whether `key` gets its slots from a `…:*` limit (made when first needed).
    fn is_each(&self, key: &str) -> bool {
        self.get(key).is_none() && self.limit_of(key).is_some()
    }

    /// The limited keys a job counts against: its kind, each part of its concurrency key up
    /// to a `:`, and the whole key.
    fn keys_of(&self, kind: &str, concurrency_key: Option<&str>) -> Vec<String> {
        let mut keys: Vec<String> = Vec::new();
        let mut add = |key: &str| {
            if self.limit_of(key).is_some() && !keys.iter().any(|k| k == key) {
                keys.push(key.to_owned());
            }
        };
        add(kind);
        if let Some(key) = concurrency_key {
            for (at, _) in key.match_indices(':') {
                add(&key[..at]);
            }
            add(key);
        }
        keys
    }
}

/// Makes the slot rows match `limits`: n rows for a limit of n, none for keys without one.
/// Every worker calls this when it starts, so the last one started sets the cluster's limits.
pub async fn configure_limits(db: &store::Db, limits: &Limits) -> Result<()> {
    let txn = store::begin_write(db).await?;
    let present: Vec<String> = job_slot::Entity::find()
        .select_only()
        .column(job_slot::Column::Key)
        .distinct()
        .into_tuple()
        .all(&txn)
        .await?;
    for key in present {
        // The slots of keys no longer limited go; those under a `…:*` limit keep as many as
        // it now allows (they are made again when first needed).
        let keep = match limits.limit_of(&key) {
            _ if key.ends_with(EACH) => 0,
            Some(n) if limits.is_each(&key) => n,
            Some(_) => continue,
            None => 0,
        };
        job_slot::Entity::delete_many()
            .filter(job_slot::Column::Key.eq(key.as_str()))
            .filter(job_slot::Column::Slot.gte(i32::try_from(keep).unwrap_or(i32::MAX)))
            .exec(&txn)
            .await?;
    }
    for (key, n) in limits.0.iter().filter(|(key, _)| !key.ends_with(EACH)) {
        let n = i32::try_from(*n).context("limit too large")?;
        job_slot::Entity::delete_many()
            .filter(job_slot::Column::Key.eq(key.as_str()))
            .filter(job_slot::Column::Slot.gte(n))
            .exec(&txn)
            .await?;
        let rows = (0..n).map(|slot| job_slot::ActiveModel {
            key: Set(key.clone()),
            slot: Set(slot),
            job_id: Set(None),
            locked_until: Set(None),
            ..Default::default()
        });
        if n > 0 {
            job_slot::Entity::insert_many(rows)
                .on_conflict_do_nothing_on([job_slot::Column::Key, job_slot::Column::Slot])
                .exec(&txn)
                .await?;
        }
    }
    txn.commit().await?;
    Ok(())
}

/// Takes the next due job, if any, whose limited keys each have a free slot, and leases it (and
/// its slots) to `worker` for `lease`.
pub async fn claim(
    db: &store::Db,
    worker: &str,
    lease: Duration,
    limits: &Limits,
) -> Result<Option<job::Model>> {
    Ok(claim_many(db, worker, lease, limits, 1)
        .await?
        .into_iter()
        .next())
}

/// Takes up to `max` due jobs in one transaction, oldest due first, each with a free slot of
/// every limited key it belongs to. A job whose slot another worker took a moment ago is put
/// back in the same transaction, untouched.
pub async fn claim_many(
    db: &store::Db,
    worker: &str,
    lease: Duration,
    limits: &Limits,
    max: usize,
) -> Result<Vec<job::Model>> {
    if max == 0 {
        return Ok(Vec::new());
    }
    let now = crate::now();
    let until = now + chrono::Duration::from_std(lease).context("lease too long")?;
    let mut full = if limits.is_empty() {
        Vec::new()
    } else {
        full_keys(db, limits, now).await?
    };
    // Nothing claimable: answer without taking SQLite's write lock (PostgreSQL's claim skips
    // what others hold and takes no lock when nothing is due, so the question would only add
    // a round trip).
    if store::backend(db) == store::Backend::Sqlite && !claimable(db, now, &full).await? {
        return Ok(Vec::new());
    }
    // Twice at most: when a per-key limit's first job finds no slot rows, they are made after
    // the claim, and the claim is made once more.
    for _ in 0..2 {
        let txn = store::begin_write(db).await?;
        let mut claimed = claim_rows(&txn, worker, now, until, &full, max).await?;
        claimed.sort_by_key(|j| (j.run_at, j.id));
        // A job taken again after its lease ran out may still name slots it held: they are
        // freed, so that it holds one slot of each key, never two. A job on its first run has
        // held none (no statement for a burst of new jobs).
        let retaken: Vec<i64> = claimed
            .iter()
            .filter(|j| j.attempts > 1)
            .map(|j| j.id)
            .collect();
        release_slots(&txn, &retaken).await?;
        let mut kept = Vec::with_capacity(claimed.len());
        let mut unslotted = Vec::new();
        let mut unmade = std::collections::BTreeSet::new();
        for job in claimed {
            let mut slotted = true;
            for key in limits.keys_of(&job.kind, job.concurrency_key.as_deref()) {
                if full.contains(&key) || !try_slot(&txn, &key, job.id, now, until).await? {
                    if limits.is_each(&key) && !full.contains(&key) {
                        unmade.insert(key.clone());
                    }
                    full.push(key);
                    slotted = false;
                    break;
                }
            }
            if slotted {
                kept.push(job);
            } else {
                unslotted.push(job.id);
            }
        }
        put_back(&txn, &unslotted).await?;
        txn.commit().await?;
        // Slot rows of a per-key limit are made when first needed, outside the claim and one
        // key per statement in key order: made inside claims, two workers could each wait on
        // the other's uncommitted rows of another key (a deadlock on PostgreSQL).
        let mut made = 0;
        for key in &unmade {
            if let Some(n) = limits.limit_of(key) {
                made += make_slots(db, key, n).await?;
            }
        }
        if made == 0 || !kept.is_empty() {
            return Ok(kept);
        }
        full.retain(|key| !unmade.contains(key));
    }
    Ok(Vec::new())
}

/// Undoes the claims of `ids` inside the claiming transaction: the jobs are as they were,
/// their slots free.
async fn put_back<C: ConnectionTrait>(conn: &C, ids: &[i64]) -> Result<()> {
    use sea_orm::sea_query::ExprTrait;
    if ids.is_empty() {
        return Ok(());
    }
    job::Entity::update_many()
        .col_expr(job::Column::State, Expr::value(JobState::Queued))
        .col_expr(
            job::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(job::Column::LockedBy, Expr::value(Option::<String>::None))
        .col_expr(
            job::Column::Attempts,
            Expr::col(job::Column::Attempts).sub(1),
        )
        .filter(job::Column::Id.is_in(ids.iter().copied()))
        .exec(conn)
        .await?;
    release_slots(conn, ids).await
}

/// The limited keys with no free slot right now: those whose slots are all held, and those
/// limited to none.
async fn full_keys(db: &store::Db, limits: &Limits, now: DateTime<Utc>) -> Result<Vec<String>> {
    let held: Vec<(String, i64)> = job_slot::Entity::find()
        .select_only()
        .column(job_slot::Column::Key)
        .column_as(job_slot::Column::Id.count(), "held")
        .filter(job_slot::Column::JobId.is_not_null())
        .filter(job_slot::Column::LockedUntil.gte(now))
        .group_by(job_slot::Column::Key)
        .into_tuple()
        .all(db)
        .await?;
    let none = limits
        .0
        .iter()
        .filter(|(key, n)| **n == 0 && !key.ends_with(EACH))
        .map(|(key, _)| key.clone());
    Ok(held
        .into_iter()
        .filter(|(key, held)| limits.limit_of(key).is_some_and(|n| *held >= i64::from(n)))
        .map(|(key, _)| key)
        .chain(none)
        .collect())
}

/// Which jobs a claim looks at.
#[derive(Clone, Copy)]
enum Due {
    /// Queued and due now.
    Queued,
    /// Running, with a lease that ran out (its worker stopped).
    Lapsed,
    /// Either.
    Any,
}

/// The ids of jobs due now (or whose lease ran out), as `which` says, outside the `full` keys.
fn due_jobs(
    now: DateTime<Utc>,
    full: &[String],
    which: Due,
) -> sea_orm::sea_query::SelectStatement {
    use sea_orm::sea_query::ExprTrait;
    let queued = Expr::col(job::Column::State)
        .eq(JobState::Queued)
        .and(Expr::col(job::Column::RunAt).lte(now));
    let lapsed = Expr::col(job::Column::State)
        .eq(JobState::Running)
        .and(Expr::col(job::Column::LockedUntil).lt(now));
    let mut due = Query::select()
        .column(job::Column::Id)
        .from(job::Entity)
        .and_where(match which {
            Due::Queued => queued,
            Due::Lapsed => lapsed,
            Due::Any => queued.or(lapsed),
        })
        .to_owned();
    if !full.is_empty() {
        // Outside every full key: not of a full kind, and a concurrency key that is neither a
        // full key nor under one.
        let mut outside = Expr::col(job::Column::ConcurrencyKey).is_not_in(full.iter().cloned());
        for key in full {
            outside = outside.and(
                Expr::col(job::Column::ConcurrencyKey)
                    .not_like(LikeExpr::new(format!("{}:%", escape_like(key))).escape('\\')),
            );
        }
        due.and_where(Expr::col(job::Column::Kind).is_not_in(full.iter().cloned()))
            .and_where(Expr::col(job::Column::ConcurrencyKey).is_null().or(outside));
    }
    due
}

/// Whether any job could be claimed now (a read, without locks).
async fn claimable(db: &store::Db, now: DateTime<Utc>, full: &[String]) -> Result<bool> {
    let mut due = due_jobs(now, full, Due::Any);
    due.limit(1);
    let found = db.query_one(&due).await?;
    Ok(found.is_some())
}

async fn claim_rows<C: ConnectionTrait>(
    conn: &C,
    worker: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    full: &[String],
    max: usize,
) -> Result<Vec<job::Model>> {
    use sea_orm::sea_query::ExprTrait;
    // Lapsed jobs first (they have waited longest), then the queued ones by due time: two
    // statements, so that each reads its jobs in the order of an index (state, due time, id)
    // and stops after the few it takes, however many are due.
    let mut claimed = Vec::new();
    for which in [Due::Lapsed, Due::Queued] {
        let room = max.saturating_sub(claimed.len());
        if room == 0 {
            break;
        }
        let mut due = due_jobs(now, full, which);
        due.order_by(job::Column::RunAt, sea_orm::sea_query::Order::Asc)
            .order_by(job::Column::Id, sea_orm::sea_query::Order::Asc)
            .limit(u64::try_from(room).unwrap_or(1))
            .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        claimed.extend(
            job::Entity::update_many()
                .col_expr(job::Column::State, Expr::value(JobState::Running))
                .col_expr(job::Column::LockedUntil, Expr::value(until))
                .col_expr(job::Column::LockedBy, Expr::value(worker))
                .col_expr(
                    job::Column::Attempts,
                    Expr::col(job::Column::Attempts).add(1),
                )
                .col_expr(job::Column::UpdatedAt, Expr::value(now))
                .filter(job::Column::Id.in_subquery(due))
                .exec_with_returning(conn)
                .await?,
        );
    }
    Ok(claimed)
}

/// `s` with the characters `LIKE` treats specially escaped by a backslash.
fn escape_like(s: &str) -> String {
    s.chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect()
}

/// Makes the missing slot rows of `key` (n in all); answers how many were made.
async fn make_slots<C: ConnectionTrait>(conn: &C, key: &str, n: u32) -> Result<u64> {
    let n = i32::try_from(n).context("limit too large")?;
    if n == 0 {
        return Ok(0);
    }
    let rows = (0..n).map(|slot| job_slot::ActiveModel {
        key: Set(key.to_owned()),
        slot: Set(slot),
        job_id: Set(None),
        locked_until: Set(None),
        ..Default::default()
    });
    let made = job_slot::Entity::insert_many(rows)
        .on_conflict_do_nothing_on([job_slot::Column::Key, job_slot::Column::Slot])
        .exec_without_returning(conn)
        .await?;
    Ok(match made {
        sea_orm::TryInsertResult::Inserted(n) => n,
        _ => 0,
    })
}

/// Takes one free slot among `key`'s rows.
async fn try_slot<C: ConnectionTrait>(
    conn: &C,
    key: &str,
    job_id: i64,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool> {
    use sea_orm::sea_query::ExprTrait;
    let free = Query::select()
        .column(job_slot::Column::Id)
        .from(job_slot::Entity)
        .and_where(Expr::col(job_slot::Column::Key).eq(key))
        .and_where(
            Expr::col(job_slot::Column::JobId)
                .is_null()
                .or(Expr::col(job_slot::Column::LockedUntil).lt(now)),
        )
        .order_by(job_slot::Column::Slot, sea_orm::sea_query::Order::Asc)
        .limit(1)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .to_owned();
    let taken = job_slot::Entity::update_many()
        .col_expr(job_slot::Column::JobId, Expr::value(job_id))
        .col_expr(job_slot::Column::LockedUntil, Expr::value(until))
        .filter(job_slot::Column::Id.in_subquery(free))
        .exec_with_returning(conn)
        .await?;
    Ok(!taken.is_empty())
}

/// Frees the slots the jobs `ids` hold.
async fn release_slots<C: ConnectionTrait>(conn: &C, ids: &[i64]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    job_slot::Entity::update_many()
        .col_expr(job_slot::Column::JobId, Expr::value(Option::<i64>::None))
        .col_expr(
            job_slot::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(job_slot::Column::JobId.is_in(ids.iter().copied()))
        .exec(conn)
        .await?;
    Ok(())
}

/// Extends the leases of the jobs `ids` that `worker` is running, and of the slots those jobs
/// hold, to `lease` from now: the worker's heartbeat. A live worker keeps its jobs however long
/// they take, so the lease can be short and a crashed worker's jobs and slots come back within
/// it. Only the jobs the worker still runs are named: one it gave up on (its outcome could not
/// be written, or it panicked) is left to run out, and taken again. Returns how many jobs were
/// renewed.
pub async fn renew(db: &store::Db, worker: &str, ids: &[i64], lease: Duration) -> Result<u64> {
    if ids.is_empty() {
        return Ok(0);
    }
    let now = crate::now();
    let until = now + chrono::Duration::from_std(lease).context("lease too long")?;
    let txn = store::begin_write(db).await?;
    let renewed = job::Entity::update_many()
        .col_expr(job::Column::LockedUntil, Expr::value(until))
        .filter(job::Column::State.eq(JobState::Running))
        .filter(job::Column::LockedBy.eq(worker))
        .filter(job::Column::Id.is_in(ids.iter().copied()))
        .exec(&txn)
        .await?
        .rows_affected;
    if renewed > 0 {
        job_slot::Entity::update_many()
            .col_expr(job_slot::Column::LockedUntil, Expr::value(until))
            .filter(job_slot::Column::JobId.in_subquery(held_by(worker)))
            .filter(job_slot::Column::JobId.is_in(ids.iter().copied()))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(renewed)
}

/// Ends the leases of the jobs (and their slots) held by workers that `is_gone` says have
/// stopped, among those whose name starts with `prefix`: a worker starting again on the same
/// machine hands back at once what a previous run of itself left, instead of waiting for the
/// leases to run out. The jobs are then claimed as any job whose lease ran out (a publish job
/// is reconciled, never repeated blindly). Returns the workers whose jobs were handed back.
pub async fn release_stopped(
    db: &store::Db,
    prefix: &str,
    is_gone: impl Fn(&str) -> bool,
) -> Result<Vec<String>> {
    let holders: Vec<Option<String>> = job::Entity::find()
        .select_only()
        .column(job::Column::LockedBy)
        .distinct()
        .filter(job::Column::State.eq(JobState::Running))
        .filter(job::Column::LockedBy.starts_with(prefix))
        .into_tuple()
        .all(db)
        .await?;
    let gone: Vec<String> = holders
        .into_iter()
        .flatten()
        .filter(|worker| is_gone(worker))
        .collect();
    if gone.is_empty() {
        return Ok(gone);
    }
    let now = crate::now();
    let txn = store::begin_write(db).await?;
    for worker in &gone {
        job_slot::Entity::update_many()
            .col_expr(job_slot::Column::LockedUntil, Expr::value(now))
            .filter(job_slot::Column::JobId.in_subquery(held_by(worker)))
            .exec(&txn)
            .await?;
        job::Entity::update_many()
            .col_expr(job::Column::LockedUntil, Expr::value(now))
            .filter(job::Column::State.eq(JobState::Running))
            .filter(job::Column::LockedBy.eq(worker.as_str()))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(gone)
}

/// The ids of the jobs `worker` is running.
fn held_by(worker: &str) -> sea_orm::sea_query::SelectStatement {
    use sea_orm::sea_query::ExprTrait;
    Query::select()
        .column(job::Column::Id)
        .from(job::Entity)
        .and_where(Expr::col(job::Column::State).eq(JobState::Running))
        .and_where(Expr::col(job::Column::LockedBy).eq(worker))
        .to_owned()
}

/// Deletes the rows of jobs that finished before `done_before` and of jobs that failed for
/// good before `dead_before` (their payloads were emptied when they ended). Returns how many
/// rows went.
pub async fn purge_finished(
    db: &store::Db,
    done_before: DateTime<Utc>,
    dead_before: DateTime<Utc>,
) -> Result<u64> {
    let purged = job::Entity::delete_many()
        .filter(
            sea_orm::Condition::any()
                .add(
                    sea_orm::Condition::all()
                        .add(job::Column::State.eq(JobState::Done))
                        .add(job::Column::UpdatedAt.lt(done_before)),
                )
                .add(
                    sea_orm::Condition::all()
                        .add(job::Column::State.eq(JobState::Dead))
                        .add(job::Column::UpdatedAt.lt(dead_before)),
                ),
        )
        .exec(db)
        .await?;
    Ok(purged.rows_affected)
}

/// When the next queued job is due, if any is queued.
pub async fn next_due(db: &store::Db) -> Result<Option<DateTime<Utc>>> {
    let next: Option<Option<DateTime<Utc>>> = job::Entity::find()
        .select_only()
        .column_as(job::Column::RunAt.min(), "next")
        .filter(job::Column::State.eq(JobState::Queued))
        .into_tuple()
        .one(db)
        .await?;
    Ok(next.flatten())
}

/// Gives a job back unfinished (a worker shutting down): it is due again at once and the
/// attempt does not count.
pub async fn release(db: &store::Db, job: &job::Model, worker: &str) -> Result<()> {
    use sea_orm::sea_query::ExprTrait;
    let update = job::Entity::update_many()
        .col_expr(job::Column::State, Expr::value(JobState::Queued))
        .col_expr(
            job::Column::Attempts,
            Expr::col(job::Column::Attempts).sub(1),
        );
    finish(db, job, worker, update).await
}

/// Puts a job back to run again after `wait` (at most a day), without counting the run as an
/// attempt: it is not finished, and nothing failed.
pub async fn later(db: &store::Db, job: &job::Model, worker: &str, wait: Duration) -> Result<()> {
    use sea_orm::sea_query::ExprTrait;
    let wait = chrono::Duration::from_std(wait.min(Duration::from_secs(24 * 3600)))
        .context("wait too long")?;
    let update = job::Entity::update_many()
        .col_expr(job::Column::State, Expr::value(JobState::Queued))
        .col_expr(job::Column::RunAt, Expr::value(crate::now() + wait))
        .col_expr(
            job::Column::Attempts,
            Expr::col(job::Column::Attempts).sub(1),
        );
    finish(db, job, worker, update).await
}

/// Marks a job done and drops its payload (and an e-mail's recipient), which may carry links,
/// text or an address no longer needed.
pub async fn complete(db: &store::Db, job: &job::Model, worker: &str) -> Result<()> {
    let update = forget_payload(job::Entity::update_many())
        .col_expr(job::Column::State, Expr::value(JobState::Done))
        .col_expr(job::Column::LastError, Expr::value(Option::<String>::None));
    finish(db, job, worker, update).await
}

tokio::task_local! {
    /// Set when the running job marked its own row done in its last transaction.
    static FINISHED: std::cell::Cell<bool>;
}

/// Notes that the running job's row was marked done inside a transaction of the job's own
/// ([`complete_within`]). It counts only when the job then returns `Ok`: a
/// transaction that failed to commit makes the job fail, and the worker records that.
pub(crate) fn mark_finished() {
    let _ = FINISHED.try_with(|finished| finished.set(true));
}

/// Runs a job's work and answers, with its result, whether the job finished its own row.
pub(crate) async fn finished_within<T>(work: impl Future<Output = T>) -> (T, bool) {
    FINISHED
        .scope(std::cell::Cell::new(false), async {
            let out = work.await;
            (out, FINISHED.with(std::cell::Cell::get))
        })
        .await
}

/// Marks a running `job` done inside the caller's transaction, as that transaction's last
/// write: a job whose own work ends in a transaction finishes with it instead of in one more
/// (see [`finished_within`]). Does nothing for a job this process no longer holds.
pub async fn complete_within<C: ConnectionTrait>(conn: &C, job: &job::Model) -> Result<()> {
    if complete_many_within(conn, &[job]).await?.contains(&job.id) {
        mark_finished();
    }
    Ok(())
}

/// Marks the running `jobs` done inside the caller's transaction, as [`complete_within`] does
/// for one, in one statement per worker named on them; answers the ids of those finished here
/// (their runs call [`mark_finished`]). A job its worker no longer holds is left as it is.
pub(crate) async fn complete_many_within<C: ConnectionTrait>(
    conn: &C,
    jobs: &[&job::Model],
) -> Result<std::collections::HashSet<i64>> {
    let mut by_worker: std::collections::BTreeMap<&str, Vec<i64>> = Default::default();
    for job in jobs {
        if let Some(worker) = job.locked_by.as_deref() {
            by_worker.entry(worker).or_default().push(job.id);
        }
    }
    let mut done = std::collections::HashSet::new();
    for (worker, ids) in by_worker {
        let update = forget_payload(job::Entity::update_many())
            .col_expr(job::Column::State, Expr::value(JobState::Done))
            .col_expr(job::Column::LastError, Expr::value(Option::<String>::None));
        done.extend(finish_in(conn, &ids, worker, update).await?);
    }
    Ok(done)
}

/// Records a failed attempt: the job runs again after a backoff, or, after its last attempt or
/// for a permanent failure, stays `dead` with the reason. A dead job's payload is dropped: it
/// may carry a one-time link, and nothing will read it again.
pub async fn fail(
    db: &store::Db,
    job: &job::Model,
    worker: &str,
    reason: &str,
    retry: Retry,
) -> Result<()> {
    let dead = retry == Retry::Never || job.attempts >= job.max_attempts;
    // A platform's wait is honoured up to a week: an absurd Retry-After cannot overflow the
    // date or park a job for ever.
    let wait = match retry {
        Retry::After(wait) => wait,
        _ => backoff(job.attempts),
    }
    .min(Duration::from_secs(7 * 24 * 3600));
    let run_at = if dead {
        job.run_at
    } else {
        crate::now() + chrono::Duration::from_std(wait).context("backoff too long")?
    };
    let mut update = job::Entity::update_many()
        .col_expr(
            job::Column::State,
            Expr::value(if dead {
                JobState::Dead
            } else {
                JobState::Queued
            }),
        )
        .col_expr(job::Column::RunAt, Expr::value(run_at))
        .col_expr(job::Column::LastError, Expr::value(truncate(reason, 2000)));
    if dead {
        update = forget_payload(update);
    }
    finish(db, job, worker, update).await
}

/// Empties what a finished job no longer needs: its payload and an e-mail's recipient.
fn forget_payload(update: sea_orm::UpdateMany<job::Entity>) -> sea_orm::UpdateMany<job::Entity> {
    update
        .col_expr(job::Column::Payload, Expr::value("{}"))
        .col_expr(job::Column::Recipient, Expr::value(Option::<String>::None))
}

/// Ends this worker's hold on a running job with `update` (its new state and what goes with
/// it), and frees the job's slots, in one transaction. A job this worker no longer holds (its
/// lease ran out and another took it) is left as it is.
async fn finish(
    db: &store::Db,
    job: &job::Model,
    worker: &str,
    update: sea_orm::UpdateMany<job::Entity>,
) -> Result<()> {
    let txn = store::begin_write(db).await?;
    finish_in(&txn, &[job.id], worker, update).await?;
    txn.commit().await?;
    Ok(())
}

/// [`finish`] of the jobs `ids` inside the caller's transaction; answers those this worker still
/// held.
async fn finish_in<C: ConnectionTrait>(
    conn: &C,
    ids: &[i64],
    worker: &str,
    update: sea_orm::UpdateMany<job::Entity>,
) -> Result<Vec<i64>> {
    let finished: Vec<i64> = update
        .col_expr(
            job::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(job::Column::UpdatedAt, Expr::value(crate::now()))
        .filter(job::Column::Id.is_in(ids.iter().copied()))
        .filter(job::Column::State.eq(JobState::Running))
        .filter(job::Column::LockedBy.eq(worker))
        .exec_with_returning(conn)
        .await?
        .into_iter()
        .map(|j| j.id)
        .collect();
    release_slots(conn, &finished).await?;
    Ok(finished)
}

/// When a failed job may run again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// After the usual backoff.
    Backoff,
    /// After this wait (a platform's rate limit said when).
    After(Duration),
    /// Never: the failure is permanent.
    Never,
}

/// The wait before attempt `attempts + 1`: 2^attempts seconds (capped at an hour) with up to
/// 25 % random jitter, so that jobs failing together do not retry together.
pub fn backoff(attempts: i32) -> Duration {
    let exp = attempts.clamp(0, 12) as u32;
    let base = Duration::from_secs((1u64 << exp).min(3600));
    let jitter = rand::rng().random_range(0.0..0.25);
    base + base.mul_f64(jitter)
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_counts_against_its_kind_its_platform_and_its_account() {
        let limits = Limits::new([
            ("publish:x".to_owned(), 16),
            ("publish:x:*".to_owned(), 4),
            ("send_email".to_owned(), 4),
        ]);
        assert_eq!(
            limits.keys_of("publish", Some("publish:x:12")),
            ["publish:x", "publish:x:12"]
        );
        assert_eq!(limits.limit_of("publish:x:12"), Some(4));
        assert!(limits.is_each("publish:x:12"));
        assert!(!limits.is_each("publish:x"));
        // A job queued before accounts had keys of their own counts against its platform.
        assert_eq!(limits.keys_of("publish", Some("publish:x")), ["publish:x"]);
        assert_eq!(limits.keys_of("send_email", None), ["send_email"]);
        // Another platform without limits: none.
        assert!(
            limits
                .keys_of("publish", Some("publish:tiktok:3"))
                .is_empty()
        );
    }

    #[test]
    fn like_patterns_match_only_what_they_say() {
        assert_eq!(escape_like("publish:x"), "publish:x");
        assert_eq!(escape_like("a_b%c\\"), "a\\_b\\%c\\\\");
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let b1 = backoff(1);
        assert!(
            b1 >= Duration::from_secs(2) && b1 <= Duration::from_millis(2500),
            "{b1:?}"
        );
        let b5 = backoff(5);
        assert!(
            b5 >= Duration::from_secs(32) && b5 <= Duration::from_secs(40),
            "{b5:?}"
        );
        assert!(backoff(40) <= Duration::from_secs(4500));
    }
}

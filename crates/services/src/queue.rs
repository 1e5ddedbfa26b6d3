//! The durable job queue, in the same database as everything else.
//!
//! A job is written in the same transaction as the change that needs it (the outbox pattern),
//! claimed with a lease (`locked_until`) so that a crashed worker's job is taken again, retried
//! with exponential backoff and jitter, and left `dead` with its reason after the last attempt.
//!
//! Claiming is one `UPDATE … WHERE id = (SELECT … LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING *`:
//! PostgreSQL skips rows other workers hold; SQLite has a single writer, so the statement is
//! atomic there and the query builder leaves the lock clause out.

use crate::Result;
use anyhow::Context;
use chrono::{DateTime, Utc};
use rand::Rng;
use sea_orm::sea_query::{Expr, LockBehavior, LockType, Query};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use std::time::Duration;
use store::entities::job;

pub const QUEUED: &str = "queued";
pub const RUNNING: &str = "running";
pub const DONE: &str = "done";
pub const DEAD: &str = "dead";

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
        }
    }

    pub fn for_user(mut self, user_id: i64) -> Self {
        self.user_id = Some(user_id);
        self
    }
}

/// Adds a job, inside the caller's transaction when given one.
pub async fn enqueue<C: ConnectionTrait>(conn: &C, job: NewJob) -> Result<i64> {
    let now = crate::now();
    let row = job::ActiveModel {
        kind: Set(job.kind.to_owned()),
        payload: Set(job.payload.to_string()),
        state: Set(QUEUED.to_owned()),
        run_at: Set(job.run_at),
        attempts: Set(0),
        max_attempts: Set(job.max_attempts.max(1)),
        locked_until: Set(None),
        locked_by: Set(None),
        last_error: Set(None),
        idempotency_key: Set(job.idempotency_key),
        user_id: Set(job.user_id),
        workspace_id: Set(job.workspace_id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(row.id)
}

/// Takes the next due job, if any, and leases it to `worker` for `lease`.
pub async fn claim<C: ConnectionTrait>(
    conn: &C,
    worker: &str,
    lease: Duration,
) -> Result<Option<job::Model>> {
    use sea_orm::sea_query::ExprTrait;
    let now = crate::now();
    let until = now + chrono::Duration::from_std(lease).context("lease too long")?;
    let due = Query::select()
        .column(job::Column::Id)
        .from(job::Entity)
        .and_where(
            Expr::col(job::Column::State)
                .eq(QUEUED)
                .and(Expr::col(job::Column::RunAt).lte(now))
                .or(Expr::col(job::Column::State)
                    .eq(RUNNING)
                    .and(Expr::col(job::Column::LockedUntil).lt(now))),
        )
        .order_by(job::Column::RunAt, sea_orm::sea_query::Order::Asc)
        .order_by(job::Column::Id, sea_orm::sea_query::Order::Asc)
        .limit(1)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .to_owned();
    let claimed = job::Entity::update_many()
        .col_expr(job::Column::State, Expr::value(RUNNING))
        .col_expr(job::Column::LockedUntil, Expr::value(until))
        .col_expr(job::Column::LockedBy, Expr::value(worker))
        .col_expr(
            job::Column::Attempts,
            Expr::col(job::Column::Attempts).add(1),
        )
        .col_expr(job::Column::UpdatedAt, Expr::value(now))
        .filter(job::Column::Id.in_subquery(due))
        .exec_with_returning(conn)
        .await?;
    Ok(claimed.into_iter().next())
}

/// Marks a job done and drops its payload, which may carry links or text no longer needed.
pub async fn complete<C: ConnectionTrait>(conn: &C, job: &job::Model, worker: &str) -> Result<()> {
    job::Entity::update_many()
        .col_expr(job::Column::State, Expr::value(DONE))
        .col_expr(job::Column::Payload, Expr::value("{}"))
        .col_expr(
            job::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(job::Column::LastError, Expr::value(Option::<String>::None))
        .col_expr(job::Column::UpdatedAt, Expr::value(crate::now()))
        .filter(job::Column::Id.eq(job.id))
        .filter(job::Column::LockedBy.eq(worker))
        .exec(conn)
        .await?;
    Ok(())
}

/// Records a failed attempt: the job runs again after a backoff, or, after its last attempt or
/// for a permanent failure, stays `dead` with the reason. A dead job's payload is dropped: it
/// may carry a one-time link, and nothing will read it again.
pub async fn fail<C: ConnectionTrait>(
    conn: &C,
    job: &job::Model,
    worker: &str,
    reason: &str,
    permanent: bool,
) -> Result<()> {
    let now = crate::now();
    let dead = permanent || job.attempts >= job.max_attempts;
    let run_at = if dead {
        job.run_at
    } else {
        now + chrono::Duration::from_std(backoff(job.attempts)).context("backoff too long")?
    };
    let mut update = job::Entity::update_many()
        .col_expr(
            job::Column::State,
            Expr::value(if dead { DEAD } else { QUEUED }),
        )
        .col_expr(job::Column::RunAt, Expr::value(run_at));
    if dead {
        update = update.col_expr(job::Column::Payload, Expr::value("{}"));
    }
    update
        .col_expr(
            job::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(job::Column::LastError, Expr::value(truncate(reason, 2000)))
        .col_expr(job::Column::UpdatedAt, Expr::value(now))
        .filter(job::Column::Id.eq(job.id))
        .filter(job::Column::LockedBy.eq(worker))
        .exec(conn)
        .await?;
    Ok(())
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

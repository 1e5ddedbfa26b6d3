//! The jobs that run once a day per cluster, at a fixed UTC time:
//!
//! - `retention` (02:30): backups, purges and the consent ledger's witness
//!   (`crate::housekeeping`);
//! - `usage_rollup` (00:30): the anonymized daily counts (`crate::usage`).
//!
//! Each worker makes sure, when it starts, that both are planned. A run's idempotency key is
//! its kind and UTC day, so however many workers plan, one job a day exists in the cluster; a
//! job plans the next day's before doing its work, so a failing day does not end the series.

use crate::Result;
use crate::queue::{self, NewJob, Payload};
use chrono::{DateTime, Days, NaiveTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use store::entities::job;

/// The payload of the daily retention run (it carries nothing).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct RetentionRun {}

impl Payload for RetentionRun {
    const KIND: &'static str = "retention";
}

/// The payload of the daily usage roll-up (it carries nothing).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct UsageRollup {}

impl Payload for UsageRollup {
    const KIND: &'static str = "usage_rollup";
}

/// The daily kinds and the UTC time each runs at.
const SCHEDULE: [(&str, u32, u32); 2] = [(RetentionRun::KIND, 2, 30), (UsageRollup::KIND, 0, 30)];

/// When a `kind` job runs each day (UTC).
fn time_of(kind: &str) -> NaiveTime {
    let (h, m) = SCHEDULE
        .iter()
        .find(|(k, _, _)| *k == kind)
        .map_or((2, 30), |(_, h, m)| (*h, *m));
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN)
}

/// The first time after `after` at which a `kind` job runs.
pub fn next_run(kind: &str, after: DateTime<Utc>) -> DateTime<Utc> {
    let at = after.date_naive().and_time(time_of(kind)).and_utc();
    if at > after {
        at
    } else {
        at.checked_add_days(Days::new(1)).unwrap_or(at)
    }
}

fn idempotency_key(kind: &str, at: DateTime<Utc>) -> String {
    format!("{kind}:{}", at.format("%Y-%m-%d"))
}

/// Plans the `kind` job for `at`, unless that day's job exists (planned by another worker,
/// or run already).
async fn plan_at<C: ConnectionTrait>(
    conn: &C,
    kind: &'static str,
    at: DateTime<Utc>,
) -> Result<()> {
    let mut next = NewJob::now(kind, serde_json::json!({}));
    next.run_at = at;
    next.idempotency_key = Some(idempotency_key(kind, at));
    next.subject = Some(format!("cluster:{kind}"));
    next.request_id = None;
    queue::enqueue_once(conn, next).await.map(drop)
}

/// Makes sure the daily jobs are planned: each kind that has no job waiting or running gets
/// one at its next time, and the deletion requests' check while a request is under way. Every
/// worker calls this when it starts.
pub async fn plan_daily_jobs(db: &store::Db) -> Result<()> {
    let now = crate::now();
    for (kind, _, _) in SCHEDULE {
        let pending = job::Entity::find()
            .filter(job::Column::Kind.eq(kind))
            .filter(job::Column::State.is_in([queue::JobState::Queued, queue::JobState::Running]))
            .one(db)
            .await?;
        if pending.is_none() {
            plan_at(db, kind, next_run(kind, now)).await?;
        }
    }
    crate::deletion_requests::check::ensure_planned(db).await
}

/// Plans the run after `job` (the next day's) of the daily kind `P`.
pub(crate) async fn plan_next<P: Payload>(db: &store::Db, job: &job::Model) -> Result<()> {
    let kind = P::KIND;
    let mut next = next_run(kind, job.run_at.max(crate::now()));
    // Never the day of the job itself (one brought forward by hand, run before its time).
    if job.idempotency_key.as_deref() == Some(idempotency_key(kind, next).as_str()) {
        next = next.checked_add_days(Days::new(1)).unwrap_or(next);
    }
    plan_at(db, kind, next).await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_next_run_is_the_next_time_of_day() {
        assert_eq!(
            next_run(RetentionRun::KIND, at("2026-11-29T01:00:00Z")),
            at("2026-11-29T02:30:00Z")
        );
        assert_eq!(
            next_run(RetentionRun::KIND, at("2026-11-29T02:30:00Z")),
            at("2026-11-30T02:30:00Z")
        );
        assert_eq!(
            next_run(UsageRollup::KIND, at("2026-12-31T23:59:00Z")),
            at("2027-01-01T00:30:00Z")
        );
        assert_eq!(
            idempotency_key(RetentionRun::KIND, at("2026-11-30T02:30:00Z")),
            "retention:2026-11-30"
        );
    }
}

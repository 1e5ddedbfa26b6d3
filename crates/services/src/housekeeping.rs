//! The daily jobs that keep what the Privacy Policy promises about retention, once per cluster:
//!
//! - `retention` (02:30 UTC): the encrypted backup when `retention.backups` is on, then purges
//!   the backups past `retention.backup_days`, the legal records past their period, the
//!   forget-list entries past their `keep_until` and the outbox e-mails past
//!   `retention.outbox_days`, and hands the consent ledger's head to the outside witness (the
//!   log, and `consent.witness_file`);
//! - `usage_rollup` (00:30 UTC): counts the day that ended into the anonymized aggregates
//!   (`crate::usage`).
//!
//! Each worker makes sure, when it starts, that both are planned. A run's idempotency key is
//! its kind and UTC day, so however many workers plan, one job a day exists in the cluster; a
//! job plans the next day's before doing its work, so a failing day does not end the series.

use crate::queue::{self, NewJob};
use crate::worker::JobError;
use crate::{Result, Services};
use chrono::{DateTime, Days, NaiveTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use std::path::PathBuf;
use store::entities::{forget_entry, job};

pub const JOB_KIND: &str = "retention";

/// When each daily job runs (UTC).
fn time_of(kind: &str) -> NaiveTime {
    let (h, m) = if kind == crate::usage::JOB_KIND {
        (0, 30)
    } else {
        (2, 30)
    };
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
    let key = idempotency_key(kind, at);
    let exists = job::Entity::find()
        .filter(job::Column::IdempotencyKey.eq(key.as_str()))
        .one(conn)
        .await?
        .is_some();
    if exists {
        return Ok(());
    }
    let mut next = NewJob::now(kind, serde_json::json!({}));
    next.run_at = at;
    next.idempotency_key = Some(key);
    next.subject = Some(format!("cluster:{kind}"));
    match queue::enqueue(conn, next).await {
        Ok(_) => Ok(()),
        // Another worker planned the same day a moment ago.
        Err(crate::ServiceError::Unexpected(err))
            if err
                .downcast_ref::<sea_orm::DbErr>()
                .is_some_and(store::is_unique_violation) =>
        {
            Ok(())
        }
        Err(err) => Err(err),
    }
}

/// Makes sure the daily jobs are planned: each kind that has no job waiting or running gets
/// one at its next time, and the deletion requests' check while a request is under way. Every
/// worker calls this when it starts.
pub async fn plan_daily_jobs(db: &store::Db) -> Result<()> {
    let now = crate::now();
    for kind in [JOB_KIND, crate::usage::JOB_KIND] {
        let pending = job::Entity::find()
            .filter(job::Column::Kind.eq(kind))
            .filter(job::Column::State.is_in([queue::QUEUED, queue::RUNNING]))
            .one(db)
            .await?;
        if pending.is_none() {
            plan_at(db, kind, next_run(kind, now)).await?;
        }
    }
    crate::deletion_requests::ensure_planned(db).await
}

/// Plans the run after `job` (the next day's).
pub(crate) async fn plan_next(db: &store::Db, kind: &'static str, job: &job::Model) -> Result<()> {
    let mut next = next_run(kind, job.run_at.max(crate::now()));
    // Never the day of the job itself (one brought forward by hand, run before its time).
    if job.idempotency_key.as_deref() == Some(idempotency_key(kind, next).as_str()) {
        next = next.checked_add_days(Days::new(1)).unwrap_or(next);
    }
    plan_at(db, kind, next).await
}

/// What one retention run did.
#[derive(Debug, Clone, Default)]
pub struct RetentionReport {
    /// The backup taken, when backups are on.
    pub backup: Option<store::backup::BackupFile>,
    pub backups_purged: Vec<PathBuf>,
    pub legal_records_purged: u64,
    pub forget_entries_purged: u64,
    /// Deletions left unfinished (their job gave up or was lost) that this run finished.
    pub deletions_resumed: usize,
    pub jobs_purged: u64,
    /// E-mails deleted from the outbox folder, past `retention.outbox_days`.
    pub outbox_purged: u64,
    /// The consent ledger's head handed to the outside witness (`None` when that failed).
    pub consent_head: Option<crate::consent::Head>,
}

impl Services {
    /// Deletes the rows of background jobs finished more than `retention.done_jobs_hours` ago
    /// and of jobs that failed for good more than `retention.dead_jobs_days` ago. Workers run
    /// this every few minutes, and the daily retention run once more.
    pub async fn purge_finished_jobs(&self, now: DateTime<Utc>) -> Result<u64> {
        let done = now - chrono::Duration::hours(i64::from(self.retention.done_jobs_hours));
        let dead = now - chrono::Duration::days(i64::from(self.retention.dead_jobs_days));
        queue::purge_finished(&self.db, done, dead).await
    }

    /// Deletes the e-mails written to the outbox folder more than `retention.outbox_days` ago,
    /// and any still there to or naming a deleted address (a deletion removes those itself;
    /// this catches one that could not). Nothing when mail goes to a server.
    pub async fn purge_outbox(&self, now: DateTime<Utc>) -> Result<u64> {
        let Some(outbox) = self.mailer.outbox() else {
            return Ok(0);
        };
        let before = now - chrono::Duration::days(i64::from(self.retention.outbox_days));
        let purged = outbox
            .purge_before(before.into())
            .await
            .map_err(|e| anyhow::anyhow!("could not purge the mail outbox: {e}"))?;
        Ok(purged + self.forget_outbox(None).await?)
    }

    /// Deletes the forget-list entries kept past their `keep_until`.
    pub async fn purge_forget_list(&self, now: DateTime<Utc>) -> Result<u64> {
        let res = forget_entry::Entity::delete_many()
            .filter(forget_entry::Column::KeepUntil.lt(now))
            .exec(&self.db)
            .await?;
        // The keyed hashes kept as proof of a deletion or of a request go when the forget list
        // forgets them: a hash of a small id or of an address can be matched by trying.
        let horizon = now - self.retention.forget_keep();
        store::entities::account_deletion::Entity::update_many()
            .col_expr(
                store::entities::account_deletion::Column::SubjectHash,
                sea_orm::sea_query::Expr::value(""),
            )
            .filter(store::entities::account_deletion::Column::FinishedAt.lt(horizon))
            .filter(store::entities::account_deletion::Column::SubjectHash.ne(""))
            .exec(&self.db)
            .await?;
        store::entities::deletion_request::Entity::update_many()
            .col_expr(
                store::entities::deletion_request::Column::EmailHash,
                sea_orm::sea_query::Expr::value(""),
            )
            .filter(store::entities::deletion_request::Column::ClosedAt.lt(horizon))
            .filter(store::entities::deletion_request::Column::EmailHash.ne(""))
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected)
    }

    /// One day's retention work: the backup (when on), then every purge. The purges run even
    /// when the backup fails; the backup's error is returned after them.
    pub async fn run_retention(&self, now: DateTime<Utc>) -> Result<RetentionReport> {
        let mut report = RetentionReport::default();
        // A backup taken purges after itself; without one, the old ones are purged here.
        let backup = if self.retention.backups {
            self.take_backup().await.map(|taken| {
                report.backup = Some(taken.file);
                report.backups_purged = taken.purged;
            })
        } else {
            Ok(())
        };
        if report.backup.is_none() {
            report.backups_purged = self.purge_backups(now)?;
        }
        report.legal_records_purged = self.purge_legal_records(now.date_naive()).await?;
        report.forget_entries_purged = self.purge_forget_list(now).await?;
        report.jobs_purged = self.purge_finished_jobs(now).await?;
        crate::workspaces::purge_spent_invitations(&self.db, now).await?;
        report.outbox_purged = self.purge_outbox(now).await?;
        // What the purges deleted, and a deletion receipt's address once it has been sent, are
        // dropped from the WAL (SQLite) or vacuumed away (PostgreSQL), as after a deletion.
        let purged = [
            "jobs",
            "legal_records",
            "forget_list",
            "account_deletions",
            "deletion_requests",
        ];
        if let Err(err) = store::scrub_deleted_rows(&self.db, &purged).await {
            tracing::warn!(error = %format!("{err:#}"), "could not scrub the database after the purges");
        }
        report.deletions_resumed = self
            .resume_unfinished_deletions(chrono::Duration::hours(1))
            .await?;
        // Like the backup's, a failed witness is reported after the purges.
        let witness = self.witness_consent_ledger(now).await.map(|head| {
            report.consent_head = Some(head);
        });
        tracing::info!(
            backup = report.backup.as_ref().map(|b| b.path.display().to_string()),
            backups_purged = report.backups_purged.len(),
            legal_records_purged = report.legal_records_purged,
            forget_entries_purged = report.forget_entries_purged,
            jobs_purged = report.jobs_purged,
            outbox_purged = report.outbox_purged,
            "retention run"
        );
        backup.and(witness).map(|()| report)
    }
}

/// Runs the daily retention job.
pub async fn run(services: &Services, job: &job::Model) -> Result<(), JobError> {
    plan_next(&services.db, JOB_KIND, job)
        .await
        .map_err(|e| JobError::Retry(format!("{e:#}")))?;
    services
        .run_retention(crate::now())
        .await
        .map(|_| ())
        .map_err(|e| JobError::Retry(format!("{e:#}")))
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
            next_run(JOB_KIND, at("2026-11-29T01:00:00Z")),
            at("2026-11-29T02:30:00Z")
        );
        assert_eq!(
            next_run(JOB_KIND, at("2026-11-29T02:30:00Z")),
            at("2026-11-30T02:30:00Z")
        );
        assert_eq!(
            next_run(crate::usage::JOB_KIND, at("2026-12-31T23:59:00Z")),
            at("2027-01-01T00:30:00Z")
        );
        assert_eq!(
            idempotency_key(JOB_KIND, at("2026-11-30T02:30:00Z")),
            "retention:2026-11-30"
        );
    }
}

//! The daily `retention` job (see [`crate::jobs::daily`]), which keeps what the Privacy
//! Policy promises about retention, once per cluster: the encrypted backup when
//! `retention.backups` is on, then purges the backups past `retention.backup_days`, the legal
//! records past their period, the forget-list entries past their `keep_until` and the outbox
//! e-mails past `retention.outbox_days`, and hands the consent ledger's head to the outside
//! witness (the log, and `consent.witness_file`). It plans the next day's run before doing its
//! work, so a failing day does not end the series.

use crate::jobs::{Job, JobError, daily};
use crate::queue;
use crate::{Result, Services};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::path::PathBuf;
use store::entities::{forget_entry, job};

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
    /// Comments of conversations quiet for longer than their workspace keeps them.
    pub comments_purged: u64,
    /// Direct-message conversations quiet for longer than their workspace keeps them.
    pub conversations_purged: u64,
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
        crate::workspaces::invitations::purge_spent_invitations(&self.db, now).await?;
        crate::billing::purge_events(&self.db, now).await?;
        crate::ai::purge_generations(&self.db, now).await?;
        crate::media::generations::purge_generations(self, now).await?;
        crate::analytics::ingest::upkeep(self, now).await?;
        report.comments_purged = crate::comments::ingest::upkeep(self, now).await?;
        report.conversations_purged = crate::inbox::upkeep(self, now).await?;
        // The weekly reports are not worth the purges after them.
        if let Err(err) = self.send_weekly_reports(now).await {
            tracing::warn!(error = %format!("{err:#}"), "the weekly analytics reports stopped part way");
        }
        report.outbox_purged = self.purge_outbox(now).await?;
        // What the purges deleted, and a deletion receipt's address once it has been sent, are
        // dropped from the WAL (SQLite) or vacuumed away (PostgreSQL), as after a deletion.
        let purged = [
            "jobs",
            "legal_records",
            "forget_list",
            "account_deletions",
            "deletion_requests",
            "ai_generations",
            "media_generations",
            "metric_answers",
            "comments",
            "comment_replies",
            "conversations",
            "direct_messages",
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

/// The daily retention run.
pub struct Retention;

impl Job for Retention {
    type Payload = daily::RetentionRun;

    async fn run(
        services: &Services,
        job: &job::Model,
        _: daily::RetentionRun,
    ) -> Result<(), JobError> {
        daily::plan_next::<daily::RetentionRun>(&services.db, job)
            .await
            .map_err(JobError::retry)?;
        services
            .run_retention(crate::now())
            .await
            .map(|_| ())
            .map_err(JobError::retry)
    }
}

//! The worker: claims due jobs one at a time and runs them, outside any transaction.

use crate::{Result, Services, emails, queue};
use providers::mail::Email;
use std::time::Duration;
use store::entities::job;
use tokio::sync::watch;

/// How a job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// Will run again later.
    Retry(String),
    /// Gave up; the reason is kept on the job.
    Dead(String),
}

enum JobError {
    Retry(String),
    Permanent(String),
}

pub struct Worker {
    services: Services,
    id: String,
    lease: Duration,
    poll: Duration,
}

impl Worker {
    pub fn new(services: Services, poll: Duration) -> Self {
        let id = format!(
            "{}-{}",
            std::process::id(),
            &crate::tokens::random_token()[..8]
        );
        Self {
            services,
            id,
            lease: Duration::from_secs(300),
            poll,
        }
    }

    /// Claims and runs one job. `None` when nothing is due.
    pub async fn run_once(&self) -> Result<Option<(String, Outcome)>> {
        let Some(job) = queue::claim(&self.services.db, &self.id, self.lease).await? else {
            return Ok(None);
        };
        let outcome = match self.execute(&job).await {
            Ok(()) => {
                queue::complete(&self.services.db, &job, &self.id).await?;
                Outcome::Done
            }
            Err(JobError::Retry(reason)) => {
                queue::fail(&self.services.db, &job, &self.id, &reason, false).await?;
                if job.attempts >= job.max_attempts {
                    Outcome::Dead(reason)
                } else {
                    Outcome::Retry(reason)
                }
            }
            Err(JobError::Permanent(reason)) => {
                queue::fail(&self.services.db, &job, &self.id, &reason, true).await?;
                Outcome::Dead(reason)
            }
        };
        match &outcome {
            Outcome::Done => tracing::debug!(job = job.id, kind = %job.kind, "job done"),
            Outcome::Retry(reason) => {
                tracing::warn!(job = job.id, kind = %job.kind, attempt = job.attempts, %reason, "job will be retried")
            }
            Outcome::Dead(reason) => {
                tracing::error!(job = job.id, kind = %job.kind, attempt = job.attempts, %reason, "job failed for good")
            }
        }
        Ok(Some((job.kind, outcome)))
    }

    /// Runs jobs until none is due; returns how many ran. Tests use this to drive the queue
    /// deterministically.
    pub async fn run_until_empty(&self) -> Result<usize> {
        let mut ran = 0;
        while self.run_once().await?.is_some() {
            ran += 1;
        }
        Ok(ran)
    }

    /// Runs until `shutdown` turns true. A job in progress is finished first.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(worker = %self.id, "worker started");
        loop {
            if *shutdown.borrow() {
                break;
            }
            match self.run_once().await {
                Ok(Some(_)) => continue,
                Ok(None) => {}
                Err(err) => tracing::error!(error = ?err, "the worker could not claim a job"),
            }
            tokio::select! {
                _ = tokio::time::sleep(self.poll) => {}
                _ = shutdown.changed() => {}
            }
        }
        tracing::info!(worker = %self.id, "worker stopped");
    }

    async fn execute(&self, job: &job::Model) -> Result<(), JobError> {
        match job.kind.as_str() {
            emails::JOB_KIND => {
                let email: Email = serde_json::from_str(&job.payload)
                    .map_err(|e| JobError::Permanent(format!("unreadable payload: {e}")))?;
                self.services.mailer.send(&email).await.map_err(|e| {
                    if e.is_permanent() {
                        JobError::Permanent(e.to_string())
                    } else {
                        JobError::Retry(e.to_string())
                    }
                })
            }
            other => Err(JobError::Permanent(format!(
                "no handler for job kind {other:?}"
            ))),
        }
    }
}

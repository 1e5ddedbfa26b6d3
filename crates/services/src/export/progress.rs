//! A build's progress, written to its row now and then, which also extends the build job's lease
//! as it goes (a large export takes longer than one lease).

use super::ExportState;
use crate::{Result, Services, queue};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::time::{Duration, Instant};
use store::entities::{data_export, job};

/// How often progress is written to the database, at most.
pub(crate) const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// How long a job's lease is extended by while a build runs, and how often.
pub(crate) const LEASE: chrono::Duration = chrono::Duration::minutes(5);

pub(crate) const LEASE_EVERY: Duration = Duration::from_secs(30);

/// Progress of a build, written to its row now and then; extends the job's lease as it goes
/// (a large export takes longer than one lease).
pub(crate) struct Progress<'a> {
    services: &'a Services,
    id: i64,
    done: u64,
    total: u64,
    saved_at: Instant,
    job: Option<&'a job::Model>,
    leased_at: Instant,
}

impl<'a> Progress<'a> {
    pub(crate) fn new(
        services: &'a Services,
        id: i64,
        total: u64,
        job: Option<&'a job::Model>,
    ) -> Self {
        Self {
            services,
            id,
            done: 0,
            total,
            saved_at: Instant::now(),
            job,
            leased_at: Instant::now(),
        }
    }

    pub(crate) async fn add(&mut self, n: u64) -> Result<()> {
        self.done = std::cmp::min(self.done + n, self.total);
        if self.saved_at.elapsed() >= PROGRESS_EVERY {
            self.save().await?;
        }
        Ok(())
    }

    pub(crate) async fn save(&mut self) -> Result<()> {
        let db = &self.services.db;
        data_export::Entity::update_many()
            .col_expr(
                data_export::Column::ProgressDone,
                Expr::value(i64::try_from(self.done).unwrap_or(i64::MAX)),
            )
            .filter(data_export::Column::Id.eq(self.id))
            .filter(data_export::Column::State.eq(ExportState::Building))
            .exec(db)
            .await?;
        self.saved_at = Instant::now();
        if let Some(job) = self.job
            && self.leased_at.elapsed() >= LEASE_EVERY
        {
            job::Entity::update_many()
                .col_expr(
                    job::Column::LockedUntil,
                    Expr::value(Some(crate::now() + LEASE)),
                )
                .filter(job::Column::Id.eq(job.id))
                .filter(job::Column::LockedBy.eq(job.locked_by.clone()))
                .filter(job::Column::State.eq(queue::JobState::Running))
                .exec(db)
                .await?;
            self.leased_at = Instant::now();
        }
        Ok(())
    }
}

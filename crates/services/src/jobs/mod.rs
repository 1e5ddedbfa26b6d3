//! Background work: what a job is, how it ends, and the registry the worker runs them from.
//!
//! A kind of job is one type implementing [`Job`]: its payload type (which names the kind, see
//! [`crate::queue::Payload`]) and `run`. The area that needs the work enqueues the payload in
//! the same transaction as its change; the worker claims the row, finds the kind in
//! [`registry`], decodes the payload once and calls `run`. Adding a kind is one file with its
//! `Job` implementation and one line in [`registry::KINDS`].
//!
//! This module and [`crate::queue`] import no area, so an area's job file may import both
//! without a loop: areas → `jobs`/`queue`, `registry` → the areas' job files, `worker` →
//! `registry`.

pub mod daily;
pub mod identity;
pub mod registry;
pub mod stages;
pub mod worker;

use crate::Services;
use std::future::Future;
use std::time::Duration;
use store::entities::job;

/// One kind of background work.
pub trait Job: Send + Sync + 'static {
    /// What the job's row carries; its type names the kind (`Payload::KIND`).
    type Payload: crate::queue::Payload;

    /// Does the work of one claimed job, its payload already decoded.
    fn run(
        services: &Services,
        job: &job::Model,
        payload: Self::Payload,
    ) -> impl Future<Output = Result<(), JobError>> + Send;
}

/// How a job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// Will run again later.
    Retry(String),
    /// Gave up; the reason is kept on the job.
    Dead(String),
    /// Not finished: will look again later (see [`JobError::Later`]).
    Later,
}

/// Why a job did not finish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobError {
    /// Run again after the usual backoff.
    Retry(String),
    /// Run again after this wait.
    RetryAfter(String, Duration),
    /// Do not run again.
    Permanent(String),
    /// Not finished and not failed: run again after this wait (a task followed at a provider,
    /// looked at once per run so that the worker's slots are free between looks). The run
    /// does not count as an attempt.
    Later(Duration),
}

impl JobError {
    /// A service failure that may pass: run again after the backoff, with its reason.
    pub fn retry(err: impl Into<crate::ServiceError>) -> Self {
        Self::Retry(format!("{:#}", err.into()))
    }
}

//! The worker: claims due jobs and runs them, several at once, outside any transaction.
//!
//! An idle worker sleeps until the next job is due (or it is woken because one was added in
//! this process, or `poll` passes, for jobs added by other processes). On shutdown it stops
//! claiming, lets the jobs in flight finish for up to `grace`, then gives back the rest.
//!
//! While it runs, a heartbeat renews the leases of its jobs and their slots every
//! [`heartbeat_interval`], so a lease can be short: a worker that dies (`kill -9`, a lost
//! machine) holds nothing for longer than one lease. A worker that cannot renew them (the
//! database is out of its reach) stops its jobs in flight after half a lease ([`fence_after`]),
//! before any other worker may take them. A worker that starts hands back at once what an
//! earlier run on the same machine left (see [`super::identity`]).
//!
//! Each job runs in a `job` span with its id, kind, attempt and the id of the request that
//! enqueued it, so its log lines follow the request's.

use super::stages::{self, Stage};
use super::{JobError, Outcome, identity, registry};
use crate::{Result, Services, queue};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use store::entities::job;
use tokio::sync::{OnceCell, watch};
use tokio::task::JoinSet;

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// The longest an idle worker waits before looking for jobs other processes added.
    pub poll: Duration,
    /// How long a claimed job stays with this worker before another may take it.
    pub lease: Duration,
    /// Jobs run at the same time in this process.
    pub concurrency: usize,
    /// Limits that hold across all worker processes.
    pub limits: queue::Limits,
    /// How long a shutdown waits for jobs in flight.
    pub grace: Duration,
}

/// The lease a claimed job starts with, renewed by the heartbeat while the worker lives.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(15);

/// How often a worker deletes the rows of jobs past their retention.
const PURGE_EVERY: Duration = Duration::from_secs(600);

/// How often a worker renews its leases: five times per lease, so that renewals delayed by a
/// busy database for most of a lease still arrive in time.
pub fn heartbeat_interval(lease: Duration) -> Duration {
    (lease / 5).max(Duration::from_millis(100))
}

/// How long a worker goes on without renewing its leases before it stops the jobs it runs:
/// half a lease. Another worker may take a job once its lease has run out by that worker's
/// clock, which may be a third of a lease ahead of this one's (see [`judge_clock`]); stopped
/// before then, a job is never run by two workers at once, even when this worker cannot reach
/// the database (a publish call it stopped is then found by its attempt, as after a crash).
pub fn fence_after(lease: Duration) -> Duration {
    lease / 2
}

/// How often a running worker compares its clock with the database server's.
const CLOCK_CHECK_EVERY: Duration = Duration::from_secs(60);

/// Why a worker will not claim jobs: this machine's clock is too far from the database
/// server's. Leases are written and judged by each worker's own clock, so a worker whose clock
/// runs ahead would take jobs whose leases have not run out (and one behind would keep its own
/// too long). Each worker may be a sixth of a lease off, so that two workers differ by at most
/// a third of one.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "this machine's clock is {off:.1} s {side} the database server's; workers judge each other's \
     {lease}-second leases by their own clocks, so a difference above {tolerated:.1} s could let \
     two workers run the same job. Set the clock (NTP) and start the worker again"
)]
pub struct ClockSkew {
    off: f64,
    side: &'static str,
    lease: u64,
    tolerated: f64,
}

/// Judges the difference `server − local` between the database server's clock and this
/// machine's, known to within `uncertainty` (half the round trip of the question).
pub fn judge_clock(
    server_minus_local: chrono::Duration,
    uncertainty: chrono::Duration,
    lease: Duration,
) -> std::result::Result<(), ClockSkew> {
    let tolerated = lease.as_secs_f64() / 6.0;
    let off_ms = server_minus_local.num_milliseconds();
    let off = (off_ms.abs() - uncertainty.num_milliseconds().abs()).max(0) as f64 / 1000.0;
    if off <= tolerated {
        return Ok(());
    }
    Err(ClockSkew {
        off,
        side: if off_ms < 0 { "ahead of" } else { "behind" },
        lease: lease.as_secs(),
        tolerated,
    })
}

/// Compares this machine's clock with the database server's (PostgreSQL; SQLite shares this
/// machine's clock) and refuses when they differ by more than a sixth of `lease`.
pub async fn check_clock(
    db: &store::Db,
    lease: Duration,
) -> Result<std::result::Result<(), ClockSkew>> {
    let before = crate::now();
    let Some(server) = store::server_clock(db).await? else {
        return Ok(Ok(()));
    };
    let after = crate::now();
    let half_trip = (after - before) / 2;
    let local = before + half_trip;
    Ok(judge_clock(server - local, half_trip, lease))
}

impl WorkerOptions {
    pub fn new(poll: Duration) -> Self {
        Self {
            poll,
            lease: DEFAULT_LEASE,
            concurrency: 32,
            limits: queue::Limits::default(),
            grace: Duration::from_secs(20),
        }
    }
}

pub struct Worker {
    services: Services,
    id: String,
    options: WorkerOptions,
    limits_set: OnceCell<()>,
    /// The jobs this worker runs now, those whose leases the heartbeat renews, with the
    /// handle that stops each (when it runs as a task).
    held: Arc<std::sync::Mutex<Held>>,
    /// When the last renewal that succeeded began (or, holding nothing, when it last held
    /// nothing): the leases last at least a lease from then.
    renewed_at: std::sync::Mutex<std::time::Instant>,
}

type Held = HashMap<i64, Option<tokio::task::AbortHandle>>;

/// A job the worker runs: its lease is renewed until this is dropped (the job finished, its
/// outcome could not be written, it panicked, or it was stopped).
struct Holding {
    held: Arc<std::sync::Mutex<Held>>,
    job: i64,
}

impl Drop for Holding {
    fn drop(&mut self) {
        self.held
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.job);
    }
}

impl Worker {
    pub fn new(services: Services, options: WorkerOptions) -> Self {
        let id = identity::name(&crate::tokens::random_token()[..8]);
        Self {
            services,
            id,
            options,
            limits_set: OnceCell::new(),
            held: Arc::default(),
            renewed_at: std::sync::Mutex::new(std::time::Instant::now()),
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    fn held_ids(&self) -> std::sync::MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Marks `job` as run by this worker until the answer is dropped.
    fn hold(&self, job: i64) -> Holding {
        self.held_ids().insert(job, None);
        Holding {
            held: Arc::clone(&self.held),
            job,
        }
    }

    /// Claims up to `max` due jobs.
    async fn claim(&self, max: usize) -> Result<Vec<job::Model>> {
        self.limits_set
            .get_or_try_init(|| queue::configure_limits(&self.services.db, &self.options.limits))
            .await?;
        let claimed = stages::timed(
            Stage::Claim,
            queue::claim_many(
                &self.services.db,
                &self.id,
                self.options.lease,
                &self.options.limits,
                max,
            ),
        )
        .await?;
        let now = crate::now();
        for job in &claimed {
            stages::record(
                Stage::Queued,
                (now - job.run_at).to_std().unwrap_or_default(),
            );
        }
        Ok(claimed)
    }

    /// Claims and runs one job, renewing its lease while it runs. `None` when nothing is due.
    pub async fn run_once(&self) -> Result<Option<(String, Outcome)>> {
        let Some(job) = self.claim(1).await?.into_iter().next() else {
            return Ok(None);
        };
        let _holding = self.hold(job.id);
        let outcome = tokio::select! {
            outcome = self.run_job(&job) => outcome?,
            never = self.heartbeat() => match never {},
        };
        Ok(Some((job.kind, outcome)))
    }

    /// Renews the leases of this worker's jobs every [`heartbeat_interval`], for ever. A
    /// renewal that fails is logged and tried again at the next beat; once none has succeeded
    /// for [`fence_after`] (a renewal still waiting, or failing), the jobs in flight are stopped.
    async fn heartbeat(&self) -> std::convert::Infallible {
        let every = heartbeat_interval(self.options.lease);
        loop {
            tokio::time::sleep(every).await;
            let began = std::time::Instant::now();
            let ids: Vec<i64> = self.held_ids().keys().copied().collect();
            let renewal = queue::renew(&self.services.db, &self.id, &ids, self.options.lease);
            tokio::pin!(renewal);
            let fence =
                tokio::time::Instant::from_std(self.renewed_at() + fence_after(self.options.lease));
            let renewed = tokio::select! {
                renewed = &mut renewal => renewed,
                () = tokio::time::sleep_until(fence) => {
                    self.stop_held();
                    // Nothing more to stop until the renewal answers.
                    renewal.await
                }
            };
            match renewed {
                Ok(_) => *self.renewed_at.lock().unwrap_or_else(|e| e.into_inner()) = began,
                Err(err) => {
                    tracing::warn!(worker = %self.id, error = ?err, "could not renew the worker's leases");
                }
            }
            if self.renewed_at().elapsed() >= fence_after(self.options.lease) {
                self.stop_held();
            }
        }
    }

    /// When the last renewal that succeeded began.
    fn renewed_at(&self) -> std::time::Instant {
        *self.renewed_at.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stops the jobs in flight: their leases were not renewed for [`fence_after`], and other
    /// workers may soon take them.
    fn stop_held(&self) {
        let stops: Vec<tokio::task::AbortHandle> =
            self.held_ids().values().flatten().cloned().collect();
        if !stops.is_empty() {
            tracing::error!(
                worker = %self.id,
                seconds = self.renewed_at().elapsed().as_secs(),
                jobs = stops.len(),
                "the worker's leases were not renewed: stopping its jobs in flight, which other workers may take"
            );
        }
        for stop in stops {
            stop.abort();
        }
    }

    /// Every [`PURGE_EVERY`], deletes finished jobs past their retention, for ever.
    async fn purge_finished_jobs(&self) -> std::convert::Infallible {
        loop {
            match self.services.purge_finished_jobs(crate::now()).await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(purged = n, "finished jobs purged"),
                Err(err) => tracing::warn!(error = ?err, "could not purge finished jobs"),
            }
            tokio::time::sleep(PURGE_EVERY).await;
        }
    }

    /// Hands back the jobs that earlier runs of a worker on this machine left when they
    /// stopped (a crash, `kill -9`), so they need not wait for their leases to run out.
    async fn release_stopped_runs(&self) {
        let Some(prefix) = identity::local_prefix() else {
            return;
        };
        match queue::release_stopped(&self.services.db, &prefix, identity::has_stopped).await {
            Ok(gone) if gone.is_empty() => {}
            Ok(gone) => {
                tracing::warn!(workers = ?gone, "handed back the jobs of stopped workers on this machine")
            }
            Err(err) => {
                tracing::error!(error = ?err, "could not hand back the jobs of stopped workers")
            }
        }
    }

    /// Runs jobs one after another until none is due; returns how many ran. Tests use this to
    /// drive the queue deterministically.
    pub async fn run_until_empty(&self) -> Result<usize> {
        let mut ran = 0;
        while self.run_once().await?.is_some() {
            ran += 1;
        }
        Ok(ran)
    }

    /// Runs a job and records its outcome, in a `job` span that carries the id of the request
    /// that enqueued it.
    async fn run_job(&self, job: &job::Model) -> Result<Outcome> {
        use tracing::Instrument;
        let span = tracing::info_span!(
            "job",
            job = job.id,
            kind = %job.kind,
            attempt = job.attempts,
            request_id = job.request_id.as_deref().unwrap_or("-"),
        );
        let work = self.run_and_record(job).instrument(span);
        match job.request_id.clone() {
            Some(id) => crate::trace::with_request_id(id, work).await,
            None => work.await,
        }
    }

    async fn run_and_record(&self, job: &job::Model) -> Result<Outcome> {
        let (result, finished_within) =
            queue::finished_within(registry::run(&self.services, job)).await;
        let outcome = if result.is_ok() && finished_within {
            // The job marked its row done in its own last transaction.
            Outcome::Done
        } else {
            let started = std::time::Instant::now();
            let outcome = self.record(job, result).await?;
            stages::record(Stage::Finish, started.elapsed());
            outcome
        };
        match &outcome {
            Outcome::Done => tracing::debug!("job done"),
            Outcome::Later => tracing::debug!("job will look again later"),
            Outcome::Retry(reason) => {
                tracing::warn!(%reason, "job will be retried")
            }
            Outcome::Dead(reason) => {
                tracing::error!(%reason, "job failed for good")
            }
        }
        Ok(outcome)
    }

    /// Writes how a job ended: done, to be retried, dead, or to look again later.
    async fn record(
        &self,
        job: &job::Model,
        result: std::result::Result<(), JobError>,
    ) -> Result<Outcome> {
        let db = &self.services.db;
        Ok(match result {
            Ok(()) => {
                queue::complete(db, job, &self.id).await?;
                Outcome::Done
            }
            Err(JobError::Retry(reason)) => {
                queue::fail(db, job, &self.id, &reason, queue::Retry::Backoff).await?;
                retried(job, reason)
            }
            Err(JobError::RetryAfter(reason, wait)) => {
                queue::fail(db, job, &self.id, &reason, queue::Retry::After(wait)).await?;
                retried(job, reason)
            }
            Err(JobError::Permanent(reason)) => {
                queue::fail(db, job, &self.id, &reason, queue::Retry::Never).await?;
                Outcome::Dead(reason)
            }
            Err(JobError::Later(wait)) => {
                queue::later(db, job, &self.id, wait).await?;
                Outcome::Later
            }
        })
    }

    /// Runs until `shutdown` turns true, up to `concurrency` jobs at once.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let this = Arc::new(self);
        tracing::info!(worker = %this.id, concurrency = this.options.concurrency, "worker started");
        this.release_stopped_runs().await;
        let heartbeat = {
            let this = Arc::clone(&this);
            tokio::spawn(async move { this.heartbeat().await })
        };
        let purge = {
            let this = Arc::clone(&this);
            tokio::spawn(async move { this.purge_finished_jobs().await })
        };
        // The daily retention and usage jobs, once per cluster.
        if let Err(err) = super::daily::plan_daily_jobs(&this.services.db).await {
            tracing::error!(error = ?err, "could not plan the daily retention jobs");
        }
        let mut tasks = JoinSet::new();
        let mut running: HashMap<tokio::task::Id, job::Model> = HashMap::new();
        let mut clock_checked: Option<std::time::Instant> = None;
        let mut clock_ok = false;
        while !*shutdown.borrow() {
            if clock_checked.is_none_or(|at| at.elapsed() >= CLOCK_CHECK_EVERY) {
                match check_clock(&this.services.db, this.options.lease).await {
                    Ok(judged) => {
                        clock_checked = Some(std::time::Instant::now());
                        if let Err(skew) = &judged {
                            tracing::error!(worker = %this.id, "not claiming jobs: {skew}");
                        }
                        clock_ok = judged.is_ok();
                    }
                    // The database is unreachable: asked again at the next turn; until a
                    // first answer, nothing is claimed.
                    Err(err) => {
                        tracing::warn!(worker = %this.id, error = ?err, "could not read the database server's clock");
                    }
                }
            }
            // Every job that has finished frees its place now, so that one claim fills them all
            // (one claim per finished job would cost a transaction each).
            while let Some(done) = tasks.try_join_next_with_id() {
                forget(&mut running, done);
            }
            let room = if clock_ok {
                this.options.concurrency.max(1).saturating_sub(tasks.len())
            } else {
                0
            };
            match this.claim(room).await {
                Ok(jobs) => {
                    for job in jobs {
                        let worker = Arc::clone(&this);
                        let claimed = job.clone();
                        // Dropped with the task, however it ends (even stopped before it ran).
                        let holding = this.hold(job.id);
                        let handle = tasks.spawn(async move {
                            let _holding = holding;
                            if let Err(err) = worker.run_job(&claimed).await {
                                tracing::error!(job = claimed.id, error = ?err, "the worker could not record a job's outcome");
                            }
                        });
                        if let Some(held) = this.held_ids().get_mut(&job.id) {
                            *held = Some(handle.clone());
                        }
                        running.insert(handle.id(), job);
                    }
                }
                Err(err) => tracing::error!(error = ?err, "the worker could not claim jobs"),
            }
            let wait = if !clock_ok || tasks.len() >= this.options.concurrency.max(1) {
                this.options.poll
            } else {
                match this.until_next_due().await {
                    // Due jobs that could not be claimed wait for a slot (a limit is full) or
                    // are being claimed by another worker: look again shortly (a read, no
                    // lock), not in a tight loop.
                    Duration::ZERO => this.options.poll.min(Duration::from_millis(20)),
                    wait => wait,
                }
            };
            tokio::select! {
                Some(done) = tasks.join_next_with_id(), if !tasks.is_empty() => {
                    forget(&mut running, done);
                }
                _ = tokio::time::sleep(wait) => {}
                _ = this.services.wake.notified() => {}
                _ = shutdown.changed() => {}
            }
        }
        this.drain(tasks, running).await;
        heartbeat.abort();
        purge.abort();
        tracing::info!(worker = %this.id, "worker stopped");
    }

    /// How long to sleep: until the next queued job is due, at most `poll`.
    async fn until_next_due(&self) -> Duration {
        match queue::next_due(&self.services.db).await {
            Ok(Some(at)) => (at - crate::now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                .min(self.options.poll),
            Ok(None) => self.options.poll,
            Err(err) => {
                tracing::error!(error = ?err, "the worker could not read the queue");
                self.options.poll
            }
        }
    }

    /// Waits up to the grace period for jobs in flight, then stops the rest and gives their
    /// jobs back to the queue (a publish job given back mid-call is reconciled, not repeated).
    async fn drain(
        &self,
        mut tasks: JoinSet<()>,
        mut running: HashMap<tokio::task::Id, job::Model>,
    ) {
        let deadline = tokio::time::sleep(self.options.grace);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                next = tasks.join_next_with_id() => match next {
                    Some(done) => forget(&mut running, done),
                    None => break,
                },
                _ = &mut deadline => {
                    tasks.abort_all();
                    while let Some(done) = tasks.join_next_with_id().await {
                        forget(&mut running, done);
                    }
                    break;
                }
            }
        }
        for job in running.values() {
            tracing::warn!(job = job.id, kind = %job.kind, "giving an unfinished job back to the queue");
            if let Err(err) = queue::release(&self.services.db, job, &self.id).await {
                tracing::error!(job = job.id, error = ?err, "could not give the job back; its lease will run out");
            }
        }
    }
}

fn retried(job: &job::Model, reason: String) -> Outcome {
    if job.attempts >= job.max_attempts {
        Outcome::Dead(reason)
    } else {
        Outcome::Retry(reason)
    }
}

/// Drops a finished task's job from the running set; a cancelled task's job stays, to be given
/// back.
fn forget(
    running: &mut HashMap<tokio::task::Id, job::Model>,
    done: Result<(tokio::task::Id, ()), tokio::task::JoinError>,
) {
    match done {
        Ok((id, ())) => {
            running.remove(&id);
        }
        Err(err) if err.is_panic() => {
            running.remove(&err.id());
            tracing::error!(error = ?err, "a job panicked; its lease will run out");
        }
        Err(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEASE: Duration = Duration::from_secs(15);

    fn ms(n: i64) -> chrono::Duration {
        chrono::Duration::milliseconds(n)
    }

    #[test]
    fn clocks_within_a_sixth_of_a_lease_are_tolerated() {
        assert_eq!(judge_clock(ms(0), ms(1), LEASE), Ok(()));
        assert_eq!(judge_clock(ms(2_400), ms(1), LEASE), Ok(()));
        assert_eq!(judge_clock(ms(-2_400), ms(1), LEASE), Ok(()));
        // The question's own round trip is not held against the machine.
        assert_eq!(judge_clock(ms(2_900), ms(500), LEASE), Ok(()));
        assert!(judge_clock(ms(2_600), ms(1), LEASE).is_err());
    }

    #[test]
    fn a_clock_further_off_is_refused_saying_which_way_and_what_to_do() {
        let ahead = judge_clock(ms(-12_000), ms(2), LEASE).expect_err("12 s ahead");
        let said = ahead.to_string();
        assert!(
            said.contains("12.0 s ahead of the database server's"),
            "{said}"
        );
        assert!(said.contains("15-second leases"), "{said}");
        assert!(said.contains("above 2.5 s"), "{said}");
        assert!(said.contains("NTP"), "{said}");
        let behind = judge_clock(ms(3_000), ms(0), LEASE).expect_err("3 s behind");
        assert!(behind.to_string().contains("3.0 s behind"), "{behind}");
    }
}

//! The daily check of the open deletion requests: reminders before the 30-day deadline, overdue
//! requests reported, and its own next run planned while any request is under way.

use super::State;
use crate::deletion::receipt::Via;
use crate::jobs::{Job, JobError};
use crate::queue::{self, NewJob};
use crate::{Result, Services};
use chrono::{DateTime, Duration, Utc};
use domain::UserId;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use store::entities::{account_deletion, deletion_request, job};

/// The planned daily check.
/// The payload of the check of open requests (it carries nothing).
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct RequestsCheck {}

impl queue::Payload for RequestsCheck {
    const KIND: &'static str = "deletion_requests_check";
}

/// How often the check runs.
const CHECK_EVERY: Duration = Duration::hours(24);

const JOB_SUBJECT: &str = "deletion-requests";

/// What one run of the daily check did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// (request id, reminder in days before the deadline) for each reminder sent.
    pub reminded: Vec<(i64, i64)>,
    /// Requests found past their deadline for the first time.
    pub overdue: Vec<i64>,
    /// Confirmed requests whose deletion had ended since.
    pub finished: usize,
    /// Confirmations whose deletion had not started, started again.
    pub resumed: usize,
}

/// Plans the next check at `at`, replacing any planned one.
async fn plan_check<C: ConnectionTrait>(conn: &C, at: DateTime<Utc>) -> Result<()> {
    job::Entity::delete_many()
        .filter(job::Column::Kind.eq(<RequestsCheck as queue::Payload>::KIND))
        .filter(job::Column::Subject.eq(JOB_SUBJECT))
        .filter(job::Column::State.eq(queue::JobState::Queued))
        .exec(conn)
        .await?;
    let mut next = NewJob::of(&RequestsCheck {})?;
    next.run_at = at;
    next.subject = Some(JOB_SUBJECT.to_owned());
    next.request_id = None;
    next.max_attempts = 5;
    queue::enqueue(conn, next).await?;
    Ok(())
}

/// Makes sure a check is planned (queued or running); plans one at `at` otherwise.
pub(crate) async fn ensure_check<C: ConnectionTrait>(conn: &C, at: DateTime<Utc>) -> Result<()> {
    let planned = job::Entity::find()
        .filter(job::Column::Kind.eq(<RequestsCheck as queue::Payload>::KIND))
        .filter(job::Column::State.is_in([queue::JobState::Queued, queue::JobState::Running]))
        .count(conn)
        .await?;
    if planned == 0 {
        plan_check(conn, at).await?;
    }
    Ok(())
}

/// Makes sure the check is planned while a request has not ended (open, or confirmed with its
/// deletion unfinished). Every worker calls this when it starts: the check plans itself after
/// each run, so this matters only when its job was lost (a database restored from before it
/// was planned, a job removed by hand), which would otherwise end the reminders silently.
pub(crate) async fn ensure_planned(db: &store::Db) -> Result<()> {
    let unended = deletion_request::Entity::find()
        .filter(deletion_request::Column::ClosedAt.is_null())
        .count(db)
        .await?;
    if unended > 0 {
        ensure_check(db, crate::now()).await?;
    }
    Ok(())
}

/// The daily check, which plans the next one (also after its last failed attempt, so that one
/// bad day does not end the reminders).
pub struct CheckRequests;

impl Job for CheckRequests {
    type Payload = RequestsCheck;

    async fn run(services: &Services, job: &job::Model, _: RequestsCheck) -> Result<(), JobError> {
        run(services, job).await
    }
}

async fn run(services: &Services, job: &job::Model) -> Result<(), JobError> {
    let now = crate::now();
    match services.check_deletion_requests(now).await {
        Ok(report) => {
            if !report.reminded.is_empty() || !report.overdue.is_empty() {
                tracing::info!(
                    reminders = report.reminded.len(),
                    overdue = report.overdue.len(),
                    "deletion requests checked"
                );
            }
            plan_check(&services.db, now + CHECK_EVERY)
                .await
                .map_err(|e| JobError::Retry(format!("{e:#}")))
        }
        Err(err) => {
            if job.attempts >= job.max_attempts {
                plan_check(&services.db, now + CHECK_EVERY)
                    .await
                    .map_err(|e| JobError::Retry(format!("{e:#}")))?;
            }
            Err(JobError::Retry(format!("{err:#}")))
        }
    }
}

impl Services {
    /// The daily check, as of `now`: reminders to the administrators 7 and 2 days before each
    /// open request's deadline (each sent once, even when two checks run at the same time),
    /// the first day past the deadline noted, and confirmed requests brought to their end.
    pub async fn check_deletion_requests(&self, now: DateTime<Utc>) -> Result<CheckReport> {
        let today = now.date_naive();
        let mut report = CheckReport::default();
        let open = deletion_request::Entity::find()
            .filter(deletion_request::Column::State.eq(State::Open))
            .order_by_asc(deletion_request::Column::Id)
            .all(&self.db)
            .await?;
        for row in &open {
            let days_left = (row.deadline_on - today).num_days();
            let [week, last] = REMINDER_DAYS;
            let due = if days_left <= last && row.two_day_reminder_at.is_none() {
                Some((last, deletion_request::Column::TwoDayReminderAt))
            } else if days_left <= week && days_left > last && row.seven_day_reminder_at.is_none() {
                Some((week, deletion_request::Column::SevenDayReminderAt))
            } else {
                None
            };
            if let Some((days, column)) = due {
                if self.admins.is_empty() {
                    tracing::warn!(
                        request = row.id,
                        days_left,
                        "a deletion request is near its deadline and no administrator is \
                         configured to remind: set [admin] emails"
                    );
                } else if self.remind(row, column, days_left, now).await? {
                    report.reminded.push((row.id, days));
                }
            }
            if days_left < 0 && row.overdue_at.is_none() {
                let marked = deletion_request::Entity::update_many()
                    .col_expr(deletion_request::Column::OverdueAt, Expr::value(now))
                    .filter(deletion_request::Column::Id.eq(row.id))
                    .filter(deletion_request::Column::OverdueAt.is_null())
                    .exec(&self.db)
                    .await?;
                if marked.rows_affected == 1 {
                    tracing::warn!(request = row.id, "a deletion request is past its deadline");
                    report.overdue.push(row.id);
                }
            }
        }
        let confirmed = deletion_request::Entity::find()
            .filter(deletion_request::Column::State.eq(State::Confirmed))
            .filter(deletion_request::Column::ClosedAt.is_null())
            .all(&self.db)
            .await?;
        for row in confirmed {
            match row.deletion_id {
                Some(deletion) => {
                    let finished = account_deletion::Entity::find_by_id(deletion)
                        .one(&self.db)
                        .await?
                        .and_then(|d| d.finished_at);
                    if let Some(at) = finished {
                        self.finish_deletion_request(row.id, at).await?;
                        report.finished += 1;
                    }
                }
                None if row.confirmed_at.is_some_and(|at| now - at > RESUME_AFTER) => {
                    // Confirmed, and the process stopped before the deletion started.
                    let Some(user_id) = row.user_id else {
                        self.finish_deletion_request(row.id, now).await?;
                        report.finished += 1;
                        continue;
                    };
                    let deletion = self
                        .begin_account_deletion(UserId(user_id), Via::Email)
                        .await?;
                    deletion_request::Entity::update_many()
                        .col_expr(
                            deletion_request::Column::DeletionId,
                            Expr::value(deletion.0),
                        )
                        .col_expr(deletion_request::Column::UpdatedAt, Expr::value(now))
                        .filter(deletion_request::Column::Id.eq(row.id))
                        .exec(&self.db)
                        .await?;
                    report.resumed += 1;
                    if self.run_account_deletion(deletion).await.is_ok() {
                        self.finish_deletion_request(row.id, crate::now()).await?;
                    }
                }
                None => {}
            }
        }
        Ok(report)
    }
}

/// Reminders to the administrators, in days before the deadline.
pub const REMINDER_DAYS: [i64; 2] = [7, 2];

/// A confirmation whose deletion did not start (a crash in between) is started again by the
/// check after this long.
const RESUME_AFTER: Duration = Duration::hours(1);

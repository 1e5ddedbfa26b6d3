//! Paid plans through PayPal Subscriptions: the catalogue at PayPal (`sync`), the checkout and
//! the owner's changes (`checkout`), PayPal's webhooks (`webhooks`), and here the one rule that
//! turns a workspace's subscriptions into its plan ([`settle`]).
//!
//! The plan changes only on PayPal's word: a subscription PayPal reports active gives its plan;
//! a failed payment starts a grace period (`grace_days`) after which the workspace falls back to
//! Free unless a payment came in; a cancellation keeps the plan to the end of the period paid
//! for; an approved downgrade waits for that end too, while an upgrade applies at once. Every
//! future instant at which the answer changes is a `billing_deadline` job, so the fall-back
//! happens on time whether or not PayPal says anything more. A workspace that never had a
//! subscription keeps whatever plan the operator gave it.

mod checkout;
mod invoices;
pub mod setup;
mod sync;
mod webhooks;

pub use checkout::{Change, Checkout, Current};
pub use invoices::{Details, Payment, split_gross};
pub use providers::billing::{Interval, Money};
pub use setup::{PayPalBilling, Seller};
pub use sync::SyncReport;
pub use webhooks::{Handled, WebhookFailure};

use crate::jobs::{Job, JobError};
use crate::queue::{self, NewJob};
use crate::{Result, ServiceError, Services};
use chrono::{DateTime, Utc};
use domain::WorkspaceId;
use domain::plans::PlanId;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use store::entities::states::SubscriptionStatus as Status;
use store::entities::{job, subscription, workspace};

impl Services {
    /// PayPal, when plans are sold through it.
    pub(crate) fn paypal(&self) -> Result<&PayPalBilling> {
        self.billing.paypal.as_deref().ok_or(ServiceError::NotFound)
    }
}

/// Whether a subscription still gives its plan at `now`.
fn live(sub: &subscription::Model, now: DateTime<Utc>, grace: chrono::Duration) -> bool {
    let grace_over = sub.payment_failed_at.is_some_and(|f| f + grace <= now);
    match sub.status {
        Status::Active | Status::Suspended => !grace_over,
        Status::Cancelled => !grace_over && sub.ends_at.is_some_and(|end| end > now),
        _ => false,
    }
}

/// Whether PayPal has had its say on a subscription (its checkout is over).
fn decisive(status: Status) -> bool {
    matches!(
        status,
        Status::Active | Status::Suspended | Status::Cancelled | Status::Expired
    )
}

/// The plan a subscription gives while it is live, with an approved downgrade applied once its
/// day has come.
fn plan_given(sub: &subscription::Model, now: DateTime<Utc>) -> PlanId {
    let stored = |slug: &str| PlanId::parse(slug).unwrap_or(PlanId::Free);
    match (&sub.change_to, sub.change_from) {
        (Some(to), Some(from)) if sub.change_approved && from <= now => stored(to),
        _ => stored(&sub.plan),
    }
}

/// The next instant at which [`live`] or [`plan_given`] changes its answer for `sub`.
fn next_deadline(
    sub: &subscription::Model,
    now: DateTime<Utc>,
    grace: chrono::Duration,
) -> Option<DateTime<Utc>> {
    let change = sub.change_from.filter(|_| sub.change_approved);
    [
        sub.payment_failed_at.map(|f| f + grace),
        sub.ends_at.filter(|_| sub.status == Status::Cancelled),
        change,
    ]
    .into_iter()
    .flatten()
    .filter(|t| *t > now)
    .min()
}

/// Sets the workspace's plan from its subscriptions: the newest live one gives its plan; when
/// none is live but PayPal has decided on one, the workspace is on Free; a workspace whose
/// checkouts never finished keeps its plan. Plans a deadline job for the next change.
pub(crate) async fn settle<C: ConnectionTrait>(
    conn: &C,
    grace: chrono::Duration,
    ws: WorkspaceId,
    now: DateTime<Utc>,
) -> Result<PlanId> {
    let subs = subscription::Entity::find()
        .filter(subscription::Column::WorkspaceId.eq(ws.0))
        .order_by_desc(subscription::Column::Id)
        .all(conn)
        .await?;
    let before = crate::plans::plan_of(conn, ws).await?;
    let decided: Vec<_> = subs.iter().filter(|s| decisive(s.status)).collect();
    if decided.is_empty() {
        return Ok(before);
    }
    for sub in &decided {
        if let Some(at) = next_deadline(sub, now, grace) {
            plan_deadline(conn, sub.id, at).await?;
        }
    }
    let paying = decided.iter().find(|s| live(s, now, grace));
    let source: Option<String> = workspace::Entity::find_by_id(ws.0)
        .select_only()
        .column(workspace::Column::PlanSource)
        .into_tuple()
        .one(conn)
        .await?;
    let set_by_billing = source.as_deref() == Some(crate::plans::SET_BY_BILLING);
    if paying.is_none() && !set_by_billing {
        // The operator's plan stands until a subscription pays for another.
        return Ok(before);
    }
    let plan = paying.map_or(PlanId::Free, |s| plan_given(s, now));
    if plan != before || !set_by_billing {
        crate::plans::store_plan(
            conn,
            ws,
            (before, plan),
            crate::plans::SET_BY_BILLING,
            "PayPal billing changed the plan",
        )
        .await?;
        tracing::info!(
            workspace = ws.0,
            from = before.slug(),
            to = plan.slug(),
            "plan changed by billing"
        );
    }
    Ok(plan)
}

/// The payload of a `billing_deadline` job: settle the subscription's workspace again.
#[derive(Debug, Serialize, Deserialize)]
pub struct Deadline {
    pub subscription: i64,
}

impl queue::Payload for Deadline {
    const KIND: &'static str = "billing_deadline";
}

/// Plans one deadline job per subscription and instant (however often it is asked).
async fn plan_deadline<C: ConnectionTrait>(conn: &C, sub: i64, at: DateTime<Utc>) -> Result<()> {
    let mut next = NewJob::of(&Deadline { subscription: sub })?;
    next.run_at = at;
    next.idempotency_key = Some(format!("billing_deadline:{sub}:{}", at.timestamp()));
    next.request_id = None;
    queue::enqueue_once(conn, next).await.map(drop)
}

/// Runs a deadline: the workspace's plan is settled at the time the job runs.
pub struct RunDeadline;

impl Job for RunDeadline {
    type Payload = Deadline;

    async fn run(services: &Services, _: &job::Model, d: Deadline) -> Result<(), JobError> {
        let Some(paypal) = services.billing.paypal.as_deref() else {
            return Ok(());
        };
        services
            .settle_deadline(paypal.grace, d.subscription)
            .await
            .map_err(JobError::retry)
    }
}

impl Services {
    async fn settle_deadline(&self, grace: chrono::Duration, sub: i64) -> Result<()> {
        let txn = store::begin_write(&self.db).await?;
        let Some(sub) = subscription::Entity::find_by_id(sub).one(&txn).await? else {
            // The workspace was deleted since.
            return Ok(());
        };
        settle(&txn, grace, WorkspaceId(sub.workspace_id), crate::now()).await?;
        txn.commit().await?;
        Ok(())
    }
}

/// How long a handled webhook event's id is kept: PayPal gives up redelivering after three
/// days, so a month more than covers a repeat.
pub const EVENTS_KEPT_DAYS: i64 = 90;

/// Deletes the handled events' records older than [`EVENTS_KEPT_DAYS`] (the daily retention
/// run).
pub(crate) async fn purge_events<C: ConnectionTrait>(conn: &C, now: DateTime<Utc>) -> Result<u64> {
    let res = store::entities::billing_event::Entity::delete_many()
        .filter(
            store::entities::billing_event::Column::ReceivedAt
                .lt(now - chrono::Duration::days(EVENTS_KEPT_DAYS)),
        )
        .exec(conn)
        .await?;
    Ok(res.rows_affected)
}

/// The payload of a `paypal_cancel` job: cancel a subscription at PayPal whose workspace was
/// deleted (it carries PayPal's id only).
#[derive(Debug, Serialize, Deserialize)]
pub struct CancelAtPayPal {
    pub paypal_id: String,
}

impl queue::Payload for CancelAtPayPal {
    const KIND: &'static str = "paypal_cancel";
}

/// Queues the cancellation at PayPal of every subscription of `workspaces` that PayPal could
/// still bill, in the transaction that deletes them (their rows go with the workspaces).
pub(crate) async fn cancel_with_workspaces<C: ConnectionTrait>(
    conn: &C,
    workspaces: &[i64],
) -> Result<()> {
    if workspaces.is_empty() {
        return Ok(());
    }
    let billable = subscription::Entity::find()
        .filter(subscription::Column::WorkspaceId.is_in(workspaces.iter().copied()))
        .filter(subscription::Column::Status.is_in([
            Status::ApprovalPending,
            Status::Approved,
            Status::Active,
            Status::Suspended,
        ]))
        .all(conn)
        .await?;
    for sub in billable {
        if let Some(paypal_id) = &sub.paypal_id {
            queue_cancel(conn, paypal_id).await?;
        }
    }
    Ok(())
}

/// Queues the cancellation of `paypal_id` at PayPal (once, however often it is asked).
async fn queue_cancel<C: ConnectionTrait>(conn: &C, paypal_id: &str) -> Result<()> {
    let mut next = NewJob::of(&CancelAtPayPal {
        paypal_id: paypal_id.to_owned(),
    })?;
    next.idempotency_key = Some(format!("paypal_cancel:{paypal_id}"));
    next.request_id = None;
    queue::enqueue_once(conn, next).await.map(drop)
}

/// When `active` has just become active, the workspace's other subscriptions that PayPal could
/// still bill (a second checkout approved in another tab) are cancelled at PayPal and no longer
/// give a plan: a workspace pays for one.
pub(crate) async fn cancel_others<C: ConnectionTrait>(
    conn: &C,
    active: &subscription::Model,
    now: DateTime<Utc>,
) -> Result<()> {
    let others = subscription::Entity::find()
        .filter(subscription::Column::WorkspaceId.eq(active.workspace_id))
        .filter(subscription::Column::Id.ne(active.id))
        .filter(subscription::Column::Status.is_in([
            Status::ApprovalPending,
            Status::Approved,
            Status::Active,
            Status::Suspended,
        ]))
        .all(conn)
        .await?;
    for other in others {
        if let Some(paypal_id) = &other.paypal_id {
            queue_cancel(conn, paypal_id).await?;
        }
        subscription::Entity::update_many()
            .col_expr(
                subscription::Column::Status,
                Expr::value(Status::Cancelled.as_str()),
            )
            .col_expr(subscription::Column::EndsAt, Expr::value(now))
            .col_expr(subscription::Column::PaypalUpdatedAt, Expr::value(now))
            .col_expr(subscription::Column::UpdatedAt, Expr::value(now))
            .filter(subscription::Column::Id.eq(other.id))
            .exec(conn)
            .await?;
        tracing::warn!(
            workspace = active.workspace_id,
            "a second subscription of a workspace became active; the other one is cancelled at PayPal"
        );
    }
    Ok(())
}

/// Cancels at PayPal; one already cancelled, expired or unknown there is done with.
pub struct RunCancel;

impl Job for RunCancel {
    type Payload = CancelAtPayPal;

    async fn run(services: &Services, _: &job::Model, c: CancelAtPayPal) -> Result<(), JobError> {
        let Some(paypal) = services.billing.paypal.as_deref() else {
            return Err(JobError::Permanent(
                "PayPal billing is no longer configured; cancel the subscription in PayPal's \
                 dashboard"
                    .into(),
            ));
        };
        match paypal
            .api
            .cancel(&c.paypal_id, "The workspace was deleted")
            .await
        {
            Ok(()) => Ok(()),
            Err(providers::billing::BillingError::Refused { status, .. })
                if status == 404 || status == 422 =>
            {
                Ok(())
            }
            Err(err) => Err(JobError::Retry(err.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn sub(status: Status) -> subscription::Model {
        let t = Utc
            .with_ymd_and_hms(2026, 12, 1, 0, 0, 0)
            .single()
            .unwrap_or_default();
        subscription::Model {
            id: 1,
            workspace_id: 1,
            started_by: None,
            request_id: "r".into(),
            paypal_id: Some("I-1".into()),
            approve_url: None,
            plan: "professional".into(),
            interval: "month".into(),
            status,
            paid_until: Some(t + chrono::Duration::days(30)),
            payment_failed_at: None,
            ends_at: None,
            change_to: None,
            change_interval: None,
            change_from: None,
            change_approved: false,
            upgraded_at: None,
            paypal_updated_at: None,
            created_at: t,
            updated_at: t,
        }
    }

    #[test]
    fn a_failed_payment_keeps_the_plan_through_the_grace_period_only() {
        let grace = chrono::Duration::days(7);
        let mut s = sub(Status::Active);
        let failed = s.created_at + chrono::Duration::days(30);
        s.payment_failed_at = Some(failed);
        assert!(live(&s, failed + chrono::Duration::days(6), grace));
        assert!(!live(&s, failed + grace, grace));
        assert_eq!(
            next_deadline(&s, failed, grace),
            Some(failed + grace),
            "the fall-back is planned"
        );
    }

    #[test]
    fn a_cancellation_lasts_to_the_end_of_the_paid_period() {
        let grace = chrono::Duration::days(7);
        let mut s = sub(Status::Cancelled);
        let end = s.paid_until.unwrap_or_default();
        s.ends_at = Some(end);
        assert!(live(&s, end - chrono::Duration::seconds(1), grace));
        assert!(!live(&s, end, grace));
        assert!(!decisive(Status::ApprovalPending) && decisive(Status::Expired));
    }

    #[test]
    fn an_approved_downgrade_waits_for_its_day() {
        let mut s = sub(Status::Active);
        let from = s.paid_until.unwrap_or_default();
        s.change_to = Some("starter".into());
        s.change_from = Some(from);
        assert_eq!(
            plan_given(&s, from),
            PlanId::Professional,
            "not approved yet"
        );
        s.change_approved = true;
        assert_eq!(
            plan_given(&s, from - chrono::Duration::seconds(1)),
            PlanId::Professional
        );
        assert_eq!(plan_given(&s, from), PlanId::Starter);
    }
}

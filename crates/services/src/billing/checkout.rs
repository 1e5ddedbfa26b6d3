//! What a workspace owner does with the subscription: start a checkout (the Terms and the Refund
//! Policy accepted, recorded in the consent ledger; the subscription made at PayPal; the owner
//! sent there to approve it), come back (PayPal is asked where it stands), change plan (PayPal's
//! revise, approved there), cancel (at the end of the paid period) and reactivate a suspended
//! one. Nothing here changes the plan by itself: that waits for PayPal's word ([`super::settle`]).

use super::{live, settle};
use crate::policies::Acceptor;
use crate::workspaces::Membership;
use crate::{Result, ServiceError, Services};
use chrono::{DateTime, Utc};
use domain::plans::PlanId;
use domain::{Role, WorkspaceId};
use providers::billing::paypal::{NewSubscription, Subscription};
use providers::billing::{BillingError, Interval};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set,
};
use store::entities::states::SubscriptionStatus as Status;
use store::entities::subscription;

/// A checkout asked for on the billing page.
#[derive(Debug, Clone)]
pub struct Checkout {
    pub plan: PlanId,
    pub interval: Interval,
    /// The form's one-time id: the same form sent twice makes one subscription.
    pub request_id: String,
    pub accepted_terms: bool,
}

/// A change of plan asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    pub plan: PlanId,
    pub interval: Interval,
}

/// The workspace's subscription as the billing page shows it.
#[derive(Debug, Clone)]
pub struct Current {
    pub row: subscription::Model,
    /// Whether it gives its plan now.
    pub live: bool,
    /// When a failed payment's grace period ends.
    pub grace_ends: Option<DateTime<Utc>>,
}

fn owner_only(m: &Membership) -> Result<()> {
    if m.role == Role::Owner {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(
            "Only the workspace's owners can change how it pays.".into(),
        ))
    }
}

fn valid_request_id(raw: &str) -> Result<&str> {
    let raw = raw.trim();
    if raw.len() < 16
        || raw.len() > 64
        || !raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(ServiceError::invalid(
            "plan",
            "This form is out of date. Reload the page and choose again.",
        ));
    }
    Ok(raw)
}

/// What an owner is told when PayPal cannot be reached: nothing happened.
fn unreachable(err: BillingError) -> ServiceError {
    tracing::warn!(error = %err, "PayPal call failed");
    match err {
        BillingError::Refused { .. } | BillingError::Credentials(_) => ServiceError::Unavailable(
            "PayPal refused the request, so nothing was changed or charged. Try again later; if \
             it keeps happening, tell the operator of this instance."
                .into(),
        ),
        _ => ServiceError::Unavailable(
            "PayPal could not be reached, so nothing was changed or charged. Try again in a few \
             minutes."
                .into(),
        ),
    }
}

impl Services {
    /// The workspace's newest subscription that got past the checkout (or the newest checkout
    /// waiting for approval), for the billing page.
    pub async fn current_subscription(&self, ws: WorkspaceId) -> Result<Option<Current>> {
        let Ok(paypal) = self.paypal() else {
            return Ok(None);
        };
        let now = crate::now();
        let subs = subscription::Entity::find()
            .filter(subscription::Column::WorkspaceId.eq(ws.0))
            .filter(subscription::Column::Status.is_not_in([
                Status::Creating,
                Status::Failed,
                Status::Abandoned,
            ]))
            .order_by_desc(subscription::Column::Id)
            .all(&self.db)
            .await?;
        let pick = subs
            .iter()
            .find(|s| live(s, now, paypal.grace))
            .or_else(|| subs.first())
            .cloned();
        Ok(pick.map(|row| Current {
            live: live(&row, now, paypal.grace),
            grace_ends: row.payment_failed_at.map(|f| f + paypal.grace),
            row,
        }))
    }

    /// The workspace's subscription that gives its plan now, if any.
    async fn live_subscription(&self, ws: WorkspaceId) -> Result<Option<subscription::Model>> {
        Ok(self
            .current_subscription(ws)
            .await?
            .filter(|c| c.live)
            .map(|c| c.row))
    }

    /// Starts a checkout and answers the PayPal page where the owner approves it. A second
    /// submission of the same form answers the same page; PayPal unreachable leaves nothing
    /// created and nothing charged.
    pub async fn start_checkout(
        &self,
        m: &Membership,
        who: &Acceptor,
        checkout: &Checkout,
    ) -> Result<String> {
        owner_only(m)?;
        let paypal = self.paypal()?;
        let ws = m.workspace_id();
        let request_id = valid_request_id(&checkout.request_id)?;
        if !checkout.accepted_terms {
            return Err(ServiceError::invalid(
                "accept",
                "To subscribe, accept the Terms of Service and the Refund Policy.",
            ));
        }
        let Some(plan_id) = self
            .paypal_plan_id(checkout.plan, checkout.interval)
            .await?
        else {
            tracing::error!(
                plan = checkout.plan.slug(),
                "a paid plan has no PayPal plan: run `socializioz admin billing sync`"
            );
            return Err(ServiceError::invalid(
                "plan",
                format!(
                    "The {} plan cannot be bought here yet. The operator of this instance has \
                     been told.",
                    checkout.plan.label()
                ),
            ));
        };
        if let Some(live) = self.live_subscription(ws).await?
            && live.status != Status::Cancelled
        {
            return Err(ServiceError::invalid(
                "plan",
                "This workspace already pays for a plan; change that plan instead of buying a \
                 second one.",
            ));
        }
        let now = crate::now();
        // A checkout waiting for approval at PayPal (its link lives about three hours) is
        // continued rather than doubled: two approved checkouts would be billed twice.
        let waiting = subscription::Entity::find()
            .filter(subscription::Column::WorkspaceId.eq(ws.0))
            .filter(subscription::Column::RequestId.ne(request_id))
            .filter(subscription::Column::Status.is_in([Status::ApprovalPending, Status::Approved]))
            .filter(subscription::Column::CreatedAt.gt(now - chrono::Duration::hours(3)))
            .one(&self.db)
            .await?;
        if waiting.is_some() {
            return Err(ServiceError::invalid(
                "plan",
                "A checkout for this workspace is waiting for approval at PayPal. Continue it \
                 from this page, or cancel it at PayPal, before starting another.",
            ));
        }
        // The row first, with the acceptance of the Terms and the Refund Policy: a second
        // submission of the form finds the row and records nothing again.
        let txn = store::begin_write(&self.db).await?;
        let inserted = subscription::Entity::insert(subscription::ActiveModel {
            workspace_id: Set(ws.0),
            started_by: Set(Some(who.user_id)),
            request_id: Set(request_id.to_owned()),
            plan: Set(checkout.plan.slug().to_owned()),
            interval: Set(checkout.interval.as_str().to_owned()),
            status: Set(Status::Creating),
            change_approved: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::column(subscription::Column::RequestId)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?
            == 1;
        if inserted {
            self.accept_at_checkout_in(&txn, who).await?;
        }
        txn.commit().await?;
        let row = subscription::Entity::find()
            .filter(subscription::Column::RequestId.eq(request_id))
            .one(&self.db)
            .await?
            .ok_or(ServiceError::NotFound)?;
        if row.workspace_id != ws.0 {
            return Err(ServiceError::NotFound);
        }
        if let Some(url) = row
            .approve_url
            .clone()
            .filter(|_| row.status == Status::ApprovalPending)
        {
            return Ok(url);
        }
        let base = format!("{}/w/{}/billing", self.base_url, ws.0);
        let custom_id = row.id.to_string();
        let made = paypal
            .api
            .create_subscription(&NewSubscription {
                plan_id: &plan_id,
                custom_id: &custom_id,
                brand_name: &paypal.brand_name,
                return_url: &format!("{base}/return"),
                cancel_url: &format!("{base}/cancelled"),
                request_id,
            })
            .await;
        match made {
            Ok(created) => {
                let moved = subscription::Entity::update_many()
                    .col_expr(
                        subscription::Column::PaypalId,
                        Expr::value(created.id.clone()),
                    )
                    .col_expr(
                        subscription::Column::ApproveUrl,
                        Expr::value(created.approve_url.clone()),
                    )
                    .col_expr(
                        subscription::Column::Status,
                        Expr::value(Status::ApprovalPending.as_str()),
                    )
                    .col_expr(subscription::Column::UpdatedAt, Expr::value(crate::now()))
                    .filter(subscription::Column::Id.eq(row.id))
                    .filter(subscription::Column::Status.is_in([Status::Creating, Status::Failed]))
                    .exec(&self.db)
                    .await?
                    .rows_affected
                    == 1;
                if moved {
                    tracing::info!(
                        workspace = ws.0,
                        plan = checkout.plan.slug(),
                        "checkout started"
                    );
                }
                Ok(created.approve_url)
            }
            Err(err) => {
                subscription::Entity::update_many()
                    .col_expr(
                        subscription::Column::Status,
                        Expr::value(Status::Failed.as_str()),
                    )
                    .col_expr(subscription::Column::UpdatedAt, Expr::value(crate::now()))
                    .filter(subscription::Column::Id.eq(row.id))
                    .filter(subscription::Column::Status.eq(Status::Creating))
                    .exec(&self.db)
                    .await?;
                Err(unreachable(err))
            }
        }
    }

    /// The owner is back from PayPal (approved, or on the way to): PayPal is asked where the
    /// subscription stands, and its answer applied. Answers the subscription as now stored.
    pub async fn checkout_returned(
        &self,
        m: &Membership,
        paypal_id: &str,
    ) -> Result<subscription::Model> {
        owner_only(m)?;
        let row = if paypal_id.is_empty() {
            // PayPal names the subscription; without it, the workspace's current one.
            self.current_subscription(m.workspace_id())
                .await?
                .map(|c| c.row)
                .ok_or(ServiceError::NotFound)?
        } else {
            self.subscription_of(m.workspace_id(), paypal_id).await?
        };
        let paypal_id = row.paypal_id.clone().ok_or(ServiceError::NotFound)?;
        let paypal_id = paypal_id.as_str();
        match self.paypal()?.api.subscription(paypal_id).await {
            Ok(remote) => self.apply_remote(&row, &remote).await,
            // The webhook will say it; the page waits for it.
            Err(err) => {
                tracing::warn!(error = %err, "could not read a subscription back from PayPal");
                Ok(row)
            }
        }
    }

    /// The owner came back from PayPal without approving: the checkout is abandoned.
    pub async fn checkout_abandoned(&self, m: &Membership, paypal_id: &str) -> Result<()> {
        owner_only(m)?;
        let row = self.subscription_of(m.workspace_id(), paypal_id).await?;
        if row.status == Status::ApprovalPending {
            let mut active = row.into_active_model();
            active.status = Set(Status::Abandoned);
            active.updated_at = Set(crate::now());
            active.update(&self.db).await?;
        }
        Ok(())
    }

    /// The workspace's subscription with PayPal id `paypal_id`.
    pub(crate) async fn subscription_of(
        &self,
        ws: WorkspaceId,
        paypal_id: &str,
    ) -> Result<subscription::Model> {
        subscription::Entity::find()
            .filter(subscription::Column::WorkspaceId.eq(ws.0))
            .filter(subscription::Column::PaypalId.eq(paypal_id))
            .one(&self.db)
            .await?
            .ok_or(ServiceError::NotFound)
    }

    /// Asks PayPal to move the live subscription to another plan; answers the page where the
    /// owner approves it. An upgrade applies once PayPal confirms; a downgrade waits for the end
    /// of the period paid for.
    pub async fn change_plan(&self, m: &Membership, change: Change) -> Result<String> {
        owner_only(m)?;
        let paypal = self.paypal()?;
        let ws = m.workspace_id();
        let sub = self
            .live_subscription(ws)
            .await?
            .filter(|s| s.status == Status::Active)
            .ok_or_else(|| {
                ServiceError::invalid(
                    "plan",
                    "This workspace has no active subscription to change.",
                )
            })?;
        if sub.plan == change.plan.slug() && sub.interval == change.interval.as_str() {
            return Err(ServiceError::invalid(
                "plan",
                "This workspace is on that plan already.",
            ));
        }
        let plan_id = self
            .paypal_plan_id(change.plan, change.interval)
            .await?
            .ok_or_else(|| {
                ServiceError::invalid(
                    "plan",
                    format!("The {} plan cannot be bought here.", change.plan.label()),
                )
            })?;
        let current = PlanId::parse(&sub.plan).unwrap_or(PlanId::Free);
        if change.plan < current
            && let Some(upgraded) = sub.upgraded_at
        {
            return Err(ServiceError::invalid(
                "plan",
                format!(
                    "This workspace moved to the {} plan on {}. PayPal charges its price from \
                     the next payment on; a move to a smaller plan can be asked for once that \
                     payment has gone through.",
                    current.label(),
                    upgraded.format("%-d %B %Y")
                ),
            ));
        }
        let paypal_id = sub.paypal_id.clone().ok_or(ServiceError::NotFound)?;
        let base = format!("{}/w/{}/billing", self.base_url, ws.0);
        let url = paypal
            .api
            .revise(&paypal_id, &plan_id, &format!("{base}/return"), &base)
            .await
            .map_err(unreachable)?;
        let mut active = sub.into_active_model();
        active.change_to = Set(Some(change.plan.slug().to_owned()));
        active.change_interval = Set(Some(change.interval.as_str().to_owned()));
        active.change_from = Set(None);
        active.change_approved = Set(false);
        active.updated_at = Set(crate::now());
        active.update(&self.db).await?;
        Ok(url)
    }

    /// Cancels the subscription at PayPal; the plan lasts to the end of the period paid for.
    /// Answers when it ends.
    pub async fn cancel_subscription(&self, m: &Membership) -> Result<DateTime<Utc>> {
        owner_only(m)?;
        let paypal = self.paypal()?;
        let ws = m.workspace_id();
        let sub = self
            .live_subscription(ws)
            .await?
            .filter(|s| matches!(s.status, Status::Active | Status::Suspended))
            .ok_or_else(|| ServiceError::invalid("plan", "There is no subscription to cancel."))?;
        let paypal_id = sub.paypal_id.clone().ok_or(ServiceError::NotFound)?;
        paypal
            .api
            .cancel(&paypal_id, "Cancelled by the workspace's owner")
            .await
            .map_err(unreachable)?;
        let now = crate::now();
        let ends = sub.paid_until.filter(|t| *t > now).unwrap_or(now);
        let txn = store::begin_write(&self.db).await?;
        let mut active = sub.into_active_model();
        active.status = Set(Status::Cancelled);
        active.ends_at = Set(Some(ends));
        // News from before the cancellation, arriving late, is read again from PayPal.
        active.paypal_updated_at = Set(Some(now));
        active.updated_at = Set(now);
        active.update(&txn).await?;
        settle(&txn, paypal.grace, ws, now).await?;
        txn.commit().await?;
        tracing::info!(workspace = ws.0, "subscription cancelled");
        Ok(ends)
    }

    /// Activates a suspended subscription again at PayPal (which then bills what is owed).
    pub async fn reactivate_subscription(&self, m: &Membership) -> Result<()> {
        owner_only(m)?;
        let paypal = self.paypal()?;
        let sub = self
            .current_subscription(m.workspace_id())
            .await?
            .map(|c| c.row)
            .filter(|s| s.status == Status::Suspended)
            .ok_or_else(|| {
                ServiceError::invalid("plan", "There is no suspended subscription to reactivate.")
            })?;
        let paypal_id = sub.paypal_id.clone().ok_or(ServiceError::NotFound)?;
        paypal
            .api
            .activate(&paypal_id, "Reactivated by the workspace's owner")
            .await
            .map_err(unreachable)?;
        match paypal.api.subscription(&paypal_id).await {
            Ok(remote) => {
                self.apply_remote(&sub, &remote).await?;
            }
            Err(err) => tracing::warn!(error = %err, "could not read a subscription back"),
        }
        Ok(())
    }

    /// Applies PayPal's view of a subscription to its row and settles the workspace's plan.
    pub(crate) async fn apply_remote(
        &self,
        row: &subscription::Model,
        remote: &Subscription,
    ) -> Result<subscription::Model> {
        let paypal = self.paypal()?;
        let now = crate::now();
        let txn = store::begin_write(&self.db).await?;
        // Read again under the write lock: a webhook may have changed it meanwhile.
        let row = subscription::Entity::find_by_id(row.id)
            .one(&txn)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let remote_plan = self.plan_of_paypal(&txn, &remote.plan_id).await?;
        let updated = apply(&row, remote, remote_plan, now);
        let ws = WorkspaceId(row.workspace_id);
        let was_active = row.status == Status::Active;
        let saved = if updated == row {
            row
        } else {
            let mut active = updated.clone().into_active_model();
            for col in [
                subscription::Column::Status,
                subscription::Column::Plan,
                subscription::Column::Interval,
                subscription::Column::PaidUntil,
                subscription::Column::PaymentFailedAt,
                subscription::Column::EndsAt,
                subscription::Column::ChangeTo,
                subscription::Column::ChangeInterval,
                subscription::Column::ChangeFrom,
                subscription::Column::ChangeApproved,
                subscription::Column::PaypalUpdatedAt,
                subscription::Column::ApproveUrl,
                subscription::Column::UpgradedAt,
            ] {
                active.reset(col);
            }
            active.updated_at = Set(now);
            active.update(&txn).await?
        };
        if saved.status == Status::Active && !was_active {
            super::cancel_others(&txn, &saved, now).await?;
        }
        settle(&txn, paypal.grace, ws, now).await?;
        txn.commit().await?;
        Ok(saved)
    }
}

/// `row` with PayPal's view `remote` applied (`remote_plan`: which of our plans its PayPal plan
/// is). Pure, so the rules read in one place.
pub(crate) fn apply(
    row: &subscription::Model,
    remote: &Subscription,
    remote_plan: Option<(PlanId, Interval)>,
    now: DateTime<Utc>,
) -> subscription::Model {
    use providers::billing::paypal::Status as Remote;
    let mut next = row.clone();
    if let Some(t) = remote.next_billing_time {
        next.paid_until = Some(t);
    }
    if let Some(t) = remote.update_time {
        next.paypal_updated_at = Some(t);
    }
    next.status = match &remote.status {
        Remote::ApprovalPending => {
            if row.status == Status::Abandoned {
                Status::Abandoned
            } else {
                Status::ApprovalPending
            }
        }
        Remote::Approved => Status::Approved,
        Remote::Active => Status::Active,
        Remote::Suspended => Status::Suspended,
        Remote::Cancelled => Status::Cancelled,
        Remote::Expired => Status::Expired,
        Remote::Other(_) => row.status,
    };
    if next.status != Status::ApprovalPending {
        next.approve_url = None;
    }
    // PayPal's count of failed payments (or a suspension) starts the grace period; only a
    // completed payment ends it (the webhook's `PAYMENT.SALE.COMPLETED`), since a read between
    // a failure and PayPal counting it would otherwise end it too early.
    if remote.failed_payments_count > 0 || next.status == Status::Suspended {
        next.payment_failed_at
            .get_or_insert(remote.last_failed_payment.unwrap_or(now));
    }
    if next.status == Status::Cancelled {
        let end = next.paid_until.filter(|t| *t > now).unwrap_or(now);
        next.ends_at.get_or_insert(end);
    }
    if let Some((plan, interval)) = remote_plan {
        let (slug, every) = (plan.slug(), interval.as_str());
        let current = PlanId::parse(&row.plan).unwrap_or(PlanId::Free);
        if (slug, every) != (row.plan.as_str(), row.interval.as_str()) {
            // PayPal has moved it to another plan: the change asked for, now approved.
            if plan >= current {
                // An upgrade (or a change of interval) applies at once; a move back down waits
                // for the first payment at its price.
                if plan > current {
                    next.upgraded_at = Some(now);
                }
                next.plan = slug.to_owned();
                next.interval = every.to_owned();
                next.change_to = None;
                next.change_interval = None;
                next.change_from = None;
                next.change_approved = false;
            } else if !row.change_approved || row.change_to.as_deref() != Some(slug) {
                next.change_to = Some(slug.to_owned());
                next.change_interval = Some(every.to_owned());
                next.change_from = Some(row.paid_until.unwrap_or(now));
                next.change_approved = true;
            }
        }
    }
    // A downgrade whose day came is the subscription's plan from then on.
    if next.change_approved
        && let (Some(to), Some(from)) = (next.change_to.clone(), next.change_from)
        && from <= now
    {
        next.plan = to;
        if let Some(every) = next.change_interval.take() {
            next.interval = every;
        }
        next.change_to = None;
        next.change_from = None;
        next.change_approved = false;
    }
    next
}

//! PayPal's webhooks at `/webhooks/paypal`. A delivery is verified before anything in it is
//! read ([`providers::billing::webhook::Verifier`]); each event id is handled once (a second
//! delivery of a handled event is acknowledged and changes nothing; a replay of the very
//! delivery that was handled is refused); an event older than what is stored, or one without a
//! subscription's state (a sale), is resolved by reading the subscription from PayPal; an event
//! for a subscription this instance does not know, and an event type it does not act on, are
//! logged and acknowledged.

use crate::{Result, ServiceError, Services, emails, notices};
use chrono::{DateTime, Utc};
use domain::{Role, WorkspaceId};
use providers::billing::paypal::Subscription;
use providers::billing::webhook::WebhookError;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, Set};
use serde_json::Value;
use store::entities::{billing_event, membership, subscription, user, workspace};

/// What became of a verified delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// Acted on (`outcome` says how).
    Applied(String),
    /// The event was handled before (delivered again); nothing changed.
    AlreadyHandled,
    /// Verified, but about nothing this instance acts on; acknowledged.
    Ignored(String),
}

/// Why a delivery was not handled.
#[derive(Debug, thiserror::Error)]
pub enum WebhookFailure {
    /// Forged, tampered, stale, replayed or malformed: 400, nothing changed.
    #[error("{0}")]
    Refused(String),
    /// It could not be checked or handled now (PayPal or the database unreachable): a server
    /// error, so that PayPal delivers it again.
    #[error("{0}")]
    Later(String),
    /// Billing through PayPal is not set up on this instance.
    #[error("not found")]
    NotFound,
}

impl From<sea_orm::DbErr> for WebhookFailure {
    fn from(err: sea_orm::DbErr) -> Self {
        ServiceError::from(err).into()
    }
}

impl From<ServiceError> for WebhookFailure {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::NotFound => WebhookFailure::NotFound,
            other => WebhookFailure::Later(other.to_string()),
        }
    }
}

/// The parts of an event envelope that are acted on.
struct Event {
    id: String,
    event_type: String,
    resource: Value,
}

impl Event {
    fn parse(body: &[u8]) -> Result<Event, WebhookFailure> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|_| WebhookFailure::Refused("the body is not JSON".into()))?;
        let text = |key: &str| {
            value[key]
                .as_str()
                .filter(|s| !s.is_empty() && s.len() <= 200)
                .map(str::to_owned)
                .ok_or_else(|| WebhookFailure::Refused(format!("the event has no {key}")))
        };
        Ok(Event {
            id: text("id")?,
            event_type: text("event_type")?,
            resource: value["resource"].clone(),
        })
    }

    /// The subscription (`I-…`) it is about: the resource itself for subscription events, the
    /// sale's billing agreement for payments.
    fn subscription_id(&self) -> Option<String> {
        let key = if self.event_type.starts_with("PAYMENT.SALE.") {
            "billing_agreement_id"
        } else if self.event_type.starts_with("BILLING.SUBSCRIPTION.") {
            "id"
        } else {
            return None;
        };
        self.resource[key].as_str().map(str::to_owned)
    }
}

impl Services {
    /// Verifies and handles one delivery of PayPal's webhook (`body` exactly as received).
    pub async fn paypal_webhook(
        &self,
        headers: &providers::billing::webhook::HeaderMap,
        body: &[u8],
    ) -> Result<Handled, WebhookFailure> {
        let paypal = self.paypal()?;
        let Some(webhook_id) = self.webhook_id().await? else {
            tracing::error!(
                "a PayPal webhook arrived, but no webhook is registered: run `socializioz admin \
                 billing sync`"
            );
            return Err(WebhookFailure::Later("no webhook is registered".into()));
        };
        let transmission = paypal
            .verifier
            .verify(&webhook_id, headers, body, crate::now())
            .await
            .map_err(|err| match err {
                WebhookError::Refused(why) => WebhookFailure::Refused(why),
                WebhookError::Undecided(why) => WebhookFailure::Later(why),
            })?;
        let event = Event::parse(body)?;
        if let Some(seen) = billing_event::Entity::find()
            .filter(billing_event::Column::EventId.eq(event.id.as_str()))
            .one(&self.db)
            .await?
        {
            if seen.transmission_id == transmission.id {
                return Err(WebhookFailure::Refused(
                    "this delivery was handled already (a replay)".into(),
                ));
            }
            tracing::info!(event = %event.id, kind = %event.event_type, "a PayPal event came again");
            return Ok(Handled::AlreadyHandled);
        }
        let handled = self.handle(&event).await?;
        let outcome = match &handled {
            Handled::Applied(o) | Handled::Ignored(o) => o.clone(),
            Handled::AlreadyHandled => "already handled".into(),
        };
        let recorded = billing_event::Entity::insert(billing_event::ActiveModel {
            event_id: Set(event.id.clone()),
            event_type: Set(event.event_type.clone()),
            resource_id: Set(event.subscription_id()),
            transmission_id: Set(transmission.id.clone()),
            outcome: Set(outcome.clone()),
            received_at: Set(crate::now()),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::column(billing_event::Column::EventId)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&self.db)
        .await?;
        if recorded == 0 {
            // Two deliveries of one event at once: the other one recorded it. What both did is
            // the same, since each applies PayPal's state rather than a difference.
            return Ok(Handled::AlreadyHandled);
        }
        tracing::info!(event = %event.id, kind = %event.event_type, outcome = %outcome, "PayPal event handled");
        Ok(handled)
    }

    /// Acts on one verified, new event.
    async fn handle(&self, event: &Event) -> Result<Handled, WebhookFailure> {
        let paypal = self.paypal()?;
        let acted_on = event.event_type.starts_with("BILLING.SUBSCRIPTION.")
            || event.event_type == "PAYMENT.SALE.COMPLETED";
        if !acted_on {
            tracing::info!(kind = %event.event_type, "a PayPal event this instance does not act on");
            return Ok(Handled::Ignored(format!(
                "{} is not acted on",
                event.event_type
            )));
        }
        let Some(paypal_id) = event.subscription_id() else {
            return Ok(Handled::Ignored("names no subscription".into()));
        };
        let Some(row) = subscription::Entity::find()
            .filter(subscription::Column::PaypalId.eq(paypal_id.as_str()))
            .one(&self.db)
            .await?
        else {
            if event.event_type == "PAYMENT.SALE.COMPLETED" {
                tracing::error!(
                    "PayPal took a payment for a subscription this instance does not know (its \
                     workspace may have been deleted before the cancellation reached PayPal): \
                     refund it in PayPal unless another app of yours sold it"
                );
            } else {
                tracing::warn!(kind = %event.event_type, "a PayPal event for a subscription this instance does not know");
            }
            return Ok(Handled::Ignored("unknown subscription".into()));
        };
        // The event's own state, when it carries one newer than what is stored; otherwise
        // PayPal's state now (a sale carries none, and older news must not undo newer).
        let carried = (event.event_type.starts_with("BILLING.SUBSCRIPTION."))
            .then(|| Subscription::from_resource(&event.resource).ok())
            .flatten()
            .filter(|s| newer(s.update_time, row.paypal_updated_at));
        let (remote, how) = match carried {
            Some(s) => (s, "applied"),
            None => (
                paypal
                    .api
                    .subscription(&paypal_id)
                    .await
                    .map_err(|e| WebhookFailure::Later(e.to_string()))?,
                "read from PayPal",
            ),
        };
        let failed_before = row.payment_failed_at.is_some();
        let saved = self.apply_remote(&row, &remote).await?;
        let saved = if event.event_type == "BILLING.SUBSCRIPTION.PAYMENT.FAILED"
            && saved.payment_failed_at.is_none()
        {
            // PayPal reports the failure before its count shows it: the grace period starts now.
            self.payment_failed(&saved).await?
        } else {
            saved
        };
        if !failed_before && saved.payment_failed_at.is_some() {
            self.tell_owners_payment_failed(&saved).await?;
        }
        if event.event_type == "PAYMENT.SALE.COMPLETED" {
            let payment = payment_of(&event.resource)?;
            let saved = self.payment_received(&saved, &payment).await?;
            let description = describe_payment(&saved, &payment, &paypal.brand_name);
            let invoice = self
                .invoice_payment(WorkspaceId(saved.workspace_id), &description, &payment)
                .await?;
            return Ok(Handled::Applied(format!(
                "{how}; invoice {}",
                invoice.number
            )));
        }
        Ok(Handled::Applied(how.into()))
    }

    /// A completed payment ends a failure's grace period, and when it is at the price of the
    /// plan moved up to, allows moving back down.
    async fn payment_received(
        &self,
        row: &subscription::Model,
        payment: &super::Payment,
    ) -> Result<subscription::Model> {
        use sea_orm::{ActiveModelTrait, IntoActiveModel};
        let paypal = self.paypal()?;
        let at_new_price = match (
            domain::plans::PlanId::parse(&row.plan),
            providers::billing::Interval::parse(&row.interval),
        ) {
            (Ok(plan), Some(interval)) => paypal
                .price(&self.billing.catalogue, plan, interval)
                .is_some_and(|price| payment.amount.cents >= price.cents),
            _ => false,
        };
        let clears_upgrade = row.upgraded_at.is_some() && at_new_price;
        if row.payment_failed_at.is_none() && !clears_upgrade {
            return Ok(row.clone());
        }
        let now = crate::now();
        let txn = store::begin_write(&self.db).await?;
        let mut active = row.clone().into_active_model();
        active.payment_failed_at = Set(None);
        if clears_upgrade {
            active.upgraded_at = Set(None);
        }
        active.updated_at = Set(now);
        let saved = active.update(&txn).await?;
        super::settle(&txn, paypal.grace, WorkspaceId(row.workspace_id), now).await?;
        txn.commit().await?;
        Ok(saved)
    }

    /// Starts the grace period of a subscription whose payment failed.
    async fn payment_failed(&self, row: &subscription::Model) -> Result<subscription::Model> {
        use sea_orm::{ActiveModelTrait, IntoActiveModel};
        let paypal = self.paypal()?;
        let now = crate::now();
        let txn = store::begin_write(&self.db).await?;
        let mut active = row.clone().into_active_model();
        active.payment_failed_at = Set(Some(now));
        active.updated_at = Set(now);
        let saved = active.update(&txn).await?;
        super::settle(&txn, paypal.grace, WorkspaceId(row.workspace_id), now).await?;
        txn.commit().await?;
        Ok(saved)
    }

    /// A notice and an e-mail to each owner: the payment failed, and until when the plan lasts.
    async fn tell_owners_payment_failed(&self, row: &subscription::Model) -> Result<()> {
        let paypal = self.paypal()?;
        let Some(failed) = row.payment_failed_at else {
            return Ok(());
        };
        let until = failed + paypal.grace;
        let ws = WorkspaceId(row.workspace_id);
        let name: Option<String> = workspace::Entity::find_by_id(ws.0)
            .select_only()
            .column(workspace::Column::Name)
            .into_tuple()
            .one(&self.db)
            .await?;
        let name = name.unwrap_or_default();
        let owners: Vec<(i64, String, String, String)> = membership::Entity::find()
            .select_only()
            .column(user::Column::Id)
            .column(user::Column::Email)
            .column(user::Column::Name)
            .column(user::Column::Timezone)
            .inner_join(user::Entity)
            .filter(membership::Column::WorkspaceId.eq(ws.0))
            .filter(membership::Column::Role.eq(Role::Owner.as_str()))
            .into_tuple()
            .all(&self.db)
            .await?;
        let link = format!("{}/w/{}/billing", self.base_url, ws.0);
        let txn = store::begin_write(&self.db).await?;
        for (id, email, person, zone) in owners {
            let tz = domain::Timezone::stored(&zone);
            let day = until
                .with_timezone(&tz.tz())
                .format("%-d %B %Y")
                .to_string();
            notices::payment_failed(&txn, domain::UserId(id), &name, until, failed).await?;
            emails::queue(
                &txn,
                emails::payment_failed(&email, &person, &name, &day, &link),
                Some(domain::UserId(id)),
            )
            .await?;
        }
        txn.commit().await?;
        Ok(())
    }
}

/// The payment a `PAYMENT.SALE.COMPLETED` event reports (a sale: `{id, amount: {total,
/// currency}, create_time}`).
fn payment_of(sale: &Value) -> Result<super::Payment, WebhookFailure> {
    let unreadable = || WebhookFailure::Refused("the sale in the event cannot be read".into());
    let id = sale["id"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or_else(unreadable)?;
    let amount = providers::billing::Money::parse(
        sale["amount"]["total"].as_str().ok_or_else(unreadable)?,
        sale["amount"]["currency"].as_str().ok_or_else(unreadable)?,
    )
    .ok_or_else(unreadable)?;
    let paid_at = sale["create_time"]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map_or_else(crate::now, |t| t.with_timezone(&Utc));
    Ok(super::Payment {
        sale_id: id.to_owned(),
        amount,
        paid_at,
    })
}

/// What an invoice says was bought: the plan, the billing period and the dates it covers.
fn describe_payment(sub: &subscription::Model, payment: &super::Payment, brand: &str) -> String {
    let plan = domain::plans::PlanId::parse(&sub.plan).map_or("Free", |p| p.label());
    let every = if sub.interval == "year" {
        "yearly"
    } else {
        "monthly"
    };
    let day = |t: DateTime<Utc>| t.format("%-d %B %Y").to_string();
    match sub.paid_until.filter(|end| *end > payment.paid_at) {
        Some(end) => format!(
            "{brand} {plan} plan, billed {every}: {} to {}",
            day(payment.paid_at),
            day(end)
        ),
        None => format!("{brand} {plan} plan, billed {every}"),
    }
}

/// Whether a state PayPal stamped `carried` is newer than the one stored.
fn newer(carried: Option<DateTime<Utc>>, stored: Option<DateTime<Utc>>) -> bool {
    match (carried, stored) {
        (Some(c), Some(s)) => c > s,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

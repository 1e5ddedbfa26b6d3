//! `socializioz admin billing sync`: makes PayPal's catalogue match the instance's plans. It
//! creates the product once, one PayPal plan per paid plan, interval and price (a changed price
//! is a new PayPal plan: PayPal plans keep their price, and subscribers keep theirs), and
//! registers the webhook. What exists is found and kept, so running it again changes nothing.

use super::PayPalBilling;
use crate::{Result, ServiceError, Services};
use domain::plans::PlanId;
use providers::billing::paypal::NewPlan;
use providers::billing::{BillingError, Interval, Money};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use sha2::Digest;
use store::entities::billing_catalogue as catalogue;

/// The events the webhook is registered for: the ones [`super::webhooks`] acts on.
pub const EVENTS: &[&str] = &[
    "BILLING.SUBSCRIPTION.ACTIVATED",
    "BILLING.SUBSCRIPTION.UPDATED",
    "BILLING.SUBSCRIPTION.CANCELLED",
    "BILLING.SUBSCRIPTION.SUSPENDED",
    "BILLING.SUBSCRIPTION.EXPIRED",
    "BILLING.SUBSCRIPTION.PAYMENT.FAILED",
    "PAYMENT.SALE.COMPLETED",
    "PAYMENT.SALE.REFUNDED",
    "PAYMENT.SALE.REVERSED",
];

/// What a sync found and made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// `(PayPal id, made now)`.
    pub product: (String, bool),
    pub plans: Vec<(PlanId, Interval, Money, String, bool)>,
    /// `None` when the configuration names the webhook.
    pub webhook: Option<(String, bool)>,
}

/// A stored catalogue row of `kind` matching `filter`, if any.
async fn stored<C: ConnectionTrait>(
    conn: &C,
    kind: &str,
    plan: Option<(PlanId, Interval, &Money)>,
) -> Result<Option<String>> {
    let mut query = catalogue::Entity::find().filter(catalogue::Column::Kind.eq(kind));
    if let Some((plan, interval, price)) = plan {
        query = query
            .filter(catalogue::Column::Plan.eq(plan.slug()))
            .filter(catalogue::Column::Interval.eq(interval.as_str()))
            .filter(catalogue::Column::PriceCents.eq(price.cents))
            .filter(catalogue::Column::Currency.eq(price.currency.as_str()));
    }
    Ok(query.one(conn).await?.map(|row| row.paypal_id))
}

async fn keep<C: ConnectionTrait>(
    conn: &C,
    kind: &str,
    plan: Option<(PlanId, Interval, &Money)>,
    paypal_id: &str,
) -> Result<()> {
    catalogue::ActiveModel {
        kind: Set(kind.to_owned()),
        plan: Set(plan.map(|(p, _, _)| p.slug().to_owned())),
        interval: Set(plan.map(|(_, i, _)| i.as_str().to_owned())),
        price_cents: Set(plan.map(|(_, _, m)| m.cents)),
        currency: Set(plan.map(|(_, _, m)| m.currency.clone())),
        paypal_id: Set(paypal_id.to_owned()),
        created_at: Set(crate::now()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// A PayPal failure as the operator's command reports it.
pub(super) fn failed(what: &str, err: BillingError) -> ServiceError {
    ServiceError::Unavailable(format!("{what}: {err}"))
}

impl PayPalBilling {
    /// The price of `plan` per `interval`, when it is sold that way.
    pub fn price(
        &self,
        catalogue: &domain::plans::Catalogue,
        plan: PlanId,
        interval: Interval,
    ) -> Option<Money> {
        let terms = catalogue.plan(plan);
        let cents = match interval {
            Interval::Month => terms.monthly_cents,
            Interval::Year => terms.yearly_cents,
        }?;
        (cents > 0).then(|| Money {
            cents: i64::try_from(cents).unwrap_or(i64::MAX),
            currency: self.currency.clone(),
        })
    }
}

impl Services {
    /// Makes PayPal's product, plans and webhook match this instance (see the module doc).
    pub async fn billing_sync(&self) -> Result<SyncReport> {
        let paypal = self.paypal()?;
        // Ids that make a retry of the same creation return the first one's result.
        let instance = hex::encode(&sha2::Sha256::digest(self.base_url.as_bytes())[..8]);
        let product = match stored(&self.db, "product", None).await? {
            Some(id) => (id, false),
            None => {
                let id = paypal
                    .api
                    .create_product(
                        &paypal.brand_name,
                        "Social media scheduling, publishing and analytics",
                        &format!("socializioz-product-{instance}"),
                    )
                    .await
                    .map_err(|e| failed("creating the product at PayPal", e))?;
                keep(&self.db, "product", None, &id).await?;
                (id, true)
            }
        };
        let mut report = SyncReport {
            product,
            ..SyncReport::default()
        };
        for plan in PlanId::ALL {
            for interval in Interval::ALL {
                let Some(price) = paypal.price(&self.billing.catalogue, plan, interval) else {
                    continue;
                };
                let key = Some((plan, interval, &price));
                if let Some(id) = stored(&self.db, "plan", key).await? {
                    report.plans.push((plan, interval, price, id, false));
                    continue;
                }
                let name = format!(
                    "{} {} ({}ly)",
                    paypal.brand_name,
                    plan.label(),
                    interval.as_str()
                );
                let request = format!(
                    "socializioz-plan-{instance}-{}-{}-{}{}",
                    plan.slug(),
                    interval.as_str(),
                    price.cents,
                    price.currency
                );
                let id = paypal
                    .api
                    .create_plan(
                        &NewPlan {
                            product_id: &report.product.0,
                            name: &name,
                            interval,
                            price: &price,
                            failure_threshold: paypal.failure_threshold,
                        },
                        &request,
                    )
                    .await
                    .map_err(|e| failed("creating a plan at PayPal", e))?;
                keep(&self.db, "plan", key, &id).await?;
                report.plans.push((plan, interval, price, id, true));
            }
        }
        if paypal.webhook_id.is_none() {
            report.webhook = Some(match stored(&self.db, "webhook", None).await? {
                Some(id) => (id, false),
                None => {
                    let url = format!("{}/webhooks/paypal", self.base_url);
                    let known = paypal
                        .api
                        .webhooks()
                        .await
                        .map_err(|e| failed("listing the webhooks at PayPal", e))?
                        .into_iter()
                        .find(|(_, at)| *at == url);
                    let (id, made) = match known {
                        Some((id, _)) => (id, false),
                        None => (
                            paypal
                                .api
                                .register_webhook(&url, EVENTS)
                                .await
                                .map_err(|e| failed("registering the webhook at PayPal", e))?,
                            true,
                        ),
                    };
                    keep(&self.db, "webhook", None, &id).await?;
                    (id, made)
                }
            });
        }
        Ok(report)
    }

    /// The webhook id PayPal signs with: the configured one, else the one `sync` registered.
    pub(crate) async fn webhook_id(&self) -> Result<Option<String>> {
        let paypal = self.paypal()?;
        if let Some(id) = &paypal.webhook_id {
            return Ok(Some(id.clone()));
        }
        stored(&self.db, "webhook", None).await
    }

    /// The PayPal plan id for `plan` per `interval` at today's price, when `sync` made it.
    pub(crate) async fn paypal_plan_id(
        &self,
        plan: PlanId,
        interval: Interval,
    ) -> Result<Option<String>> {
        let paypal = self.paypal()?;
        let Some(price) = paypal.price(&self.billing.catalogue, plan, interval) else {
            return Ok(None);
        };
        stored(&self.db, "plan", Some((plan, interval, &price))).await
    }

    /// Which plan and interval a PayPal plan id is, at any price it was ever sold at.
    pub(crate) async fn plan_of_paypal<C: ConnectionTrait>(
        &self,
        conn: &C,
        paypal_plan: &str,
    ) -> Result<Option<(PlanId, Interval)>> {
        let row = catalogue::Entity::find()
            .filter(catalogue::Column::Kind.eq("plan"))
            .filter(catalogue::Column::PaypalId.eq(paypal_plan))
            .one(conn)
            .await?;
        Ok(row.and_then(|r| {
            Some((
                PlanId::parse(r.plan.as_deref()?).ok()?,
                Interval::parse(r.interval.as_deref()?)?,
            ))
        }))
    }
}

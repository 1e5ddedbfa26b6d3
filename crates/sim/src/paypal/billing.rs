//! The money of a subscription. Approval charges the first cycle at once; each later cycle runs
//! when a test calls [`crate::Simulator::paypal_renew`]. A cycle is a completed sale (with
//! PayPal's fee of 3.49 % plus 0.49, and what failed before when the plan bills outstanding
//! amounts), or, while the subscription's payments are made to fail, a declined one that adds to
//! the outstanding balance and, at the plan's failure threshold, suspends the subscription.
//! Activating a suspended subscription collects what is outstanding. Every payment is kept as a
//! transaction and announced by its event.

use super::subscriptions::{Billing, Status, Subscriber};
use super::webhooks::{self, EventType};
use super::{Money, Store, link, paypal_id, stamp};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    Completed,
    Declined,
}

/// A payment of a subscription.
pub(super) struct Transaction {
    pub id: String,
    pub subscription_id: String,
    pub outcome: Outcome,
    pub gross: Money,
    /// PayPal's fee, in the minor unit.
    pub fee: i64,
    pub payer: Subscriber,
    pub time: DateTime<Utc>,
}

impl Transaction {
    /// As `GET /v1/billing/subscriptions/{id}/transactions` lists it.
    pub fn json(&self) -> Value {
        json!({
            "id": self.id,
            "status": match self.outcome {
                Outcome::Completed => "COMPLETED",
                Outcome::Declined => "DECLINED",
            },
            "amount_with_breakdown": {
                "gross_amount": self.gross.json(),
                "fee_amount": self.gross.of(self.fee).json(),
                "net_amount": self.gross.of(self.gross.cents - self.fee).json(),
            },
            "payer_name": {"given_name": self.payer.given_name, "surname": self.payer.surname},
            "payer_email": self.payer.email,
            "time": stamp(self.time),
        })
    }

    /// The sale a completed payment is, as `PAYMENT.SALE.COMPLETED` carries it.
    fn sale(&self, custom_id: Option<&str>, api_base: &str) -> Value {
        let href = format!("{api_base}/v1/payments/sale/{}", self.id);
        let total = self.gross.value();
        let mut sale = json!({
            "id": self.id,
            "state": "completed",
            "amount": {
                "total": total,
                "currency": self.gross.currency,
                "details": {"subtotal": total},
            },
            "payment_mode": "INSTANT_TRANSFER",
            "protection_eligibility": "ELIGIBLE",
            "protection_eligibility_type": "ITEM_NOT_RECEIVED_ELIGIBLE,UNAUTHORIZED_PAYMENT_ELIGIBLE",
            "transaction_fee": {"value": self.gross.of(self.fee).value(), "currency": self.gross.currency},
            "billing_agreement_id": self.subscription_id,
            "create_time": stamp(self.time),
            "update_time": stamp(self.time),
            "links": [
                link(&href, "self", "GET"),
                link(&format!("{href}/refund"), "refund", "POST"),
            ],
        });
        if let Some(custom_id) = custom_id {
            sale["custom"] = json!(custom_id);
        }
        sale
    }
}

/// The buyer approved a new subscription: it becomes active with them as its subscriber, and
/// the first cycle is charged at once (even when its payments are set to fail: the buyer just
/// showed a working way to pay).
pub(super) fn start(store: &mut Store, id: &str, subscriber: Subscriber, now: DateTime<Utc>) {
    let Some(sub) = store.subscription_mut(id) else {
        return;
    };
    if sub.status != Status::ApprovalPending {
        return;
    }
    sub.subscriber = Some(subscriber);
    sub.billing = Some(Billing {
        outstanding: 0,
        cycles_completed: 0,
        last_payment: None,
        last_failed_payment: None,
        next_billing: now,
        failed_payments: 0,
    });
    sub.set_status(Status::Active, now);
    let sale = charge(store, id, Charge::Cycle, now);
    webhooks::queue_subscription(store, id, EventType::Activated);
    if let Some(sale) = sale {
        webhooks::queue_sale(store, id, sale);
    }
    expire_when_done(store, id, now);
}

/// Runs the next billing cycle of an active subscription.
pub(super) fn renew(store: &mut Store, id: &str, now: DateTime<Utc>) -> Result<(), String> {
    let sub = store
        .subscription(id)
        .ok_or_else(|| format!("there is no subscription {id}"))?;
    if sub.status != Status::Active {
        return Err(format!(
            "subscription {id} is {}, not ACTIVE",
            sub.status.as_str()
        ));
    }
    if store.failing.contains(id) {
        decline(store, id, now);
        return Ok(());
    }
    if let Some(sale) = charge(store, id, Charge::Cycle, now) {
        webhooks::queue_sale(store, id, sale);
    }
    expire_when_done(store, id, now);
    Ok(())
}

/// Collects what failed payments left owing, unless payments still fail.
pub(super) fn collect_outstanding(store: &mut Store, id: &str, now: DateTime<Utc>) {
    if store.failing.contains(id) {
        return;
    }
    if let Some(sale) = charge(store, id, Charge::Outstanding, now) {
        webhooks::queue_sale(store, id, sale);
    }
}

/// What a charge is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Charge {
    /// A billing cycle (with what is outstanding, when the plan bills it).
    Cycle,
    /// Only what is outstanding.
    Outstanding,
}

/// Takes a payment: the sale, or `None` when there was nothing to take.
fn charge(store: &mut Store, id: &str, what: Charge, now: DateTime<Utc>) -> Option<Value> {
    let plan = store.plans.get(&store.subscription(id)?.plan_id)?.clone();
    let sub = store.subscription_mut(id)?;
    let payer = sub.subscriber.clone()?;
    let billing = sub.billing.as_mut()?;
    let cents = match what {
        Charge::Cycle => {
            let owed = if plan.auto_bill_outstanding {
                std::mem::take(&mut billing.outstanding)
            } else {
                0
            };
            billing.cycles_completed += 1;
            billing.next_billing = plan
                .interval
                .after(billing.next_billing, plan.interval_count);
            plan.price.cents + owed
        }
        Charge::Outstanding => std::mem::take(&mut billing.outstanding),
    };
    if cents == 0 {
        return None;
    }
    let gross = plan.price.of(cents);
    billing.failed_payments = 0;
    billing.last_payment = Some((gross.clone(), now));
    sub.updated = now;
    let transaction = Transaction {
        id: paypal_id(17),
        subscription_id: id.to_owned(),
        outcome: Outcome::Completed,
        fee: fee(cents),
        gross,
        payer,
        time: now,
    };
    let sale = transaction.sale(sub.custom_id.as_deref(), &sub.api_base);
    store.transactions.push(transaction);
    Some(sale)
}

/// A cycle's payment fails: owed, counted, and at the plan's threshold the subscription is
/// suspended.
fn decline(store: &mut Store, id: &str, now: DateTime<Utc>) {
    let Some(plan) = store
        .subscription(id)
        .and_then(|sub| store.plans.get(&sub.plan_id))
        .cloned()
    else {
        return;
    };
    let Some(sub) = store.subscription_mut(id) else {
        return;
    };
    let (Some(payer), Some(billing)) = (sub.subscriber.clone(), sub.billing.as_mut()) else {
        return;
    };
    billing.outstanding += plan.price.cents;
    billing.failed_payments += 1;
    billing.last_failed_payment = Some((plan.price.clone(), now));
    let failed = billing.failed_payments;
    sub.updated = now;
    store.transactions.push(Transaction {
        id: paypal_id(17),
        subscription_id: id.to_owned(),
        outcome: Outcome::Declined,
        gross: plan.price.clone(),
        fee: 0,
        payer,
        time: now,
    });
    webhooks::queue_subscription(store, id, EventType::PaymentFailed);
    if plan.failure_threshold > 0
        && failed >= plan.failure_threshold
        && let Some(sub) = store.subscription_mut(id)
    {
        sub.set_status(Status::Suspended, now);
        webhooks::queue_subscription(store, id, EventType::Suspended);
    }
}

/// Ends a subscription whose plan has a number of cycles once they are all paid.
fn expire_when_done(store: &mut Store, id: &str, now: DateTime<Utc>) {
    let Some(sub) = store.subscription(id) else {
        return;
    };
    let Some(plan) = store.plans.get(&sub.plan_id) else {
        return;
    };
    let completed = sub.billing.as_ref().map_or(0, |b| b.cycles_completed);
    if plan.total_cycles == 0 || completed < plan.total_cycles {
        return;
    }
    if let Some(sub) = store.subscription_mut(id) {
        sub.set_status(Status::Expired, now);
    }
    webhooks::queue_subscription(store, id, EventType::Expired);
}

/// PayPal's standard fee on `cents`: 3.49 % plus 0.49 (never more than the payment).
fn fee(cents: i64) -> i64 {
    ((cents * 349 + 5_000) / 10_000 + 49).min(cents)
}

#[cfg(test)]
mod tests {
    use super::fee;

    #[test]
    fn the_fee_is_paypals_standard_rate() {
        // 29.00 × 3.49 % = 1.0121, plus 0.49.
        assert_eq!(fee(2900), 150);
        assert_eq!(fee(30), 30);
    }
}

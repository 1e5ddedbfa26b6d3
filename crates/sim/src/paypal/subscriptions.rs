//! PayPal's subscriptions: creating one (which waits for the buyer's approval on the page),
//! reading it, revising its plan (approved on the page too), cancelling, suspending and
//! activating it, and listing its payments in a time window. A subscription reads as PayPal
//! writes it: no `subscriber` or `billing_info` before the buyer approved, and the links its
//! status allows. The simulator starts a subscription as soon as it is approved, so none rests
//! in PayPal's `APPROVED` status (approved, with a `start_time` still to come).

use super::answers::{
    authorised, detail, fault, invalid_request, invalid_value, missing, not_found, read_body,
    unprocessable,
};
use super::billing::{self, Transaction};
use super::pages::{Approval, ApprovalKind};
use super::webhooks::{self, EventType};
use super::{
    Money, PayPalOp, Store, api_base, catalog, link, lock, now, paypal_id, stamp, store, with_store,
};
use crate::Simulator;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State as Shared};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;

/// Where a subscription is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Status {
    ApprovalPending,
    Active,
    Suspended,
    Cancelled,
    Expired,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ApprovalPending => "APPROVAL_PENDING",
            Self::Active => "ACTIVE",
            Self::Suspended => "SUSPENDED",
            Self::Cancelled => "CANCELLED",
            Self::Expired => "EXPIRED",
        }
    }
}

pub(super) struct Subscription {
    pub id: String,
    pub plan_id: String,
    pub custom_id: Option<String>,
    pub status: Status,
    pub status_updated: DateTime<Utc>,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    /// The API's address for the links it carries (events are written without a request).
    pub api_base: String,
    /// The buyer's page for approving it.
    pub approve_url: String,
    pub brand_name: Option<String>,
    pub return_url: Option<String>,
    pub cancel_url: Option<String>,
    /// Who approved it.
    pub subscriber: Option<Subscriber>,
    /// From approval on.
    pub billing: Option<Billing>,
}

impl Subscription {
    pub fn set_status(&mut self, status: Status, at: DateTime<Utc>) {
        self.status = status;
        self.status_updated = at;
        self.updated = at;
    }
}

#[derive(Debug, Clone)]
pub(super) struct Subscriber {
    pub email: String,
    pub payer_id: String,
    pub given_name: String,
    pub surname: String,
}

pub(super) struct Billing {
    /// Owed from failed payments, in the plan's minor unit.
    pub outstanding: i64,
    pub cycles_completed: u32,
    pub last_payment: Option<(Money, DateTime<Utc>)>,
    /// The last declined payment, as `billing_info.last_failed_payment` reports it.
    pub last_failed_payment: Option<(Money, DateTime<Utc>)>,
    pub next_billing: DateTime<Utc>,
    /// Failed payments in a row.
    pub failed_payments: u32,
}

impl Store {
    /// A subscription as `GET /v1/billing/subscriptions/{id}` answers it.
    pub(super) fn resource(&self, sub: &Subscription) -> Value {
        let plan = self.plans.get(&sub.plan_id);
        let mut resource = json!({
            "id": sub.id,
            "plan_id": sub.plan_id,
            "status": sub.status.as_str(),
            "status_update_time": stamp(sub.status_updated),
            "start_time": stamp(sub.created),
            "quantity": "1",
            "plan_overridden": false,
            "create_time": stamp(sub.created),
            "update_time": stamp(sub.updated),
            "links": links(sub),
        });
        if let Some(custom_id) = &sub.custom_id {
            resource["custom_id"] = json!(custom_id);
        }
        if let Some(subscriber) = &sub.subscriber {
            resource["subscriber"] = json!({
                "email_address": subscriber.email,
                "payer_id": subscriber.payer_id,
                "name": {"given_name": subscriber.given_name, "surname": subscriber.surname},
            });
        }
        if let (Some(billing), Some(plan)) = (&sub.billing, plan) {
            let remaining = plan.total_cycles.saturating_sub(billing.cycles_completed);
            let mut info = json!({
                "outstanding_balance": plan.price.of(billing.outstanding).json(),
                "cycle_executions": [{
                    "tenure_type": "REGULAR",
                    "sequence": 1,
                    "cycles_completed": billing.cycles_completed,
                    "cycles_remaining": if plan.total_cycles == 0 { 0 } else { remaining },
                    "current_pricing_scheme_version": 1,
                    "total_cycles": plan.total_cycles,
                }],
                "failed_payments_count": billing.failed_payments,
            });
            if let Some((amount, time)) = &billing.last_payment {
                info["last_payment"] = json!({"amount": amount.json(), "time": stamp(*time)});
            }
            if let Some((amount, time)) = &billing.last_failed_payment {
                info["last_failed_payment"] = json!({
                    "amount": amount.json(),
                    "time": stamp(*time),
                    "reason_code": "PAYMENT_DENIED",
                });
            }
            if matches!(sub.status, Status::Active | Status::Suspended) {
                info["next_billing_time"] = json!(stamp(billing.next_billing));
            }
            resource["billing_info"] = info;
        }
        resource
    }
}

/// The links a subscription's status allows.
fn links(sub: &Subscription) -> Vec<Value> {
    let href = format!("{}/v1/billing/subscriptions/{}", sub.api_base, sub.id);
    let action = |name: &str| link(&format!("{href}/{name}"), name, "POST");
    let (edit, own) = (link(&href, "edit", "PATCH"), link(&href, "self", "GET"));
    match sub.status {
        Status::ApprovalPending => vec![link(&sub.approve_url, "approve", "GET"), edit, own],
        Status::Active => {
            vec![
                action("cancel"),
                edit,
                own,
                action("suspend"),
                action("capture"),
            ]
        }
        Status::Suspended => vec![
            action("cancel"),
            action("activate"),
            edit,
            own,
            action("capture"),
        ],
        Status::Cancelled | Status::Expired => vec![own],
    }
}

/// `application_context`: how the buyer's approval looks and where it sends them after.
#[derive(Deserialize, Default)]
struct Context {
    brand_name: Option<String>,
    return_url: Option<String>,
    cancel_url: Option<String>,
}

impl Context {
    /// Checks the URLs are web addresses.
    fn check(self) -> Result<Self, Response> {
        for (field, url) in [
            ("return_url", &self.return_url),
            ("cancel_url", &self.cancel_url),
        ] {
            if url
                .as_deref()
                .is_some_and(|u| !(u.starts_with("http://") || u.starts_with("https://")))
            {
                return Err(invalid_value(
                    &format!("/application_context/{field}"),
                    "The value of a field is invalid.",
                ));
            }
        }
        Ok(self)
    }
}

#[derive(Deserialize)]
struct NewSubscription {
    plan_id: Option<String>,
    custom_id: Option<String>,
    application_context: Option<Context>,
}

pub(super) async fn create(
    Shared(sim): Shared<Simulator>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(answer) = fault(&sim, PayPalOp::CreateSubscription).await {
        return answer;
    }
    if let Err(refused) = authorised(&sim, &headers) {
        return refused;
    }
    let new: NewSubscription = match read_body(&body) {
        Ok(new) => new,
        Err(refused) => return refused,
    };
    let Some(plan_id) = new.plan_id else {
        return missing("/plan_id");
    };
    let context = match new.application_context.unwrap_or_default().check() {
        Ok(context) => context,
        Err(refused) => return refused,
    };
    let ba_token = format!("BA-{}", paypal_id(17));
    let approve_url = sim.web_link(
        &headers,
        &format!("/paypal/webapps/billing/subscriptions?ba_token={ba_token}"),
    );
    let created = now();
    let sub = Subscription {
        id: format!("I-{}", paypal_id(12)),
        plan_id,
        custom_id: new.custom_id,
        status: Status::ApprovalPending,
        status_updated: created,
        created,
        updated: created,
        api_base: api_base(&headers),
        approve_url,
        brand_name: context.brand_name,
        return_url: context.return_url,
        cancel_url: context.cancel_url,
        subscriber: None,
        billing: None,
    };
    let full = catalog::full(&headers);
    let answer = with_store(&sim, |store| {
        match store.plans.get(&sub.plan_id) {
            None => return Err(not_found(Some("/plan_id"))),
            Some(plan) if plan.status != catalog::PlanStatus::Active => {
                return Err(unprocessable(
                    "PLAN_STATUS_INVALID",
                    "Invalid plan status. Subscription can not be created with plan in inactive status.",
                ));
            }
            Some(_) => {}
        }
        let answer = if full {
            store.resource(&sub)
        } else {
            json!({
                "id": sub.id,
                "status": sub.status.as_str(),
                "create_time": stamp(sub.created),
                "links": links(&sub),
            })
        };
        store.approvals.insert(
            ba_token,
            Approval::new(
                &sub.id,
                ApprovalKind::Subscription,
                sub.return_url.clone(),
                sub.cancel_url.clone(),
            ),
        );
        let id = sub.id.clone();
        store.subscriptions.push(sub);
        webhooks::queue_subscription(store, &id, EventType::SubscriptionCreated);
        Ok(answer)
    });
    match answer {
        Ok(answer) => (StatusCode::CREATED, Json(answer)).into_response(),
        Err(refused) => refused,
    }
}

pub(super) async fn get(
    Shared(sim): Shared<Simulator>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Some(answer) = fault(&sim, PayPalOp::Get).await {
        return answer;
    }
    if let Err(refused) = authorised(&sim, &headers) {
        return refused;
    }
    let store = store(&sim);
    let store = lock(&store);
    match store.subscription(&id) {
        Some(sub) => Json(store.resource(sub)).into_response(),
        None => not_found(None),
    }
}

#[derive(Deserialize)]
struct Revision {
    plan_id: Option<String>,
    application_context: Option<Context>,
}

/// A change of plan, which the buyer approves on the page before it takes effect.
pub(super) async fn revise(
    Shared(sim): Shared<Simulator>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if let Some(answer) = fault(&sim, PayPalOp::Revise).await {
        return answer;
    }
    if let Err(refused) = authorised(&sim, &headers) {
        return refused;
    }
    let revision: Revision = match read_body(&body) {
        Ok(revision) => revision,
        Err(refused) => return refused,
    };
    let Some(plan_id) = revision.plan_id else {
        return missing("/plan_id");
    };
    let context = match revision.application_context.unwrap_or_default().check() {
        Ok(context) => context,
        Err(refused) => return refused,
    };
    let ba_token = format!("BA-{}", paypal_id(17));
    let approve_url = sim.web_link(
        &headers,
        &format!("/paypal/webapps/billing/subscriptions/update?ba_token={ba_token}"),
    );
    let store = store(&sim);
    let mut store = lock(&store);
    if !store.plans.contains_key(&plan_id) {
        return not_found(Some("/plan_id"));
    }
    let Some(sub) = store.subscription(&id) else {
        return not_found(None);
    };
    if !matches!(sub.status, Status::Active | Status::Suspended) {
        return status_invalid("revise", "active or suspended");
    }
    let effective = sub.billing.as_ref().map_or_else(now, |b| b.next_billing);
    let href = format!("{}/v1/billing/subscriptions/{}", sub.api_base, sub.id);
    let approval = Approval::new(
        &sub.id,
        ApprovalKind::Revision {
            plan_id: plan_id.clone(),
        },
        context.return_url.or_else(|| sub.return_url.clone()),
        context.cancel_url.or_else(|| sub.cancel_url.clone()),
    );
    store.approvals.insert(ba_token, approval);
    Json(json!({
        "plan_id": plan_id,
        "effective_time": stamp(effective),
        "quantity": "1",
        "plan_overridden": false,
        "links": [
            link(&approve_url, "approve", "GET"),
            link(&href, "edit", "PATCH"),
            link(&href, "self", "GET"),
            link(&format!("{href}/cancel"), "cancel", "POST"),
            link(&format!("{href}/suspend"), "suspend", "POST"),
        ],
    }))
    .into_response()
}

/// 422 for an action the subscription's status does not allow.
fn status_invalid(action: &str, allowed: &str) -> Response {
    unprocessable(
        "SUBSCRIPTION_STATUS_INVALID",
        &format!(
            "Invalid subscription status for {action} action; subscription status should be {allowed}."
        ),
    )
}

/// What cancel, suspend and activate do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Cancel,
    Suspend,
    Activate,
}

#[derive(Deserialize)]
struct Reason {
    reason: Option<String>,
}

pub(super) async fn cancel(
    sim: Shared<Simulator>,
    headers: HeaderMap,
    id: Path<String>,
    body: Bytes,
) -> Response {
    change(sim, headers, id, body, Change::Cancel).await
}

pub(super) async fn suspend(
    sim: Shared<Simulator>,
    headers: HeaderMap,
    id: Path<String>,
    body: Bytes,
) -> Response {
    change(sim, headers, id, body, Change::Suspend).await
}

pub(super) async fn activate(
    sim: Shared<Simulator>,
    headers: HeaderMap,
    id: Path<String>,
    body: Bytes,
) -> Response {
    change(sim, headers, id, body, Change::Activate).await
}

async fn change(
    Shared(sim): Shared<Simulator>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
    change: Change,
) -> Response {
    let (op, action, allowed) = match change {
        Change::Cancel => (PayPalOp::Cancel, "cancel", "active or suspended"),
        Change::Suspend => (PayPalOp::Suspend, "suspend", "active"),
        Change::Activate => (PayPalOp::Activate, "activate", "suspended"),
    };
    if let Some(answer) = fault(&sim, op).await {
        return answer;
    }
    if let Err(refused) = authorised(&sim, &headers) {
        return refused;
    }
    let reason: Reason = match read_body(&body) {
        Ok(reason) => reason,
        Err(refused) => return refused,
    };
    if change != Change::Activate && reason.reason.is_none_or(|r| r.trim().is_empty()) {
        return missing("/reason");
    }
    let done = with_store(&sim, |store| {
        let Some(sub) = store.subscription_mut(&id) else {
            return Err(not_found(None));
        };
        let (from_ok, to, event) = match change {
            Change::Cancel => (
                matches!(sub.status, Status::Active | Status::Suspended),
                Status::Cancelled,
                EventType::Cancelled,
            ),
            Change::Suspend => (
                sub.status == Status::Active,
                Status::Suspended,
                EventType::Suspended,
            ),
            Change::Activate => (
                sub.status == Status::Suspended,
                Status::Active,
                EventType::Activated,
            ),
        };
        if !from_ok {
            return Err(status_invalid(action, allowed));
        }
        sub.set_status(to, now());
        webhooks::queue_subscription(store, &id, event);
        if change == Change::Activate {
            billing::collect_outstanding(store, &id, now());
        }
        Ok(())
    });
    match done {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(refused) => refused,
    }
}

/// The payments of a subscription between `start_time` and `end_time` (both required).
pub(super) async fn transactions(
    Shared(sim): Shared<Simulator>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Some(answer) = fault(&sim, PayPalOp::Transactions).await {
        return answer;
    }
    if let Err(refused) = authorised(&sim, &headers) {
        return refused;
    }
    let mut window = Vec::new();
    for name in ["start_time", "end_time"] {
        let Some(value) = query.get(name) else {
            return invalid_request(query_detail(name, "MISSING_REQUIRED_PARAMETER"));
        };
        match DateTime::parse_from_rfc3339(value) {
            Ok(time) => window.push(time.with_timezone(&Utc)),
            Err(_) => return invalid_request(query_detail(name, "INVALID_PARAMETER_SYNTAX")),
        }
    }
    let (start, end) = (window[0], window[1]);
    if end < start {
        return invalid_request(query_detail("end_time", "INVALID_PARAMETER_VALUE"));
    }
    let store = store(&sim);
    let store = lock(&store);
    let Some(sub) = store.subscription(&id) else {
        return not_found(None);
    };
    let listed: Vec<Value> = store
        .transactions
        .iter()
        .filter(|t| t.subscription_id == id && t.time >= start && t.time <= end)
        .map(Transaction::json)
        .collect();
    let href = format!(
        "{}/v1/billing/subscriptions/{}/transactions?start_time={}&end_time={}",
        sub.api_base,
        sub.id,
        stamp(start),
        stamp(end)
    );
    Json(json!({"transactions": listed, "links": [link(&href, "self", "GET")]})).into_response()
}

/// An error detail about a query parameter.
fn query_detail(name: &str, issue: &str) -> Value {
    let description = match issue {
        "MISSING_REQUIRED_PARAMETER" => "A required field / parameter is missing.",
        "INVALID_PARAMETER_SYNTAX" => {
            "The value of a field does not conform to the expected format."
        }
        _ => "The value of a field is invalid.",
    };
    let mut detail = detail(None, issue, description);
    detail["field"] = json!(name);
    detail["location"] = json!("query");
    detail
}

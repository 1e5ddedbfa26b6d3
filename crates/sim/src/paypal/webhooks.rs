//! PayPal's webhooks: registering and listing them (`/v1/notifications/webhooks`), the events
//! that changes queue for them (an envelope around the subscription or sale as it is at that
//! moment), the signing certificates (`/v1/notifications/certs/{name}`) and the online check of
//! a delivery's signature (`/v1/notifications/verify-webhook-signature`). Posting the events is
//! in `delivery.rs`.

use super::answers::{authorised, error, fault, missing, not_found, read_body};
use super::{PayPalOp, Store, api_base, ca, link, lock, now, paypal_id, stamp, store};
use crate::Simulator;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State as Shared};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

/// An event PayPal queued for the webhooks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayPalEvent {
    /// `WH-…`.
    pub id: String,
    /// `BILLING.SUBSCRIPTION.ACTIVATED`, `PAYMENT.SALE.COMPLETED`, …
    pub event_type: String,
    /// The exact JSON posted.
    pub body: String,
    /// The subscription (`I-…`) or sale the event is about.
    pub resource_id: String,
}

/// The events the simulator sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum EventType {
    SubscriptionCreated,
    Activated,
    Updated,
    Cancelled,
    Suspended,
    Expired,
    PaymentFailed,
    SaleCompleted,
}

impl EventType {
    fn name(self) -> &'static str {
        match self {
            Self::SubscriptionCreated => "BILLING.SUBSCRIPTION.CREATED",
            Self::Activated => "BILLING.SUBSCRIPTION.ACTIVATED",
            Self::Updated => "BILLING.SUBSCRIPTION.UPDATED",
            Self::Cancelled => "BILLING.SUBSCRIPTION.CANCELLED",
            Self::Suspended => "BILLING.SUBSCRIPTION.SUSPENDED",
            Self::Expired => "BILLING.SUBSCRIPTION.EXPIRED",
            Self::PaymentFailed => "BILLING.SUBSCRIPTION.PAYMENT.FAILED",
            Self::SaleCompleted => "PAYMENT.SALE.COMPLETED",
        }
    }

    /// PayPal's summary of a subscription event.
    fn summary(self) -> &'static str {
        match self {
            Self::SubscriptionCreated => "Subscription created",
            Self::Activated => "Subscription activated",
            Self::Updated => "Subscription updated",
            Self::Cancelled => "Subscription cancelled",
            Self::Suspended => "Subscription suspended",
            Self::Expired => "Subscription expired",
            Self::PaymentFailed => "Subscription payment failed",
            Self::SaleCompleted => "Payment completed",
        }
    }

    /// What the event's `resource` is.
    fn resource_type(self) -> &'static str {
        match self {
            Self::SaleCompleted => "sale",
            _ => "subscription",
        }
    }
}

/// A registered webhook.
#[derive(Debug, Clone)]
pub(super) struct Webhook {
    pub id: String,
    pub url: String,
    /// Event names, or `*` for all.
    pub event_types: Vec<String>,
    /// The API's address as the registering app called it: where its certificates are served.
    pub api_base: String,
}

impl Webhook {
    pub fn wants(&self, event_type: &str) -> bool {
        self.event_types.iter().any(|t| t == "*" || t == event_type)
    }

    fn json(&self) -> Value {
        let href = format!("{}/v1/notifications/webhooks/{}", self.api_base, self.id);
        json!({
            "id": self.id,
            "url": self.url,
            "event_types": self.event_types.iter().map(|name| json!({"name": name})).collect::<Vec<_>>(),
            "links": [
                link(&href, "self", "GET"),
                link(&href, "update", "PATCH"),
                link(&href, "delete", "DELETE"),
            ],
        })
    }
}

/// Queues an event about the subscription `id`, carrying it as it is now.
pub(super) fn queue_subscription(store: &mut Store, id: &str, kind: EventType) {
    let Some(sub) = store.subscription(id) else {
        return;
    };
    let (resource, api_base) = (store.resource(sub), sub.api_base.clone());
    queue(store, kind, resource, kind.summary().to_owned(), &api_base);
}

/// Queues `PAYMENT.SALE.COMPLETED` for a sale of the subscription `id`.
pub(super) fn queue_sale(store: &mut Store, id: &str, sale: Value) {
    let Some(api_base) = store.subscription(id).map(|s| s.api_base.clone()) else {
        return;
    };
    let amount = &sale["amount"];
    let summary = format!(
        "Payment completed for {} {}",
        amount["total"].as_str().unwrap_or_default(),
        amount["currency"].as_str().unwrap_or_default()
    );
    queue(store, EventType::SaleCompleted, sale, summary, &api_base);
}

fn queue(store: &mut Store, kind: EventType, resource: Value, summary: String, api_base: &str) {
    let id = format!("WH-{}-{}", paypal_id(17), paypal_id(17));
    let href = format!("{api_base}/v1/notifications/webhooks-events/{id}");
    let resource_id = resource["id"].as_str().unwrap_or_default().to_owned();
    let mut envelope = json!({
        "id": id,
        "event_version": "1.0",
        "create_time": stamp(now()),
        "resource_type": kind.resource_type(),
        "event_type": kind.name(),
        "summary": summary,
        "resource": resource,
        "links": [
            link(&href, "self", "GET"),
            link(&format!("{href}/resend"), "resend", "POST"),
        ],
    });
    // Subscriptions are of the v1 billing API's second resource version; sales carry none.
    if kind != EventType::SaleCompleted {
        envelope["resource_version"] = json!("2.0");
    }
    store.events.push_back(PayPalEvent {
        id,
        event_type: kind.name().to_owned(),
        body: envelope.to_string(),
        resource_id,
    });
}

#[derive(Deserialize)]
struct NewWebhook {
    url: Option<String>,
    event_types: Option<Vec<EventName>>,
}

#[derive(Deserialize)]
struct EventName {
    name: Option<String>,
}

pub(super) async fn register(
    Shared(sim): Shared<Simulator>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(answer) = fault(&sim, PayPalOp::Webhooks).await {
        return answer;
    }
    if let Err(refused) = authorised(&sim, &headers) {
        return refused;
    }
    let new: NewWebhook = match read_body(&body) {
        Ok(new) => new,
        Err(refused) => return refused,
    };
    let Some(url) = new
        .url
        .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
    else {
        return missing("/url");
    };
    let event_types: Vec<String> = new
        .event_types
        .unwrap_or_default()
        .into_iter()
        .filter_map(|e| e.name)
        .collect();
    if event_types.is_empty() {
        return missing("/event_types");
    }
    let webhook = Webhook {
        id: paypal_id(17),
        url,
        event_types,
        api_base: api_base(&headers),
    };
    let store = store(&sim);
    let mut store = lock(&store);
    if store.webhooks.iter().any(|w| w.url == webhook.url) {
        return error(
            StatusCode::BAD_REQUEST,
            "WEBHOOK_URL_ALREADY_EXISTS",
            "Webhook URL already exists",
            vec![],
        );
    }
    let answer = webhook.json();
    store.webhooks.push(webhook);
    (StatusCode::CREATED, Json(answer)).into_response()
}

pub(super) async fn list(Shared(sim): Shared<Simulator>, headers: HeaderMap) -> Response {
    if let Some(answer) = fault(&sim, PayPalOp::Webhooks).await {
        return answer;
    }
    if let Err(refused) = authorised(&sim, &headers) {
        return refused;
    }
    let store = store(&sim);
    let webhooks: Vec<Value> = lock(&store).webhooks.iter().map(Webhook::json).collect();
    Json(json!({"webhooks": webhooks})).into_response()
}

/// `GET /v1/notifications/certs/{name}`: the signing certificate then the intermediate's (or the
/// forger's pair at `CERT-rogue`), as PEM. No token is needed, as at PayPal.
pub(super) async fn certificate(
    Shared(sim): Shared<Simulator>,
    Path(name): Path<String>,
) -> Response {
    if let Some(answer) = fault(&sim, PayPalOp::Certificate).await {
        return answer;
    }
    let authority = match ca::authority(&sim) {
        Ok(authority) => authority,
        Err(err) => {
            tracing::error!(error = ?err, "the PayPal simulator could not make its certificates");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let pem = if name == authority.cert_name {
        authority.chain_pem.clone()
    } else if name == ca::ROGUE {
        authority.rogue_chain_pem.clone()
    } else {
        return not_found(None);
    };
    ([(header::CONTENT_TYPE, "application/x-pem-file")], pem).into_response()
}

#[derive(Deserialize)]
struct Verification {
    auth_algo: Option<String>,
    cert_url: Option<String>,
    transmission_id: Option<String>,
    transmission_sig: Option<String>,
    transmission_time: Option<String>,
    webhook_id: Option<String>,
    webhook_event: Option<Value>,
}

/// A verification request with every field there.
struct Complete {
    auth_algo: String,
    cert_url: String,
    transmission_id: String,
    transmission_sig: String,
    transmission_time: String,
    webhook_id: String,
    webhook_event: Value,
}

impl Verification {
    fn complete(self) -> Result<Complete, Response> {
        Ok(Complete {
            auth_algo: self.auth_algo.ok_or_else(|| missing("/auth_algo"))?,
            cert_url: self.cert_url.ok_or_else(|| missing("/cert_url"))?,
            transmission_id: self
                .transmission_id
                .ok_or_else(|| missing("/transmission_id"))?,
            transmission_sig: self
                .transmission_sig
                .ok_or_else(|| missing("/transmission_sig"))?,
            transmission_time: self
                .transmission_time
                .ok_or_else(|| missing("/transmission_time"))?,
            webhook_id: self.webhook_id.ok_or_else(|| missing("/webhook_id"))?,
            webhook_event: self
                .webhook_event
                .ok_or_else(|| missing("/webhook_event"))?,
        })
    }
}

/// The online check: `SUCCESS` only for a signature by the genuine signing certificate (named
/// by `cert_url`) over the message made of these fields and the CRC32 of the event as it was
/// posted under that transmission id (or, for an id the simulator never used, as `webhook_event`
/// serialises).
pub(super) async fn verify(
    Shared(sim): Shared<Simulator>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    use base64::Engine;
    if let Some(answer) = fault(&sim, PayPalOp::Verify).await {
        return answer;
    }
    if let Err(refused) = authorised(&sim, &headers) {
        return refused;
    }
    let request: Verification = match read_body(&body) {
        Ok(request) => request,
        Err(refused) => return refused,
    };
    let request = match request.complete() {
        Ok(request) => request,
        Err(refused) => return refused,
    };
    let authority = match ca::authority(&sim) {
        Ok(authority) => authority,
        Err(err) => {
            tracing::error!(error = ?err, "the PayPal simulator could not make its certificates");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let sent = lock(&store(&sim))
        .transmitted
        .get(&request.transmission_id)
        .cloned();
    let event = &request.webhook_event;
    let body = sent
        .filter(|bytes| serde_json::from_slice::<Value>(bytes).is_ok_and(|v| v == *event))
        .unwrap_or_else(|| serde_json::to_vec(event).unwrap_or_default());
    let message = format!(
        "{}|{}|{}|{}",
        request.transmission_id,
        request.transmission_time,
        request.webhook_id,
        crc32fast::hash(&body)
    );
    // RSA PKCS#1 v1.5 signatures are deterministic: the genuine one is made again and compared.
    let genuine = authority.sign(message.as_bytes()).ok();
    let given = base64::engine::general_purpose::STANDARD
        .decode(&request.transmission_sig)
        .ok();
    let certificate = format!("/v1/notifications/certs/{}", authority.cert_name);
    let success = request.auth_algo == "SHA256withRSA"
        && request.cert_url.ends_with(&certificate)
        && genuine.is_some()
        && genuine == given;
    Json(json!({"verification_status": if success { "SUCCESS" } else { "FAILURE" }}))
        .into_response()
}

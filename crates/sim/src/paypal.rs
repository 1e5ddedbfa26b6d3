//! PayPal's REST API for subscriptions, under `/paypal`: the API host `api-m.paypal.com`
//! (`/paypal/v1/…`) and the buyer's approval page on `www.paypal.com`
//! (`/paypal/webapps/billing/subscriptions`). It runs OAuth client credentials, catalog
//! products, billing plans, subscriptions with their approval, revision, cancelling, suspending
//! and activating, the payments of each billing cycle, webhooks signed the way PayPal signs them
//! (by a certificate under a test certificate authority of its own) and the online
//! verification of those signatures, in PayPal's request and answer shapes. Every POST that
//! carries a `PayPal-Request-Id` is answered once and replayed after that.
//!
//! Nothing happens by the clock. A test drives the billing and the webhooks: approving on the
//! page charges the first cycle, [`Simulator::paypal_renew`] runs the next one (failing when
//! [`Simulator::paypal_fail_payments`] says so), and events wait in a queue until
//! [`Simulator::paypal_deliver`] or [`Simulator::paypal_send`] posts them (or, for
//! `serve --sandbox`, [`Simulator::paypal_auto_deliver`] posts each as it is queued).
//!
//! This file holds the routes, the test controls and the records PayPal keeps. Its error shapes
//! and the bearer check are in `paypal/answers.rs`, the token endpoint and the replay of
//! requests in `paypal/auth.rs`, products and plans in `paypal/catalog.rs`, the subscription
//! endpoints in `paypal/subscriptions.rs`, charging and renewing in `paypal/billing.rs`, the
//! approval page in `paypal/pages.rs`, webhooks, their events and the check of signatures in
//! `paypal/webhooks.rs`, posting the events in `paypal/delivery.rs` and the certificate
//! authorities in `paypal/ca.rs`.

mod answers;
mod auth;
mod billing;
mod ca;
mod catalog;
mod delivery;
mod pages;
mod subscriptions;
mod webhooks;

pub use delivery::{Delivery, Transmission};
pub use webhooks::PayPalEvent;

use crate::{Fault, Simulator};
use axum::Router;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use rand::Rng;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

/// The secret every simulated PayPal app has; any non-empty client id goes with it.
pub const PAYPAL_SECRET: &str = crate::oauth::CLIENT_SECRET;

/// The sandbox buyer who approves on the page, unless a test names another.
const BUYER_EMAIL: &str = "buyer@example.com";

/// The PayPal calls a fault can be injected into (see [`Simulator::paypal_fail_next`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PayPalOp {
    /// `POST /v1/oauth2/token`.
    Token,
    /// `POST /v1/catalogs/products`.
    CreateProduct,
    /// `POST /v1/billing/plans`.
    CreatePlan,
    /// `GET /v1/billing/plans/{id}`.
    GetPlan,
    /// `POST /v1/billing/subscriptions`.
    CreateSubscription,
    /// `GET /v1/billing/subscriptions/{id}`.
    Get,
    Revise,
    Cancel,
    Suspend,
    Activate,
    /// `GET /v1/billing/subscriptions/{id}/transactions`.
    Transactions,
    /// Registering and listing webhooks.
    Webhooks,
    /// `POST /v1/notifications/verify-webhook-signature`.
    Verify,
    /// `GET /v1/notifications/certs/{id}`.
    Certificate,
}

pub fn router(sim: Simulator) -> Router {
    let subscription = "/v1/billing/subscriptions/{id}";
    Router::new()
        .route("/v1/oauth2/token", post(auth::token))
        .route("/v1/catalogs/products", post(catalog::create_product))
        .route("/v1/billing/plans", post(catalog::create_plan))
        .route("/v1/billing/plans/{id}", get(catalog::get_plan))
        .route("/v1/billing/subscriptions", post(subscriptions::create))
        .route(subscription, get(subscriptions::get))
        .route(
            &format!("{subscription}/revise"),
            post(subscriptions::revise),
        )
        .route(
            &format!("{subscription}/cancel"),
            post(subscriptions::cancel),
        )
        .route(
            &format!("{subscription}/suspend"),
            post(subscriptions::suspend),
        )
        .route(
            &format!("{subscription}/activate"),
            post(subscriptions::activate),
        )
        .route(
            &format!("{subscription}/transactions"),
            get(subscriptions::transactions),
        )
        .route(
            "/v1/notifications/webhooks",
            post(webhooks::register).get(webhooks::list),
        )
        .route(
            "/v1/notifications/verify-webhook-signature",
            post(webhooks::verify),
        )
        .route("/v1/notifications/certs/{name}", get(webhooks::certificate))
        // The buyer's pages: a new subscription, and a change of plan.
        .route(
            "/webapps/billing/subscriptions",
            get(pages::show).post(pages::decide),
        )
        .route(
            "/webapps/billing/subscriptions/update",
            get(pages::show).post(pages::decide),
        )
        .layer(axum::middleware::from_fn_with_state(
            sim.clone(),
            auth::replay,
        ))
        .with_state(sim)
}

// ---------------------------------------------------------------------------------------------
// Test controls.

impl Simulator {
    /// The events queued and not yet delivered, oldest first.
    pub fn paypal_events(&self) -> Vec<PayPalEvent> {
        lock(&store(self)).events.iter().cloned().collect()
    }

    /// Empties the queue without sending anything: the events, oldest first, for a test to
    /// send with [`Simulator::paypal_send`] in any order, or twice.
    pub fn paypal_take_events(&self) -> Vec<PayPalEvent> {
        lock(&store(self)).events.drain(..).collect()
    }

    /// Posts every queued event, oldest first, to every webhook registered for its type, each
    /// answer awaited before the next post; the events leave the queue (whatever the answers).
    pub async fn paypal_deliver(&self) -> Vec<Delivery> {
        delivery::deliver_queued(self).await
    }

    /// Posts `event` once, to the first webhook registered for its type, signed as `how` says.
    /// With no such webhook, the delivery has an empty `url` and status 0.
    pub async fn paypal_send(&self, event: &PayPalEvent, how: Transmission) -> Delivery {
        delivery::send(self, event, how).await
    }

    /// Whether each event is posted as soon as it is queued, in a task of its own (for
    /// `serve --sandbox`, where no test drives the deliveries). Off at first.
    pub fn paypal_auto_deliver(&self, on: bool) {
        lock(&store(self)).auto_deliver = on;
        delivery::deliver_in_background(self);
    }

    /// Runs the next billing cycle of an active subscription now: a completed sale, or, while
    /// its payments fail, a declined one that counts towards the plan's failure threshold (and
    /// suspends the subscription when it reaches it). An error says why not when the
    /// subscription is unknown or not active.
    pub fn paypal_renew(&self, subscription_id: &str) -> Result<(), String> {
        with_store(self, |s| billing::renew(s, subscription_id, now()))
    }

    /// Makes the payments of a subscription fail (or succeed again) from now on.
    pub fn paypal_fail_payments(&self, subscription_id: &str, fail: bool) {
        let store = store(self);
        let mut store = lock(&store);
        if fail {
            store.failing.insert(subscription_id.to_owned());
        } else {
            store.failing.remove(subscription_id);
        }
    }

    /// Answers the next `op` call with `fault`: `ServerError` is PayPal's 500
    /// `INTERNAL_SERVER_ERROR`, `Slow` waits and then answers 503, `ExpiredToken` and
    /// `RevokedToken` a 401 `invalid_token`, `RateLimited` a 429 `RATE_LIMIT_REACHED`.
    pub fn paypal_fail_next(&self, op: PayPalOp, fault: Fault) {
        lock(&store(self)).faults.push_back((op, fault));
    }

    /// The subscription as `GET /v1/billing/subscriptions/{id}` answers it.
    pub fn paypal_subscription(&self, id: &str) -> Option<Value> {
        let store = store(self);
        let store = lock(&store);
        store.subscription(id).map(|s| store.resource(s))
    }

    /// Every subscription created, oldest first, as `GET` answers each (a double click that
    /// created two shows as two).
    pub fn paypal_subscriptions(&self) -> Vec<Value> {
        let store = store(self);
        let store = lock(&store);
        store
            .subscriptions
            .iter()
            .map(|s| store.resource(s))
            .collect()
    }

    /// How many calls reached the PayPal API at a path starting with `path_prefix` (PayPal's
    /// path, without `/paypal`: `/v1/billing/subscriptions`), replays included.
    pub fn paypal_calls(&self, path_prefix: &str) -> usize {
        let store = store(self);
        let store = lock(&store);
        store
            .calls
            .iter()
            .filter(|path| path.starts_with(path_prefix))
            .count()
    }

    /// The sandbox buyer who approves subscriptions on the page from now on.
    pub fn paypal_set_buyer(&self, email: &str, given_name: &str, surname: &str) {
        lock(&store(self)).buyer = Buyer {
            email: email.to_owned(),
            given_name: given_name.to_owned(),
            surname: surname.to_owned(),
        };
    }

    /// Makes every PayPal access token issued so far expire now.
    pub fn paypal_expire_tokens(&self) {
        let now = Utc::now();
        for token in lock(&store(self)).tokens.values_mut() {
            token.expires_at = now;
        }
    }

    /// The certificate (PEM) of the root authority the webhook signatures chain to: what the
    /// product trusts in place of PayPal's real roots. Made on first use, with its keys.
    pub fn paypal_root_pem(&self) -> anyhow::Result<String> {
        Ok(ca::authority(self)?.root_pem.clone())
    }
}

// ---------------------------------------------------------------------------------------------
// PayPal's records, kept beside the shared state (one store per simulator).

#[derive(Default)]
struct Store {
    /// Access tokens by value.
    tokens: HashMap<String, Token>,
    products: HashMap<String, Product>,
    plans: HashMap<String, catalog::Plan>,
    /// Oldest first.
    subscriptions: Vec<subscriptions::Subscription>,
    /// Approvals waiting for the buyer, by `ba_token`.
    approvals: HashMap<String, pages::Approval>,
    /// Payments, oldest first.
    transactions: Vec<billing::Transaction>,
    webhooks: Vec<webhooks::Webhook>,
    /// Events not yet delivered, oldest first.
    events: VecDeque<PayPalEvent>,
    /// The bytes posted under each transmission id, for the online verification.
    transmitted: HashMap<String, Vec<u8>>,
    /// Answers kept by (client id, `PayPal-Request-Id`).
    replays: HashMap<(String, String), auth::Replay>,
    faults: VecDeque<(PayPalOp, Fault)>,
    /// Subscriptions whose payments fail.
    failing: HashSet<String>,
    buyer: Buyer,
    auto_deliver: bool,
    /// The path of every call, oldest first.
    calls: Vec<String>,
    /// Held while events are being delivered, so that they go out in order.
    delivering: Arc<tokio::sync::Mutex<()>>,
}

struct Token {
    client_id: String,
    expires_at: DateTime<Utc>,
}

struct Product {
    id: String,
    name: String,
    description: Option<String>,
    kind: String,
    category: Option<String>,
    created: DateTime<Utc>,
}

/// Who approves on the page.
#[derive(Debug, Clone)]
struct Buyer {
    email: String,
    given_name: String,
    surname: String,
}

impl Default for Buyer {
    fn default() -> Self {
        Self {
            email: BUYER_EMAIL.to_owned(),
            given_name: "Sandbox".to_owned(),
            surname: "Buyer".to_owned(),
        }
    }
}

impl Store {
    fn subscription(&self, id: &str) -> Option<&subscriptions::Subscription> {
        self.subscriptions.iter().find(|s| s.id == id)
    }

    fn subscription_mut(&mut self, id: &str) -> Option<&mut subscriptions::Subscription> {
        self.subscriptions.iter_mut().find(|s| s.id == id)
    }

    /// The client id behind a bearer token, if the token is valid.
    fn client_of_token(&self, token: &str) -> Option<&str> {
        self.tokens
            .get(token)
            .filter(|t| t.expires_at > Utc::now())
            .map(|t| t.client_id.as_str())
    }

    fn take_fault(&mut self, op: PayPalOp) -> Option<Fault> {
        let at = self.faults.iter().position(|(o, _)| *o == op)?;
        self.faults.remove(at).map(|(_, fault)| fault)
    }
}

/// An amount in a currency's minor unit (two decimals; the simulator knows no others).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Money {
    cents: i64,
    currency: String,
}

impl Money {
    /// Reads PayPal's `{value: "29.00", currency_code: "USD"}` parts.
    fn parse(value: &str, currency: &str) -> Option<Self> {
        let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
        let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if whole.is_empty() || fraction.len() > 2 || !digits(whole) || !digits(fraction) {
            return None;
        }
        let cents = whole
            .parse::<i64>()
            .ok()?
            .checked_mul(100)?
            .checked_add(format!("{fraction:0<2}").parse::<i64>().ok()?)?;
        let currency_ok = currency.len() == 3 && currency.chars().all(|c| c.is_ascii_uppercase());
        currency_ok.then(|| Self {
            cents,
            currency: currency.to_owned(),
        })
    }

    fn of(&self, cents: i64) -> Self {
        Self {
            cents,
            currency: self.currency.clone(),
        }
    }

    /// `"29.00"`.
    fn value(&self) -> String {
        format!("{}.{:02}", self.cents / 100, self.cents % 100)
    }

    /// `{currency_code, value}`, as the v1 billing and v2 APIs write money.
    fn json(&self) -> Value {
        json!({"currency_code": self.currency, "value": self.value()})
    }
}

/// This simulator's store of PayPal (made on first use; dropped with the simulator).
fn store(sim: &Simulator) -> Arc<Mutex<Store>> {
    sim.extension::<Store>()
}

fn lock(store: &Arc<Mutex<Store>>) -> MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs `change` on the store and then, when events are delivered as they come, starts
/// delivering the ones it queued.
fn with_store<R>(sim: &Simulator, change: impl FnOnce(&mut Store) -> R) -> R {
    let result = change(&mut lock(&store(sim)));
    delivery::deliver_in_background(sim);
    result
}

/// Now, to the second (PayPal's times carry no fractions).
fn now() -> DateTime<Utc> {
    use chrono::SubsecRound;
    Utc::now().trunc_subsecs(0)
}

/// A time as PayPal writes it: `2026-03-01T09:30:00Z`.
fn stamp(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `len` random characters of PayPal's ids (digits and capitals).
fn paypal_id(len: usize) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// `len` random lowercase hex digits.
fn hex_id(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(b"0123456789abcdef"[rng.random_range(0..16)]))
        .collect()
}

/// The API's address for links, from the host the call came to: `http://127.0.0.1:4010/paypal`.
fn api_base(headers: &axum::http::HeaderMap) -> String {
    format!("http://{}/paypal", crate::host(headers, "localhost"))
}

/// A HATEOAS link.
fn link(href: &str, rel: &str, method: &str) -> Value {
    json!({"href": href, "rel": rel, "method": method})
}

#[cfg(test)]
mod tests {
    use super::Money;

    #[test]
    fn money_reads_and_writes_two_decimals() {
        let price = Money::parse("29.5", "USD").unwrap();
        assert_eq!(price.cents, 2950);
        assert_eq!(price.value(), "29.50");
        assert_eq!(Money::parse("7", "EUR").unwrap().value(), "7.00");
        assert_eq!(Money::parse("0.05", "USD").unwrap().value(), "0.05");
        for bad in ["", "-1.00", "1.234", "1,00", ".50", "abc"] {
            assert!(Money::parse(bad, "USD").is_none(), "{bad}");
        }
        assert!(Money::parse("1.00", "usd").is_none());
    }
}

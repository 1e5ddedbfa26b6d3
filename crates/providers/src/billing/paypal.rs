//! PayPal's REST API for subscriptions: the client-credentials token, the catalog product and
//! plans the operator's `admin billing sync` creates, subscriptions (create, read, revise,
//! cancel, suspend, activate), their transactions, webhook registration, and the online check of
//! a webhook's signature. Shapes are PayPal's v1 API as `API_FACTS.md` records them.
//!
//! Every call that creates something sends a `PayPal-Request-Id`, so that a repeat (a double
//! click, a retry after a lost answer) is answered with what the first one made instead of
//! making a second. The access token is kept until shortly before it expires and fetched again
//! once when PayPal says it is no longer valid.

use super::{BillingError, Interval, Money};
use chrono::{DateTime, Utc};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Where PayPal's API is.
pub const LIVE_API: &str = "https://api-m.paypal.com";
pub const SANDBOX_API: &str = "https://api-m.sandbox.paypal.com";

/// A token is fetched again this long before PayPal says it expires.
const TOKEN_MARGIN: Duration = Duration::from_secs(120);

#[derive(Debug, Clone)]
pub struct PayPalConfig {
    /// `https://api-m.paypal.com`, the sandbox's, or the simulator's `/paypal`.
    pub api_base: String,
    pub client_id: String,
    pub client_secret: SecretString,
}

/// PayPal's REST API, with the app's credentials.
pub struct PayPal {
    http: reqwest::Client,
    config: PayPalConfig,
    token: Mutex<Option<(SecretString, Instant)>>,
}

/// A plan to create at PayPal: a fixed price per interval, billed until cancelled.
#[derive(Debug, Clone)]
pub struct NewPlan<'a> {
    pub product_id: &'a str,
    pub name: &'a str,
    pub interval: Interval,
    pub price: &'a Money,
    /// Failed payments in a row before PayPal suspends the subscription.
    pub failure_threshold: u32,
}

/// A subscription to create for a person to approve at PayPal.
#[derive(Debug, Clone)]
pub struct NewSubscription<'a> {
    pub plan_id: &'a str,
    /// Ours, echoed back in PayPal's answers and webhooks (the subscription's row).
    pub custom_id: &'a str,
    pub brand_name: &'a str,
    pub return_url: &'a str,
    pub cancel_url: &'a str,
    /// The same id makes the same subscription (a double click creates one).
    pub request_id: &'a str,
}

/// A subscription PayPal created, and where the person approves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    pub id: String,
    pub approve_url: String,
}

/// A subscription's status at PayPal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    ApprovalPending,
    Approved,
    Active,
    Suspended,
    Cancelled,
    Expired,
    /// A status PayPal added after this was written.
    Other(String),
}

impl Status {
    pub fn parse(raw: &str) -> Status {
        match raw {
            "APPROVAL_PENDING" => Status::ApprovalPending,
            "APPROVED" => Status::Approved,
            "ACTIVE" => Status::Active,
            "SUSPENDED" => Status::Suspended,
            "CANCELLED" => Status::Cancelled,
            "EXPIRED" => Status::Expired,
            other => Status::Other(other.to_owned()),
        }
    }
}

/// A subscription as PayPal reports it (in a read, and as a webhook's resource).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub id: String,
    pub status: Status,
    pub plan_id: String,
    pub custom_id: Option<String>,
    /// When the next payment is due: the end of the period paid for.
    pub next_billing_time: Option<DateTime<Utc>>,
    pub failed_payments_count: u32,
    pub last_payment: Option<(Money, DateTime<Utc>)>,
    /// When the last payment was declined (`billing_info.last_failed_payment.time`).
    pub last_failed_payment: Option<DateTime<Utc>>,
    /// When PayPal last changed it (orders webhooks that arrive out of order).
    pub update_time: Option<DateTime<Utc>>,
}

impl Subscription {
    /// Reads PayPal's subscription resource.
    pub fn from_resource(resource: &Value) -> Result<Subscription, BillingError> {
        let text = |v: &Value| v.as_str().map(str::to_owned);
        let time = |v: &Value| {
            v.as_str()
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .map(|t| t.with_timezone(&Utc))
        };
        let id = text(&resource["id"])
            .ok_or_else(|| BillingError::Unreadable("a subscription without an id".into()))?;
        let status = text(&resource["status"])
            .ok_or_else(|| BillingError::Unreadable(format!("subscription {id} has no status")))?;
        let billing = &resource["billing_info"];
        let last_payment =
            money(&billing["last_payment"]["amount"]).zip(time(&billing["last_payment"]["time"]));
        Ok(Subscription {
            status: Status::parse(&status),
            plan_id: text(&resource["plan_id"]).unwrap_or_default(),
            custom_id: text(&resource["custom_id"]),
            next_billing_time: time(&billing["next_billing_time"]),
            failed_payments_count: billing["failed_payments_count"]
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(0),
            last_payment,
            last_failed_payment: time(&billing["last_failed_payment"]["time"]),
            update_time: time(&resource["update_time"])
                .or_else(|| time(&resource["status_update_time"])),
            id,
        })
    }
}

/// `{value, currency_code}` → money.
fn money(v: &Value) -> Option<Money> {
    Money::parse(v["value"].as_str()?, v["currency_code"].as_str()?)
}

/// A payment (or a declined attempt) on a subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    pub id: String,
    /// `COMPLETED`, `DECLINED`, `REFUNDED`, …
    pub status: String,
    pub gross: Money,
    pub time: DateTime<Utc>,
}

impl PayPal {
    pub fn new(config: PayPalConfig) -> Self {
        Self::with_http_client(config, crate::social::http_client())
    }

    /// With a client of the caller's (tests use short timeouts).
    pub fn with_http_client(mut config: PayPalConfig, http: reqwest::Client) -> Self {
        config.api_base = config.api_base.trim_end_matches('/').to_owned();
        Self {
            http,
            config,
            token: Mutex::new(None),
        }
    }

    pub fn api_base(&self) -> &str {
        &self.config.api_base
    }

    /// An access token: the kept one while it lives, else a new one.
    async fn token(&self) -> Result<SecretString, BillingError> {
        if let Some((token, until)) = self.kept_token()
            && Instant::now() < until
        {
            return Ok(token);
        }
        let answer = self
            .http
            .post(format!("{}/v1/oauth2/token", self.config.api_base))
            .basic_auth(
                &self.config.client_id,
                Some(self.config.client_secret.expose_secret()),
            )
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .map_err(unreachable)?;
        let status = answer.status();
        let body: Value = answer.json().await.unwrap_or(Value::Null);
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(BillingError::Credentials(
                body["error_description"]
                    .as_str()
                    .unwrap_or("the client id or secret is wrong")
                    .to_owned(),
            ));
        }
        if !status.is_success() {
            return Err(refusal(status, &body));
        }
        let token = body["access_token"]
            .as_str()
            .ok_or_else(|| BillingError::Unreadable("a token answer without a token".into()))?;
        let lives = Duration::from_secs(body["expires_in"].as_u64().unwrap_or(0));
        let token = SecretString::from(token.to_owned());
        let until = Instant::now() + lives.saturating_sub(TOKEN_MARGIN);
        *self.token.lock().unwrap_or_else(|p| p.into_inner()) = Some((token.clone(), until));
        Ok(token)
    }

    fn kept_token(&self) -> Option<(SecretString, Instant)> {
        self.token.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn forget_token(&self) {
        *self.token.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// One call with the bearer token (fetched again once when PayPal says it is invalid);
    /// answers the body (`Null` for a 204).
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        request_id: Option<&str>,
    ) -> Result<Value, BillingError> {
        self.send(method, path, body.map(Value::to_string), request_id)
            .await
    }

    /// [`PayPal::call`] with a JSON body written by the caller.
    async fn call_raw(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
    ) -> Result<Value, BillingError> {
        self.send(method, path, body, None).await
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
        request_id: Option<&str>,
    ) -> Result<Value, BillingError> {
        for attempt in 0..2 {
            let token = self.token().await?;
            let mut request = self
                .http
                .request(method.clone(), format!("{}{path}", self.config.api_base))
                .bearer_auth(token.expose_secret())
                .header(reqwest::header::ACCEPT, "application/json");
            if let Some(id) = request_id {
                request = request.header("PayPal-Request-Id", id);
            }
            if let Some(body) = &body {
                request = request
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.clone());
            }
            let answer = request.send().await.map_err(unreachable)?;
            let status = answer.status();
            let text = answer.text().await.map_err(unreachable)?;
            let value: Value = if text.trim().is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).unwrap_or(Value::Null)
            };
            if status == StatusCode::UNAUTHORIZED && attempt == 0 {
                self.forget_token();
                continue;
            }
            if status == StatusCode::UNAUTHORIZED {
                return Err(BillingError::Credentials(
                    "PayPal does not accept this instance's token".into(),
                ));
            }
            if !status.is_success() {
                return Err(refusal(status, &value));
            }
            return Ok(value);
        }
        Err(BillingError::Credentials(
            "PayPal does not accept this instance's token".into(),
        ))
    }

    /// Creates the catalog product the plans belong to; answers its `PROD-…` id.
    pub async fn create_product(
        &self,
        name: &str,
        description: &str,
        request_id: &str,
    ) -> Result<String, BillingError> {
        let body = json!({"name": name, "description": description, "type": "SERVICE"});
        let answer = self
            .call(
                Method::POST,
                "/v1/catalogs/products",
                Some(&body),
                Some(request_id),
            )
            .await?;
        id_of(&answer, "product")
    }

    /// Creates an active plan billed every interval until cancelled; answers its `P-…` id.
    pub async fn create_plan(
        &self,
        plan: &NewPlan<'_>,
        request_id: &str,
    ) -> Result<String, BillingError> {
        let body = json!({
            "product_id": plan.product_id,
            "name": plan.name,
            "status": "ACTIVE",
            "billing_cycles": [{
                "frequency": {"interval_unit": plan.interval.unit(), "interval_count": 1},
                "tenure_type": "REGULAR",
                "sequence": 1,
                "total_cycles": 0,
                "pricing_scheme": {"fixed_price": {
                    "value": Money::decimal(plan.price.cents),
                    "currency_code": plan.price.currency,
                }},
            }],
            "payment_preferences": {
                "auto_bill_outstanding": true,
                "payment_failure_threshold": plan.failure_threshold,
            },
        });
        let answer = self
            .call(
                Method::POST,
                "/v1/billing/plans",
                Some(&body),
                Some(request_id),
            )
            .await?;
        id_of(&answer, "plan")
    }

    /// Creates a subscription waiting for the person's approval at PayPal.
    pub async fn create_subscription(
        &self,
        new: &NewSubscription<'_>,
    ) -> Result<Created, BillingError> {
        let body = json!({
            "plan_id": new.plan_id,
            "custom_id": new.custom_id,
            "application_context": {
                "brand_name": new.brand_name,
                "user_action": "SUBSCRIBE_NOW",
                "shipping_preference": "NO_SHIPPING",
                "return_url": new.return_url,
                "cancel_url": new.cancel_url,
            },
        });
        let answer = self
            .call(
                Method::POST,
                "/v1/billing/subscriptions",
                Some(&body),
                Some(new.request_id),
            )
            .await?;
        Ok(Created {
            id: id_of(&answer, "subscription")?,
            approve_url: approve_link(&answer)?,
        })
    }

    /// The subscription as PayPal has it now.
    pub async fn subscription(&self, id: &str) -> Result<Subscription, BillingError> {
        let answer = self
            .call(
                Method::GET,
                &format!("/v1/billing/subscriptions/{}", segment(id)),
                None,
                None,
            )
            .await?;
        Subscription::from_resource(&answer)
    }

    /// Moves a subscription to another plan; answers where the person approves the change.
    pub async fn revise(
        &self,
        id: &str,
        plan_id: &str,
        return_url: &str,
        cancel_url: &str,
    ) -> Result<String, BillingError> {
        let body = json!({
            "plan_id": plan_id,
            "application_context": {
                "user_action": "CONTINUE",
                "shipping_preference": "NO_SHIPPING",
                "return_url": return_url,
                "cancel_url": cancel_url,
            },
        });
        let answer = self
            .call(
                Method::POST,
                &format!("/v1/billing/subscriptions/{}/revise", segment(id)),
                Some(&body),
                None,
            )
            .await?;
        approve_link(&answer)
    }

    /// Cancels, suspends or activates a subscription (`action` is the path's last segment).
    async fn change(&self, id: &str, action: &str, reason: &str) -> Result<(), BillingError> {
        self.call(
            Method::POST,
            &format!("/v1/billing/subscriptions/{}/{action}", segment(id)),
            Some(&json!({"reason": reason})),
            None,
        )
        .await
        .map(drop)
    }

    pub async fn cancel(&self, id: &str, reason: &str) -> Result<(), BillingError> {
        self.change(id, "cancel", reason).await
    }

    pub async fn suspend(&self, id: &str, reason: &str) -> Result<(), BillingError> {
        self.change(id, "suspend", reason).await
    }

    pub async fn activate(&self, id: &str, reason: &str) -> Result<(), BillingError> {
        self.change(id, "activate", reason).await
    }

    /// The payments on a subscription between two instants.
    pub async fn transactions(
        &self,
        id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Transaction>, BillingError> {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("start_time", &rfc3339(from))
            .append_pair("end_time", &rfc3339(to))
            .finish();
        let answer = self
            .call(
                Method::GET,
                &format!(
                    "/v1/billing/subscriptions/{}/transactions?{query}",
                    segment(id)
                ),
                None,
                None,
            )
            .await?;
        let list = answer["transactions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        list.iter()
            .map(|t| {
                let id = t["id"].as_str().unwrap_or_default().to_owned();
                let gross =
                    money(&t["amount_with_breakdown"]["gross_amount"]).ok_or_else(|| {
                        BillingError::Unreadable(format!("transaction {id} has no amount"))
                    })?;
                let time = t["time"]
                    .as_str()
                    .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                    .map(|t| t.with_timezone(&Utc))
                    .ok_or_else(|| {
                        BillingError::Unreadable(format!("transaction {id} has no time"))
                    })?;
                Ok(Transaction {
                    status: t["status"].as_str().unwrap_or_default().to_owned(),
                    gross,
                    time,
                    id,
                })
            })
            .collect()
    }

    /// Registers `url` for `events` (`*` for all); answers the webhook's `WH-…` id, which the
    /// signatures are made over.
    pub async fn register_webhook(
        &self,
        url: &str,
        events: &[&str],
    ) -> Result<String, BillingError> {
        let types: Vec<Value> = events.iter().map(|name| json!({"name": name})).collect();
        let body = json!({"url": url, "event_types": types});
        let answer = self
            .call(
                Method::POST,
                "/v1/notifications/webhooks",
                Some(&body),
                None,
            )
            .await?;
        id_of(&answer, "webhook")
    }

    /// The webhooks registered for this app: `(id, url)`.
    pub async fn webhooks(&self) -> Result<Vec<(String, String)>, BillingError> {
        let answer = self
            .call(Method::GET, "/v1/notifications/webhooks", None, None)
            .await?;
        Ok(answer["webhooks"]
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|w| {
                        Some((w["id"].as_str()?.to_owned(), w["url"].as_str()?.to_owned()))
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// PayPal's own check of a webhook's signature (the fallback when the certificate cannot be
    /// fetched). `event` is the body exactly as received (valid JSON): it is sent as it came, so
    /// that its bytes, which the signature covers, are the ones PayPal checks.
    pub async fn verify_webhook_signature(
        &self,
        headers: &Signed<'_>,
        webhook_id: &str,
        event: &[u8],
    ) -> Result<bool, BillingError> {
        let event = std::str::from_utf8(event)
            .map_err(|_| BillingError::Unreadable("the event is not text".into()))?;
        let text = |v: &str| Value::String(v.to_owned()).to_string();
        let body = format!(
            "{{\"auth_algo\":{},\"cert_url\":{},\"transmission_id\":{},\"transmission_sig\":{},\"transmission_time\":{},\"webhook_id\":{},\"webhook_event\":{event}}}",
            text(headers.auth_algo),
            text(headers.cert_url),
            text(headers.transmission_id),
            text(headers.transmission_sig),
            text(headers.transmission_time),
            text(webhook_id),
        );
        let answer = self
            .call_raw(
                Method::POST,
                "/v1/notifications/verify-webhook-signature",
                Some(body),
            )
            .await?;
        Ok(answer["verification_status"].as_str() == Some("SUCCESS"))
    }
}

/// The `PAYPAL-*` headers of a webhook delivery, as verify-webhook-signature takes them.
#[derive(Debug, Clone, Copy)]
pub struct Signed<'a> {
    pub auth_algo: &'a str,
    pub cert_url: &'a str,
    pub transmission_id: &'a str,
    pub transmission_sig: &'a str,
    pub transmission_time: &'a str,
}

/// A PayPal id as one path segment (ids are `I-…`, `P-…`; anything else is encoded, never a
/// path of its own).
fn segment(id: &str) -> String {
    form_urlencoded::byte_serialize(id.as_bytes()).collect()
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn id_of(answer: &Value, what: &str) -> Result<String, BillingError> {
    answer["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| BillingError::Unreadable(format!("the new {what} has no id")))
}

/// The `approve` link of an answer.
fn approve_link(answer: &Value) -> Result<String, BillingError> {
    answer["links"]
        .as_array()
        .and_then(|links| {
            links
                .iter()
                .find(|l| l["rel"].as_str() == Some("approve"))
                .and_then(|l| l["href"].as_str())
        })
        .map(str::to_owned)
        .ok_or_else(|| BillingError::Unreadable("no approval link in the answer".into()))
}

fn unreachable(err: reqwest::Error) -> BillingError {
    BillingError::Unreachable(crate::social::without_url(&err))
}

/// A non-success answer in PayPal's error shape (`{name, message, debug_id, details}`): a
/// server error is "unreachable" (try later), anything else a refusal.
fn refusal(status: StatusCode, body: &Value) -> BillingError {
    let name = body["name"]
        .as_str()
        .or_else(|| body["error"].as_str())
        .unwrap_or("UNKNOWN")
        .to_owned();
    let mut message = body["message"]
        .as_str()
        .or_else(|| body["error_description"].as_str())
        .unwrap_or("no reason given")
        .to_owned();
    if let Some(detail) = body["details"].as_array().and_then(|d| d.first()) {
        let issue = detail["issue"].as_str().unwrap_or_default();
        let description = detail["description"].as_str().unwrap_or_default();
        message = format!("{message} ({issue}: {description})");
    }
    if let Some(debug) = body["debug_id"].as_str() {
        message = format!("{message} [debug id {debug}]");
    }
    if status.is_server_error() {
        BillingError::Unreachable(format!("{status} {name}: {message}"))
    } else {
        BillingError::Refused {
            status: status.as_u16(),
            name,
            message,
        }
    }
}

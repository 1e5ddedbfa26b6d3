//! What the PayPal tests share: an app with a token, the calls that set up a plan and a
//! subscription, the buyer's approval, a webhook receiver that records what it is sent, and an
//! offline check of a webhook's signature as a product makes it.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sim::Simulator;
use sim::paypal::PAYPAL_SECRET;
use std::sync::{Arc, Mutex};

pub const CLIENT_ID: &str = "socializioz-sandbox";
pub const RETURN_URL: &str = "https://app.example/billing/return?workspace=7";
pub const CANCEL_URL: &str = "https://app.example/billing/cancelled";
/// The host name of PayPal's signing certificate in the sandbox.
pub const SIGNER: &str = "messageverificationcerts.sandbox.paypal.com";

/// An app talking to the simulated PayPal API with a token.
pub struct PayPal {
    pub sim: Simulator,
    pub base: String,
    pub http: reqwest::Client,
    pub token: String,
    _running: sim::Running,
}

/// `POST /v1/oauth2/token` with these credentials.
pub async fn token_call(base: &str, client_id: &str, secret: &str) -> (StatusCode, Value) {
    let res = crate::common::client()
        .post(format!("{base}/paypal/v1/oauth2/token"))
        .basic_auth(client_id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    (res.status(), res.json().await.unwrap())
}

impl PayPal {
    pub async fn start() -> Self {
        let (sim, running) = crate::common::start().await;
        let base = running.base_url.clone();
        let (status, body) = token_call(&base, CLIENT_ID, PAYPAL_SECRET).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        Self {
            sim,
            base,
            http: crate::common::client(),
            token: body["access_token"].as_str().unwrap().to_owned(),
            _running: running,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/paypal{path}", self.base)
    }

    async fn answer(res: reqwest::Response) -> (StatusCode, Value) {
        let status = res.status();
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let res = self
            .http
            .get(self.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        Self::answer(res).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.post_once(path, body, None).await
    }

    /// A POST, with `PayPal-Request-Id` when `request_id` is given.
    pub async fn post_once(
        &self,
        path: &str,
        body: Value,
        request_id: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .post(self.url(path))
            .bearer_auth(&self.token)
            .json(&body);
        if let Some(id) = request_id {
            request = request.header("PayPal-Request-Id", id);
        }
        Self::answer(request.send().await.unwrap()).await
    }

    /// A product and a plan billing `price` USD a month, suspending after `threshold` failed
    /// payments; the plan's id.
    pub async fn plan(&self, name: &str, price: &str, threshold: u32) -> String {
        let (status, product) = self
            .post(
                "/v1/catalogs/products",
                json!({"name": "Socializioz", "type": "SERVICE"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{product}");
        let (status, plan) = self
            .post(
                "/v1/billing/plans",
                json!({
                    "product_id": product["id"],
                    "name": name,
                    "status": "ACTIVE",
                    "billing_cycles": [{
                        "frequency": {"interval_unit": "MONTH", "interval_count": 1},
                        "tenure_type": "REGULAR",
                        "sequence": 1,
                        "total_cycles": 0,
                        "pricing_scheme": {"fixed_price": {"value": price, "currency_code": "USD"}},
                    }],
                    "payment_preferences": {
                        "auto_bill_outstanding": true,
                        "payment_failure_threshold": threshold,
                    },
                }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{plan}");
        plan["id"].as_str().unwrap().to_owned()
    }

    pub fn subscription_body(plan_id: &str) -> Value {
        json!({
            "plan_id": plan_id,
            "custom_id": "workspace-7",
            "application_context": {
                "brand_name": "Socializioz",
                "user_action": "SUBSCRIBE_NOW",
                "shipping_preference": "NO_SHIPPING",
                "return_url": RETURN_URL,
                "cancel_url": CANCEL_URL,
            },
        })
    }

    /// A subscription to `plan_id` waiting for approval: its id and approve link.
    pub async fn subscribe(&self, plan_id: &str) -> (String, String) {
        let (status, sub) = self
            .post(
                "/v1/billing/subscriptions",
                Self::subscription_body(plan_id),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{sub}");
        (
            sub["id"].as_str().unwrap().to_owned(),
            link(&sub, "approve"),
        )
    }

    /// An active subscription to `plan_id` (approved on the page), with its events taken.
    pub async fn active(&self, plan_id: &str) -> String {
        let (id, approve) = self.subscribe(plan_id).await;
        let (status, _) = self.decide(&approve, "approve").await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        self.sim.paypal_take_events();
        id
    }

    /// Presses `decision` ("approve" or "cancel") on the page at `approve_url`: the status and
    /// where the buyer is sent.
    pub async fn decide(&self, approve_url: &str, decision: &str) -> (StatusCode, String) {
        let ba_token = crate::common::param(approve_url, "ba_token");
        let res = self
            .http
            .post(approve_url)
            .form(&[("ba_token", ba_token.as_str()), ("decision", decision)])
            .send()
            .await
            .unwrap();
        let location = res
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (res.status(), location)
    }

    pub async fn subscription(&self, id: &str) -> Value {
        let (status, sub) = self.get(&format!("/v1/billing/subscriptions/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{sub}");
        sub
    }

    /// The event types waiting in the queue, oldest first.
    pub fn queued(&self) -> Vec<String> {
        self.sim
            .paypal_events()
            .into_iter()
            .map(|e| e.event_type)
            .collect()
    }
}

/// The `href` of the link `rel` of a PayPal resource.
pub fn link(resource: &Value, rel: &str) -> String {
    resource["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == rel)
        .unwrap_or_else(|| panic!("no {rel} link in {resource}"))["href"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A request a webhook received.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> String {
        self.headers[name].to_str().unwrap().to_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// A webhook endpoint on a free port that answers 200 and keeps what it receives; its URL.
pub async fn receiver() -> (String, Arc<Mutex<Vec<Received>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let kept = received.clone();
    let app = axum::Router::new().route(
        "/webhooks/paypal",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let kept = kept.clone();
                async move {
                    kept.lock().unwrap().push(Received {
                        headers,
                        body: body.to_vec(),
                    });
                    "ok"
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{address}/webhooks/paypal"), received)
}

/// The DER certificates of a PEM file, in order.
pub fn certificates(pem: &str) -> Vec<Vec<u8>> {
    use base64::Engine;
    pem.split("-----BEGIN CERTIFICATE-----")
        .skip(1)
        .map(|block| {
            let text: String = block
                .split("-----END CERTIFICATE-----")
                .next()
                .unwrap()
                .split_whitespace()
                .collect();
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .unwrap()
        })
        .collect()
}

/// What a product checks offline: the served chain leads to the trusted root, the certificate
/// is PayPal's signing one, and it signed `{id}|{time}|{webhook id}|{CRC32 of the body}`.
pub fn verify_offline(
    root_pem: &str,
    chain_pem: &str,
    received: &Received,
    webhook_id: &str,
) -> Result<(), webpki::Error> {
    use base64::Engine;
    use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
    let root = CertificateDer::from(certificates(root_pem).remove(0));
    let anchor = webpki::anchor_from_trusted_cert(&root)?;
    let chain: Vec<CertificateDer> = certificates(chain_pem)
        .into_iter()
        .map(CertificateDer::from)
        .collect();
    let signer = webpki::EndEntityCert::try_from(&chain[0])?;
    signer.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &[anchor],
        &chain[1..],
        UnixTime::now(),
        webpki::KeyUsage::server_auth(),
        None,
        None,
    )?;
    signer.verify_is_valid_for_subject_name(&ServerName::try_from(SIGNER).unwrap())?;
    let message = format!(
        "{}|{}|{webhook_id}|{}",
        received.header("paypal-transmission-id"),
        received.header("paypal-transmission-time"),
        crc32fast::hash(&received.body)
    );
    let signature = base64::engine::general_purpose::STANDARD
        .decode(received.header("paypal-transmission-sig"))
        .unwrap();
    signer.verify_signature(
        webpki::aws_lc_rs::RSA_PKCS1_2048_8192_SHA256,
        message.as_bytes(),
        &signature,
    )
}

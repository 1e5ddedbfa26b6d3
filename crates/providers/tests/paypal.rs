//! The PayPal adapter against the simulator (the calls in their real shapes, end to end) and
//! against wiremock (what goes on the wire when PayPal answers badly).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use providers::billing::paypal::{NewPlan, NewSubscription, PayPal, PayPalConfig, Status};
use providers::billing::{BillingError, Interval, Money};
use wiremock::matchers::{header, header_exists, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn adapter(base: &str, secret: &str) -> PayPal {
    PayPal::new(PayPalConfig {
        api_base: base.to_owned(),
        client_id: "socializioz-sandbox".to_owned(),
        client_secret: secret.to_owned().into(),
    })
}

fn usd(cents: i64) -> Money {
    Money {
        cents,
        currency: "USD".into(),
    }
}

/// A product, a monthly plan and a subscription waiting for approval.
async fn subscription(
    paypal: &PayPal,
    request: &str,
) -> (String, providers::billing::paypal::Created) {
    let product = paypal
        .create_product("Socializioz", "Scheduling", "product-1")
        .await
        .unwrap();
    let price = usd(2_900);
    let plan = paypal
        .create_plan(
            &NewPlan {
                product_id: &product,
                name: "Starter (monthly)",
                interval: Interval::Month,
                price: &price,
                failure_threshold: 2,
            },
            "plan-1",
        )
        .await
        .unwrap();
    let created = paypal
        .create_subscription(&NewSubscription {
            plan_id: &plan,
            custom_id: "17",
            brand_name: "Socializioz",
            return_url: "https://app.example/w/1/billing/return",
            cancel_url: "https://app.example/w/1/billing/cancelled",
            request_id: request,
        })
        .await
        .unwrap();
    (plan, created)
}

/// Plays the buyer on the approval page: presses Approve; answers where PayPal sent them.
async fn approve(url: &str) -> String {
    let token = url.split("ba_token=").nth(1).unwrap().to_owned();
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(url)
        .form(&[
            ("ba_token", token.as_str()),
            ("email", "buyer@example.com"),
            ("decision", "approve"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    res.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_subscription_goes_from_approval_to_payments_to_cancellation() {
    let (sim, running) = common::simulator().await;
    let paypal = adapter(
        &format!("{}/paypal", running.base_url),
        sim::paypal::PAYPAL_SECRET,
    );
    let (plan, created) = subscription(&paypal, "checkout-1").await;
    assert!(created.id.starts_with("I-"), "{created:?}");

    // The same request id is the same subscription: PayPal made one.
    let (_, again) = subscription(&paypal, "checkout-1").await;
    assert_eq!(again, created);
    assert_eq!(sim.paypal_subscriptions().len(), 1);

    let before = paypal.subscription(&created.id).await.unwrap();
    assert_eq!(before.status, Status::ApprovalPending);
    assert_eq!(before.custom_id.as_deref(), Some("17"));

    let back = approve(&created.approve_url).await;
    assert!(
        back.starts_with("https://app.example/w/1/billing/return?")
            && back.contains(&format!("subscription_id={}", created.id)),
        "{back}"
    );
    let active = paypal.subscription(&created.id).await.unwrap();
    assert_eq!(active.status, Status::Active);
    assert_eq!(active.plan_id, plan);
    assert_eq!(active.failed_payments_count, 0);
    assert_eq!(
        active.last_payment.as_ref().map(|(m, _)| m.cents),
        Some(2_900)
    );
    let paid_until = active.next_billing_time.unwrap();
    assert!(paid_until > chrono::Utc::now() + chrono::Duration::days(27));

    sim.paypal_renew(&created.id).unwrap();
    let from = chrono::Utc::now() - chrono::Duration::days(1);
    let to = chrono::Utc::now() + chrono::Duration::days(1);
    let payments = paypal.transactions(&created.id, from, to).await.unwrap();
    assert_eq!(payments.len(), 2, "{payments:?}");
    assert!(
        payments
            .iter()
            .all(|t| t.status == "COMPLETED" && t.gross.cents == 2_900)
    );

    paypal.cancel(&created.id, "test").await.unwrap();
    assert_eq!(
        paypal.subscription(&created.id).await.unwrap().status,
        Status::Cancelled
    );
    // Cancelling twice is PayPal's refusal, named.
    let err = paypal.cancel(&created.id, "again").await.unwrap_err();
    assert!(
        matches!(&err, BillingError::Refused { status: 422, name, .. } if name == "UNPROCESSABLE_ENTITY"),
        "{err:?}"
    );
    let err = paypal.subscription("I-NOSUCH").await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
}

#[tokio::test]
async fn a_wrong_secret_is_a_credentials_error_not_a_retry() {
    let (_sim, running) = common::simulator().await;
    let paypal = adapter(&format!("{}/paypal", running.base_url), "not-the-secret");
    let err = paypal.subscription("I-1").await.unwrap_err();
    assert!(matches!(err, BillingError::Credentials(_)), "{err:?}");
}

#[tokio::test]
async fn an_expired_token_is_fetched_again_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/oauth2/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": "A21-token", "token_type": "Bearer", "expires_in": 32400
        })))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/billing/subscriptions/I-1"))
        .respond_with(ResponseTemplate::new(401).set_body_json(serde_json::json!({
            "error": "invalid_token", "error_description": "Token signature verification failed"
        })))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/billing/subscriptions/I-1"))
        .and(header("authorization", "Bearer A21-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "id": "I-1", "status": "ACTIVE", "plan_id": "P-1",
            "billing_info": {"next_billing_time": "2027-01-03T10:00:00Z", "failed_payments_count": 1}
        })))
        .mount(&server)
        .await;
    let paypal = adapter(&server.uri(), "secret");
    let s = paypal.subscription("I-1").await.unwrap();
    assert_eq!(s.status, Status::Active);
    assert_eq!(s.failed_payments_count, 1);
}

#[tokio::test]
async fn a_server_error_is_unreachable_and_creation_carries_the_request_id() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/oauth2/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": "A21-token", "expires_in": 32400
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/billing/subscriptions"))
        .and(header("PayPal-Request-Id", "checkout-7"))
        .and(header_exists("content-type"))
        .respond_with(ResponseTemplate::new(503).set_body_json(serde_json::json!({
            "name": "SERVICE_UNAVAILABLE", "message": "Service Unavailable.", "debug_id": "abc123"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let paypal = adapter(&server.uri(), "secret");
    let err = paypal
        .create_subscription(&NewSubscription {
            plan_id: "P-1",
            custom_id: "1",
            brand_name: "Socializioz",
            return_url: "https://app.example/r",
            cancel_url: "https://app.example/c",
            request_id: "checkout-7",
        })
        .await
        .unwrap_err();
    match err {
        BillingError::Unreachable(text) => {
            assert!(
                text.contains("SERVICE_UNAVAILABLE") && text.contains("abc123"),
                "{text}"
            )
        }
        other => panic!("{other:?}"),
    }
}

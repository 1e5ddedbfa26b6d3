//! The simulated PayPal API checks what the real one checks, and moves a subscription through
//! its life the way PayPal does: the token needs the secret, a request id makes one
//! subscription, the buyer's approval starts it, failing payments suspend it, a revision waits
//! for approval, and webhooks are signed by a certificate that chains to the simulator's root.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;
mod helpers;
mod subscriptions;
mod webhooks;

use helpers::{CLIENT_ID, PayPal, token_call};
use reqwest::StatusCode;
use serde_json::json;
use sim::Fault;
use sim::paypal::{PAYPAL_SECRET, PayPalOp};

#[tokio::test]
async fn the_token_needs_the_secret() {
    let paypal = PayPal::start().await;
    let base = &paypal.base;

    let (status, body) = token_call(base, CLIENT_ID, "not-the-secret").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "invalid_client");
    assert_eq!(body["error_description"], "Client Authentication failed");
    let (status, _) = token_call(base, "", PAYPAL_SECRET).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, body) = token_call(base, CLIENT_ID, PAYPAL_SECRET).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 32400);
    assert!(body["access_token"].as_str().unwrap().starts_with("A21"));
    for field in ["scope", "app_id", "nonce"] {
        assert!(body[field].is_string(), "{field} in {body}");
    }

    // Every other call needs a live token.
    let res = paypal
        .http
        .get(paypal.url("/v1/notifications/webhooks"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_token");
    let (status, _) = paypal.get("/v1/notifications/webhooks").await;
    assert_eq!(status, StatusCode::OK);
    paypal.sim.paypal_expire_tokens();
    let (status, body) = paypal.get("/v1/notifications/webhooks").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "invalid_token");
}

#[tokio::test]
async fn one_request_id_makes_one_subscription_even_when_sent_twice_at_once() {
    let paypal = PayPal::start().await;
    let plan = paypal.plan("Pro", "29.00", 3).await;
    let body = PayPal::subscription_body(&plan);
    let path = "/v1/billing/subscriptions";

    let (first, second) = tokio::join!(
        paypal.post_once(path, body.clone(), Some("workspace-7-subscribe-1")),
        paypal.post_once(path, body.clone(), Some("workspace-7-subscribe-1")),
    );
    assert_eq!(first.0, StatusCode::CREATED);
    assert_eq!(first, second);
    assert_eq!(paypal.sim.paypal_subscriptions().len(), 1);
    assert_eq!(
        paypal.sim.paypal_subscriptions()[0]["id"],
        first.1["id"],
        "the one subscription is the one both answers name"
    );
    assert_eq!(paypal.queued(), ["BILLING.SUBSCRIPTION.CREATED"]);

    // Another request id is another subscription.
    let (status, third) = paypal
        .post_once(path, body.clone(), Some("workspace-7-subscribe-2"))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_ne!(third["id"], first.1["id"]);
    assert_eq!(paypal.sim.paypal_subscriptions().len(), 2);
    assert_eq!(paypal.sim.paypal_calls(path), 3);
}

#[tokio::test]
async fn injected_faults_answer_in_paypals_shape_and_are_not_replayed() {
    let paypal = PayPal::start().await;
    let plan = paypal.plan("Pro", "29.00", 3).await;
    let body = PayPal::subscription_body(&plan);
    let path = "/v1/billing/subscriptions";

    paypal
        .sim
        .paypal_fail_next(PayPalOp::CreateSubscription, Fault::ServerError);
    let (status, error) = paypal.post_once(path, body.clone(), Some("retry-me")).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(error["name"], "INTERNAL_SERVER_ERROR");
    assert!(error["debug_id"].is_string());
    assert!(paypal.sim.paypal_subscriptions().is_empty());

    // The retry with the same request id runs, as after a real server error.
    let (status, _) = paypal.post_once(path, body, Some("retry-me")).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(paypal.sim.paypal_subscriptions().len(), 1);

    paypal
        .sim
        .paypal_fail_next(PayPalOp::Token, Fault::ServerError);
    let (status, _) = token_call(&paypal.base, CLIENT_ID, PAYPAL_SECRET).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn requests_paypal_would_refuse_are_refused_in_its_shape() {
    let paypal = PayPal::start().await;

    let (status, error) = paypal
        .post(
            "/v1/billing/plans",
            json!({"product_id": "PROD-UNKNOWN", "name": "Pro", "billing_cycles": [{
                "frequency": {"interval_unit": "MONTH", "interval_count": 1},
                "tenure_type": "REGULAR", "sequence": 1, "total_cycles": 0,
                "pricing_scheme": {"fixed_price": {"value": "29.00", "currency_code": "USD"}},
            }], "payment_preferences": {"payment_failure_threshold": 1}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["name"], "UNPROCESSABLE_ENTITY");

    let (status, error) = paypal
        .post("/v1/billing/subscriptions", json!({"custom_id": "x"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["name"], "INVALID_REQUEST");
    assert_eq!(error["details"][0]["issue"], "MISSING_REQUIRED_PARAMETER");
    assert_eq!(error["details"][0]["field"], "/plan_id");

    let (status, error) = paypal
        .post("/v1/billing/subscriptions", json!({"plan_id": "P-UNKNOWN"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error["name"], "RESOURCE_NOT_FOUND");

    let (status, error) = paypal.get("/v1/billing/subscriptions/I-UNKNOWN").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error["details"][0]["issue"], "INVALID_RESOURCE_ID");

    let res = paypal
        .http
        .post(paypal.url("/v1/billing/subscriptions"))
        .bearer_auth(&paypal.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let error: serde_json::Value = res.json().await.unwrap();
    assert_eq!(error["details"][0]["issue"], "MALFORMED_REQUEST_JSON");
}

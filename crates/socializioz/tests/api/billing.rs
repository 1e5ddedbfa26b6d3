//! Selling plans through PayPal, against the simulator: the checkout (Terms and Refund Policy
//! recorded, one subscription for a double click, nothing charged when PayPal is unreachable),
//! the plan following PayPal's word (confirmation, a failed payment's grace period and the fall
//! back to Free, recovery, upgrade and downgrade, cancellation at the end of the paid period),
//! the webhook's verification (forged, tampered, foreign certificate, stale, twice), events out
//! of order, and the cancellation at PayPal when the workspace is deleted.
//!
//! Nothing waits on the clock: where a date must pass (the grace period, the end of a paid
//! period), the test moves the stored date and the deadline job's time into the past and runs
//! the worker, which is what happens when the day comes.

use crate::both_backends;
use crate::fixtures::owner_with_workspace;
use crate::helpers::{Backend, Client, TempDir, TestApp, location, spawn_app_with};
use reqwest::StatusCode;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use sim::paypal::{PayPalEvent, PayPalOp, Transmission};
use store::entities::{job, subscription};

const ADA: &str = "ada@example.com";

/// An app selling plans through the simulator's PayPal, synced (product, plans, webhook).
struct Shop {
    app: TestApp,
    sim: sim::Simulator,
    _running: sim::Running,
    _roots: TempDir,
}

async fn shop(backend: Backend) -> Option<Shop> {
    shop_with(backend, "").await
}

/// [`shop`] with more lines for `[billing.paypal]`.
async fn shop_with(backend: Backend, paypal_extra: &str) -> Option<Shop> {
    let sim = sim::Simulator::new();
    let running = sim.start("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let base = running.base_url.clone();
    let roots = TempDir::new();
    let pem = roots.0.join("roots.pem");
    std::fs::write(&pem, sim.paypal_root_pem().unwrap()).unwrap();
    let config = format!(
        r#"
        [paypal]
        client_id = "socializioz-test"
        client_secret = "{secret}"
        api_base = "{base}/paypal"
        cert_origins = ["{base}/paypal"]
        trust_roots = "{pem}"
        grace_days = 7
        {paypal_extra}

        [seller]
        name = "Socializioz Test Ltd"
        address = "1 Test Street\nTestville"
        country = "DE"
        vat_id = "DE999999999"
        tax_rate = "19"
        "#,
        secret = sim::paypal::PAYPAL_SECRET,
        pem = pem.display(),
    );
    let app = spawn_app_with(backend, |s| {
        s.billing = Some(toml::from_str(&config).expect("billing settings"));
    })
    .await?;
    let report = app.services.billing_sync().await.unwrap();
    assert_eq!(
        report.plans.len(),
        4,
        "starter and professional, monthly and yearly"
    );
    // Synced twice, nothing new.
    let again = app.services.billing_sync().await.unwrap();
    assert!(again.plans.iter().all(|p| !p.4) && !again.product.1);
    Some(Shop {
        app,
        sim,
        _running: running,
        _roots: roots,
    })
}

/// The checkout form's one-time id on the billing page.
async fn request_id(client: &Client, ws: i64) -> String {
    let html = client.get_text(&format!("/w/{ws}/billing")).await;
    let at = html
        .find("name=\"request_id\" value=\"")
        .expect("a checkout form")
        + 25;
    html[at..].split('"').next().unwrap().to_owned()
}

async fn checkout(client: &Client, ws: i64, plan: &str, request: &str) -> reqwest::Response {
    client
        .submit(
            &format!("/w/{ws}/billing/checkout"),
            &[
                ("plan", plan),
                ("interval", "month"),
                ("request_id", request),
                ("accept", "yes"),
            ],
        )
        .await
}

/// The buyer presses Approve (or Cancel) on PayPal's page; answers where PayPal sends them.
async fn at_paypal(url: &str, decision: &str) -> String {
    let token = url
        .split("ba_token=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(url)
        .form(&[
            ("ba_token", token.as_str()),
            ("email", "buyer@example.com"),
            ("decision", decision),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    location(res.headers())
}

/// The path and query of an absolute URL of the app.
fn path_of(app: &TestApp, url: &str) -> String {
    url.strip_prefix(&app.address).unwrap_or(url).to_owned()
}

async fn plan_of(app: &TestApp, ws: i64) -> String {
    app.text(&format!("SELECT plan FROM workspaces WHERE id = {ws}"))
        .await
}

async fn the_subscription(app: &TestApp) -> subscription::Model {
    subscription::Entity::find()
        .filter(subscription::Column::PaypalId.is_not_null())
        .one(&app.services.db)
        .await
        .unwrap()
        .expect("a subscription")
}

/// Ada subscribes her workspace to `plan` monthly and approves at PayPal; PayPal's events are
/// delivered. Answers her browser, the workspace and PayPal's subscription id.
async fn subscribed(shop: &Shop, plan: &str) -> (Client, i64, String) {
    let (client, ws) = owner_with_workspace(&shop.app, ADA).await;
    let request = request_id(&client, ws).await;
    let res = checkout(&client, ws, plan, &request).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let back = at_paypal(&location(res.headers()), "approve").await;
    let page = client.get_text(&path_of(&shop.app, &back)).await;
    assert!(page.contains("PayPal confirmed"), "{page}");
    for d in shop.sim.paypal_deliver().await {
        assert_eq!(d.status, 200, "{d:?}");
    }
    let id = the_subscription(&shop.app).await.paypal_id.unwrap();
    (client, ws, id)
}

/// Moves `column` of the subscriptions `by` into the past, and every billing deadline job to
/// now, then runs the worker: the day has come.
async fn days_pass(app: &TestApp, column: subscription::Column, by: chrono::Duration) {
    let rows = subscription::Entity::find()
        .all(&app.services.db)
        .await
        .unwrap();
    for row in rows {
        let value = match column {
            subscription::Column::PaymentFailedAt => row.payment_failed_at,
            subscription::Column::EndsAt => row.ends_at,
            subscription::Column::ChangeFrom => row.change_from,
            _ => unreachable!("only dates that start a deadline"),
        };
        if let Some(at) = value {
            subscription::Entity::update_many()
                .col_expr(column, Expr::value(at - by))
                .filter(subscription::Column::Id.eq(row.id))
                .exec(&app.services.db)
                .await
                .unwrap();
        }
    }
    job::Entity::update_many()
        .col_expr(job::Column::RunAt, Expr::value(services::now()))
        .filter(job::Column::Kind.eq("billing_deadline"))
        .exec(&app.services.db)
        .await
        .unwrap();
    app.worker().run_until_empty().await.unwrap();
}

both_backends!(
    each_payment_has_one_invoice_with_the_next_number_and_a_pdf_that_says_so,
    invoice_numbers_have_no_gaps_when_payments_arrive_at_once,
    a_checkout_waits_for_paypal_and_a_double_click_makes_one_subscription,
    a_failed_payment_keeps_the_plan_through_the_grace_period_then_free_until_a_payment,
    a_cancellation_keeps_the_plan_to_the_end_of_the_paid_period,
    an_upgrade_applies_when_paypal_confirms_and_a_downgrade_waits_for_the_period_end,
    only_a_genuine_fresh_delivery_is_read_and_each_event_once,
    events_out_of_order_are_resolved_by_reading_the_subscription,
    paypal_unreachable_at_checkout_charges_nothing,
    deleting_the_owner_cancels_the_subscription_at_paypal,
    a_suspended_subscription_is_reactivated_and_billed,
    without_the_certificate_paypal_checks_the_signature,
    the_pricing_page_shows_the_plans_as_configured,
    a_certificate_not_issued_to_paypal_is_refused,
);

async fn a_checkout_waits_for_paypal_and_a_double_click_makes_one_subscription(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    let app = &shop.app;
    let (client, ws) = owner_with_workspace(app, ADA).await;
    let page = client.get_text(&format!("/w/{ws}/billing")).await;
    assert!(
        page.contains("$29.00 a month") && page.contains("$690.00 a year"),
        "{page}"
    );

    // Without accepting the Terms and the Refund Policy, nothing starts.
    let request = request_id(&client, ws).await;
    let res = client
        .submit(
            &format!("/w/{ws}/billing/checkout"),
            &[
                ("plan", "professional"),
                ("interval", "month"),
                ("request_id", &request),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("accept the Terms of Service and the Refund Policy")
    );
    assert!(shop.sim.paypal_subscriptions().is_empty());

    // Two clicks on one form: one subscription, one record of acceptance.
    let first = checkout(&client, ws, "professional", &request).await;
    let second = checkout(&client, ws, "professional", &request).await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(first.headers()), location(second.headers()));
    assert_eq!(shop.sim.paypal_subscriptions().len(), 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM policy_acceptances WHERE source = 'billing_checkout'")
            .await,
        2,
        "the Terms and the Refund Policy, once"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM subscriptions").await, 1);
    let approve = location(first.headers());

    // Back before approving: nothing changed, and the page waits for PayPal.
    let paypal_id = the_subscription(app).await.paypal_id.unwrap();
    let res = client
        .get(&format!(
            "/w/{ws}/billing/return?subscription_id={paypal_id}"
        ))
        .await;
    assert_eq!(res.headers()["refresh"], "3");
    assert!(res.text().await.unwrap().contains("Waiting for PayPal"));
    assert_eq!(plan_of(app, ws).await, "free");

    // Approved at PayPal: on the way back PayPal says it is active.
    let back = at_paypal(&approve, "approve").await;
    assert!(
        back.starts_with(&format!("{}/w/{ws}/billing/return?", app.address)),
        "{back}"
    );
    let page = client.get_text(&path_of(app, &back)).await;
    assert!(page.contains("PayPal confirmed"), "{page}");
    assert_eq!(plan_of(app, ws).await, "professional");
    let delivered = shop.sim.paypal_deliver().await;
    assert!(
        !delivered.is_empty() && delivered.iter().all(|d| d.status == 200),
        "{delivered:?}"
    );

    // A renewal moves the end of the paid period.
    let before = the_subscription(app).await.paid_until.unwrap();
    shop.sim.paypal_renew(&paypal_id).unwrap();
    let delivered = shop.sim.paypal_deliver().await;
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0].event_type, "PAYMENT.SALE.COMPLETED");
    assert_eq!(delivered[0].status, 200);
    assert!(the_subscription(app).await.paid_until.unwrap() > before);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM activity_log WHERE action = 'workspace.plan_changed'")
            .await,
        1
    );
    // The Privacy Policy names PayPal, since this instance uses it.
    let policy = client.get_text("/legal/privacy").await;
    assert!(policy.contains("<strong>PayPal</strong>"), "{policy}");
}

async fn a_failed_payment_keeps_the_plan_through_the_grace_period_then_free_until_a_payment(
    backend: Backend,
) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    let app = &shop.app;
    let (client, ws, id) = subscribed(&shop, "starter").await;
    shop.sim.paypal_fail_payments(&id, true);
    shop.sim.paypal_renew(&id).unwrap();
    let delivered = shop.sim.paypal_deliver().await;
    assert!(
        delivered
            .iter()
            .any(|d| d.event_type == "BILLING.SUBSCRIPTION.PAYMENT.FAILED" && d.status == 200),
        "{delivered:?}"
    );
    assert!(the_subscription(app).await.payment_failed_at.is_some());
    assert_eq!(plan_of(app, ws).await, "starter", "the grace period");
    app.worker().run_until_empty().await.unwrap();
    let mail = app.last_mail_to(ADA).await;
    assert!(mail.subject.contains("Payment failed"), "{mail:?}");
    let page = client.get_text(&format!("/w/{ws}/billing")).await;
    assert!(
        page.contains("PayPal could not take the last payment"),
        "{page}"
    );

    days_pass(
        app,
        subscription::Column::PaymentFailedAt,
        chrono::Duration::days(8),
    )
    .await;
    assert_eq!(plan_of(app, ws).await, "free", "the grace period is over");

    // The payment goes through after all: the plan is back.
    shop.sim.paypal_fail_payments(&id, false);
    shop.sim.paypal_renew(&id).unwrap();
    for d in shop.sim.paypal_deliver().await {
        assert_eq!(d.status, 200, "{d:?}");
    }
    assert!(the_subscription(app).await.payment_failed_at.is_none());
    assert_eq!(plan_of(app, ws).await, "starter");
}

async fn a_cancellation_keeps_the_plan_to_the_end_of_the_paid_period(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    let app = &shop.app;
    let (client, ws, id) = subscribed(&shop, "professional").await;
    let res = client.submit(&format!("/w/{ws}/billing/cancel"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        shop.sim.paypal_subscription(&id).unwrap()["status"],
        "CANCELLED"
    );
    let row = the_subscription(app).await;
    assert_eq!(row.ends_at, row.paid_until);
    assert_eq!(plan_of(app, ws).await, "professional");
    for d in shop.sim.paypal_deliver().await {
        assert_eq!(d.status, 200, "{d:?}");
    }
    assert_eq!(
        plan_of(app, ws).await,
        "professional",
        "PayPal's event changes nothing"
    );

    days_pass(
        app,
        subscription::Column::EndsAt,
        chrono::Duration::days(31),
    )
    .await;
    assert_eq!(plan_of(app, ws).await, "free");
}

async fn an_upgrade_applies_when_paypal_confirms_and_a_downgrade_waits_for_the_period_end(
    backend: Backend,
) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    let app = &shop.app;
    let (client, ws, _) = subscribed(&shop, "starter").await;
    let change = |plan: &'static str| {
        let client = client.clone();
        async move {
            let res = client
                .submit(
                    &format!("/w/{ws}/billing/change"),
                    &[("plan", plan), ("interval", "month")],
                )
                .await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER);
            location(res.headers())
        }
    };
    let approve = change("professional").await;
    assert_eq!(
        plan_of(app, ws).await,
        "starter",
        "not before PayPal confirms"
    );
    let back = at_paypal(&approve, "approve").await;
    client.get_text(&path_of(app, &back)).await;
    assert_eq!(plan_of(app, ws).await, "professional");
    for d in shop.sim.paypal_deliver().await {
        assert_eq!(d.status, 200, "{d:?}");
    }

    // PayPal charges the bigger price from the next payment: until it is paid, no way back
    // down (else Professional would be had for Starter's price, month after month).
    let res = client
        .submit(
            &format!("/w/{ws}/billing/change"),
            &[("plan", "starter"), ("interval", "month")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("once that payment has gone through")
    );
    let id = the_subscription(app).await.paypal_id.unwrap();
    shop.sim.paypal_renew(&id).unwrap();
    for d in shop.sim.paypal_deliver().await {
        assert_eq!(d.status, 200, "{d:?}");
    }
    assert!(the_subscription(app).await.upgraded_at.is_none());
    let described = app
        .text("SELECT description FROM invoices ORDER BY seq DESC LIMIT 1")
        .await;
    assert!(described.contains("Professional"), "{described}");

    let approve = change("starter").await;
    let back = at_paypal(&approve, "approve").await;
    // Back from approving a downgrade: confirmed (it waits for its day), no endless waiting.
    let res = client.get(&path_of(app, &back)).await;
    let waits = res.headers().get("refresh").is_some();
    let page = res.text().await.unwrap();
    assert!(
        !waits && page.contains("PayPal confirmed"),
        "{:?}\n{page}",
        the_subscription(app).await
    );
    for d in shop.sim.paypal_deliver().await {
        assert_eq!(d.status, 200, "{d:?}");
    }
    let row = the_subscription(app).await;
    assert_eq!(
        plan_of(app, ws).await,
        "professional",
        "paid for to the period's end"
    );
    assert_eq!(row.change_from, row.paid_until);
    assert!(row.change_approved);
    assert!(
        client
            .get_text(&format!("/w/{ws}/billing"))
            .await
            .contains("Moves to Starter")
    );

    // (Two periods are paid for by now: the first and the renewal.)
    days_pass(
        app,
        subscription::Column::ChangeFrom,
        chrono::Duration::days(70),
    )
    .await;
    assert_eq!(plan_of(app, ws).await, "starter");
}

async fn only_a_genuine_fresh_delivery_is_read_and_each_event_once(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    let app = &shop.app;
    let (client, ws) = owner_with_workspace(app, ADA).await;
    let request = request_id(&client, ws).await;
    let res = checkout(&client, ws, "professional", &request).await;
    at_paypal(&location(res.headers()), "approve").await;
    // The owner does not come back; only PayPal's word can change the plan.
    let events = shop.sim.paypal_take_events();
    let activated: &PayPalEvent = events
        .iter()
        .find(|e| e.event_type == "BILLING.SUBSCRIPTION.ACTIVATED")
        .expect("an activation");
    let stale = chrono::Utc::now() - chrono::Duration::hours(1);
    let other_host = format!(
        "https://evil.example/v1/notifications/certs/{}",
        "CERT-360caa42-fca2a594-a5cafa77"
    );
    // PayPal's host, but not one of its certificates (any page there that echoes input).
    let not_a_certificate = format!("{}/paypal/v1/catalogs/products?x=1", shop._running.base_url);
    for how in [
        Transmission::TamperedBody,
        Transmission::RogueCertificate,
        Transmission::CertificateUrl(other_host),
        Transmission::CertificateUrl(not_a_certificate),
        Transmission::TransmittedAt(stale),
    ] {
        let d = shop.sim.paypal_send(activated, how.clone()).await;
        assert_eq!(d.status, 400, "{how:?} must be refused");
        assert_eq!(plan_of(app, ws).await, "free", "{how:?} changed nothing");
        assert_eq!(app.count("SELECT COUNT(*) FROM billing_events").await, 0);
    }
    let d = shop.sim.paypal_send(activated, Transmission::Genuine).await;
    assert_eq!(d.status, 200);
    assert_eq!(plan_of(app, ws).await, "professional");
    // PayPal delivers it again: acknowledged, handled once.
    let d = shop.sim.paypal_send(activated, Transmission::Genuine).await;
    assert_eq!(d.status, 200);
    assert_eq!(app.count("SELECT COUNT(*) FROM billing_events").await, 1);

    // A body that is not what PayPal signed, sent by a stranger: 400, no 500.
    let res = reqwest::Client::new()
        .post(format!("{}/webhooks/paypal", app.address))
        .header("content-type", "application/json")
        .body("{\"id\": \"WH-1\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // A body with what reads as an escaped control character (a payer may type "%01") is
    // judged by its signature, not refused unread as a form would be.
    let res = reqwest::Client::new()
        .post(format!("{}/webhooks/paypal", app.address))
        .header("content-type", "application/json")
        .body("{\"id\": \"WH-2\", \"resource\": {\"note\": \"50%01 off %00\"}}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        res.text().await.unwrap(),
        "refused",
        "the webhook's own answer"
    );
}

async fn events_out_of_order_are_resolved_by_reading_the_subscription(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    let app = &shop.app;
    let (client, ws) = owner_with_workspace(app, ADA).await;
    let request = request_id(&client, ws).await;
    let res = checkout(&client, ws, "starter", &request).await;
    at_paypal(&location(res.headers()), "approve").await;
    let early = shop.sim.paypal_take_events();
    // The cancellation's event arrives first, the activation's after it.
    let id = the_subscription(app).await.paypal_id.unwrap();
    let (st, _) = shop_cancel(&shop, &id).await;
    assert_eq!(st, 204);
    let late = shop.sim.paypal_take_events();
    // (PayPal sends only the event types the webhook was registered for.)
    for event in late.iter().chain(early.iter()) {
        if event.event_type == "BILLING.SUBSCRIPTION.CREATED" {
            continue;
        }
        let d = shop.sim.paypal_send(event, Transmission::Genuine).await;
        assert_eq!(d.status, 200, "{d:?}");
    }
    let row = the_subscription(app).await;
    assert_eq!(
        row.status,
        store::entities::states::SubscriptionStatus::Cancelled
    );
    assert!(
        app.count("SELECT COUNT(*) FROM billing_events WHERE outcome = 'read from PayPal'")
            .await
            >= 1
    );
    let page = client.get_text(&format!("/w/{ws}/billing")).await;
    assert!(page.contains("cancelled"), "{page}");

    // A subscription made at PayPal by something else: its events are acknowledged and left
    // alone.
    let plan = app
        .text("SELECT paypal_id FROM billing_catalogue WHERE kind = 'plan' LIMIT 1")
        .await;
    let (status, made) = paypal_call(
        &shop,
        "/v1/billing/subscriptions",
        serde_json::json!({
            "plan_id": plan,
            "custom_id": "elsewhere",
            "application_context": {
                "return_url": "https://elsewhere.example/return",
                "cancel_url": "https://elsewhere.example/cancel",
            },
        }),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    let made: serde_json::Value = serde_json::from_str(&made).unwrap();
    let approve = made["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "approve")
        .unwrap()["href"]
        .as_str()
        .unwrap()
        .to_owned();
    at_paypal(&approve, "approve").await;
    let delivered: Vec<_> = shop
        .sim
        .paypal_deliver()
        .await
        .into_iter()
        .filter(|d| !d.url.is_empty())
        .collect();
    assert!(
        !delivered.is_empty() && delivered.iter().all(|d| d.status == 200),
        "{delivered:?}"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM billing_events WHERE outcome = 'unknown subscription'")
            .await,
        i64::try_from(delivered.len()).unwrap()
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM subscriptions").await, 1);
}

/// Cancels at PayPal behind the product's back (as in PayPal's own dashboard).
async fn shop_cancel(shop: &Shop, id: &str) -> (u16, String) {
    paypal_call(
        shop,
        &format!("/v1/billing/subscriptions/{id}/cancel"),
        serde_json::json!({"reason": "from the dashboard"}),
    )
    .await
}

/// A POST to the simulated PayPal API as another app of the operator's.
async fn paypal_call(shop: &Shop, path: &str, body: serde_json::Value) -> (u16, String) {
    let base = shop._running.base_url.clone();
    let http = reqwest::Client::new();
    let token: serde_json::Value = http
        .post(format!("{base}/paypal/v1/oauth2/token"))
        .basic_auth("socializioz-test", Some(sim::paypal::PAYPAL_SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let res = http
        .post(format!("{base}/paypal{path}"))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .json(&body)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn paypal_unreachable_at_checkout_charges_nothing(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    let app = &shop.app;
    let (client, ws) = owner_with_workspace(app, ADA).await;
    shop.sim
        .paypal_fail_next(PayPalOp::CreateSubscription, sim::Fault::ServerError);
    let request = request_id(&client, ws).await;
    let res = checkout(&client, ws, "starter", &request).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("PayPal could not be reached, so nothing was changed or charged"),
        "{page}"
    );
    assert!(shop.sim.paypal_subscriptions().is_empty());
    assert_eq!(plan_of(app, ws).await, "free");
    // The owner did accept the Terms and the Refund Policy when they clicked: that is
    // recorded, once.
    let accepted = "SELECT COUNT(*) FROM policy_acceptances WHERE source = 'billing_checkout'";
    assert_eq!(app.count(accepted).await, 2);
    // PayPal answers again: the same form goes through, and nothing is recorded twice.
    let res = checkout(&client, ws, "starter", &request).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(shop.sim.paypal_subscriptions().len(), 1);
    assert_eq!(app.count(accepted).await, 2);
    // A second checkout while this one waits for approval is refused: one workspace, one
    // subscription.
    let other_form = request_id(&client, ws).await;
    let res = checkout(&client, ws, "professional", &other_form).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("waiting for approval at PayPal")
    );
    assert_eq!(shop.sim.paypal_subscriptions().len(), 1);
}

async fn deleting_the_owner_cancels_the_subscription_at_paypal(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    let app = &shop.app;
    let (_client, _ws, id) = subscribed(&shop, "starter").await;
    assert_eq!(app.count("SELECT COUNT(*) FROM invoices").await, 1);
    let user = app.user_id(ADA).await;
    app.delete_account(user).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM subscriptions").await, 0);
    // The invoice goes with the workspace; its legal record stays, naming no one.
    assert_eq!(app.count("SELECT COUNT(*) FROM invoices").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM legal_records WHERE invoice_number = 'INV-000001' AND amount_minor = 2900 AND currency = 'USD' AND country = 'DE'")
            .await,
        1
    );
    match app
        .services
        .residue(services::deletion::Whom::EmailAndName {
            email: ADA.into(),
            name: "Ada Lovelace".into(),
        })
        .await
        .unwrap()
    {
        services::deletion::Residue::Checked { findings, .. } => {
            assert!(findings.is_empty(), "{findings:?}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        shop.sim.paypal_subscription(&id).unwrap()["status"],
        "ACTIVE"
    );
    app.worker().run_until_empty().await.unwrap();
    assert_eq!(
        shop.sim.paypal_subscription(&id).unwrap()["status"],
        "CANCELLED"
    );
}

/// The text of a PDF, as `pdftotext` extracts it; `None` (the test is skipped) where the tool
/// is missing and not required.
pub(crate) fn pdf_text(pdf: &[u8]) -> Option<String> {
    let dir = TempDir::new();
    let file = dir.0.join("invoice.pdf");
    std::fs::write(&file, pdf).unwrap();
    match std::process::Command::new("pdftotext")
        .arg("-layout")
        .arg(&file)
        .arg("-")
        .output()
    {
        Ok(out) => {
            assert!(
                out.status.success(),
                "pdftotext: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            Some(String::from_utf8(out.stdout).unwrap())
        }
        Err(err) => {
            assert!(
                !crate::helpers::required("SOCIALIZIOZ_REQUIRE_PDFTOTEXT"),
                "pdftotext is required: {err}"
            );
            crate::helpers::skip("SKIPPED: pdftotext is not installed (poppler-utils)");
            None
        }
    }
}

async fn each_payment_has_one_invoice_with_the_next_number_and_a_pdf_that_says_so(
    backend: Backend,
) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    let app = &shop.app;
    let (client, ws) = owner_with_workspace(app, ADA).await;
    let res = client
        .submit(
            &format!("/w/{ws}/billing/details"),
            &[
                ("name", "Ζωή Café Ltd"),
                ("address", "Hauptstraße 1\n10115 Berlin"),
                ("country", "de"),
                ("vat_id", "DE 123 456 789"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let request = request_id(&client, ws).await;
    let res = checkout(&client, ws, "starter", &request).await;
    at_paypal(&location(res.headers()), "approve").await;
    let first = shop.sim.paypal_take_events();
    for event in &first {
        shop.sim.paypal_send(event, Transmission::Genuine).await;
    }
    // The sale delivered again: still one invoice for it.
    let sale = first
        .iter()
        .find(|e| e.event_type == "PAYMENT.SALE.COMPLETED")
        .expect("the first payment");
    assert_eq!(
        shop.sim
            .paypal_send(sale, Transmission::Genuine)
            .await
            .status,
        200
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM invoices").await, 1);
    let id = the_subscription(app).await.paypal_id.unwrap();
    shop.sim.paypal_renew(&id).unwrap();
    for d in shop.sim.paypal_deliver().await {
        assert_eq!(d.status, 200, "{d:?}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM invoices").await, 2);
    assert_eq!(app.count("SELECT MIN(seq) FROM invoices").await, 1);
    assert_eq!(app.count("SELECT MAX(seq) FROM invoices").await, 2);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM legal_records WHERE invoice_number IN ('INV-000001', 'INV-000002')")
            .await,
        2
    );

    // The billing page lists them; the PDF says who, what, when and how much.
    let page = client.get_text(&format!("/w/{ws}/billing")).await;
    assert!(
        page.contains("INV-000002") && page.contains("29.00 USD"),
        "{page}"
    );
    let invoice = app.count("SELECT id FROM invoices WHERE seq = 1").await;
    let res = client
        .get(&format!("/w/{ws}/billing/invoices/{invoice}"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    let pdf = res.bytes().await.unwrap();
    // Kept for a person to look at, beside the browser tests' screenshots.
    let artifacts =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/test-artifacts");
    let _ = std::fs::create_dir_all(&artifacts);
    let _ = std::fs::write(artifacts.join(format!("invoice-{backend:?}.pdf")), &pdf);
    if let Some(text) = pdf_text(&pdf) {
        let today = chrono::Utc::now().format("%-d %B %Y").to_string();
        for expected in [
            "Invoice number: INV-000001",
            &format!("Date of issue: {today}"),
            "Socializioz Test Ltd",
            "Ζωή Café Ltd",
            "Hauptstraße 1",
            "VAT id: DE123456789",
            "Starter plan, billed monthly",
            "24.37 USD",
            "VAT 19%",
            "4.63 USD",
            "29.00 USD",
        ] {
            assert!(text.contains(expected), "{expected:?} is not in:\n{text}");
        }
    }
    // Another workspace's invoice is not found; a member who is not an owner or admin is told no.
    let (other, other_ws) = owner_with_workspace(app, "grace@example.com").await;
    let res = other
        .get(&format!("/w/{other_ws}/billing/invoices/{invoice}"))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

async fn invoice_numbers_have_no_gaps_when_payments_arrive_at_once(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    let app = &shop.app;
    let (_client, ws) = owner_with_workspace(app, ADA).await;
    let payment = |n: usize| services::billing::Payment {
        sale_id: format!("SALE-{n}"),
        amount: services::billing::Money {
            cents: 2_900,
            currency: "USD".into(),
        },
        paid_at: services::now(),
    };
    // Twelve payments at once, and one of them delivered twice at once.
    let mut tasks = Vec::new();
    for n in (0..12).chain([5]) {
        let services = app.services.clone();
        let p = payment(n);
        tasks.push(tokio::spawn(async move {
            services
                .invoice_payment(domain::WorkspaceId(ws), "Starter plan", &p)
                .await
                .map(|i| (i.paypal_sale_id, i.seq))
        }));
    }
    let mut issued = Vec::new();
    for task in tasks {
        issued.push(task.await.unwrap().expect("an invoice"));
    }
    let twice: Vec<_> = issued.iter().filter(|(sale, _)| sale == "SALE-5").collect();
    assert_eq!(twice.len(), 2);
    assert_eq!(twice[0].1, twice[1].1, "one invoice for one payment");
    // Twelve invoices numbered 1 to 12: none twice, none missing.
    assert_eq!(app.count("SELECT COUNT(*) FROM invoices").await, 12);
    assert_eq!(
        app.count("SELECT COUNT(DISTINCT seq) FROM invoices").await,
        12
    );
    assert_eq!(app.count("SELECT MIN(seq) FROM invoices").await, 1);
    assert_eq!(app.count("SELECT MAX(seq) FROM invoices").await, 12);
    assert_eq!(
        app.count("SELECT last_number FROM invoice_counter").await,
        12
    );
}

async fn a_suspended_subscription_is_reactivated_and_billed(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    let app = &shop.app;
    let (client, ws, id) = subscribed(&shop, "starter").await;
    shop.sim.paypal_fail_payments(&id, true);
    // PayPal suspends after the third failure in a row (`failure_threshold`).
    for _ in 0..3 {
        shop.sim.paypal_renew(&id).unwrap();
    }
    for d in shop.sim.paypal_deliver().await {
        assert_eq!(d.status, 200, "{d:?}");
    }
    let row = the_subscription(app).await;
    assert_eq!(
        row.status,
        store::entities::states::SubscriptionStatus::Suspended
    );
    assert_eq!(
        plan_of(app, ws).await,
        "starter",
        "still within the grace period"
    );
    let page = client.get_text(&format!("/w/{ws}/billing")).await;
    assert!(page.contains("Reactivate at PayPal"), "{page}");

    shop.sim.paypal_fail_payments(&id, false);
    let res = client
        .submit(&format!("/w/{ws}/billing/reactivate"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    for d in shop.sim.paypal_deliver().await {
        assert_eq!(d.status, 200, "{d:?}");
    }
    let row = the_subscription(app).await;
    assert_eq!(
        row.status,
        store::entities::states::SubscriptionStatus::Active
    );
    assert!(
        row.payment_failed_at.is_none(),
        "the owed payment went through"
    );
    assert_eq!(plan_of(app, ws).await, "starter");
    assert!(app.count("SELECT COUNT(*) FROM invoices").await >= 2);
}

async fn without_the_certificate_paypal_checks_the_signature(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    let app = &shop.app;
    let (client, ws) = owner_with_workspace(app, ADA).await;
    let request = request_id(&client, ws).await;
    let res = checkout(&client, ws, "starter", &request).await;
    at_paypal(&location(res.headers()), "approve").await;
    let events = shop.sim.paypal_take_events();
    let activated = events
        .iter()
        .find(|e| e.event_type == "BILLING.SUBSCRIPTION.ACTIVATED")
        .expect("an activation");
    // Neither the certificate nor PayPal's check answers: PayPal is asked to send it again.
    shop.sim
        .paypal_fail_next(PayPalOp::Certificate, sim::Fault::ServerError);
    shop.sim
        .paypal_fail_next(PayPalOp::Verify, sim::Fault::ServerError);
    let d = shop.sim.paypal_send(activated, Transmission::Genuine).await;
    assert_eq!(d.status, 503);
    assert_eq!(plan_of(app, ws).await, "free");
    // The certificate cannot be had, PayPal's check says yes: accepted.
    shop.sim
        .paypal_fail_next(PayPalOp::Certificate, sim::Fault::ServerError);
    let d = shop.sim.paypal_send(activated, Transmission::Genuine).await;
    assert_eq!(d.status, 200);
    assert_eq!(plan_of(app, ws).await, "starter");
    assert_eq!(
        shop.sim
            .paypal_calls("/v1/notifications/verify-webhook-signature"),
        2
    );
}

async fn the_pricing_page_shows_the_plans_as_configured(backend: Backend) {
    let Some(shop) = shop(backend).await else {
        return;
    };
    let page = shop.app.client().get_text("/pricing").await;
    for expected in [
        "$29.00 a month, or $290.00 a year",
        "$69.00 a month",
        "Price on request",
        "10 GB",
    ] {
        assert!(page.contains(expected), "{expected:?} is not on:\n{page}");
    }
    // Without [billing] there are no plans to sell, and no page.
    let Some(free) = crate::helpers::spawn_app(backend).await else {
        return;
    };
    assert_eq!(
        free.client().get("/pricing").await.status(),
        StatusCode::NOT_FOUND
    );
}

async fn a_certificate_not_issued_to_paypal_is_refused(backend: Backend) {
    // Only the live name is accepted here; the simulator signs as the sandbox's.
    let Some(shop) = shop_with(
        backend,
        r#"cert_names = ["messageverificationcerts.paypal.com"]"#,
    )
    .await
    else {
        return;
    };
    let app = &shop.app;
    let (client, ws) = owner_with_workspace(app, ADA).await;
    let request = request_id(&client, ws).await;
    let res = checkout(&client, ws, "starter", &request).await;
    at_paypal(&location(res.headers()), "approve").await;
    for d in shop.sim.paypal_deliver().await {
        assert_eq!(d.status, 400, "{d:?}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM billing_events").await, 0);
}

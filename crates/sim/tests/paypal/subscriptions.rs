//! A subscription's life: approval on the page, renewals that fail until it is suspended,
//! activation that collects what is owed, a revision that waits for the buyer, cancelling, and
//! the payments listed by time.

use crate::common::param;
use crate::helpers::{CANCEL_URL, PayPal, RETURN_URL, link};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn approving_on_the_page_activates_and_charges_the_first_cycle() {
    let paypal = PayPal::start().await;
    let plan = paypal.plan("Socializioz Pro", "29.00", 3).await;
    let (id, approve) = paypal.subscribe(&plan).await;
    assert!(approve.contains("/paypal/webapps/billing/subscriptions?ba_token=BA-"));

    // Before approval: no subscriber, no billing, and the approve link.
    let pending = paypal.subscription(&id).await;
    assert_eq!(pending["status"], "APPROVAL_PENDING");
    assert_eq!(pending["custom_id"], "workspace-7");
    assert!(pending.get("subscriber").is_none());
    assert!(pending.get("billing_info").is_none());
    assert_eq!(link(&pending, "approve"), approve);

    let page = paypal.http.get(&approve).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    for shown in [
        "PayPal sandbox — simulated, no money moves",
        "Socializioz Pro",
        "29.00 USD per month",
        "buyer@example.com",
        r#"id="approve""#,
        r#"id="cancel""#,
    ] {
        assert!(page.contains(shown), "{shown} is not on the page");
    }

    let (status, location) = paypal.decide(&approve, "approve").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        location.starts_with(&format!("{RETURN_URL}&")),
        "{location}"
    );
    assert_eq!(param(&location, "workspace"), "7");
    assert_eq!(param(&location, "subscription_id"), id);
    assert_eq!(param(&location, "ba_token"), param(&approve, "ba_token"));
    assert!(!param(&location, "token").is_empty());

    let active = paypal.subscription(&id).await;
    assert_eq!(active["status"], "ACTIVE");
    assert_eq!(active["subscriber"]["email_address"], "buyer@example.com");
    assert_eq!(active["subscriber"]["name"]["given_name"], "Sandbox");
    assert!(
        active["subscriber"]["payer_id"]
            .as_str()
            .unwrap()
            .starts_with("PAYER")
    );
    let billing = &active["billing_info"];
    assert_eq!(billing["last_payment"]["amount"]["value"], "29.00");
    assert_eq!(billing["cycle_executions"][0]["cycles_completed"], 1);
    assert_eq!(billing["failed_payments_count"], 0);
    assert_eq!(billing["outstanding_balance"]["value"], "0.00");
    let paid = time(&billing["last_payment"]["time"]);
    let next = time(&billing["next_billing_time"]);
    assert_eq!(
        next,
        paid.checked_add_months(chrono::Months::new(1)).unwrap()
    );

    assert_eq!(
        paypal.queued(),
        [
            "BILLING.SUBSCRIPTION.CREATED",
            "BILLING.SUBSCRIPTION.ACTIVATED",
            "PAYMENT.SALE.COMPLETED"
        ]
    );
    let events = paypal.sim.paypal_events();
    let sale: Value = serde_json::from_str(&events[2].body).unwrap();
    assert_eq!(sale["resource_type"], "sale");
    assert_eq!(sale["resource"]["billing_agreement_id"], id.as_str());
    assert_eq!(sale["resource"]["amount"]["total"], "29.00");
    assert_eq!(sale["resource"]["state"], "completed");
    let activated: Value = serde_json::from_str(&events[1].body).unwrap();
    assert_eq!(activated["resource"]["status"], "ACTIVE");
    assert_eq!(activated["resource"]["id"], id.as_str());

    // A second press only sends the buyer back again.
    let (status, again) = paypal.decide(&approve, "approve").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(param(&again, "subscription_id"), id);
    assert_eq!(paypal.sim.paypal_events().len(), 3);
}

#[tokio::test]
async fn cancelling_on_the_page_changes_nothing() {
    let paypal = PayPal::start().await;
    let plan = paypal.plan("Pro", "29.00", 3).await;
    let (id, approve) = paypal.subscribe(&plan).await;

    let (status, location) = paypal.decide(&approve, "cancel").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        location.starts_with(&format!("{CANCEL_URL}?")),
        "{location}"
    );
    assert_eq!(param(&location, "subscription_id"), id);
    assert_eq!(paypal.subscription(&id).await["status"], "APPROVAL_PENDING");
    assert_eq!(paypal.queued(), ["BILLING.SUBSCRIPTION.CREATED"]);

    let unknown = approve.replace(&param(&approve, "ba_token"), "BA-UNKNOWN");
    let res = paypal.http.get(&unknown).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn failing_payments_suspend_the_subscription_at_the_threshold() {
    let paypal = PayPal::start().await;
    let plan = paypal.plan("Pro", "29.00", 2).await;
    let id = paypal.active(&plan).await;
    let sim = &paypal.sim;

    // A renewal that succeeds moves the next billing a month on.
    let before = time(&paypal.subscription(&id).await["billing_info"]["next_billing_time"]);
    sim.paypal_renew(&id).unwrap();
    let renewed = paypal.subscription(&id).await;
    assert_eq!(
        renewed["billing_info"]["cycle_executions"][0]["cycles_completed"],
        2
    );
    assert_eq!(
        time(&renewed["billing_info"]["next_billing_time"]),
        before.checked_add_months(chrono::Months::new(1)).unwrap()
    );
    assert_eq!(paypal.queued(), ["PAYMENT.SALE.COMPLETED"]);
    sim.paypal_take_events();

    sim.paypal_fail_payments(&id, true);
    sim.paypal_renew(&id).unwrap();
    let failed_once = paypal.subscription(&id).await;
    assert_eq!(failed_once["status"], "ACTIVE");
    assert_eq!(failed_once["billing_info"]["failed_payments_count"], 1);
    assert_eq!(
        failed_once["billing_info"]["outstanding_balance"]["value"],
        "29.00"
    );
    assert_eq!(paypal.queued(), ["BILLING.SUBSCRIPTION.PAYMENT.FAILED"]);

    sim.paypal_renew(&id).unwrap();
    let suspended = paypal.subscription(&id).await;
    assert_eq!(suspended["status"], "SUSPENDED");
    assert_eq!(suspended["billing_info"]["failed_payments_count"], 2);
    assert_eq!(
        suspended["billing_info"]["outstanding_balance"]["value"],
        "58.00"
    );
    assert_eq!(
        paypal.queued(),
        [
            "BILLING.SUBSCRIPTION.PAYMENT.FAILED",
            "BILLING.SUBSCRIPTION.PAYMENT.FAILED",
            "BILLING.SUBSCRIPTION.SUSPENDED"
        ]
    );
    assert!(
        sim.paypal_renew(&id).is_err(),
        "a suspended subscription is not billed"
    );
    sim.paypal_take_events();

    // Activated with payments working again, it collects what is owed.
    sim.paypal_fail_payments(&id, false);
    let (status, _) = paypal
        .post(
            &format!("/v1/billing/subscriptions/{id}/activate"),
            json!({"reason": "Card updated"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let reactivated = paypal.subscription(&id).await;
    assert_eq!(reactivated["status"], "ACTIVE");
    assert_eq!(
        reactivated["billing_info"]["outstanding_balance"]["value"],
        "0.00"
    );
    assert_eq!(reactivated["billing_info"]["failed_payments_count"], 0);
    assert_eq!(
        reactivated["billing_info"]["last_payment"]["amount"]["value"],
        "58.00"
    );
    assert_eq!(
        paypal.queued(),
        ["BILLING.SUBSCRIPTION.ACTIVATED", "PAYMENT.SALE.COMPLETED"]
    );
}

#[tokio::test]
async fn a_revision_changes_the_plan_only_once_the_buyer_approves() {
    let paypal = PayPal::start().await;
    let pro = paypal.plan("Pro", "29.00", 3).await;
    let team = paypal.plan("Team", "99.00", 3).await;
    let (pending, _) = paypal.subscribe(&pro).await;
    let (status, error) = paypal
        .post(
            &format!("/v1/billing/subscriptions/{pending}/revise"),
            json!({"plan_id": team}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["details"][0]["issue"], "SUBSCRIPTION_STATUS_INVALID");

    let id = paypal.active(&pro).await;
    let back = "https://app.example/billing/plan-changed";
    let (status, revision) = paypal
        .post(
            &format!("/v1/billing/subscriptions/{id}/revise"),
            json!({"plan_id": team, "application_context": {"return_url": back}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{revision}");
    assert_eq!(revision["plan_id"], team.as_str());
    assert!(revision["effective_time"].is_string());
    let approve = link(&revision, "approve");
    assert!(approve.contains("/paypal/webapps/billing/subscriptions/update?ba_token=BA-"));
    assert_eq!(paypal.subscription(&id).await["plan_id"], pro.as_str());
    assert!(paypal.queued().is_empty());

    let page = paypal
        .http
        .get(&approve)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Change your plan to Team"));
    assert!(page.contains("99.00 USD per month"));

    let (status, location) = paypal.decide(&approve, "approve").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.starts_with(&format!("{back}?")), "{location}");
    let revised = paypal.subscription(&id).await;
    assert_eq!(revised["plan_id"], team.as_str());
    assert_eq!(revised["status"], "ACTIVE");
    assert_eq!(paypal.queued(), ["BILLING.SUBSCRIPTION.UPDATED"]);

    // The next cycle is billed at the new plan's price.
    paypal.sim.paypal_take_events();
    paypal.sim.paypal_renew(&id).unwrap();
    let renewed = paypal.subscription(&id).await;
    assert_eq!(
        renewed["billing_info"]["last_payment"]["amount"]["value"],
        "99.00"
    );
}

#[tokio::test]
async fn cancel_and_suspend_follow_paypals_transitions() {
    let paypal = PayPal::start().await;
    let plan = paypal.plan("Pro", "29.00", 3).await;
    let id = paypal.active(&plan).await;
    let path = |action: &str| format!("/v1/billing/subscriptions/{id}/{action}");
    let reason = json!({"reason": "Requested by the workspace owner"});

    let (status, error) = paypal.post(&path("activate"), reason.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["details"][0]["issue"], "SUBSCRIPTION_STATUS_INVALID");

    let (status, error) = paypal.post(&path("cancel"), json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a reason is required");
    assert_eq!(error["details"][0]["field"], "/reason");

    let (status, _) = paypal.post(&path("suspend"), reason.clone()).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(paypal.subscription(&id).await["status"], "SUSPENDED");
    let (status, _) = paypal.post(&path("cancel"), reason.clone()).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let cancelled = paypal.subscription(&id).await;
    assert_eq!(cancelled["status"], "CANCELLED");
    assert!(cancelled["billing_info"].get("next_billing_time").is_none());
    assert_eq!(
        paypal.queued(),
        [
            "BILLING.SUBSCRIPTION.SUSPENDED",
            "BILLING.SUBSCRIPTION.CANCELLED"
        ]
    );

    for action in ["cancel", "suspend", "activate"] {
        let (status, error) = paypal.post(&path(action), reason.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{action}");
        assert_eq!(error["name"], "UNPROCESSABLE_ENTITY");
        assert_eq!(error["details"][0]["issue"], "SUBSCRIPTION_STATUS_INVALID");
    }
    assert_eq!(paypal.queued().len(), 2, "refused changes send no events");
}

#[tokio::test]
async fn transactions_are_listed_within_their_window() {
    let paypal = PayPal::start().await;
    let plan = paypal.plan("Pro", "29.00", 3).await;
    let id = paypal.active(&plan).await;
    paypal.sim.paypal_renew(&id).unwrap();
    paypal.sim.paypal_fail_payments(&id, true);
    paypal.sim.paypal_renew(&id).unwrap();
    let path = format!("/v1/billing/subscriptions/{id}/transactions");
    let now = chrono::Utc::now();
    let stamp =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);

    let window = format!(
        "{path}?start_time={}&end_time={}",
        stamp(now - chrono::Duration::hours(1)),
        stamp(now + chrono::Duration::hours(1))
    );
    let (status, listed) = paypal.get(&window).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let transactions = listed["transactions"].as_array().unwrap();
    let statuses: Vec<&str> = transactions
        .iter()
        .map(|t| t["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["COMPLETED", "COMPLETED", "DECLINED"]);
    let first = &transactions[0];
    assert_eq!(
        first["amount_with_breakdown"]["gross_amount"]["value"],
        "29.00"
    );
    assert_eq!(
        first["amount_with_breakdown"]["fee_amount"]["value"],
        "1.50"
    );
    assert_eq!(
        first["amount_with_breakdown"]["net_amount"]["value"],
        "27.50"
    );
    assert_eq!(first["payer_email"], "buyer@example.com");
    assert_eq!(first["payer_name"]["surname"], "Buyer");
    assert!(listed["links"].is_array());

    let earlier = format!(
        "{path}?start_time={}&end_time={}",
        stamp(now - chrono::Duration::days(60)),
        stamp(now - chrono::Duration::days(30))
    );
    let (status, listed) = paypal.get(&earlier).await;
    assert_eq!(status, StatusCode::OK);
    assert!(listed["transactions"].as_array().unwrap().is_empty());

    let (status, error) = paypal
        .get(&format!("{path}?start_time={}", stamp(now)))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["details"][0]["field"], "end_time");
}

fn time(value: &Value) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(value.as_str().unwrap())
        .unwrap()
        .to_utc()
}

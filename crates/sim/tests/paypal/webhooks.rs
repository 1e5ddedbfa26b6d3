//! Webhooks: registration, delivery of the exact bytes with PayPal's headers, signatures that a
//! product can check offline against the simulator's root and online with PayPal, and forged
//! deliveries that fail both checks.

use crate::helpers::{PayPal, Received, receiver, verify_offline};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sim::paypal::{PayPalEvent, Transmission};

/// Registers `url` for every event; the webhook's id.
async fn register(paypal: &PayPal, url: &str) -> String {
    let (status, webhook) = paypal
        .post(
            "/v1/notifications/webhooks",
            json!({"url": url, "event_types": [{"name": "*"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{webhook}");
    webhook["id"].as_str().unwrap().to_owned()
}

/// What PayPal's online check says of a received delivery.
async fn verify_online(paypal: &PayPal, received: &Received, webhook_id: &str) -> String {
    let (status, answer) = paypal
        .post(
            "/v1/notifications/verify-webhook-signature",
            json!({
                "auth_algo": received.header("paypal-auth-algo"),
                "cert_url": received.header("paypal-cert-url"),
                "transmission_id": received.header("paypal-transmission-id"),
                "transmission_sig": received.header("paypal-transmission-sig"),
                "transmission_time": received.header("paypal-transmission-time"),
                "webhook_id": webhook_id,
                "webhook_event": received.json(),
            }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer["verification_status"].as_str().unwrap().to_owned()
}

/// The certificate chain a delivery points at.
async fn chain(paypal: &PayPal, received: &Received) -> String {
    let res = paypal
        .http
        .get(received.header("paypal-cert-url"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.text().await.unwrap()
}

#[tokio::test]
async fn webhooks_are_registered_once_per_url() {
    let paypal = PayPal::start().await;
    let id = register(&paypal, "https://app.example/webhooks/paypal").await;
    let (status, error) = paypal
        .post(
            "/v1/notifications/webhooks",
            json!({"url": "https://app.example/webhooks/paypal", "event_types": [{"name": "*"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["name"], "WEBHOOK_URL_ALREADY_EXISTS");

    let (status, listed) = paypal.get("/v1/notifications/webhooks").await;
    assert_eq!(status, StatusCode::OK);
    let webhooks = listed["webhooks"].as_array().unwrap();
    assert_eq!(webhooks.len(), 1);
    assert_eq!(webhooks[0]["id"], id.as_str());
    assert_eq!(webhooks[0]["event_types"], json!([{"name": "*"}]));
}

#[tokio::test]
async fn delivered_events_are_signed_by_a_certificate_under_the_root() {
    let paypal = PayPal::start().await;
    let (url, received) = receiver().await;
    let webhook_id = register(&paypal, &url).await;
    let plan = paypal.plan("Pro", "29.00", 3).await;
    let (id, approve) = paypal.subscribe(&plan).await;
    paypal.decide(&approve, "approve").await;
    let queued = paypal.sim.paypal_events();

    let deliveries = paypal.sim.paypal_deliver().await;
    assert_eq!(deliveries.len(), 3);
    assert!(deliveries.iter().all(|d| d.status == 200 && d.url == url));
    assert!(
        paypal.sim.paypal_events().is_empty(),
        "delivered events leave the queue"
    );
    let received = received.lock().unwrap().clone();
    assert_eq!(received.len(), 3);

    let root = paypal.sim.paypal_root_pem().unwrap();
    for (event, delivery) in queued.iter().zip(&received) {
        // The exact bytes, in order, with PayPal's headers.
        assert_eq!(delivery.body, event.body.as_bytes());
        assert_eq!(delivery.header("paypal-auth-algo"), "SHA256withRSA");
        assert_eq!(delivery.header("content-type"), "application/json");
        let sent =
            chrono::DateTime::parse_from_rfc3339(&delivery.header("paypal-transmission-time"));
        assert!(sent.is_ok());
        assert_eq!(delivery.header("paypal-transmission-id").len(), 36);

        let chain = chain(&paypal, delivery).await;
        verify_offline(&root, &chain, delivery, &webhook_id).unwrap();
        assert!(
            verify_offline(&root, &chain, delivery, "another-webhook").is_err(),
            "the webhook id is part of what is signed"
        );
        assert_eq!(
            verify_online(&paypal, delivery, &webhook_id).await,
            "SUCCESS"
        );
    }
    let envelope = received[1].json();
    assert_eq!(envelope["event_type"], "BILLING.SUBSCRIPTION.ACTIVATED");
    assert_eq!(envelope["resource_type"], "subscription");
    assert_eq!(envelope["resource_version"], "2.0");
    assert_eq!(envelope["event_version"], "1.0");
    assert_eq!(envelope["resource"]["id"], id.as_str());
    assert_eq!(queued[1].resource_id, id);
}

#[tokio::test]
async fn forged_deliveries_fail_both_checks() {
    let paypal = PayPal::start().await;
    let (url, received) = receiver().await;
    let webhook_id = register(&paypal, &url).await;
    let plan = paypal.plan("Pro", "29.00", 3).await;
    let (_, approve) = paypal.subscribe(&plan).await;
    paypal.decide(&approve, "approve").await;
    let events = paypal.sim.paypal_take_events();
    let activated: &PayPalEvent = &events[1];
    let root = paypal.sim.paypal_root_pem().unwrap();

    let send = |how: Transmission| {
        let (sim, event, expected) = (paypal.sim.clone(), activated.clone(), webhook_id.clone());
        async move {
            let delivery = sim.paypal_send(&event, how).await;
            assert_eq!(delivery.status, 200);
            assert_eq!(delivery.webhook_id, expected);
        }
    };
    let last = || received.lock().unwrap().last().cloned().unwrap();

    send(Transmission::Genuine).await;
    let genuine = last();
    verify_offline(
        &root,
        &chain(&paypal, &genuine).await,
        &genuine,
        &webhook_id,
    )
    .unwrap();
    assert_eq!(
        verify_online(&paypal, &genuine, &webhook_id).await,
        "SUCCESS"
    );

    send(Transmission::TamperedBody).await;
    let tampered = last();
    assert_ne!(tampered.body, activated.body.as_bytes());
    assert_eq!(tampered.body.len(), activated.body.len());
    let parsed: Value = tampered.json();
    assert_eq!(parsed["id"], activated.id.as_str(), "still readable JSON");
    let chain_of_tampered = chain(&paypal, &tampered).await;
    assert!(verify_offline(&root, &chain_of_tampered, &tampered, &webhook_id).is_err());
    assert_eq!(
        verify_online(&paypal, &tampered, &webhook_id).await,
        "FAILURE"
    );

    send(Transmission::RogueCertificate).await;
    let rogue = last();
    assert!(rogue.header("paypal-cert-url").ends_with("/CERT-rogue"));
    let rogue_chain = chain(&paypal, &rogue).await;
    assert!(
        verify_offline(&root, &rogue_chain, &rogue, &webhook_id).is_err(),
        "the rogue certificate does not chain to the trusted root"
    );
    assert_eq!(verify_online(&paypal, &rogue, &webhook_id).await, "FAILURE");

    let elsewhere = "https://certs.example/paypal.pem".to_owned();
    send(Transmission::CertificateUrl(elsewhere.clone())).await;
    let redirected = last();
    assert_eq!(redirected.header("paypal-cert-url"), elsewhere);
    assert_eq!(
        verify_online(&paypal, &redirected, &webhook_id).await,
        "FAILURE"
    );

    let long_ago = chrono::Utc::now() - chrono::Duration::days(3);
    send(Transmission::TransmittedAt(long_ago)).await;
    let replayed = last();
    assert_eq!(
        replayed.header("paypal-transmission-time"),
        long_ago.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    // The signature is genuine: judging the age is the receiver's part.
    assert_eq!(
        verify_online(&paypal, &replayed, &webhook_id).await,
        "SUCCESS"
    );
}

#[tokio::test]
async fn events_go_out_as_they_come_when_asked_to() {
    let paypal = PayPal::start().await;
    let (url, _) = receiver().await;
    register(&paypal, &url).await;
    let plan = paypal.plan("Pro", "29.00", 3).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let (counted_url, _) = counting_receiver(tx).await;
    register(&paypal, &counted_url).await;

    paypal.sim.paypal_auto_deliver(true);
    let (_, approve) = paypal.subscribe(&plan).await;
    paypal.decide(&approve, "approve").await;

    let mut types = Vec::new();
    for _ in 0..3 {
        let event_type = tokio::time::timeout(std::time::Duration::from_secs(30), rx.recv())
            .await
            .expect("the events are delivered")
            .unwrap();
        types.push(event_type);
    }
    assert_eq!(
        types,
        [
            "BILLING.SUBSCRIPTION.CREATED",
            "BILLING.SUBSCRIPTION.ACTIVATED",
            "PAYMENT.SALE.COMPLETED"
        ]
    );
}

/// A webhook endpoint that tells `tx` the type of each event it receives; its URL.
async fn counting_receiver(
    tx: tokio::sync::mpsc::UnboundedSender<String>,
) -> (String, tokio::task::JoinHandle<()>) {
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: axum::body::Bytes| {
            let tx = tx.clone();
            async move {
                let event: Value = serde_json::from_slice(&body).unwrap();
                tx.send(event["event_type"].as_str().unwrap().to_owned())
                    .unwrap();
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let task = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{address}/hook"), task)
}

//! Delivering PayPal's webhook events: a POST of the event's exact JSON bytes to each webhook
//! registered for its type, with `Content-Type: application/json`,
//! `PAYPAL-AUTH-ALGO: SHA256withRSA`, `PAYPAL-CERT-URL`, `PAYPAL-TRANSMISSION-ID`,
//! `PAYPAL-TRANSMISSION-TIME` and `PAYPAL-TRANSMISSION-SIG`: the base64 RSA-SHA256 signature,
//! by the signing certificate's key, of
//! `{transmission id}|{transmission time}|{webhook id}|{CRC32 of the body, unsigned decimal}`.
//! A test can also send an event forged in one of the ways of [`Transmission`]. The simulator
//! does not retry a delivery that failed; a test resends with
//! [`crate::Simulator::paypal_send`]. Each body is kept under its transmission id for the
//! online verification.

use super::webhooks::{PayPalEvent, Webhook};
use super::{ca, hex_id, lock, now, stamp, store};
use crate::Simulator;
use axum::http::header;
use chrono::{DateTime, Utc};
use std::time::Duration;

/// One POST of an event to one webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub event_id: String,
    pub event_type: String,
    pub url: String,
    /// The webhook's id, part of what was signed.
    pub webhook_id: String,
    /// The HTTP status of the answer; 0 when the URL could not be reached.
    pub status: u16,
}

/// How [`crate::Simulator::paypal_send`] signs and sends an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transmission {
    /// As PayPal does.
    Genuine,
    /// Signed as PayPal does, then one character of the body changed (the summary's first
    /// letter changes case, so the body is still valid JSON).
    TamperedBody,
    /// Signed by a forger's certificate that does not chain to the trusted root, and pointing
    /// at it (`…/certs/CERT-rogue`, which the simulator serves).
    RogueCertificate,
    /// Signed as PayPal does, with `PAYPAL-CERT-URL` replaced by this.
    CertificateUrl(String),
    /// Signed as PayPal does, as if transmitted at this time (a replay, or a clock far off).
    TransmittedAt(DateTime<Utc>),
}

/// Delivers the queued events, oldest first, one answer at a time.
pub(super) async fn deliver_queued(sim: &Simulator) -> Vec<Delivery> {
    let turn = lock(&store(sim)).delivering.clone();
    let _turn = turn.lock().await;
    let mut deliveries = Vec::new();
    loop {
        let next = {
            let store = store(sim);
            let mut store = lock(&store);
            store.events.pop_front().map(|event| {
                let webhooks: Vec<Webhook> = store
                    .webhooks
                    .iter()
                    .filter(|w| w.wants(&event.event_type))
                    .cloned()
                    .collect();
                (event, webhooks)
            })
        };
        let Some((event, webhooks)) = next else {
            break;
        };
        for webhook in webhooks {
            deliveries.push(transmit(sim, &event, &webhook, &Transmission::Genuine).await);
        }
    }
    deliveries
}

/// When events are delivered as they come, delivers the queued ones in a task of their own.
pub(super) fn deliver_in_background(sim: &Simulator) {
    let due = {
        let store = store(sim);
        let store = lock(&store);
        store.auto_deliver && !store.events.is_empty()
    };
    if !due {
        return;
    }
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            let sim = sim.clone();
            runtime.spawn(async move {
                deliver_queued(&sim).await;
            });
        }
        Err(_) => tracing::warn!("PayPal events wait: there is no runtime to deliver them on"),
    }
}

pub(super) async fn send(sim: &Simulator, event: &PayPalEvent, how: Transmission) -> Delivery {
    let webhook = lock(&store(sim))
        .webhooks
        .iter()
        .find(|w| w.wants(&event.event_type))
        .cloned();
    match webhook {
        Some(webhook) => transmit(sim, event, &webhook, &how).await,
        None => Delivery {
            event_id: event.id.clone(),
            event_type: event.event_type.clone(),
            url: String::new(),
            webhook_id: String::new(),
            status: 0,
        },
    }
}

/// Signs `event` for `webhook` as `how` says and posts it; the answer's status.
async fn transmit(
    sim: &Simulator,
    event: &PayPalEvent,
    webhook: &Webhook,
    how: &Transmission,
) -> Delivery {
    use base64::Engine;
    let mut delivery = Delivery {
        event_id: event.id.clone(),
        event_type: event.event_type.clone(),
        url: webhook.url.clone(),
        webhook_id: webhook.id.clone(),
        status: 0,
    };
    let authority = match ca::authority(sim) {
        Ok(authority) => authority,
        Err(err) => {
            tracing::error!(error = ?err, "the PayPal simulator could not make its certificates");
            return delivery;
        }
    };
    let transmission_id = format!(
        "{}-{}-{}-{}-{}",
        hex_id(8),
        hex_id(4),
        hex_id(4),
        hex_id(4),
        hex_id(12)
    );
    let time = match how {
        Transmission::TransmittedAt(time) => stamp(*time),
        _ => stamp(now()),
    };
    let signed = event.body.as_bytes();
    let message = format!(
        "{transmission_id}|{time}|{}|{}",
        webhook.id,
        crc32fast::hash(signed)
    );
    let certs = format!("{}/v1/notifications/certs", webhook.api_base);
    let (signature, cert_url) = match how {
        Transmission::RogueCertificate => (
            authority.sign_rogue(message.as_bytes()),
            format!("{certs}/{}", ca::ROGUE),
        ),
        Transmission::CertificateUrl(url) => (authority.sign(message.as_bytes()), url.clone()),
        _ => (
            authority.sign(message.as_bytes()),
            format!("{certs}/{}", authority.cert_name),
        ),
    };
    let signature = match signature {
        Ok(signature) => base64::engine::general_purpose::STANDARD.encode(signature),
        Err(err) => {
            tracing::error!(error = ?err, "the PayPal simulator could not sign an event");
            return delivery;
        }
    };
    let body = match how {
        Transmission::TamperedBody => tamper(signed),
        _ => signed.to_vec(),
    };
    lock(&store(sim))
        .transmitted
        .insert(transmission_id.clone(), body.clone());
    let sent = reqwest::Client::new()
        .post(&webhook.url)
        .timeout(Duration::from_secs(30))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::USER_AGENT, "PayPal/AUHD-214.0-58842211")
        .header("PAYPAL-AUTH-ALGO", "SHA256withRSA")
        .header("PAYPAL-CERT-URL", cert_url)
        .header("PAYPAL-TRANSMISSION-ID", transmission_id)
        .header("PAYPAL-TRANSMISSION-TIME", time)
        .header("PAYPAL-TRANSMISSION-SIG", signature)
        .body(body)
        .send()
        .await;
    match sent {
        Ok(answer) => delivery.status = answer.status().as_u16(),
        Err(err) => {
            tracing::info!(error = %err, url = %webhook.url, "a PayPal webhook could not be reached")
        }
    }
    delivery
}

/// The body with one character changed after signing: the first letter of the summary changes
/// case (the JSON stays valid), or, without one, a space is added at the end.
fn tamper(body: &[u8]) -> Vec<u8> {
    let mut tampered = body.to_vec();
    let marker = b"\"summary\":\"";
    let letter = tampered
        .windows(marker.len())
        .position(|w| w == marker)
        .map(|at| at + marker.len())
        .filter(|at| tampered.get(*at).is_some_and(u8::is_ascii_alphabetic));
    match letter {
        Some(at) => tampered[at] ^= 0x20,
        None => tampered.push(b' '),
    }
    tampered
}

#[cfg(test)]
mod tests {
    use super::tamper;

    #[test]
    fn tampering_changes_one_letter_and_keeps_the_json() {
        let body = br#"{"id":"WH-1","summary":"Subscription activated"}"#;
        let tampered = tamper(body);
        assert_eq!(tampered.len(), body.len());
        assert_eq!(
            std::str::from_utf8(&tampered).unwrap(),
            r#"{"id":"WH-1","summary":"subscription activated"}"#
        );
        assert_eq!(tamper(b"{}"), b"{} ");
    }
}

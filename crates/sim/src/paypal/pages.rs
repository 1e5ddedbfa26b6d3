//! The buyer's page at `www.paypal.com/webapps/billing/subscriptions?ba_token=…` (and
//! `…/subscriptions/update?ba_token=…` for a change of plan): the plan, its price per interval
//! and the sandbox buyer's e-mail, under a banner that says nothing is real, with Approve and
//! Cancel. Approve starts the subscription (or switches its plan) and sends the buyer back to
//! the app's `return_url` with `subscription_id`, `ba_token` and `token`; Cancel sends them to
//! the `cancel_url` with the same and changes nothing. Pressing Approve again, or coming back to
//! the page after approving, only sends the buyer back again.

use super::subscriptions::{Status, Subscriber};
use super::webhooks::{self, EventType};
use super::{Store, billing, lock, now, paypal_id, store, with_store};
use crate::oauth::{Params, back_to, param};
use crate::{Simulator, html_escape};
use axum::Form;
use axum::extract::{Query, State as Shared};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

/// What the buyer is asked to approve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ApprovalKind {
    /// A new subscription.
    Subscription,
    /// A switch of the subscription to another plan.
    Revision { plan_id: String },
}

/// An approval waiting for the buyer, by its `ba_token`.
pub(super) struct Approval {
    subscription_id: String,
    kind: ApprovalKind,
    return_url: Option<String>,
    cancel_url: Option<String>,
    /// The `token` the buyer is sent back with.
    token: String,
    approved: bool,
}

impl Approval {
    pub fn new(
        subscription_id: &str,
        kind: ApprovalKind,
        return_url: Option<String>,
        cancel_url: Option<String>,
    ) -> Self {
        Self {
            subscription_id: subscription_id.to_owned(),
            kind,
            return_url,
            cancel_url,
            token: paypal_id(17),
            approved: false,
        }
    }

    /// Back to the app at `url`, or a page to close when the app gave none.
    fn back(&self, ba_token: &str, url: Option<&str>, what: &str) -> Response {
        match url {
            Some(url) => back_to(
                url,
                &[
                    ("subscription_id", &self.subscription_id),
                    ("ba_token", ba_token),
                    ("token", &self.token),
                ],
            ),
            None => Html(page(
                &format!("Subscription {what}"),
                &format!(
                    "<h1>Subscription {what}</h1><p>You can close this window.</p>",
                    what = html_escape(what)
                ),
            ))
            .into_response(),
        }
    }
}

pub(super) async fn show(Shared(sim): Shared<Simulator>, Query(q): Query<Params>) -> Response {
    let ba_token = param(&q, "ba_token");
    let store = store(&sim);
    let store = lock(&store);
    let Some(approval) = store.approvals.get(ba_token) else {
        return not_found();
    };
    if approval.approved {
        return approval.back(ba_token, approval.return_url.as_deref(), "approved");
    }
    Html(render(&store, approval, ba_token)).into_response()
}

pub(super) async fn decide(
    Shared(sim): Shared<Simulator>,
    Query(q): Query<Params>,
    Form(form): Form<Params>,
) -> Response {
    let ba_token = match param(&form, "ba_token") {
        "" => param(&q, "ba_token").to_owned(),
        token => token.to_owned(),
    };
    let decision = param(&form, "decision").to_owned();
    let email = param(&form, "email").trim().to_owned();
    with_store(&sim, |store| {
        let Some(approval) = store.approvals.get(&ba_token) else {
            return not_found();
        };
        match decision.as_str() {
            "cancel" if !approval.approved => {
                approval.back(&ba_token, approval.cancel_url.as_deref(), "cancelled")
            }
            "approve" | "cancel" => {
                if !approval.approved
                    && let Err(refused) = approve(store, &ba_token, &email)
                {
                    return refused;
                }
                match store.approvals.get(&ba_token) {
                    Some(approval) => {
                        approval.back(&ba_token, approval.return_url.as_deref(), "approved")
                    }
                    None => not_found(),
                }
            }
            _ => (
                StatusCode::BAD_REQUEST,
                "decision must be approve or cancel",
            )
                .into_response(),
        }
    })
}

/// Carries out an approval: the subscription starts, or switches plan.
fn approve(store: &mut Store, ba_token: &str, email: &str) -> Result<(), Response> {
    let Some(approval) = store.approvals.get(ba_token) else {
        return Err(not_found());
    };
    let (id, kind) = (approval.subscription_id.clone(), approval.kind.clone());
    let Some(sub) = store.subscription_mut(&id) else {
        return Err(not_found());
    };
    match kind {
        ApprovalKind::Subscription => {
            let buyer = store.buyer.clone();
            let email = if email.is_empty() {
                buyer.email
            } else {
                email.to_owned()
            };
            let subscriber = Subscriber {
                payer_id: payer_id(&email),
                email,
                given_name: buyer.given_name,
                surname: buyer.surname,
            };
            billing::start(store, &id, subscriber, now());
        }
        ApprovalKind::Revision { plan_id } => {
            if !matches!(sub.status, Status::Active | Status::Suspended) {
                return Err(refused_page(
                    "This subscription can no longer be changed: it is not active.",
                ));
            }
            sub.plan_id = plan_id;
            sub.updated = now();
            webhooks::queue_subscription(store, &id, EventType::Updated);
        }
    }
    if let Some(approval) = store.approvals.get_mut(ba_token) {
        approval.approved = true;
    }
    Ok(())
}

/// A buyer's stable payer id, from their e-mail.
fn payer_id(email: &str) -> String {
    use sha2::Digest;
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let digest = sha2::Sha256::digest(email.to_lowercase().as_bytes());
    let tail: String = digest[..8]
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect();
    format!("PAYER{tail}")
}

fn render(store: &Store, approval: &Approval, ba_token: &str) -> String {
    let sub = store.subscription(&approval.subscription_id);
    let plan_id = match &approval.kind {
        ApprovalKind::Subscription => sub.map(|s| s.plan_id.as_str()).unwrap_or_default(),
        ApprovalKind::Revision { plan_id } => plan_id,
    };
    let (plan_name, price) = match store.plans.get(plan_id) {
        Some(plan) => (
            plan.name.clone(),
            format!(
                "{} {} per {}",
                plan.price.value(),
                plan.price.currency,
                plan.interval.label(plan.interval_count)
            ),
        ),
        None => (plan_id.to_owned(), String::new()),
    };
    let merchant = sub
        .and_then(|s| s.brand_name.clone())
        .unwrap_or_else(|| "the merchant".to_owned());
    let heading = match approval.kind {
        ApprovalKind::Subscription => "Subscribe to",
        ApprovalKind::Revision { .. } => "Change your plan to",
    };
    let token = html_escape(ba_token);
    page(
        &format!("{heading} {plan_name}"),
        &format!(
            r#"<h1>{heading} {plan}</h1>
<p>With <strong id="merchant">{merchant}</strong>: <strong id="price">{price}</strong>, billed through PayPal until you cancel.</p>
<form method="post">
<input type="hidden" name="ba_token" value="{token}">
<p><label for="email">Pay with the sandbox PayPal account</label><br><input id="email" name="email" type="email" value="{email}"></p>
<button type="submit" name="decision" value="approve" id="approve">Approve</button>
</form>
<form method="post">
<input type="hidden" name="ba_token" value="{token}">
<button type="submit" name="decision" value="cancel" id="cancel">Cancel</button>
</form>"#,
            plan = html_escape(&plan_name),
            merchant = html_escape(&merchant),
            price = html_escape(&price),
            email = html_escape(&store.buyer.email),
        ),
    )
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Html(page(
            "Not found",
            "<h1>This link has expired</h1><p>The PayPal simulator knows no approval with this \
             token.</p>",
        )),
    )
        .into_response()
}

fn refused_page(why: &str) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Html(page(
            "Cannot change",
            &format!("<h1>Cannot change</h1><p>{}</p>", html_escape(why)),
        )),
    )
        .into_response()
}

/// A page under the sandbox banner; `body` is HTML, already escaped.
fn page(title: &str, body: &str) -> String {
    format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · PayPal (simulated)</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}}
#simulated{{background:#fff3c4;border:2px solid #8a6d00;padding:.75rem 1rem;border-radius:6px}}
form{{display:inline-block;margin-right:1rem}} button{{font-size:1rem;padding:.5rem 1.25rem}}
button:focus-visible,input:focus-visible{{outline:3px solid #003087;outline-offset:2px}}</style></head>
<body><main>
<p id="simulated" role="status"><strong>PayPal sandbox — simulated, no money moves.</strong> This page is the Socializioz PayPal simulator, not PayPal.</p>
{body}
</main></body></html>"#,
        title = html_escape(title),
    )
}

//! A workspace's plan, this month's use of each limit, and with PayPal: the checkout, the return
//! from PayPal ("waiting for PayPal" until PayPal confirms), a change of plan, cancelling and
//! reactivating. Absent (404) when the instance has no `[billing]` section, since then every
//! workspace has everything.

use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::extract::WorkspaceMember;
use crate::flash::{Flash, redirect_with};
use crate::page::Layout;
use crate::routes::{fmt_time, render, rerender};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::{Form, http::header};
use domain::Role;
use domain::plans::PlanId;
use serde::Deserialize;
use services::ServiceError;
use services::billing::{Change, Checkout, Current, Interval, Money};
use services::policies::Acceptor;
use store::entities::states::SubscriptionStatus as Status;

struct Line {
    what: &'static str,
    used: String,
    /// "of 10", or "unlimited".
    most: String,
    /// The bar, when the limit has a number.
    bar: Option<u64>,
}

/// A plan that can be bought, with its prices.
struct Offer {
    slug: &'static str,
    label: &'static str,
    monthly: Option<String>,
    yearly: Option<String>,
}

/// The subscription, in words.
struct Subscription {
    plan: String,
    every: &'static str,
    status: String,
    paid_until: Option<String>,
    /// "Changes to Starter on 1 Jan 2027", or waiting for approval.
    change: Option<String>,
    /// After a failed payment: when the plan ends unless a payment goes through.
    grace_ends: Option<String>,
    approve_url: Option<String>,
    can_change: bool,
    can_cancel: bool,
    can_reactivate: bool,
}

/// An invoice in the billing history.
struct InvoiceRow {
    id: i64,
    number: String,
    issued: String,
    amount: String,
}

#[derive(Template)]
#[template(path = "workspaces/billing.html")]
struct BillingPage {
    layout: Layout,
    id: i64,
    plan: String,
    month: String,
    lines: Vec<Line>,
    /// PayPal is how plans are bought here.
    paypal: bool,
    owner: bool,
    offers: Vec<Offer>,
    subscription: Option<Subscription>,
    /// The checkout form's one-time id.
    request_id: String,
    error: Option<String>,
    /// Owners and admins see the invoices.
    invoices: Option<Vec<InvoiceRow>>,
    /// The billing details as stored or as typed.
    details: services::billing::Details,
}

/// A price in US dollars as the plans are published: `$29.00`.
pub(crate) fn dollars(cents: u64) -> String {
    format!(
        "${}",
        Money::decimal(i64::try_from(cents).unwrap_or(i64::MAX))
    )
}

fn price(cents: Option<u64>) -> Option<String> {
    cents.filter(|c| *c > 0).map(dollars)
}

fn every(interval: &str) -> &'static str {
    if interval == "year" { "year" } else { "month" }
}

fn describe(c: &Current, tz: &str) -> Subscription {
    let row = &c.row;
    let label = |slug: &str| PlanId::parse(slug).map_or("Free", |p| p.label()).to_owned();
    let status = match row.status {
        Status::ApprovalPending => "waiting for your approval at PayPal",
        Status::Approved => "approved at PayPal; waiting for PayPal to confirm the payment",
        Status::Active if row.payment_failed_at.is_some() => {
            "payment failed; PayPal will try again"
        }
        Status::Active => "active",
        Status::Suspended => "suspended by PayPal after failed payments",
        Status::Cancelled if c.live => "cancelled; the plan lasts until the end of the paid period",
        Status::Cancelled => "cancelled",
        Status::Expired => "expired",
        Status::Creating | Status::Failed | Status::Abandoned => "not started",
    };
    let change = match (&row.change_to, row.change_from) {
        (Some(to), Some(from)) if row.change_approved => Some(format!(
            "Moves to {} on {}.",
            label(to),
            fmt_time(&from, tz)
        )),
        (Some(to), _) => Some(format!(
            "A move to {} waits for your approval at PayPal.",
            label(to)
        )),
        _ => None,
    };
    Subscription {
        plan: label(&row.plan),
        every: every(&row.interval),
        status: status.to_owned(),
        paid_until: row.paid_until.map(|t| fmt_time(&t, tz)),
        change,
        grace_ends: c
            .grace_ends
            .filter(|_| c.live && row.payment_failed_at.is_some())
            .map(|t| fmt_time(&t, tz)),
        approve_url: row
            .approve_url
            .clone()
            .filter(|_| row.status == Status::ApprovalPending),
        can_change: c.live && row.status == Status::Active,
        can_cancel: c.live && matches!(row.status, Status::Active | Status::Suspended),
        can_reactivate: row.status == Status::Suspended,
    }
}

async fn build(
    state: &AppState,
    m: &WorkspaceMember,
    error: Option<String>,
    typed: Option<services::billing::Details>,
) -> AppResult<BillingPage> {
    let services = &state.services;
    if !services.billing.is_on() {
        return Err(AppError::NotFound);
    }
    let ws = m.membership.workspace_id();
    let view = services.plan_view(ws).await?;
    let lines = view
        .lines
        .iter()
        .map(|l| Line {
            what: l.limit.noun(),
            used: l.limit.amount(l.used),
            most: l.most.map_or_else(
                || "unlimited".to_owned(),
                |n| format!("of {}", l.limit.amount(n)),
            ),
            bar: l.most.map(|_| l.percent()),
        })
        .collect();
    let paypal = services.billing.paypal.is_some();
    let offers = PlanId::ALL
        .iter()
        .map(|p| (p, services.billing.catalogue.plan(*p)))
        .filter(|(_, terms)| {
            terms.monthly_cents.unwrap_or(0) > 0 || terms.yearly_cents.unwrap_or(0) > 0
        })
        .map(|(p, terms)| Offer {
            slug: p.slug(),
            label: p.label(),
            monthly: price(terms.monthly_cents),
            yearly: price(terms.yearly_cents),
        })
        .collect();
    let tz = m.auth.user.timezone.as_str();
    let subscription = services
        .current_subscription(ws)
        .await?
        .map(|c| describe(&c, tz));
    let invoices = if paypal && matches!(m.membership.role, Role::Owner | Role::Admin) {
        Some(
            services
                .invoices(&m.membership)
                .await?
                .into_iter()
                .map(|i| InvoiceRow {
                    id: i.id,
                    number: i.number,
                    issued: fmt_time(&i.issued_at, tz),
                    amount: format!("{} {}", Money::decimal(i.gross_minor), i.currency),
                })
                .collect(),
        )
    } else {
        None
    };
    let details = match typed {
        Some(d) => d,
        None => services.billing_details(ws).await?.unwrap_or_default(),
    };
    Ok(BillingPage {
        layout: Layout::for_member(state, m, "Plan and billing"),
        id: ws.0,
        plan: view.plan.label().to_owned(),
        month: view.month,
        lines,
        paypal,
        owner: m.membership.role == Role::Owner,
        offers,
        subscription,
        request_id: services::tokens::random_token(),
        error,
        invoices,
        details,
    })
}

pub async fn page(State(state): State<AppState>, m: WorkspaceMember) -> AppResult {
    render(build(&state, &m, None, None).await?)
}

/// Shows the page again with the refusal in words (PayPal unreachable, a form out of date).
async fn refused(state: &AppState, m: &WorkspaceMember, err: ServiceError) -> AppResult {
    match err {
        ServiceError::Invalid { message, .. } | ServiceError::Unavailable(message) => {
            rerender(build(state, m, Some(message), None).await?)
        }
        other => Err(other.into()),
    }
}

/// Sends the browser to PayPal (a 303 to an address of PayPal's).
fn to_paypal(url: &str) -> AppResult {
    Ok(Redirect::to(url).into_response())
}

#[derive(Deserialize)]
pub struct CheckoutForm {
    plan: String,
    interval: String,
    request_id: String,
    /// The Terms and the Refund Policy.
    #[serde(default)]
    accept: Option<String>,
}

fn plan_and_interval(plan: &str, interval: &str) -> Result<(PlanId, Interval), ServiceError> {
    let plan = PlanId::parse(plan).map_err(|_| ServiceError::invalid("plan", "Choose a plan."))?;
    let interval = Interval::parse(interval)
        .ok_or_else(|| ServiceError::invalid("plan", "Choose monthly or yearly billing."))?;
    Ok((plan, interval))
}

pub async fn checkout(
    State(state): State<AppState>,
    m: WorkspaceMember,
    Form(form): Form<CheckoutForm>,
) -> AppResult {
    let (plan, interval) = match plan_and_interval(&form.plan, &form.interval) {
        Ok(x) => x,
        Err(err) => return refused(&state, &m, err).await,
    };
    let who = Acceptor {
        user_id: m.auth.user.id,
        consent_id: m.ctx.consent.cookie.as_ref().map(|c| c.id.clone()),
        locale: m.ctx.lang.code().to_owned(),
        client: m.ctx.client.clone(),
        browser: m.ctx.browser.clone(),
    };
    let checkout = Checkout {
        plan,
        interval,
        request_id: form.request_id,
        accepted_terms: form.accept.is_some(),
    };
    match state
        .services
        .start_checkout(&m.membership, &who, &checkout)
        .await
    {
        Ok(url) => to_paypal(&url),
        Err(err) => refused(&state, &m, err).await,
    }
}

#[derive(Deserialize)]
pub struct FromPayPal {
    #[serde(default)]
    subscription_id: String,
}

#[derive(Template)]
#[template(path = "workspaces/billing_return.html")]
struct ReturnPage {
    layout: Layout,
    id: i64,
    /// PayPal confirmed: the plan is in effect.
    confirmed: bool,
    plan: String,
}

/// PayPal sends the owner back here after approving. The plan changes when PayPal confirms it;
/// until then the page says so and looks again every few seconds.
pub async fn returned(
    State(state): State<AppState>,
    m: WorkspaceMember,
    Query(q): Query<FromPayPal>,
) -> AppResult {
    let row = state
        .services
        .checkout_returned(&m.membership, q.subscription_id.trim())
        .await?;
    // Confirmed: active, and any change of plan approved (a downgrade then waits for its day,
    // which the billing page says).
    let confirmed = row.status == Status::Active
        && (row.change_to.is_none() || row.change_approved)
        && row.payment_failed_at.is_none();
    let plan = PlanId::parse(&row.plan)
        .map_or("Free", |p| p.label())
        .to_owned();
    let mut res = render(ReturnPage {
        layout: Layout::for_member(&state, &m, "Back from PayPal"),
        id: m.membership.workspace.id,
        confirmed,
        plan,
    })?;
    if !confirmed {
        res.headers_mut()
            .insert(header::REFRESH, header::HeaderValue::from_static("3"));
    }
    Ok(res)
}

/// PayPal sends the owner back here after choosing not to approve.
pub async fn cancelled(
    State(state): State<AppState>,
    m: WorkspaceMember,
    Query(q): Query<FromPayPal>,
) -> AppResult {
    let ws = m.membership.workspace.id;
    if !q.subscription_id.trim().is_empty() {
        // Unknown or someone else's: the same page, since nothing was bought either way.
        match state
            .services
            .checkout_abandoned(&m.membership, q.subscription_id.trim())
            .await
        {
            Ok(()) | Err(ServiceError::NotFound) => {}
            Err(err) => return Err(err.into()),
        }
    }
    Ok(redirect_with(
        &format!("/w/{ws}/billing"),
        Flash::CheckoutAbandoned,
    ))
}

#[derive(Deserialize)]
pub struct ChangeForm {
    plan: String,
    interval: String,
}

pub async fn change(
    State(state): State<AppState>,
    m: WorkspaceMember,
    Form(form): Form<ChangeForm>,
) -> AppResult {
    let result = match plan_and_interval(&form.plan, &form.interval) {
        Ok((plan, interval)) => {
            state
                .services
                .change_plan(&m.membership, Change { plan, interval })
                .await
        }
        Err(err) => Err(err),
    };
    match result {
        Ok(url) => to_paypal(&url),
        Err(err) => refused(&state, &m, err).await,
    }
}

pub async fn cancel(State(state): State<AppState>, m: WorkspaceMember) -> AppResult {
    match state.services.cancel_subscription(&m.membership).await {
        Ok(_) => Ok(redirect_with(
            &format!("/w/{}/billing", m.membership.workspace.id),
            Flash::SubscriptionCancelled,
        )),
        Err(err) => refused(&state, &m, err).await,
    }
}

pub async fn reactivate(State(state): State<AppState>, m: WorkspaceMember) -> AppResult {
    match state.services.reactivate_subscription(&m.membership).await {
        Ok(()) => Ok(redirect_with(
            &format!("/w/{}/billing", m.membership.workspace.id),
            Flash::SubscriptionReactivated,
        )),
        Err(err) => refused(&state, &m, err).await,
    }
}

#[derive(Deserialize)]
pub struct DetailsForm {
    name: String,
    address: String,
    country: String,
    #[serde(default)]
    vat_id: String,
}

/// Saves who the invoices are made out to (owners).
pub async fn details(
    State(state): State<AppState>,
    m: WorkspaceMember,
    Form(form): Form<DetailsForm>,
) -> AppResult {
    let typed = services::billing::Details {
        name: form.name.clone(),
        address: form.address.clone(),
        country: form.country.clone(),
        vat_id: Some(form.vat_id.clone()).filter(|v| !v.is_empty()),
    };
    let saved = match services::billing::Details::parse(
        &form.name,
        &form.address,
        &form.country,
        &form.vat_id,
    ) {
        Ok(details) => {
            state
                .services
                .save_billing_details(&m.membership, domain::UserId(m.auth.user.id), &details)
                .await
        }
        Err(err) => Err(err),
    };
    match saved {
        Ok(()) => Ok(redirect_with(
            &format!("/w/{}/billing", m.membership.workspace.id),
            Flash::BillingDetailsSaved,
        )),
        Err(err @ ServiceError::Fields(_)) => {
            rerender(build(&state, &m, Some(err.to_string()), Some(typed)).await?)
        }
        Err(err) => Err(err.into()),
    }
}

/// One invoice as a PDF (owners and admins).
pub async fn invoice(
    State(state): State<AppState>,
    m: WorkspaceMember,
    crate::extract::PathIds((_, id)): crate::extract::PathIds<(domain::WorkspaceId, i64)>,
) -> AppResult {
    let (number, pdf) = state.services.invoice_pdf(&m.membership, id).await?;
    let file: String = number
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"invoice-{file}.pdf\""),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        pdf,
    )
        .into_response())
}

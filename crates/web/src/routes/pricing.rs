//! The public pricing page: the plans as this instance sells them (the published catalogue with
//! the operator's changes), their prices, limits, platforms and features. Absent (404) without
//! a `[billing]` section, where every workspace has everything.

use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::extract::Ctx;
use crate::page::Layout;
use crate::routes::render;
use crate::routes::workspaces::billing::dollars;
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use domain::plans::{Feature, Limit, PlanId};

pub fn router() -> Router<AppState> {
    Router::new().route("/pricing", get(page))
}

/// One line of the comparison: what, and one cell per plan.
struct Row {
    what: &'static str,
    cells: Vec<String>,
}

/// A feature, and whether each plan has it.
struct FeatureRow {
    what: &'static str,
    has: Vec<bool>,
}

#[derive(Template)]
#[template(path = "pricing.html")]
struct PricingPage {
    layout: Layout,
    plans: Vec<&'static str>,
    /// Price, then every limit, then the platforms.
    rows: Vec<Row>,
    features: Vec<FeatureRow>,
    /// Plans are bought on each workspace's billing page (PayPal), or assigned by the operator.
    paypal: bool,
}

async fn page(State(state): State<AppState>, Ctx(ctx): Ctx) -> AppResult {
    let billing = &state.services.billing;
    if !billing.is_on() {
        return Err(AppError::NotFound);
    }
    let plans: Vec<_> = PlanId::ALL
        .iter()
        .map(|id| billing.catalogue.plan(*id))
        .collect();
    let mut rows = vec![Row {
        what: "Price",
        cells: plans
            .iter()
            .map(|plan| {
                let monthly = match (plan.monthly_cents, plan.id) {
                    (Some(c), _) if c > 0 => format!("{} a month", dollars(c)),
                    (_, PlanId::Free) => "Free".to_owned(),
                    _ => "Price on request".to_owned(),
                };
                match plan.yearly_cents.filter(|c| *c > 0) {
                    Some(c) => format!("{monthly}, or {} a year", dollars(c)),
                    None => monthly,
                }
            })
            .collect(),
    }];
    for limit in Limit::ALL {
        rows.push(Row {
            what: limit.noun(),
            cells: plans
                .iter()
                .map(|p| {
                    p.limit(limit)
                        .map_or_else(|| "Unlimited".to_owned(), |n| limit.amount(n))
                })
                .collect(),
        });
    }
    rows.push(Row {
        what: "Platforms",
        cells: plans
            .iter()
            .map(|p| {
                p.platforms
                    .iter()
                    .map(|x| x.label())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .collect(),
    });
    let features = Feature::ALL
        .iter()
        .map(|f| FeatureRow {
            what: f.label(),
            has: plans.iter().map(|p| p.has(*f)).collect(),
        })
        .collect();
    render(PricingPage {
        layout: Layout::new(&state, &ctx, "Pricing").await?,
        plans: PlanId::ALL.iter().map(|p| p.label()).collect(),
        rows,
        features,
        paypal: billing.paypal.is_some(),
    })
}

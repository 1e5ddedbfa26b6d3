//! PayPal's catalog products and billing plans: `POST /v1/catalogs/products`,
//! `POST /v1/billing/plans` and `GET /v1/billing/plans/{id}`. A plan here has one regular
//! billing cycle with a fixed price (what a subscription product sells); trial cycles and
//! tiered pricing are refused with a 400 that says the simulator does not take them.

use super::answers::{
    authorised, fault, invalid_value, missing, not_found, read_body, unprocessable,
};
use super::{Money, PayPalOp, Product, api_base, link, lock, now, paypal_id, stamp, store};
use crate::Simulator;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State as Shared};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

/// How often a plan bills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Interval {
    Day,
    Week,
    Month,
    Year,
}

impl Interval {
    fn parse(unit: &str) -> Option<Self> {
        match unit {
            "DAY" => Some(Self::Day),
            "WEEK" => Some(Self::Week),
            "MONTH" => Some(Self::Month),
            "YEAR" => Some(Self::Year),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Day => "DAY",
            Self::Week => "WEEK",
            Self::Month => "MONTH",
            Self::Year => "YEAR",
        }
    }

    /// `count` of these after `time`.
    pub fn after(self, time: DateTime<Utc>, count: u32) -> DateTime<Utc> {
        let later = match self {
            Self::Day => time.checked_add_days(chrono::Days::new(u64::from(count))),
            Self::Week => time.checked_add_days(chrono::Days::new(7 * u64::from(count))),
            Self::Month => time.checked_add_months(chrono::Months::new(count)),
            Self::Year => time.checked_add_months(chrono::Months::new(12 * count)),
        };
        later.unwrap_or(time)
    }

    /// For people: "month", "3 months".
    pub fn label(self, count: u32) -> String {
        let unit = self.as_str().to_lowercase();
        if count == 1 {
            unit
        } else {
            format!("{count} {unit}s")
        }
    }
}

/// Whether subscribers can be signed up to a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PlanStatus {
    Created,
    Active,
    Inactive,
}

impl PlanStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Created => "CREATED",
            Self::Active => "ACTIVE",
            Self::Inactive => "INACTIVE",
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct Plan {
    pub id: String,
    pub product_id: String,
    pub name: String,
    pub description: Option<String>,
    pub status: PlanStatus,
    pub interval: Interval,
    pub interval_count: u32,
    /// 0: bills until cancelled.
    pub total_cycles: u32,
    pub price: Money,
    pub auto_bill_outstanding: bool,
    /// Failed payments in a row that suspend a subscription; 0: never.
    pub failure_threshold: u32,
    pub created: DateTime<Utc>,
}

#[derive(Deserialize)]
struct NewProduct {
    name: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    description: Option<String>,
    category: Option<String>,
}

pub(super) async fn create_product(
    Shared(sim): Shared<Simulator>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(answer) = fault(&sim, PayPalOp::CreateProduct).await {
        return answer;
    }
    if let Err(refused) = authorised(&sim, &headers) {
        return refused;
    }
    let new: NewProduct = match read_body(&body) {
        Ok(new) => new,
        Err(refused) => return refused,
    };
    let Some(name) = new.name.filter(|n| !n.trim().is_empty()) else {
        return missing("/name");
    };
    let kind = new.kind.unwrap_or_else(|| "PHYSICAL".to_owned());
    if !["PHYSICAL", "DIGITAL", "SERVICE"].contains(&kind.as_str()) {
        return invalid_value("/type", "The value of a field is invalid.");
    }
    let product = Product {
        id: format!("PROD-{}", paypal_id(17)),
        name,
        description: new.description,
        kind,
        category: new.category,
        created: now(),
    };
    let base = api_base(&headers);
    let href = format!("{base}/v1/catalogs/products/{}", product.id);
    let mut answer = json!({
        "id": product.id,
        "name": product.name,
        "type": product.kind,
        "create_time": stamp(product.created),
        "update_time": stamp(product.created),
        "links": [link(&href, "self", "GET"), link(&href, "edit", "PATCH")],
    });
    if let Some(description) = &product.description {
        answer["description"] = json!(description);
    }
    if let Some(category) = &product.category {
        answer["category"] = json!(category);
    }
    lock(&store(&sim))
        .products
        .insert(product.id.clone(), product);
    (StatusCode::CREATED, Json(answer)).into_response()
}

#[derive(Deserialize)]
struct NewPlan {
    product_id: Option<String>,
    name: Option<String>,
    status: Option<String>,
    description: Option<String>,
    billing_cycles: Option<Vec<Cycle>>,
    payment_preferences: Option<Preferences>,
}

#[derive(Deserialize)]
struct Cycle {
    frequency: Option<Frequency>,
    tenure_type: Option<String>,
    total_cycles: Option<u32>,
    pricing_scheme: Option<PricingScheme>,
}

#[derive(Deserialize)]
struct Frequency {
    interval_unit: Option<String>,
    interval_count: Option<u32>,
}

#[derive(Deserialize)]
struct PricingScheme {
    fixed_price: Option<Amount>,
}

#[derive(Deserialize)]
struct Amount {
    value: Option<String>,
    currency_code: Option<String>,
}

#[derive(Deserialize)]
struct Preferences {
    auto_bill_outstanding: Option<bool>,
    payment_failure_threshold: Option<u32>,
}

pub(super) async fn create_plan(
    Shared(sim): Shared<Simulator>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(answer) = fault(&sim, PayPalOp::CreatePlan).await {
        return answer;
    }
    if let Err(refused) = authorised(&sim, &headers) {
        return refused;
    }
    let plan = match read_body(&body).and_then(read_plan) {
        Ok(plan) => plan,
        Err(refused) => return refused,
    };
    let store = store(&sim);
    let mut store = lock(&store);
    if !store.products.contains_key(&plan.product_id) {
        return unprocessable(
            "INVALID_PRODUCT_ID",
            "The specified product ID does not exist.",
        );
    }
    let answer = plan_json(&plan, &api_base(&headers), full(&headers));
    store.plans.insert(plan.id.clone(), plan);
    (StatusCode::CREATED, Json(answer)).into_response()
}

/// A plan from its request body, or PayPal's 400 about the first thing wrong with it.
fn read_plan(new: NewPlan) -> Result<Plan, Response> {
    let product_id = new.product_id.ok_or_else(|| missing("/product_id"))?;
    let name = new
        .name
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| missing("/name"))?;
    let status = match new.status.as_deref().unwrap_or("ACTIVE") {
        "ACTIVE" => PlanStatus::Active,
        "CREATED" => PlanStatus::Created,
        "INACTIVE" => PlanStatus::Inactive,
        _ => return Err(invalid_value("/status", "The value of a field is invalid.")),
    };
    let mut cycles = new
        .billing_cycles
        .ok_or_else(|| missing("/billing_cycles"))?;
    if cycles.len() != 1 || cycles[0].tenure_type.as_deref() != Some("REGULAR") {
        return Err(invalid_value(
            "/billing_cycles",
            "The simulator takes exactly one billing cycle, of tenure_type REGULAR.",
        ));
    }
    let cycle = cycles.remove(0);
    let frequency = cycle
        .frequency
        .ok_or_else(|| missing("/billing_cycles/0/frequency"))?;
    let interval = frequency
        .interval_unit
        .as_deref()
        .and_then(Interval::parse)
        .ok_or_else(|| missing("/billing_cycles/0/frequency/interval_unit"))?;
    let interval_count = frequency.interval_count.unwrap_or(1);
    if interval_count == 0 {
        return Err(invalid_value(
            "/billing_cycles/0/frequency/interval_count",
            "The value of a field is invalid.",
        ));
    }
    let price = cycle
        .pricing_scheme
        .and_then(|p| p.fixed_price)
        .ok_or_else(|| missing("/billing_cycles/0/pricing_scheme/fixed_price"))?;
    let price = Money::parse(
        price.value.as_deref().unwrap_or_default(),
        price.currency_code.as_deref().unwrap_or_default(),
    )
    .ok_or_else(|| {
        invalid_value(
            "/billing_cycles/0/pricing_scheme/fixed_price",
            "The value of a field is invalid.",
        )
    })?;
    let preferences = new
        .payment_preferences
        .ok_or_else(|| missing("/payment_preferences"))?;
    Ok(Plan {
        id: format!("P-{}", paypal_id(24)),
        product_id,
        name,
        description: new.description,
        status,
        interval,
        interval_count,
        total_cycles: cycle.total_cycles.unwrap_or(1),
        price,
        auto_bill_outstanding: preferences.auto_bill_outstanding.unwrap_or(true),
        failure_threshold: preferences.payment_failure_threshold.unwrap_or(0),
        created: now(),
    })
}

pub(super) async fn get_plan(
    Shared(sim): Shared<Simulator>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Some(answer) = fault(&sim, PayPalOp::GetPlan).await {
        return answer;
    }
    if let Err(refused) = authorised(&sim, &headers) {
        return refused;
    }
    let store = store(&sim);
    let store = lock(&store);
    match store.plans.get(&id) {
        Some(plan) => Json(plan_json(plan, &api_base(&headers), true)).into_response(),
        None => not_found(None),
    }
}

/// Whether the caller asked for the whole resource (`Prefer: return=representation`) rather
/// than PayPal's default minimal answer.
pub(super) fn full(headers: &HeaderMap) -> bool {
    headers
        .get("prefer")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("return=representation"))
}

/// A plan as PayPal writes it: the minimal answer to its creation, or (`full`) the whole plan.
fn plan_json(plan: &Plan, base: &str, full: bool) -> Value {
    let href = format!("{base}/v1/billing/plans/{}", plan.id);
    let created = stamp(plan.created);
    let mut answer = json!({
        "id": plan.id,
        "product_id": plan.product_id,
        "name": plan.name,
        "status": plan.status.as_str(),
        "usage_type": "LICENSED",
        "create_time": created,
        "links": [
            link(&href, "self", "GET"),
            link(&href, "edit", "PATCH"),
            link(&format!("{href}/deactivate"), "deactivate", "POST"),
        ],
    });
    if let Some(description) = &plan.description {
        answer["description"] = json!(description);
    }
    if full {
        answer["billing_cycles"] = json!([{
            "pricing_scheme": {
                "version": 1,
                "fixed_price": plan.price.json(),
                "create_time": created,
                "update_time": created,
            },
            "frequency": {
                "interval_unit": plan.interval.as_str(),
                "interval_count": plan.interval_count,
            },
            "tenure_type": "REGULAR",
            "sequence": 1,
            "total_cycles": plan.total_cycles,
        }]);
        answer["payment_preferences"] = json!({
            "service_type": "PREPAID",
            "auto_bill_outstanding": plan.auto_bill_outstanding,
            "setup_fee": plan.price.of(0).json(),
            "setup_fee_failure_action": "CONTINUE",
            "payment_failure_threshold": plan.failure_threshold,
        });
        answer["taxes"] = json!({"percentage": "0", "inclusive": false});
        answer["quantity_supported"] = json!(false);
        answer["update_time"] = json!(created);
    }
    answer
}

//! A member's post analytics: `GET /rest/memberCreatorPostAnalytics?q=entity&entity=…&
//! queryType=…&aggregation=TOTAL`, one metric per call, with `r_member_postAnalytics`.
//!
//! The entity is a Rest.li union naming the post's kind: `(share:urn%3Ali%3Ashare%3A…)` or
//! `(ugc:urn%3Ali%3AugcPost%3A…)` (the URN encoded inside it). The answer is a collection of one
//! element, `{count, metricType:{"…CreatorPostAnalyticsMetricTypeV1": "IMPRESSION"}}`. Only the
//! member's own posts have analytics: another member's is refused (403), and a post LinkedIn
//! does not have is not found (404; LinkedIn's exact answer for a deleted post is not
//! documented). The `me` finder and daily aggregation are not simulated (400).
//!
//! The figures are [`crate::metrics`]' (a post's by its age on the simulator's clock, grown as
//! the kind of figure it is), and each one answered is noted with [`Simulator::report`] under
//! LinkedIn's query type (`IMPRESSION`, …) and the post's URN. Faults: `Op::Metrics`.

use super::{
    access_denied, authorised, bad_request, check_rest_headers, fault_response, not_found,
};
use crate::metrics::post_total;
use crate::oauth::{Params, param};
use crate::{Op, Simulator};
use axum::Json;
use axum::extract::{Query, State as Shared};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use domain::Platform;
use serde_json::json;

/// What reading a member's post analytics needs.
const SCOPE: &str = "r_member_postAnalytics";
/// The metrics a member's post has, one per call, each with the kind of figure it is as
/// [`post_total`] grows it (impressions far above reactions, reactions above comments).
const QUERY_TYPES: [(&str, &str); 5] = [
    ("IMPRESSION", "impressions"),
    ("MEMBERS_REACHED", "reach"),
    ("RESHARE", "shares"),
    ("REACTION", "reactions"),
    ("COMMENT", "comments"),
];
/// The union member that names the metric type in an element.
const METRIC_TYPE: &str =
    "com.linkedin.adsexternalapi.memberanalytics.v1.CreatorPostAnalyticsMetricTypeV1";

/// The post URN inside an entity union, `(share:urn:li:share:1)` once decoded; none when the
/// union is malformed or its member does not fit the URN's kind.
fn entity_urn(entity: &str) -> Option<&str> {
    let inner = entity.strip_prefix('(')?.strip_suffix(')')?;
    let (kind, urn) = inner.split_once(':')?;
    let fits = match kind {
        "share" => urn.starts_with("urn:li:share:"),
        "ugc" => urn.starts_with("urn:li:ugcPost:"),
        _ => false,
    };
    fits.then_some(urn)
}

pub(super) async fn post_analytics(
    Shared(sim): Shared<Simulator>,
    headers: HeaderMap,
    Query(q): Query<Params>,
) -> Response {
    if let Err(refused) = check_rest_headers(&headers) {
        return refused;
    }
    if let Some(fault) = sim.take_fault(Platform::LinkedIn, Op::Metrics) {
        return fault_response(fault).await;
    }
    let grant = match authorised(&sim, &headers, &[SCOPE]) {
        Ok(grant) => grant,
        Err(refused) => return refused,
    };
    if param(&q, "q") != "entity" {
        return bad_request("Only the entity finder (q=entity) is simulated");
    }
    let Some(urn) = entity_urn(param(&q, "entity")) else {
        return bad_request(
            "entity must be (share:{share URN}) or (ugc:{ugcPost URN}), the URN encoded",
        );
    };
    let query_type = param(&q, "queryType");
    let Some((_, kind)) = QUERY_TYPES.iter().find(|(t, _)| *t == query_type) else {
        let known: Vec<&str> = QUERY_TYPES.iter().map(|(t, _)| *t).collect();
        return bad_request(&format!("queryType must be one of {}", known.join(", ")));
    };
    if param(&q, "aggregation") != "TOTAL" {
        return bad_request("Only aggregation=TOTAL is simulated");
    }
    let owner = sim.post(Platform::LinkedIn, urn).map(|p| p.user_id);
    match owner {
        None => return not_found(&format!("No post {urn}")),
        Some(owner) if owner != grant.user_id => {
            return access_denied(&format!(
                "Not enough permissions to access analytics of {urn}"
            ));
        }
        Some(_) => {}
    }
    let age = sim.age_of(Platform::LinkedIn, urn).unwrap_or_default();
    let count = post_total(urn, kind, age);
    sim.report(Platform::LinkedIn, urn, query_type, count);
    Json(json!({
        "paging": {"start": 0, "count": 10, "links": [], "total": 1},
        "elements": [{
            "count": count,
            "metricType": {METRIC_TYPE: query_type},
        }],
    }))
    .into_response()
}

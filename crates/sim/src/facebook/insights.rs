//! A Facebook Page's insights and a post's counts, as Graph answers them now.
//!
//! `GET /{page-id}/insights?metric=…&period=day&since&until` gives, per metric, one value per
//! whole day of the window (`since` and `until` as Unix times or dates; at most 90 days; days
//! not yet over have none), each with the `end_time` that closes its day (Pacific midnight,
//! written in UTC). Views (`page_media_view`) come split into organic and paid entries
//! (`is_from_ads` "0" and "1") that add up to the day's views. `GET /{post-id}/insights` gives a
//! post's lifetime totals, its reactions as an object by type (types nobody used left out).
//! Both need the page's own token with `read_insights` (code 200 without it); a person's token
//! is refused with Graph's code 190, and an object that is not the page's is unknown.
//!
//! A post's node also gives its counts when asked for them
//! (`reactions.summary(total_count)`, `comments.summary(total_count)`, `shares`, the latter
//! absent while nobody shared it), with `pages_read_engagement` (code 10 without it).
//!
//! Metrics Meta removed on 2025-11-15 (`page_fans` and its breakdowns, every `*impressions*`
//! metric), like any other name Graph does not know, are answered with its code 100 "The value
//! must be a valid insights metric", refusing the whole call.
//!
//! The figures are [`crate::metrics`]' (a post's by its age on the simulator's clock, a page's
//! by day), keyed by Facebook's own names, and each one answered is noted with
//! [`Simulator::report`]: a page's daily values oldest first (the last noted is the newest day),
//! views as the day's total, a post's reactions as their sum under
//! `post_reactions_by_type_total` and each type under `post_reactions_by_type_total.<type>`, and
//! its counts under `reactions`, `comments` and `shares`. Faults: `Op::Metrics` on both insights
//! edges and on a post's counts.

use super::{Caller, caller, page_of};
use crate::graph::{
    Answer, GraphError, end_time, err, graph_fault, insight_days, insight_window, invalid_metric,
    metric_names, require_scope,
};
use crate::metrics::{daily, post_total, seed};
use crate::oauth::{Params, param};
use crate::{Grant, Op, Simulator};
use axum::Json;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use domain::Platform;
use serde_json::{Value, json};

const INSIGHTS_SCOPE: &str = "read_insights";
const COUNTS_SCOPE: &str = "pages_read_engagement";
/// The most days one page insights call may span.
const WINDOW_DAYS: i64 = 90;
/// A page's daily metrics: name, title, description.
const PAGE_METRICS: [(&str, &str, &str); 4] = [
    (
        "page_total_media_view_unique",
        "Total media viewers",
        "Daily: people who saw the page's content at least once.",
    ),
    (
        "page_media_view",
        "Media views",
        "Daily: times the page's content was seen, organic and paid.",
    ),
    (
        "page_post_engagements",
        "Post engagements",
        "Daily: reactions, comments, shares and clicks on the page's posts.",
    ),
    (
        "page_daily_follows",
        "Daily follows",
        "Daily: new followers of the page.",
    ),
];
/// A post's lifetime metrics: name, title, description.
const POST_METRICS: [(&str, &str, &str); 4] = [
    (
        "post_total_media_view_unique",
        "Total media viewers",
        "Lifetime: people who saw the post at least once.",
    ),
    (
        "post_media_view",
        "Media views",
        "Lifetime: times the post was seen.",
    ),
    (
        "post_reactions_by_type_total",
        "Reactions by type",
        "Lifetime: the post's reactions, by type.",
    ),
    (
        "post_clicks",
        "Post clicks",
        "Lifetime: clicks anywhere on the post.",
    ),
];
/// Facebook's reaction types, as the by-type object names them.
const REACTIONS: [&str; 6] = ["like", "love", "wow", "haha", "sorry", "anger"];
/// The fields of a post's node that are counts.
pub(super) const COUNT_FIELDS: [&str; 3] = ["reactions", "comments", "shares"];

/// Each name once, in the order asked, each one known; else Graph's invalid metric error.
fn known_metrics(
    params: &Params,
    known: &[(&'static str, &'static str, &'static str)],
) -> Result<Vec<(&'static str, &'static str, &'static str)>, GraphError> {
    let mut picked: Vec<(&str, &str, &str)> = Vec::new();
    for name in metric_names(params)? {
        let Some(metric) = known.iter().find(|(n, _, _)| *n == name) else {
            return Err(invalid_metric());
        };
        if !picked.iter().any(|(n, _, _)| *n == name) {
            picked.push(*metric);
        }
    }
    Ok(picked)
}

/// `GET /{page-id}/insights` or `GET /{post-id}/insights`.
pub(super) async fn read(sim: &Simulator, node: &str, p: &Params, headers: &HeaderMap) -> Answer {
    if let Some(fault) = sim.take_fault(Platform::Facebook, Op::Metrics) {
        return Err(graph_fault(fault, Platform::Facebook, node).await);
    }
    let caller = caller(sim, p, headers)?;
    // Graph's answer to a person's token where the page's own is needed.
    let needs_page_token = || {
        GraphError::new(
            190,
            "(#190) This method must be called with a Page Access Token",
        )
    };
    let username = caller.grant().username.clone();
    if page_of(&username, node).is_some() {
        return match caller {
            Caller::Page { token, page } if page.id == node => {
                require_scope(&token.grant, INSIGHTS_SCOPE, 200)?;
                Ok(page_insights(sim, &page.id, p)?)
            }
            Caller::Page { .. } => Err(err(GraphError::unknown_object(node))),
            Caller::User { .. } => Err(needs_page_token().into()),
        };
    }
    let owner = sim.post(Platform::Facebook, node).map(|post| post.user_id);
    match (caller, owner) {
        (Caller::Page { token, page }, Some(owner)) if owner == page.id => {
            require_scope(&token.grant, INSIGHTS_SCOPE, 200)?;
            Ok(post_insights(sim, node, p)?)
        }
        (Caller::User { .. }, Some(owner)) if page_of(&username, &owner).is_some() => {
            Err(needs_page_token().into())
        }
        _ => Err(err(GraphError::unknown_object(node))),
    }
}

fn page_insights(sim: &Simulator, page: &str, p: &Params) -> Result<Response, GraphError> {
    let metrics = known_metrics(p, &PAGE_METRICS)?;
    let today = sim.now().date_naive();
    let (since, until) = insight_window(p, today, 2, WINDOW_DAYS)?;
    // These metrics are daily only: another period has no values.
    if !matches!(param(p, "period"), "" | "day") {
        return Ok(Json(json!({ "data": [] })).into_response());
    }
    let days = insight_days(since, until, today);
    let data: Vec<Value> = metrics
        .into_iter()
        .map(|(name, title, description)| {
            let mut values = Vec::new();
            for day in &days {
                let total = daily(page, name, *day);
                let end = end_time(*day);
                if name == "page_media_view" {
                    let share = seed(&[page, name, &day.to_string(), "paid"]) % 30;
                    let paid = total * share as i64 / 100;
                    values
                        .push(json!({"value": total - paid, "end_time": end, "is_from_ads": "0"}));
                    values.push(json!({"value": paid, "end_time": end, "is_from_ads": "1"}));
                } else {
                    values.push(json!({"value": total, "end_time": end}));
                }
                sim.report(Platform::Facebook, page, name, total);
            }
            json!({
                "name": name,
                "period": "day",
                "values": values,
                "title": title,
                "description": description,
                "id": format!("{page}/insights/{name}/day"),
            })
        })
        .collect();
    Ok(Json(json!({ "data": data })).into_response())
}

/// The post's reactions of each type at `age`, the types nobody used left out.
fn reactions_by_type(post: &str, age: Duration) -> Vec<(&'static str, i64)> {
    REACTIONS
        .into_iter()
        .map(|kind| {
            let name = format!("post_reactions_by_type_total.{kind}");
            (kind, post_total(post, &name, age))
        })
        .filter(|(_, n)| *n > 0)
        .collect()
}

fn post_insights(sim: &Simulator, post: &str, p: &Params) -> Result<Response, GraphError> {
    let metrics = known_metrics(p, &POST_METRICS)?;
    // These metrics are lifetime totals only: another period has no values.
    if !matches!(param(p, "period"), "" | "lifetime") {
        return Ok(Json(json!({ "data": [] })).into_response());
    }
    let age = sim.age_of(Platform::Facebook, post).unwrap_or_default();
    let data: Vec<Value> = metrics
        .into_iter()
        .map(|(name, title, description)| {
            let value = if name == "post_reactions_by_type_total" {
                let types = reactions_by_type(post, age);
                let mut by_type = serde_json::Map::new();
                for (kind, n) in &types {
                    sim.report(Platform::Facebook, post, &format!("{name}.{kind}"), *n);
                    by_type.insert((*kind).to_owned(), json!(n));
                }
                let sum = types.iter().map(|(_, n)| n).sum();
                sim.report(Platform::Facebook, post, name, sum);
                Value::Object(by_type)
            } else {
                let n = post_total(post, name, age);
                sim.report(Platform::Facebook, post, name, n);
                json!(n)
            };
            json!({
                "name": name,
                "period": "lifetime",
                "values": [{ "value": value }],
                "title": title,
                "description": description,
                "id": format!("{post}/insights/{name}/lifetime"),
            })
        })
        .collect();
    Ok(Json(json!({ "data": data })).into_response())
}

/// Adds the counts among `asked` to the fields `all` of the post `post`, read by `grant`:
/// reactions and comments as summaries, shares only once someone shared it.
pub(super) fn counts(
    sim: &Simulator,
    post: &str,
    grant: &Grant,
    asked: &[String],
    all: &mut serde_json::Map<String, Value>,
) -> Result<(), GraphError> {
    require_scope(grant, COUNTS_SCOPE, 10)?;
    let age = sim.age_of(Platform::Facebook, post).unwrap_or_default();
    let wants = |field: &str| asked.iter().any(|a| a == field);
    if wants("reactions") {
        let total = reactions_by_type(post, age)
            .iter()
            .map(|(_, n)| n)
            .sum::<i64>();
        sim.report(Platform::Facebook, post, "reactions", total);
        all.insert(
            "reactions".into(),
            json!({"data": [], "summary": {"total_count": total, "viewer_reaction": "NONE"}}),
        );
    }
    if wants("comments") {
        let total = post_total(post, "comments", age);
        sim.report(Platform::Facebook, post, "comments", total);
        all.insert(
            "comments".into(),
            json!({"data": [], "summary": {"order": "ranked", "total_count": total, "can_comment": true}}),
        );
    }
    if wants("shares") {
        let total = post_total(post, "shares", age);
        sim.report(Platform::Facebook, post, "shares", total);
        if total > 0 {
            all.insert("shares".into(), json!({ "count": total }));
        }
    }
    Ok(())
}

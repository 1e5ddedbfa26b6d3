//! An Instagram account's and its media's insights, as Graph answers them now.
//!
//! `GET /{ig-user-id}/insights?metric=…&period=day` takes `since` and `until` (Unix times or
//! dates; at most 30 days apart; by default the last day). With `metric_type=total_value` each
//! metric is one total over the window's whole days; without it (`time_series`) a metric is one
//! value per day with the `end_time` closing the day, which only `reach` and `follower_count`
//! allow (the others are refused as Graph refuses them). `follower_count`, new followers a day,
//! is kept for the last 30 days only (an earlier `since` is refused) and left out of the answer
//! for an account with fewer than 100 followers. Days not yet over have no figures.
//!
//! `GET /{ig-media-id}/insights?metric=…` gives a post's lifetime totals as `values: [{value}]`.
//! `impressions` and `plays`, removed from the API, are refused there as on the account, like
//! any name Instagram does not know, with code 100.
//!
//! Both need the account's token with `instagram_business_manage_insights` (code 10 without
//! it); the account must be the token's own and professional, the media the account's own
//! (another is an unknown object). Faults: `Op::Metrics` on both.
//!
//! The figures are [`crate::metrics`]' keyed by Instagram's own names, each one answered noted
//! with [`Simulator::report`] under that name: a total as answered, a series day by day, oldest
//! first (the last noted is the newest day).

use super::{authorised, lock, personal, store};
use crate::graph::{
    Answer, GraphError, end_time, err, graph_fault, insight_days, insight_window, metric_names,
    require_scope,
};
use crate::metrics::{daily, followers_on, post_total};
use crate::oauth::{Params, param};
use crate::{Op, Simulator};
use axum::Json;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chrono::{Duration, NaiveTime};
use domain::Platform;
use serde_json::{Value, json};

const INSIGHTS_SCOPE: &str = "instagram_business_manage_insights";
/// An account's daily metrics: name and title.
const ACCOUNT_METRICS: [(&str, &str); 11] = [
    ("views", "Views"),
    ("reach", "Accounts reached"),
    ("accounts_engaged", "Accounts engaged"),
    ("total_interactions", "Content interactions"),
    ("likes", "Likes"),
    ("comments", "Comments"),
    ("shares", "Shares"),
    ("saves", "Saves"),
    ("replies", "Replies"),
    ("profile_links_taps", "Profile link taps"),
    ("follower_count", "Follower count"),
];
/// The account metrics also given day by day; the others only as a total.
const SERIES_METRICS: [&str; 2] = ["reach", "follower_count"];
/// A post's lifetime metrics: name and title.
const MEDIA_METRICS: [(&str, &str); 7] = [
    ("views", "Views"),
    ("reach", "Accounts reached"),
    ("saved", "Saved"),
    ("likes", "Likes"),
    ("comments", "Comments"),
    ("shares", "Shares"),
    ("total_interactions", "Interactions"),
];
/// Metrics Instagram removed, refused with a word on what replaced them.
const REMOVED: [&str; 2] = ["impressions", "plays"];
/// The most days an account insights window may span.
const WINDOW_DAYS: i64 = 30;
/// How far back new followers are kept.
const FOLLOWER_DAYS: i64 = 30;
/// Below this many followers, Instagram does not give new followers.
const FOLLOWERS_FOR_COUNT: i64 = 100;

/// Each name once, in the order asked, with its title; a removed or unknown name is refused.
fn known_metrics(
    params: &Params,
    known: &[(&'static str, &'static str)],
) -> Result<Vec<(&'static str, &'static str)>, GraphError> {
    let mut picked: Vec<(&str, &str)> = Vec::new();
    for (i, name) in metric_names(params)?.into_iter().enumerate() {
        if REMOVED.contains(&name.as_str()) {
            return Err(GraphError::invalid(format!(
                "(#100) The {name} metric is no longer supported; views replaces it."
            )));
        }
        let Some(metric) = known.iter().find(|(n, _)| *n == name) else {
            let names: Vec<&str> = known.iter().map(|(n, _)| *n).collect();
            return Err(GraphError::invalid(format!(
                "(#100) metric[{i}] must be one of the following values: {}",
                names.join(", ")
            )));
        };
        if !picked.iter().any(|(n, _)| *n == name) {
            picked.push(*metric);
        }
    }
    Ok(picked)
}

/// `GET /{ig-user-id}/insights` or `GET /{ig-media-id}/insights`.
pub(super) async fn read(sim: &Simulator, node: &str, p: &Params, headers: &HeaderMap) -> Answer {
    if let Some(fault) = sim.take_fault(Platform::Instagram, Op::Metrics) {
        return Err(graph_fault(fault, Platform::Instagram, node).await);
    }
    let token = authorised(sim, p, headers)?;
    let grant = token.grant;
    let media_owner = {
        let store = store(sim);
        let store = lock(&store);
        store.media.get(node).map(|(owner, _)| owner.clone())
    };
    if let Some(owner) = media_owner {
        if owner != grant.user_id {
            return Err(err(GraphError::unknown_object(node)));
        }
        require_scope(&grant, INSIGHTS_SCOPE, 10)?;
        return Ok(media_insights(sim, node, p)?);
    }
    if node != grant.user_id && node != "me" {
        return Err(err(GraphError::unknown_object(node)));
    }
    require_scope(&grant, INSIGHTS_SCOPE, 10)?;
    if personal(&grant) {
        return Err(err(GraphError::new(
            10,
            "(#10) Insights are only available to professional accounts.",
        )));
    }
    Ok(account_insights(sim, &grant.user_id, p)?)
}

fn account_insights(sim: &Simulator, user: &str, p: &Params) -> Result<Response, GraphError> {
    let metrics = known_metrics(p, &ACCOUNT_METRICS)?;
    if param(p, "period") != "day" {
        return Err(GraphError::invalid(
            "(#100) period must be one of the following values: day",
        ));
    }
    let total = match param(p, "metric_type") {
        "total_value" => true,
        "" | "time_series" => false,
        other => {
            return Err(GraphError::invalid(format!(
                "(#100) metric_type must be total_value or time_series; got '{other}'."
            )));
        }
    };
    if !total {
        let only_totals: Vec<&str> = metrics
            .iter()
            .map(|(n, _)| *n)
            .filter(|n| !SERIES_METRICS.contains(n))
            .collect();
        if !only_totals.is_empty() {
            return Err(GraphError::invalid(format!(
                "(#100) The following metrics ({}) should be specified with parameter \
                 metric_type=total_value",
                only_totals.join(", ")
            )));
        }
    }
    let today = sim.now().date_naive();
    let (since, until) = insight_window(p, today, 1, WINDOW_DAYS)?;
    let asks_follows = metrics.iter().any(|(n, _)| *n == "follower_count");
    let kept_from = (today - Duration::days(FOLLOWER_DAYS))
        .and_time(NaiveTime::MIN)
        .and_utc();
    if asks_follows && since < kept_from {
        return Err(GraphError::invalid(
            "(#100) follower_count is only available for the last 30 days, excluding the \
             current day.",
        ));
    }
    let few_followers = followers_on(user, today) < FOLLOWERS_FOR_COUNT;
    let days = insight_days(since, until, today);
    let data: Vec<Value> = metrics
        .into_iter()
        .filter(|(name, _)| !(*name == "follower_count" && few_followers))
        .map(|(name, title)| {
            let mut entry = json!({
                "name": name,
                "period": "day",
                "title": title,
                "description": format!("{title} on each day."),
                "id": format!("{user}/insights/{name}/day"),
            });
            if total {
                let value: i64 = days.iter().map(|day| daily(user, name, *day)).sum();
                sim.report(Platform::Instagram, user, name, value);
                entry["total_value"] = json!({ "value": value });
            } else {
                let values: Vec<Value> = days
                    .iter()
                    .map(|day| {
                        let value = daily(user, name, *day);
                        sim.report(Platform::Instagram, user, name, value);
                        json!({"value": value, "end_time": end_time(*day)})
                    })
                    .collect();
                entry["values"] = json!(values);
            }
            entry
        })
        .collect();
    Ok(Json(json!({ "data": data })).into_response())
}

fn media_insights(sim: &Simulator, media: &str, p: &Params) -> Result<Response, GraphError> {
    let metrics = known_metrics(p, &MEDIA_METRICS)?;
    let age = sim.age_of(Platform::Instagram, media).unwrap_or_default();
    let data: Vec<Value> = metrics
        .into_iter()
        .map(|(name, title)| {
            let value = post_total(media, name, age);
            sim.report(Platform::Instagram, media, name, value);
            json!({
                "name": name,
                "period": "lifetime",
                "values": [{ "value": value }],
                "title": title,
                "description": format!("{title} over the post's lifetime."),
                "id": format!("{media}/insights/{name}/lifetime"),
            })
        })
        .collect();
    Ok(Json(json!({ "data": data })).into_response())
}

//! X's figures: posts looked up by id (`GET /2/tweets?ids=…&tweet.fields=public_metrics`, up to
//! 100 at a time, `tweet.read` and `users.read`) and the user's own `public_metrics` on
//! `GET /2/users/me` (the route is in `x.rs`).
//!
//! X answers a lookup with 200 even when some posts are missing: the posts it has in `data`, and
//! one entry per missing post in `errors` ("Not Found Error", the id in `value` and `resource_id`);
//! with none found, `errors` alone. An id that is not a number refuses the whole call (400).
//! Replies are kept as comments here, not as posts, so they are not found.
//!
//! The figures are [`crate::metrics`]' (a post's by its age on the simulator's clock, grown as the
//! kind of figure it is; followers by day), and each one answered is noted with
//! [`Simulator::report`] under X's own name and the post's or the user's id. Faults: `Op::Metrics`
//! on the lookup, and on `users/me` when it asks for `public_metrics` alone.

use super::{authorised, fault_response, invalid};
use crate::metrics::{followers_on, post_total, seed};
use crate::oauth::{Params, param};
use crate::{Op, Post, Simulator};
use axum::Json;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use domain::Platform;
use serde_json::{Map, Value, json};

/// The most posts one lookup may name.
const MOST_IDS: usize = 100;
/// A post's public counts, as `public_metrics` names them.
const PUBLIC_METRICS: [&str; 6] = [
    "retweet_count",
    "reply_count",
    "like_count",
    "quote_count",
    "bookmark_count",
    "impression_count",
];
/// The `tweet.fields` the simulator answers (X knows more; asking for one it does not have is
/// refused, as X refuses an unknown field).
const TWEET_FIELDS: [&str; 5] = ["id", "text", "author_id", "created_at", "public_metrics"];

/// The user's `public_metrics` now, its followers noted as answered.
pub(super) fn user_metrics(sim: &Simulator, user_id: &str) -> Value {
    let followers = followers_on(user_id, sim.now().date_naive());
    sim.report(Platform::X, user_id, "followers_count", followers);
    let posts = sim.count_posts_by(Platform::X, user_id);
    json!({
        "followers_count": followers,
        "following_count": 12 + seed(&[user_id, "following_count"]) % 300,
        "tweet_count": 345 + posts,
        "listed_count": 1,
    })
}

/// The kind of figure a public metric is, as [`post_total`] grows it (impressions far above
/// likes, likes above replies).
fn kind(name: &str) -> &str {
    match name {
        "impression_count" => "impressions",
        "like_count" => "likes",
        "reply_count" => "comments",
        "retweet_count" => "shares",
        "bookmark_count" => "saves",
        other => other,
    }
}

/// A post's `public_metrics` now, each noted as answered.
fn post_metrics(sim: &Simulator, id: &str) -> Value {
    let age = sim.age_of(Platform::X, id).unwrap_or_default();
    let counts: Map<String, Value> = PUBLIC_METRICS
        .iter()
        .map(|name| {
            let n = post_total(id, kind(name), age);
            sim.report(Platform::X, id, name, n);
            ((*name).to_owned(), json!(n))
        })
        .collect();
    Value::Object(counts)
}

/// The post object with the fields asked for (`id` and `text` always).
fn post_object(sim: &Simulator, post: &Post, fields: &[&str]) -> Value {
    let mut object = json!({"id": post.id, "text": post.text});
    for field in fields {
        match *field {
            "author_id" => object["author_id"] = json!(post.user_id),
            "created_at" => {
                if let Some(at) = sim.published_at(Platform::X, &post.id) {
                    object["created_at"] =
                        json!(at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
                }
            }
            "public_metrics" => object["public_metrics"] = post_metrics(sim, &post.id),
            _ => {}
        }
    }
    object
}

/// X's entry in `errors` for a post it does not have.
fn not_found(id: &str) -> Value {
    json!({
        "value": id,
        "detail": format!("Could not find tweet with ids: [{id}]."),
        "title": "Not Found Error",
        "resource_type": "tweet",
        "parameter": "ids",
        "resource_id": id,
        "type": "https://api.twitter.com/2/problems/resource-not-found",
    })
}

/// `GET /2/tweets?ids=…&tweet.fields=…`.
pub(super) async fn lookup(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Query(q): Query<Params>,
) -> Response {
    if let Some(fault) = sim.take_fault(Platform::X, Op::Metrics) {
        return fault_response(fault).await;
    }
    for scope in ["tweet.read", "users.read"] {
        if let Err(refused) = authorised(&sim, &headers, scope) {
            return refused;
        }
    }
    let mut ids: Vec<&str> = Vec::new();
    for id in param(&q, "ids").split(',').filter(|id| !id.is_empty()) {
        if !id.bytes().all(|b| b.is_ascii_digit()) || id.len() > 19 {
            return invalid(format!(
                "The `ids` query parameter value [{id}] is not valid"
            ));
        }
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    if ids.is_empty() || ids.len() > MOST_IDS {
        return invalid(format!(
            "The `ids` query parameter must hold 1 to {MOST_IDS} ids"
        ));
    }
    let fields: Vec<&str> = param(&q, "tweet.fields")
        .split(',')
        .filter(|f| !f.is_empty())
        .collect();
    if let Some(unknown) = fields.iter().find(|f| !TWEET_FIELDS.contains(f)) {
        return invalid(format!(
            "The `tweet.fields` query parameter value [{unknown}] is not one of [{}]",
            TWEET_FIELDS.join(",")
        ));
    }
    let mut data = Vec::new();
    let mut errors = Vec::new();
    for id in ids {
        match sim.post(Platform::X, id) {
            Some(post) => data.push(post_object(&sim, &post, &fields)),
            None => errors.push(not_found(id)),
        }
    }
    let mut answer = Map::new();
    if !data.is_empty() {
        answer.insert("data".into(), Value::Array(data));
    }
    if !errors.is_empty() {
        answer.insert("errors".into(), Value::Array(errors));
    }
    Json(Value::Object(answer)).into_response()
}

//! A page's own posts, `GET /{page-id}/posts`, read with the page's token or the token of a
//! person who manages it, and `pages_read_engagement` (code 10 without it): newest first,
//! `limit` (25 by default, at most 100) a page, the next one behind `paging.next` (an absolute
//! address with an `after` cursor and, as Graph writes it, the `access_token`); `since` and
//! `until` (Unix seconds, or a date Graph reads) bound the window on the simulator's clock.
//! Each post has its `id`, `message` (left out when it has none), `created_time` and
//! `permalink_url`; asking for a field a post does not know is Graph's code 100. Stories are
//! not posts of the page's feed and are not listed.
//!
//! Faults: `Op::Listing`.

use super::{Caller, caller, page_of};
use crate::graph::{Answer, GraphError, err, fields, graph_fault, require_scope, token_of};
use crate::listing::{self, Listed};
use crate::oauth::{Params, param};
use crate::{Op, Simulator};
use axum::Json;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use chrono::{DateTime, NaiveDate, Utc};
use domain::Platform;
use serde_json::{Value, json};

const DEFAULT_LIMIT: usize = 25;
const MOST_LIMIT: usize = 100;
/// The fields a listed post knows here.
const POST_FIELDS: [&str; 4] = ["id", "message", "created_time", "permalink_url"];

/// `GET /{page-id}/posts`.
pub(super) async fn read(
    sim: &Simulator,
    version: &str,
    node: &str,
    p: &Params,
    headers: &HeaderMap,
) -> Answer {
    if let Some(fault) = sim.take_fault(Platform::Facebook, Op::Listing) {
        return Err(graph_fault(fault, Platform::Facebook, node).await);
    }
    let caller = caller(sim, p, headers)?;
    let page = match &caller {
        Caller::Page { page, .. } if page.id == node => page_of(&caller.grant().username, node),
        Caller::User { token } => page_of(&token.grant.username, node),
        Caller::Page { .. } => None,
    }
    .ok_or_else(|| err::<GraphError>(GraphError::unknown_object(node)))?;
    require_scope(caller.grant(), "pages_read_engagement", 10)?;
    let asked = fields(p).unwrap_or_else(|| {
        ["created_time", "message", "id"]
            .map(str::to_owned)
            .to_vec()
    });
    if let Some(unknown) = asked.iter().find(|f| !POST_FIELDS.contains(&f.as_str())) {
        return Err(err(GraphError::invalid(format!(
            "(#100) Tried accessing nonexisting field ({unknown}) on node type (Post)"
        ))));
    }
    let limit = match param(p, "limit") {
        "" => DEFAULT_LIMIT,
        raw => raw
            .parse::<usize>()
            .map_err(|_| GraphError::invalid("(#100) limit must be a number"))?
            .clamp(1, MOST_LIMIT),
    };
    let since = time(p, "since")?;
    let until = time(p, "until")?;
    let now = sim.now();
    let all: Vec<Listed> = listing::posts_of(
        sim,
        Platform::Facebook,
        &page.id,
        since,
        Some(until.map_or(now, |u| u.min(now))),
    )
    .into_iter()
    .filter(|l| sim.facebook_kind(&l.post.id) != Some("story"))
    .collect();
    let cursor = Some(param(p, "after")).filter(|c| !c.is_empty());
    let (shown, next) = listing::page(&all, cursor, limit)
        .ok_or_else(|| GraphError::invalid("(#100) Invalid cursor"))?;
    let data: Vec<Value> = shown
        .iter()
        .map(|l| post_node(sim, headers, l, &asked))
        .collect();
    let mut paging = json!({});
    if let (Some(_), Some(after)) = (shown.last(), &next) {
        paging["cursors"] = json!({ "after": after });
        let mut query: Vec<(&str, String)> = ["fields", "since", "until"]
            .into_iter()
            .filter(|k| !param(p, k).is_empty())
            .map(|k| (k, param(p, k).to_owned()))
            .collect();
        query.push(("limit", limit.to_string()));
        query.push(("after", after.clone()));
        if let Some(token) = token_of(p, headers) {
            query.push(("access_token", token.to_owned()));
        }
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(query)
            .finish();
        paging["next"] = json!(format!(
            "http://{}/facebook/graph/{version}/{node}/posts?{query}",
            crate::host(headers, "localhost")
        ));
    }
    let mut answer = json!({ "data": data });
    if next.is_some() {
        answer["paging"] = paging;
    }
    Ok(Json(answer).into_response())
}

/// `since` or `until`: Unix seconds, or a date or time Graph reads (RFC 3339, `YYYY-MM-DD`).
fn time(p: &Params, name: &str) -> Result<Option<DateTime<Utc>>, GraphError> {
    let raw = param(p, name);
    if raw.is_empty() {
        return Ok(None);
    }
    if let Ok(seconds) = raw.parse::<i64>() {
        return Ok(DateTime::from_timestamp(seconds, 0));
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return Ok(Some(at.with_timezone(&Utc)));
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| Some(d.and_utc()))
        .ok_or_else(|| GraphError::invalid(format!("(#100) {name} is not a time: '{raw}'")))
}

/// A listed post with the fields asked for.
fn post_node(sim: &Simulator, headers: &HeaderMap, listed: &Listed, asked: &[String]) -> Value {
    let post = &listed.post;
    let mut out = serde_json::Map::new();
    for name in asked {
        let value = match name.as_str() {
            "message" if post.text.is_empty() => continue,
            "message" => json!(post.text),
            "created_time" => json!(listed.at.format("%Y-%m-%dT%H:%M:%S+0000").to_string()),
            "permalink_url" => json!(sim.web_link(headers, &format!("/facebook/web/{}", post.id))),
            _ => continue,
        };
        out.insert(name.clone(), value);
    }
    out.insert("id".into(), json!(post.id));
    Value::Object(out)
}

//! A user's own posts, `GET /2/users/{id}/tweets` (`tweet.read` and `users.read`): newest
//! first, `max_results` (5 to 100, 10 by default) a page, the next behind `meta.next_token`
//! (sent back as `pagination_token`); `start_time` and `end_time` (RFC 3339) bound the window
//! on the simulator's clock, and `exclude` takes `retweets` and `replies` (replies are kept as
//! comments here, so they are never listed anyway). `tweet.fields` may ask `created_at`,
//! `author_id` and `entities`.
//!
//! The text is shown as X shows it, not as it was sent: `&`, `<` and `>` escaped as HTML, every
//! link X finds in it (by [`domain::content::x_link_spans`]) replaced by a `https://t.co/…`
//! address, and a post with photos or a video ending in one more t.co address, the link to its
//! media. `entities.urls` says where each address leads (`expanded_url`; the media link also
//! names its `media_key`).
//!
//! An empty page answers `meta` alone (`result_count: 0`), as X does. Faults: `Op::Listing`.

use super::{authorised, fault_response, invalid};
use crate::listing::{self, Listed};
use crate::oauth::{Params, param};
use crate::{Op, Simulator};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use domain::Platform;
use serde_json::{Value, json};

/// The `tweet.fields` the timeline answers.
const TWEET_FIELDS: [&str; 5] = ["id", "text", "created_at", "author_id", "entities"];

/// `GET /2/users/{id}/tweets`.
pub(super) async fn timeline(
    State(sim): State<Simulator>,
    Path(user_id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Params>,
) -> Response {
    if let Some(fault) = sim.take_fault(Platform::X, Op::Listing) {
        return fault_response(fault).await;
    }
    for scope in ["tweet.read", "users.read"] {
        if let Err(refused) = authorised(&sim, &headers, scope) {
            return refused;
        }
    }
    if user_id.is_empty() || !user_id.bytes().all(|b| b.is_ascii_digit()) {
        return invalid(format!("id: '{user_id}' does not match ^[0-9]{{1,19}}$"));
    }
    let size = match param(&q, "max_results") {
        "" => 10,
        raw => match raw.parse::<usize>() {
            Ok(n) if (5..=100).contains(&n) => n,
            _ => return invalid(format!("max_results: '{raw}' is not between 5 and 100")),
        },
    };
    let asked: Vec<&str> = param(&q, "tweet.fields")
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .collect();
    if let Some(unknown) = asked.iter().find(|f| !TWEET_FIELDS.contains(f)) {
        return invalid(format!(
            "tweet.fields: the simulator has no field {unknown}"
        ));
    }
    if let Some(unknown) = param(&q, "exclude")
        .split(',')
        .map(str::trim)
        .find(|e| !e.is_empty() && !["retweets", "replies"].contains(e))
    {
        return invalid(format!("exclude: '{unknown}' is not retweets or replies"));
    }
    let (from, until) = match (time(&q, "start_time"), time(&q, "end_time")) {
        (Ok(from), Ok(until)) => (from, until),
        (Err(refused), _) | (_, Err(refused)) => return refused,
    };
    let now = sim.now();
    let all = listing::posts_of(
        &sim,
        Platform::X,
        &user_id,
        from,
        Some(until.map_or(now, |u| u.min(now))),
    );
    let cursor = Some(param(&q, "pagination_token")).filter(|t| !t.is_empty());
    let Some((shown, next)) = listing::page(&all, cursor, size) else {
        return invalid("pagination_token: not a token this timeline gave");
    };
    let mut meta = json!({ "result_count": shown.len() });
    if let (Some(first), Some(last)) = (shown.first(), shown.last()) {
        meta["newest_id"] = json!(first.post.id);
        meta["oldest_id"] = json!(last.post.id);
    }
    if let Some(next) = next {
        meta["next_token"] = json!(next);
    }
    if shown.is_empty() {
        return Json(json!({ "meta": meta })).into_response();
    }
    let data: Vec<Value> = shown.iter().map(|l| tweet(l, &asked)).collect();
    Json(json!({ "data": data, "meta": meta })).into_response()
}

/// The time in the query parameter `name`, if any; X's 400 when it is not RFC 3339.
fn time(q: &Params, name: &str) -> Result<Option<DateTime<Utc>>, Response> {
    match param(q, name) {
        "" => Ok(None),
        raw => DateTime::parse_from_rfc3339(raw)
            .map(|at| Some(at.with_timezone(&Utc)))
            .map_err(|_| invalid(format!("{name}: '{raw}' is not an RFC 3339 time"))),
    }
}

/// A post as the timeline shows it, with the fields asked for.
fn tweet(listed: &Listed, asked: &[&str]) -> Value {
    let (text, urls) = shown(listed);
    let post = &listed.post;
    let mut out = json!({
        "id": post.id,
        "text": text,
        "edit_history_tweet_ids": [post.id],
    });
    for field in asked {
        match *field {
            "created_at" => {
                out["created_at"] = json!(listed.at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string());
            }
            "author_id" => out["author_id"] = json!(post.user_id),
            "entities" if !urls.is_empty() => out["entities"] = json!({ "urls": urls }),
            _ => {}
        }
    }
    out
}

/// The text X shows for a post (see the module's documentation) and its `entities.urls`.
fn shown(listed: &Listed) -> (String, Vec<Value>) {
    let post = &listed.post;
    let mut text = String::new();
    let mut urls = Vec::new();
    let mut rest = 0;
    let mut link = |text: &mut String, expanded: String, display: String, media: Option<String>| {
        let url = format!("https://t.co/{}", short_code(&post.id, urls.len()));
        let start = text.chars().count();
        text.push_str(&url);
        let mut entity = json!({
            "start": start,
            "end": start + url.chars().count(),
            "url": url,
            "expanded_url": expanded,
            "display_url": display,
        });
        if let Some(key) = media {
            entity["media_key"] = json!(key);
        }
        urls.push(entity);
    };
    for span in domain::content::x_link_spans(&post.text) {
        text.push_str(&escaped(&post.text[rest..span.start]));
        let written = &post.text[span.clone()];
        let bare = written
            .strip_prefix("https://")
            .or_else(|| written.strip_prefix("http://"));
        let expanded = match bare {
            Some(_) => written.to_owned(),
            None => format!("http://{written}"),
        };
        link(
            &mut text,
            expanded,
            bare.unwrap_or(written).chars().take(27).collect(),
            None,
        );
        rest = span.end;
    }
    text.push_str(&escaped(&post.text[rest..]));
    if let Some(first) = post.media.first() {
        let kind = if first.kind == "video" {
            "video"
        } else {
            "photo"
        };
        text.push(' ');
        link(
            &mut text,
            format!("https://x.com/{}/status/{}/{kind}/1", post.user_id, post.id),
            format!("pic.x.com/{}", short_code(&post.id, 99)),
            Some(format!("3_{}", post.id)),
        );
    }
    (text, urls)
}

/// X's HTML escapes in a post's text.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The t.co code of a post's `n`th link: ten letters and digits, the same at every read.
fn short_code(post_id: &str, n: usize) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("{post_id}/{n}"));
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    digest
        .iter()
        .take(10)
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect()
}

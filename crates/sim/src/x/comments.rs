//! The replies under X posts, for the comments workspace.
//!
//! `GET /2/tweets/search/recent?query=conversation_id:{id}` (`tweet.read` and `users.read`)
//! finds the posts of a conversation from the last seven days, newest first: the replies, and
//! the post that started it while it is recent itself. `max_results` (10 to 100) posts a page,
//! the next behind `meta.next_token` (sent back as `next_token`); `since_id` and `start_time`
//! keep only newer posts (a `start_time` further back than seven days is read as seven days).
//! `tweet.fields` may ask `author_id`, `created_at`, `conversation_id`, `in_reply_to_user_id`
//! and `referenced_tweets` (each reply names the post it answers as `replied_to`), and
//! `expansions=author_id` adds the authors under `includes.users`. Search says nothing of
//! hidden replies: they are found like any other.
//!
//! A reply (`POST /2/tweets` with `reply.in_reply_to_tweet_id` naming a reply here) answers it
//! as the user, under their own post only: X refuses replies in others' conversations where the
//! user was not mentioned. `PUT /2/tweets/{id}/hidden {hidden}` hides a reply in a conversation
//! the user started (`tweet.moderate.write`), and `DELETE /2/tweets/{id}` deletes the user's own
//! reply (`tweet.write`); X refuses deleting someone else's post with a 403. A deleted reply is
//! then not found (404).
//!
//! Faults: `Op::Comments` on searches, hiding and deleting; replies take `Op::Comment`'s, in
//! `x.rs`.

use super::{authorised, fault_response, invalid};
use crate::comments::{self, Author, SimComment, cursor, offset_of};
use crate::oauth::{Params, param};
use crate::{Grant, Op, Simulator};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use domain::Platform;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The `tweet.fields` a search here answers.
const TWEET_FIELDS: [&str; 7] = [
    "id",
    "text",
    "author_id",
    "created_at",
    "conversation_id",
    "in_reply_to_user_id",
    "referenced_tweets",
];
/// How far back a recent search reaches.
const RECENT_DAYS: i64 = 7;

/// X's 404 for a post it does not have (any more).
fn not_found(id: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({
            "title": "Not Found Error",
            "type": "https://api.twitter.com/2/problems/resource-not-found",
            "status": 404,
            "detail": format!("Could not find post with id: [{id}]."),
            "resource_type": "tweet",
            "value": id,
        })),
    )
        .into_response()
}

/// X's 403 for an action it does not allow this user.
fn forbidden(detail: &str) -> Response {
    (
        StatusCode::FORBIDDEN,
        Json(json!({
            "title": "Forbidden",
            "type": "about:blank",
            "status": 403,
            "detail": detail,
        })),
    )
        .into_response()
}

/// One post of a conversation, as the search finds it.
struct Found {
    id: String,
    text: String,
    author_id: String,
    author: String,
    created_at: DateTime<Utc>,
    /// The post it replies to and that post's author (none for the post that started it).
    replied_to: Option<(String, String)>,
}

/// The posts of the conversation started by `root` (an X post), reply and root alike.
fn conversation(sim: &Simulator, root: &str) -> Vec<Found> {
    let Some(post) = sim.post(Platform::X, root) else {
        return Vec::new();
    };
    let owner = username(sim, &post.user_id);
    let thread = comments::visible(sim, Platform::X, root);
    let author_of = |id: &str| {
        thread
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.author_id.clone())
    };
    let mut found = Vec::new();
    if let Some(at) = sim.published_at(Platform::X, root) {
        found.push(Found {
            id: post.id.clone(),
            text: post.text.clone(),
            author_id: post.user_id.clone(),
            author: owner,
            created_at: at,
            replied_to: None,
        });
    }
    for reply in &thread {
        let replied_to = match &reply.parent_id {
            Some(parent) => (parent.clone(), author_of(parent).unwrap_or_default()),
            None => (post.id.clone(), post.user_id.clone()),
        };
        found.push(Found {
            id: reply.id.clone(),
            text: reply.text.clone(),
            author_id: reply.author_id.clone(),
            author: reply.author_name.clone(),
            created_at: reply.created_at,
            replied_to: Some(replied_to),
        });
    }
    found
}

/// The username of the X user `user_id`, as far as the simulator knows it.
fn username(sim: &Simulator, user_id: &str) -> String {
    sim.state()
        .access
        .values()
        .map(|t| &t.grant)
        .find(|g| g.platform == Platform::X && g.user_id == user_id)
        .map(|g| g.username.clone())
        .unwrap_or_else(|| format!("user{user_id}"))
}

/// Whether X id `a` is newer than `b` (longer, or as long and larger).
fn newer(a: &str, b: &str) -> bool {
    (a.len(), a) > (b.len(), b)
}

/// `GET /2/tweets/search/recent`.
pub(super) async fn search(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Query(q): Query<Params>,
) -> Response {
    if let Some(fault) = sim.take_fault(Platform::X, Op::Comments) {
        return fault_response(fault).await;
    }
    for scope in ["tweet.read", "users.read"] {
        if let Err(refused) = authorised(&sim, &headers, scope) {
            return refused;
        }
    }
    let query = param(&q, "query").trim();
    let Some(root) = query
        .strip_prefix("conversation_id:")
        .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
    else {
        return invalid(format!(
            "query: the simulator searches only conversation_id:<id>; got '{query}'"
        ));
    };
    let max = match param(&q, "max_results") {
        "" => 10,
        raw => match raw.parse::<usize>() {
            Ok(n) if (10..=100).contains(&n) => n,
            _ => {
                return invalid(format!("max_results: '{raw}' is not between 10 and 100"));
            }
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
    let now = sim.now();
    let mut from = now - Duration::days(RECENT_DAYS);
    if let Some(raw) = q.get("start_time").filter(|v| !v.is_empty()) {
        match DateTime::parse_from_rfc3339(raw) {
            Ok(at) => from = from.max(at.with_timezone(&Utc)),
            Err(_) => return invalid(format!("start_time: '{raw}' is not an RFC 3339 time")),
        }
    }
    let since_id = param(&q, "since_id");
    let mut found: Vec<Found> = conversation(&sim, root)
        .into_iter()
        .filter(|f| f.created_at >= from && f.created_at <= now)
        .filter(|f| since_id.is_empty() || newer(&f.id, since_id))
        .collect();
    found.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    let offset = match param(&q, "next_token") {
        "" => 0,
        raw => match offset_of(raw) {
            Some(offset) => offset,
            None => return invalid("next_token: not a token this search gave"),
        },
    };
    let end = (offset + max).min(found.len());
    let page = found.get(offset..end).unwrap_or_default();
    let mut meta = json!({ "result_count": page.len() });
    if let (Some(first), Some(last)) = (page.first(), page.last()) {
        meta["newest_id"] = json!(first.id);
        meta["oldest_id"] = json!(last.id);
    }
    if end < found.len() {
        meta["next_token"] = json!(cursor(end));
    }
    if page.is_empty() {
        return Json(json!({ "meta": meta })).into_response();
    }
    let data: Vec<Value> = page.iter().map(|f| tweet(f, root, &asked)).collect();
    let mut answer = json!({"data": data, "meta": meta});
    if param(&q, "expansions")
        .split(',')
        .any(|e| e.trim() == "author_id")
    {
        let users: BTreeMap<&str, &str> = page
            .iter()
            .map(|f| (f.author_id.as_str(), f.author.as_str()))
            .collect();
        let users: Vec<Value> = users
            .into_iter()
            .map(|(id, username)| json!({"id": id, "name": username, "username": username}))
            .collect();
        answer["includes"] = json!({ "users": users });
    }
    Json(answer).into_response()
}

/// A found post with the fields asked for.
fn tweet(found: &Found, root: &str, asked: &[&str]) -> Value {
    let mut out = json!({
        "id": found.id,
        "text": found.text,
        "edit_history_tweet_ids": [found.id],
    });
    for field in asked {
        match *field {
            "author_id" => out["author_id"] = json!(found.author_id),
            "created_at" => {
                out["created_at"] = json!(
                    found
                        .created_at
                        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
                        .to_string()
                );
            }
            "conversation_id" => out["conversation_id"] = json!(root),
            "in_reply_to_user_id" => {
                if let Some((_, user)) = &found.replied_to {
                    out["in_reply_to_user_id"] = json!(user);
                }
            }
            "referenced_tweets" => {
                if let Some((id, _)) = &found.replied_to {
                    out["referenced_tweets"] = json!([{"type": "replied_to", "id": id}]);
                }
            }
            _ => {}
        }
    }
    out
}

/// The reply `id` under one of X's posts, still there.
fn live_reply(sim: &Simulator, id: &str) -> Option<SimComment> {
    comments::find(sim, Platform::X, id).filter(|c| comments::live(sim, c))
}

/// A reply by `grant`'s user to the post `target`, when `target` is a reply the simulator
/// keeps (none otherwise: the post itself is answered as a first comment). Answers as
/// `POST /2/tweets` does.
pub(super) fn reply(sim: &Simulator, grant: &Grant, target: &str, text: &str) -> Option<Response> {
    let found = comments::find(sim, Platform::X, target)?;
    if !comments::live(sim, &found) {
        return Some(not_found(target));
    }
    let owner = sim.post(Platform::X, &found.post_id).map(|p| p.user_id);
    if owner.as_deref() != Some(grant.user_id.as_str()) {
        return Some(forbidden(
            "Reply to this conversation is not allowed because you have not been mentioned or \
             otherwise engaged by the author of the post you are replying to.",
        ));
    }
    let author = Author {
        id: grant.user_id.clone(),
        name: grant.username.clone(),
        by_account: true,
    };
    let kept = comments::keep(
        sim,
        Platform::X,
        &found.post_id,
        Some(&found.id),
        author,
        text,
    );
    Some(
        (
            StatusCode::CREATED,
            Json(json!({"data": {"id": kept.id, "text": text}})),
        )
            .into_response(),
    )
}

#[derive(Deserialize)]
pub(super) struct HideBody {
    hidden: bool,
}

/// `PUT /2/tweets/{id}/hidden {hidden}`.
pub(super) async fn hide(
    State(sim): State<Simulator>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<HideBody>,
) -> Response {
    if let Some(fault) = sim.take_fault(Platform::X, Op::Comments) {
        return fault_response(fault).await;
    }
    let grant = match authorised(&sim, &headers, "tweet.moderate.write") {
        Ok(grant) => grant,
        Err(refused) => return refused,
    };
    let Some(reply) = live_reply(&sim, &id) else {
        return not_found(&id);
    };
    let owner = sim.post(Platform::X, &reply.post_id).map(|p| p.user_id);
    if owner.as_deref() != Some(grant.user_id.as_str()) {
        return forbidden("You can only hide replies in conversations you started.");
    }
    comments::set_hidden(&sim, Platform::X, &reply.id, body.hidden);
    Json(json!({"data": {"hidden": body.hidden}})).into_response()
}

/// `DELETE /2/tweets/{id}`: the user's own reply.
pub(super) async fn delete(
    State(sim): State<Simulator>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(fault) = sim.take_fault(Platform::X, Op::Comments) {
        return fault_response(fault).await;
    }
    let grant = match authorised(&sim, &headers, "tweet.write") {
        Ok(grant) => grant,
        Err(refused) => return refused,
    };
    let Some(reply) = live_reply(&sim, &id) else {
        return not_found(&id);
    };
    if reply.author_id != grant.user_id {
        return forbidden("You are not allowed to delete a post you did not create.");
    }
    comments::delete(&sim, Platform::X, &reply.id);
    Json(json!({"data": {"deleted": true}})).into_response()
}

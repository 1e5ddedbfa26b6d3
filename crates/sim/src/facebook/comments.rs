//! The comments under a page's posts, as Graph answers them to the page.
//!
//! `GET /{post-id}/comments` lists them with the page's token, `pages_read_engagement` and
//! `pages_read_user_content` (code 10 without either): top-level ones only, or with
//! `filter=stream` replies too, each naming its `parent`; `order=chronological` (the default) or
//! `reverse_chronological`; `limit` (25 by default, at most 100) a page of them, the next one
//! behind `paging.next` (an absolute address with an `after` cursor); `summary=true` adds the
//! count. Each comment has its `id`, `message`, `from {name, id}`, `created_time`,
//! `like_count`, `comment_count` (its replies), `is_hidden`, and `parent {id}` when it is a
//! reply; asking for a field a comment does not know is Graph's code 100.
//!
//! With `pages_manage_engagement` (code 200 without it): `POST /{comment-id}/comments {message}`
//! replies as the page (a reply to a reply goes under the comment it answers, as Facebook
//! nests one level), `POST /{comment-id}?is_hidden=true|false` hides or shows it again, and
//! `DELETE /{comment-id}` deletes it. A deleted comment is then an unknown object to every call.
//!
//! Faults: `Op::Comments` on reads, hiding and deleting, `Op::Comment` on replies.

use super::{Caller, Page, caller};
use crate::comments::{self, Author, SimComment, cursor, offset_of};
use crate::graph::{Answer, GraphError, err, fields, graph_fault, graph_params, require_scope};
use crate::metrics::seed;
use crate::oauth::{Params, param};
use crate::{AccessToken, Op, Simulator};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State as Shared};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use domain::Platform;
use serde_json::{Value, json};

const READ_SCOPES: [&str; 2] = ["pages_read_engagement", "pages_read_user_content"];
const MANAGE_SCOPE: &str = "pages_manage_engagement";
/// Comments one page of the list holds by default, and at most.
const DEFAULT_LIMIT: usize = 25;
const MOST_LIMIT: usize = 100;

/// The page calling with its own token; Graph's code 210 for a person's token.
fn page_caller(
    sim: &Simulator,
    p: &Params,
    headers: &HeaderMap,
) -> Result<(AccessToken, Page), GraphError> {
    match caller(sim, p, headers)? {
        Caller::Page { token, page } => Ok((token, page)),
        Caller::User { .. } => Err(GraphError::new(
            210,
            "(#210) A page access token is required to request this resource.",
        )),
    }
}

/// The comment `id` under one of `page`'s posts, still there; unknown otherwise.
fn own_comment(sim: &Simulator, page: &Page, id: &str) -> Result<SimComment, GraphError> {
    comments::find(sim, Platform::Facebook, id)
        .filter(|c| {
            sim.post(Platform::Facebook, &c.post_id)
                .is_some_and(|post| post.user_id == page.id)
        })
        .filter(|c| comments::live(sim, c))
        .ok_or_else(|| GraphError::unknown_object(id))
}

/// A comment as Graph gives it, with the fields asked for.
fn comment_node(
    comment: &SimComment,
    replies: usize,
    asked: &[String],
    stream: bool,
) -> Result<Value, GraphError> {
    let mut all = serde_json::Map::new();
    all.insert("id".into(), json!(comment.id));
    all.insert("message".into(), json!(comment.text));
    all.insert(
        "from".into(),
        json!({"name": comment.author_name, "id": comment.author_id}),
    );
    all.insert(
        "created_time".into(),
        json!(
            comment
                .created_at
                .format("%Y-%m-%dT%H:%M:%S+0000")
                .to_string()
        ),
    );
    all.insert(
        "like_count".into(),
        json!(seed(&[&comment.id, "likes"]) % 6),
    );
    all.insert("comment_count".into(), json!(replies));
    all.insert("is_hidden".into(), json!(comment.hidden));
    all.insert("can_hide".into(), json!(!comment.by_account));
    all.insert("can_remove".into(), json!(true));
    let mut out = serde_json::Map::new();
    for name in asked {
        if name == "parent" {
            // Only a reply in a stream names its parent; others leave the field out.
            if let (Some(parent), true) = (&comment.parent_id, stream) {
                out.insert("parent".into(), json!({"id": parent}));
            }
            continue;
        }
        let Some(value) = all.get(name) else {
            return Err(GraphError::invalid(format!(
                "(#100) Tried accessing nonexisting field ({name}) on node type (Comment)"
            )));
        };
        out.insert(name.clone(), value.clone());
    }
    out.insert("id".into(), json!(comment.id));
    Ok(Value::Object(out))
}

/// `GET /{post-id}/comments`.
pub(super) async fn read(
    sim: &Simulator,
    version: &str,
    node: &str,
    p: &Params,
    headers: &HeaderMap,
) -> Answer {
    if let Some(fault) = sim.take_fault(Platform::Facebook, Op::Comments) {
        return Err(graph_fault(fault, Platform::Facebook, node).await);
    }
    let (token, page) = page_caller(sim, p, headers)?;
    for scope in READ_SCOPES {
        require_scope(&token.grant, scope, 10)?;
    }
    if sim
        .post(Platform::Facebook, node)
        .is_none_or(|post| post.user_id != page.id)
    {
        return Err(err(GraphError::unknown_object(node)));
    }
    let stream = param(p, "filter") == "stream";
    let all = comments::visible(sim, Platform::Facebook, node);
    let replies_to = |id: &str| {
        all.iter()
            .filter(|c| c.parent_id.as_deref() == Some(id))
            .count()
    };
    let mut listed: Vec<&SimComment> = all
        .iter()
        .filter(|c| stream || c.parent_id.is_none())
        .collect();
    let order = match param(p, "order") {
        "" | "chronological" => "chronological",
        "reverse_chronological" => {
            listed.reverse();
            "reverse_chronological"
        }
        other => {
            return Err(err(GraphError::invalid(format!(
                "(#100) order must be one of chronological, reverse_chronological; got '{other}'"
            ))));
        }
    };
    let limit = match param(p, "limit") {
        "" => DEFAULT_LIMIT,
        raw => raw
            .parse::<usize>()
            .map_err(|_| GraphError::invalid("(#100) limit must be a number"))?
            .clamp(1, MOST_LIMIT),
    };
    let offset = match param(p, "after") {
        "" => 0,
        raw => offset_of(raw).ok_or_else(|| GraphError::invalid("(#100) Invalid cursor"))?,
    };
    let asked = fields(p).unwrap_or_else(|| {
        ["created_time", "from", "message"]
            .map(str::to_owned)
            .to_vec()
    });
    let end = (offset + limit).min(listed.len());
    let mut data = Vec::new();
    for comment in listed.get(offset..end).unwrap_or_default() {
        data.push(comment_node(
            comment,
            replies_to(&comment.id),
            &asked,
            stream,
        )?);
    }
    let mut paging = json!({"cursors": {"before": cursor(offset), "after": cursor(end)}});
    if end < listed.len() {
        let mut query: Vec<(&str, String)> = ["fields", "filter", "order", "summary"]
            .into_iter()
            .filter(|k| !param(p, k).is_empty())
            .map(|k| (k, param(p, k).to_owned()))
            .collect();
        query.push(("limit", limit.to_string()));
        query.push(("after", cursor(end)));
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(query)
            .finish();
        paging["next"] = json!(format!(
            "http://{}/facebook/graph/{version}/{node}/comments?{query}",
            crate::host(headers, "localhost")
        ));
    }
    let mut answer = json!({"data": data, "paging": paging});
    if param(p, "summary") == "true" || param(p, "summary") == "1" {
        answer["summary"] =
            json!({"order": order, "total_count": listed.len(), "can_comment": true});
    }
    Ok(Json(answer).into_response())
}

/// `POST /{comment-id}/comments {message}`: a reply as the page.
pub(super) async fn reply(sim: &Simulator, node: &str, p: &Params, headers: &HeaderMap) -> Answer {
    if let Some(fault) = sim.take_fault(Platform::Facebook, Op::Comment) {
        return Err(graph_fault(fault, Platform::Facebook, node).await);
    }
    let (token, page) = page_caller(sim, p, headers)?;
    require_scope(&token.grant, MANAGE_SCOPE, 200)?;
    let target = own_comment(sim, &page, node)?;
    let message = param(p, "message");
    if message.trim().is_empty() {
        return Err(err(GraphError::invalid(
            "(#100) A comment needs a message.",
        )));
    }
    let parent = target.parent_id.clone().unwrap_or(target.id);
    let author = Author {
        id: page.id.clone(),
        name: page.name.clone(),
        by_account: true,
    };
    let kept = comments::keep(
        sim,
        Platform::Facebook,
        &target.post_id,
        Some(&parent),
        author,
        message,
    );
    Ok(Json(json!({"id": kept.id})).into_response())
}

/// Whether `node` is a comment the simulator knows (deleted or not): the calls on it are the
/// comments workspace's.
pub(super) fn is_comment(sim: &Simulator, node: &str) -> bool {
    comments::find(sim, Platform::Facebook, node).is_some()
}

/// `POST /{comment-id}?is_hidden=…` and `DELETE /{comment-id}`.
pub(super) async fn node_write(
    Shared(sim): Shared<Simulator>,
    Path((version, node)): Path<(String, String)>,
    Query(query): Query<Params>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(e) = crate::graph::check_version(&version) {
        return e.into_response();
    }
    let p = graph_params(query, &headers, &body);
    write(&sim, method, &node, &p, &headers)
        .await
        .unwrap_or_else(|e| e)
}

async fn write(
    sim: &Simulator,
    method: Method,
    node: &str,
    p: &Params,
    headers: &HeaderMap,
) -> Answer {
    if let Some(fault) = sim.take_fault(Platform::Facebook, Op::Comments) {
        return Err(graph_fault(fault, Platform::Facebook, node).await);
    }
    let (token, page) = page_caller(sim, p, headers)?;
    require_scope(&token.grant, MANAGE_SCOPE, 200)?;
    let target = own_comment(sim, &page, node)?;
    if method == Method::DELETE {
        comments::delete(sim, Platform::Facebook, &target.id);
        return Ok(Json(json!({"success": true})).into_response());
    }
    let hidden = match param(p, "is_hidden") {
        "true" | "1" => true,
        "false" | "0" => false,
        _ => {
            return Err(err(GraphError::invalid(
                "(#100) is_hidden must be true or false",
            )));
        }
    };
    if hidden && target.by_account {
        return Err(err(GraphError::invalid(
            "(#100) A page cannot hide its own comments.",
        )));
    }
    comments::set_hidden(sim, Platform::Facebook, &target.id, hidden);
    Ok(Json(json!({"success": true})).into_response())
}

//! The comments under an account's media, as Instagram's Graph answers them to the account.
//!
//! Everything needs the account's token with `instagram_business_manage_comments` (code 10
//! without it), on media of its own. `GET /{media-id}/comments` lists the top-level comments,
//! newest first, 50 a page (`limit`, `after`, `paging.next`), each with `id`, `text`,
//! `timestamp`, `username`, `like_count`, `hidden`, `from {id, username}` and, when asked as
//! `replies{…}`, its replies under `replies.data` with the fields named in the braces.
//!
//! `POST /{comment-id}/replies?message=` replies as the account: only to a top-level comment
//! that is not hidden (Instagram refuses a reply to a reply or to a hidden comment with a 400
//! and its reason). `POST /{comment-id}?hide=true|false` hides or shows a comment again, and
//! `DELETE /{comment-id}` deletes it; a deleted comment is then an unknown object.
//!
//! Faults: `Op::Comments` on reads, hiding and deleting, `Op::Comment` on replies.

use super::authorised;
use crate::comments::{self, Author, SimComment, cursor, offset_of};
use crate::graph::{
    Answer, GraphError, check_version, err, fields, graph_fault, graph_params, require_scope,
};
use crate::metrics::seed;
use crate::oauth::{Params, param};
use crate::{Grant, Op, Simulator};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State as Shared};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use domain::Platform;
use serde_json::{Value, json};

const COMMENT_SCOPE: &str = "instagram_business_manage_comments";
const DEFAULT_LIMIT: usize = 50;

/// The account of the token, with the comments permission.
fn commenter(sim: &Simulator, p: &Params, headers: &HeaderMap) -> Result<Grant, GraphError> {
    let token = authorised(sim, p, headers)?;
    require_scope(&token.grant, COMMENT_SCOPE, 10)?;
    Ok(token.grant)
}

/// The comment `id` under media of the account's, still there; unknown otherwise.
fn own_comment(sim: &Simulator, grant: &Grant, id: &str) -> Result<SimComment, GraphError> {
    comments::find(sim, Platform::Instagram, id)
        .filter(|c| {
            sim.post(Platform::Instagram, &c.post_id)
                .is_some_and(|post| post.user_id == grant.user_id)
        })
        .filter(|c| comments::live(sim, c))
        .ok_or_else(|| GraphError::unknown_object(id))
}

/// The field names inside `replies{…}` of a `fields` parameter, if replies are asked for.
fn reply_fields(p: &Params) -> Option<Vec<String>> {
    let raw = p.get("fields")?;
    let start = raw.find("replies")? + "replies".len();
    let rest = &raw[start..];
    let Some(inner) = rest.strip_prefix('{') else {
        return Some(vec!["id".into(), "text".into(), "timestamp".into()]);
    };
    let inner = inner.split('}').next().unwrap_or_default();
    Some(
        inner
            .split(',')
            .map(|f| f.trim().to_owned())
            .filter(|f| !f.is_empty())
            .collect(),
    )
}

/// A comment with the fields `asked`.
fn comment_node(comment: &SimComment, asked: &[String]) -> Result<Value, GraphError> {
    let mut all = serde_json::Map::new();
    all.insert("id".into(), json!(comment.id));
    all.insert("text".into(), json!(comment.text));
    all.insert(
        "timestamp".into(),
        json!(
            comment
                .created_at
                .format("%Y-%m-%dT%H:%M:%S+0000")
                .to_string()
        ),
    );
    all.insert("username".into(), json!(comment.author_name));
    all.insert(
        "from".into(),
        json!({"id": comment.author_id, "username": comment.author_name}),
    );
    all.insert(
        "like_count".into(),
        json!(seed(&[&comment.id, "likes"]) % 6),
    );
    all.insert("hidden".into(), json!(comment.hidden));
    all.insert("media".into(), json!({"id": comment.post_id}));
    if let Some(parent) = &comment.parent_id {
        all.insert("parent_id".into(), json!(parent));
    }
    let mut out = serde_json::Map::new();
    for name in asked {
        if name == "replies" || (name == "parent_id" && comment.parent_id.is_none()) {
            continue;
        }
        let Some(value) = all.get(name) else {
            return Err(GraphError::invalid(format!(
                "(#100) Tried accessing nonexisting field ({name}) on node type (IGComment)"
            )));
        };
        out.insert(name.clone(), value.clone());
    }
    out.insert("id".into(), json!(comment.id));
    Ok(Value::Object(out))
}

/// `GET /{media-id}/comments`.
pub(super) async fn read(
    sim: &Simulator,
    version: &str,
    node: &str,
    p: &Params,
    headers: &HeaderMap,
) -> Answer {
    if let Some(fault) = sim.take_fault(Platform::Instagram, Op::Comments) {
        return Err(graph_fault(fault, Platform::Instagram, node).await);
    }
    let grant = commenter(sim, p, headers)?;
    if sim
        .post(Platform::Instagram, node)
        .is_none_or(|post| post.user_id != grant.user_id)
    {
        return Err(err(GraphError::unknown_object(node)));
    }
    let all = comments::visible(sim, Platform::Instagram, node);
    let mut top: Vec<&SimComment> = all.iter().filter(|c| c.parent_id.is_none()).collect();
    top.reverse();
    let asked = fields(p).unwrap_or_else(|| ["timestamp", "text"].map(str::to_owned).to_vec());
    let replies_asked = reply_fields(p);
    let limit = param(p, "limit")
        .parse::<usize>()
        .unwrap_or(DEFAULT_LIMIT)
        .clamp(1, DEFAULT_LIMIT);
    let offset = match param(p, "after") {
        "" => 0,
        raw => offset_of(raw).ok_or_else(|| GraphError::invalid("(#100) Invalid cursor"))?,
    };
    let end = (offset + limit).min(top.len());
    let mut data = Vec::new();
    for comment in top.get(offset..end).unwrap_or_default() {
        let mut node = comment_node(comment, &asked)?;
        if let Some(reply_asked) = &replies_asked {
            let mut replies = Vec::new();
            for reply in all
                .iter()
                .filter(|c| c.parent_id.as_deref() == Some(&comment.id))
            {
                replies.push(comment_node(reply, reply_asked)?);
            }
            if !replies.is_empty() {
                node["replies"] = json!({ "data": replies });
            }
        }
        data.push(node);
    }
    let mut paging = json!({"cursors": {"before": cursor(offset), "after": cursor(end)}});
    if end < top.len() {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("fields", param(p, "fields"))
            .append_pair("limit", &limit.to_string())
            .append_pair("after", &cursor(end))
            .finish();
        paging["next"] = json!(format!(
            "http://{}/instagram/graph/{version}/{node}/comments?{query}",
            crate::host(headers, "localhost")
        ));
    }
    Ok(Json(json!({"data": data, "paging": paging})).into_response())
}

/// `POST /{comment-id}/replies?message=`.
pub(super) async fn reply(sim: &Simulator, node: &str, p: &Params, headers: &HeaderMap) -> Answer {
    if let Some(fault) = sim.take_fault(Platform::Instagram, Op::Comment) {
        return Err(graph_fault(fault, Platform::Instagram, node).await);
    }
    let grant = commenter(sim, p, headers)?;
    let target = own_comment(sim, &grant, node)?;
    if target.parent_id.is_some() {
        return Err(err(GraphError::invalid(
            "(#100) Replies can only be made to top-level comments, not to other replies.",
        )));
    }
    if target.hidden {
        return Err(err(GraphError::invalid(
            "(#100) This comment is hidden: it cannot be replied to until it is shown again.",
        )));
    }
    let message = param(p, "message");
    if message.trim().is_empty() || message.chars().count() > 2200 {
        return Err(err(GraphError::invalid(
            "(#100) A reply needs a message of at most 2,200 characters.",
        )));
    }
    let author = Author {
        id: grant.user_id.clone(),
        name: grant.username.clone(),
        by_account: true,
    };
    let kept = comments::keep(
        sim,
        Platform::Instagram,
        &target.post_id,
        Some(&target.id),
        author,
        message,
    );
    Ok(Json(json!({"id": kept.id})).into_response())
}

/// `POST /{comment-id}?hide=…` and `DELETE /{comment-id}`.
pub(super) async fn node_write(
    Shared(sim): Shared<Simulator>,
    Path((version, node)): Path<(String, String)>,
    Query(query): Query<Params>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(e) = check_version(&version) {
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
    if let Some(fault) = sim.take_fault(Platform::Instagram, Op::Comments) {
        return Err(graph_fault(fault, Platform::Instagram, node).await);
    }
    let grant = commenter(sim, p, headers)?;
    let target = own_comment(sim, &grant, node)?;
    if method == Method::DELETE {
        comments::delete(sim, Platform::Instagram, &target.id);
        return Ok(Json(json!({"success": true})).into_response());
    }
    let hidden = match param(p, "hide") {
        "true" | "1" => true,
        "false" | "0" => false,
        _ => {
            return Err(err(GraphError::invalid(
                "(#100) hide must be true or false",
            )));
        }
    };
    if hidden && target.by_account {
        return Err(err(GraphError::invalid(
            "(#100) An account cannot hide its own comments.",
        )));
    }
    comments::set_hidden(sim, Platform::Instagram, &target.id, hidden);
    Ok(Json(json!({"success": true})).into_response())
}

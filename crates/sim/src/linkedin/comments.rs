//! The comments under an organisation's posts, through `/rest/socialActions`.
//!
//! Every simulated member administers one organisation, `urn:li:organization:{id}` with the id
//! [`organization_of`] gives; its posts are made with [`Simulator::seed_post`] under that id.
//! The organisation's comments are read with `r_organization_social_feed` and written with
//! `w_organization_social_feed` (403 `ACCESS_DENIED` without them, or for an organisation the
//! member does not administer). A member's own posts' comments cannot be read: that needs a
//! restricted permission the simulator never grants (403).
//!
//! `GET /rest/socialActions/{post-urn}/comments?start&count` lists the top-level comments,
//! oldest first (`count` 10 by default, at most 100, with `paging.total`); the same call on a
//! comment's URN lists its replies. Each comment has its `id`, `commentUrn`, `actor`,
//! `object`, `message.text`, `created.time` (milliseconds), `commentsSummary` and, for a reply,
//! `parentComment`. `POST` on the post's (or the parent comment's) URN with `{actor, object,
//! message:{text}, parentComment?}` comments as the organisation (201, its URN in
//! `x-restli-id`); a member's own comment (the first comment of a member's post) is
//! `linkedin/posts.rs`'. `DELETE /rest/socialActions/{urn}/comments/{id}?actor=` deletes one
//! (204); a deleted comment is then not found (404). LinkedIn's API has no hiding.
//!
//! Faults: `Op::Comments` on reads and deletes, `Op::Comment` on comments made.

use super::{
    access_denied, api_error, authorised, check_rest_headers, fault_response, not_found,
    unprocessable,
};
use crate::comments::{self, Author, SimComment};
use crate::{Grant, Op, Simulator};
use axum::Json;
use axum::extract::{Path, Query, State as Shared};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::Platform;
use serde_json::{Value, json};

const READ_SCOPE: &str = "r_organization_social_feed";
const WRITE_SCOPE: &str = "w_organization_social_feed";
const ORGANIZATION: &str = "urn:li:organization:";

/// The id of the organisation the member `member_id` administers (its URN is
/// `urn:li:organization:{id}`).
pub fn organization_of(member_id: &str) -> String {
    crate::oauth::user_id(Platform::LinkedIn, &format!("organization/{member_id}"))
}

/// The organisation `actor` names, if `grant`'s member administers it.
fn administered(grant: &Grant, actor: &str) -> Option<String> {
    let id = actor.strip_prefix(ORGANIZATION)?;
    (id == organization_of(&grant.user_id)).then(|| id.to_owned())
}

/// The post a URN is about: the post itself, or the one a comment's URN names.
fn post_of(urn: &str) -> &str {
    urn.strip_prefix("urn:li:comment:(")
        .and_then(|rest| rest.rsplit_once(','))
        .map_or(urn, |(post, _)| post)
}

/// A comment's own number, the last part of its URN.
fn number_of(id: &str) -> &str {
    id.rsplit_once(',')
        .map_or(id, |(_, n)| n.trim_end_matches(')'))
}

fn comment_json(comment: &SimComment, replies: usize) -> Value {
    let time = comment.created_at.timestamp_millis();
    let mut out = json!({
        "id": number_of(&comment.id),
        "commentUrn": comment.id,
        "actor": comment.author_id,
        "object": comment.post_id,
        "message": {"text": comment.text, "attributes": []},
        "created": {"actor": comment.author_id, "time": time},
        "lastModified": {"actor": comment.author_id, "time": time},
        "commentsSummary": {
            "totalFirstLevelComments": replies,
            "aggregatedTotalComments": replies,
        },
    });
    if let Some(parent) = &comment.parent_id {
        out["parentComment"] = json!(parent);
    }
    out
}

/// The owner check of a read or a write on the post `post`: its organisation, administered by
/// the member, or LinkedIn's refusal.
fn organisation_post(sim: &Simulator, grant: &Grant, post: &str) -> Result<String, Response> {
    let Some(owner) = sim.post(Platform::LinkedIn, post).map(|p| p.user_id) else {
        return Err(not_found(&format!("No post {post}")));
    };
    if owner == grant.user_id {
        return Err(access_denied(
            "Reading or managing a member's post comments needs a restricted permission",
        ));
    }
    if owner != organization_of(&grant.user_id) {
        return Err(access_denied(&format!(
            "Not an administrator of the organisation that posted {post}"
        )));
    }
    Ok(owner)
}

/// `GET /rest/socialActions/{urn}/comments`.
pub(super) async fn list(
    Shared(sim): Shared<Simulator>,
    Path(urn): Path<String>,
    Query(q): Query<crate::oauth::Params>,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = check_rest_headers(&headers) {
        return refused;
    }
    if let Some(fault) = sim.take_fault(Platform::LinkedIn, Op::Comments) {
        return fault_response(fault).await;
    }
    let grant = match authorised(&sim, &headers, &[]) {
        Ok(grant) => grant,
        Err(refused) => return refused,
    };
    let post = post_of(&urn);
    if let Err(refused) = organisation_post(&sim, &grant, post) {
        return refused;
    }
    if let Err(refused) = authorised(&sim, &headers, &[READ_SCOPE]) {
        return refused;
    }
    let all = comments::visible(&sim, Platform::LinkedIn, post);
    let under = (urn != post).then_some(urn.as_str());
    if under.is_some_and(|parent| !all.iter().any(|c| c.id == parent)) {
        return not_found(&format!("No comment {urn}"));
    }
    let listed: Vec<&SimComment> = all
        .iter()
        .filter(|c| c.parent_id.as_deref() == under)
        .collect();
    let start = crate::oauth::param(&q, "start")
        .parse::<usize>()
        .unwrap_or(0);
    let count = crate::oauth::param(&q, "count")
        .parse::<usize>()
        .unwrap_or(10)
        .clamp(1, 100);
    let end = (start + count).min(listed.len());
    let elements: Vec<Value> = listed
        .get(start.min(end)..end)
        .unwrap_or_default()
        .iter()
        .map(|c| {
            let replies = all
                .iter()
                .filter(|r| r.parent_id.as_deref() == Some(&c.id))
                .count();
            comment_json(c, replies)
        })
        .collect();
    Json(json!({
        "paging": {"start": start, "count": count, "total": listed.len(), "links": []},
        "elements": elements,
    }))
    .into_response()
}

/// `POST /rest/socialActions/{urn}/comments`: as an organisation here, as the member in
/// `linkedin/posts.rs`.
pub(super) async fn create(
    Shared(sim): Shared<Simulator>,
    Path(urn): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let actor = body["actor"].as_str().unwrap_or_default().to_owned();
    if !actor.starts_with(ORGANIZATION) {
        return super::posts::create_comment(Shared(sim), Path(urn), headers, Json(body)).await;
    }
    if let Err(refused) = check_rest_headers(&headers) {
        return refused;
    }
    if let Some(fault) = sim.take_fault(Platform::LinkedIn, Op::Comment) {
        return fault_response(fault).await;
    }
    let grant = match authorised(&sim, &headers, &[WRITE_SCOPE]) {
        Ok(grant) => grant,
        Err(refused) => return refused,
    };
    if administered(&grant, &actor).is_none() {
        return access_denied(&format!("Member is not allowed to comment as {actor}"));
    }
    let object = body["object"].as_str().unwrap_or_default();
    let parent = body["parentComment"].as_str();
    if post_of(&urn) != object || (urn != object && Some(urn.as_str()) != parent) {
        return unprocessable("object must be the post, and the path its URN or parentComment");
    }
    if let Err(refused) = organisation_post(&sim, &grant, object) {
        return refused;
    }
    if let Some(parent) = parent {
        match comments::find(&sim, Platform::LinkedIn, parent) {
            Some(c) if c.post_id == object && comments::live(&sim, &c) => {
                if c.parent_id.is_some() {
                    return unprocessable("parentComment must be a top-level comment");
                }
            }
            _ => return not_found(&format!("No comment {parent}")),
        }
    }
    let text = body["message"]["text"].as_str().unwrap_or_default();
    if text.trim().is_empty() || text.chars().count() > 1250 {
        return unprocessable("message.text must be between 1 and 1250 characters");
    }
    let author = Author {
        id: actor.clone(),
        name: format!("Organisation {}", organization_of(&grant.user_id)),
        by_account: true,
    };
    let kept = comments::keep(&sim, Platform::LinkedIn, object, parent, author, text);
    (
        StatusCode::CREATED,
        [("x-restli-id", kept.id.clone())],
        Json(comment_json(&kept, 0)),
    )
        .into_response()
}

/// `DELETE /rest/socialActions/{urn}/comments/{id}?actor=`.
pub(super) async fn delete(
    Shared(sim): Shared<Simulator>,
    Path((urn, id)): Path<(String, String)>,
    Query(q): Query<crate::oauth::Params>,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = check_rest_headers(&headers) {
        return refused;
    }
    if let Some(fault) = sim.take_fault(Platform::LinkedIn, Op::Comments) {
        return fault_response(fault).await;
    }
    let grant = match authorised(&sim, &headers, &[WRITE_SCOPE]) {
        Ok(grant) => grant,
        Err(refused) => return refused,
    };
    let actor = crate::oauth::param(&q, "actor");
    if administered(&grant, actor).is_none() {
        return access_denied(&format!("Member is not allowed to delete as {actor}"));
    }
    let post = post_of(&urn);
    if let Err(refused) = organisation_post(&sim, &grant, post) {
        return refused;
    }
    let comment_urn = comments::shaped_id(Platform::LinkedIn, post, &id);
    match comments::find(&sim, Platform::LinkedIn, &comment_urn) {
        Some(c) if comments::live(&sim, &c) => {
            comments::delete(&sim, Platform::LinkedIn, &c.id);
            StatusCode::NO_CONTENT.into_response()
        }
        _ => api_error(
            StatusCode::NOT_FOUND,
            404,
            "NOT_FOUND",
            &format!("No comment {comment_urn}"),
        ),
    }
}

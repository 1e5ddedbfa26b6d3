//! LinkedIn posts and comments through `/rest`: a member's post (text in LinkedIn's escaped
//! "little text", optionally one image or video, or 2 to 20 images, all AVAILABLE and the
//! member's own), the member's posts found by author, and a comment by the member under their
//! own post.
//!
//! `GET /rest/posts?q=author&author={urn}` lists the member's own posts with `r_member_social`
//! (LinkedIn grants it to few apps; 403 without it, and for another member), newest first
//! (`sortBy` `CREATED` or `LAST_MODIFIED`, the same here: nothing is edited), `count` (10 by
//! default, at most 100) from `start`, with `paging.links` naming the next page and
//! `paging.total`. The commentary is shown as "little text", its reserved characters escaped.
//! Faults: `Op::Listing`.

use super::{
    access_denied, acting_as, api_error, authorised, bad_request, check_rest_headers,
    fault_response, lock, member, person, store, unprocessable,
};
use crate::listing;
use crate::oauth::{Params, param};
use crate::{Op, Post, PostedMedia, Simulator};
use axum::Json;
use axum::extract::{Path, Query, State as Shared};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::Platform;
use serde_json::{Value, json};

/// LinkedIn's "little text" commentary with its backslash escapes taken out.
fn unescape(commentary: &str) -> String {
    let mut text = String::with_capacity(commentary.len());
    let mut chars = commentary.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                text.push(next);
            }
        } else {
            text.push(c);
        }
    }
    text
}

/// Text as LinkedIn's "little text": its reserved characters escaped with a backslash.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\|{}@[]()<>#*_~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Posts a page of the list holds by default, and at most.
const DEFAULT_COUNT: usize = 10;
const MOST_COUNT: usize = 100;

/// `GET /rest/posts?q=author&author={urn}`: the member's own posts (see the module's
/// documentation).
pub(super) async fn by_author(
    Shared(sim): Shared<Simulator>,
    headers: HeaderMap,
    Query(q): Query<Params>,
) -> Response {
    if let Err(refused) = check_rest_headers(&headers) {
        return refused;
    }
    if let Some(fault) = sim.take_fault(Platform::LinkedIn, Op::Listing) {
        return fault_response(fault).await;
    }
    let grant = match authorised(&sim, &headers, &["r_member_social"]) {
        Ok(grant) => grant,
        Err(refused) => return refused,
    };
    if param(&q, "q") != "author" {
        return bad_request("q must be author");
    }
    let author = param(&q, "author");
    if author != person(&grant) {
        return access_denied(&format!(
            "Not enough permissions to access: partnerApiPostsExternal.FINDER-author ({author})"
        ));
    }
    if !["", "CREATED", "LAST_MODIFIED"].contains(&param(&q, "sortBy")) {
        return bad_request("sortBy must be CREATED or LAST_MODIFIED");
    }
    let number = |name: &str, default: usize| match param(&q, name) {
        "" => Some(default),
        raw => raw.parse::<usize>().ok(),
    };
    let (Some(start), Some(count)) = (number("start", 0), number("count", DEFAULT_COUNT)) else {
        return bad_request("start and count must be numbers");
    };
    if !(1..=MOST_COUNT).contains(&count) {
        return bad_request("count must be between 1 and 100");
    }
    let all = listing::posts_of(
        &sim,
        Platform::LinkedIn,
        &grant.user_id,
        None,
        Some(sim.now()),
    );
    let end = (start + count).min(all.len());
    let elements: Vec<Value> = all
        .get(start.min(end)..end)
        .unwrap_or_default()
        .iter()
        .map(|listed| {
            let at = listed.at.timestamp_millis();
            json!({
                "id": listed.post.id,
                "author": author,
                "commentary": escape(&listed.post.text),
                "visibility": "PUBLIC",
                "distribution": {
                    "feedDistribution": "MAIN_FEED",
                    "targetEntities": [],
                    "thirdPartyDistributionChannels": [],
                },
                "lifecycleState": "PUBLISHED",
                "lifecycleStateInfo": {"isEditedByAuthor": false},
                "isReshareDisabledByAuthor": false,
                "createdAt": at,
                "publishedAt": at,
                "lastModifiedAt": at,
            })
        })
        .collect();
    let mut links = Vec::new();
    if end < all.len() {
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("author", author),
                ("count", &count.to_string()),
                ("q", "author"),
                ("start", &end.to_string()),
            ])
            .finish();
        links.push(json!({
            "type": "application/json",
            "rel": "next",
            "href": format!("/rest/posts?{query}"),
        }));
    }
    Json(json!({
        "elements": elements,
        "paging": {"start": start, "count": count, "total": all.len(), "links": links},
    }))
    .into_response()
}

/// `POST /rest/socialActions/{urn}/comments {actor, object, message:{text}}`: a comment by
/// the member under their own post, with `w_member_social` (its consent covers comments). Answers 201 with the
/// comment, its id also in `x-restli-id`.
pub(super) async fn create_comment(
    Shared(sim): Shared<Simulator>,
    Path(urn): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let grant = match member(&sim, &headers, Some(Op::Comment)).await {
        Ok(grant) => grant,
        Err(refused) => return refused,
    };
    if let Err(refused) = acting_as(
        &grant,
        body["actor"].as_str().unwrap_or_default(),
        "comment",
    ) {
        return refused;
    }
    if body["object"].as_str() != Some(urn.as_str()) {
        return unprocessable("object must be the post the comment is under");
    }
    let text = body["message"]["text"].as_str().unwrap_or_default();
    if text.trim().is_empty() || text.chars().count() > 1250 {
        return unprocessable("message.text must be between 1 and 1250 characters");
    }
    match sim.keep_comment(Platform::LinkedIn, &grant.user_id, &urn, text) {
        Some(id) => {
            let comment_urn = format!("urn:li:comment:({urn},{id})");
            (
                StatusCode::CREATED,
                [("x-restli-id", comment_urn.clone())],
                Json(json!({"id": id, "object": urn, "message": {"text": text}, "commentUrn": comment_urn})),
            )
                .into_response()
        }
        None => api_error(
            StatusCode::NOT_FOUND,
            404,
            "NOT_FOUND",
            &format!("No post {urn}"),
        ),
    }
}

pub(super) async fn create_post(
    Shared(sim): Shared<Simulator>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let grant = match member(&sim, &headers, Some(Op::Publish)).await {
        Ok(grant) => grant,
        Err(refused) => return refused,
    };
    let author = body["author"].as_str().unwrap_or_default();
    if let Err(refused) = acting_as(&grant, author, "post") {
        return refused;
    }
    if let Some(lost) = sim.lost_before_posting(Platform::LinkedIn) {
        return lost;
    }
    let text = unescape(body["commentary"].as_str().unwrap_or_default());
    if text.chars().count() > 3000 {
        return unprocessable("commentary is longer than 3000 characters");
    }
    if body["visibility"].as_str().is_none() || body["distribution"]["feedDistribution"].is_null() {
        return unprocessable("visibility and distribution are required");
    }
    if body["lifecycleState"] != "PUBLISHED" {
        return unprocessable("lifecycleState must be PUBLISHED");
    }
    let content = &body["content"];
    let ids: Vec<&str> = if content.is_null() {
        Vec::new()
    } else if let Some(id) = content["media"]["id"].as_str() {
        vec![id]
    } else if let Some(images) = content["multiImage"]["images"].as_array() {
        if !(2..=20).contains(&images.len()) {
            return unprocessable("multiImage takes 2 to 20 images");
        }
        images.iter().filter_map(|i| i["id"].as_str()).collect()
    } else {
        return unprocessable("content must be media or multiImage");
    };
    if ids.is_empty() && text.trim().is_empty() {
        return unprocessable("a post needs commentary or content");
    }
    let mut media = Vec::new();
    {
        let store = store(&sim);
        let store = lock(&store);
        for id in &ids {
            let (asset, kind) = match (store.images.get(*id), store.videos.get(*id)) {
                (Some(image), _) => (image, "image"),
                (_, Some(video)) if content["multiImage"].is_null() => (video, "video"),
                _ => return unprocessable(&format!("{id} is not an image or video of yours")),
            };
            if asset.owner != author {
                return access_denied(&format!("{id} belongs to another owner"));
            }
            if asset.status() != "AVAILABLE" {
                return unprocessable(&format!("{id} is not AVAILABLE ({})", asset.status()));
            }
            media.push(PostedMedia {
                kind: kind.into(),
                bytes: asset.size,
                sha256: None,
            });
        }
    }
    let urn = format!("urn:li:share:{}", sim.next_id());
    sim.state().record_post(Post {
        platform: Platform::LinkedIn,
        user_id: grant.user_id,
        id: urn.clone(),
        text,
        media,
    });
    if let Some(lost) = sim.after_publishing(Platform::LinkedIn).await {
        return lost;
    }
    let mut res = StatusCode::CREATED.into_response();
    if let Ok(value) = HeaderValue::from_str(&urn) {
        res.headers_mut().insert("x-restli-id", value);
    }
    res
}

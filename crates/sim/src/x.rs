//! X API v2, under `/x`: OAuth 2.0 with PKCE (S256), `/2/users/me`, `/2/tweets` (posting, and
//! looking posts up with their public metrics: `x/metrics.rs`), a user's own posts as X shows
//! them (`/2/users/{id}/tweets`: `x/timeline.rs`), and the replies under posts (searching a
//! conversation, replying, hiding, deleting: `x/comments.rs`).

mod comments;
mod metrics;
mod timeline;

use crate::oauth::{
    Flavor, NoGrant, Params, Pkce, RefreshTokens, Refusal, bearer, check_token, oauth_error,
};
use crate::{Fault, Grant, Op, Post, PostedMedia, Simulator, Upload};
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use domain::Platform;
use serde::Deserialize;
use serde_json::json;

/// How X runs OAuth 2.0.
pub(crate) const FLAVOR: Flavor = Flavor {
    platform: Platform::X,
    name: "X",
    client_param: "client_id",
    scopes: &[
        "tweet.read",
        "tweet.write",
        "users.read",
        "offline.access",
        "media.write",
        "tweet.moderate.write",
    ],
    scope_separator: ' ',
    pkce: Pkce::Required,
    refresh_tokens: RefreshTokens::WithScope("offline.access"),
    token_prefix: "x",
    default_user: "sandbox_x",
};

pub fn router(sim: Simulator) -> Router {
    Router::new()
        .route("/i/oauth2/authorize", get(authorize_page).post(decide))
        .route("/2/oauth2/token", post(token))
        .route("/2/oauth2/revoke", post(revoke))
        .route("/2/users/me", get(me))
        .route("/2/users/{id}/tweets", get(timeline::timeline))
        .route("/2/tweets", get(metrics::lookup).post(tweet))
        .route("/2/tweets/search/recent", get(comments::search))
        .route("/2/tweets/{id}", axum::routing::delete(comments::delete))
        .route("/2/tweets/{id}/hidden", axum::routing::put(comments::hide))
        .route("/2/media/upload", get(media_status))
        .route("/2/media/upload/initialize", post(media_initialize))
        .route("/2/media/upload/{id}/append", post(media_append))
        .route("/2/media/upload/{id}/finalize", post(media_finalize))
        .with_state(sim)
}

async fn authorize_page(Query(p): Query<Params>) -> Response {
    FLAVOR.authorize_page(&p)
}

async fn decide(State(sim): State<Simulator>, Form(p): Form<Params>) -> Response {
    FLAVOR.decide(&sim, &p)
}

/// X's token answer.
fn issue(sim: &Simulator, grant: Grant) -> Response {
    let issued = FLAVOR.issue(sim, grant, sim.token_ttl);
    let mut body = json!({
        "token_type": "bearer",
        "expires_in": issued.expires_in,
        "access_token": issued.access,
        "scope": issued.scope,
    });
    if let Some(refresh) = issued.refresh {
        body["refresh_token"] = json!(refresh);
    }
    Json(body).into_response()
}

async fn token(State(sim): State<Simulator>, Form(p): Form<Params>) -> Response {
    if let Some(fault) = sim.take_fault(Platform::X, Op::Token) {
        return fault_response(fault).await;
    }
    match FLAVOR.grant(&sim, &FLAVOR.token_request(&p)) {
        Ok(grant) => issue(&sim, grant),
        Err(NoGrant::Code(why)) => oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", why),
        // X rotates refresh tokens: the old one stops working.
        Err(NoGrant::Refresh) => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Value passed for the token was invalid.",
        ),
        Err(NoGrant::GrantType) => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "unsupported grant_type",
        ),
    }
}

async fn revoke(State(sim): State<Simulator>, Form(p): Form<Params>) -> Response {
    let revoked = FLAVOR.revoke(&sim, &FLAVOR.revoke_request(&p));
    Json(json!({ "revoked": revoked })).into_response()
}

fn refusal_response(refusal: Refusal) -> Response {
    match refusal {
        Refusal::Unauthorised => (
            StatusCode::UNAUTHORIZED,
            Json(json!({"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"})),
        )
            .into_response(),
        Refusal::MissingScope(scope) => (
            StatusCode::FORBIDDEN,
            Json(json!({"title": "Forbidden", "status": 403, "detail": format!("missing scope {scope}")})),
        )
            .into_response(),
    }
}

/// The grant behind the request's bearer token, if it is valid and carries `scope`.
fn authorised(
    sim: &Simulator,
    headers: &HeaderMap,
    scope: &'static str,
) -> Result<Grant, Response> {
    check_token(sim, Platform::X, bearer(headers), scope).map_err(refusal_response)
}

async fn fault_response(fault: Fault) -> Response {
    match fault {
        Fault::ExpiredToken | Fault::RevokedToken => (
            StatusCode::UNAUTHORIZED,
            Json(json!({"title": "Unauthorized", "status": 401, "detail": "Unauthorized"})),
        )
            .into_response(),
        Fault::RateLimited { retry_after } => {
            let reset = chrono::Utc::now().timestamp()
                + i64::try_from(retry_after.as_secs()).unwrap_or(900);
            (
                StatusCode::TOO_MANY_REQUESTS,
                [
                    ("x-rate-limit-limit", "100".to_owned()),
                    ("x-rate-limit-remaining", "0".to_owned()),
                    ("x-rate-limit-reset", reset.to_string()),
                ],
                Json(json!({"title": "Too Many Requests", "type": "https://api.twitter.com/2/problems/rate-limit-exceeded", "status": 429})),
            )
                .into_response()
        }
        Fault::ServerError | Fault::ProcessingFailed | Fault::SlowProcessing(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"title": "Internal Server Error", "status": 500})),
        )
            .into_response(),
        Fault::Slow(wait) => {
            tokio::time::sleep(wait).await;
            (StatusCode::SERVICE_UNAVAILABLE, "slow").into_response()
        }
    }
}

/// `GET /2/users/me?user.fields=…`: the token's user, with `public_metrics` when asked. A call
/// asking for `public_metrics` alone is a metrics read (its faults are `Op::Metrics`'); any
/// other is the identity call.
async fn me(State(sim): State<Simulator>, headers: HeaderMap, Query(q): Query<Params>) -> Response {
    let fields: Vec<&str> = q
        .get("user.fields")
        .map(String::as_str)
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .collect();
    let op = if fields == ["public_metrics"] {
        Op::Metrics
    } else {
        Op::Identity
    };
    if let Some(fault) = sim.take_fault(Platform::X, op) {
        return fault_response(fault).await;
    }
    let grant = match authorised(&sim, &headers, "users.read") {
        Ok(grant) => grant,
        Err(refused) => return refused,
    };
    let mut user = json!({
        "id": grant.user_id,
        "name": format!("{} (simulated)", grant.username),
        "username": grant.username,
    });
    if fields.contains(&"public_metrics") {
        user["public_metrics"] = metrics::user_metrics(&sim, &grant.user_id);
    }
    Json(json!({ "data": user })).into_response()
}

#[derive(Deserialize)]
struct TweetBody {
    text: String,
    #[serde(default)]
    media: Option<TweetMedia>,
    /// A reply: kept as a comment under the post it answers.
    #[serde(default)]
    reply: Option<TweetReply>,
}

#[derive(Deserialize)]
struct TweetReply {
    in_reply_to_tweet_id: String,
}

#[derive(Deserialize)]
struct TweetMedia {
    media_ids: Vec<String>,
}

/// X's 400 with one error message.
fn invalid(message: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({
            "title": "Invalid Request",
            "status": 400,
            "detail": "One or more parameters to your request was invalid.",
            "errors": [{"message": message.into()}],
        })),
    )
        .into_response()
}

#[derive(Deserialize)]
struct InitializeBody {
    media_type: String,
    total_bytes: u64,
    media_category: String,
}

/// Largest files X takes, by category.
fn category_limit(category: &str) -> Option<(&'static str, u64)> {
    match category {
        "tweet_image" => Some(("image", 5 * 1024 * 1024)),
        "tweet_gif" => Some(("image", 15 * 1024 * 1024)),
        "tweet_video" => Some(("video", 512 * 1024 * 1024)),
        _ => None,
    }
}

async fn media_initialize(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Json(body): Json<InitializeBody>,
) -> Response {
    let grant = match uploader(&sim, &headers).await {
        Ok(grant) => grant,
        Err(refused) => return refused,
    };
    let Some((kind, limit)) = category_limit(&body.media_category) else {
        return invalid(format!("unknown media_category {}", body.media_category));
    };
    if !body.media_type.starts_with(&format!("{kind}/")) {
        return invalid(format!(
            "media_type {} does not fit media_category {}",
            body.media_type, body.media_category
        ));
    }
    if body.total_bytes == 0 || body.total_bytes > limit {
        return invalid(format!(
            "total_bytes must be between 1 and {limit} for {}",
            body.media_category
        ));
    }
    let id = sim.next_id();
    sim.state().uploads.insert(
        id.clone(),
        Upload {
            platform: Platform::X,
            user_id: grant.user_id,
            kind: kind.to_owned(),
            total_bytes: body.total_bytes,
            segments: Default::default(),
            finalized: false,
            // Videos are processed after upload; images are ready at once.
            polls_left: u32::from(kind == "video"),
            failed: false,
        },
    );
    Json(json!({"data": {"id": id, "media_key": format!("3_{id}"), "expires_after_secs": 86400}}))
        .into_response()
}

/// Who is uploading, after any injected fault: the user of a token with `media.write`.
async fn uploader(sim: &Simulator, headers: &HeaderMap) -> Result<Grant, Response> {
    if let Some(fault) = sim.take_fault(Platform::X, Op::Upload) {
        return Err(fault_response(fault).await);
    }
    authorised(sim, headers, "media.write")
}

/// The upload `id`, which must be the uploader's own (see [`uploader`]).
async fn uploading(sim: &Simulator, headers: &HeaderMap, id: &str) -> Result<Upload, Response> {
    let grant = uploader(sim, headers).await?;
    own_upload(sim, &grant, id)
}

/// The upload `id` of the token's user, or X's answer when there is none.
fn own_upload(sim: &Simulator, grant: &Grant, id: &str) -> Result<Upload, Response> {
    match sim.state().uploads.get(id) {
        Some(upload) if upload.platform == Platform::X && upload.user_id == grant.user_id => {
            Ok(upload.clone())
        }
        _ => Err(invalid(format!("media {id} not found"))),
    }
}

async fn media_append(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path(id): Path<String>,
    mut form: Multipart,
) -> Response {
    let upload = match uploading(&sim, &headers, &id).await {
        Ok(upload) => upload,
        Err(refused) => return refused,
    };
    let mut index = None;
    let mut bytes = None;
    while let Ok(Some(field)) = form.next_field().await {
        match field.name() {
            Some("segment_index") => index = field.text().await.ok().and_then(|t| t.parse().ok()),
            Some("media") => bytes = field.bytes().await.ok().map(|b| b.len() as u64),
            _ => {}
        }
    }
    let (Some(index), Some(bytes)) = (index, bytes) else {
        return invalid("segment_index and media are required");
    };
    if upload.finalized || index > 999 || bytes == 0 {
        return invalid("the segment cannot be appended");
    }
    if let Some(upload) = sim.state().uploads.get_mut(&id) {
        upload.segments.insert(index, bytes);
    }
    StatusCode::NO_CONTENT.into_response()
}

/// X's `processing_info` for an upload.
fn processing_info(upload: &Upload) -> Option<serde_json::Value> {
    if upload.kind != "video" {
        return None;
    }
    Some(if upload.failed {
        json!({"state": "failed", "error": {"code": 1, "name": "InvalidMedia", "message": "Unsupported video format"}})
    } else if upload.polls_left > 0 {
        json!({"state": "in_progress", "check_after_secs": 1, "progress_percent": 40})
    } else {
        json!({"state": "succeeded", "progress_percent": 100})
    })
}

async fn media_finalize(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let upload = match uploading(&sim, &headers, &id).await {
        Ok(upload) => upload,
        Err(refused) => return refused,
    };
    // Segments must run 0, 1, 2… and add up to the size announced.
    let contiguous = upload
        .segments
        .keys()
        .enumerate()
        .all(|(i, k)| u32::try_from(i).is_ok_and(|i| i == *k));
    if !contiguous || upload.received() != upload.total_bytes {
        return invalid(format!(
            "received {} of {} bytes; segments must be numbered from 0 without gaps",
            upload.received(),
            upload.total_bytes
        ));
    }
    let upload = {
        let mut state = sim.state();
        let Some(upload) = state.uploads.get_mut(&id) else {
            return invalid(format!("media {id} not found"));
        };
        upload.finalized = true;
        upload.clone()
    };
    let mut data = json!({"id": id, "media_key": format!("3_{id}"), "size": upload.total_bytes});
    if let Some(info) = processing_info(&upload) {
        data["processing_info"] = info;
    }
    Json(json!({"data": data})).into_response()
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct StatusQuery {
    command: String,
    media_id: String,
}

async fn media_status(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Query(q): Query<StatusQuery>,
) -> Response {
    let grant = match authorised(&sim, &headers, "media.write") {
        Ok(grant) => grant,
        Err(refused) => return refused,
    };
    if q.command != "STATUS" {
        return invalid("command must be STATUS");
    }
    if own_upload(&sim, &grant, &q.media_id).is_err() {
        return invalid(format!("media {} not found", q.media_id));
    }
    let fault = sim.take_fault(Platform::X, Op::Status);
    if let Some(other) = fault
        .clone()
        .filter(|f| !matches!(f, Fault::ProcessingFailed | Fault::SlowProcessing(_)))
    {
        return fault_response(other).await;
    }
    let upload = {
        let mut state = sim.state();
        let Some(upload) = state.uploads.get_mut(&q.media_id) else {
            return invalid("media not found");
        };
        match fault {
            Some(Fault::ProcessingFailed) => upload.failed = true,
            Some(Fault::SlowProcessing(n)) => upload.polls_left += n,
            _ => {
                // This poll answers with the state before it; the next sees one step more.
                let answer = upload.clone();
                upload.polls_left = upload.polls_left.saturating_sub(1);
                drop(state);
                return status_answer(&q.media_id, &answer);
            }
        }
        upload.clone()
    };
    status_answer(&q.media_id, &upload)
}

fn status_answer(id: &str, upload: &Upload) -> Response {
    let mut data = json!({"id": id, "media_key": format!("3_{id}")});
    if let Some(info) = processing_info(upload) {
        data["processing_info"] = info;
    }
    Json(json!({"data": data})).into_response()
}

/// Checks the media of a post: the user's own, processed, at most four images or one video.
fn attached(sim: &Simulator, grant: &Grant, ids: &[String]) -> Result<Vec<PostedMedia>, Response> {
    let mut media = Vec::new();
    for id in ids {
        let upload = own_upload(sim, grant, id)?;
        if !upload.ready() {
            return Err(invalid(format!("media {id} is not ready to be attached")));
        }
        media.push(PostedMedia {
            kind: upload.kind.clone(),
            bytes: upload.total_bytes,
            sha256: None,
        });
    }
    let videos = media.iter().filter(|m| m.kind == "video").count();
    if media.len() > 4 || (videos > 0 && media.len() > 1) {
        return Err(invalid(
            "a post takes up to four images or one video, not both",
        ));
    }
    Ok(media)
}

async fn tweet(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Json(body): Json<TweetBody>,
) -> Response {
    if let Some(fault) = sim.take_fault(Platform::X, Op::Publish) {
        return fault_response(fault).await;
    }
    if body.reply.is_none()
        && let Some(lost) = sim.lost_before_posting(Platform::X)
    {
        return lost;
    }
    let grant = match authorised(&sim, &headers, "tweet.write") {
        Ok(grant) => grant,
        Err(refused) => return refused,
    };
    let media = match attached(
        &sim,
        &grant,
        body.media
            .as_ref()
            .map(|m| m.media_ids.as_slice())
            .unwrap_or_default(),
    ) {
        Ok(media) => media,
        Err(refused) => return refused,
    };
    let length = domain::content::x_weighted_length(&body.text);
    if (body.text.trim().is_empty() && media.is_empty()) || length > 280 {
        return invalid(format!(
            "text: weighted length {length} is not between 1 and 280"
        ));
    }
    if let Some(reply) = &body.reply {
        if let Some(fault) = sim.take_fault(Platform::X, Op::Comment) {
            return fault_response(fault).await;
        }
        if let Some(answer) = comments::reply(&sim, &grant, &reply.in_reply_to_tweet_id, &body.text)
        {
            return answer;
        }
        return match sim.keep_comment(
            Platform::X,
            &grant.user_id,
            &reply.in_reply_to_tweet_id,
            &body.text,
        ) {
            Some(id) => (
                StatusCode::CREATED,
                Json(json!({"data": {"id": id, "text": body.text}})),
            )
                .into_response(),
            None => invalid(
                "reply.in_reply_to_tweet_id: the post to reply to does not exist or was deleted",
            ),
        };
    }
    let id = sim.next_id();
    sim.state().record_post(Post {
        platform: Platform::X,
        user_id: grant.user_id,
        id: id.clone(),
        text: body.text.clone(),
        media,
    });
    if let Some(lost) = sim.after_publishing(Platform::X).await {
        return lost;
    }
    (
        StatusCode::CREATED,
        Json(json!({"data": {"id": id, "text": body.text}})),
    )
        .into_response()
}

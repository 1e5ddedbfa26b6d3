//! TikTok's Content Posting API, under `/tiktok`: the authorize page (`/tiktok/v2/auth/…`, the
//! `www.tiktok.com` host) and the API host `open.tiktokapis.com` as `/tiktok/api`: OAuth with
//! optional PKCE and rotating refresh tokens, user info, creator info, video (chunked file upload
//! or pull from a URL) and photo posts, and status polls.
//!
//! Simulated accounts behave by their username: one starting with `unaudited` may only post
//! `SELF_ONLY` (what an unaudited app gets), one containing `quiet` has comments, duets and
//! stitches turned off.

use crate::oauth::{Flavor, Params, Pkce, RefreshTokens, Refusal, bearer, check_token};
use crate::{Fault, Grant, Op, Post, PostedMedia, Simulator};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State as Shared};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Form, Json, Router};
use domain::Platform;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How TikTok runs OAuth 2.0.
pub(crate) const FLAVOR: Flavor = Flavor {
    platform: Platform::TikTok,
    name: "TikTok",
    client_param: "client_key",
    scopes: &[
        "user.info.basic",
        "user.info.profile",
        "video.publish",
        "video.upload",
        "user.info.stats",
        "video.list",
    ],
    scope_separator: ',',
    pkce: Pkce::Optional,
    refresh_tokens: RefreshTokens::Always,
    token_prefix: "act.",
    default_user: "sandbox_tiktok",
};

/// Access tokens live a day, refresh tokens a year.
const ACCESS_TTL: Duration = Duration::from_secs(86_400);
const REFRESH_TTL_SECS: u64 = 31_536_000;
const CLIENT_SECRET: &str = "sandbox-secret";
/// Publish inits a token may make per minute.
const INITS_PER_MINUTE: usize = 6;
/// Posts a creator may make through the API per day before TikTok calls it spam.
const DEFAULT_DAILY_CAP: usize = 15;
const MB: u64 = 1024 * 1024;

pub fn router(sim: Simulator) -> Router {
    Router::new()
        .route("/v2/auth/authorize/", get(authorize_page).post(decide))
        .route("/api/v2/oauth/token/", post(token))
        .route("/api/v2/oauth/revoke/", post(revoke))
        .route("/api/v2/user/info/", get(user_info))
        .route(
            "/api/v2/post/publish/creator_info/query/",
            post(creator_info),
        )
        .route("/api/v2/post/publish/video/init/", post(video_init))
        .route("/api/v2/post/publish/content/init/", post(content_init))
        .route("/api/v2/post/publish/status/fetch/", post(status_fetch))
        // Chunks run up to 128 MB, well past axum's default body limit.
        .route(
            "/upload/{publish_id}",
            put(upload).layer(DefaultBodyLimit::max(130 * MB as usize)),
        )
        .with_state(sim)
}

/// The `post_info` of the last publish init TikTok accepted (what a test checks `is_aigc`,
/// the privacy level and the interaction switches on).
pub fn last_post_info(sim: &Simulator) -> Option<Value> {
    lock(&store(sim)).last_post_info.clone()
}

/// How many posts a creator may make per day before `spam_risk_too_many_posts`.
pub fn set_daily_post_cap(sim: &Simulator, cap: usize) {
    lock(&store(sim)).daily_cap = Some(cap);
}

// ---------------------------------------------------------------------------------------------
// TikTok's own records, kept beside the shared state (one store per simulator).

#[derive(Default)]
struct Store {
    publishes: HashMap<String, Publish>,
    /// Init calls per access token, for the per-minute limit.
    inits: HashMap<String, VecDeque<Instant>>,
    /// Inits accepted per creator, for the daily cap.
    accepted: HashMap<String, VecDeque<Instant>>,
    daily_cap: Option<usize>,
    last_post_info: Option<Value>,
}

struct Publish {
    user_id: String,
    text: String,
    privacy: String,
    source: Source,
    progress: Progress,
}

enum Source {
    /// Bytes the app PUTs in chunks.
    Upload {
        video_size: u64,
        chunk_size: u64,
        chunks: u64,
        received: u64,
        next_chunk: u64,
    },
    /// Files TikTok downloaded itself.
    Pulled { media: Vec<PostedMedia> },
}

enum Progress {
    /// Waiting for the upload to finish.
    Uploading,
    /// This many more polls answer "processing".
    Processing(u32),
    Complete {
        post_id: String,
    },
    Failed(String),
}

/// This simulator's store of this platform (made on first use; dropped with the simulator).
fn store(sim: &Simulator) -> Arc<Mutex<Store>> {
    sim.extension::<Store>()
}

fn lock(store: &Arc<Mutex<Store>>) -> MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(|p| p.into_inner())
}

// ---------------------------------------------------------------------------------------------
// Answers in TikTok's shapes.

fn log_id() -> String {
    crate::random_token("2026")
}

/// The API envelope: `{data, error:{code, message, log_id}}`.
fn envelope(status: StatusCode, data: Value, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({
            "data": data,
            "error": {"code": code, "message": message, "log_id": log_id()},
        })),
    )
        .into_response()
}

fn ok(data: Value) -> Response {
    envelope(StatusCode::OK, data, "ok", "")
}

fn api_error(status: StatusCode, code: &str, message: &str) -> Response {
    envelope(status, json!({}), code, message)
}

fn invalid_params(message: &str) -> Response {
    api_error(StatusCode::BAD_REQUEST, "invalid_params", message)
}

/// The OAuth endpoints' flat error.
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description, "log_id": log_id()})),
    )
        .into_response()
}

fn rate_limited(wait: Duration) -> Response {
    let reset = chrono::Utc::now().timestamp() + i64::try_from(wait.as_secs()).unwrap_or(60);
    let mut res = api_error(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limit_exceeded",
        "API rate limit was exceeded. Please try again later.",
    );
    let headers = res.headers_mut();
    headers.insert("x-ratelimit-limit", header::HeaderValue::from_static("6"));
    headers.insert(
        "x-ratelimit-remaining",
        header::HeaderValue::from_static("0"),
    );
    if let Ok(value) = header::HeaderValue::from_str(&reset.to_string()) {
        headers.insert("x-ratelimit-reset", value);
    }
    res
}

async fn fault_response(fault: Fault) -> Response {
    match fault {
        Fault::ExpiredToken | Fault::RevokedToken => api_error(
            StatusCode::UNAUTHORIZED,
            "access_token_invalid",
            "The access token is invalid or not found in the request.",
        ),
        Fault::RateLimited { retry_after } => rate_limited(retry_after),
        Fault::ServerError | Fault::ProcessingFailed | Fault::SlowProcessing(_) => api_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Something went wrong. Please try again later.",
        ),
        Fault::Slow(wait) => {
            tokio::time::sleep(wait).await;
            (StatusCode::SERVICE_UNAVAILABLE, "slow").into_response()
        }
    }
}

fn refusal_response(refusal: Refusal) -> Response {
    match refusal {
        Refusal::Unauthorised => api_error(
            StatusCode::UNAUTHORIZED,
            "access_token_invalid",
            "The access token is invalid or not found in the request.",
        ),
        Refusal::MissingScope(scope) => api_error(
            StatusCode::FORBIDDEN,
            "scope_not_authorized",
            &format!(
                "The user did not authorize the scope required for completing this request ({scope})."
            ),
        ),
    }
}

/// The grant and token behind the request's bearer token, if valid and carrying `scope`.
fn authorised(
    sim: &Simulator,
    headers: &HeaderMap,
    scope: &'static str,
) -> Result<(Grant, String), Response> {
    let token = bearer(headers);
    check_token(sim, Platform::TikTok, token, scope)
        .map(|grant| (grant, token.unwrap_or_default().to_owned()))
        .map_err(refusal_response)
}

// ---------------------------------------------------------------------------------------------
// OAuth.

async fn authorize_page(Query(p): Query<Params>) -> Response {
    FLAVOR.authorize_page(&p)
}

async fn decide(Shared(sim): Shared<Simulator>, Form(p): Form<Params>) -> Response {
    FLAVOR.decide(&sim, &p)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TokenForm {
    client_key: String,
    client_secret: String,
    code: String,
    grant_type: String,
    redirect_uri: String,
    code_verifier: String,
    refresh_token: String,
}

/// TikTok's token answer: flat, with both lifetimes.
fn issue(sim: &Simulator, grant: Grant) -> Response {
    let open_id = grant.user_id.clone();
    let issued = FLAVOR.issue(sim, grant, ACCESS_TTL);
    Json(json!({
        "open_id": open_id,
        "scope": issued.scope,
        "access_token": issued.access,
        "expires_in": issued.expires_in,
        "refresh_token": issued.refresh,
        "refresh_expires_in": REFRESH_TTL_SECS,
        "token_type": "Bearer",
    }))
    .into_response()
}

async fn token(Shared(sim): Shared<Simulator>, Form(f): Form<TokenForm>) -> Response {
    if let Some(fault) = sim.take_fault(Platform::TikTok, Op::Token) {
        return fault_response(fault).await;
    }
    if f.client_key.is_empty() || f.client_secret != CLIENT_SECRET {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client key or secret is incorrect.",
        );
    }
    match f.grant_type.as_str() {
        "authorization_code" => {
            match FLAVOR.redeem(
                &sim,
                &f.code,
                &f.client_key,
                &f.redirect_uri,
                &f.code_verifier,
            ) {
                Ok(grant) => issue(&sim, grant),
                Err(why) => oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", why),
            }
        }
        // Refresh tokens rotate: the one just spent stops working.
        "refresh_token" => match FLAVOR.use_refresh(&sim, &f.refresh_token, &f.client_key) {
            Some(grant) => issue(&sim, grant),
            None => oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "Refresh token is invalid or expired.",
            ),
        },
        _ => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "The grant type is not supported.",
        ),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RevokeForm {
    client_key: String,
    client_secret: String,
    token: String,
}

/// Revoking ends the whole authorisation: every token of that person for that client.
async fn revoke(Shared(sim): Shared<Simulator>, Form(f): Form<RevokeForm>) -> Response {
    if let Some(fault) = sim.take_fault(Platform::TikTok, Op::Revoke) {
        return fault_response(fault).await;
    }
    if f.client_key.is_empty() || f.client_secret != CLIENT_SECRET {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client key or secret is incorrect.",
        );
    }
    let mut state = sim.state();
    let owner = state
        .access
        .get(&f.token)
        .map(|t| t.grant.clone())
        .or_else(|| state.refresh.get(&f.token).cloned())
        .filter(|g| g.platform == Platform::TikTok && g.client_id == f.client_key);
    let Some(owner) = owner else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The token is invalid.",
        );
    };
    let same = |g: &Grant| {
        g.platform == Platform::TikTok
            && g.client_id == owner.client_id
            && g.user_id == owner.user_id
    };
    for t in state.access.values_mut() {
        if same(&t.grant) {
            t.revoked = true;
        }
    }
    state.refresh.retain(|_, g| !same(g));
    Json(json!({})).into_response()
}

async fn user_info(
    Shared(sim): Shared<Simulator>,
    headers: HeaderMap,
    Query(q): Query<Params>,
) -> Response {
    if let Some(fault) = sim.take_fault(Platform::TikTok, Op::Identity) {
        return fault_response(fault).await;
    }
    let (grant, _) = match authorised(&sim, &headers, "user.info.basic") {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    let fields = q.get("fields").map(String::as_str).unwrap_or_default();
    let mut user = serde_json::Map::new();
    for field in fields.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        let value = match field {
            "open_id" => json!(grant.user_id),
            "union_id" => json!(format!("u{}", grant.user_id)),
            "avatar_url" => json!(format!(
                "https://p16-sign.tiktokcdn.com/sim/{}.jpeg",
                grant.user_id
            )),
            "display_name" => json!(format!("{} (simulated)", grant.username)),
            // Profile fields need their own scope, as at TikTok.
            "username" | "bio_description" | "profile_deep_link" | "is_verified" => {
                if !grant.scopes.iter().any(|s| s == "user.info.profile") {
                    return refusal_response(Refusal::MissingScope("user.info.profile"));
                }
                match field {
                    "username" => json!(grant.username),
                    "is_verified" => json!(false),
                    _ => json!(""),
                }
            }
            "follower_count" | "following_count" | "likes_count" | "video_count" => {
                if !grant.scopes.iter().any(|s| s == "user.info.stats") {
                    return refusal_response(Refusal::MissingScope("user.info.stats"));
                }
                match field {
                    "follower_count" => json!(crate::followers(&grant.user_id)),
                    _ => json!(42),
                }
            }
            other => return invalid_params(&format!("unknown field {other}")),
        };
        user.insert(field.to_owned(), value);
    }
    if user.is_empty() {
        return invalid_params("fields is required");
    }
    ok(json!({"user": user}))
}

// ---------------------------------------------------------------------------------------------
// Publishing.

/// What a creator may do, by the simulated username.
struct Creator {
    privacy_options: Vec<&'static str>,
    interactions_off: bool,
}

fn creator(grant: &Grant) -> Creator {
    Creator {
        privacy_options: if grant.username.starts_with("unaudited") {
            vec!["SELF_ONLY"]
        } else {
            vec!["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
        },
        interactions_off: grant.username.contains("quiet"),
    }
}

async fn creator_info(Shared(sim): Shared<Simulator>, headers: HeaderMap) -> Response {
    let (grant, _) = match authorised(&sim, &headers, "video.publish") {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    let c = creator(&grant);
    ok(json!({
        "creator_avatar_url": format!("https://p16-sign.tiktokcdn.com/sim/{}.jpeg", grant.user_id),
        "creator_username": grant.username,
        "creator_nickname": format!("{} (simulated)", grant.username),
        "privacy_level_options": c.privacy_options,
        "comment_disabled": c.interactions_off,
        "duet_disabled": c.interactions_off,
        "stitch_disabled": c.interactions_off,
        "max_video_post_duration_sec": 600,
    }))
}

/// Counts an init against the token's per-minute limit and the creator's daily cap.
fn admit_init(sim: &Simulator, token: &str, user_id: &str) -> Result<(), Response> {
    let store = store(sim);
    let mut store = lock(&store);
    let now = Instant::now();
    let calls = store.inits.entry(token.to_owned()).or_default();
    while calls
        .front()
        .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(60))
    {
        calls.pop_front();
    }
    if calls.len() >= INITS_PER_MINUTE {
        let wait = calls
            .front()
            .map(|t| Duration::from_secs(60).saturating_sub(now.duration_since(*t)))
            .unwrap_or(Duration::from_secs(60));
        return Err(rate_limited(wait.max(Duration::from_secs(1))));
    }
    calls.push_back(now);
    let cap = store.daily_cap.unwrap_or(DEFAULT_DAILY_CAP);
    let day = store.accepted.entry(user_id.to_owned()).or_default();
    while day
        .front()
        .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(86_400))
    {
        day.pop_front();
    }
    if day.len() >= cap {
        return Err(api_error(
            StatusCode::FORBIDDEN,
            "spam_risk_too_many_posts",
            "The daily post cap from the API is reached for the current user.",
        ));
    }
    Ok(())
}

/// Checks `post_info` against the creator's options; the privacy level chosen.
fn check_post_info(grant: &Grant, info: &Value, title_limit: usize) -> Result<String, Response> {
    let c = creator(grant);
    let title = info["title"].as_str().unwrap_or_default();
    if title.chars().count() > title_limit {
        return Err(invalid_params(&format!(
            "title is longer than {title_limit} characters"
        )));
    }
    let privacy = info["privacy_level"].as_str().unwrap_or_default();
    if privacy.is_empty() {
        return Err(invalid_params("post_info.privacy_level is required"));
    }
    if !c.privacy_options.contains(&privacy) {
        return Err(api_error(
            StatusCode::BAD_REQUEST,
            "privacy_level_option_mismatch",
            &format!(
                "privacy_level {privacy} is not among the creator's options ({})",
                c.privacy_options.join(", ")
            ),
        ));
    }
    for (switch, label) in [
        ("disable_comment", "comments"),
        ("disable_duet", "duets"),
        ("disable_stitch", "stitches"),
    ] {
        if !info[switch].is_null() && !info[switch].is_boolean() {
            return Err(invalid_params(&format!(
                "post_info.{switch} must be a boolean"
            )));
        }
        if c.interactions_off && info[switch] != Value::Bool(true) {
            return Err(invalid_params(&format!(
                "the creator has turned {label} off: {switch} must be true"
            )));
        }
    }
    if !info["is_aigc"].is_null() && !info["is_aigc"].is_boolean() {
        return Err(invalid_params("post_info.is_aigc must be a boolean"));
    }
    Ok(privacy.to_owned())
}

/// Whether the chunk plan follows TikTok's rules; why not otherwise.
fn check_chunks(video_size: u64, chunk_size: u64, chunks: u64) -> Result<(), String> {
    if video_size == 0 || video_size > 4096 * MB {
        return Err("video_size must be between 1 byte and 4 GB".into());
    }
    if video_size < 5 * MB {
        if chunk_size != video_size || chunks != 1 {
            return Err("a video under 5 MB is uploaded as one chunk of its whole size".into());
        }
        return Ok(());
    }
    if !(5 * MB..=64 * MB).contains(&chunk_size) {
        return Err("chunk_size must be between 5 MB and 64 MB".into());
    }
    let expected = video_size / chunk_size;
    if chunks != expected || chunks == 0 || chunks > 1000 {
        return Err(format!(
            "total_chunk_count must be video_size / chunk_size rounded down ({expected})"
        ));
    }
    let last = video_size - (chunks - 1) * chunk_size;
    if chunks > 1 && last > 128 * MB {
        return Err("the last chunk may be at most 128 MB".into());
    }
    Ok(())
}

fn host(headers: &HeaderMap) -> String {
    headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_owned()
}

async fn video_init(
    Shared(sim): Shared<Simulator>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(fault) = sim.take_fault(Platform::TikTok, Op::Publish) {
        return fault_response(fault).await;
    }
    let (grant, token) = match authorised(&sim, &headers, "video.publish") {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    if let Err(refused) = admit_init(&sim, &token, &grant.user_id) {
        return refused;
    }
    let info = &body["post_info"];
    let privacy = match check_post_info(&grant, info, 2200) {
        Ok(privacy) => privacy,
        Err(refused) => return refused,
    };
    let source = &body["source_info"];
    let number = |name: &str| source[name].as_u64().unwrap_or_default();
    let (source, progress, upload_url) = match source["source"].as_str().unwrap_or_default() {
        "FILE_UPLOAD" => {
            let (video_size, chunk_size, chunks) = (
                number("video_size"),
                number("chunk_size"),
                number("total_chunk_count"),
            );
            if let Err(why) = check_chunks(video_size, chunk_size, chunks) {
                return invalid_params(&why);
            }
            (
                Source::Upload {
                    video_size,
                    chunk_size,
                    chunks,
                    received: 0,
                    next_chunk: 0,
                },
                Progress::Uploading,
                true,
            )
        }
        "PULL_FROM_URL" => {
            let url = source["video_url"].as_str().unwrap_or_default();
            if url.is_empty() {
                return invalid_params("source_info.video_url is required");
            }
            match crate::fetch(url).await {
                Ok(file) if file.kind == "video" => (
                    Source::Pulled {
                        media: vec![file.posted()],
                    },
                    Progress::Processing(1),
                    false,
                ),
                Ok(_) => (
                    Source::Pulled { media: Vec::new() },
                    Progress::Failed("file_format_check_failed".into()),
                    false,
                ),
                Err(_) => (
                    Source::Pulled { media: Vec::new() },
                    Progress::Failed("video_pull_failed".into()),
                    false,
                ),
            }
        }
        _ => return invalid_params("source_info.source must be FILE_UPLOAD or PULL_FROM_URL"),
    };
    let publish_id = format!("v_pub_file~v2-1.{}", sim.next_id());
    accept(
        &sim,
        &publish_id,
        Publish {
            user_id: grant.user_id.clone(),
            text: info["title"].as_str().unwrap_or_default().to_owned(),
            privacy,
            source,
            progress,
        },
        info.clone(),
    );
    let mut data = json!({"publish_id": publish_id});
    if upload_url {
        data["upload_url"] = json!(format!(
            "http://{}/tiktok/upload/{publish_id}?upload_token={}",
            host(&headers),
            crate::random_token("")
        ));
    }
    ok(data)
}

fn accept(sim: &Simulator, publish_id: &str, publish: Publish, post_info: Value) {
    let store = store(sim);
    let mut store = lock(&store);
    store
        .accepted
        .entry(publish.user_id.clone())
        .or_default()
        .push_back(Instant::now());
    store.publishes.insert(publish_id.to_owned(), publish);
    store.last_post_info = Some(post_info);
}

async fn content_init(
    Shared(sim): Shared<Simulator>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(fault) = sim.take_fault(Platform::TikTok, Op::Publish) {
        return fault_response(fault).await;
    }
    let (grant, token) = match authorised(&sim, &headers, "video.publish") {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    if let Err(refused) = admit_init(&sim, &token, &grant.user_id) {
        return refused;
    }
    if body["media_type"] != "PHOTO" {
        return invalid_params("media_type must be PHOTO");
    }
    if body["post_mode"] != "DIRECT_POST" {
        return invalid_params("only post_mode DIRECT_POST is simulated");
    }
    let info = &body["post_info"];
    // Photo posts have a short title and a long description.
    let privacy = match check_post_info(&grant, info, 90) {
        Ok(privacy) => privacy,
        Err(refused) => return refused,
    };
    let description = info["description"].as_str().unwrap_or_default();
    if description.chars().count() > 4000 {
        return invalid_params("description is longer than 4000 characters");
    }
    let source = &body["source_info"];
    if source["source"] != "PULL_FROM_URL" {
        return invalid_params("photos are only taken with source PULL_FROM_URL");
    }
    let urls: Vec<&str> = source["photo_images"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if urls.is_empty() || urls.len() > 35 {
        return invalid_params("photo_images must hold 1 to 35 URLs");
    }
    let cover = source["photo_cover_index"].as_u64().unwrap_or_default();
    if usize::try_from(cover).map_or(true, |c| c >= urls.len()) {
        return invalid_params("photo_cover_index is outside photo_images");
    }
    let mut media = Vec::new();
    let mut progress = Progress::Processing(1);
    for url in urls {
        match crate::fetch(url).await {
            Ok(file) if matches!(file.mime.as_str(), "image/jpeg" | "image/webp") => {
                media.push(file.posted());
            }
            Ok(_) => {
                progress = Progress::Failed("file_format_check_failed".into());
                break;
            }
            Err(_) => {
                progress = Progress::Failed("picture_pull_failed".into());
                break;
            }
        }
    }
    let text = if description.is_empty() {
        info["title"].as_str().unwrap_or_default()
    } else {
        description
    };
    let publish_id = format!("p_pub_url~v2.{}", sim.next_id());
    accept(
        &sim,
        &publish_id,
        Publish {
            user_id: grant.user_id,
            text: text.to_owned(),
            privacy,
            source: Source::Pulled { media },
            progress,
        },
        info.clone(),
    );
    ok(json!({"publish_id": publish_id}))
}

/// `bytes start-end/total`.
fn content_range(headers: &HeaderMap) -> Option<(u64, u64, u64)> {
    let value = headers.get(header::CONTENT_RANGE)?.to_str().ok()?;
    let (range, total) = value.strip_prefix("bytes ")?.split_once('/')?;
    let (start, end) = range.split_once('-')?;
    Some((
        start.trim().parse().ok()?,
        end.trim().parse().ok()?,
        total.trim().parse().ok()?,
    ))
}

async fn upload(
    Shared(sim): Shared<Simulator>,
    Path(publish_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(fault) = sim.take_fault(Platform::TikTok, Op::Upload) {
        return fault_response(fault).await;
    }
    let mime = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !matches!(mime, "video/mp4" | "video/quicktime" | "video/webm") {
        return invalid_params("Content-Type must be video/mp4, video/quicktime or video/webm");
    }
    let Some((start, end, total)) = content_range(&headers) else {
        return invalid_params("Content-Range must be bytes start-end/total");
    };
    let store = store(&sim);
    let mut store = lock(&store);
    let Some(publish) = store.publishes.get_mut(&publish_id) else {
        return api_error(StatusCode::NOT_FOUND, "invalid_params", "unknown upload");
    };
    let Source::Upload {
        video_size,
        chunk_size,
        chunks,
        received,
        next_chunk,
    } = &mut publish.source
    else {
        return invalid_params("this publish pulls from a URL");
    };
    if !matches!(publish.progress, Progress::Uploading) {
        return invalid_params("the upload is already complete");
    }
    let length = body.len() as u64;
    let last = *next_chunk + 1 == *chunks;
    let expected = if last {
        *video_size - *received
    } else {
        *chunk_size
    };
    if total != *video_size {
        return invalid_params("the total in Content-Range does not match video_size");
    }
    if start != *received || end < start || end - start + 1 != length {
        return (
            StatusCode::RANGE_NOT_SATISFIABLE,
            Json(json!({"error": {"code": "invalid_params", "message": format!("expected the chunk starting at byte {received}"), "log_id": log_id()}})),
        )
            .into_response();
    }
    if length != expected {
        return invalid_params(&format!(
            "chunk {} must be {expected} bytes, got {length}",
            *next_chunk + 1
        ));
    }
    *received += length;
    *next_chunk += 1;
    if last {
        publish.progress = Progress::Processing(1);
        StatusCode::CREATED.into_response()
    } else {
        StatusCode::PARTIAL_CONTENT.into_response()
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct StatusBody {
    publish_id: String,
}

async fn status_fetch(
    Shared(sim): Shared<Simulator>,
    headers: HeaderMap,
    Json(body): Json<StatusBody>,
) -> Response {
    let fault = match sim.take_fault(Platform::TikTok, Op::Status) {
        Some(fault @ (Fault::ProcessingFailed | Fault::SlowProcessing(_))) => Some(fault),
        Some(other) => return fault_response(other).await,
        None => None,
    };
    let (grant, _) = match authorised(&sim, &headers, "video.publish") {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    let store_ref = store(&sim);
    let mut store = lock(&store_ref);
    let Some(publish) = store
        .publishes
        .get_mut(&body.publish_id)
        .filter(|p| p.user_id == grant.user_id)
    else {
        return invalid_params("publish_id not found");
    };
    let pulled = matches!(publish.source, Source::Pulled { .. });
    match fault {
        Some(Fault::ProcessingFailed) => {
            publish.progress = Progress::Failed(
                if pulled {
                    "video_pull_failed"
                } else {
                    "file_format_check_failed"
                }
                .into(),
            );
        }
        Some(Fault::SlowProcessing(n)) => {
            if let Progress::Processing(left) = &mut publish.progress {
                *left += n;
            }
        }
        _ => {}
    }
    let (uploaded, media) = match &publish.source {
        Source::Upload {
            received,
            video_size,
            ..
        } => (
            *received,
            vec![PostedMedia {
                kind: "video".into(),
                bytes: *video_size,
            }],
        ),
        Source::Pulled { media } => (media.iter().map(|m| m.bytes).sum(), media.clone()),
    };
    let in_progress = if pulled {
        "PROCESSING_DOWNLOAD"
    } else {
        "PROCESSING_UPLOAD"
    };
    let mut posted = None;
    let answer = match &mut publish.progress {
        Progress::Uploading => json!({"status": "PROCESSING_UPLOAD", "uploaded_bytes": uploaded}),
        Progress::Processing(left) if *left > 0 => {
            *left -= 1;
            json!({"status": in_progress, "uploaded_bytes": uploaded})
        }
        Progress::Processing(_) => {
            let post_id = format!("7{:018}", sim.next_id().parse::<u64>().unwrap_or_default());
            posted = Some(Post {
                platform: Platform::TikTok,
                user_id: publish.user_id.clone(),
                id: post_id.clone(),
                text: publish.text.clone(),
                media,
            });
            publish.progress = Progress::Complete {
                post_id: post_id.clone(),
            };
            completed(&publish.privacy, &post_id, uploaded)
        }
        Progress::Complete { post_id } => completed(&publish.privacy, post_id, uploaded),
        Progress::Failed(reason) => json!({"status": "FAILED", "fail_reason": reason}),
    };
    drop(store);
    if let Some(post) = posted {
        sim.state().posts.push(post);
    }
    ok(answer)
}

/// A finished post: its public id, unless only the creator can see it.
fn completed(privacy: &str, post_id: &str, uploaded: u64) -> Value {
    let public: Vec<&str> = if privacy == "SELF_ONLY" {
        Vec::new()
    } else {
        vec![post_id]
    };
    json!({
        "status": "PUBLISH_COMPLETE",
        "publicaly_available_post_id": public,
        "uploaded_bytes": uploaded,
    })
}

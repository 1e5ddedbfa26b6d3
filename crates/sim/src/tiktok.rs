//! TikTok's Content Posting API, under `/tiktok`: the authorize page (`/tiktok/v2/auth/…`, the
//! `www.tiktok.com` host) and the API host `open.tiktokapis.com` as `/tiktok/api`: OAuth with
//! optional PKCE and rotating refresh tokens, user info, creator info, video (chunked file upload
//! or pull from a URL) and photo posts, status polls, and the figures of videos and of the
//! account (the Display API's video query and user info stats).
//!
//! Simulated accounts behave by their username: one starting with `unaudited` may only post
//! `SELF_ONLY` (what an unaudited app gets), one containing `quiet` has comments, duets and
//! stitches turned off.
//!
//! This file holds the routes, the records TikTok keeps and the answers in its shapes; the
//! OAuth endpoints and user info are in `tiktok/auth.rs`, posting in `tiktok/publishing.rs`, the
//! figures in `tiktok/metrics.rs`.

mod auth;
mod metrics;
mod publishing;

use crate::oauth::{Flavor, Pkce, RefreshTokens, Refusal, bearer, check_token};
use crate::{Fault, Grant, PostedMedia, Simulator};
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use domain::Platform;
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
/// Publish inits a token may make per minute.
const INITS_PER_MINUTE: usize = 6;
/// Posts a creator may make through the API per day before TikTok calls it spam.
const DEFAULT_DAILY_CAP: usize = 15;
const MB: u64 = 1024 * 1024;

pub fn router(sim: Simulator) -> Router {
    Router::new()
        .route(
            "/v2/auth/authorize/",
            get(auth::authorize_page).post(auth::decide),
        )
        .route("/api/v2/oauth/token/", post(auth::token))
        .route("/api/v2/oauth/revoke/", post(auth::revoke))
        .route("/api/v2/user/info/", get(auth::user_info))
        .route("/api/v2/video/query/", post(metrics::video_query))
        .route(
            "/api/v2/post/publish/creator_info/query/",
            post(publishing::creator_info),
        )
        .route(
            "/api/v2/post/publish/video/init/",
            post(publishing::video_init),
        )
        .route(
            "/api/v2/post/publish/content/init/",
            post(publishing::content_init),
        )
        .route(
            "/api/v2/post/publish/status/fetch/",
            post(publishing::status_fetch),
        )
        // Chunks run up to 128 MB, well past axum's default body limit.
        .route(
            "/upload/{publish_id}",
            put(publishing::upload).layer(DefaultBodyLimit::max(130 * MB as usize)),
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

/// 429 with TikTok's rate-limit headers, for publish inits (6 a minute per token).
fn rate_limited(wait: Duration) -> Response {
    rate_limited_to(wait, "6")
}

/// 429 with TikTok's rate-limit headers: `limit` calls a minute, none left, and when the window
/// starts again (Unix seconds).
fn rate_limited_to(wait: Duration, limit: &'static str) -> Response {
    let reset = chrono::Utc::now().timestamp() + i64::try_from(wait.as_secs()).unwrap_or(60);
    let mut res = api_error(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limit_exceeded",
        "API rate limit was exceeded. Please try again later.",
    );
    let headers = res.headers_mut();
    headers.insert("x-ratelimit-limit", header::HeaderValue::from_static(limit));
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

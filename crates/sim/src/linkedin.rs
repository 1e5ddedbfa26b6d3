//! LinkedIn member posting, under `/linkedin`: OAuth on the `www.linkedin.com` host
//! (`/linkedin/oauth/v2/…`), and the API host `api.linkedin.com` as `/linkedin/api`: OpenID
//! userinfo, the versioned `/rest` API (images, videos in parts, posts, a member's post
//! analytics), and the upload URLs it hands out (`/linkedin/upload/…`).
//!
//! LinkedIn does not rotate refresh tokens: refreshing gives a new access token and the same
//! refresh token, whose year runs from the first grant.
//!
//! A web app's code flow has no PKCE (LinkedIn offers it to native apps only). With `openid`,
//! the code exchange also answers an ID token (a JWT: issuer `https://www.linkedin.com/oauth`,
//! audience the client id, the member as `sub`) carrying the `nonce` the authorisation was
//! sent with. Its signature is a stand-in: the simulator publishes no keys.
//!
//! This file holds the routes, the records LinkedIn keeps and the answers and checks every call
//! shares; OAuth and userinfo are in `linkedin/auth.rs`, images and videos in
//! `linkedin/media.rs`, posts (made, and found by author) and comments in `linkedin/posts.rs`, post analytics in
//! `linkedin/metrics.rs`, an organisation's comments in `linkedin/comments.rs`.

mod auth;
mod comments;
mod media;
mod metrics;
mod posts;

use crate::oauth::{Flavor, Pkce, RefreshTokens, bearer};
use crate::{AccessToken, Fault, Grant, Op, Simulator};
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use domain::Platform;
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

pub use comments::organization_of;

/// How LinkedIn runs OAuth 2.0.
pub(crate) const FLAVOR: Flavor = Flavor {
    platform: Platform::LinkedIn,
    name: "LinkedIn",
    client_param: "client_id",
    scopes: &[
        "openid",
        "profile",
        "email",
        "w_member_social",
        "r_member_social",
        "w_organization_social",
        "r_organization_social",
        "rw_organization_admin",
        "r_member_postAnalytics",
        "r_organization_social_feed",
        "w_organization_social_feed",
    ],
    scope_separator: ' ',
    // PKCE is for native apps with a loopback redirect only.
    pkce: Pkce::Unsupported,
    refresh_tokens: RefreshTokens::Always,
    token_prefix: "AQ",
    default_user: "sandbox_linkedin",
};

/// Access tokens live 60 days; refresh tokens a year from the first grant.
const ACCESS_TTL: Duration = Duration::from_secs(5_184_000);
/// ID tokens live an hour.
const ID_TOKEN_TTL: i64 = 3600;
/// The `iss` of LinkedIn's ID tokens.
const ISSUER: &str = "https://www.linkedin.com/oauth";
const REFRESH_TTL: chrono::Duration = chrono::Duration::days(365);
/// The oldest `LinkedIn-Version` still served.
const OLDEST_VERSION: u32 = 202_411;
/// Video parts are 4 MB.
const PART: u64 = 4 * 1024 * 1024;

pub fn router(sim: Simulator) -> Router {
    Router::new()
        .route(
            "/oauth/v2/authorization",
            get(auth::authorize_page).post(auth::decide),
        )
        .route("/oauth/v2/accessToken", post(auth::token))
        .route("/oauth/v2/revoke", post(auth::revoke))
        .route("/api/v2/userinfo", get(auth::userinfo))
        .route("/api/rest/images", post(media::images_action))
        .route("/api/rest/images/{urn}", get(media::image_status))
        .route("/api/rest/videos", post(media::videos_action))
        .route("/api/rest/videos/{urn}", get(media::video_status))
        .route(
            "/api/rest/posts",
            get(posts::by_author).post(posts::create_post),
        )
        .route(
            "/api/rest/memberCreatorPostAnalytics",
            get(metrics::post_analytics),
        )
        .route(
            "/api/rest/socialActions/{urn}/comments",
            get(comments::list).post(comments::create),
        )
        .route(
            "/api/rest/socialActions/{urn}/comments/{id}",
            axum::routing::delete(comments::delete),
        )
        // Uploads are larger than axum's default body limit.
        .route(
            "/upload/image/{id}",
            put(media::upload_image).layer(DefaultBodyLimit::max(64 * 1024 * 1024)),
        )
        .route(
            "/upload/video/{id}/{part}",
            put(media::upload_part).layer(DefaultBodyLimit::max(2 * PART as usize)),
        )
        .with_state(sim)
}

/// Moves the start of every refresh token's year back by `by` (to see the fixed expiry).
pub fn age_refresh_tokens(sim: &Simulator, by: Duration) {
    let by = chrono::Duration::from_std(by).unwrap_or_default();
    for granted in lock(&store(sim)).refresh_granted.values_mut() {
        *granted -= by;
    }
}

// ---------------------------------------------------------------------------------------------
// LinkedIn's own records, beside the shared state (one store per simulator).

#[derive(Default)]
struct Store {
    /// When each refresh token was first granted.
    refresh_granted: HashMap<String, chrono::DateTime<chrono::Utc>>,
    /// The nonce each pending code's authorisation was sent with.
    nonces: HashMap<String, String>,
    images: HashMap<String, Asset>,
    videos: HashMap<String, Asset>,
}

/// An uploaded image or video.
struct Asset {
    owner: String,
    /// The video's size as announced; images: 0 until uploaded.
    size: u64,
    /// Etag of each part, once uploaded (images have one part).
    parts: Vec<Option<String>>,
    upload_token: String,
    /// Uploaded (images) or finalized (videos).
    complete: bool,
    /// Polls answering PROCESSING before AVAILABLE.
    polls_left: u32,
    failed: bool,
}

impl Asset {
    fn status(&self) -> &'static str {
        if self.failed {
            "PROCESSING_FAILED"
        } else if !self.complete {
            "WAITING_UPLOAD"
        } else if self.polls_left > 0 {
            "PROCESSING"
        } else {
            "AVAILABLE"
        }
    }
}

/// This simulator's store of this platform (made on first use; dropped with the simulator).
fn store(sim: &Simulator) -> Arc<Mutex<Store>> {
    sim.extension::<Store>()
}

fn lock(store: &Arc<Mutex<Store>>) -> MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(|p| p.into_inner())
}

// ---------------------------------------------------------------------------------------------
// Answers in LinkedIn's shapes.

fn api_error(status: StatusCode, service_code: u32, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({
            "status": status.as_u16(),
            "serviceErrorCode": service_code,
            "code": code,
            "message": message,
        })),
    )
        .into_response()
}

fn bad_request(message: &str) -> Response {
    api_error(StatusCode::BAD_REQUEST, 100, "INVALID_REQUEST", message)
}

fn unprocessable(message: &str) -> Response {
    api_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        100,
        "UNPROCESSABLE_ENTITY",
        message,
    )
}

fn access_denied(message: &str) -> Response {
    api_error(StatusCode::FORBIDDEN, 100, "ACCESS_DENIED", message)
}

fn not_found(message: &str) -> Response {
    api_error(StatusCode::NOT_FOUND, 0, "NOT_FOUND", message)
}

fn revoked_token() -> Response {
    api_error(
        StatusCode::UNAUTHORIZED,
        65601,
        "REVOKED_ACCESS_TOKEN",
        "The token used in the request has been revoked by the user",
    )
}

fn expired_token() -> Response {
    api_error(
        StatusCode::UNAUTHORIZED,
        65602,
        "EXPIRED_ACCESS_TOKEN",
        "The token used in the request has expired",
    )
}

async fn fault_response(fault: Fault) -> Response {
    match fault {
        Fault::ExpiredToken => expired_token(),
        Fault::RevokedToken => revoked_token(),
        Fault::RateLimited { .. } => api_error(
            StatusCode::TOO_MANY_REQUESTS,
            101,
            "TOO_MANY_REQUESTS",
            "Resource level throttle APPLICATION DAY limit for calls to this resource is reached.",
        ),
        Fault::ServerError | Fault::ProcessingFailed | Fault::SlowProcessing(_) => api_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            0,
            "INTERNAL_SERVER_ERROR",
            "Internal Server Error",
        ),
        Fault::Slow(wait) => {
            tokio::time::sleep(wait).await;
            (StatusCode::SERVICE_UNAVAILABLE, "slow").into_response()
        }
    }
}

/// The grant behind the bearer token, if valid and carrying every scope in `scopes`; otherwise
/// LinkedIn's 401 (naming revoked or expired tokens) or 403.
fn authorised(sim: &Simulator, headers: &HeaderMap, scopes: &[&str]) -> Result<Grant, Response> {
    let invalid = || {
        api_error(
            StatusCode::UNAUTHORIZED,
            65600,
            "INVALID_ACCESS_TOKEN",
            "Invalid access token",
        )
    };
    let token = bearer(headers).ok_or_else(invalid)?;
    let state = sim.state();
    let found: &AccessToken = state.access.get(token).ok_or_else(invalid)?;
    if found.grant.platform != Platform::LinkedIn {
        return Err(invalid());
    }
    if found.revoked {
        return Err(revoked_token());
    }
    if found.expires_at <= chrono::Utc::now() {
        return Err(expired_token());
    }
    if let Some(missing) = scopes
        .iter()
        .find(|s| !found.grant.scopes.iter().any(|g| g == *s))
    {
        return Err(access_denied(&format!(
            "Not enough permissions to access this resource (needs {missing})"
        )));
    }
    Ok(found.grant.clone())
}

/// `/rest` wants a live `LinkedIn-Version` and the Rest.li 2.0 protocol header.
fn check_rest_headers(headers: &HeaderMap) -> Result<(), Response> {
    let version = headers
        .get("linkedin-version")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if version.is_empty() {
        return Err(api_error(
            StatusCode::BAD_REQUEST,
            100,
            "VERSION_MISSING",
            "A version must be present. Please specify a version by adding the LinkedIn-Version header.",
        ));
    }
    let month = version.split('.').next().unwrap_or_default();
    let parsed: Option<u32> = (month.len() == 6)
        .then(|| month.parse().ok())
        .flatten()
        .filter(|m| (1..=12).contains(&(m % 100)));
    let Some(parsed) = parsed else {
        return Err(api_error(
            StatusCode::BAD_REQUEST,
            100,
            "INVALID_VERSION",
            &format!("Version {version} is not in the format YYYYMM"),
        ));
    };
    if parsed < OLDEST_VERSION {
        return Err(api_error(
            StatusCode::UPGRADE_REQUIRED,
            100,
            "NONEXISTENT_VERSION",
            &format!("Requested version {version} is sunset; use {OLDEST_VERSION} or newer"),
        ));
    }
    if headers
        .get("x-restli-protocol-version")
        .and_then(|v| v.to_str().ok())
        != Some("2.0.0")
    {
        return Err(bad_request(
            "The X-Restli-Protocol-Version header must be 2.0.0",
        ));
    }
    Ok(())
}

fn person(grant: &Grant) -> String {
    format!("urn:li:person:{}", grant.user_id)
}

/// The member behind a `/rest` call: its headers checked, then any fault injected for `op`,
/// then a token with `w_member_social`.
async fn member(sim: &Simulator, headers: &HeaderMap, op: Option<Op>) -> Result<Grant, Response> {
    check_rest_headers(headers)?;
    if let Some(op) = op
        && let Some(fault) = sim.take_fault(Platform::LinkedIn, op)
    {
        return Err(fault_response(fault).await);
    }
    authorised(sim, headers, &["w_member_social"])
}

/// Refuses a member who acts (`verb`: posts, comments) as someone else (`who`).
fn acting_as(grant: &Grant, who: &str, verb: &str) -> Result<(), Response> {
    if who == person(grant) {
        Ok(())
    } else {
        Err(access_denied(&format!(
            "Member is not allowed to {verb} as {who}"
        )))
    }
}

//! LinkedIn member posting, under `/linkedin`: OAuth on the `www.linkedin.com` host
//! (`/linkedin/oauth/v2/…`), and the API host `api.linkedin.com` as `/linkedin/api`: OpenID
//! userinfo, the versioned `/rest` API (images, videos in parts, posts), and the upload URLs it
//! hands out (`/linkedin/upload/…`).
//!
//! LinkedIn does not rotate refresh tokens: refreshing gives a new access token and the same
//! refresh token, whose year runs from the first grant.
//!
//! A web app's code flow has no PKCE (LinkedIn offers it to native apps only). With `openid`,
//! the code exchange also answers an ID token (a JWT: issuer `https://www.linkedin.com/oauth`,
//! audience the client id, the member as `sub`) carrying the `nonce` the authorisation was
//! sent with. Its signature is a stand-in: the simulator publishes no keys.

use crate::oauth::{Flavor, Params, Pkce, RefreshTokens, bearer, oauth_error};
use crate::{AccessToken, Fault, Grant, Op, Post, PostedMedia, Simulator};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State as Shared};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Form, Json, Router};
use domain::Platform;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

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
        "w_organization_social",
        "r_organization_social",
        "rw_organization_admin",
        "r_member_postAnalytics",
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
const CLIENT_SECRET: &str = "sandbox-secret";
/// The oldest `LinkedIn-Version` still served.
const OLDEST_VERSION: u32 = 202_411;
/// Video parts are 4 MB.
const PART: u64 = 4 * 1024 * 1024;

pub fn router(sim: Simulator) -> Router {
    Router::new()
        .route("/oauth/v2/authorization", get(authorize_page).post(decide))
        .route("/oauth/v2/accessToken", post(token))
        .route("/oauth/v2/revoke", post(revoke))
        .route("/api/v2/userinfo", get(userinfo))
        .route("/api/rest/images", post(images_action))
        .route("/api/rest/images/{urn}", get(image_status))
        .route("/api/rest/videos", post(videos_action))
        .route("/api/rest/videos/{urn}", get(video_status))
        .route("/api/rest/posts", post(create_post))
        .route(
            "/api/rest/socialActions/{urn}/comments",
            post(create_comment),
        )
        // Uploads are larger than axum's default body limit.
        .route(
            "/upload/image/{id}",
            put(upload_image).layer(DefaultBodyLimit::max(64 * 1024 * 1024)),
        )
        .route(
            "/upload/video/{id}/{part}",
            put(upload_part).layer(DefaultBodyLimit::max(2 * PART as usize)),
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
        return Err(api_error(
            StatusCode::FORBIDDEN,
            100,
            "ACCESS_DENIED",
            &format!("Not enough permissions to access this resource (needs {missing})"),
        ));
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

fn host(headers: &HeaderMap) -> String {
    headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_owned()
}

fn person(grant: &Grant) -> String {
    format!("urn:li:person:{}", grant.user_id)
}

// ---------------------------------------------------------------------------------------------
// OAuth.

async fn authorize_page(Query(p): Query<Params>) -> Response {
    FLAVOR.authorize_page(&p)
}

async fn decide(Shared(sim): Shared<Simulator>, Form(p): Form<Params>) -> Response {
    let (answer, code) = FLAVOR.decide_with_code(&sim, &p);
    if let (Some(code), Some(nonce)) = (code, p.get("nonce").filter(|n| !n.is_empty())) {
        lock(&store(&sim)).nonces.insert(code, nonce.clone());
    }
    answer
}

/// An ID token for `grant`, as LinkedIn's OpenID Connect answers it.
fn id_token(grant: &Grant, nonce: Option<&str>) -> String {
    use base64::Engine;
    use sha2::Digest;
    let encode = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let now = chrono::Utc::now().timestamp();
    let mut claims = json!({
        "iss": ISSUER,
        "aud": grant.client_id,
        "sub": grant.user_id,
        "iat": now,
        "exp": now + ID_TOKEN_TTL,
        "name": format!("{} Simulated", grant.username),
        "given_name": grant.username,
        "family_name": "Simulated",
        "picture": format!("https://media.licdn.com/sim/{}.jpg", grant.user_id),
    });
    if let Some(nonce) = nonce {
        claims["nonce"] = json!(nonce);
    }
    if grant.scopes.iter().any(|s| s == "email") {
        claims["email"] = json!(format!("{}@example.com", grant.username));
        claims["email_verified"] = json!(true);
    }
    let signed = format!(
        "{}.{}",
        encode(
            json!({"alg": "RS256", "typ": "JWT", "kid": "sim"})
                .to_string()
                .as_bytes()
        ),
        encode(claims.to_string().as_bytes())
    );
    // Not a real signature: a digest, so the token has LinkedIn's three parts.
    let signature = encode(&sha2::Sha256::digest(signed.as_bytes()));
    format!("{signed}.{signature}")
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TokenForm {
    grant_type: String,
    code: String,
    redirect_uri: String,
    client_id: String,
    client_secret: String,
    refresh_token: String,
}

fn token_answer(
    access: &str,
    refresh: &str,
    refresh_left: i64,
    scope: &[String],
    id_token: Option<String>,
) -> Response {
    let mut body = json!({
        "access_token": access,
        "expires_in": ACCESS_TTL.as_secs(),
        "refresh_token": refresh,
        "refresh_token_expires_in": refresh_left.max(0),
        "scope": scope.join(","),
        "token_type": "Bearer",
    });
    if let Some(id_token) = id_token {
        body["id_token"] = json!(id_token);
    }
    Json(body).into_response()
}

async fn token(Shared(sim): Shared<Simulator>, Form(f): Form<TokenForm>) -> Response {
    if let Some(fault) = sim.take_fault(Platform::LinkedIn, Op::Token) {
        return fault_response(fault).await;
    }
    if f.client_id.is_empty() || f.client_secret != CLIENT_SECRET {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed",
        );
    }
    match f.grant_type.as_str() {
        "authorization_code" => {
            let nonce = lock(&store(&sim)).nonces.remove(&f.code);
            let grant = match FLAVOR.redeem(&sim, &f.code, &f.client_id, &f.redirect_uri, "") {
                Ok(grant) => grant,
                Err(_) => {
                    return oauth_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_request",
                        "Unable to retrieve access token: appid/redirect uri/code verifier does not match authorization code. Or authorization code expired.",
                    );
                }
            };
            let scopes = grant.scopes.clone();
            let id_token = scopes
                .iter()
                .any(|s| s == "openid")
                .then(|| id_token(&grant, nonce.as_deref()));
            let issued = FLAVOR.issue(&sim, grant, ACCESS_TTL);
            let refresh = issued.refresh.unwrap_or_default();
            lock(&store(&sim))
                .refresh_granted
                .insert(refresh.clone(), chrono::Utc::now());
            token_answer(
                &issued.access,
                &refresh,
                REFRESH_TTL.num_seconds(),
                &scopes,
                id_token,
            )
        }
        // The same refresh token keeps working until its year is up.
        "refresh_token" => {
            let granted = lock(&store(&sim))
                .refresh_granted
                .get(&f.refresh_token)
                .copied();
            let grant = sim
                .state()
                .refresh
                .get(&f.refresh_token)
                .filter(|g| g.platform == Platform::LinkedIn && g.client_id == f.client_id)
                .cloned();
            let left = granted.map(|g| (g + REFRESH_TTL - chrono::Utc::now()).num_seconds());
            match (grant, left) {
                (Some(grant), Some(left)) if left > 0 => {
                    let access = crate::random_token("AQat_");
                    let scopes = grant.scopes.clone();
                    sim.state().access.insert(
                        access.clone(),
                        AccessToken {
                            grant,
                            issued_at: chrono::Utc::now(),
                            expires_at: chrono::Utc::now()
                                + chrono::Duration::from_std(ACCESS_TTL).unwrap_or_default(),
                            revoked: false,
                        },
                    );
                    token_answer(&access, &f.refresh_token, left, &scopes, None)
                }
                _ => oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "The provided refresh token is invalid or has expired.",
                ),
            }
        }
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
    client_id: String,
    client_secret: String,
    token: String,
}

async fn revoke(Shared(sim): Shared<Simulator>, Form(f): Form<RevokeForm>) -> Response {
    if let Some(fault) = sim.take_fault(Platform::LinkedIn, Op::Revoke) {
        return fault_response(fault).await;
    }
    if f.client_id.is_empty() || f.client_secret != CLIENT_SECRET {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed",
        );
    }
    if FLAVOR.revoke(&sim, &f.token, &f.client_id) {
        StatusCode::OK.into_response()
    } else {
        oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The token is invalid or was already revoked.",
        )
    }
}

async fn userinfo(Shared(sim): Shared<Simulator>, headers: HeaderMap) -> Response {
    if let Some(fault) = sim.take_fault(Platform::LinkedIn, Op::Identity) {
        return fault_response(fault).await;
    }
    let grant = match authorised(&sim, &headers, &["openid", "profile"]) {
        Ok(grant) => grant,
        Err(refused) => return refused,
    };
    let given = grant.username.clone();
    let mut body = json!({
        "sub": grant.user_id,
        "name": format!("{given} Simulated"),
        "given_name": given,
        "family_name": "Simulated",
        "picture": format!("https://media.licdn.com/sim/{}.jpg", grant.user_id),
        "locale": {"country": "US", "language": "en"},
    });
    if grant.scopes.iter().any(|s| s == "email") {
        body["email"] = json!(format!("{}@example.com", grant.username));
        body["email_verified"] = json!(true);
    }
    Json(body).into_response()
}

// ---------------------------------------------------------------------------------------------
// Images and videos.

/// The owner an upload is for, which must be the token's member.
fn owner_of(grant: &Grant, request: &Value) -> Result<String, Response> {
    let owner = request["owner"].as_str().unwrap_or_default();
    if owner.is_empty() {
        return Err(unprocessable("initializeUploadRequest.owner is required"));
    }
    if owner != person(grant) {
        return Err(api_error(
            StatusCode::FORBIDDEN,
            100,
            "ACCESS_DENIED",
            "The token's member may not upload for this owner",
        ));
    }
    Ok(owner.to_owned())
}

async fn images_action(
    Shared(sim): Shared<Simulator>,
    headers: HeaderMap,
    Query(q): Query<Params>,
    Json(body): Json<Value>,
) -> Response {
    if let Err(refused) = check_rest_headers(&headers) {
        return refused;
    }
    let grant = match authorised(&sim, &headers, &["w_member_social"]) {
        Ok(grant) => grant,
        Err(refused) => return refused,
    };
    if q.get("action").map(String::as_str) != Some("initializeUpload") {
        return bad_request("unsupported action");
    }
    let owner = match owner_of(&grant, &body["initializeUploadRequest"]) {
        Ok(owner) => owner,
        Err(refused) => return refused,
    };
    let id = format!("D4E10AQ{}", sim.next_id());
    let urn = format!("urn:li:image:{id}");
    lock(&store(&sim)).images.insert(
        urn.clone(),
        Asset {
            owner,
            size: 0,
            parts: vec![None],
            upload_token: String::new(),
            complete: false,
            polls_left: 1,
            failed: false,
        },
    );
    Json(json!({"value": {
        "uploadUrlExpiresAt": (chrono::Utc::now() + chrono::Duration::hours(1)).timestamp_millis(),
        "uploadUrl": format!("http://{}/linkedin/upload/image/{id}", host(&headers)),
        "image": urn,
    }}))
    .into_response()
}

async fn upload_image(
    Shared(sim): Shared<Simulator>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(fault) = sim.take_fault(Platform::LinkedIn, Op::Upload) {
        return fault_response(fault).await;
    }
    // Image upload URLs take the member's token too.
    let grant = match authorised(&sim, &headers, &["w_member_social"]) {
        Ok(grant) => grant,
        Err(refused) => return refused,
    };
    if body.is_empty() {
        return bad_request("the upload is empty");
    }
    let store = store(&sim);
    let mut store = lock(&store);
    let Some(image) = store.images.get_mut(&format!("urn:li:image:{id}")) else {
        return api_error(StatusCode::NOT_FOUND, 0, "NOT_FOUND", "unknown upload");
    };
    if image.owner != person(&grant) {
        return api_error(
            StatusCode::FORBIDDEN,
            100,
            "ACCESS_DENIED",
            "not your upload",
        );
    }
    image.size = body.len() as u64;
    image.parts = vec![Some(String::new())];
    image.complete = true;
    StatusCode::CREATED.into_response()
}

/// A status poll of an image or video: PROCESSING once, then AVAILABLE, unless a fault says
/// otherwise.
async fn asset_status(sim: &Simulator, headers: &HeaderMap, urn: &str, video: bool) -> Response {
    if let Err(refused) = check_rest_headers(headers) {
        return refused;
    }
    let fault = match sim.take_fault(Platform::LinkedIn, Op::Status) {
        Some(fault @ (Fault::ProcessingFailed | Fault::SlowProcessing(_))) => Some(fault),
        Some(other) => return fault_response(other).await,
        None => None,
    };
    let grant = match authorised(sim, headers, &["w_member_social"]) {
        Ok(grant) => grant,
        Err(refused) => return refused,
    };
    let store = store(sim);
    let mut store = lock(&store);
    let assets = if video {
        &mut store.videos
    } else {
        &mut store.images
    };
    let Some(asset) = assets.get_mut(urn).filter(|a| a.owner == person(&grant)) else {
        return api_error(StatusCode::NOT_FOUND, 0, "NOT_FOUND", "Not Found");
    };
    match fault {
        Some(Fault::ProcessingFailed) => asset.failed = true,
        Some(Fault::SlowProcessing(n)) => asset.polls_left += n,
        _ => {}
    }
    let status = asset.status();
    if status == "PROCESSING" {
        asset.polls_left -= 1;
    }
    let mut body = json!({"owner": asset.owner, "id": urn, "status": status});
    if video {
        body["fileSizeBytes"] = json!(asset.size);
        body["uploadStatus"] = json!(status);
    }
    Json(body).into_response()
}

async fn image_status(
    Shared(sim): Shared<Simulator>,
    Path(urn): Path<String>,
    headers: HeaderMap,
) -> Response {
    asset_status(&sim, &headers, &urn, false).await
}

async fn video_status(
    Shared(sim): Shared<Simulator>,
    Path(urn): Path<String>,
    headers: HeaderMap,
) -> Response {
    asset_status(&sim, &headers, &urn, true).await
}

async fn videos_action(
    Shared(sim): Shared<Simulator>,
    headers: HeaderMap,
    Query(q): Query<Params>,
    Json(body): Json<Value>,
) -> Response {
    if let Err(refused) = check_rest_headers(&headers) {
        return refused;
    }
    let grant = match authorised(&sim, &headers, &["w_member_social"]) {
        Ok(grant) => grant,
        Err(refused) => return refused,
    };
    match q.get("action").map(String::as_str) {
        Some("initializeUpload") => initialize_video(&sim, &headers, &grant, &body),
        Some("finalizeUpload") => finalize_video(&sim, &grant, &body["finalizeUploadRequest"]),
        _ => bad_request("unsupported action"),
    }
}

fn initialize_video(sim: &Simulator, headers: &HeaderMap, grant: &Grant, body: &Value) -> Response {
    let request = &body["initializeUploadRequest"];
    let owner = match owner_of(grant, request) {
        Ok(owner) => owner,
        Err(refused) => return refused,
    };
    let size = request["fileSizeBytes"].as_u64().unwrap_or_default();
    // Member videos run from 75 KB to 500 MB; the simulator takes anything non-empty.
    if size == 0 || size > 500 * 1024 * 1024 {
        return unprocessable("fileSizeBytes must be between 1 byte and 500 MB");
    }
    let id = format!("D5F10AQ{}", sim.next_id());
    let urn = format!("urn:li:video:{id}");
    let parts = size.div_ceil(PART);
    let host = host(headers);
    let instructions: Vec<Value> = (0..parts)
        .map(|i| {
            json!({
                "uploadUrl": format!("http://{host}/linkedin/upload/video/{id}/{i}"),
                "firstByte": i * PART,
                "lastByte": ((i + 1) * PART).min(size) - 1,
            })
        })
        .collect();
    let upload_token = crate::random_token("");
    lock(&store(sim)).videos.insert(
        urn.clone(),
        Asset {
            owner,
            size,
            parts: vec![None; usize::try_from(parts).unwrap_or_default()],
            upload_token: upload_token.clone(),
            complete: false,
            polls_left: 1,
            failed: false,
        },
    );
    Json(json!({"value": {
        "uploadUrlsExpireAt": (chrono::Utc::now() + chrono::Duration::hours(1)).timestamp_millis(),
        "video": urn,
        "uploadInstructions": instructions,
        "uploadToken": upload_token,
    }}))
    .into_response()
}

async fn upload_part(
    Shared(sim): Shared<Simulator>,
    Path((id, part)): Path<(String, usize)>,
    body: Bytes,
) -> Response {
    if let Some(fault) = sim.take_fault(Platform::LinkedIn, Op::Upload) {
        return fault_response(fault).await;
    }
    let store = store(&sim);
    let mut store = lock(&store);
    let Some(video) = store.videos.get_mut(&format!("urn:li:video:{id}")) else {
        return api_error(StatusCode::NOT_FOUND, 0, "NOT_FOUND", "unknown upload");
    };
    if part >= video.parts.len() || video.complete {
        return bad_request("no such part to upload");
    }
    let first = part as u64 * PART;
    let expected = (first + PART).min(video.size) - first;
    if body.len() as u64 != expected {
        return bad_request(&format!(
            "part {part} must be {expected} bytes (firstByte to lastByte), got {}",
            body.len()
        ));
    }
    let etag = format!("/ambry-video/signedId/{}", crate::random_token(""));
    video.parts[part] = Some(etag.clone());
    let mut res = StatusCode::OK.into_response();
    if let Ok(value) = HeaderValue::from_str(&etag) {
        res.headers_mut().insert(header::ETAG, value);
    }
    res
}

fn finalize_video(sim: &Simulator, grant: &Grant, request: &Value) -> Response {
    let urn = request["video"].as_str().unwrap_or_default();
    let store = store(sim);
    let mut store = lock(&store);
    let Some(video) = store
        .videos
        .get_mut(urn)
        .filter(|v| v.owner == person(grant))
    else {
        return api_error(StatusCode::NOT_FOUND, 0, "NOT_FOUND", "unknown video");
    };
    if request["uploadToken"].as_str().unwrap_or_default() != video.upload_token {
        return bad_request("uploadToken does not match the upload");
    }
    let sent: Vec<&str> = request["uploadedPartIds"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let uploaded: Option<Vec<&str>> = video.parts.iter().map(|p| p.as_deref()).collect();
    match uploaded {
        None => bad_request("not every part was uploaded"),
        Some(uploaded) if uploaded != sent => {
            bad_request("uploadedPartIds do not match the uploaded parts' etags, in order")
        }
        Some(_) => {
            video.complete = true;
            StatusCode::OK.into_response()
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Posts.

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

/// `POST /rest/socialActions/{urn}/comments {actor, object, message:{text}}`: a comment by
/// the member under their own post, with `w_member_social` (its consent covers comments). Answers 201 with the
/// comment, its id also in `x-restli-id`.
async fn create_comment(
    Shared(sim): Shared<Simulator>,
    Path(urn): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Err(refused) = check_rest_headers(&headers) {
        return refused;
    }
    if let Some(fault) = sim.take_fault(Platform::LinkedIn, Op::Comment) {
        return fault_response(fault).await;
    }
    let grant = match authorised(&sim, &headers, &["w_member_social"]) {
        Ok(grant) => grant,
        Err(refused) => return refused,
    };
    let actor = body["actor"].as_str().unwrap_or_default();
    if actor != person(&grant) {
        return api_error(
            StatusCode::FORBIDDEN,
            100,
            "ACCESS_DENIED",
            &format!("Member is not allowed to comment as {actor}"),
        );
    }
    if body["object"].as_str() != Some(urn.as_str()) {
        return unprocessable("object must be the post the comment is under");
    }
    let text = body["message"]["text"].as_str().unwrap_or_default();
    if text.trim().is_empty() || text.chars().count() > 1250 {
        return unprocessable("message.text must be between 1 and 1250 characters");
    }
    match sim.add_comment(Platform::LinkedIn, &grant.user_id, &urn, text) {
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

async fn create_post(
    Shared(sim): Shared<Simulator>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Err(refused) = check_rest_headers(&headers) {
        return refused;
    }
    if let Some(fault) = sim.take_fault(Platform::LinkedIn, Op::Publish) {
        return fault_response(fault).await;
    }
    let grant = match authorised(&sim, &headers, &["w_member_social"]) {
        Ok(grant) => grant,
        Err(refused) => return refused,
    };
    let author = body["author"].as_str().unwrap_or_default();
    if author != person(&grant) {
        return api_error(
            StatusCode::FORBIDDEN,
            100,
            "ACCESS_DENIED",
            &format!("Member is not allowed to post as {author}"),
        );
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
                return api_error(
                    StatusCode::FORBIDDEN,
                    100,
                    "ACCESS_DENIED",
                    &format!("{id} belongs to another owner"),
                );
            }
            if asset.status() != "AVAILABLE" {
                return unprocessable(&format!("{id} is not AVAILABLE ({})", asset.status()));
            }
            media.push(PostedMedia {
                kind: kind.into(),
                bytes: asset.size,
            });
        }
    }
    let urn = format!("urn:li:share:{}", sim.next_id());
    sim.state().posts.push(Post {
        platform: Platform::LinkedIn,
        user_id: grant.user_id,
        id: urn.clone(),
        text,
        media,
    });
    let mut res = StatusCode::CREATED.into_response();
    if let Ok(value) = HeaderValue::from_str(&urn) {
        res.headers_mut().insert("x-restli-id", value);
    }
    res
}

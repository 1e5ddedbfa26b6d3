//! TikTok Content Posting API: OAuth (PKCE, rotating refresh tokens), user info, and direct
//! posts of one video (uploaded in chunks) or of photos (pulled by TikTok from their URLs).
//!
//! Every publish asks for the creator's options first: TikTok refuses a privacy level the
//! creator cannot use, and an unaudited app may only post privately.

use super::oauth::{TokenEndpoint, unconfirmed_revocation};
use super::{
    AccountRef, ConnectError, Connector, Download, Identity, Polling, PublishError, PublishRequest,
    Published, Publisher, Revoked, TokenGrant, retry_after_header, send_failed, unavailable,
    without_url,
};
use async_trait::async_trait;
use domain::Platform;
use domain::media::MediaKind;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::time::Duration;

const MB: u64 = 1024 * 1024;

/// Where TikTok is and who we are to it.
#[derive(Debug, Clone)]
pub struct TikTokConfig {
    /// `https://open.tiktokapis.com` (or the simulator's `/tiktok/api`).
    pub api_base: String,
    /// `https://www.tiktok.com/v2/auth/authorize/`.
    pub authorize_url: String,
    /// Links to posts: `https://www.tiktok.com`.
    pub web_base: String,
    pub client_key: String,
    pub client_secret: SecretString,
    /// How long to wait for TikTok to finish a post.
    pub polling: Polling,
    /// Bytes per upload chunk for videos of 5 MB and more (TikTok takes 5 to 64 MB).
    pub chunk_size: u64,
    /// Whether TikTok has audited the app: until it has, its posts may only be private
    /// (`SELF_ONLY`), whatever the creator's own options say.
    pub audited: bool,
}

impl TikTokConfig {
    /// TikTok itself.
    pub fn production(client_key: String, client_secret: SecretString) -> Self {
        Self {
            api_base: "https://open.tiktokapis.com".into(),
            authorize_url: "https://www.tiktok.com/v2/auth/authorize/".into(),
            web_base: "https://www.tiktok.com".into(),
            client_key,
            client_secret,
            polling: Polling::default(),
            chunk_size: 10 * MB,
            audited: false,
        }
    }

    /// The simulator at `base` (`http://127.0.0.1:7070`).
    pub fn simulated(base: &str) -> Self {
        Self {
            api_base: format!("{base}/tiktok/api"),
            authorize_url: format!("{base}/tiktok/v2/auth/authorize/"),
            web_base: format!("{base}/tiktok/web"),
            client_key: "socializioz-sandbox".into(),
            client_secret: SecretString::from("sandbox-secret"),
            polling: Polling::default(),
            chunk_size: 10 * MB,
            // The simulated app is audited; a simulated account named `unaudited…` plays one
            // whose posts must stay private.
            audited: true,
        }
    }
}

pub struct TikTok {
    http: reqwest::Client,
    config: TikTokConfig,
}

impl TikTok {
    pub fn new(config: TikTokConfig) -> Self {
        Self::with_http_client(config, super::http_client())
    }

    /// With a client of the caller's (tests use short timeouts).
    pub fn with_http_client(config: TikTokConfig, http: reqwest::Client) -> Self {
        Self { http, config }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.api_base)
    }

    async fn token_call(&self, form: &[(&str, &str)]) -> Result<TokenGrant, ConnectError> {
        let mut fields = vec![
            ("client_key", self.config.client_key.as_str()),
            ("client_secret", self.config.client_secret.expose_secret()),
        ];
        fields.extend_from_slice(form);
        TokenEndpoint {
            platform: "TikTok",
            credentials: Some("client key or secret"),
            errors_in_any_answer: true,
        }
        .grant(self.http.post(self.url("/v2/oauth/token/")).form(&fields))
        .await
    }

    /// One enveloped API call with the bearer token; `data` on success.
    async fn api<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
        token: &SecretString,
    ) -> Result<T, ApiFailure> {
        let res = request
            .bearer_auth(token.expose_secret())
            .send()
            .await
            .map_err(ApiFailure::Send)?;
        let status = res.status();
        let headers = res.headers().clone();
        let body: Envelope = match res.json().await {
            Ok(body) => body,
            Err(e) if status.is_success() => {
                return Err(ApiFailure::Unreadable(without_url(&e)));
            }
            Err(_) => Envelope::default(),
        };
        if status.is_success() && body.error.code == "ok" {
            return serde_json::from_value(body.data)
                .map_err(|e| ApiFailure::Unreadable(e.to_string()));
        }
        Err(ApiFailure::Refused {
            status: status.as_u16(),
            code: body.error.code,
            message: body.error.message,
            headers,
        })
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Envelope {
    data: Value,
    error: EnvelopeError,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct EnvelopeError {
    code: String,
    message: String,
}

/// Why an API call gave no data.
enum ApiFailure {
    Send(reqwest::Error),
    Unreadable(String),
    Refused {
        status: u16,
        code: String,
        message: String,
        headers: reqwest::header::HeaderMap,
    },
}

impl ApiFailure {
    /// The publish error for a failed call; `created` says whether the post may exist by now
    /// (after the upload, a lost answer may hide a post).
    fn into_publish(self, created: bool) -> PublishError {
        match self {
            Self::Send(e) => {
                if created {
                    PublishError::Transient {
                        reason: without_url(&e),
                        maybe_published: true,
                    }
                } else {
                    send_failed(&e)
                }
            }
            Self::Unreadable(why) => PublishError::Transient {
                reason: format!("TikTok's answer could not be read: {why}"),
                maybe_published: created,
            },
            Self::Refused {
                status,
                code,
                message,
                headers,
            } => refused(status, &code, &message, &headers, created),
        }
    }

    fn into_connect(self) -> ConnectError {
        match self {
            Self::Send(e) => unavailable(e),
            Self::Unreadable(why) => ConnectError::Unavailable(why),
            Self::Refused {
                status,
                code,
                message,
                ..
            } => {
                if status == 401 || code == "access_token_invalid" {
                    ConnectError::Refused("TikTok no longer accepts the access token".into())
                } else if status >= 500 || status == 429 {
                    ConnectError::Unavailable(format!("TikTok answered {status} {code}"))
                } else {
                    ConnectError::Refused(format!("TikTok refused: {code} {message}"))
                }
            }
        }
    }
}

/// TikTok's error codes in the four kinds.
fn refused(
    status: u16,
    code: &str,
    message: &str,
    headers: &reqwest::header::HeaderMap,
    created: bool,
) -> PublishError {
    // Once TikTok has the whole video it publishes on its own: a failure after that (a rate
    // limit on status polls, an expired token) leaves the post's fate unknown, and a retry
    // would upload it again.
    if created {
        return PublishError::Transient {
            reason: format!("TikTok answered {status} {code}: {message}"),
            maybe_published: true,
        };
    }
    match code {
        "access_token_invalid" => PublishError::TokenExpired,
        "rate_limit_exceeded" => PublishError::RateLimited {
            retry_after: rate_limit_wait(headers),
        },
        // The creator's daily cap of API posts: wait a day.
        "spam_risk_too_many_posts" | "spam_risk_user_banned_from_posting" => {
            PublishError::RateLimited {
                retry_after: Duration::from_secs(24 * 3600),
            }
        }
        "scope_not_authorized" => PublishError::InvalidContent {
            reason: "TikTok says this account did not allow posting: reconnect it and allow \
                     posting videos"
                .into(),
        },
        "privacy_level_option_mismatch" | "invalid_params" => PublishError::InvalidContent {
            reason: if message.is_empty() {
                code.to_owned()
            } else {
                format!("TikTok refused the post: {message}")
            },
        },
        _ if status == 401 => PublishError::TokenExpired,
        _ if status == 429 => PublishError::RateLimited {
            retry_after: rate_limit_wait(headers),
        },
        _ if status >= 500 => PublishError::Transient {
            reason: format!("TikTok answered {status} {code}"),
            maybe_published: created,
        },
        _ => PublishError::InvalidContent {
            reason: format!("TikTok refused the post ({status} {code}): {message}"),
        },
    }
}

/// `Retry-After`, else `x-ratelimit-reset` (a unix time, or seconds when small), else a minute.
fn rate_limit_wait(headers: &reqwest::header::HeaderMap) -> Duration {
    if let Some(wait) = retry_after_header(headers) {
        return wait;
    }
    let reset = headers
        .get("x-ratelimit-reset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    match reset {
        Some(at) if at > 1_000_000_000 => {
            let wait = at - chrono::Utc::now().timestamp();
            Duration::from_secs(u64::try_from(wait.max(1)).unwrap_or(1))
        }
        Some(secs) => Duration::from_secs(u64::try_from(secs.max(1)).unwrap_or(1)),
        None => Duration::from_secs(60),
    }
}

#[derive(Deserialize)]
struct UserData {
    user: User,
}

#[derive(Deserialize)]
struct User {
    open_id: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    avatar_url: Option<String>,
    follower_count: Option<u64>,
}

#[derive(Deserialize)]
struct CreatorInfo {
    #[serde(default)]
    creator_username: String,
    #[serde(default)]
    privacy_level_options: Vec<String>,
    #[serde(default)]
    comment_disabled: bool,
    #[serde(default)]
    duet_disabled: bool,
    #[serde(default)]
    stitch_disabled: bool,
}

#[derive(Deserialize)]
struct Init {
    publish_id: String,
    upload_url: Option<String>,
}

#[derive(Deserialize)]
struct Status {
    status: String,
    #[serde(default)]
    fail_reason: String,
    #[serde(default)]
    publicaly_available_post_id: Vec<Value>,
}

#[async_trait]
impl Connector for TikTok {
    fn platform(&self) -> Platform {
        Platform::TikTok
    }

    fn publishing_scopes(&self) -> &'static [&'static str] {
        &["user.info.basic", "video.publish"]
    }

    fn uses_pkce(&self) -> bool {
        true
    }

    fn authorize_url(
        &self,
        state: &str,
        pkce_challenge: Option<&str>,
        redirect_uri: &str,
        scopes: &[&str],
    ) -> String {
        let scope = scopes.join(",");
        let mut query = form_urlencoded::Serializer::new(String::new());
        query
            .append_pair("client_key", &self.config.client_key)
            .append_pair("response_type", "code")
            .append_pair("scope", &scope)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("state", state);
        if let Some(challenge) = pkce_challenge {
            query
                .append_pair("code_challenge", challenge)
                .append_pair("code_challenge_method", "S256");
        }
        format!("{}?{}", self.config.authorize_url, query.finish())
    }

    async fn exchange(
        &self,
        code: &str,
        pkce_verifier: Option<&str>,
        redirect_uri: &str,
    ) -> Result<TokenGrant, ConnectError> {
        let mut form = vec![
            ("code", code),
            ("grant_type", "authorization_code"),
            ("redirect_uri", redirect_uri),
        ];
        if let Some(verifier) = pkce_verifier {
            form.push(("code_verifier", verifier));
        }
        self.token_call(&form).await
    }

    async fn identity(&self, access: &SecretString) -> Result<Identity, ConnectError> {
        // `username` is a profile field (user.info.profile, which publishing does not need);
        // the handle comes from the creator info below instead.
        let basic = "open_id,avatar_url,display_name";
        // The follower count needs user.info.stats; without it, the profile alone.
        let with_stats = self
            .api::<UserData>(
                self.http
                    .get(self.url(&format!("/v2/user/info/?fields={basic},follower_count"))),
                access,
            )
            .await;
        let data = match with_stats {
            Ok(data) => data,
            Err(ApiFailure::Refused { code, .. }) if code == "scope_not_authorized" => self
                .api::<UserData>(
                    self.http
                        .get(self.url(&format!("/v2/user/info/?fields={basic}"))),
                    access,
                )
                .await
                .map_err(ApiFailure::into_connect)?,
            Err(other) => return Err(other.into_connect()),
        };
        let user = data.user;
        // The creator's handle, which video.publish may read.
        let handle = self
            .api::<CreatorInfo>(
                self.http
                    .post(self.url("/v2/post/publish/creator_info/query/"))
                    .json(&json!({})),
                access,
            )
            .await
            .map(|c| c.creator_username)
            .unwrap_or_default();
        Ok(Identity {
            username: [handle, user.username]
                .into_iter()
                .find(|h| !h.is_empty())
                .unwrap_or_else(|| user.open_id.clone()),
            display_name: user.display_name,
            avatar_url: user.avatar_url,
            followers: user.follower_count,
            authorized_by: None,
            external_id: user.open_id,
        })
    }

    async fn refresh(
        &self,
        _account: &AccountRef,
        _access: &SecretString,
        refresh: Option<&SecretString>,
    ) -> Result<TokenGrant, ConnectError> {
        let refresh = refresh.ok_or_else(|| {
            ConnectError::Refused("TikTok gave no refresh token for this account".into())
        })?;
        // TikTok rotates refresh tokens: the grant carries the new one, to store.
        self.token_call(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.expose_secret()),
        ])
        .await
    }

    async fn revoke(
        &self,
        access: &SecretString,
        _refresh: Option<&SecretString>,
    ) -> Result<Revoked, ConnectError> {
        // Revoking the access token ends the whole authorisation, refresh token included.
        let res = self
            .http
            .post(self.url("/v2/oauth/revoke/"))
            .form(&[
                ("client_key", self.config.client_key.as_str()),
                ("client_secret", self.config.client_secret.expose_secret()),
                ("token", access.expose_secret()),
            ])
            .send()
            .await
            .map_err(unavailable)?;
        let status = res.status();
        let body: Value = res.json().await.unwrap_or_default();
        let error = body["error"].as_str().unwrap_or_default();
        if status.is_success() && (error.is_empty() || body["error"]["code"] == "ok") {
            Ok(Revoked::Confirmed)
        } else {
            Err(unconfirmed_revocation("TikTok", status))
        }
    }

    /// Revoking would end the authorisation the account still uses; unused tokens expire.
    async fn discard(&self, _access: &SecretString, _refresh: Option<&SecretString>) {}
}

/// What the post carries, as TikTok posts it.
enum Content<'a> {
    Video(&'a super::MediaRef),
    Photos(Vec<&'a super::MediaRef>),
}

fn content(request: &PublishRequest) -> Result<Content<'_>, PublishError> {
    let invalid = |reason: &str| PublishError::InvalidContent {
        reason: reason.into(),
    };
    let videos: Vec<_> = request
        .media
        .iter()
        .filter(|m| m.kind == MediaKind::Video)
        .collect();
    let images: Vec<_> = request
        .media
        .iter()
        .filter(|m| m.kind == MediaKind::Image)
        .collect();
    match (videos.len(), images.len()) {
        (0, 0) => Err(invalid(
            "TikTok posts need a video or photos; text alone cannot be posted",
        )),
        (1, 0) => Ok(Content::Video(videos[0])),
        (0, n) if n <= 35 => {
            if let Some(other) = images
                .iter()
                .find(|m| !matches!(m.mime.as_str(), "image/jpeg" | "image/jpg" | "image/webp"))
            {
                return Err(invalid(&format!(
                    "TikTok takes photos as JPEG or WebP only, not {}",
                    other.mime
                )));
            }
            Ok(Content::Photos(images))
        }
        (0, _) => Err(invalid("TikTok takes at most 35 photos in a post")),
        (1, _) => Err(invalid("TikTok cannot mix a video and photos in one post")),
        _ => Err(invalid("TikTok takes one video per post")),
    }
}

/// Chunk size and count by TikTok's rules: under 5 MB one whole chunk; otherwise chunks of
/// `preferred` (kept within 5–64 MB), the remainder going into the last one.
fn chunk_plan(size: u64, preferred: u64) -> (u64, u64) {
    if size < 5 * MB {
        return (size, 1);
    }
    let chunk = preferred.clamp(5 * MB, 64 * MB);
    if size < chunk {
        return (size, 1);
    }
    (chunk, size / chunk)
}

/// The privacy level: for an app TikTok has not audited, private; else the one asked for if
/// the creator may use it, else public, else private, else whatever TikTok offers first.
fn privacy_level(
    options: &Value,
    allowed: &[String],
    audited: bool,
) -> Result<String, PublishError> {
    let has = |level: &str| allowed.iter().any(|a| a == level);
    if !audited {
        return if has("SELF_ONLY") {
            Ok("SELF_ONLY".to_owned())
        } else {
            Err(PublishError::InvalidContent {
                reason: "TikTok lets apps it has not audited post only privately, and this \
                         account does not offer private posts"
                    .into(),
            })
        };
    }
    if let Some(wanted) = options["privacy_level"].as_str()
        && has(wanted)
    {
        return Ok(wanted.to_owned());
    }
    ["PUBLIC_TO_EVERYONE", "SELF_ONLY"]
        .into_iter()
        .find(|level| has(level))
        .map(str::to_owned)
        .or_else(|| allowed.first().cloned())
        .ok_or_else(|| PublishError::InvalidContent {
            reason: "TikTok offers this account no privacy level to post with".into(),
        })
}

impl TikTok {
    /// PUTs the video in chunks to the upload URL TikTok gave, reading each from the download
    /// just before it goes (the last only once the file is known to end where announced).
    async fn upload(
        &self,
        url: &str,
        mime: &str,
        download: &mut Download,
    ) -> Result<(), PublishError> {
        let size = download.total();
        let (chunk, count) = chunk_plan(size, self.config.chunk_size);
        for index in 0..count {
            let start = index * chunk;
            let end = if index + 1 == count {
                size
            } else {
                start + chunk
            };
            let part = download
                .next(usize::try_from(end - start).unwrap_or(usize::MAX))
                .await?
                .unwrap_or_default();
            // With the last chunk TikTok has the whole video and publishes it: a failure to
            // hear back from that one leaves the post's fate unknown.
            let last = index + 1 == count;
            let res = self
                .http
                .put(url)
                .header(reqwest::header::CONTENT_TYPE, mime)
                .header(
                    reqwest::header::CONTENT_RANGE,
                    format!("bytes {start}-{}/{size}", end - 1),
                )
                .body(part)
                .send()
                .await
                .map_err(|e| PublishError::Transient {
                    reason: format!("the video upload broke off: {}", without_url(&e)),
                    maybe_published: last && !e.is_connect(),
                })?;
            let status = res.status();
            if status.is_success() {
                continue;
            }
            let body: Envelope = res.json().await.unwrap_or_default();
            return Err(if status.is_server_error() {
                PublishError::Transient {
                    reason: format!("TikTok's upload answered {status}"),
                    maybe_published: last,
                }
            } else if status.as_u16() == 401 {
                PublishError::TokenExpired
            } else {
                PublishError::InvalidContent {
                    reason: format!("TikTok refused the video upload: {}", body.error.message),
                }
            });
        }
        Ok(())
    }

    /// Polls the publish until TikTok says it is done.
    async fn wait(
        &self,
        publish_id: &str,
        token: &SecretString,
        privacy: &str,
        username: &str,
    ) -> Result<Published, PublishError> {
        for poll in 0..self.config.polling.limit {
            if poll > 0 {
                tokio::time::sleep(self.config.polling.interval).await;
            }
            let status: Status = self
                .api(
                    self.http
                        .post(self.url("/v2/post/publish/status/fetch/"))
                        .json(&json!({"publish_id": publish_id})),
                    token,
                )
                .await
                .map_err(|e| e.into_publish(true))?;
            match status.status.as_str() {
                "PUBLISH_COMPLETE" => {
                    let public = status
                        .publicaly_available_post_id
                        .first()
                        .map(|id| match id {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        });
                    return Ok(match public {
                        Some(id) if privacy != "SELF_ONLY" => Published {
                            permalink: Some(format!(
                                "{}/@{username}/video/{id}",
                                self.config.web_base
                            )),
                            platform_post_id: id,
                        },
                        // Private posts have no public id or link.
                        _ => Published {
                            platform_post_id: publish_id.to_owned(),
                            permalink: None,
                        },
                    });
                }
                "FAILED" => {
                    return Err(PublishError::InvalidContent {
                        reason: format!(
                            "TikTok could not publish the post: {}",
                            status.fail_reason
                        ),
                    });
                }
                _ => {}
            }
        }
        Err(PublishError::Transient {
            reason: "TikTok was still processing the post when we stopped waiting".into(),
            maybe_published: true,
        })
    }
}

#[async_trait]
impl Publisher for TikTok {
    async fn publish(&self, request: &PublishRequest) -> Result<Published, PublishError> {
        let Some(token) = &request.access_token else {
            return Err(PublishError::TokenExpired);
        };
        let content = content(request)?;
        let creator: CreatorInfo = self
            .api(
                self.http
                    .post(self.url("/v2/post/publish/creator_info/query/"))
                    .json(&json!({})),
                token,
            )
            .await
            .map_err(|e| e.into_publish(false))?;
        let options = &request.options;
        let privacy = privacy_level(options, &creator.privacy_level_options, self.config.audited)?;
        // A switch the creator turned off in TikTok stays off whatever the composer said.
        let switch = |name: &str, off: bool| off || options[name].as_bool().unwrap_or(false);
        let mut post_info = json!({
            "privacy_level": privacy,
            "disable_comment": switch("disable_comment", creator.comment_disabled),
            "disable_duet": switch("disable_duet", creator.duet_disabled),
            "disable_stitch": switch("disable_stitch", creator.stitch_disabled),
            "is_aigc": request.media.iter().any(|m| m.ai_generated),
        });
        let username = if creator.creator_username.is_empty() {
            request.account.username.clone()
        } else {
            creator.creator_username
        };
        let publish_id = match content {
            Content::Video(video) => {
                post_info["title"] = json!(request.text);
                let mut download = Download::open(&self.http, video, "video").await?;
                let size = download.total();
                let (chunk, count) = chunk_plan(size, self.config.chunk_size);
                let init: Init = self
                    .api(
                        self.http
                            .post(self.url("/v2/post/publish/video/init/"))
                            .json(&json!({
                                "post_info": post_info,
                                "source_info": {
                                    "source": "FILE_UPLOAD",
                                    "video_size": size,
                                    "chunk_size": chunk,
                                    "total_chunk_count": count,
                                },
                            })),
                        token,
                    )
                    .await
                    // Nothing is posted before the bytes arrive, even if the answer was lost.
                    .map_err(|e| match e {
                        ApiFailure::Send(e) => PublishError::Transient {
                            reason: without_url(&e),
                            maybe_published: false,
                        },
                        other => other.into_publish(false),
                    })?;
                let url = init.upload_url.ok_or_else(|| PublishError::Transient {
                    reason: "TikTok gave no upload URL".into(),
                    maybe_published: false,
                })?;
                let mime = if video.mime.starts_with("video/") {
                    video.mime.as_str()
                } else {
                    "video/mp4"
                };
                self.upload(&url, mime, &mut download).await?;
                download.finish().await?;
                init.publish_id
            }
            Content::Photos(photos) => {
                // Photo posts have a 90-character title; the text goes in the description.
                let title: String = request
                    .text
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .chars()
                    .take(90)
                    .collect();
                post_info["title"] = json!(title);
                post_info["description"] = json!(request.text);
                let init: Init = self
                    .api(
                        self.http
                            .post(self.url("/v2/post/publish/content/init/"))
                            .json(&json!({
                                "post_info": post_info,
                                "source_info": {
                                    "source": "PULL_FROM_URL",
                                    "photo_images": photos.iter().map(|p| p.url.as_str()).collect::<Vec<_>>(),
                                    "photo_cover_index": 0,
                                },
                                "post_mode": "DIRECT_POST",
                                "media_type": "PHOTO",
                            })),
                        token,
                    )
                    .await
                    .map_err(|e| e.into_publish(false))?;
                init.publish_id
            }
        };
        self.wait(&publish_id, token, &privacy, &username).await
    }
}

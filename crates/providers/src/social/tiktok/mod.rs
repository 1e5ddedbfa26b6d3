//! TikTok Content Posting API: OAuth (PKCE, rotating refresh tokens), user info, and direct
//! posts of one video (uploaded in chunks) or of photos (pulled by TikTok from their URLs).
//!
//! This file holds the settings, the calls to TikTok's enveloped API and how their failures map
//! into the provider-neutral kinds, and the OAuth side; publishing (the content rules, the
//! privacy level, the chunked upload and the wait for TikTok to finish) is in `publish`.

use super::oauth::{
    AuthorizePage, Binding, ClientAuth, Param, SANDBOX_CLIENT_ID, TokenEndpoints, sandbox_secret,
    unconfirmed_revocation,
};
use super::{
    AccountRef, Adapter, ConnectError, Connector, Identity, Polling, PublishError, Revoked,
    TokenGrant, retry_after_header, send_failed, unavailable, without_url,
};
use async_trait::async_trait;
use domain::Platform;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::time::Duration;

mod publish;

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
            client_key: SANDBOX_CLIENT_ID.into(),
            client_secret: sandbox_secret(),
            polling: Polling::default(),
            chunk_size: 10 * MB,
            // The simulated app is audited; a simulated account named `unaudited…` plays one
            // whose posts must stay private.
            audited: true,
        }
    }
}

/// The TikTok adapter: `TikTok::new(config)`.
pub type TikTok = Adapter<TikTokConfig>;

impl TikTok {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.api_base)
    }

    fn token_endpoints(&self) -> TokenEndpoints<'_> {
        TokenEndpoints {
            platform: "TikTok",
            http: &self.http,
            token_url: self.url("/v2/oauth/token/"),
            revoke_url: self.url("/v2/oauth/revoke/"),
            client: ClientAuth::Form {
                id_field: "client_key",
                id: &self.config.client_key,
                secret: &self.config.client_secret,
            },
            credentials: Some("client key or secret"),
            errors_in_any_answer: true,
            revoked: |status, body| {
                let error = body["error"].as_str().unwrap_or_default();
                if status.is_success() && (error.is_empty() || body["error"]["code"] == "ok") {
                    Ok(())
                } else {
                    Err(unconfirmed_revocation("TikTok", status))
                }
            },
        }
    }

    /// POSTs `body` to an API path; `data` on success.
    async fn api_post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &Value,
        token: &SecretString,
    ) -> Result<T, ApiFailure> {
        self.api(self.http.post(self.url(path)).json(body), token)
            .await
    }

    /// What the creator may post with (and their handle).
    async fn creator_info(&self, token: &SecretString) -> Result<CreatorInfo, ApiFailure> {
        self.api_post("/v2/post/publish/creator_info/query/", &json!({}), token)
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

#[async_trait]
impl Connector for TikTok {
    fn platform(&self) -> Platform {
        Platform::TikTok
    }

    fn publishing_scopes(&self) -> &'static [&'static str] {
        &["user.info.basic", "video.publish"]
    }

    fn authorize_page(&self) -> AuthorizePage<'_> {
        AuthorizePage {
            address: self.config.authorize_url.clone(),
            app: ("client_key", &self.config.client_key),
            order: [
                Param::App,
                Param::ResponseType,
                Param::Scope,
                Param::RedirectUri,
                Param::State,
            ],
            scope_separator: ",",
            binding: Binding::Pkce,
        }
    }

    async fn exchange(
        &self,
        code: &str,
        pkce_verifier: Option<&str>,
        redirect_uri: &str,
    ) -> Result<TokenGrant, ConnectError> {
        self.token_endpoints()
            .exchange(code, pkce_verifier, redirect_uri)
            .await
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
            .creator_info(access)
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
        // TikTok rotates refresh tokens: the grant carries the new one, to store.
        self.token_endpoints()
            .refresh(refresh, "TikTok gave no refresh token for this account")
            .await
    }

    async fn revoke(
        &self,
        access: &SecretString,
        _refresh: Option<&SecretString>,
    ) -> Result<Revoked, ConnectError> {
        // Revoking the access token ends the whole authorisation, refresh token included.
        self.token_endpoints().revoke(&[access]).await?;
        Ok(Revoked::Confirmed)
    }

    /// Revoking would end the authorisation the account still uses; unused tokens expire.
    async fn discard(&self, _access: &SecretString, _refresh: Option<&SecretString>) {}
}

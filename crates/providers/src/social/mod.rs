//! Publishing to social platforms: one trait that the platform adapters (and, in tests, the
//! recording double) implement, and the provider-neutral errors they map their failures into.
//!
//! The scheduler only ever sees this interface: it hands a [`PublishRequest`] to the
//! [`Publisher`] registered for the account's platform and acts on the [`PublishError`] kind.

pub mod facebook;
pub mod instagram;
pub mod linkedin;
mod oauth;
#[cfg(feature = "testing")]
pub mod recording;
pub mod tiktok;
pub mod x;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::Platform;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// The platform account a post goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRef {
    /// The row id of the connected account.
    pub id: i64,
    pub platform: Platform,
    /// The account's id at the platform.
    pub external_id: String,
    pub username: String,
}

/// A media file of a post, as a platform fetches or receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaRef {
    /// A signed, expiring address the platform can fetch the file from.
    pub url: String,
    pub mime: String,
    pub kind: domain::media::MediaKind,
    pub size_bytes: u64,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// Made by an AI generator (TikTok wants such videos labelled).
    pub ai_generated: bool,
}

/// Everything a platform needs to publish one target of a post.
#[derive(Debug, Clone)]
pub struct PublishRequest {
    pub account: AccountRef,
    /// The account's access token, opened from storage for this call (none for accounts
    /// without tokens, which only the test double accepts).
    pub access_token: Option<secrecy::SecretString>,
    pub text: String,
    /// In the order the author chose.
    pub media: Vec<MediaRef>,
    pub first_comment: Option<String>,
    /// Platform options chosen in the composer, as a JSON object.
    pub options: serde_json::Value,
    /// Unique per attempt; sent where the platform's API accepts one and used to find the post
    /// again after a crash.
    pub idempotency_key: String,
}

/// A post the platform accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub platform_post_id: String,
    pub permalink: Option<String>,
}

/// Why a platform did not publish, in the four kinds the scheduler acts on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    /// The account's token is no longer accepted: refresh it or ask for a reconnection.
    #[error("the platform no longer accepts this account's authorisation")]
    TokenExpired,
    /// Try again after `retry_after`.
    #[error("the platform's rate limit was reached")]
    RateLimited { retry_after: Duration },
    /// The platform refused the content; the reason is shown to the person.
    #[error("the platform refused the post: {reason}")]
    InvalidContent { reason: String },
    /// A failure that may pass. `maybe_published` is true when the request may have reached
    /// the platform (a timeout after sending, a dropped connection): then a retry could post
    /// twice, and the scheduler reconciles or asks a person instead.
    #[error("the platform could not be reached: {reason}")]
    Transient {
        reason: String,
        maybe_published: bool,
    },
}

/// What a platform says when asked whether a post made with a given idempotency key exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Found(Published),
    /// The platform is certain there is no such post.
    NotFound,
    /// The platform's API offers no way to tell.
    Unsupported,
}

/// A platform that can publish.
#[async_trait]
pub trait Publisher: Send + Sync {
    async fn publish(&self, request: &PublishRequest) -> Result<Published, PublishError>;

    /// Looks for a post made for `account` with `idempotency_key` since `since`, after an
    /// attempt whose outcome is unknown. Platforms whose API cannot answer say `Unsupported`.
    async fn find(
        &self,
        _account: &AccountRef,
        _idempotency_key: &str,
        _since: DateTime<Utc>,
    ) -> Result<Lookup, PublishError> {
        Ok(Lookup::Unsupported)
    }
}

/// Tokens a platform granted.
#[derive(Debug, Clone)]
pub struct TokenGrant {
    pub access: secrecy::SecretString,
    pub refresh: Option<secrecy::SecretString>,
    /// Seconds, as the platform said (never assumed).
    pub expires_in: Option<u64>,
    pub refresh_expires_in: Option<u64>,
    pub scopes: Vec<String>,
}

/// Who an account is at the platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub external_id: String,
    pub username: String,
    pub display_name: String,
    pub avatar_url: Option<String>,
    /// Followers (or a page's fans), where the granted scopes let the platform say.
    pub followers: Option<u64>,
    /// Where one person's authorisation serves several accounts (a Facebook login managing
    /// pages), that person's id at the platform: revoking for one account revokes for all.
    pub authorized_by: Option<String>,
}

/// Why connecting (or refreshing, or revoking) failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    /// The platform refused the grant (a wrong verifier, a used code, a revoked refresh token).
    #[error("the platform refused: {0}")]
    Refused(String),
    /// The platform could not be reached or failed; trying again later may work.
    #[error("the platform could not be reached: {0}")]
    Unavailable(String),
}

/// The OAuth side of a platform: sending people to authorise, and exchanging what comes back.
#[async_trait]
pub trait Connector: Send + Sync {
    fn platform(&self) -> Platform;
    /// The least scopes that publishing needs (shown to the person before the redirect).
    fn publishing_scopes(&self) -> &'static [&'static str];
    /// Whether the platform takes a PKCE challenge (then the verifier comes back to `exchange`).
    fn uses_pkce(&self) -> bool;
    /// Where to send the person to authorise.
    fn authorize_url(
        &self,
        state: &str,
        pkce_challenge: Option<&str>,
        redirect_uri: &str,
        scopes: &[&str],
    ) -> String;
    async fn exchange(
        &self,
        code: &str,
        pkce_verifier: Option<&str>,
        redirect_uri: &str,
    ) -> Result<TokenGrant, ConnectError>;
    async fn identity(&self, access: &secrecy::SecretString) -> Result<Identity, ConnectError>;
    /// The accounts a fresh grant can publish as, each with the tokens to store for it. Most
    /// platforms have one (the person who authorised); Facebook lists the pages they manage,
    /// and the person chooses.
    async fn accounts(&self, grant: &TokenGrant) -> Result<Vec<Candidate>, ConnectError> {
        let identity = self.identity(&grant.access).await?;
        Ok(vec![Candidate {
            identity,
            grant: grant.clone(),
        }])
    }
    /// Renews an account's tokens ahead of expiry, by the platform's own rule (a refresh
    /// grant, or re-exchanging a still-valid token). A refused renewal means the person has to
    /// reconnect.
    async fn refresh(
        &self,
        account: &AccountRef,
        access: &secrecy::SecretString,
        refresh: Option<&secrecy::SecretString>,
    ) -> Result<TokenGrant, ConnectError>;
    /// Revokes an account's authorisation at the platform, where it offers that.
    async fn revoke(
        &self,
        access: &secrecy::SecretString,
        refresh: Option<&secrecy::SecretString>,
    ) -> Result<Revoked, ConnectError>;
    /// Gives back tokens that were issued but will not be used (a refresh that lost a race).
    /// Platforms whose revocation removes the whole authorisation do nothing here.
    async fn discard(
        &self,
        access: &secrecy::SecretString,
        refresh: Option<&secrecy::SecretString>,
    ) {
        let _ = self.revoke(access, refresh).await;
    }
}

/// An account a grant can publish as.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub identity: Identity,
    /// The tokens to store for it (a Facebook page has its own).
    pub grant: TokenGrant,
}

/// What revoking did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    /// The platform confirmed.
    Confirmed,
    /// The platform has no revocation endpoint: the person removes the app in its settings.
    NotOffered,
}

/// One implementation per configured platform (publishers, connectors).
pub struct Registry<T: ?Sized>(HashMap<Platform, Arc<T>>);

impl<T: ?Sized> Default for Registry<T> {
    fn default() -> Self {
        Self(HashMap::new())
    }
}

impl<T: ?Sized> Clone for Registry<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T: ?Sized> Registry<T> {
    pub fn with(mut self, platform: Platform, implementation: Arc<T>) -> Self {
        self.0.insert(platform, implementation);
        self
    }

    pub fn get(&self, platform: Platform) -> Option<Arc<T>> {
        self.0.get(&platform).cloned()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The platforms present, in the product's order.
    pub fn platforms(&self) -> Vec<Platform> {
        Platform::ALL
            .into_iter()
            .filter(|p| self.0.contains_key(p))
            .collect()
    }
}

/// A client for platform APIs: bounded connect and overall time.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap_or_default()
}

/// A reqwest error's text without its URL (a query can carry a token or a secret).
pub fn without_url(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    if let Some(url) = err.url() {
        text = text.replace(url.as_str(), "(the platform)");
    }
    text
}

/// A connect-side failure to reach the platform.
pub fn unavailable(err: reqwest::Error) -> ConnectError {
    ConnectError::Unavailable(without_url(&err))
}

/// A publish-side failure to get an answer: certainly not posted when the connection was never
/// made, possibly posted otherwise (a timeout or a dropped connection after sending).
pub fn send_failed(err: &reqwest::Error) -> PublishError {
    PublishError::Transient {
        reason: without_url(err),
        maybe_published: !err.is_connect(),
    }
}

/// Seconds to wait from a `Retry-After` header in seconds, if there is one.
pub fn retry_after_header(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// Downloads a post's media file from its signed address, for platforms that want the bytes
/// uploaded rather than a URL to fetch. Failing to read our own file is passing (the post was
/// not sent).
pub async fn download(http: &reqwest::Client, media: &MediaRef) -> Result<Vec<u8>, PublishError> {
    let failed = |reason: String| PublishError::Transient {
        reason,
        maybe_published: false,
    };
    let res = http.get(&media.url).send().await.map_err(|e| {
        failed(format!(
            "the media file could not be read: {}",
            without_url(&e)
        ))
    })?;
    if !res.status().is_success() {
        return Err(failed(format!(
            "the media file could not be read (it answered {})",
            res.status()
        )));
    }
    let body = res.bytes().await.map_err(|e| {
        failed(format!(
            "the media file could not be read: {}",
            without_url(&e)
        ))
    })?;
    Ok(body.to_vec())
}

/// Downloads a post's media file from its signed address to upload it in parts; `what` names it
/// in the reason ("video", "media"). Failing to read our own file is passing (nothing was sent).
pub async fn download_for_upload(
    http: &reqwest::Client,
    media: &MediaRef,
    what: &str,
) -> Result<Vec<u8>, PublishError> {
    let failed = |why: String| PublishError::Transient {
        reason: format!("the {what} could not be downloaded for upload: {why}"),
        maybe_published: false,
    };
    let res = http
        .get(&media.url)
        .send()
        .await
        .map_err(|e| failed(without_url(&e)))?;
    if !res.status().is_success() {
        return Err(failed(format!("the media store answered {}", res.status())));
    }
    let bytes = res.bytes().await.map_err(|e| failed(without_url(&e)))?;
    Ok(bytes.to_vec())
}

/// A `multipart/form-data` body of text fields and one file field, and its content type.
pub fn multipart_body(fields: &[(&str, &str)], file_field: &str, file: &[u8]) -> (String, Vec<u8>) {
    use rand::RngCore;
    let mut nonce = [0u8; 12];
    rand::rng().fill_bytes(&mut nonce);
    let boundary: String = nonce.iter().map(|b| format!("{b:02x}")).collect();
    let boundary = format!("socializioz-{boundary}");
    let mut body = Vec::with_capacity(file.len() + 512);
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{file_field}\"; filename=\"blob\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Waits between status polls of asynchronous processing, up to `limit` polls.
#[derive(Debug, Clone, Copy)]
pub struct Polling {
    pub interval: Duration,
    pub limit: u32,
}

impl Default for Polling {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(3),
            limit: 100,
        }
    }
}

/// The publisher of each platform that is configured.
pub type Publishers = Registry<dyn Publisher>;

/// The OAuth side of each platform that is configured.
pub type Connectors = Registry<dyn Connector>;

//! Publishing to social platforms: one trait that the platform adapters (and, in tests, the
//! recording double) implement, and the provider-neutral errors they map their failures into.
//!
//! The scheduler only ever sees this interface: it hands a [`PublishRequest`] to the
//! [`Publisher`] registered for the account's platform and acts on the [`PublishError`] kind.
//!
//! Every platform adapter is an [`Adapter`] (an HTTP client and the platform's settings) in its
//! own module. What several of them share is written once: the authorize page and the OAuth
//! token and revocation calls in [`oauth`], Meta's Graph calls (Facebook and Instagram) in
//! `graph`, and here the failure helpers and the media download that uploads read from.

pub mod comments;
pub mod facebook;
mod graph;
pub mod instagram;
pub mod linkedin;
pub mod messages;
pub mod metrics;
pub mod oauth;
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
    /// Made by an AI generator (TikTok and Instagram label such posts).
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

/// What an attempt whose outcome is unknown sent, for [`Publisher::find`].
#[derive(Debug, Clone, Copy)]
pub struct FindRequest<'a> {
    /// The attempt's idempotency key (platforms that take one stored it with the post).
    pub idempotency_key: &'a str,
    /// The text the attempt sent, exactly.
    pub text: &'a str,
    /// When the attempt started: the post, if made, is no older (less the clocks' skew).
    pub since: DateTime<Utc>,
    /// The account's access token, as for publishing.
    pub access_token: Option<&'a secrecy::SecretString>,
}

impl<'a> FindRequest<'a> {
    /// The token to read the account's posts with, when the attempt can be recognised among
    /// them: `None` for a post without text (media alone, a story), which cannot be told from
    /// the account's others. Without a token the platform cannot be asked at all.
    pub(crate) fn token_to_search(
        &self,
    ) -> Result<Option<&'a secrecy::SecretString>, PublishError> {
        let token = self.access_token.ok_or(PublishError::TokenExpired)?;
        Ok((!self.text.trim().is_empty()).then_some(token))
    }
}

/// What a platform says when asked whether an attempt's post exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Found(Published),
    /// The platform is certain there is no such post.
    NotFound,
    /// The platform lists no such post yet, but the attempt is too recent for that to prove
    /// anything (a request may still be under way there): ask again after `wait`.
    NotYet {
        wait: Duration,
        reason: String,
    },
    /// The platform's API offers no way to tell.
    Unsupported,
}

/// A comment to post under a post the same account published (the composer's "first
/// comment"; on X, a reply in the post's thread).
#[derive(Debug, Clone)]
pub struct CommentRequest {
    pub account: AccountRef,
    pub access_token: Option<secrecy::SecretString>,
    /// The platform's id of the post to comment under.
    pub post_id: String,
    pub text: String,
}

/// How [`Publisher::find`] reads the account's own posts for an attempt's post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finding {
    /// How much earlier than the attempt's start (by our clock) a post may be dated by the
    /// platform's clock and still be the attempt's.
    pub skew: Duration,
    /// How long after an attempt started a post it made is surely in the platform's listing
    /// (a request still being handled there, a listing that lags): before that, a listing
    /// without it proves nothing.
    pub settle: Duration,
    /// The most result pages one lookup reads; a window with more posts is left unknown.
    pub max_pages: usize,
}

impl Default for Finding {
    /// Two minutes of clock skew, thirty seconds for the listing to catch up, ten pages.
    fn default() -> Self {
        Self {
            skew: Duration::from_secs(120),
            settle: Duration::from_secs(30),
            max_pages: 10,
        }
    }
}

impl Finding {
    /// For the simulator, whose listing has every post it kept: the settling time only has
    /// to cover a request it is still handling (its added latency, under a second in tests).
    pub fn simulated() -> Self {
        Self {
            settle: Duration::from_secs(5),
            ..Self::default()
        }
    }

    /// The earliest time a post of `attempt` may carry.
    pub fn window_start(&self, attempt: &FindRequest<'_>) -> DateTime<Utc> {
        attempt.since - chrono::Duration::from_std(self.skew).unwrap_or_default()
    }

    /// What a listing of the account's posts since [`Finding::window_start`] says: `found`, the
    /// earliest post with the attempt's text; `complete`, whether the whole window was read.
    /// Nothing found is "not found" only when the whole window was read and the attempt
    /// started long enough ago for its post to be listed; a young attempt is "not yet", and
    /// an incomplete read is an error that leaves the question open.
    pub fn conclude(
        &self,
        platform: &str,
        attempt: &FindRequest<'_>,
        found: Option<Published>,
        complete: bool,
    ) -> Result<Lookup, PublishError> {
        if let Some(found) = found {
            return Ok(Lookup::Found(found));
        }
        if !complete {
            return Err(PublishError::Transient {
                reason: format!(
                    "{platform}'s posts since the attempt started could not be read to the end \
                     (more than {} pages)",
                    self.max_pages
                ),
                maybe_published: true,
            });
        }
        let age = (Utc::now() - attempt.since).to_std().unwrap_or_default();
        if age < self.settle {
            return Ok(Lookup::NotYet {
                wait: self.settle - age,
                reason: format!(
                    "{platform} does not list the post yet, but the attempt started {} seconds \
                     ago: too soon to be sure it was not made",
                    age.as_secs()
                ),
            });
        }
        Ok(Lookup::NotFound)
    }
}

/// One post of an account's listing as [`Finding::scan`] weighs it.
pub(crate) struct Listed<K, T> {
    /// Made before the window: the listing, newest first, has nothing more to offer.
    pub older: bool,
    /// Its text is the attempt's.
    pub same: bool,
    /// Orders posts by when they were made (earliest least).
    pub key: K,
    pub post: T,
}

/// What follows a page of an account's listing.
pub(crate) enum Then<C> {
    /// The listing ends here.
    End,
    /// The next page, read with this.
    Read(C),
    /// More is listed but cannot be read (a next page somewhere the token must not go).
    Stop,
}

impl Finding {
    /// Reads an account's listing, newest first, page by page from `first` (at most
    /// [`Finding::max_pages`]) until it ends or reaches posts older than the window: the
    /// earliest post whose text is the attempt's, and whether the whole window was read.
    pub(crate) async fn scan<C, K, T, E, F, Fut>(
        &self,
        first: C,
        mut read: F,
    ) -> Result<(Option<T>, bool), E>
    where
        K: Ord,
        F: FnMut(C) -> Fut,
        Fut: std::future::Future<Output = Result<(Vec<Listed<K, T>>, Then<C>), E>>,
    {
        let mut earliest: Option<(K, T)> = None;
        let mut cursor = first;
        for _ in 0..self.max_pages {
            let (posts, then) = read(cursor).await?;
            let mut older = false;
            for listed in posts {
                older |= listed.older;
                if listed.older || !listed.same {
                    continue;
                }
                if earliest.as_ref().is_none_or(|(key, _)| listed.key < *key) {
                    earliest = Some((listed.key, listed.post));
                }
            }
            match then {
                Then::Read(next) if !older => cursor = next,
                Then::Stop if !older => return Ok((earliest.map(|(_, post)| post), false)),
                _ => return Ok((earliest.map(|(_, post)| post), true)),
            }
        }
        Ok((earliest.map(|(_, post)| post), false))
    }
}

/// A platform that can publish.
#[async_trait]
pub trait Publisher: Send + Sync {
    async fn publish(&self, request: &PublishRequest) -> Result<Published, PublishError>;

    /// Whether the platform's API takes a comment under a post ([`Publisher::comment`]).
    /// TikTok's publishing API has none.
    fn takes_comments(&self) -> bool {
        false
    }

    /// Posts a comment under one of the account's posts; returns the comment's id at the
    /// platform. Errors have the kinds of publishing: a `Transient` error with
    /// `maybe_published` means the comment may exist.
    async fn comment(&self, _request: &CommentRequest) -> Result<String, PublishError> {
        Err(PublishError::InvalidContent {
            reason: "this platform's API takes no comments".into(),
        })
    }

    /// Looks for the post an attempt whose outcome is unknown may have made for `account`
    /// (its text, made since the attempt started). Platforms whose API cannot answer say
    /// `Unsupported`.
    async fn find(
        &self,
        _account: &AccountRef,
        _attempt: &FindRequest<'_>,
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
    /// How the platform's authorize page is asked for a code: the one thing a connector
    /// declares about it. The URLs and the PKCE and nonce answers below are read from it.
    fn authorize_page(&self) -> oauth::AuthorizePage<'_>;
    /// Whether the platform takes a PKCE challenge (then the verifier comes back to `exchange`).
    /// Every platform that accepts one for a server-side web app gets one (X, TikTok,
    /// Facebook): a code stolen from one flow is then useless in another, whose verifier
    /// differs.
    fn uses_pkce(&self) -> bool {
        self.authorize_page().binding == oauth::Binding::Pkce
    }
    /// Where to send the person to authorise.
    fn authorize_url(
        &self,
        state: &str,
        pkce_challenge: Option<&str>,
        redirect_uri: &str,
        scopes: &[&str],
    ) -> String {
        self.authorize_page()
            .url(state, pkce_challenge, None, redirect_uri, scopes)
    }
    async fn exchange(
        &self,
        code: &str,
        pkce_verifier: Option<&str>,
        redirect_uri: &str,
    ) -> Result<TokenGrant, ConnectError>;
    /// Whether the code exchange answers with an OpenID Connect ID token that carries the
    /// `nonce` sent with the authorisation (LinkedIn with `openid`). The connection flow then
    /// sends one through [`Connector::authorize_url_with_nonce`] and has
    /// [`Connector::exchange_with_nonce`] refuse an ID token issued for another authorisation:
    /// a code taken from someone else's flow cannot be finished in ours.
    fn uses_nonce(&self) -> bool {
        self.authorize_page().binding == oauth::Binding::Nonce
    }
    /// [`Connector::authorize_url`], with the nonce where the platform takes one.
    fn authorize_url_with_nonce(
        &self,
        state: &str,
        pkce_challenge: Option<&str>,
        nonce: Option<&str>,
        redirect_uri: &str,
        scopes: &[&str],
    ) -> String {
        self.authorize_page()
            .url(state, pkce_challenge, nonce, redirect_uri, scopes)
    }
    /// [`Connector::exchange`], refusing an ID token whose nonce is not `nonce` where the
    /// platform takes one.
    async fn exchange_with_nonce(
        &self,
        code: &str,
        pkce_verifier: Option<&str>,
        nonce: Option<&str>,
        redirect_uri: &str,
    ) -> Result<TokenGrant, ConnectError> {
        let _ = nonce;
        self.exchange(code, pkce_verifier, redirect_uri).await
    }
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

/// A platform adapter: the HTTP client it calls the platform with, and the platform's settings.
/// Each platform's adapter is one of these with its own settings type (`facebook::Facebook` is
/// `Adapter<FacebookConfig>`), so all are built the same way; what they do is in their modules.
pub struct Adapter<C> {
    http: reqwest::Client,
    config: C,
}

impl<C> Adapter<C> {
    /// With the client of [`http_client`].
    pub fn new(config: C) -> Self {
        Self::with_http_client(config, http_client())
    }

    /// With a client of the caller's (tests use short timeouts).
    pub fn with_http_client(config: C, http: reqwest::Client) -> Self {
        Self { http, config }
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

/// `url` with `pairs` as its query (added to a query the URL already has).
pub(crate) fn with_query(url: &str, pairs: &[(&str, &str)]) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{query}")
}

/// `url` without its query parameter `name` (a platform's paging link may carry the access
/// token, which goes in a header instead).
pub(crate) fn without_param(url: &str, name: &str) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url.to_owned();
    };
    let kept: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .filter(|(k, _)| k != name)
        .collect();
    if kept.is_empty() {
        return base.to_owned();
    }
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(kept)
        .finish();
    format!("{base}?{query}")
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
    let reason = if err.is_timeout() {
        format!("{TIMED_OUT} ({})", without_url(err))
    } else {
        without_url(err)
    };
    PublishError::Transient {
        reason,
        maybe_published: !err.is_connect(),
    }
}

/// How the reason of a [`PublishError::Transient`] begins when the call timed out (rather
/// than failing some other way), so that a person is told which.
pub const TIMED_OUT: &str = "timed out";

/// Seconds to wait from a `Retry-After` header in seconds, if there is one.
pub fn retry_after_header(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// A post's media file read from its signed address a piece at a time, for platforms that want
/// the bytes uploaded in parts: at most one piece is held in memory. Failing to read our own file
/// is passing (nothing was sent), as is a file whose length differs from the announced total.
pub struct Download {
    response: reqwest::Response,
    /// Received but not handed out yet: the rest of the last network chunk.
    pending: Vec<u8>,
    /// The bytes announced (Content-Length, else the size we stored).
    total: u64,
    /// The bytes handed out so far.
    read: u64,
    /// Whether the body's end has been seen.
    ended: bool,
    /// Names the file in failures ("video", "media").
    what: &'static str,
}

/// How long the file may stay open: it is read while the parts upload, so the client's overall
/// limit would cut long uploads short. A stalled read is caught by [`DOWNLOAD_READ_TIMEOUT`].
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(60 * 60);
/// How long one read of the file may wait for bytes.
const DOWNLOAD_READ_TIMEOUT: Duration = Duration::from_secs(60);
/// The most a piece's buffer reserves up front, whatever length is asked for.
const PREALLOCATE: usize = 16 * 1024 * 1024;

impl Download {
    /// Opens `media`'s file; `what` names it in failures.
    pub async fn open(
        http: &reqwest::Client,
        media: &MediaRef,
        what: &'static str,
    ) -> Result<Self, PublishError> {
        let failed = |why: String| download_failed(what, why);
        let response = http
            .get(&media.url)
            .timeout(DOWNLOAD_TIMEOUT)
            .send()
            .await
            .map_err(|e| failed(without_url(&e)))?;
        if !response.status().is_success() {
            return Err(failed(format!(
                "the media store answered {}",
                response.status()
            )));
        }
        let total = response.content_length().unwrap_or(media.size_bytes);
        Ok(Self {
            response,
            pending: Vec::new(),
            total,
            read: 0,
            ended: false,
            what,
        })
    }

    /// The file's length, as announced before reading.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The next `len` bytes (fewer at the end of the file), or `None` once the announced total
    /// has been read. The last piece comes only once the file is known to end there.
    pub async fn next(&mut self, len: usize) -> Result<Option<Vec<u8>>, PublishError> {
        let remaining = self.total - self.read;
        if remaining == 0 {
            self.expect_end().await?;
            return Ok(None);
        }
        let want = usize::try_from(remaining).map_or(len, |r| r.min(len));
        let mut piece = Vec::with_capacity(want.min(PREALLOCATE));
        let from_pending = want.min(self.pending.len());
        piece.extend(self.pending.drain(..from_pending));
        while piece.len() < want {
            if !self.receive(&mut piece, want).await? {
                return Err(self.failed(format!(
                    "the file ended after {} of the {} bytes announced",
                    self.read + piece.len() as u64,
                    self.total
                )));
            }
        }
        self.read += piece.len() as u64;
        if self.read == self.total {
            self.expect_end().await?;
        }
        Ok(Some(piece))
    }

    /// The rest of the file in one piece, for small single-shot uploads.
    pub async fn into_bytes(mut self) -> Result<Vec<u8>, PublishError> {
        let len = usize::try_from(self.total - self.read).unwrap_or(usize::MAX);
        Ok(self.next(len).await?.unwrap_or_default())
    }

    /// Reads (and drops) whatever was not asked for, checking that the file had exactly the
    /// announced length.
    pub async fn finish(mut self) -> Result<(), PublishError> {
        while self.next(1024 * 1024).await?.is_some() {}
        Ok(())
    }

    /// Fails unless the body ends where the announced total does.
    async fn expect_end(&mut self) -> Result<(), PublishError> {
        while self.pending.is_empty() && !self.ended {
            self.receive(&mut Vec::new(), 0).await?;
        }
        if self.pending.is_empty() {
            Ok(())
        } else {
            Err(self.failed(format!(
                "the file is longer than the {} bytes announced",
                self.total
            )))
        }
    }

    /// Receives one network chunk: up to `want` bytes in all go to `piece`, the rest to
    /// `pending`. False at the end of the body.
    async fn receive(&mut self, piece: &mut Vec<u8>, want: usize) -> Result<bool, PublishError> {
        if self.ended {
            return Ok(false);
        }
        let chunk = tokio::time::timeout(DOWNLOAD_READ_TIMEOUT, self.response.chunk())
            .await
            .map_err(|_| self.failed("the media store stopped sending".into()))?
            .map_err(|e| self.failed(without_url(&e)))?;
        let Some(chunk) = chunk else {
            self.ended = true;
            return Ok(false);
        };
        let take = want.saturating_sub(piece.len()).min(chunk.len());
        piece.extend_from_slice(&chunk[..take]);
        self.pending.extend_from_slice(&chunk[take..]);
        Ok(true)
    }

    fn failed(&self, why: String) -> PublishError {
        download_failed(self.what, why)
    }
}

fn download_failed(what: &str, why: String) -> PublishError {
    PublishError::Transient {
        reason: format!("the {what} could not be downloaded for upload: {why}"),
        maybe_published: false,
    }
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
    /// 25 polls three seconds apart: with the uploads before them, well inside the 120 s the
    /// scheduler gives one platform call (past it, the outcome counts as unknown).
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(3),
            limit: 25,
        }
    }
}

/// The publisher of each platform that is configured.
pub type Publishers = Registry<dyn Publisher>;

/// The OAuth side of each platform that is configured.
pub type Connectors = Registry<dyn Connector>;

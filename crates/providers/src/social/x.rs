//! X API v2: OAuth 2.0 with PKCE, identity, posting (`POST /2/tweets`), and finding the post an
//! attempt whose answer was lost may have made, among the account's own recent posts
//! (`GET /2/users/:id/tweets`).
//!
//! Base URLs are settings, so the same adapter speaks to `api.x.com` and to the simulator.

use super::oauth::{AuthorizePage, Binding, ClientAuth, Param, SANDBOX_CLIENT_ID, TokenEndpoints};
use super::{
    AccountRef, Adapter, CommentRequest, ConnectError, Connector, Download, FindRequest, Finding,
    Identity, Listed, Lookup, MediaRef, Polling, PublishError, PublishRequest, Published,
    Publisher, Revoked, Then, TokenGrant, multipart_body, send_failed, unavailable, with_query,
    without_url,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::Platform;
use domain::media::MediaKind;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::time::Duration;

/// Where X is and who we are to it.
#[derive(Debug, Clone)]
pub struct XConfig {
    /// `https://api.x.com` (or the simulator's `/x`).
    pub api_base: String,
    /// `https://x.com/i/oauth2/authorize`.
    pub authorize_url: String,
    /// Links to posts: `https://x.com`.
    pub web_base: String,
    pub client_id: String,
    /// Confidential clients authenticate the token calls with HTTP Basic.
    pub client_secret: Option<SecretString>,
    /// How often and how long to wait for a video's processing.
    pub polling: Polling,
    /// Bytes per appended segment of a chunked upload.
    pub chunk_size: usize,
    /// How an attempt's post is looked for among the account's recent posts.
    pub finding: Finding,
}

impl XConfig {
    /// X itself.
    pub fn production(client_id: String, client_secret: Option<SecretString>) -> Self {
        Self {
            api_base: "https://api.x.com".into(),
            authorize_url: "https://x.com/i/oauth2/authorize".into(),
            web_base: "https://x.com".into(),
            client_id,
            client_secret,
            polling: Polling::default(),
            chunk_size: 4 * 1024 * 1024,
            finding: Finding::default(),
        }
    }

    /// The simulator at `base` (`http://127.0.0.1:7070`).
    pub fn simulated(base: &str) -> Self {
        Self {
            api_base: format!("{base}/x"),
            authorize_url: format!("{base}/x/i/oauth2/authorize"),
            web_base: format!("{base}/x/web"),
            client_id: SANDBOX_CLIENT_ID.into(),
            client_secret: None,
            polling: Polling {
                interval: Duration::from_millis(200),
                limit: 50,
            },
            chunk_size: 4 * 1024 * 1024,
            finding: Finding::simulated(),
        }
    }
}

/// The X adapter: `X::new(config)`.
pub type X = Adapter<XConfig>;

impl X {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.api_base)
    }

    fn token_endpoints(&self) -> TokenEndpoints<'_> {
        TokenEndpoints {
            platform: "X",
            http: &self.http,
            token_url: self.url("/2/oauth2/token"),
            revoke_url: self.url("/2/oauth2/revoke"),
            client: ClientAuth::Basic {
                id: &self.config.client_id,
                secret: self.config.client_secret.as_ref(),
            },
            // Refused client credentials are reported as X's answer, like a rate limit.
            credentials: None,
            errors_in_any_answer: false,
            // Any other answer, X's own failure too, is a refusal.
            revoked: |status, body| {
                if status.is_success() && body["revoked"] == serde_json::Value::Bool(true) {
                    Ok(())
                } else {
                    Err(ConnectError::Refused(format!(
                        "X answered {status} without confirming the revocation"
                    )))
                }
            },
        }
    }
}

#[derive(Deserialize)]
struct MeBody {
    data: MeData,
}

#[derive(Deserialize)]
struct MeData {
    id: String,
    name: String,
    username: String,
    profile_image_url: Option<String>,
    public_metrics: Option<PublicMetrics>,
}

#[derive(Deserialize)]
struct PublicMetrics {
    followers_count: u64,
}

#[derive(Deserialize)]
struct TweetCreated {
    data: TweetData,
}

#[derive(Deserialize)]
struct TweetData {
    id: String,
}

/// X's problem bodies: `{detail, errors:[{message}]}`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Problem {
    detail: Option<String>,
    title: Option<String>,
    errors: Vec<ProblemError>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ProblemError {
    message: Option<String>,
}

impl Problem {
    fn reason(self) -> String {
        self.errors
            .into_iter()
            .find_map(|e| e.message)
            .or(self.detail)
            .or(self.title)
            .unwrap_or_else(|| "no reason given".into())
    }
}

#[async_trait]
impl Connector for X {
    fn platform(&self) -> Platform {
        Platform::X
    }

    fn publishing_scopes(&self) -> &'static [&'static str] {
        // Reading the profile needs users.read (and tweet.read); staying connected past two
        // hours needs offline.access.
        // media.write lets images and videos go with the post.
        &[
            "tweet.read",
            "tweet.write",
            "users.read",
            "offline.access",
            "media.write",
        ]
    }

    fn authorize_page(&self) -> AuthorizePage<'_> {
        AuthorizePage {
            address: self.config.authorize_url.clone(),
            app: ("client_id", &self.config.client_id),
            order: [
                Param::ResponseType,
                Param::App,
                Param::RedirectUri,
                Param::State,
                Param::Scope,
            ],
            scope_separator: " ",
            binding: Binding::Pkce,
        }
    }

    /// X wants a verifier with every code, an empty one where none was kept.
    async fn exchange(
        &self,
        code: &str,
        pkce_verifier: Option<&str>,
        redirect_uri: &str,
    ) -> Result<TokenGrant, ConnectError> {
        self.token_endpoints()
            .exchange(code, Some(pkce_verifier.unwrap_or_default()), redirect_uri)
            .await
    }

    async fn identity(&self, access: &SecretString) -> Result<Identity, ConnectError> {
        let res = self
            .http
            .get(self.url("/2/users/me?user.fields=profile_image_url,public_metrics"))
            .bearer_auth(access.expose_secret())
            .send()
            .await
            .map_err(unavailable)?;
        if !res.status().is_success() {
            return Err(ConnectError::Refused(format!(
                "X did not share the profile ({})",
                res.status()
            )));
        }
        let me: MeBody = res.json().await.map_err(unavailable)?;
        Ok(Identity {
            external_id: me.data.id,
            username: me.data.username,
            display_name: me.data.name,
            avatar_url: me.data.profile_image_url,
            followers: me.data.public_metrics.map(|m| m.followers_count),
            authorized_by: None,
        })
    }

    async fn refresh(
        &self,
        _account: &AccountRef,
        _access: &SecretString,
        refresh: Option<&SecretString>,
    ) -> Result<TokenGrant, ConnectError> {
        self.token_endpoints()
            .refresh(refresh, "X gave no refresh token (offline.access)")
            .await
    }

    async fn revoke(
        &self,
        access: &SecretString,
        refresh: Option<&SecretString>,
    ) -> Result<Revoked, ConnectError> {
        // The refresh token first (it could mint new access tokens), then the access token.
        let tokens: Vec<&SecretString> = refresh.into_iter().chain([access]).collect();
        self.token_endpoints().revoke(&tokens).await?;
        Ok(Revoked::Confirmed)
    }
}

#[async_trait]
impl Publisher for X {
    async fn publish(&self, request: &PublishRequest) -> Result<Published, PublishError> {
        let Some(token) = &request.access_token else {
            return Err(PublishError::TokenExpired);
        };
        let mut media_ids = Vec::with_capacity(request.media.len());
        for media in &request.media {
            media_ids.push(self.upload(token, media).await?);
        }
        let mut body = serde_json::json!({ "text": request.text });
        if !media_ids.is_empty() {
            body["media"] = serde_json::json!({ "media_ids": media_ids });
        }
        let id = self.create_tweet(token, &body).await?;
        Ok(Published {
            permalink: Some(permalink(&self.config.web_base, &request.account, &id)),
            platform_post_id: id,
        })
    }

    fn takes_comments(&self) -> bool {
        true
    }

    /// A reply in the post's thread: `POST /2/tweets {text, reply:{in_reply_to_tweet_id}}`.
    async fn comment(&self, request: &CommentRequest) -> Result<String, PublishError> {
        let Some(token) = &request.access_token else {
            return Err(PublishError::TokenExpired);
        };
        let body = serde_json::json!({
            "text": request.text,
            "reply": { "in_reply_to_tweet_id": request.post_id },
        });
        self.create_tweet(token, &body).await
    }

    /// The earliest of the account's posts since the attempt started (less the clocks' skew)
    /// whose text is the attempt's, read from its timeline newest first, a hundred at a time
    /// (`GET /2/users/:id/tweets`, `tweet.read` and `users.read`; each post read is billed).
    /// X shows every link as a t.co address and a post's media as one more at its end, so the
    /// text is compared with its links as wildcards (see [`same_text`]). A post without text
    /// cannot be recognised: `Unsupported`.
    async fn find(
        &self,
        account: &AccountRef,
        attempt: &FindRequest<'_>,
    ) -> Result<Lookup, PublishError> {
        let Some(token) = attempt.token_to_search()? else {
            return Ok(Lookup::Unsupported);
        };
        let finding = self.config.finding;
        let from = finding.window_start(attempt);
        let start_time = from.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let address = self.url(&format!(
            "/2/users/{}/tweets",
            form_urlencoded::byte_serialize(account.external_id.as_bytes()).collect::<String>()
        ));
        let http = &self.http;
        let address = &address;
        let start_time = start_time.as_str();
        let (found, complete) = finding
            .scan(None, |next: Option<String>| async move {
                let mut query = vec![
                    ("max_results", "100"),
                    ("start_time", start_time),
                    ("tweet.fields", "created_at,text,entities"),
                    ("exclude", "retweets,replies"),
                ];
                if let Some(page) = &next {
                    query.push(("pagination_token", page.as_str()));
                }
                let res = http
                    .get(with_query(address, &query))
                    .bearer_auth(token.expose_secret())
                    .send()
                    .await
                    .map_err(|e| lookup_failed(without_url(&e)))?;
                if !res.status().is_success() {
                    return Err(lookup_refusal(res).await);
                }
                let page: Timeline = res.json().await.map_err(|e| {
                    lookup_failed(format!("X's answer could not be read: {}", without_url(&e)))
                })?;
                let posts = page
                    .data
                    .into_iter()
                    .map(|post| {
                        let at = post
                            .created_at
                            .as_deref()
                            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                            .map(|t| t.with_timezone(&Utc));
                        Listed {
                            older: at.is_some_and(|at| at < from),
                            same: same_text(attempt.text, &post),
                            // X's ids grow with time: they order posts made in one second.
                            key: (at, post.id.len(), post.id.clone()),
                            post: post.id,
                        }
                    })
                    .collect();
                let then = page
                    .meta
                    .next_token
                    .map_or(Then::End, |t| Then::Read(Some(t)));
                Ok((posts, then))
            })
            .await?;
        let found = found.map(|id| Published {
            permalink: Some(permalink(&self.config.web_base, account, &id)),
            platform_post_id: id,
        });
        finding.conclude("X", attempt, found, complete)
    }
}

/// One page of a user's timeline: `{data:[…], meta:{result_count, next_token?}}` (no `data`
/// when the page is empty).
#[derive(Deserialize)]
struct Timeline {
    #[serde(default)]
    data: Vec<TimelinePost>,
    #[serde(default)]
    meta: TimelineMeta,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TimelineMeta {
    next_token: Option<String>,
}

#[derive(Deserialize)]
struct TimelinePost {
    id: String,
    text: String,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    entities: Option<Entities>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Entities {
    urls: Vec<UrlEntity>,
}

/// A link X found in a post: its t.co `url`, where it leads, and `media_key` when it is the
/// link to the post's own photos or video.
#[derive(Deserialize, Default)]
#[serde(default)]
struct UrlEntity {
    url: String,
    expanded_url: Option<String>,
    media_key: Option<String>,
}

impl UrlEntity {
    fn is_media(&self) -> bool {
        self.media_key.is_some()
            || self
                .expanded_url
                .as_deref()
                .is_some_and(|u| u.contains("/photo/") || u.contains("/video/"))
    }
}

/// Whether the post X shows is the text that was sent. X shows `&`, `<` and `>` escaped as
/// HTML, every link the sender wrote as a `https://t.co/…` address (X decides what is a link:
/// a bare domain counts), and the link to the post's own media at its end. So the shown text,
/// unescaped and without its media links, must equal the sent one where each t.co address
/// stands for one run of the sent text without spaces; everything else must be identical.
fn same_text(sent: &str, post: &TimelinePost) -> bool {
    let shown = unescape_html(&post.text).replace("\r\n", "\n");
    let mut shown = shown.trim();
    let media: Vec<&str> = post
        .entities
        .iter()
        .flat_map(|e| &e.urls)
        .filter(|u| u.is_media() && !u.url.is_empty())
        .map(|u| u.url.as_str())
        .collect();
    while let Some(rest) = media.iter().find_map(|m| shown.strip_suffix(m)) {
        shown = rest.trim_end();
    }
    let sent = sent.replace("\r\n", "\n");
    fits(sent.trim(), &literals_between_links(shown))
}

/// X's HTML escapes taken out (`&lt;`, `&gt;`, then `&amp;`).
fn unescape_html(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The parts of `shown` around its t.co addresses: one more part than addresses.
fn literals_between_links(shown: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    // Where the current part starts, and where to look for the next address.
    let (mut start, mut from) = (0, 0);
    while let Some(at) = find_tco(&shown[from..]).map(|at| from + at) {
        let prefix = if shown[at..].starts_with("https://") {
            "https://t.co/".len()
        } else {
            "http://t.co/".len()
        };
        let code = shown[at + prefix..]
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(shown.len() - at - prefix);
        from = at + prefix + code;
        if code > 0 {
            parts.push(&shown[start..at]);
            start = from;
        }
    }
    parts.push(&shown[start..]);
    parts
}

fn find_tco(text: &str) -> Option<usize> {
    let https = text.find("https://t.co/");
    let http = text.find("http://t.co/");
    match (https, http) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Whether `sent` is `literals` joined by one run of characters other than whitespace each.
fn fits(sent: &str, literals: &[&str]) -> bool {
    let Some((first, more)) = literals.split_first() else {
        return sent.is_empty();
    };
    let Some(rest) = sent.strip_prefix(first) else {
        return false;
    };
    if more.is_empty() {
        return rest.is_empty();
    }
    let run = rest.find(char::is_whitespace).unwrap_or(rest.len());
    rest[..run]
        .char_indices()
        .map(|(at, c)| at + c.len_utf8())
        .any(|end| fits(&rest[end..], more))
}

/// A lookup that got no answer: the post may exist, so the platform is asked again later.
fn lookup_failed(reason: String) -> PublishError {
    PublishError::Transient {
        reason,
        maybe_published: true,
    }
}

/// X's refusal of a lookup: an expired token and a rate limit as for publishing; anything
/// else leaves the question open.
async fn lookup_refusal(res: reqwest::Response) -> PublishError {
    let status = res.status();
    match status.as_u16() {
        401 => PublishError::TokenExpired,
        429 => PublishError::RateLimited {
            retry_after: retry_after(res.headers()),
        },
        _ => {
            let problem: Problem = res.json().await.unwrap_or_default();
            lookup_failed(format!(
                "X answered {status} to the lookup: {}",
                problem.reason()
            ))
        }
    }
}

impl X {
    /// `POST /2/tweets` (a post, or a reply); the new post's id. Once sent, a lost answer may
    /// hide a made post.
    async fn create_tweet(
        &self,
        token: &SecretString,
        body: &serde_json::Value,
    ) -> Result<String, PublishError> {
        let res = self
            .http
            .post(self.url("/2/tweets"))
            .bearer_auth(token.expose_secret())
            .json(body)
            .send()
            .await
            .map_err(|e| send_failed(&e))?;
        if !res.status().is_success() {
            return Err(refusal(res).await);
        }
        let created: TweetCreated = res.json().await.map_err(|e| PublishError::Transient {
            reason: format!("X's answer could not be read: {}", without_url(&e)),
            maybe_published: true,
        })?;
        Ok(created.data.id)
    }
}

/// X's media categories.
fn category(media: &MediaRef) -> &'static str {
    match media.kind {
        MediaKind::Video => "tweet_video",
        MediaKind::Image if media.mime == "image/gif" => "tweet_gif",
        MediaKind::Image => "tweet_image",
    }
}

#[derive(Deserialize)]
struct MediaAnswer {
    data: MediaData,
}

#[derive(Deserialize)]
struct MediaData {
    id: String,
    processing_info: Option<ProcessingInfo>,
}

#[derive(Deserialize)]
struct ProcessingInfo {
    state: String,
    check_after_secs: Option<u64>,
    error: Option<ProcessingError>,
}

#[derive(Deserialize)]
struct ProcessingError {
    message: Option<String>,
}

impl X {
    /// Uploads one file in segments (initialize, append…, finalize) and waits for X to process
    /// it; the media id. Nothing is posted yet, so every failure here is safe to retry.
    async fn upload(&self, token: &SecretString, media: &MediaRef) -> Result<String, PublishError> {
        let mut download = Download::open(&self.http, media, "media").await?;
        let init = self
            .call(
                self.http
                    .post(self.url("/2/media/upload/initialize"))
                    .json(&serde_json::json!({
                        "media_type": media.mime,
                        "total_bytes": download.total(),
                        "media_category": category(media),
                    })),
                token,
            )
            .await?;
        let id = read_media(init).await?.id;
        let mut index = 0;
        while let Some(segment) = download.next(self.config.chunk_size.max(1)).await? {
            let (content_type, body) =
                multipart_body(&[("segment_index", &index.to_string())], "media", &segment);
            drop(segment);
            self.call(
                self.http
                    .post(self.url(&format!("/2/media/upload/{id}/append")))
                    .header(reqwest::header::CONTENT_TYPE, content_type)
                    .body(body),
                token,
            )
            .await?;
            index += 1;
        }
        // The whole file arrived, at the length announced, before X is asked to finalize.
        download.finish().await?;
        let finalized = self
            .call(
                self.http
                    .post(self.url(&format!("/2/media/upload/{id}/finalize"))),
                token,
            )
            .await?;
        let mut info = read_media(finalized).await?.processing_info;
        let mut polls = 0;
        while let Some(processing) = info {
            match processing.state.as_str() {
                "succeeded" => break,
                "failed" => {
                    return Err(PublishError::InvalidContent {
                        reason: format!(
                            "X could not process the file: {}",
                            processing
                                .error
                                .and_then(|e| e.message)
                                .unwrap_or_else(|| "no reason given".into())
                        ),
                    });
                }
                _ if polls >= self.config.polling.limit => {
                    return Err(PublishError::Transient {
                        reason: "X was still processing the file".into(),
                        maybe_published: false,
                    });
                }
                _ => {}
            }
            polls += 1;
            let wait = processing
                .check_after_secs
                .map(Duration::from_secs)
                .unwrap_or(self.config.polling.interval)
                .clamp(self.config.polling.interval, Duration::from_secs(60));
            tokio::time::sleep(wait).await;
            let status = self
                .call(
                    self.http.get(self.url(&format!(
                        "/2/media/upload?command=STATUS&media_id={}",
                        form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>()
                    ))),
                    token,
                )
                .await?;
            info = read_media(status).await?.processing_info;
        }
        Ok(id)
    }

    /// Sends a media call; its answer when X accepted it. A failure to connect or to hear back
    /// is passing here: no post exists yet.
    async fn call(
        &self,
        request: reqwest::RequestBuilder,
        token: &SecretString,
    ) -> Result<reqwest::Response, PublishError> {
        let res = request
            .bearer_auth(token.expose_secret())
            .send()
            .await
            .map_err(|e| PublishError::Transient {
                reason: without_url(&e),
                maybe_published: false,
            })?;
        if res.status().is_success() {
            Ok(res)
        } else {
            Err(refusal(res).await)
        }
    }
}

async fn read_media(res: reqwest::Response) -> Result<MediaData, PublishError> {
    let answer: MediaAnswer = res.json().await.map_err(|e| PublishError::Transient {
        reason: format!("X's answer could not be read: {}", without_url(&e)),
        maybe_published: false,
    })?;
    Ok(answer.data)
}

/// X's refusal, in the four kinds.
async fn refusal(res: reqwest::Response) -> PublishError {
    let status = res.status();
    match status.as_u16() {
        401 => PublishError::TokenExpired,
        429 => PublishError::RateLimited {
            retry_after: retry_after(res.headers()),
        },
        400..=499 => {
            let problem: Problem = res.json().await.unwrap_or_default();
            PublishError::InvalidContent {
                reason: problem.reason(),
            }
        }
        // X's 5xx answers come before a post is created; retried with backoff.
        _ => PublishError::Transient {
            reason: format!("X answered {status}"),
            maybe_published: false,
        },
    }
}

fn permalink(web_base: &str, account: &AccountRef, id: &str) -> String {
    format!("{web_base}/{}/status/{id}", account.username)
}

/// X sends `x-rate-limit-reset` (unix seconds), no Retry-After.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Duration {
    let reset = headers
        .get("x-rate-limit-reset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok());
    match reset {
        Some(reset) => {
            let wait = reset - chrono::Utc::now().timestamp();
            Duration::from_secs(u64::try_from(wait.max(1)).unwrap_or(1))
        }
        None => Duration::from_secs(60),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn shown(text: &str, urls: serde_json::Value) -> TimelinePost {
        serde_json::from_value(serde_json::json!({
            "id": "1", "text": text, "entities": {"urls": urls},
        }))
        .unwrap()
    }

    #[test]
    fn each_t_co_address_stands_for_one_link_of_the_sent_text() {
        let sent = "See example.com/a, then (https://example.org/b). Done";
        let post = shown(
            "See https://t.co/aaaa1111, then (https://t.co/bbbb2222). Done",
            serde_json::json!([]),
        );
        assert!(same_text(sent, &post));
        // A word is not a link, and a link is not two words.
        assert!(!same_text(
            "See example.com/a, then (https://example.org/b). Gone",
            &post
        ));
        assert!(!same_text(
            "See it now, then (https://example.org/b). Done",
            &post
        ));
        assert!(!same_text(
            "See example.com/a, then (https://example.org/b).",
            &post
        ));
    }

    #[test]
    fn escapes_line_ends_and_the_media_link_are_not_differences() {
        let post = shown(
            "Tea &amp; cake &lt;3\nat 4 https://t.co/media0001",
            serde_json::json!([{
                "url": "https://t.co/media0001",
                "expanded_url": "https://x.com/acme/status/1/photo/1",
            }]),
        );
        assert!(same_text("Tea & cake <3\r\nat 4 ", &post));
        assert!(!same_text("Tea & cake <3 at 4", &post));
        // Without knowing it is the media's, a trailing address stands for a link sent.
        let plain = shown("Tea at https://t.co/link0001", serde_json::json!([]));
        assert!(!same_text("Tea at", &plain));
        assert!(same_text("Tea at tea.co/menu", &plain));
    }
}

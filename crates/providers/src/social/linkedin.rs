//! LinkedIn member posting: OAuth with OpenID Connect (refresh tokens for approved apps, not
//! rotated), OpenID userinfo, and posts through the versioned `/rest` API with text, images (one
//! or a multi-image post) or one video uploaded in parts.
//!
//! No PKCE: LinkedIn offers it only to native apps whose redirect is a loopback address, once
//! LinkedIn has switched it on for the app; a web server's callback gets the plain code flow.
//! What binds a code to the authorisation that asked for it is the OpenID Connect `nonce`: sent
//! with the authorisation, returned inside the ID token of the code exchange, and checked
//! there (with the token's issuer, audience and expiry), so a code taken from someone else's
//! authorisation is refused in ours.
//!
//! After an attempt whose answer was lost, the member's posts since it started are read
//! (`GET /rest/posts?q=author`) for one with the attempt's commentary. LinkedIn lets an app
//! read a member's posts only with `r_member_social`, a permission it grants to few apps: the
//! adapter asks for it only when told the app has it ([`LinkedInConfig::read_member_posts`]),
//! and without it the platform cannot be asked (the lookup answers `Unsupported`).
//!
//! Every `/rest` call names an API version (`LinkedIn-Version`); LinkedIn retires versions after
//! a year, so the version is a setting and a retired one is reported as such.

use super::oauth::{
    AuthorizePage, Binding, ClientAuth, IdTokenCheck, Param, SANDBOX_CLIENT_ID, TokenEndpoints,
    sandbox_secret, unconfirmed_revocation,
};
use super::{
    AccountRef, Adapter, CommentRequest, ConnectError, Connector, Download, FindRequest, Finding,
    Identity, Listed, Lookup, MediaRef, Polling, PublishError, PublishRequest, Published,
    Publisher, Revoked, Then, TokenGrant, retry_after_header, send_failed, unavailable,
    without_url,
};
use async_trait::async_trait;
use domain::Platform;
use domain::media::MediaKind;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::Duration;

/// Where LinkedIn is and who we are to it.
#[derive(Debug, Clone)]
pub struct LinkedInConfig {
    /// `https://www.linkedin.com`: where the browser is sent to authorise.
    pub authorize_base: String,
    /// `https://www.linkedin.com` (token, revoke).
    pub oauth_base: String,
    /// `https://api.linkedin.com` (userinfo and `/rest`).
    pub api_base: String,
    /// The `iss` of LinkedIn's ID tokens: `https://www.linkedin.com/oauth` (the simulator
    /// issues the same).
    pub issuer: String,
    /// `LinkedIn-Version`, `YYYYMM`.
    pub version: String,
    /// Links to posts: `https://www.linkedin.com`.
    pub web_base: String,
    pub client_id: String,
    pub client_secret: SecretString,
    /// How long to wait for LinkedIn to process an upload.
    pub polling: Polling,
    /// The app may read its members' posts (LinkedIn granted it `r_member_social`): the
    /// permission is asked for when connecting, and a lost publishing answer is looked up.
    pub read_member_posts: bool,
    /// How an attempt's post is looked for among the member's posts.
    pub finding: Finding,
}

impl LinkedInConfig {
    /// LinkedIn itself.
    pub fn production(client_id: String, client_secret: SecretString) -> Self {
        Self {
            authorize_base: "https://www.linkedin.com".into(),
            oauth_base: "https://www.linkedin.com".into(),
            api_base: "https://api.linkedin.com".into(),
            issuer: ISSUER.into(),
            version: "202601".into(),
            web_base: "https://www.linkedin.com".into(),
            client_id,
            client_secret,
            polling: Polling::default(),
            read_member_posts: false,
            finding: Finding::default(),
        }
    }

    /// The simulator at `base` (`http://127.0.0.1:7070`).
    pub fn simulated(base: &str) -> Self {
        Self {
            authorize_base: format!("{base}/linkedin"),
            oauth_base: format!("{base}/linkedin"),
            api_base: format!("{base}/linkedin/api"),
            issuer: ISSUER.into(),
            version: "202601".into(),
            web_base: format!("{base}/linkedin/web"),
            client_id: SANDBOX_CLIENT_ID.into(),
            client_secret: sandbox_secret(),
            polling: Polling::default(),
            // As an app LinkedIn has not approved for it (the simulator grants it to apps
            // that ask, as LinkedIn does to the ones it approved).
            read_member_posts: false,
            finding: Finding::simulated(),
        }
    }
}

/// The issuer LinkedIn's OpenID configuration names.
const ISSUER: &str = "https://www.linkedin.com/oauth";

/// The LinkedIn adapter: `LinkedIn::new(config)`.
pub type LinkedIn = Adapter<LinkedInConfig>;

impl LinkedIn {
    fn oauth_url(&self, path: &str) -> String {
        format!("{}/oauth/v2/{path}", self.config.oauth_base)
    }

    /// A `/rest` request with the version and protocol headers and the bearer token.
    fn rest(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &SecretString,
    ) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}/rest/{path}", self.config.api_base))
            .bearer_auth(token.expose_secret())
            .header("LinkedIn-Version", &self.config.version)
            .header("X-Restli-Protocol-Version", "2.0.0")
    }

    fn token_endpoints(&self) -> TokenEndpoints<'_> {
        TokenEndpoints {
            platform: "LinkedIn",
            http: &self.http,
            token_url: self.oauth_url("accessToken"),
            revoke_url: self.oauth_url("revoke"),
            client: ClientAuth::Form {
                id_field: "client_id",
                id: &self.config.client_id,
                secret: &self.config.client_secret,
            },
            credentials: Some("client id or secret"),
            errors_in_any_answer: false,
            revoked: |status, _| {
                if status.is_success() {
                    Ok(())
                } else {
                    Err(unconfirmed_revocation("LinkedIn", status))
                }
            },
        }
    }
}

#[derive(Deserialize)]
struct UserInfo {
    sub: String,
    #[serde(default)]
    name: String,
    picture: Option<String>,
}

/// LinkedIn's error body: `{status, serviceErrorCode, code, message}`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct ErrorBody {
    code: String,
    message: String,
}

/// A handle from a display name: lowercased, words joined by dashes (userinfo has no vanity
/// name).
fn handle(name: &str, sub: &str) -> String {
    let words: Vec<String> = name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    if words.is_empty() {
        sub.to_owned()
    } else {
        words.join("-")
    }
}

/// Commentary is "little text": these characters are markup unless escaped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '|'
                | '{'
                | '}'
                | '@'
                | '['
                | ']'
                | '('
                | ')'
                | '<'
                | '>'
                | '#'
                | '*'
                | '_'
                | '~'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[async_trait]
impl Connector for LinkedIn {
    fn platform(&self) -> Platform {
        Platform::LinkedIn
    }

    fn publishing_scopes(&self) -> &'static [&'static str] {
        // userinfo needs openid and profile; posting as the member needs w_member_social;
        // reading the member's posts back (after a lost answer) r_member_social.
        if self.config.read_member_posts {
            &["openid", "profile", "w_member_social", "r_member_social"]
        } else {
            &["openid", "profile", "w_member_social"]
        }
    }

    fn authorize_page(&self) -> AuthorizePage<'_> {
        AuthorizePage {
            address: format!("{}/oauth/v2/authorization", self.config.authorize_base),
            app: ("client_id", &self.config.client_id),
            order: [
                Param::ResponseType,
                Param::App,
                Param::RedirectUri,
                Param::State,
                Param::Scope,
            ],
            scope_separator: " ",
            // LinkedIn takes PKCE only from native apps redirecting to a loopback address (see
            // the module's documentation); the nonce does its work here.
            binding: Binding::Nonce,
        }
    }

    /// Without a nonce, an ID token that comes along is still checked for its issuer,
    /// audience and expiry.
    async fn exchange(
        &self,
        code: &str,
        pkce_verifier: Option<&str>,
        redirect_uri: &str,
    ) -> Result<TokenGrant, ConnectError> {
        self.exchange_with_nonce(code, pkce_verifier, None, redirect_uri)
            .await
    }

    /// With a nonce, LinkedIn's answer must carry an ID token with that nonce: a code issued
    /// to another authorisation is refused, and the grant it brought is given back.
    async fn exchange_with_nonce(
        &self,
        code: &str,
        _pkce_verifier: Option<&str>,
        nonce: Option<&str>,
        redirect_uri: &str,
    ) -> Result<TokenGrant, ConnectError> {
        let (grant, id_token) = self
            .token_endpoints()
            .exchange_with_id_token(code, None, redirect_uri)
            .await?;
        let check = IdTokenCheck {
            platform: "LinkedIn",
            issuer: &self.config.issuer,
            audience: &self.config.client_id,
            nonce,
        };
        let checked = match (&id_token, nonce) {
            (Some(id_token), _) => check.subject(id_token, chrono::Utc::now().timestamp()),
            (None, Some(_)) => Err(ConnectError::Refused(
                "LinkedIn's answer had no ID token to prove which authorisation it belongs to"
                    .into(),
            )),
            (None, None) => return Ok(grant),
        };
        match checked {
            Ok(_) => Ok(grant),
            Err(refused) => {
                // Never used, never stored: revoke it rather than leave it live.
                let _ = self.token_endpoints().revoke(&[&grant.access]).await;
                Err(refused)
            }
        }
    }

    async fn identity(&self, access: &SecretString) -> Result<Identity, ConnectError> {
        let res = self
            .http
            .get(format!("{}/v2/userinfo", self.config.api_base))
            .bearer_auth(access.expose_secret())
            .send()
            .await
            .map_err(unavailable)?;
        let status = res.status();
        if status.is_server_error() || status.as_u16() == 429 {
            return Err(ConnectError::Unavailable(format!(
                "LinkedIn answered {status}"
            )));
        }
        if !status.is_success() {
            let body: ErrorBody = res.json().await.unwrap_or_default();
            return Err(ConnectError::Refused(format!(
                "LinkedIn did not share the profile ({status} {})",
                body.code
            )));
        }
        let me: UserInfo = res.json().await.map_err(unavailable)?;
        Ok(Identity {
            username: handle(&me.name, &me.sub),
            display_name: me.name,
            avatar_url: me.picture,
            followers: None,
            authorized_by: None,
            external_id: me.sub,
        })
    }

    async fn refresh(
        &self,
        _account: &AccountRef,
        _access: &SecretString,
        refresh: Option<&SecretString>,
    ) -> Result<TokenGrant, ConnectError> {
        // LinkedIn answers with the same refresh token and what is left of its year.
        self.token_endpoints()
            .refresh(
                refresh,
                "LinkedIn gave no refresh token (only approved apps get one): reconnect the \
                 account before its token runs out",
            )
            .await
    }

    async fn revoke(
        &self,
        access: &SecretString,
        refresh: Option<&SecretString>,
    ) -> Result<Revoked, ConnectError> {
        let tokens: Vec<&SecretString> = refresh.into_iter().chain([access]).collect();
        self.token_endpoints().revoke(&tokens).await?;
        Ok(Revoked::Confirmed)
    }

    /// A refresh hands back the stored refresh token again: only the new access token goes.
    async fn discard(&self, access: &SecretString, _refresh: Option<&SecretString>) {
        let _ = self.token_endpoints().revoke(&[access]).await;
    }
}

/// A failed `/rest` answer in the four kinds. `maybe_published` only for the post call.
async fn refused(res: reqwest::Response, version: &str) -> PublishError {
    let status = res.status();
    let retry = retry_after_header(res.headers());
    let body: ErrorBody = res.json().await.unwrap_or_default();
    let message = if body.message.is_empty() {
        body.code.clone()
    } else {
        body.message
    };
    match status.as_u16() {
        401 => PublishError::TokenExpired,
        429 => PublishError::RateLimited {
            retry_after: retry.unwrap_or(Duration::from_secs(60)),
        },
        426 => PublishError::InvalidContent {
            reason: format!(
                "LinkedIn no longer serves API version {version} ({message}); set the LinkedIn \
                 API version setting (LinkedIn-Version) to a current month such as 202601"
            ),
        },
        400..=499 => PublishError::InvalidContent {
            reason: format!("LinkedIn refused the post: {message}"),
        },
        _ => PublishError::Transient {
            reason: format!("LinkedIn answered {status}"),
            maybe_published: false,
        },
    }
}

/// Sending failed before the post call: nothing was posted.
fn not_posted(err: &reqwest::Error) -> PublishError {
    PublishError::Transient {
        reason: without_url(err),
        maybe_published: false,
    }
}

#[derive(Deserialize)]
struct Initialized<T> {
    value: T,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ImageUpload {
    upload_url: String,
    image: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VideoUpload {
    video: String,
    upload_instructions: Vec<Instruction>,
    #[serde(default)]
    upload_token: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Instruction {
    upload_url: String,
    first_byte: u64,
    last_byte: u64,
}

impl LinkedIn {
    /// Sends a call: LinkedIn's answer when it accepted the call, else its refusal. `unsent`
    /// says what a failure to hear back means: [`not_posted`] before the post call,
    /// [`send_failed`] from it on.
    async fn accepted(
        &self,
        request: reqwest::RequestBuilder,
        unsent: fn(&reqwest::Error) -> PublishError,
    ) -> Result<reqwest::Response, PublishError> {
        let res = request.send().await.map_err(|e| unsent(&e))?;
        if res.status().is_success() {
            Ok(res)
        } else {
            Err(refused(res, &self.config.version).await)
        }
    }

    /// POSTs `body` to a `/rest` action and reads its `value`.
    async fn action<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        token: &SecretString,
        body: Value,
    ) -> Result<T, PublishError> {
        let res = self
            .accepted(
                self.rest(reqwest::Method::POST, path, token).json(&body),
                not_posted,
            )
            .await?;
        let parsed: Initialized<T> = res.json().await.map_err(|e| PublishError::Transient {
            reason: format!("LinkedIn's answer could not be read: {}", without_url(&e)),
            maybe_published: false,
        })?;
        Ok(parsed.value)
    }

    /// A PUT of upload bytes; the answer's etag.
    async fn put(
        &self,
        url: &str,
        token: Option<&SecretString>,
        bytes: Vec<u8>,
    ) -> Result<Option<String>, PublishError> {
        let mut request = self
            .http
            .put(url)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(bytes);
        if let Some(token) = token {
            request = request.bearer_auth(token.expose_secret());
        }
        let res = self.accepted(request, not_posted).await?;
        Ok(res
            .headers()
            .get(reqwest::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned))
    }

    /// Polls an image or video until LinkedIn has it AVAILABLE.
    async fn until_available(&self, path: &str, token: &SecretString) -> Result<(), PublishError> {
        for poll in 0..self.config.polling.limit {
            if poll > 0 {
                tokio::time::sleep(self.config.polling.interval).await;
            }
            let res = self
                .accepted(self.rest(reqwest::Method::GET, path, token), not_posted)
                .await?;
            let body: Value = res.json().await.map_err(|e| not_posted(&e))?;
            match body["status"].as_str().unwrap_or_default() {
                "AVAILABLE" => return Ok(()),
                "PROCESSING_FAILED" => {
                    return Err(PublishError::InvalidContent {
                        reason: "LinkedIn could not process the media file".into(),
                    });
                }
                _ => {}
            }
        }
        Err(PublishError::Transient {
            reason: "LinkedIn was still processing the media when we stopped waiting".into(),
            maybe_published: false,
        })
    }

    async fn upload_image(
        &self,
        media: &MediaRef,
        owner: &str,
        token: &SecretString,
    ) -> Result<String, PublishError> {
        let upload: ImageUpload = self
            .action(
                "images?action=initializeUpload",
                token,
                json!({"initializeUploadRequest": {"owner": owner}}),
            )
            .await?;
        let bytes = Download::open(&self.http, media, "media")
            .await?
            .into_bytes()
            .await?;
        self.put(&upload.upload_url, Some(token), bytes).await?;
        self.until_available(&format!("images/{}", encode(&upload.image)), token)
            .await?;
        Ok(upload.image)
    }

    async fn upload_video(
        &self,
        media: &MediaRef,
        owner: &str,
        token: &SecretString,
    ) -> Result<String, PublishError> {
        let mut download = Download::open(&self.http, media, "media").await?;
        let upload: VideoUpload = self
            .action(
                "videos?action=initializeUpload",
                token,
                json!({"initializeUploadRequest": {
                    "owner": owner,
                    "fileSizeBytes": download.total(),
                    "uploadCaptions": false,
                    "uploadThumbnail": false,
                }}),
            )
            .await?;
        let mut etags = Vec::with_capacity(upload.upload_instructions.len());
        // The parts are read from the download in order, each just before it goes.
        let mut next_byte = 0;
        for part in &upload.upload_instructions {
            if part.last_byte < part.first_byte || part.last_byte >= download.total() {
                return Err(PublishError::InvalidContent {
                    reason: "LinkedIn asked for a part beyond the end of the video".into(),
                });
            }
            if part.first_byte != next_byte {
                return Err(PublishError::InvalidContent {
                    reason: "LinkedIn asked for the video's parts out of order".into(),
                });
            }
            next_byte = part.last_byte + 1;
            let len = usize::try_from(part.last_byte - part.first_byte + 1).unwrap_or(usize::MAX);
            let chunk = download.next(len).await?.unwrap_or_default();
            let etag = self
                .put(&part.upload_url, None, chunk)
                .await?
                .ok_or_else(|| PublishError::Transient {
                    reason: "LinkedIn's upload answer had no etag".into(),
                    maybe_published: false,
                })?;
            etags.push(etag);
        }
        // The whole file arrived, at the length announced, before LinkedIn is asked to finalize.
        download.finish().await?;
        self.accepted(
            self.rest(reqwest::Method::POST, "videos?action=finalizeUpload", token)
                .json(&json!({"finalizeUploadRequest": {
                    "video": upload.video,
                    "uploadToken": upload.upload_token,
                    "uploadedPartIds": etags,
                }})),
            not_posted,
        )
        .await?;
        self.until_available(&format!("videos/{}", encode(&upload.video)), token)
            .await?;
        Ok(upload.video)
    }

    /// POSTs `body` to a `/rest` path that makes a post or a comment (`what`); its URN, which
    /// LinkedIn names in `x-restli-id`. From here a lost answer may hide what was made.
    async fn create(
        &self,
        path: &str,
        body: &Value,
        token: &SecretString,
        what: &str,
    ) -> Result<String, PublishError> {
        let res = self
            .accepted(
                self.rest(reqwest::Method::POST, path, token).json(body),
                send_failed,
            )
            .await?;
        res.headers()
            .get("x-restli-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| PublishError::Transient {
                reason: format!("LinkedIn accepted the {what} without naming it"),
                maybe_published: true,
            })
    }
}

/// A URN as one path segment.
fn encode(urn: &str) -> String {
    form_urlencoded::byte_serialize(urn.as_bytes()).collect()
}

#[async_trait]
impl Publisher for LinkedIn {
    async fn publish(&self, request: &PublishRequest) -> Result<Published, PublishError> {
        let Some(token) = &request.access_token else {
            return Err(PublishError::TokenExpired);
        };
        let author = format!("urn:li:person:{}", request.account.external_id);
        let images: Vec<&MediaRef> = request
            .media
            .iter()
            .filter(|m| m.kind == MediaKind::Image)
            .collect();
        let videos: Vec<&MediaRef> = request
            .media
            .iter()
            .filter(|m| m.kind == MediaKind::Video)
            .collect();
        let content = match (images.len(), videos.len()) {
            (0, 0) => None,
            (0, 1) => {
                Some(json!({"media": {"id": self.upload_video(videos[0], &author, token).await?}}))
            }
            (1, 0) => {
                Some(json!({"media": {"id": self.upload_image(images[0], &author, token).await?}}))
            }
            (2..=20, 0) => {
                let mut ids = Vec::with_capacity(images.len());
                for image in images {
                    ids.push(json!({"id": self.upload_image(image, &author, token).await?}));
                }
                Some(json!({"multiImage": {"images": ids}}))
            }
            (_, 0) => {
                return Err(PublishError::InvalidContent {
                    reason: "LinkedIn takes at most 20 images in a post".into(),
                });
            }
            (0, _) => {
                return Err(PublishError::InvalidContent {
                    reason: "LinkedIn takes one video per post".into(),
                });
            }
            _ => {
                return Err(PublishError::InvalidContent {
                    reason: "LinkedIn cannot mix images and a video in one post".into(),
                });
            }
        };
        let mut body = json!({
            "author": author,
            "commentary": escape(&request.text),
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": false,
        });
        if let Some(content) = content {
            body["content"] = content;
        }
        let urn = self.create("posts", &body, token, "post").await?;
        Ok(Published {
            permalink: Some(format!("{}/feed/update/{urn}", self.config.web_base)),
            platform_post_id: urn,
        })
    }

    fn takes_comments(&self) -> bool {
        true
    }

    /// `POST /rest/socialActions/{urn}/comments {actor, object, message:{text}}` as the member
    /// (`w_member_social`, whose consent covers comments); the comment's URN comes back in
    /// `x-restli-id`.
    async fn comment(&self, request: &CommentRequest) -> Result<String, PublishError> {
        let Some(token) = &request.access_token else {
            return Err(PublishError::TokenExpired);
        };
        let actor = format!("urn:li:person:{}", request.account.external_id);
        let path = format!("socialActions/{}/comments", encode(&request.post_id));
        let body = json!({
            "actor": actor,
            "object": request.post_id,
            "message": { "text": request.text },
        });
        self.create(&path, &body, token, "comment").await
    }

    /// The earliest of the member's posts since the attempt started (less the clocks' skew)
    /// whose commentary is the attempt's text: `GET /rest/posts?author={urn}&q=author&
    /// sortBy=CREATED`, newest first, a hundred a page. The commentary comes back as "little
    /// text", with its reserved characters escaped as the adapter sent them. A 403 means the
    /// app may not read the member's posts (`r_member_social`): LinkedIn cannot be asked.
    async fn find(
        &self,
        account: &AccountRef,
        attempt: &FindRequest<'_>,
    ) -> Result<Lookup, PublishError> {
        let Some(token) = attempt.token_to_search()? else {
            return Ok(Lookup::Unsupported);
        };
        let finding = self.config.finding;
        let from = finding.window_start(attempt).timestamp_millis();
        let author = encode(&format!("urn:li:person:{}", account.external_id));
        let sent = attempt.text.replace("\r\n", "\n");
        let sent = &sent;
        let author = &author;
        let scanned = finding
            .scan(0, |start: usize| async move {
                let path = format!(
                    "posts?author={author}&q=author&sortBy=CREATED&count={POSTS_PAGE}&start={start}"
                );
                let res = self
                    .rest(reqwest::Method::GET, &path, token)
                    .send()
                    .await
                    .map_err(|e| Some(lookup_failed(without_url(&e))))?;
                // The app may not read the member's posts: no error, LinkedIn cannot be asked.
                if res.status() == reqwest::StatusCode::FORBIDDEN {
                    return Err(None);
                }
                if !res.status().is_success() {
                    return Err(Some(lookup_refused(res, &self.config.version).await));
                }
                let page: PostsPage = res.json().await.map_err(|e| {
                    Some(lookup_failed(format!(
                        "LinkedIn's answer could not be read: {}",
                        without_url(&e)
                    )))
                })?;
                let listed = page.elements.len();
                let next = start + listed;
                // More pages: LinkedIn names the next one, or the total says so; without
                // either, a full page may be followed by more.
                let more = page.paging.links.iter().any(|l| l.rel == "next")
                    || page
                        .paging
                        .total
                        .map_or(listed >= POSTS_PAGE, |total| next < total);
                let then = if listed == 0 || !more {
                    Then::End
                } else {
                    Then::Read(next)
                };
                let posts = page
                    .elements
                    .into_iter()
                    .map(|post| {
                        let commentary = post.commentary.replace("\r\n", "\n");
                        Listed {
                            older: post.created_at < from,
                            same: unescape(&commentary).trim() == sent.trim()
                                || commentary.trim() == sent.trim(),
                            key: post.created_at,
                            post: post.id,
                        }
                    })
                    .collect();
                Ok((posts, then))
            })
            .await;
        let (found, complete) = match scanned {
            Ok(scanned) => scanned,
            Err(None) => return Ok(Lookup::Unsupported),
            Err(Some(failed)) => return Err(failed),
        };
        let found = found.map(|urn| Published {
            permalink: Some(format!("{}/feed/update/{urn}", self.config.web_base)),
            platform_post_id: urn,
        });
        finding.conclude("LinkedIn", attempt, found, complete)
    }
}

/// Posts asked for per page of a lookup (LinkedIn's most).
const POSTS_PAGE: usize = 100;

/// A page of `GET /rest/posts?q=author`: `{elements:[…], paging:{start, count, total?, links}}`.
#[derive(Deserialize)]
struct PostsPage {
    #[serde(default)]
    elements: Vec<ListedPost>,
    #[serde(default)]
    paging: PostsPaging,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PostsPaging {
    total: Option<usize>,
    links: Vec<PagingLink>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PagingLink {
    rel: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListedPost {
    id: String,
    #[serde(default)]
    commentary: String,
    /// Milliseconds since the epoch.
    created_at: i64,
}

/// "Little text" with its backslash escapes taken out.
fn unescape(commentary: &str) -> String {
    let mut text = String::with_capacity(commentary.len());
    let mut chars = commentary.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => text.extend(chars.next()),
            c => text.push(c),
        }
    }
    text
}

/// A lookup that got no answer: the post may exist, so LinkedIn is asked again later.
fn lookup_failed(reason: String) -> PublishError {
    PublishError::Transient {
        reason,
        maybe_published: true,
    }
}

/// LinkedIn's refusal of a lookup: an expired token and a rate limit as for publishing, a
/// retired API version named; anything else leaves the question open.
async fn lookup_refused(res: reqwest::Response, version: &str) -> PublishError {
    let status = res.status();
    match status.as_u16() {
        401 | 426 | 429 => match refused(res, version).await {
            PublishError::InvalidContent { reason } => lookup_failed(reason),
            other => other,
        },
        _ => {
            let body: ErrorBody = res.json().await.unwrap_or_default();
            lookup_failed(format!(
                "LinkedIn answered {status} to the lookup: {}",
                if body.message.is_empty() {
                    body.code
                } else {
                    body.message
                }
            ))
        }
    }
}

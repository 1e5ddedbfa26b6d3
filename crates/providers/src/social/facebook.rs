//! Facebook Pages through the Graph API: the login dialog and code exchange, the long-lived user
//! token, the pages the person manages (each an account with its own page token), and posting
//! text, photos and a video to a page's feed, a reel, or a story.
//!
//! Reels and video stories go through Meta's resumable upload: a session is started on the
//! page's `video_reels` or `video_stories` edge (`upload_phase=start`, answering a `video_id`),
//! the video is handed to `rupload.facebook.com` by its address (`file_url` header, the page
//! token as `Authorization: OAuth`), and the session is finished (`upload_phase=finish`; a reel
//! with `video_state=PUBLISHED` and its description, then polled until published). A photo
//! story is an unpublished photo posted to `photo_stories` by its `photo_id`. A story carries no
//! text.
//!
//! The login dialog gets a PKCE challenge (S256) and the code exchange its verifier, alongside
//! the app secret: Facebook Login accepts `code_challenge` for manually built login flows
//! (documented with its OpenID Connect code flow, which Meta still calls "in testing"), and a
//! code then redeems only with the verifier of the authorisation that asked for it.
//!
//! Facebook has no refresh tokens. A page token obtained from a long-lived user token does not
//! expire, so each page account stores its page token as the access token and the long-lived
//! user token (60 days) in the refresh slot: renewing re-exchanges the user token while it is
//! still valid and asks the page for its token again.
//!
//! After an attempt whose answer was lost, the page's own posts since it started are read
//! (`GET /{page-id}/posts`) for one with the attempt's text.
//!
//! The Graph calls themselves (error bodies, their mapping into the four publishing kinds,
//! rate-limit hints) are shared with the Instagram adapter, in `graph`.

use super::graph::{CallError, Refusing, Stage, call, graph_time};
use super::oauth::{AuthorizePage, Binding, Param, SANDBOX_CLIENT_ID, sandbox_secret};
use super::{
    AccountRef, Adapter, Candidate, CommentRequest, ConnectError, Connector, FindRequest, Finding,
    Identity, Listed, Lookup, MediaRef, Polling, PublishError, PublishRequest, Published,
    Publisher, Revoked, Then, TokenGrant, with_query, without_param,
};
use async_trait::async_trait;
use domain::Platform;
use domain::media::MediaKind;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// Where Facebook is and who we are to it.
#[derive(Debug, Clone)]
pub struct FacebookConfig {
    /// `https://www.facebook.com`: the login dialog is `{authorize_base}/{version}/dialog/oauth`.
    pub authorize_base: String,
    /// `https://graph.facebook.com`.
    pub graph_base: String,
    /// Where reels and video stories are uploaded: `https://rupload.facebook.com`.
    pub rupload_base: String,
    /// The Graph API version, `v25.0`.
    pub version: String,
    /// Links to posts: `https://www.facebook.com`.
    pub web_base: String,
    pub client_id: String,
    pub client_secret: SecretString,
    /// How long to wait for a video to be processed.
    pub polling: Polling,
    /// How an attempt's post is looked for among the page's posts.
    pub finding: Finding,
}

impl FacebookConfig {
    /// Facebook itself.
    pub fn production(client_id: String, client_secret: SecretString) -> Self {
        Self {
            authorize_base: "https://www.facebook.com".into(),
            graph_base: "https://graph.facebook.com".into(),
            rupload_base: "https://rupload.facebook.com".into(),
            version: "v25.0".into(),
            web_base: "https://www.facebook.com".into(),
            client_id,
            client_secret,
            polling: Polling::default(),
            finding: Finding::default(),
        }
    }

    /// The simulator at `base` (`http://127.0.0.1:7070`).
    pub fn simulated(base: &str) -> Self {
        Self {
            authorize_base: format!("{base}/facebook"),
            graph_base: format!("{base}/facebook/graph"),
            rupload_base: format!("{base}/facebook/rupload"),
            version: "v25.0".into(),
            web_base: format!("{base}/facebook/web"),
            client_id: SANDBOX_CLIENT_ID.into(),
            client_secret: sandbox_secret(),
            polling: Polling::default(),
            finding: Finding::simulated(),
        }
    }
}

/// The Facebook adapter: `Facebook::new(config)`.
pub type Facebook = Adapter<FacebookConfig>;

// ---------------------------------------------------------------------------------------------
// Answers.

#[derive(Deserialize)]
struct TokenBody {
    access_token: String,
    expires_in: Option<u64>,
}

#[derive(Deserialize)]
struct Picture {
    data: PictureData,
}

#[derive(Deserialize)]
struct PictureData {
    url: Option<String>,
}

#[derive(Deserialize)]
struct Node {
    id: String,
    name: Option<String>,
    picture: Option<Picture>,
    followers_count: Option<u64>,
}

#[derive(Deserialize)]
struct PageEntry {
    id: String,
    name: String,
    access_token: Option<String>,
    picture: Option<Picture>,
    followers_count: Option<u64>,
}

#[derive(Deserialize)]
struct Paged<T> {
    data: Vec<T>,
    #[serde(default)]
    paging: Option<Paging>,
}

#[derive(Deserialize)]
struct Paging {
    next: Option<String>,
}

#[derive(Deserialize)]
struct Permission {
    permission: String,
    status: String,
}

#[derive(Deserialize)]
struct PageToken {
    access_token: String,
}

#[derive(Deserialize)]
struct Created {
    id: String,
    post_id: Option<String>,
}

/// One of a page's posts, as `/{page-id}/posts` lists it.
#[derive(Deserialize)]
struct PagePost {
    id: String,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    created_time: Option<String>,
    #[serde(default)]
    permalink_url: Option<String>,
}

#[derive(Deserialize)]
struct Success {
    #[serde(default)]
    success: bool,
}

/// A resumable upload session: `{video_id, upload_url}`.
#[derive(Deserialize)]
struct Session {
    video_id: String,
}

/// A story's answer: `{success, post_id}`.
#[derive(Deserialize)]
struct Story {
    #[serde(default)]
    success: bool,
    post_id: Option<String>,
}

#[derive(Deserialize)]
struct VideoNode {
    status: VideoStatus,
}

#[derive(Deserialize)]
struct VideoStatus {
    video_status: String,
    #[serde(default)]
    processing_phase: Option<Phase>,
    /// A reel's publishing, after processing: `not_started`, `in_progress`, `complete`, `error`.
    #[serde(default)]
    publishing_phase: Option<Phase>,
}

#[derive(Deserialize)]
struct Phase {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    errors: Vec<PhaseError>,
}

impl Phase {
    fn reason(self) -> String {
        self.errors
            .into_iter()
            .find_map(|e| e.message)
            .unwrap_or_else(|| "no reason given".into())
    }
}

#[derive(Deserialize)]
struct PhaseError {
    message: Option<String>,
}

fn picture_url(picture: Option<Picture>) -> Option<String> {
    picture.and_then(|p| p.data.url)
}

/// Pages listed beyond this many result pages are not read (a person managing thousands).
const MAX_RESULT_PAGES: usize = 20;

impl Facebook {
    fn graph(&self, path: &str) -> String {
        format!("{}/{}{path}", self.config.graph_base, self.config.version)
    }

    /// A long-lived user token for a still-valid user token.
    async fn long_lived(
        &self,
        user_token: &str,
        refusing: Refusing,
    ) -> Result<TokenBody, ConnectError> {
        call(self.http.get(with_query(
            &self.graph("/oauth/access_token"),
            &[
                ("grant_type", "fb_exchange_token"),
                ("client_id", self.config.client_id.as_str()),
                ("client_secret", self.config.client_secret.expose_secret()),
                ("fb_exchange_token", user_token),
            ],
        )))
        .await
        .map_err(|e| e.connect("Facebook", refusing))
    }

    /// The permissions the person granted (they may untick some in the dialog).
    async fn granted(&self, user_token: &SecretString) -> Result<Vec<String>, ConnectError> {
        let list: Paged<Permission> = call(
            self.http
                .get(self.graph("/me/permissions"))
                .bearer_auth(user_token.expose_secret()),
        )
        .await
        .map_err(|e| e.connect("Facebook", Refusing::AnyClientError))?;
        Ok(list
            .data
            .into_iter()
            .filter(|p| p.status == "granted")
            .map(|p| p.permission)
            .collect())
    }
}

#[async_trait]
impl Connector for Facebook {
    fn platform(&self) -> Platform {
        Platform::Facebook
    }

    fn publishing_scopes(&self) -> &'static [&'static str] {
        // Listing the pages, posting as them, and reading them (Graph asks for
        // pages_read_engagement alongside pages_manage_posts); commenting as them, for a
        // post's first comment.
        &[
            "pages_show_list",
            "pages_manage_posts",
            "pages_read_engagement",
            "pages_manage_engagement",
        ]
    }

    /// The login dialog, with a PKCE challenge (see the module's documentation).
    fn authorize_page(&self) -> AuthorizePage<'_> {
        AuthorizePage {
            address: format!(
                "{}/{}/dialog/oauth",
                self.config.authorize_base, self.config.version
            ),
            app: ("client_id", &self.config.client_id),
            order: [
                Param::App,
                Param::RedirectUri,
                Param::State,
                Param::ResponseType,
                Param::Scope,
            ],
            scope_separator: ",",
            binding: Binding::Pkce,
        }
    }

    /// The code gives a short-lived user token; it is exchanged at once for a long-lived one.
    async fn exchange(
        &self,
        code: &str,
        pkce_verifier: Option<&str>,
        redirect_uri: &str,
    ) -> Result<TokenGrant, ConnectError> {
        let mut query = vec![
            ("client_id", self.config.client_id.as_str()),
            ("client_secret", self.config.client_secret.expose_secret()),
            ("redirect_uri", redirect_uri),
            ("code", code),
        ];
        if let Some(verifier) = pkce_verifier {
            query.push(("code_verifier", verifier));
        }
        let short: TokenBody = call(
            self.http
                .get(with_query(&self.graph("/oauth/access_token"), &query)),
        )
        .await
        .map_err(|e| e.connect("Facebook", Refusing::AnyClientError))?;
        let long = self
            .long_lived(&short.access_token, Refusing::AnyClientError)
            .await?;
        let access = SecretString::from(long.access_token);
        let scopes = self.granted(&access).await?;
        Ok(TokenGrant {
            access,
            refresh: None,
            expires_in: long.expires_in,
            refresh_expires_in: None,
            scopes,
        })
    }

    /// Who a token speaks for: a page (with its followers) or a person.
    async fn identity(&self, access: &SecretString) -> Result<Identity, ConnectError> {
        let ask = |fields: &'static str| {
            call::<Node>(
                self.http
                    .get(with_query(&self.graph("/me"), &[("fields", fields)]))
                    .bearer_auth(access.expose_secret()),
            )
        };
        // followers_count exists on pages only; a user token gets code 100 for it.
        let node = match ask("id,name,picture,followers_count").await {
            Err(e) if e.invalid_parameter() => ask("id,name,picture").await,
            other => other,
        }
        .map_err(|e| e.connect("Facebook", Refusing::AnyClientError))?;
        let name = node.name.unwrap_or_else(|| node.id.clone());
        Ok(Identity {
            external_id: node.id,
            username: name.clone(),
            display_name: name,
            avatar_url: picture_url(node.picture),
            followers: node.followers_count,
            authorized_by: None,
        })
    }

    /// One account per page the person manages, each with its page token; the long-lived user
    /// token is kept as the refresh token to renew the page token later.
    async fn accounts(&self, grant: &TokenGrant) -> Result<Vec<Candidate>, ConnectError> {
        // The person behind the login: every page shares their authorisation.
        let person = self.identity(&grant.access).await?.external_id;
        let mut candidates = Vec::new();
        let mut next = Some(with_query(
            &self.graph("/me/accounts"),
            &[("fields", "id,name,access_token,picture,followers_count")],
        ));
        for _ in 0..MAX_RESULT_PAGES {
            let Some(url) = next.take() else { break };
            let request = self.http.get(url).bearer_auth(grant.access.expose_secret());
            let page: Paged<PageEntry> = call(request)
                .await
                .map_err(|e| e.connect("Facebook", Refusing::AnyClientError))?;
            for entry in page.data {
                // A page without a token is one the person cannot post as.
                let Some(token) = entry.access_token else {
                    continue;
                };
                candidates.push(Candidate {
                    identity: Identity {
                        external_id: entry.id,
                        username: entry.name.clone(),
                        display_name: entry.name,
                        avatar_url: picture_url(entry.picture),
                        followers: entry.followers_count,
                        authorized_by: Some(person.clone()),
                    },
                    grant: TokenGrant {
                        access: SecretString::from(token),
                        refresh: Some(grant.access.clone()),
                        expires_in: None,
                        refresh_expires_in: grant.expires_in,
                        scopes: grant.scopes.clone(),
                    },
                });
            }
            // Only Graph's own next page gets the person's token.
            next = page
                .paging
                .and_then(|p| p.next)
                .filter(|url| url.starts_with(&self.config.graph_base));
        }
        Ok(candidates)
    }

    /// Re-exchanges the stored user token for a new long-lived one and asks the page for its
    /// token again.
    async fn refresh(
        &self,
        account: &AccountRef,
        _access: &SecretString,
        refresh: Option<&SecretString>,
    ) -> Result<TokenGrant, ConnectError> {
        let user = refresh.ok_or_else(|| {
            ConnectError::Refused("no Facebook user token is stored for this page".into())
        })?;
        let long = self
            .long_lived(user.expose_secret(), Refusing::OnlyTokenErrors)
            .await?;
        let page: PageToken = call(
            self.http
                .get(with_query(
                    &self.graph(&format!("/{}", account.external_id)),
                    &[("fields", "access_token")],
                ))
                .bearer_auth(&long.access_token),
        )
        .await
        .map_err(|e| e.connect("Facebook", Refusing::OnlyTokenErrors))?;
        Ok(TokenGrant {
            access: SecretString::from(page.access_token),
            refresh: Some(SecretString::from(long.access_token)),
            expires_in: None,
            refresh_expires_in: long.expires_in,
            // Unchanged by a renewal; empty keeps the stored ones.
            scopes: Vec::new(),
        })
    }

    /// De-authorises the app for the person, which ends every page token of theirs too.
    async fn revoke(
        &self,
        access: &SecretString,
        refresh: Option<&SecretString>,
    ) -> Result<Revoked, ConnectError> {
        let user = refresh.unwrap_or(access);
        let answer: Success = call(
            self.http
                .delete(self.graph("/me/permissions"))
                .bearer_auth(user.expose_secret()),
        )
        .await
        .map_err(|e| e.connect("Facebook", Refusing::AnyClientError))?;
        if answer.success {
            Ok(Revoked::Confirmed)
        } else {
            Err(ConnectError::Refused(
                "Facebook did not confirm removing the app".into(),
            ))
        }
    }

    /// Nothing: revoking removes the whole authorisation, including the tokens that won.
    async fn discard(&self, _access: &SecretString, _refresh: Option<&SecretString>) {}
}

impl Facebook {
    async fn post_json<T: DeserializeOwned>(
        &self,
        path: &str,
        token: &SecretString,
        body: Value,
    ) -> Result<T, CallError> {
        call(
            self.http
                .post(self.graph(path))
                .bearer_auth(token.expose_secret())
                .json(&body),
        )
        .await
    }

    fn published(&self, id: String) -> Published {
        Published {
            permalink: Some(format!("{}/{id}", self.config.web_base)),
            platform_post_id: id,
        }
    }

    async fn post_text(
        &self,
        token: &SecretString,
        page: &str,
        text: &str,
        attached: &[String],
    ) -> Result<Published, PublishError> {
        let mut body = json!({ "message": text, "published": true });
        if !attached.is_empty() {
            body["attached_media"] = attached
                .iter()
                .map(|id| json!({ "media_fbid": id }))
                .collect();
        }
        let created: Created = self
            .post_json(&format!("/{page}/feed"), token, body)
            .await
            .map_err(|e| e.publish("Facebook", Stage::Creating))?;
        Ok(self.published(created.id))
    }

    async fn post_photo(
        &self,
        token: &SecretString,
        page: &str,
        text: &str,
        url: &str,
    ) -> Result<Published, PublishError> {
        let created: Created = self
            .post_json(
                &format!("/{page}/photos"),
                token,
                json!({ "url": url, "caption": text, "published": true }),
            )
            .await
            .map_err(|e| e.publish("Facebook", Stage::Creating))?;
        Ok(self.published(created.post_id.unwrap_or(created.id)))
    }

    /// Uploads each photo unpublished, then posts them together.
    async fn post_photos(
        &self,
        token: &SecretString,
        page: &str,
        text: &str,
        urls: &[&str],
    ) -> Result<Published, PublishError> {
        let mut ids = Vec::with_capacity(urls.len());
        for url in urls {
            let photo: Created = self
                .post_json(
                    &format!("/{page}/photos"),
                    token,
                    json!({ "url": url, "published": false }),
                )
                .await
                .map_err(|e| e.publish("Facebook", Stage::Before))?;
            ids.push(photo.id);
        }
        self.post_text(token, page, text, &ids).await
    }

    /// Posts a video from its URL and waits until Facebook has processed it.
    async fn post_video(
        &self,
        token: &SecretString,
        page: &str,
        text: &str,
        url: &str,
    ) -> Result<Published, PublishError> {
        let video: Created = self
            .post_json(
                &format!("/{page}/videos"),
                token,
                json!({ "file_url": url, "description": text }),
            )
            .await
            .map_err(|e| e.publish("Facebook", Stage::Creating))?;
        self.processed(token, &video.id, false).await?;
        Ok(self.published(video.id))
    }

    /// The status of the video `id`.
    async fn video_status(&self, token: &SecretString, id: &str) -> Result<VideoStatus, CallError> {
        let node: VideoNode = call(
            self.http
                .get(with_query(
                    &self.graph(&format!("/{id}")),
                    &[("fields", "status")],
                ))
                .bearer_auth(token.expose_secret()),
        )
        .await?;
        Ok(node.status)
    }

    /// Waits until Facebook has processed the video `id` and, for a reel (`published`), until
    /// its publishing is complete: a reel is `ready` once processed, and goes out after that.
    async fn processed(
        &self,
        token: &SecretString,
        id: &str,
        published: bool,
    ) -> Result<(), PublishError> {
        let polling = self.config.polling;
        for _ in 0..polling.limit {
            tokio::time::sleep(polling.interval).await;
            let status = self
                .video_status(token, id)
                .await
                .map_err(|e| e.publish("Facebook", Stage::After))?;
            let publishing = status.publishing_phase;
            match status.video_status.as_str() {
                "error" => {
                    let why = status
                        .processing_phase
                        .map(Phase::reason)
                        .unwrap_or_else(|| "no reason given".into());
                    return Err(PublishError::InvalidContent {
                        reason: format!("Facebook could not process the video: {why}"),
                    });
                }
                "ready" if !published => return Ok(()),
                "ready" => match publishing {
                    Some(phase) if phase.status.as_deref() == Some("complete") => return Ok(()),
                    Some(phase) if phase.status.as_deref() == Some("error") => {
                        return Err(PublishError::InvalidContent {
                            reason: format!(
                                "Facebook could not publish the reel: {}",
                                phase.reason()
                            ),
                        });
                    }
                    _ => {}
                },
                _ => {}
            }
        }
        Err(PublishError::Transient {
            reason: format!(
                "Facebook was still processing the video after {} checks",
                polling.limit
            ),
            maybe_published: true,
        })
    }

    /// Starts an upload session on the page's `edge` (`video_reels` or `video_stories`) and
    /// hands Facebook the video's address; answers the session's video id. Nothing is
    /// published yet, so a failure here is safe to retry.
    async fn upload_video(
        &self,
        token: &SecretString,
        page: &str,
        edge: &str,
        url: &str,
    ) -> Result<String, PublishError> {
        let session: Session = self
            .post_json(
                &format!("/{page}/{edge}"),
                token,
                json!({ "upload_phase": "start" }),
            )
            .await
            .map_err(|e| e.publish("Facebook", Stage::Before))?;
        // The upload address is ours to build (not the one in the answer), so the page's token
        // goes to Meta's upload host and nowhere else.
        let address = format!(
            "{}/video-upload/{}/{}",
            self.config.rupload_base, self.config.version, session.video_id
        );
        let uploaded: Success = call(
            self.http
                .post(address)
                .header(
                    reqwest::header::AUTHORIZATION,
                    format!("OAuth {}", token.expose_secret()),
                )
                .header("file_url", url),
        )
        .await
        .map_err(|e| e.publish("Facebook", Stage::Before))?;
        if !uploaded.success {
            return Err(PublishError::Transient {
                reason: "Facebook did not confirm receiving the video".into(),
                maybe_published: false,
            });
        }
        Ok(session.video_id)
    }

    /// A reel: uploaded, published with its description, then waited for.
    async fn post_reel(
        &self,
        token: &SecretString,
        page: &str,
        text: &str,
        url: &str,
    ) -> Result<Published, PublishError> {
        let video_id = self.upload_video(token, page, "video_reels", url).await?;
        let edge = format!("/{page}/video_reels");
        let finish = || {
            self.post_json::<Success>(
                &edge,
                token,
                json!({
                    "upload_phase": "finish",
                    "video_id": video_id,
                    "video_state": "PUBLISHED",
                    "description": text,
                }),
            )
        };
        let confirmed = |answer: &Result<Success, CallError>| matches!(answer, Ok(a) if a.success);
        let mut finished = finish().await;
        // Unconfirmed (an error answer, or none): asked once more for the same session, which
        // holds one video, so it is published once however many finishes reach Facebook.
        if !confirmed(&finished) {
            finished = finish().await;
        }
        if !confirmed(&finished) {
            // Still unconfirmed: the reel is waited for when Facebook has begun processing or
            // publishing it; otherwise it is left to the scheduler as possibly published (a
            // new session would be a second reel if the first finish was taken after all).
            let taken = self.video_status(token, &video_id).await.is_ok_and(|s| {
                let begun = |phase: Option<Phase>| {
                    phase
                        .and_then(|p| p.status)
                        .is_some_and(|status| status != "not_started")
                };
                s.video_status != "upload_complete"
                    || begun(s.processing_phase)
                    || begun(s.publishing_phase)
            });
            if !taken {
                return Err(match finished {
                    Err(e) => e.publish("Facebook", Stage::CreatingUnsure),
                    Ok(_) => PublishError::Transient {
                        reason: "Facebook did not confirm publishing the reel".into(),
                        maybe_published: true,
                    },
                });
            }
        }
        self.processed(token, &video_id, true).await?;
        Ok(Published {
            permalink: Some(format!("{}/reel/{video_id}", self.config.web_base)),
            platform_post_id: video_id,
        })
    }

    /// A story from one photo or one video; a story carries no text.
    async fn post_story(
        &self,
        token: &SecretString,
        page: &str,
        media: &MediaRef,
    ) -> Result<Published, PublishError> {
        let (edge, body, video) = match media.kind {
            MediaKind::Image => {
                let photo: Created = self
                    .post_json(
                        &format!("/{page}/photos"),
                        token,
                        json!({ "url": media.url, "published": false }),
                    )
                    .await
                    .map_err(|e| e.publish("Facebook", Stage::Before))?;
                ("photo_stories", json!({ "photo_id": photo.id }), None)
            }
            MediaKind::Video => {
                let video_id = self
                    .upload_video(token, page, "video_stories", &media.url)
                    .await?;
                (
                    "video_stories",
                    json!({ "upload_phase": "finish", "video_id": video_id }),
                    Some(video_id),
                )
            }
        };
        // This call makes the story: an error answer may hide one that was made.
        let story: Story = self
            .post_json(&format!("/{page}/{edge}"), token, body)
            .await
            .map_err(|e| e.publish("Facebook", Stage::CreatingUnsure))?;
        let id = match story.post_id {
            Some(id) if story.success => id,
            _ => {
                return Err(PublishError::Transient {
                    reason: "Facebook did not confirm publishing the story".into(),
                    maybe_published: true,
                });
            }
        };
        // A video story is still processed once it is made.
        if let Some(video_id) = video {
            self.processed(token, &video_id, false).await?;
        }
        Ok(self.published(id))
    }
}

#[async_trait]
impl Publisher for Facebook {
    async fn publish(&self, request: &PublishRequest) -> Result<Published, PublishError> {
        let Some(token) = &request.access_token else {
            return Err(PublishError::TokenExpired);
        };
        let page = request.account.external_id.as_str();
        let text = request.text.as_str();
        match (request.options["format"].as_str(), request.media.as_slice()) {
            (Some("reel"), [one]) if one.kind == MediaKind::Video => {
                return self.post_reel(token, page, text, &one.url).await;
            }
            (Some("reel"), _) => {
                return Err(PublishError::InvalidContent {
                    reason: "A reel on Facebook is one video.".into(),
                });
            }
            (Some("story"), [one]) => return self.post_story(token, page, one).await,
            (Some("story"), _) => {
                return Err(PublishError::InvalidContent {
                    reason: "A story on Facebook is one photo or one video.".into(),
                });
            }
            _ => {}
        }
        let images: Vec<&str> = request
            .media
            .iter()
            .filter(|m| m.kind == MediaKind::Image)
            .map(|m| m.url.as_str())
            .collect();
        let videos: Vec<&str> = request
            .media
            .iter()
            .filter(|m| m.kind == MediaKind::Video)
            .map(|m| m.url.as_str())
            .collect();
        match (images.as_slice(), videos.as_slice()) {
            ([], []) => self.post_text(token, page, text, &[]).await,
            ([one], []) => self.post_photo(token, page, text, one).await,
            (several, []) => self.post_photos(token, page, text, several).await,
            ([], [one]) => self.post_video(token, page, text, one).await,
            ([], _) => Err(PublishError::InvalidContent {
                reason: "Facebook takes one video per post.".into(),
            }),
            _ => Err(PublishError::InvalidContent {
                reason: "Facebook cannot mix photos and a video in one post.".into(),
            }),
        }
    }

    fn takes_comments(&self) -> bool {
        true
    }

    /// `POST /{post-id}/comments {message}` with the page's token (`pages_manage_engagement`).
    async fn comment(&self, request: &CommentRequest) -> Result<String, PublishError> {
        let Some(token) = &request.access_token else {
            return Err(PublishError::TokenExpired);
        };
        let created: Created = self
            .post_json(
                &format!("/{}/comments", request.post_id),
                token,
                json!({ "message": request.text }),
            )
            .await
            .map_err(|e| e.publish("Facebook", Stage::Creating))?;
        Ok(created.id)
    }

    /// The earliest of the page's posts since the attempt started (less the clocks' skew)
    /// whose message is the attempt's text: `GET /{page-id}/posts?fields=id,message,
    /// created_time,permalink_url&since=…` with the page's token (`pages_read_engagement`),
    /// newest first, a hundred a page, `paging.next` followed (without the token Graph writes
    /// into it: the token goes in the header). Stories carry no text and are not listed:
    /// `Unsupported`, as for any attempt without text.
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
        let sent = attempt.text.replace("\r\n", "\n");
        let first = with_query(
            &self.graph(&format!("/{}/posts", account.external_id)),
            &[
                ("fields", "id,message,created_time,permalink_url"),
                ("since", &from.timestamp().to_string()),
                ("limit", "100"),
            ],
        );
        let (http, graph_base, sent) = (&self.http, &self.config.graph_base, &sent);
        let (found, complete) = finding
            .scan(first, |url: String| async move {
                let page: Paged<PagePost> = call(http.get(url).bearer_auth(token.expose_secret()))
                    .await
                    .map_err(|e| e.lookup("Facebook"))?;
                let then = match page.paging.and_then(|p| p.next) {
                    _ if page.data.is_empty() => Then::End,
                    None => Then::End,
                    // Only Graph's own next page gets the page's token.
                    Some(url) if url.starts_with(graph_base.as_str()) => {
                        Then::Read(without_param(&url, "access_token"))
                    }
                    Some(_) => Then::Stop,
                };
                let posts = page
                    .data
                    .into_iter()
                    .map(|post| {
                        let at = post.created_time.as_deref().and_then(graph_time);
                        Listed {
                            older: at.is_some_and(|at| at < from),
                            same: post
                                .message
                                .as_deref()
                                .is_some_and(|m| m.replace("\r\n", "\n").trim() == sent.trim()),
                            key: at,
                            post,
                        }
                    })
                    .collect();
                Ok((posts, then))
            })
            .await?;
        let found = found.map(|post| Published {
            permalink: post
                .permalink_url
                .or_else(|| Some(format!("{}/{}", self.config.web_base, post.id))),
            platform_post_id: post.id,
        });
        finding.conclude("Facebook", attempt, found, complete)
    }
}

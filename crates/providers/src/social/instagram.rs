//! Instagram professional accounts through Instagram Login: the authorize page, the code
//! exchange and the long-lived token (60 days, renewed with `ig_refresh_token`), the profile,
//! and publishing an image, a reel or a carousel.
//!
//! No PKCE: Instagram Login's authorize window and code exchange take no `code_challenge` or
//! `code_verifier` (only client, redirect, scopes and state), and it has no OpenID Connect
//! nonce either. A code is bound to its authorisation only by the state, which our callback
//! accepts from the session that started the flow.
//!
//! Publishing is container-then-publish: Instagram fetches each media URL into a container,
//! processes it, and only `media_publish` makes the post. So a failure before `media_publish`
//! never leaves a post behind, and the scheduler may retry freely.

use super::graph::{CallError, Refusing, Stage, call};
use super::oauth::{AuthorizePage, Binding, Param, SANDBOX_CLIENT_ID, sandbox_secret};
use super::{
    AccountRef, Adapter, Candidate, CommentRequest, ConnectError, Connector, Identity, Polling,
    PublishError, PublishRequest, Published, Publisher, Revoked, TokenGrant, with_query,
};
use async_trait::async_trait;
use domain::Platform;
use domain::media::MediaKind;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Where Instagram is and who we are to it.
#[derive(Debug, Clone)]
pub struct InstagramConfig {
    /// `https://www.instagram.com/oauth/authorize`.
    pub authorize_url: String,
    /// `https://api.instagram.com`: the code exchange.
    pub api_base: String,
    /// `https://graph.instagram.com`: tokens, profile and publishing.
    pub graph_base: String,
    /// The Graph API version, `v25.0`.
    pub version: String,
    pub client_id: String,
    pub client_secret: SecretString,
    /// How long to wait for containers to be processed.
    pub polling: Polling,
}

impl InstagramConfig {
    /// Instagram itself.
    pub fn production(client_id: String, client_secret: SecretString) -> Self {
        Self {
            authorize_url: "https://www.instagram.com/oauth/authorize".into(),
            api_base: "https://api.instagram.com".into(),
            graph_base: "https://graph.instagram.com".into(),
            version: "v25.0".into(),
            client_id,
            client_secret,
            polling: Polling::default(),
        }
    }

    /// The simulator at `base` (`http://127.0.0.1:7070`).
    pub fn simulated(base: &str) -> Self {
        Self {
            authorize_url: format!("{base}/instagram/oauth/authorize"),
            api_base: format!("{base}/instagram/api"),
            graph_base: format!("{base}/instagram/graph"),
            version: "v25.0".into(),
            client_id: SANDBOX_CLIENT_ID.into(),
            client_secret: sandbox_secret(),
            polling: Polling::default(),
        }
    }
}

/// The Instagram adapter: `Instagram::new(config)`.
pub type Instagram = Adapter<InstagramConfig>;

/// A carousel's most items.
const MAX_CAROUSEL: usize = 10;

#[derive(Deserialize)]
struct LongLived {
    access_token: String,
    expires_in: Option<u64>,
}

/// The profile `/me` gives.
#[derive(Deserialize)]
struct Profile {
    /// The professional account's id (the one publishing uses); a number or a string.
    user_id: Option<Value>,
    /// The app-scoped id.
    id: Option<String>,
    username: String,
    name: Option<String>,
    account_type: Option<String>,
    profile_picture_url: Option<String>,
    followers_count: Option<u64>,
}

#[derive(Deserialize)]
struct Created {
    id: String,
}

#[derive(Deserialize)]
struct ContainerStatus {
    status_code: String,
    status: Option<String>,
}

#[derive(Deserialize)]
struct Permalink {
    permalink: Option<String>,
}

/// A JSON id as text, whether Instagram sent a number or a string.
fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl Instagram {
    fn graph(&self, path: &str) -> String {
        format!("{}/{}{path}", self.config.graph_base, self.config.version)
    }

    async fn profile(&self, access: &SecretString) -> Result<Profile, ConnectError> {
        call(
            self.http
                .get(with_query(
                    &self.graph("/me"),
                    &[(
                        "fields",
                        "user_id,username,name,account_type,profile_picture_url,followers_count",
                    )],
                ))
                .bearer_auth(access.expose_secret()),
        )
        .await
        .map_err(|e| e.connect("Instagram", Refusing::AnyClientError))
    }

    async fn graph_get<T: DeserializeOwned>(
        &self,
        token: &SecretString,
        path: &str,
        fields: &str,
    ) -> Result<T, CallError> {
        call(
            self.http
                .get(with_query(&self.graph(path), &[("fields", fields)]))
                .bearer_auth(token.expose_secret()),
        )
        .await
    }

    async fn graph_post<T: DeserializeOwned>(
        &self,
        token: &SecretString,
        path: &str,
        form: &[(&str, &str)],
    ) -> Result<T, CallError> {
        call(
            self.http
                .post(self.graph(path))
                .bearer_auth(token.expose_secret())
                .form(form),
        )
        .await
    }
}

fn identity_of(profile: Profile) -> Identity {
    let external_id = profile
        .user_id
        .as_ref()
        .and_then(id_text)
        .or(profile.id)
        .unwrap_or_default();
    Identity {
        external_id,
        display_name: profile
            .name
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| profile.username.clone()),
        username: profile.username,
        avatar_url: profile.profile_picture_url,
        followers: profile.followers_count,
        authorized_by: None,
    }
}

#[async_trait]
impl Connector for Instagram {
    fn platform(&self) -> Platform {
        Platform::Instagram
    }

    fn publishing_scopes(&self) -> &'static [&'static str] {
        // The account, publishing, and commenting (a post's first comment).
        &[
            "instagram_business_basic",
            "instagram_business_content_publish",
            "instagram_business_manage_comments",
        ]
    }

    fn authorize_page(&self) -> AuthorizePage<'_> {
        AuthorizePage {
            address: self.config.authorize_url.clone(),
            app: ("client_id", &self.config.client_id),
            order: [
                Param::App,
                Param::RedirectUri,
                Param::ResponseType,
                Param::Scope,
                Param::State,
            ],
            scope_separator: ",",
            // Instagram Login documents no PKCE parameters and no nonce (see the module's
            // documentation).
            binding: Binding::StateOnly,
        }
    }

    /// The code gives an hour-long token; it is exchanged at once for a 60-day one.
    async fn exchange(
        &self,
        code: &str,
        _pkce_verifier: Option<&str>,
        redirect_uri: &str,
    ) -> Result<TokenGrant, ConnectError> {
        let answer: Value = call(
            self.http
                .post(format!("{}/oauth/access_token", self.config.api_base))
                .form(&[
                    ("client_id", self.config.client_id.as_str()),
                    ("client_secret", self.config.client_secret.expose_secret()),
                    ("grant_type", "authorization_code"),
                    ("redirect_uri", redirect_uri),
                    ("code", code),
                ]),
        )
        .await
        .map_err(|e| e.connect("Instagram", Refusing::AnyClientError))?;
        // Documented both flat and wrapped in `data[0]`.
        let short = match answer.get("data").and_then(|d| d.get(0)) {
            Some(first) => first.clone(),
            None => answer,
        };
        let Some(short_token) = short["access_token"].as_str() else {
            return Err(ConnectError::Unavailable(
                "Instagram's answer had no access token".into(),
            ));
        };
        let scopes: Vec<String> = match &short["permissions"] {
            Value::String(list) => list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            Value::Array(list) => list
                .iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        let long: LongLived = call(self.http.get(with_query(
            &format!("{}/access_token", self.config.graph_base),
            &[
                ("grant_type", "ig_exchange_token"),
                ("client_secret", self.config.client_secret.expose_secret()),
                ("access_token", short_token),
            ],
        )))
        .await
        .map_err(|e| e.connect("Instagram", Refusing::AnyClientError))?;
        Ok(TokenGrant {
            access: SecretString::from(long.access_token),
            refresh: None,
            expires_in: long.expires_in,
            refresh_expires_in: None,
            scopes,
        })
    }

    async fn identity(&self, access: &SecretString) -> Result<Identity, ConnectError> {
        Ok(identity_of(self.profile(access).await?))
    }

    /// The one account behind the grant, or none for a personal account (it cannot publish:
    /// the person has to switch to a professional account first).
    async fn accounts(&self, grant: &TokenGrant) -> Result<Vec<Candidate>, ConnectError> {
        let profile = self.profile(&grant.access).await?;
        if profile
            .account_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("PERSONAL"))
        {
            return Ok(Vec::new());
        }
        Ok(vec![Candidate {
            identity: identity_of(profile),
            grant: grant.clone(),
        }])
    }

    /// Renews a long-lived token (at least a day old, not yet expired) for 60 more days.
    async fn refresh(
        &self,
        _account: &AccountRef,
        access: &SecretString,
        _refresh: Option<&SecretString>,
    ) -> Result<TokenGrant, ConnectError> {
        let renewed: LongLived = call(self.http.get(with_query(
            &format!("{}/refresh_access_token", self.config.graph_base),
            &[
                ("grant_type", "ig_refresh_token"),
                ("access_token", access.expose_secret()),
            ],
        )))
        .await
        .map_err(|e| e.connect("Instagram", Refusing::OnlyTokenErrors))?;
        Ok(TokenGrant {
            access: SecretString::from(renewed.access_token),
            refresh: None,
            expires_in: renewed.expires_in,
            refresh_expires_in: None,
            // Unchanged by a renewal; empty keeps the stored ones.
            scopes: Vec::new(),
        })
    }

    /// Instagram Login has no revocation endpoint: the person removes the app in Instagram.
    async fn revoke(
        &self,
        _access: &SecretString,
        _refresh: Option<&SecretString>,
    ) -> Result<Revoked, ConnectError> {
        Ok(Revoked::NotOffered)
    }
}

impl Instagram {
    /// Makes a container; nothing is published yet.
    async fn container(
        &self,
        token: &SecretString,
        user: &str,
        form: &[(&str, &str)],
    ) -> Result<String, PublishError> {
        let created: Created = self
            .graph_post(token, &format!("/{user}/media"), form)
            .await
            .map_err(|e| e.publish("Instagram", Stage::Before))?;
        Ok(created.id)
    }

    /// Polls a container until Instagram has processed it.
    async fn finished(&self, token: &SecretString, container: &str) -> Result<(), PublishError> {
        let polling = self.config.polling;
        for _ in 0..polling.limit {
            tokio::time::sleep(polling.interval).await;
            let status: ContainerStatus = self
                .graph_get(token, &format!("/{container}"), "status_code,status")
                .await
                .map_err(|e| e.publish("Instagram", Stage::Before))?;
            match status.status_code.as_str() {
                "FINISHED" => return Ok(()),
                "ERROR" | "EXPIRED" => {
                    let why = status.status.unwrap_or(status.status_code);
                    return Err(PublishError::InvalidContent {
                        reason: format!("Instagram could not process the media: {why}"),
                    });
                }
                _ => {}
            }
        }
        // Nothing is published before media_publish, so a retry is safe.
        Err(PublishError::Transient {
            reason: format!(
                "Instagram was still processing the media after {} checks",
                polling.limit
            ),
            maybe_published: false,
        })
    }

    /// The container of a single image or reel, or of a carousel of 2 to 10 items. A post with
    /// AI-made media carries Instagram's AI info label (`is_ai_generated`) on the container that
    /// is published: the single one, or the carousel's parent only.
    async fn containers(
        &self,
        token: &SecretString,
        user: &str,
        request: &PublishRequest,
    ) -> Result<String, PublishError> {
        let caption = request.text.as_str();
        let ai = request.media.iter().any(|m| m.ai_generated);
        let labelled = |form: &[(&'static str, &str)]| -> Vec<(&'static str, String)> {
            let mut form: Vec<(&'static str, String)> =
                form.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
            if ai {
                form.push(("is_ai_generated", "true".to_owned()));
            }
            form
        };
        match (request.options["format"].as_str(), request.media.as_slice()) {
            // A story: one image or video, shown for a day; it carries no caption.
            (Some("story"), [one]) => {
                let field = match one.kind {
                    MediaKind::Image => "image_url",
                    MediaKind::Video => "video_url",
                };
                let form = labelled(&[("media_type", "STORIES"), (field, &one.url)]);
                let container = self.container(token, user, &pairs(&form)).await?;
                self.finished(token, &container).await?;
                return Ok(container);
            }
            (Some("story"), _) => {
                return Err(PublishError::InvalidContent {
                    reason: "An Instagram story is one image or one video.".into(),
                });
            }
            (Some("reel"), [one]) if one.kind == MediaKind::Video => {}
            (Some("reel"), _) => {
                return Err(PublishError::InvalidContent {
                    reason: "An Instagram reel is one video.".into(),
                });
            }
            _ => {}
        }
        if let [one] = request.media.as_slice() {
            let form = match one.kind {
                MediaKind::Image => labelled(&[("image_url", &one.url), ("caption", caption)]),
                MediaKind::Video => labelled(&[
                    ("media_type", "REELS"),
                    ("video_url", &one.url),
                    ("caption", caption),
                ]),
            };
            let container = self.container(token, user, &pairs(&form)).await?;
            self.finished(token, &container).await?;
            return Ok(container);
        }
        let mut children = Vec::with_capacity(request.media.len());
        for item in &request.media {
            let child = match item.kind {
                MediaKind::Image => {
                    self.container(
                        token,
                        user,
                        &[("is_carousel_item", "true"), ("image_url", &item.url)],
                    )
                    .await?
                }
                MediaKind::Video => {
                    self.container(
                        token,
                        user,
                        &[
                            ("is_carousel_item", "true"),
                            ("media_type", "VIDEO"),
                            ("video_url", &item.url),
                        ],
                    )
                    .await?
                }
            };
            children.push(child);
        }
        for child in &children {
            self.finished(token, child).await?;
        }
        let children = children.join(",");
        let form = labelled(&[
            ("media_type", "CAROUSEL"),
            ("children", &children),
            ("caption", caption),
        ]);
        let parent = self.container(token, user, &pairs(&form)).await?;
        self.finished(token, &parent).await?;
        Ok(parent)
    }
}

/// A form of owned values as the pairs a request takes.
fn pairs<'a>(form: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    form.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[async_trait]
impl Publisher for Instagram {
    async fn publish(&self, request: &PublishRequest) -> Result<Published, PublishError> {
        let Some(token) = &request.access_token else {
            return Err(PublishError::TokenExpired);
        };
        match request.media.len() {
            0 => {
                return Err(PublishError::InvalidContent {
                    reason: "Instagram needs an image or a video.".into(),
                });
            }
            n if n > MAX_CAROUSEL => {
                return Err(PublishError::InvalidContent {
                    reason: format!(
                        "Instagram takes at most {MAX_CAROUSEL} images or videos in one post; \
                         this one has {n}."
                    ),
                });
            }
            _ => {}
        }
        let user = request.account.external_id.as_str();
        let container = self.containers(token, user, request).await?;
        let media: Created = self
            .graph_post(
                token,
                &format!("/{user}/media_publish"),
                &[("creation_id", &container)],
            )
            .await
            .map_err(|e| e.publish("Instagram", Stage::CreatingUnsure))?;
        // The post exists now: a link that cannot be read is left out rather than failing it.
        let permalink = self
            .graph_get::<Permalink>(token, &format!("/{}", media.id), "permalink")
            .await
            .ok()
            .and_then(|p| p.permalink);
        Ok(Published {
            platform_post_id: media.id,
            permalink,
        })
    }

    fn takes_comments(&self) -> bool {
        true
    }

    /// `POST /{ig-media-id}/comments` with the message, as the account
    /// (`instagram_business_manage_comments`).
    async fn comment(&self, request: &CommentRequest) -> Result<String, PublishError> {
        let Some(token) = &request.access_token else {
            return Err(PublishError::TokenExpired);
        };
        let created: Created = self
            .graph_post(
                token,
                &format!("/{}/comments", request.post_id),
                &[("message", request.text.as_str())],
            )
            .await
            .map_err(|e| e.publish("Instagram", Stage::Creating))?;
        Ok(created.id)
    }
}

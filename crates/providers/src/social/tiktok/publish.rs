//! Publishing to TikTok: which content a post may carry, the privacy level and interaction
//! switches it is posted with, the video uploaded in chunks (or the photos TikTok pulls from
//! their URLs), and the status polls until TikTok has published it.
//!
//! Every publish asks for the creator's options first: TikTok refuses a privacy level the
//! creator cannot use, and an unaudited app may only post privately.

use super::{ApiFailure, Envelope, MB, TikTok};
use crate::social::{
    Download, MediaRef, PublishError, PublishRequest, Published, Publisher, without_url,
};
use async_trait::async_trait;
use domain::media::MediaKind;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{Value, json};

/// What the post carries, as TikTok posts it.
enum Content<'a> {
    Video(&'a MediaRef),
    Photos(Vec<&'a MediaRef>),
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
                .api_post(
                    "/v2/post/publish/status/fetch/",
                    &json!({"publish_id": publish_id}),
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
        let creator = self
            .creator_info(token)
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
                    .api_post(
                        "/v2/post/publish/video/init/",
                        &json!({
                            "post_info": post_info,
                            "source_info": {
                                "source": "FILE_UPLOAD",
                                "video_size": size,
                                "chunk_size": chunk,
                                "total_chunk_count": count,
                            },
                        }),
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
                let photo_images: Vec<&str> = photos.iter().map(|p| p.url.as_str()).collect();
                let init: Init = self
                    .api_post(
                        "/v2/post/publish/content/init/",
                        &json!({
                            "post_info": post_info,
                            "source_info": {
                                "source": "PULL_FROM_URL",
                                "photo_images": photo_images,
                                "photo_cover_index": 0,
                            },
                            "post_mode": "DIRECT_POST",
                            "media_type": "PHOTO",
                        }),
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

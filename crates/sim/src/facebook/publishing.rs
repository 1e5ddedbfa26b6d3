//! Publishing to a Facebook Page: `/feed` (text, a link, or several photos attached as
//! `attached_media` after being uploaded with `published=false`), `/photos` (one photo, fetched
//! from its `url`), `/videos` (`file_url`, processed before it becomes a post, moved one step by
//! each status poll), reels and video stories (a resumable upload session started and finished
//! on `video_reels` or `video_stories`, the video handed to the upload host by its `file_url`;
//! a reel is processed like a video), photo stories (an unpublished photo by its `photo_id`),
//! and a page's comment under its own post. Posting needs the page's own token
//! and `pages_manage_posts`, commenting `pages_manage_engagement`; a video's status is read by
//! its page or by the person who manages it.

use super::{Caller, Page, caller, page_of};
use crate::graph::{Answer, GraphError, err, graph_fault, require_scope};
use crate::oauth::{Params, param};
use crate::{Fault, Grant, Op, Post, PostedMedia, Simulator};
use axum::Json;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use domain::Platform;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// Facebook's limit on a post's text.
const MAX_MESSAGE: usize = 63_206;

// ---------------------------------------------------------------------------------------------
// Facebook's publishing records, kept beside the shared state (one store per simulator).

#[derive(Default)]
struct Store {
    /// Photos uploaded with `published=false`, by id.
    photos: HashMap<String, Photo>,
    videos: HashMap<String, Video>,
    /// Upload sessions of reels and video stories, by video id.
    sessions: HashMap<String, Session>,
    /// Reels and stories: id → what it was published as (`reel`, `story`).
    kinds: HashMap<String, &'static str>,
    /// The next finish of an upload session (or photo story) is done, then answered with a
    /// server error, as a call whose answer was lost.
    lose_next_finish: bool,
}

struct Session {
    page_id: String,
    user_id: String,
    /// `video_reels` or `video_stories`.
    edge: &'static str,
    /// The video, once uploaded.
    media: Option<PostedMedia>,
    finished: bool,
}

impl Simulator {
    /// What the Facebook post `id` was published as, when a reel or a story.
    pub fn facebook_kind(&self, id: &str) -> Option<&'static str> {
        lock(&store(self)).kinds.get(id).copied()
    }

    /// Makes the next reel or story finish publish and then answer 500 (the answer lost).
    pub fn facebook_lose_next_finish(&self) {
        lock(&store(self)).lose_next_finish = true;
    }
}

struct Photo {
    page_id: String,
    media: PostedMedia,
    attached: bool,
}

struct Video {
    page_id: String,
    user_id: String,
    description: String,
    media: PostedMedia,
    /// Polls that still answer "processing".
    polls_left: u32,
    progress: Progress,
}

enum Progress {
    Processing,
    Ready,
    Failed(String),
}

/// This simulator's store of this platform (made on first use; dropped with the simulator).
fn store(sim: &Simulator) -> Arc<Mutex<Store>> {
    sim.extension::<Store>()
}

fn lock(store: &Mutex<Store>) -> MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(|p| p.into_inner())
}

/// Whether `id` is a video being processed or done (its status is read at `GET /{id}`).
pub(super) fn is_video(sim: &Simulator, id: &str) -> bool {
    let store = store(sim);
    let store = lock(&store);
    store.videos.contains_key(id) || store.sessions.contains_key(id)
}

/// Fetches a photo (`kind` "image") or a video from its address as Facebook does, with the
/// error Facebook gives for each.
async fn fetch_media(url: &str, kind: &str) -> Result<PostedMedia, GraphError> {
    let (code, problem) = if kind == "image" {
        (324, "(#324) Missing or invalid image file")
    } else {
        (6000, "There was a problem uploading your video file")
    };
    let fetched = crate::media::fetch(url)
        .await
        .map_err(|why| err::<GraphError>(GraphError::new(code, format!("{problem}: {why}."))))?;
    if fetched.kind != kind {
        return Err(err(GraphError::new(
            code,
            format!("{problem}: the url serves {}.", fetched.mime),
        )));
    }
    Ok(fetched.posted())
}

fn text_len(text: &str) -> usize {
    text.chars().count()
}

// ---------------------------------------------------------------------------------------------
// Routes.

/// The page a publishing call goes to, which must be the page of the page token used.
fn publishing_page(
    sim: &Simulator,
    node: &str,
    p: &Params,
    headers: &HeaderMap,
) -> Result<(Grant, Page), GraphError> {
    match caller(sim, p, headers)? {
        Caller::Page { token, page } if page.id == node || node == "me" => {
            require_scope(&token.grant, "pages_manage_posts", 200)?;
            Ok((token.grant, page))
        }
        Caller::Page { .. } => Err(err(GraphError::unknown_object(node))),
        Caller::User { token } => {
            if page_of(&token.grant.username, node).is_some() {
                Err(err(GraphError::new(
                    200,
                    "(#200) Publishing to a page needs that page's access token.",
                )))
            } else {
                Err(err(GraphError::unknown_object(node)))
            }
        }
    }
}

/// A publishing call's start: a fault waiting for `op` answers first; then the page of the page
/// token used, as [`publishing_page`].
async fn page_call(
    sim: &Simulator,
    op: Op,
    node: &str,
    p: &Params,
    headers: &HeaderMap,
) -> Result<(Grant, Page), Response> {
    if let Some(fault) = sim.take_fault(Platform::Facebook, op) {
        return Err(graph_fault(fault, Platform::Facebook, node).await);
    }
    Ok(publishing_page(sim, node, p, headers)?)
}

fn flag(p: &Params, name: &str, default: bool) -> bool {
    match param(p, name) {
        "" => default,
        value => !matches!(value, "false" | "0"),
    }
}

fn check_text(text: &str, name: &str) -> Result<(), GraphError> {
    let length = text_len(text);
    if length > MAX_MESSAGE {
        return Err(err(GraphError::invalid(format!(
            "(#100) The {name} is {length} characters long; Facebook allows {MAX_MESSAGE}."
        ))));
    }
    Ok(())
}

/// The ids of `attached_media`, sent as JSON (`[{"media_fbid":"1"}]`) or as form fields
/// (`attached_media[0]={"media_fbid":"1"}`).
fn attached_media(p: &Params) -> Result<Vec<String>, GraphError> {
    let mut raw: Vec<(usize, String)> = Vec::new();
    if let Some(json) = p.get("attached_media") {
        let list: Vec<Value> = serde_json::from_str(json).map_err(|_| {
            err(GraphError::invalid(
                "(#100) attached_media must be a list of {\"media_fbid\": id}.",
            ))
        })?;
        raw.extend(
            list.into_iter()
                .enumerate()
                .map(|(i, v)| (i, v.to_string())),
        );
    }
    for (name, value) in p {
        if let Some(index) = name
            .strip_prefix("attached_media[")
            .and_then(|rest| rest.strip_suffix(']'))
            .and_then(|i| i.parse::<usize>().ok())
        {
            raw.push((index, value.clone()));
        }
    }
    raw.sort_by_key(|(i, _)| *i);
    raw.into_iter()
        .map(|(_, item)| {
            let value: Value = serde_json::from_str(&item).unwrap_or(Value::Null);
            match &value["media_fbid"] {
                Value::String(id) => Ok(id.clone()),
                Value::Number(id) => Ok(id.to_string()),
                _ => Err(err(GraphError::invalid(
                    "(#100) Each attached_media item needs a media_fbid.",
                ))),
            }
        })
        .collect()
}

/// Marks the unpublished photos `attached` as attached to a post of `page`; their media.
fn attach(sim: &Simulator, page: &Page, attached: &[String]) -> Result<Vec<PostedMedia>, Response> {
    let store = store(sim);
    let mut store = lock(&store);
    for id in attached {
        match store.photos.get(id) {
            Some(photo) if photo.page_id == page.id && !photo.attached => {}
            _ => {
                return Err(err(GraphError::invalid(format!(
                    "(#100) attached_media {id} is not an unpublished photo of this page."
                ))));
            }
        }
    }
    let mut media = Vec::new();
    for id in attached {
        if let Some(photo) = store.photos.get_mut(id) {
            photo.attached = true;
            media.push(photo.media.clone());
        }
    }
    Ok(media)
}

pub(super) async fn feed(sim: &Simulator, node: &str, p: &Params, headers: &HeaderMap) -> Answer {
    let (_, page) = page_call(sim, Op::Publish, node, p, headers).await?;
    let published = flag(p, "published", true);
    if published && let Some(lost) = sim.lost_before_posting(Platform::Facebook) {
        return Err(lost);
    }
    let message = param(p, "message");
    check_text(message, "message")?;
    let link = param(p, "link");
    if !(link.is_empty() || link.starts_with("http://") || link.starts_with("https://")) {
        return Err(err(GraphError::invalid(
            "(#100) The link is not a valid URL.",
        )));
    }
    let attached = attached_media(p)?;
    if message.trim().is_empty() && link.is_empty() && attached.is_empty() {
        return Err(err(GraphError::invalid(
            "(#100) The post is empty: give a message, a link or attached media.",
        )));
    }
    let media = attach(sim, &page, &attached)?;
    let id = format!("{}_{}", page.id, sim.next_id());
    if published {
        sim.state().record_post(Post {
            platform: Platform::Facebook,
            user_id: page.id,
            id: id.clone(),
            text: message.to_owned(),
            media,
        });
        if let Some(lost) = sim.after_publishing(Platform::Facebook).await {
            return Err(lost);
        }
    }
    Ok(Json(json!({ "id": id })).into_response())
}

/// `POST /{post-id}/comments {message}`: a comment by the page under its own post, with the
/// page's token and `pages_manage_engagement`.
pub(super) async fn comment(
    sim: &Simulator,
    node: &str,
    p: &Params,
    headers: &HeaderMap,
) -> Answer {
    if let Some(fault) = sim.take_fault(Platform::Facebook, Op::Comment) {
        return Err(graph_fault(fault, Platform::Facebook, node).await);
    }
    let (token, page) = match caller(sim, p, headers)? {
        Caller::Page { token, page } => (token, page),
        Caller::User { .. } => {
            return Err(err(GraphError::new(
                200,
                "(#200) Commenting as a page needs that page's access token.",
            )));
        }
    };
    require_scope(&token.grant, "pages_manage_engagement", 200)?;
    let message = param(p, "message");
    check_text(message, "message")?;
    if message.trim().is_empty() {
        return Err(err(GraphError::invalid(
            "(#100) A comment needs a message.",
        )));
    }
    match sim.keep_comment(Platform::Facebook, &page.id, node, message) {
        Some(id) => Ok(Json(json!({ "id": format!("{node}_{id}") })).into_response()),
        None => Err(err(GraphError::unknown_object(node))),
    }
}

pub(super) async fn photos(sim: &Simulator, node: &str, p: &Params, headers: &HeaderMap) -> Answer {
    let published = flag(p, "published", true);
    let op = if published { Op::Publish } else { Op::Upload };
    let (_, page) = page_call(sim, op, node, p, headers).await?;
    let caption = param(p, "caption");
    check_text(caption, "caption")?;
    let url = param(p, "url");
    if url.is_empty() {
        return Err(err(GraphError::new(
            324,
            "(#324) Requires upload file: give the photo's url (the simulator takes no \
             multipart source).",
        )));
    }
    let fetched = fetch_media(url, "image").await?;
    let photo_id = sim.next_id();
    if !published {
        lock(&store(sim)).photos.insert(
            photo_id.clone(),
            Photo {
                page_id: page.id,
                media: fetched,
                attached: false,
            },
        );
        return Ok(Json(json!({ "id": photo_id })).into_response());
    }
    let post_id = format!("{}_{}", page.id, sim.next_id());
    sim.state().record_post(Post {
        platform: Platform::Facebook,
        user_id: page.id,
        id: post_id.clone(),
        text: caption.to_owned(),
        media: vec![fetched],
    });
    Ok(Json(json!({ "id": photo_id, "post_id": post_id })).into_response())
}

pub(super) async fn videos(sim: &Simulator, node: &str, p: &Params, headers: &HeaderMap) -> Answer {
    let (grant, page) = page_call(sim, Op::Publish, node, p, headers).await?;
    let description = param(p, "description");
    check_text(description, "description")?;
    let url = param(p, "file_url");
    if url.is_empty() {
        return Err(err(GraphError::invalid(
            "(#100) file_url is required (the simulator takes no chunked uploads).",
        )));
    }
    let fetched = fetch_media(url, "video").await?;
    let id = sim.next_id();
    lock(&store(sim)).videos.insert(
        id.clone(),
        Video {
            page_id: page.id,
            user_id: grant.user_id,
            description: description.to_owned(),
            media: fetched,
            polls_left: 1,
            progress: Progress::Processing,
        },
    );
    Ok(Json(json!({ "id": id })).into_response())
}

/// A video's processing, moved one step by each poll; the post is recorded when it is ready.
pub(super) async fn video_status(
    sim: &Simulator,
    id: &str,
    p: &Params,
    headers: &HeaderMap,
) -> Answer {
    let fault = sim.take_fault(Platform::Facebook, Op::Status);
    let caller = caller(sim, p, headers)?;
    let store = store(sim);
    // A session not yet finished (uploaded or not: nothing published), or a finished story
    // (published at once: ready).
    let session = lock(&store)
        .sessions
        .get(id)
        .filter(|s| !s.finished || s.edge == "video_stories")
        .map(|s| {
            (
                s.page_id.clone(),
                s.user_id.clone(),
                s.media.is_some(),
                s.finished,
            )
        });
    if let Some((page_id, owner, uploaded, finished)) = session {
        let allowed = match &caller {
            Caller::Page { page, .. } => page.id == page_id,
            Caller::User { token } => token.grant.user_id == owner,
        };
        if !allowed {
            return Err(err(GraphError::unknown_object(id)));
        }
        let status = if finished {
            json!({
                "video_status": "ready",
                "uploading_phase": {"status": "complete"},
                "processing_phase": {"status": "complete"},
                "publishing_phase": {"status": "complete"},
            })
        } else {
            json!({
                "video_status": "upload_complete",
                "uploading_phase": {"status": if uploaded { "complete" } else { "in_progress" }},
                "processing_phase": {"status": "not_started"},
                "publishing_phase": {"status": "not_started"},
            })
        };
        return Ok(Json(json!({ "id": id, "status": status })).into_response());
    }
    let (page_id, owner) = {
        let store = lock(&store);
        let video = store
            .videos
            .get(id)
            .ok_or_else(|| GraphError::unknown_object(id))?;
        (video.page_id.clone(), video.user_id.clone())
    };
    let allowed = match &caller {
        Caller::Page { page, .. } => page.id == page_id,
        Caller::User { token } => token.grant.user_id == owner,
    };
    if !allowed {
        return Err(err(GraphError::unknown_object(id)));
    }
    match fault {
        Some(Fault::ProcessingFailed) => {
            if let Some(video) = lock(&store).videos.get_mut(id) {
                video.progress = Progress::Failed(
                    "The video could not be processed (simulated failure).".into(),
                );
            }
        }
        Some(Fault::SlowProcessing(more)) => {
            if let Some(video) = lock(&store).videos.get_mut(id) {
                video.polls_left += more;
            }
        }
        Some(other) => return Err(graph_fault(other, Platform::Facebook, &page_id).await),
        None => {}
    }
    let mut store = lock(&store);
    let Some(video) = store.videos.get_mut(id) else {
        return Err(err(GraphError::unknown_object(id)));
    };
    let mut record = None;
    if matches!(video.progress, Progress::Processing) {
        if video.polls_left > 0 {
            video.polls_left -= 1;
        } else {
            video.progress = Progress::Ready;
            record = Some(Post {
                platform: Platform::Facebook,
                user_id: video.page_id.clone(),
                id: id.to_owned(),
                text: video.description.clone(),
                media: vec![video.media.clone()],
            });
        }
    }
    let status = match &video.progress {
        Progress::Processing => json!({
            "video_status": "processing",
            "processing_progress": 50,
            "uploading_phase": {"status": "complete"},
            "processing_phase": {"status": "in_progress"},
            "publishing_phase": {"status": "not_started"},
        }),
        Progress::Ready => json!({
            "video_status": "ready",
            "processing_progress": 100,
            "uploading_phase": {"status": "complete"},
            "processing_phase": {"status": "complete"},
            "publishing_phase": {"status": "complete"},
        }),
        Progress::Failed(why) => json!({
            "video_status": "error",
            "processing_progress": 0,
            "uploading_phase": {"status": "complete"},
            "processing_phase": {"status": "error", "errors": [{"code": 1_363_008, "message": why}]},
            "publishing_phase": {"status": "not_started"},
        }),
    };
    drop(store);
    if let Some(post) = record {
        sim.state().record_post(post);
    }
    Ok(Json(json!({ "id": id, "status": status })).into_response())
}

// ---------------------------------------------------------------------------------------------
// Reels and stories.

/// `POST /{page}/video_reels` or `/{page}/video_stories`: `upload_phase=start` opens an upload
/// session, `upload_phase=finish` publishes what was uploaded to it.
pub(super) async fn upload_session(
    sim: &Simulator,
    node: &str,
    edge: &'static str,
    p: &Params,
    headers: &HeaderMap,
) -> Answer {
    match param(p, "upload_phase") {
        "start" => start_session(sim, node, edge, p, headers).await,
        "finish" => finish_session(sim, node, edge, p, headers).await,
        _ => Err(err(GraphError::invalid(
            "(#100) upload_phase must be one of start, finish.",
        ))),
    }
}

async fn start_session(
    sim: &Simulator,
    node: &str,
    edge: &'static str,
    p: &Params,
    headers: &HeaderMap,
) -> Answer {
    let (grant, page) = page_call(sim, Op::Upload, node, p, headers).await?;
    let video_id = sim.next_id();
    lock(&store(sim)).sessions.insert(
        video_id.clone(),
        Session {
            page_id: page.id,
            user_id: grant.user_id,
            edge,
            media: None,
            finished: false,
        },
    );
    let upload_url = sim.web_link(
        headers,
        &format!("/facebook/rupload/video-upload/v25.0/{video_id}"),
    );
    Ok(Json(json!({ "video_id": video_id, "upload_url": upload_url })).into_response())
}

/// `POST /video-upload/{version}/{video_id}` on the upload host, with the page's token as
/// `Authorization: OAuth …` and the video's address in the `file_url` header.
pub(super) async fn rupload(sim: &Simulator, video_id: &str, headers: &HeaderMap) -> Answer {
    if let Some(fault) = sim.take_fault(Platform::Facebook, Op::Upload) {
        return Err(graph_fault(fault, Platform::Facebook, video_id).await);
    }
    let token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("OAuth "))
        .unwrap_or_default();
    let params = Params::from([("access_token".to_owned(), token.to_owned())]);
    let page = match caller(sim, &params, &HeaderMap::new())? {
        Caller::Page { page, .. } => page,
        Caller::User { .. } => {
            return Err(err(GraphError::new(
                200,
                "(#200) Uploading to a page needs that page's access token.",
            )));
        }
    };
    let owned = lock(&store(sim))
        .sessions
        .get(video_id)
        .is_some_and(|s| s.page_id == page.id && s.media.is_none());
    if !owned {
        return Err(err(GraphError::invalid(format!(
            "(#100) {video_id} is not an open upload session of this page."
        ))));
    }
    let url = headers
        .get("file_url")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if url.is_empty() {
        return Err(err(GraphError::invalid(
            "(#100) Give the video's address in the file_url header (the simulator takes no \
             uploaded bytes).",
        )));
    }
    let fetched = fetch_media(url, "video").await?;
    if let Some(session) = lock(&store(sim)).sessions.get_mut(video_id) {
        session.media = Some(fetched);
    }
    Ok(Json(json!({ "success": true })).into_response())
}

async fn finish_session(
    sim: &Simulator,
    node: &str,
    edge: &'static str,
    p: &Params,
    headers: &HeaderMap,
) -> Answer {
    let (_, page) = page_call(sim, Op::Publish, node, p, headers).await?;
    let video_id = param(p, "video_id");
    let reel = edge == "video_reels";
    let description = param(p, "description");
    check_text(description, "description")?;
    if reel && param(p, "video_state") != "PUBLISHED" {
        return Err(err(GraphError::invalid(
            "(#100) The simulator publishes reels only: give video_state=PUBLISHED.",
        )));
    }
    let post_id = sim.next_id();
    let store = store(sim);
    let mut store = lock(&store);
    let media = match store.sessions.get_mut(video_id) {
        Some(session) if session.page_id == page.id && session.edge == edge => {
            if session.finished {
                return Err(err(GraphError::invalid(format!(
                    "(#100) The upload session {video_id} was already finished."
                ))));
            }
            let Some(media) = session.media.clone() else {
                return Err(err(GraphError::new(
                    6000,
                    "There was a problem uploading your video file: nothing was uploaded to \
                     this session.",
                )));
            };
            session.finished = true;
            (media, session.user_id.clone())
        }
        _ => {
            return Err(err(GraphError::invalid(format!(
                "(#100) {video_id} is not an upload session of this page's {edge}."
            ))));
        }
    };
    let (media, user_id) = media;
    if reel {
        store.videos.insert(
            video_id.to_owned(),
            Video {
                page_id: page.id,
                user_id,
                description: description.to_owned(),
                media,
                polls_left: 1,
                progress: Progress::Processing,
            },
        );
        store.kinds.insert(video_id.to_owned(), "reel");
        drop(store);
        return answered(sim, Json(json!({ "success": true })).into_response());
    }
    drop(store);
    answered(sim, story(sim, page.id, post_id, media))
}

/// `POST /{page}/photo_stories {photo_id}`: a story of a photo uploaded with `published=false`.
pub(super) async fn photo_story(
    sim: &Simulator,
    node: &str,
    p: &Params,
    headers: &HeaderMap,
) -> Answer {
    let (_, page) = page_call(sim, Op::Publish, node, p, headers).await?;
    let photo_id = param(p, "photo_id");
    let post_id = sim.next_id();
    let store = store(sim);
    let mut store = lock(&store);
    let media = match store.photos.get_mut(photo_id) {
        Some(photo) if photo.page_id == page.id && !photo.attached => {
            photo.attached = true;
            photo.media.clone()
        }
        _ => {
            return Err(err(GraphError::invalid(format!(
                "(#100) photo_id {photo_id} is not an unpublished photo of this page."
            ))));
        }
    };
    drop(store);
    answered(sim, story(sim, page.id, post_id, media))
}

/// Records a story (no text) and gives Facebook's answer, `{success, post_id}`.
fn story(sim: &Simulator, page_id: String, post_id: String, media: PostedMedia) -> Response {
    lock(&store(sim)).kinds.insert(post_id.clone(), "story");
    sim.state().record_post(Post {
        platform: Platform::Facebook,
        user_id: page_id,
        id: post_id.clone(),
        text: String::new(),
        media: vec![media],
    });
    Json(json!({ "success": true, "post_id": post_id })).into_response()
}

/// The answer to a finish that was done, or a server error in its place when the simulator was
/// told to lose it ([`Simulator::facebook_lose_next_finish`]).
fn answered(sim: &Simulator, done: Response) -> Answer {
    if std::mem::take(&mut lock(&store(sim)).lose_next_finish) {
        return Err(err(GraphError::new(
            2,
            "An unexpected error happened. Please retry your request later.",
        )
        .status(axum::http::StatusCode::INTERNAL_SERVER_ERROR)
        .transient()));
    }
    Ok(done)
}

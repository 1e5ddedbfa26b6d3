//! Publishing on TikTok: creator info (what the creator's account allows), video posts (a
//! chunked file upload or a pull from a URL) and photo posts (pulled from URLs), each init
//! counted against the token's per-minute limit and the creator's daily cap, the chunk uploads,
//! and the status polls that turn a finished upload into a post.

use super::{
    DEFAULT_DAILY_CAP, INITS_PER_MINUTE, MB, Progress, Publish, Source, api_error, authorised,
    fault_response, invalid_params, lock, log_id, ok, rate_limited, store,
};
use crate::{Fault, Grant, Op, Post, PostedMedia, Simulator};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State as Shared};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::Platform;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// What a creator may do, by the simulated username.
struct Creator {
    privacy_options: Vec<&'static str>,
    interactions_off: bool,
}

fn creator(grant: &Grant) -> Creator {
    Creator {
        privacy_options: if grant.username.starts_with("unaudited") {
            vec!["SELF_ONLY"]
        } else {
            vec!["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
        },
        interactions_off: grant.username.contains("quiet"),
    }
}

pub(super) async fn creator_info(Shared(sim): Shared<Simulator>, headers: HeaderMap) -> Response {
    let (grant, _) = match authorised(&sim, &headers, "video.publish") {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    let c = creator(&grant);
    ok(json!({
        "creator_avatar_url": format!("https://p16-sign.tiktokcdn.com/sim/{}.jpeg", grant.user_id),
        "creator_username": grant.username,
        "creator_nickname": format!("{} (simulated)", grant.username),
        "privacy_level_options": c.privacy_options,
        "comment_disabled": c.interactions_off,
        "duet_disabled": c.interactions_off,
        "stitch_disabled": c.interactions_off,
        "max_video_post_duration_sec": 600,
    }))
}

/// Who is starting a post, after any injected fault: the creator of a token with
/// `video.publish`, once the init is admitted.
async fn initiator(sim: &Simulator, headers: &HeaderMap) -> Result<Grant, Response> {
    if let Some(fault) = sim.take_fault(Platform::TikTok, Op::Publish) {
        return Err(fault_response(fault).await);
    }
    let (grant, token) = authorised(sim, headers, "video.publish")?;
    admit_init(sim, &token, &grant.user_id)?;
    Ok(grant)
}

/// Drops the times in `calls` that are `window` or more before `now`.
fn forget_older(calls: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while calls
        .front()
        .is_some_and(|t| now.duration_since(*t) >= window)
    {
        calls.pop_front();
    }
}

/// Counts an init against the token's per-minute limit and the creator's daily cap.
fn admit_init(sim: &Simulator, token: &str, user_id: &str) -> Result<(), Response> {
    let store = store(sim);
    let mut store = lock(&store);
    let now = Instant::now();
    let calls = store.inits.entry(token.to_owned()).or_default();
    forget_older(calls, now, Duration::from_secs(60));
    if calls.len() >= INITS_PER_MINUTE {
        let wait = calls
            .front()
            .map(|t| Duration::from_secs(60).saturating_sub(now.duration_since(*t)))
            .unwrap_or(Duration::from_secs(60));
        return Err(rate_limited(wait.max(Duration::from_secs(1))));
    }
    calls.push_back(now);
    let cap = store.daily_cap.unwrap_or(DEFAULT_DAILY_CAP);
    let day = store.accepted.entry(user_id.to_owned()).or_default();
    forget_older(day, now, Duration::from_secs(86_400));
    if day.len() >= cap {
        return Err(api_error(
            StatusCode::FORBIDDEN,
            "spam_risk_too_many_posts",
            "The daily post cap from the API is reached for the current user.",
        ));
    }
    Ok(())
}

/// Checks `post_info` against the creator's options; the privacy level chosen.
fn check_post_info(grant: &Grant, info: &Value, title_limit: usize) -> Result<String, Response> {
    let c = creator(grant);
    let title = info["title"].as_str().unwrap_or_default();
    if title.chars().count() > title_limit {
        return Err(invalid_params(&format!(
            "title is longer than {title_limit} characters"
        )));
    }
    let privacy = info["privacy_level"].as_str().unwrap_or_default();
    if privacy.is_empty() {
        return Err(invalid_params("post_info.privacy_level is required"));
    }
    if !c.privacy_options.contains(&privacy) {
        return Err(api_error(
            StatusCode::BAD_REQUEST,
            "privacy_level_option_mismatch",
            &format!(
                "privacy_level {privacy} is not among the creator's options ({})",
                c.privacy_options.join(", ")
            ),
        ));
    }
    for (switch, label) in [
        ("disable_comment", "comments"),
        ("disable_duet", "duets"),
        ("disable_stitch", "stitches"),
    ] {
        if !info[switch].is_null() && !info[switch].is_boolean() {
            return Err(invalid_params(&format!(
                "post_info.{switch} must be a boolean"
            )));
        }
        if c.interactions_off && info[switch] != Value::Bool(true) {
            return Err(invalid_params(&format!(
                "the creator has turned {label} off: {switch} must be true"
            )));
        }
    }
    if !info["is_aigc"].is_null() && !info["is_aigc"].is_boolean() {
        return Err(invalid_params("post_info.is_aigc must be a boolean"));
    }
    Ok(privacy.to_owned())
}

/// Whether the chunk plan follows TikTok's rules; why not otherwise.
fn check_chunks(video_size: u64, chunk_size: u64, chunks: u64) -> Result<(), String> {
    if video_size == 0 || video_size > 4096 * MB {
        return Err("video_size must be between 1 byte and 4 GB".into());
    }
    if video_size < 5 * MB {
        if chunk_size != video_size || chunks != 1 {
            return Err("a video under 5 MB is uploaded as one chunk of its whole size".into());
        }
        return Ok(());
    }
    if !(5 * MB..=64 * MB).contains(&chunk_size) {
        return Err("chunk_size must be between 5 MB and 64 MB".into());
    }
    let expected = video_size / chunk_size;
    if chunks != expected || chunks == 0 || chunks > 1000 {
        return Err(format!(
            "total_chunk_count must be video_size / chunk_size rounded down ({expected})"
        ));
    }
    let last = video_size - (chunks - 1) * chunk_size;
    if chunks > 1 && last > 128 * MB {
        return Err("the last chunk may be at most 128 MB".into());
    }
    Ok(())
}

pub(super) async fn video_init(
    Shared(sim): Shared<Simulator>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let grant = match initiator(&sim, &headers).await {
        Ok(grant) => grant,
        Err(refused) => return refused,
    };
    let info = &body["post_info"];
    let privacy = match check_post_info(&grant, info, 2200) {
        Ok(privacy) => privacy,
        Err(refused) => return refused,
    };
    let source = &body["source_info"];
    let number = |name: &str| source[name].as_u64().unwrap_or_default();
    let (source, progress, upload_url) = match source["source"].as_str().unwrap_or_default() {
        "FILE_UPLOAD" => {
            let (video_size, chunk_size, chunks) = (
                number("video_size"),
                number("chunk_size"),
                number("total_chunk_count"),
            );
            if let Err(why) = check_chunks(video_size, chunk_size, chunks) {
                return invalid_params(&why);
            }
            (
                Source::Upload {
                    video_size,
                    chunk_size,
                    chunks,
                    received: 0,
                    next_chunk: 0,
                },
                Progress::Uploading,
                true,
            )
        }
        "PULL_FROM_URL" => {
            let url = source["video_url"].as_str().unwrap_or_default();
            if url.is_empty() {
                return invalid_params("source_info.video_url is required");
            }
            match crate::media::fetch(url).await {
                Ok(file) if file.kind == "video" => (
                    Source::Pulled {
                        media: vec![file.posted()],
                    },
                    Progress::Processing(1),
                    false,
                ),
                Ok(_) => (
                    Source::Pulled { media: Vec::new() },
                    Progress::Failed("file_format_check_failed".into()),
                    false,
                ),
                Err(_) => (
                    Source::Pulled { media: Vec::new() },
                    Progress::Failed("video_pull_failed".into()),
                    false,
                ),
            }
        }
        _ => return invalid_params("source_info.source must be FILE_UPLOAD or PULL_FROM_URL"),
    };
    let publish_id = format!("v_pub_file~v2-1.{}", sim.next_id());
    accept(
        &sim,
        &publish_id,
        Publish {
            user_id: grant.user_id.clone(),
            text: info["title"].as_str().unwrap_or_default().to_owned(),
            privacy,
            source,
            progress,
        },
        info.clone(),
    );
    let mut data = json!({"publish_id": publish_id});
    if upload_url {
        data["upload_url"] = json!(format!(
            "http://{}/tiktok/upload/{publish_id}?upload_token={}",
            crate::host(&headers, "127.0.0.1"),
            crate::random_token("")
        ));
    }
    ok(data)
}

fn accept(sim: &Simulator, publish_id: &str, publish: Publish, post_info: Value) {
    let store = store(sim);
    let mut store = lock(&store);
    store
        .accepted
        .entry(publish.user_id.clone())
        .or_default()
        .push_back(Instant::now());
    store.publishes.insert(publish_id.to_owned(), publish);
    store.last_post_info = Some(post_info);
}

pub(super) async fn content_init(
    Shared(sim): Shared<Simulator>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let grant = match initiator(&sim, &headers).await {
        Ok(grant) => grant,
        Err(refused) => return refused,
    };
    if body["media_type"] != "PHOTO" {
        return invalid_params("media_type must be PHOTO");
    }
    if body["post_mode"] != "DIRECT_POST" {
        return invalid_params("only post_mode DIRECT_POST is simulated");
    }
    let info = &body["post_info"];
    // Photo posts have a short title and a long description.
    let privacy = match check_post_info(&grant, info, 90) {
        Ok(privacy) => privacy,
        Err(refused) => return refused,
    };
    let description = info["description"].as_str().unwrap_or_default();
    if description.chars().count() > 4000 {
        return invalid_params("description is longer than 4000 characters");
    }
    let source = &body["source_info"];
    if source["source"] != "PULL_FROM_URL" {
        return invalid_params("photos are only taken with source PULL_FROM_URL");
    }
    let urls: Vec<&str> = source["photo_images"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if urls.is_empty() || urls.len() > 35 {
        return invalid_params("photo_images must hold 1 to 35 URLs");
    }
    let cover = source["photo_cover_index"].as_u64().unwrap_or_default();
    if usize::try_from(cover).map_or(true, |c| c >= urls.len()) {
        return invalid_params("photo_cover_index is outside photo_images");
    }
    let mut media = Vec::new();
    let mut progress = Progress::Processing(1);
    for url in urls {
        match crate::media::fetch(url).await {
            Ok(file) if matches!(file.mime.as_str(), "image/jpeg" | "image/webp") => {
                media.push(file.posted());
            }
            Ok(_) => {
                progress = Progress::Failed("file_format_check_failed".into());
                break;
            }
            Err(_) => {
                progress = Progress::Failed("picture_pull_failed".into());
                break;
            }
        }
    }
    let text = if description.is_empty() {
        info["title"].as_str().unwrap_or_default()
    } else {
        description
    };
    let publish_id = format!("p_pub_url~v2.{}", sim.next_id());
    accept(
        &sim,
        &publish_id,
        Publish {
            user_id: grant.user_id,
            text: text.to_owned(),
            privacy,
            source: Source::Pulled { media },
            progress,
        },
        info.clone(),
    );
    ok(json!({"publish_id": publish_id}))
}

/// `bytes start-end/total`.
fn content_range(headers: &HeaderMap) -> Option<(u64, u64, u64)> {
    let value = headers.get(header::CONTENT_RANGE)?.to_str().ok()?;
    let (range, total) = value.strip_prefix("bytes ")?.split_once('/')?;
    let (start, end) = range.split_once('-')?;
    Some((
        start.trim().parse().ok()?,
        end.trim().parse().ok()?,
        total.trim().parse().ok()?,
    ))
}

pub(super) async fn upload(
    Shared(sim): Shared<Simulator>,
    Path(publish_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(fault) = sim.take_fault(Platform::TikTok, Op::Upload) {
        return fault_response(fault).await;
    }
    let mime = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !matches!(mime, "video/mp4" | "video/quicktime" | "video/webm") {
        return invalid_params("Content-Type must be video/mp4, video/quicktime or video/webm");
    }
    let Some((start, end, total)) = content_range(&headers) else {
        return invalid_params("Content-Range must be bytes start-end/total");
    };
    let store = store(&sim);
    let mut store = lock(&store);
    let Some(publish) = store.publishes.get_mut(&publish_id) else {
        return api_error(StatusCode::NOT_FOUND, "invalid_params", "unknown upload");
    };
    let Source::Upload {
        video_size,
        chunk_size,
        chunks,
        received,
        next_chunk,
    } = &mut publish.source
    else {
        return invalid_params("this publish pulls from a URL");
    };
    if !matches!(publish.progress, Progress::Uploading) {
        return invalid_params("the upload is already complete");
    }
    let length = body.len() as u64;
    let last = *next_chunk + 1 == *chunks;
    let expected = if last {
        *video_size - *received
    } else {
        *chunk_size
    };
    if total != *video_size {
        return invalid_params("the total in Content-Range does not match video_size");
    }
    if start != *received || end < start || end - start + 1 != length {
        return (
            StatusCode::RANGE_NOT_SATISFIABLE,
            Json(json!({"error": {"code": "invalid_params", "message": format!("expected the chunk starting at byte {received}"), "log_id": log_id()}})),
        )
            .into_response();
    }
    if length != expected {
        return invalid_params(&format!(
            "chunk {} must be {expected} bytes, got {length}",
            *next_chunk + 1
        ));
    }
    *received += length;
    *next_chunk += 1;
    if last {
        publish.progress = Progress::Processing(1);
        StatusCode::CREATED.into_response()
    } else {
        StatusCode::PARTIAL_CONTENT.into_response()
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct StatusBody {
    publish_id: String,
}

pub(super) async fn status_fetch(
    Shared(sim): Shared<Simulator>,
    headers: HeaderMap,
    Json(body): Json<StatusBody>,
) -> Response {
    let fault = match sim.take_fault(Platform::TikTok, Op::Status) {
        Some(fault @ (Fault::ProcessingFailed | Fault::SlowProcessing(_))) => Some(fault),
        Some(other) => return fault_response(other).await,
        None => None,
    };
    let (grant, _) = match authorised(&sim, &headers, "video.publish") {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    let store_ref = store(&sim);
    let mut store = lock(&store_ref);
    let Some(publish) = store
        .publishes
        .get_mut(&body.publish_id)
        .filter(|p| p.user_id == grant.user_id)
    else {
        return invalid_params("publish_id not found");
    };
    let pulled = matches!(publish.source, Source::Pulled { .. });
    match fault {
        Some(Fault::ProcessingFailed) => {
            publish.progress = Progress::Failed(
                if pulled {
                    "video_pull_failed"
                } else {
                    "file_format_check_failed"
                }
                .into(),
            );
        }
        Some(Fault::SlowProcessing(n)) => {
            if let Progress::Processing(left) = &mut publish.progress {
                *left += n;
            }
        }
        _ => {}
    }
    let (uploaded, media) = match &publish.source {
        Source::Upload {
            received,
            video_size,
            ..
        } => (
            *received,
            vec![PostedMedia {
                kind: "video".into(),
                bytes: *video_size,
                sha256: None,
            }],
        ),
        Source::Pulled { media } => (media.iter().map(|m| m.bytes).sum(), media.clone()),
    };
    let in_progress = if pulled {
        "PROCESSING_DOWNLOAD"
    } else {
        "PROCESSING_UPLOAD"
    };
    let mut posted = None;
    let answer = match &mut publish.progress {
        Progress::Uploading => json!({"status": "PROCESSING_UPLOAD", "uploaded_bytes": uploaded}),
        Progress::Processing(left) if *left > 0 => {
            *left -= 1;
            json!({"status": in_progress, "uploaded_bytes": uploaded})
        }
        Progress::Processing(_) => {
            let post_id = format!("7{:018}", sim.next_id().parse::<u64>().unwrap_or_default());
            posted = Some(Post {
                platform: Platform::TikTok,
                user_id: publish.user_id.clone(),
                id: post_id.clone(),
                text: publish.text.clone(),
                media,
            });
            publish.progress = Progress::Complete {
                post_id: post_id.clone(),
            };
            completed(&publish.privacy, &post_id, uploaded)
        }
        Progress::Complete { post_id } => completed(&publish.privacy, post_id, uploaded),
        Progress::Failed(reason) => json!({"status": "FAILED", "fail_reason": reason}),
    };
    drop(store);
    if let Some(post) = posted {
        sim.state().record_post(post);
    }
    ok(answer)
}

/// A finished post: its public id, unless only the creator can see it.
fn completed(privacy: &str, post_id: &str, uploaded: u64) -> Value {
    let public: Vec<&str> = if privacy == "SELF_ONLY" {
        Vec::new()
    } else {
        vec![post_id]
    };
    json!({
        "status": "PUBLISH_COMPLETE",
        "publicaly_available_post_id": public,
        "uploaded_bytes": uploaded,
    })
}

//! The figures TikTok gives a creator's app: the counts of up to 20 of the creator's own videos
//! (`POST /v2/video/query/?fields=…` with `{filters:{video_ids}}`, scope `video.list`), and the
//! account's totals among user info's fields (`follower_count`, `following_count`, `likes_count`,
//! `video_count`, scope `user.info.stats`; the route itself is in `auth.rs`).
//!
//! A video that is not the creator's, or that TikTok does not have (never made, deleted), is simply
//! absent from `videos`, as TikTok answers it. The figures are [`crate::metrics`]' (a video's by
//! its age on the simulator's clock, grown as the kind of figure it is; followers by day), and each
//! one answered is noted with [`Simulator::report`] under TikTok's own field name and the video's
//! id or the account's open id. Faults: `Op::Metrics` on the video query, and on a user info call
//! that asks for the stats fields alone (what a metrics read asks; identity asks for more).

use super::{authorised, fault_response, invalid_params, ok, rate_limited_to};
use crate::metrics::{followers_on, post_total, seed};
use crate::oauth::{Params, param};
use crate::{Fault, Op, Post, Simulator};
use axum::Json;
use axum::extract::{Query, State as Shared};
use axum::http::HeaderMap;
use axum::response::Response;
use domain::Platform;
use serde_json::{Map, Value, json};

/// The most videos one query may name.
const MOST_IDS: usize = 20;
/// The Display API's limit: 600 requests a minute per endpoint.
const REQUESTS_PER_MINUTE: &str = "600";
/// The video object's fields an app may ask for.
const VIDEO_FIELDS: [&str; 15] = [
    "id",
    "create_time",
    "cover_image_url",
    "share_url",
    "video_description",
    "duration",
    "height",
    "width",
    "title",
    "embed_html",
    "embed_link",
    "like_count",
    "comment_count",
    "share_count",
    "view_count",
];
/// The video fields that are counts (lifetime totals that grow with the video's age).
const COUNT_FIELDS: [&str; 4] = ["like_count", "comment_count", "share_count", "view_count"];
/// User info's fields that need `user.info.stats`.
pub(super) const STATS_FIELDS: [&str; 4] = [
    "follower_count",
    "following_count",
    "likes_count",
    "video_count",
];

/// An injected fault as a metrics call answers it: a rate limit with the Display API's limit.
pub(super) async fn fault_answer(fault: Fault) -> Response {
    match fault {
        Fault::RateLimited { retry_after } => rate_limited_to(retry_after, REQUESTS_PER_MINUTE),
        other => fault_response(other).await,
    }
}

/// The creator's own TikTok videos the simulator has.
fn own_videos(sim: &Simulator, user_id: &str) -> Vec<Post> {
    sim.posts_by(Platform::TikTok, user_id)
}

/// A video's lifetime count `field` now (by the simulator's clock), grown as
/// [`post_total`] grows the kind of figure it is (views far above likes, likes above comments).
fn video_total(sim: &Simulator, id: &str, field: &str) -> i64 {
    let kind = match field {
        "view_count" => "views",
        "like_count" => "likes",
        "comment_count" => "comments",
        "share_count" => "shares",
        other => other,
    };
    let age = sim.age_of(Platform::TikTok, id).unwrap_or_default();
    post_total(id, kind, age)
}

/// The account's figure `field` (one of [`STATS_FIELDS`]) now, noted as answered. Its likes and
/// videos are those of the videos made before it was connected (a stable number per account)
/// and those of the videos made through the simulator since.
pub(super) fn account_stat(sim: &Simulator, user_id: &str, field: &str) -> i64 {
    let before = |most: u64| i64::try_from(seed(&[user_id, field]) % most).unwrap_or_default();
    let value = match field {
        "follower_count" => followers_on(user_id, sim.now().date_naive()),
        "following_count" => 20 + before(480),
        "likes_count" => {
            let since: i64 = own_videos(sim, user_id)
                .iter()
                .map(|v| video_total(sim, &v.id, "like_count"))
                .sum();
            before(20_000) + since
        }
        "video_count" => {
            before(200) + i64::try_from(own_videos(sim, user_id).len()).unwrap_or_default()
        }
        _ => 0,
    };
    sim.report(Platform::TikTok, user_id, field, value);
    value
}

/// The `fields` asked for, each known; TikTok's `invalid_params` otherwise.
fn asked_fields<'a>(q: &'a Params, known: &[&str]) -> Result<Vec<&'a str>, Response> {
    let fields: Vec<&str> = param(q, "fields")
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .collect();
    if fields.is_empty() {
        return Err(invalid_params("fields is required"));
    }
    if let Some(unknown) = fields.iter().find(|f| !known.contains(f)) {
        return Err(invalid_params(&format!("unknown field {unknown}")));
    }
    Ok(fields)
}

/// One field of a video's object.
fn video_field(sim: &Simulator, video: &Post, field: &str) -> Value {
    match field {
        "id" => json!(video.id),
        "create_time" => json!(
            sim.published_at(Platform::TikTok, &video.id)
                .map(|at| at.timestamp())
                .unwrap_or_default()
        ),
        "title" | "video_description" => json!(video.text),
        "share_url" | "embed_link" => json!(format!(
            "https://www.tiktok.com/@sim/video/{}?is_from_webapp=1",
            video.id
        )),
        "embed_html" => json!(format!(
            "<blockquote class=\"tiktok-embed\" data-video-id=\"{}\"></blockquote>",
            video.id
        )),
        "cover_image_url" => json!(format!(
            "https://p16-sign.tiktokcdn.com/sim/cover/{}.jpeg",
            video.id
        )),
        "duration" => json!(15),
        "height" => json!(1920),
        "width" => json!(1080),
        count if COUNT_FIELDS.contains(&count) => {
            let n = video_total(sim, &video.id, count);
            sim.report(Platform::TikTok, &video.id, count, n);
            json!(n)
        }
        _ => Value::Null,
    }
}

/// `POST /v2/video/query/?fields=…` with `{filters:{video_ids:[…]}}`: the creator's own videos
/// among those named, with the fields asked for; the others left out.
pub(super) async fn video_query(
    Shared(sim): Shared<Simulator>,
    headers: HeaderMap,
    Query(q): Query<Params>,
    Json(body): Json<Value>,
) -> Response {
    if let Some(fault) = sim.take_fault(Platform::TikTok, Op::Metrics) {
        return fault_answer(fault).await;
    }
    let (grant, _) = match authorised(&sim, &headers, "video.list") {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    let fields = match asked_fields(&q, &VIDEO_FIELDS) {
        Ok(fields) => fields,
        Err(refused) => return refused,
    };
    let Some(named) = body["filters"]["video_ids"].as_array() else {
        return invalid_params("filters.video_ids is required");
    };
    let mut ids: Vec<&str> = Vec::with_capacity(named.len());
    for id in named {
        match id.as_str() {
            Some(id) if !ids.contains(&id) => ids.push(id),
            Some(_) => {}
            None => return invalid_params("filters.video_ids must hold strings"),
        }
    }
    if ids.is_empty() || ids.len() > MOST_IDS {
        return invalid_params(&format!(
            "filters.video_ids must hold 1 to {MOST_IDS} video ids"
        ));
    }
    let videos: Vec<Value> = ids
        .iter()
        .filter_map(|id| sim.post(Platform::TikTok, id))
        .filter(|video| video.user_id == grant.user_id)
        .map(|video| {
            let object: Map<String, Value> = fields
                .iter()
                .map(|f| ((*f).to_owned(), video_field(&sim, &video, f)))
                .collect();
            Value::Object(object)
        })
        .collect();
    ok(json!({"videos": videos}))
}

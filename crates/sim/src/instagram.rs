//! Instagram professional accounts through Instagram Login, under `/instagram`: the authorize
//! page (`www.instagram.com`) as `/instagram/oauth/authorize`, the token host
//! `api.instagram.com` as `/instagram/api`, and `graph.instagram.com` as `/instagram/graph`.
//!
//! A code gives a short-lived token (an hour); `ig_exchange_token` makes it long-lived (60 days);
//! `ig_refresh_token` renews a long-lived token that is at least a day old and unexpired.
//! A simulated username starting with `personal` is a personal account (it cannot publish);
//! others are business accounts.
//!
//! Publishing is container-then-publish: `POST /{ig-user-id}/media` makes a container and fetches
//! its media right away (an unreachable URL is answered at once with a 400, code 9004, subcode
//! 2207052); the first status poll answers `IN_PROGRESS`, the next `FINISHED`; only a finished
//! container can be published with `media_publish`, which records the post. Captions are
//! checked (2,200 characters, 30 hashtags), carousels take 2 to 10 finished items of the same
//! account, and an account may publish 50 times in 24 hours.
//!
//! Faults: `Op::Token` on both token hosts, `Op::Identity` on `/me`, `Op::Upload` on container
//! creation (that is when Instagram fetches the media), `Op::Status` on container status polls,
//! `Op::Publish` on `media_publish` (the call that makes the post), `Op::Metrics` on insights,
//! `Op::Messages` on the direct-message calls.
//!
//! The account's and its media's insights are in `instagram/insights.rs`. The account's
//! followers grow day by day on the simulator's clock ([`crate::metrics::followers_on`]), and
//! the count its node answers is noted as `followers_count`. The comments under media (reading,
//! replying, hiding, deleting) are in `instagram/comments.rs`, the direct messages (the
//! account's conversations and its replies within the 24-hour window) in
//! `instagram/messages.rs`.

mod comments;
mod insights;
mod messages;

use crate::graph::{
    Answer, GraphError, LONG_TTL, check_version, err, fields, graph_fault, graph_params,
    graph_token, long_lived, pick, require_scope, token_answer, token_of,
};
use crate::oauth::{CLIENT_SECRET, Flavor, Params, Pkce, RefreshTokens, param};
use crate::{AccessToken, Fault, Grant, Op, Post, PostedMedia, Simulator};
use axum::body::Bytes;
use axum::extract::{Path, Query, State as Shared};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use chrono::{DateTime, Utc};
use domain::Platform;
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// How Instagram Login runs OAuth.
pub(crate) const FLAVOR: Flavor = Flavor {
    platform: Platform::Instagram,
    name: "Instagram",
    client_param: "client_id",
    scopes: &[
        "instagram_business_basic",
        "instagram_business_content_publish",
        "instagram_business_manage_comments",
        "instagram_business_manage_messages",
        "instagram_business_manage_insights",
    ],
    scope_separator: ',',
    // Instagram Login documents no PKCE parameters.
    pkce: Pkce::Unsupported,
    refresh_tokens: RefreshTokens::Never,
    token_prefix: "ig",
    default_user: "sandbox_ig",
};

const SHORT_TTL: Duration = Duration::from_secs(3600);
const MAX_CAPTION: usize = 2200;
const MAX_HASHTAGS: usize = 30;
const MAX_CAROUSEL: usize = 10;
/// Posts an account may publish through the API in a rolling day.
const DAILY_PUBLISHES: usize = 50;
const PUBLISH_SCOPE: &str = "instagram_business_content_publish";
/// Commenting (the first comment under a post).
const COMMENT_SCOPE: &str = "instagram_business_manage_comments";

pub fn router(sim: Simulator) -> Router {
    Router::new()
        .route("/oauth/authorize", get(authorize_page).post(decide))
        .route("/api/oauth/access_token", post(token))
        .route("/graph/access_token", get(long_lived_token))
        .route("/graph/refresh_access_token", get(refresh_token))
        .route(
            "/graph/{version}/{node}",
            get(node_get)
                .post(comments::node_write)
                .delete(comments::node_write),
        )
        .route(
            "/graph/{version}/{node}/{edge}",
            get(edge_call).post(edge_call),
        )
        .with_state(sim)
}

// ---------------------------------------------------------------------------------------------
// Instagram's own records, kept beside the shared state (one store per simulator).

#[derive(Default)]
struct Store {
    containers: HashMap<String, Container>,
    /// Published media: id → (owner, shortcode).
    media: HashMap<String, (String, String)>,
    /// Who published when, for the daily limit.
    publishes: Vec<(String, DateTime<Utc>)>,
    /// Published media: id → what it was published as (`image`, `reel`, `story`, `carousel`).
    kinds: HashMap<String, &'static str>,
    /// Published media that carry the AI info label (`is_ai_generated`).
    ai_labelled: std::collections::HashSet<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Image,
    Reel,
    Story,
    CarouselItem,
    Carousel,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Image => "image",
            Kind::Reel => "reel",
            Kind::Story => "story",
            Kind::CarouselItem => "carousel item",
            Kind::Carousel => "carousel",
        }
    }
}

impl Simulator {
    /// What the Instagram media `id` was published as: `image`, `reel`, `story` or `carousel`.
    pub fn instagram_kind(&self, id: &str) -> Option<&'static str> {
        lock(&store(self)).kinds.get(id).copied()
    }

    /// Whether the Instagram media `id` was published with the AI info label.
    pub fn instagram_ai_label(&self, id: &str) -> bool {
        lock(&store(self)).ai_labelled.contains(id)
    }
}

struct Container {
    owner: String,
    kind: Kind,
    caption: String,
    media: Vec<PostedMedia>,
    created_at: DateTime<Utc>,
    /// Polls that still answer IN_PROGRESS.
    polls_left: u32,
    progress: Progress,
    /// A carousel item already placed in a carousel.
    used: bool,
    /// Made with `is_ai_generated=true`.
    ai_generated: bool,
}

#[derive(Clone, PartialEq, Eq)]
enum Progress {
    Processing,
    Finished,
    Failed(String),
    Published,
}

/// This simulator's store of this platform (made on first use; dropped with the simulator).
fn store(sim: &Simulator) -> Arc<Mutex<Store>> {
    sim.extension::<Store>()
}

fn lock(store: &Mutex<Store>) -> MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(|p| p.into_inner())
}

impl Container {
    /// The status as a poll sees it (containers expire after a day unless published).
    fn status(&self) -> (&'static str, String) {
        match &self.progress {
            Progress::Published => ("PUBLISHED", "Published: the media is live.".into()),
            _ if Utc::now() - self.created_at > chrono::Duration::hours(24) => (
                "EXPIRED",
                "Expired: the container was not published within 24 hours.".into(),
            ),
            Progress::Processing => (
                "IN_PROGRESS",
                "In progress: the media is still being processed.".into(),
            ),
            Progress::Finished => (
                "FINISHED",
                "Finished: the media is ready to be published.".into(),
            ),
            Progress::Failed(why) => ("ERROR", format!("Error: {why}")),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// OAuth.

async fn authorize_page(Query(p): Query<Params>) -> Response {
    FLAVOR.authorize_page(&p)
}

async fn decide(Shared(sim): Shared<Simulator>, Form(p): Form<Params>) -> Response {
    FLAVOR.decide(&sim, &p)
}

/// `api.instagram.com` answers errors in Instagram's older shape.
fn legacy_error(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error_type": "OAuthException", "code": 400, "error_message": message})),
    )
        .into_response()
}

async fn token(Shared(sim): Shared<Simulator>, Form(p): Form<Params>) -> Response {
    let request = FLAVOR.token_request(&p);
    if let Some(fault) = sim.take_fault(Platform::Instagram, Op::Token) {
        return graph_fault(fault, Platform::Instagram, "token").await;
    }
    if request.grant_type != "authorization_code" {
        return legacy_error("grant_type must be authorization_code");
    }
    if request.client.id.is_empty() {
        return legacy_error("Missing client_id");
    }
    if request.client.secret != CLIENT_SECRET {
        return legacy_error("Error validating client secret.");
    }
    let grant = match FLAVOR.redeem(&sim, &request) {
        Ok(grant) => grant,
        Err(why) => return legacy_error(&format!("Invalid authorization code: {why}")),
    };
    let user_id: u64 = grant.user_id.parse().unwrap_or_default();
    let issued = FLAVOR.issue(&sim, grant, SHORT_TTL);
    Json(json!({
        "access_token": issued.access,
        "user_id": user_id,
        "permissions": issued.scope,
    }))
    .into_response()
}

/// What both `graph.instagram.com` token calls check first: an injected fault, then that the
/// grant type is theirs.
async fn graph_token_call(sim: &Simulator, p: &Params, grant_type: &str) -> Result<(), Response> {
    if let Some(fault) = sim.take_fault(Platform::Instagram, Op::Token) {
        return Err(graph_fault(fault, Platform::Instagram, "token").await);
    }
    if param(p, "grant_type") != grant_type {
        return Err(
            GraphError::invalid(format!("grant_type must be {grant_type}")).into_response(),
        );
    }
    Ok(())
}

/// A short-lived token for a long-lived one, with the app's secret.
async fn long_lived_token(
    Shared(sim): Shared<Simulator>,
    Query(p): Query<Params>,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = graph_token_call(&sim, &p, "ig_exchange_token").await {
        return refused;
    }
    if param(&p, "client_secret") != CLIENT_SECRET {
        return GraphError::new(101, "Error validating client secret.").into_response();
    }
    match graph_token(&sim, Platform::Instagram, token_of(&p, &headers)) {
        Ok(found) => token_answer(&FLAVOR.issue(&sim, found.grant, LONG_TTL)),
        Err(e) => e.into_response(),
    }
}

/// Sixty more days for a long-lived token at least a day old.
async fn refresh_token(
    Shared(sim): Shared<Simulator>,
    Query(p): Query<Params>,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = graph_token_call(&sim, &p, "ig_refresh_token").await {
        return refused;
    }
    let found = match graph_token(&sim, Platform::Instagram, token_of(&p, &headers)) {
        Ok(found) => found,
        Err(e) => return e.into_response(),
    };
    if !long_lived(&found) {
        return GraphError::invalid("Only a long-lived token can be refreshed.").into_response();
    }
    if Utc::now() - found.issued_at < chrono::Duration::hours(24) {
        return GraphError::invalid(
            "The token is too new to refresh: it can be refreshed once it is 24 hours old.",
        )
        .into_response();
    }
    token_answer(&FLAVOR.issue(&sim, found.grant, LONG_TTL))
}

// ---------------------------------------------------------------------------------------------
// Graph routes.

fn personal(grant: &Grant) -> bool {
    grant.username.starts_with("personal")
}

fn authorised(sim: &Simulator, p: &Params, headers: &HeaderMap) -> Result<AccessToken, GraphError> {
    let token = graph_token(sim, Platform::Instagram, token_of(p, headers))?;
    require_scope(&token.grant, "instagram_business_basic", 10)?;
    Ok(token)
}

/// The publishing account: `node` must be the token's own account, a professional one, and
/// the token must carry the publishing permission.
fn publisher(
    sim: &Simulator,
    node: &str,
    p: &Params,
    headers: &HeaderMap,
) -> Result<Grant, GraphError> {
    let token = authorised(sim, p, headers)?;
    if node != token.grant.user_id && node != "me" {
        return Err(err(GraphError::unknown_object(node)));
    }
    require_scope(&token.grant, PUBLISH_SCOPE, 10)?;
    if personal(&token.grant) {
        return Err(err(GraphError::new(
            10,
            "(#10) Personal accounts cannot publish through the API: switch to a professional \
             account.",
        )));
    }
    Ok(token.grant)
}

async fn node_get(
    Shared(sim): Shared<Simulator>,
    Path((version, node)): Path<(String, String)>,
    Query(p): Query<Params>,
    headers: HeaderMap,
) -> Response {
    if let Err(e) = check_version(&version) {
        return e.into_response();
    }
    let (is_container, is_media) = {
        let store = store(&sim);
        let store = lock(&store);
        (
            store.containers.contains_key(&node),
            store.media.contains_key(&node),
        )
    };
    let result = if is_container {
        container_status(&sim, &node, &p, &headers).await
    } else if is_media {
        media(&sim, &node, &p, &headers).map_err(Response::from)
    } else {
        me(&sim, &node, &p, &headers).await
    };
    result.unwrap_or_else(|e| e)
}

async fn edge_call(
    Shared(sim): Shared<Simulator>,
    Path((version, node, edge)): Path<(String, String, String)>,
    Query(query): Query<Params>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(e) = check_version(&version) {
        return e.into_response();
    }
    let p = graph_params(query, &headers, &body);
    let result = match (method.as_str(), edge.as_str()) {
        ("POST", "media") => create_container(&sim, &node, &p, &headers).await,
        ("POST", "media_publish") => publish(&sim, &node, &p, &headers).await,
        ("POST", "comments") => comment(&sim, &node, &p, &headers).await,
        ("GET", "comments") => comments::read(&sim, &version, &node, &p, &headers).await,
        ("POST", "replies") => comments::reply(&sim, &node, &p, &headers).await,
        ("GET", "content_publishing_limit") => {
            publishing_limit(&sim, &node, &p, &headers).map_err(Response::from)
        }
        ("GET", "insights") => insights::read(&sim, &node, &p, &headers).await,
        ("GET", "conversations") => messages::list(&sim, &version, &node, &p, &headers).await,
        ("POST", "messages") => messages::send(&sim, &node, &p, &headers).await,
        _ => Err(err(GraphError::unknown_object(&format!("{node}/{edge}")))),
    };
    result.unwrap_or_else(|e| e)
}

/// `POST /{ig-media-id}/comments?message=`: a comment by the account under its own media,
/// with `instagram_business_manage_comments`.
async fn comment(sim: &Simulator, node: &str, p: &Params, headers: &HeaderMap) -> Answer {
    if let Some(fault) = sim.take_fault(Platform::Instagram, Op::Comment) {
        return Err(graph_fault(fault, Platform::Instagram, node).await);
    }
    let token = authorised(sim, p, headers)?;
    require_scope(&token.grant, COMMENT_SCOPE, 10)?;
    let message = param(p, "message");
    if message.trim().is_empty() {
        return Err(err(GraphError::invalid(
            "(#100) A comment needs a message.",
        )));
    }
    if message.chars().count() > 2200 {
        return Err(err(GraphError::invalid(
            "(#100) A comment is at most 2,200 characters.",
        )));
    }
    match sim.keep_comment(Platform::Instagram, &token.grant.user_id, node, message) {
        Some(id) => Ok(Json(json!({ "id": id })).into_response()),
        None => Err(err(GraphError::unknown_object(node))),
    }
}

async fn me(sim: &Simulator, node: &str, p: &Params, headers: &HeaderMap) -> Answer {
    if let Some(fault) = sim.take_fault(Platform::Instagram, Op::Identity) {
        return Err(graph_fault(fault, Platform::Instagram, node).await);
    }
    let token = authorised(sim, p, headers)?;
    let grant = token.grant;
    if node != "me" && node != grant.user_id {
        return Err(err(GraphError::unknown_object(node)));
    }
    let mut all = serde_json::Map::new();
    // `id` is the app-scoped id; `user_id` is the professional account's id used to publish.
    all.insert(
        "id".into(),
        json!(crate::oauth::user_id(
            Platform::Instagram,
            &format!("app-scoped/{}", grant.username)
        )),
    );
    all.insert("user_id".into(), json!(grant.user_id));
    all.insert("username".into(), json!(grant.username));
    all.insert(
        "name".into(),
        json!(format!("{} (simulated)", grant.username)),
    );
    all.insert(
        "account_type".into(),
        json!(if personal(&grant) {
            "PERSONAL"
        } else {
            "BUSINESS"
        }),
    );
    all.insert(
        "profile_picture_url".into(),
        json!(format!(
            "http://{}/instagram/web/pictures/{}.jpg",
            crate::host(headers, "localhost"),
            grant.user_id
        )),
    );
    let followers = crate::metrics::followers_on(&grant.user_id, sim.now().date_naive()).max(0);
    all.insert("followers_count".into(), json!(followers));
    all.insert("follows_count".into(), json!(120));
    all.insert("media_count".into(), json!(42));
    let asked = fields(p);
    if asked
        .as_ref()
        .is_some_and(|f| f.iter().any(|n| n == "followers_count"))
    {
        sim.report(
            Platform::Instagram,
            &grant.user_id,
            "followers_count",
            followers,
        );
    }
    pick(&all, asked, &["id"], "User")
        .map(|v| Json(v).into_response())
        .map_err(Into::into)
}

/// Counts hashtags: a `#` at the start of a word, followed by a letter, digit or `_`.
fn hashtags(caption: &str) -> usize {
    caption
        .split_whitespace()
        .filter(|word| {
            word.strip_prefix('#')
                .and_then(|rest| rest.chars().next())
                .is_some_and(|c| c.is_alphanumeric() || c == '_')
        })
        .count()
}

fn check_caption(caption: &str) -> Result<(), GraphError> {
    let length = caption.chars().count();
    if length > MAX_CAPTION {
        return Err(err(GraphError::invalid(format!(
            "(#100) The caption is {length} characters long; Instagram allows {MAX_CAPTION}."
        ))
        .subcode(2_207_010)));
    }
    let tags = hashtags(caption);
    if tags > MAX_HASHTAGS {
        return Err(err(GraphError::invalid(format!(
            "(#100) The caption has {tags} hashtags; Instagram allows {MAX_HASHTAGS}."
        ))
        .subcode(2_207_010)));
    }
    Ok(())
}

/// Fetches a container's media as Instagram does when the container is made.
async fn fetch(url: &str, want: &str) -> Result<PostedMedia, GraphError> {
    let fetched = crate::media::fetch(url).await.map_err(|why| {
        err(GraphError::new(
            9004,
            format!("The media could not be fetched from this URI: {why}."),
        )
        .subcode(2_207_052))
    })?;
    if want == "image" && fetched.mime != "image/jpeg" {
        return Err(err(GraphError::new(
            9004,
            format!(
                "Only JPEG images can be published; the URI serves {}.",
                fetched.mime
            ),
        )
        .subcode(2_207_052)));
    }
    if want == "video" && fetched.kind != "video" {
        return Err(err(GraphError::invalid(format!(
            "The video format is not supported; the URI serves {}.",
            fetched.mime
        ))
        .subcode(2_207_026)));
    }
    Ok(fetched.posted())
}

async fn create_container(sim: &Simulator, node: &str, p: &Params, headers: &HeaderMap) -> Answer {
    if let Some(fault) = sim.take_fault(Platform::Instagram, Op::Upload) {
        return Err(graph_fault(fault, Platform::Instagram, node).await);
    }
    let grant = publisher(sim, node, p, headers)?;
    let media_type = param(p, "media_type").to_ascii_uppercase();
    let image_url = param(p, "image_url");
    let video_url = param(p, "video_url");
    let caption = param(p, "caption").to_owned();
    let item = param(p, "is_carousel_item") == "true";
    let ai_generated = match param(p, "is_ai_generated") {
        "" | "false" => false,
        "true" if item => {
            return Err(err(GraphError::invalid(
                "(#100) is_ai_generated is set on the carousel container, not on its items.",
            )));
        }
        "true" => true,
        _ => {
            return Err(err(GraphError::invalid(
                "(#100) is_ai_generated must be true or false.",
            )));
        }
    };
    let (kind, media) = match (media_type.as_str(), item) {
        ("" | "IMAGE", true) if !image_url.is_empty() => {
            (Kind::CarouselItem, vec![fetch(image_url, "image").await?])
        }
        ("VIDEO", true) if !video_url.is_empty() => {
            (Kind::CarouselItem, vec![fetch(video_url, "video").await?])
        }
        ("" | "IMAGE", false) if !image_url.is_empty() => {
            check_caption(&caption)?;
            (Kind::Image, vec![fetch(image_url, "image").await?])
        }
        ("REELS", false) if !video_url.is_empty() => {
            check_caption(&caption)?;
            (Kind::Reel, vec![fetch(video_url, "video").await?])
        }
        ("STORIES", false) if !image_url.is_empty() => {
            (Kind::Story, vec![fetch(image_url, "image").await?])
        }
        ("STORIES", false) if !video_url.is_empty() => {
            (Kind::Story, vec![fetch(video_url, "video").await?])
        }
        ("CAROUSEL", false) => {
            check_caption(&caption)?;
            (
                Kind::Carousel,
                carousel_items(sim, &grant, param(p, "children"))?,
            )
        }
        ("VIDEO", false) => {
            return Err(err(GraphError::invalid(
                "(#100) VIDEO is only for carousel items; publish a single video as REELS.",
            )));
        }
        _ => {
            return Err(err(GraphError::invalid(
                "(#100) Give image_url, or video_url with media_type REELS, or media_type \
                 CAROUSEL with children.",
            )));
        }
    };
    let id = sim.next_id();
    lock(&store(sim)).containers.insert(
        id.clone(),
        Container {
            owner: grant.user_id,
            kind,
            caption,
            media,
            created_at: Utc::now(),
            polls_left: 1,
            progress: Progress::Processing,
            used: false,
            ai_generated,
        },
    );
    Ok(Json(json!({ "id": id })).into_response())
}

/// Checks a carousel's `children` and takes them; their media, in order.
fn carousel_items(
    sim: &Simulator,
    grant: &Grant,
    children: &str,
) -> Result<Vec<PostedMedia>, GraphError> {
    let ids: Vec<&str> = children
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if !(2..=MAX_CAROUSEL).contains(&ids.len()) {
        return Err(err(GraphError::invalid(format!(
            "(#100) A carousel takes 2 to {MAX_CAROUSEL} items; {} were given.",
            ids.len()
        ))
        .subcode(2_207_004)));
    }
    let store = store(sim);
    let mut store = lock(&store);
    for id in &ids {
        let Some(child) = store.containers.get(*id) else {
            return Err(err(GraphError::unknown_object(id)));
        };
        if child.owner != grant.user_id {
            return Err(err(GraphError::unknown_object(id)));
        }
        if child.kind != Kind::CarouselItem || child.used {
            return Err(err(GraphError::invalid(format!(
                "(#100) {id} is not an unused carousel item (make it with is_carousel_item=true)."
            ))));
        }
        if child.progress != Progress::Finished {
            return Err(err(GraphError::new(
                9007,
                format!("Media ID is not available: carousel item {id} is not finished."),
            )
            .subcode(2_207_027)));
        }
    }
    let mut media = Vec::new();
    for id in ids {
        if let Some(child) = store.containers.get_mut(id) {
            child.used = true;
            media.extend(child.media.iter().cloned());
        }
    }
    Ok(media)
}

/// A container's status, moved one step by each poll.
async fn container_status(sim: &Simulator, id: &str, p: &Params, headers: &HeaderMap) -> Answer {
    let fault = sim.take_fault(Platform::Instagram, Op::Status);
    let token = authorised(sim, p, headers)?;
    let store = store(sim);
    let owned = lock(&store)
        .containers
        .get(id)
        .is_some_and(|c| c.owner == token.grant.user_id);
    if !owned {
        return Err(err(GraphError::unknown_object(id)));
    }
    match fault {
        Some(Fault::ProcessingFailed) => {
            if let Some(c) = lock(&store).containers.get_mut(id) {
                c.progress = Progress::Failed(
                    "2207026: the media could not be processed (simulated failure).".into(),
                );
            }
        }
        Some(Fault::SlowProcessing(more)) => {
            if let Some(c) = lock(&store).containers.get_mut(id) {
                c.polls_left += more;
            }
        }
        Some(other) => return Err(graph_fault(other, Platform::Instagram, id).await),
        None => {}
    }
    let mut store = lock(&store);
    let Some(container) = store.containers.get_mut(id) else {
        return Err(err(GraphError::unknown_object(id)));
    };
    if container.progress == Progress::Processing {
        if container.polls_left > 0 {
            container.polls_left -= 1;
        } else {
            container.progress = Progress::Finished;
        }
    }
    let (code, status) = container.status();
    let mut all = serde_json::Map::new();
    all.insert("id".into(), json!(id));
    all.insert("status_code".into(), json!(code));
    all.insert("status".into(), json!(status));
    pick(&all, fields(p), &["id"], "ShadowIGMediaBuilder")
        .map(|v| Json(v).into_response())
        .map_err(Into::into)
}

fn publishes_today(store: &Store, owner: &str) -> usize {
    let since = Utc::now() - chrono::Duration::hours(24);
    store
        .publishes
        .iter()
        .filter(|(who, at)| who == owner && *at > since)
        .count()
}

async fn publish(sim: &Simulator, node: &str, p: &Params, headers: &HeaderMap) -> Answer {
    if let Some(fault) = sim.take_fault(Platform::Instagram, Op::Publish) {
        return Err(graph_fault(fault, Platform::Instagram, node).await);
    }
    let grant = publisher(sim, node, p, headers)?;
    let creation_id = param(p, "creation_id");
    if creation_id.is_empty() {
        return Err(err(GraphError::invalid("(#100) creation_id is required.")));
    }
    let store = store(sim);
    let mut store = lock(&store);
    if publishes_today(&store, &grant.user_id) >= DAILY_PUBLISHES {
        return Err(err(GraphError::new(
            9,
            format!(
                "Application request limit reached: the account has published \
                 {DAILY_PUBLISHES} posts in the last 24 hours."
            ),
        )
        .subcode(2_207_042)));
    }
    let Some(container) = store
        .containers
        .get_mut(creation_id)
        .filter(|c| c.owner == grant.user_id)
    else {
        return Err(err(GraphError::unknown_object(creation_id)));
    };
    if container.kind == Kind::CarouselItem {
        return Err(err(GraphError::invalid(
            "(#100) A carousel item is published through its carousel.",
        )));
    }
    let (code, status) = container.status();
    match code {
        "FINISHED" => {}
        "IN_PROGRESS" => {
            return Err(err(GraphError::new(
                9007,
                "Media ID is not available: the media is not ready for publishing yet.",
            )
            .subcode(2_207_027)));
        }
        _ => {
            return Err(err(GraphError::new(
                9007,
                format!("Media ID is not available ({status})"),
            )));
        }
    }
    container.progress = Progress::Published;
    let caption = container.caption.clone();
    let media = container.media.clone();
    let container_ai = container.ai_generated;
    let id = sim.next_id();
    let shortcode = format!("SZ{id}");
    let kind = container.kind.label();
    store
        .media
        .insert(id.clone(), (grant.user_id.clone(), shortcode));
    store.kinds.insert(id.clone(), kind);
    if container_ai {
        store.ai_labelled.insert(id.clone());
    }
    store.publishes.push((grant.user_id.clone(), Utc::now()));
    drop(store);
    sim.state().record_post(Post {
        platform: Platform::Instagram,
        user_id: grant.user_id,
        id: id.clone(),
        text: caption,
        media,
    });
    Ok(Json(json!({ "id": id })).into_response())
}

/// Keeps the media `id` as published by `owner` (an image), without its publishing calls: see
/// [`Simulator::seed_post`].
pub(crate) fn keep_media(sim: &Simulator, owner: &str, id: &str) {
    let store = store(sim);
    let mut store = lock(&store);
    store
        .media
        .insert(id.to_owned(), (owner.to_owned(), format!("SZ{id}")));
    store.kinds.insert(id.to_owned(), Kind::Image.label());
}

/// The id of the post whose link carries `shortcode` (`/instagram/web/p/{shortcode}/`).
pub(crate) fn post_of_shortcode(sim: &Simulator, shortcode: &str) -> Option<String> {
    lock(&store(sim))
        .media
        .iter()
        .find(|(_, (_, code))| code == shortcode)
        .map(|(id, _)| id.clone())
}

fn publishing_limit(
    sim: &Simulator,
    node: &str,
    p: &Params,
    headers: &HeaderMap,
) -> Result<Response, GraphError> {
    let grant = publisher(sim, node, p, headers)?;
    let used = publishes_today(&lock(&store(sim)), &grant.user_id);
    Ok(Json(json!({"data": [{
        "quota_usage": used,
        "config": {"quota_total": DAILY_PUBLISHES, "quota_duration": 86_400},
    }]}))
    .into_response())
}

fn media(
    sim: &Simulator,
    id: &str,
    p: &Params,
    headers: &HeaderMap,
) -> Result<Response, GraphError> {
    let token = authorised(sim, p, headers)?;
    let (found, labelled) = {
        let store = store(sim);
        let store = lock(&store);
        (store.media.get(id).cloned(), store.ai_labelled.contains(id))
    };
    let Some((owner, shortcode)) = found else {
        return Err(err(GraphError::unknown_object(id)));
    };
    if owner != token.grant.user_id {
        return Err(err(GraphError::unknown_object(id)));
    }
    let mut all = serde_json::Map::new();
    all.insert("id".into(), json!(id));
    all.insert(
        "permalink".into(),
        json!(sim.web_link(headers, &format!("/instagram/web/p/{shortcode}/"))),
    );
    all.insert("shortcode".into(), json!(shortcode));
    all.insert("is_ai_generated".into(), json!(labelled));
    pick(&all, fields(p), &["id"], "IGMedia").map(|v| Json(v).into_response())
}

#[cfg(test)]
mod tests {
    #[test]
    fn hashtags_are_counted_as_a_reader_sees_them() {
        assert_eq!(super::hashtags("#a #b c#d # #"), 2);
        assert_eq!(super::hashtags("no tags"), 0);
    }
}

//! A simulator of the social platforms' APIs, served on localhost: OAuth (an authorize page
//! with Allow and Deny, token, refresh, revoke), identity and publishing, in the shapes of
//! `API_FACTS.md`, checking what the real APIs check (bearer tokens and their expiry, scopes,
//! state round trip, the PKCE verifier). It records every post, so tests count them exactly,
//! and takes injected faults. Each platform lives under its own path prefix (`/x/…`), which is
//! what an adapter's base URL points at. PayPal's subscriptions API, for billing, is simulated
//! the same way under `/paypal` (see [`paypal`]), and an OpenAI-compatible text and image API,
//! for the assistant, under `/openai` (see [`openai`]).

// Handlers check a request step by step and return the platform's ready-made error answer as
// the `Err` of each step; boxing those answers would only add noise.
#![allow(clippy::result_large_err)]

mod calls;
pub mod comments;
pub mod elevenlabs;
pub mod facebook;
mod files;
mod graph;
pub mod hedra;
pub mod instagram;
pub mod linkedin;
mod listing;
pub mod media;
pub mod messages;
pub mod metrics;
mod oauth;
pub mod openai;
pub mod paypal;
pub mod runway;
pub mod tiktok;
mod web;
pub mod x;

use axum::Router;
use domain::Platform;
use rand::RngCore;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

pub use calls::Calls;
pub use comments::SimComment;
pub use messages::SimMessage;

/// A fault to answer the next matching call with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// The bearer token is treated as expired.
    ExpiredToken,
    /// The bearer token is treated as revoked (the person removed the app).
    RevokedToken,
    /// 429 with the platform's own rate-limit headers.
    RateLimited { retry_after: Duration },
    /// 500.
    ServerError,
    /// No answer for this long (then a 503).
    Slow(Duration),
    /// Asynchronous processing (a container, an upload, a video) ends in the platform's error.
    ProcessingFailed,
    /// Asynchronous processing needs this many more status polls before it is done.
    SlowProcessing(u32),
}

/// Faults waiting for the next call of their kind (`Op`), oldest first: for the simulators whose
/// calls are kinds of their own (the AI providers').
pub(crate) struct Faults<K>(VecDeque<(K, Fault)>);

impl<K> Default for Faults<K> {
    fn default() -> Self {
        Faults(VecDeque::new())
    }
}

impl<K: PartialEq> Faults<K> {
    pub(crate) fn push(&mut self, kind: K, fault: Fault) {
        self.0.push_back((kind, fault));
    }

    /// The oldest fault waiting for a call of `kind`, taken.
    pub(crate) fn take(&mut self, kind: K) -> Option<Fault> {
        let at = self.0.iter().position(|(k, _)| *k == kind)?;
        self.0.remove(at).map(|(_, fault)| fault)
    }
}

/// What a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// The call that makes the post (or the container, or the publish init).
    Publish,
    /// The token endpoint (code exchange and refresh).
    Token,
    /// The identity call.
    Identity,
    /// Media uploads.
    Upload,
    /// Status polls of asynchronous processing.
    Status,
    Revoke,
    /// A comment under a post (the first comment, or X's reply).
    Comment,
    /// A read of metrics (insights, or a post's counts).
    Metrics,
    /// The comments workspace's calls: reading a post's comments, hiding and deleting one.
    /// (A reply is a comment: `Op::Comment`.)
    Comments,
    /// The inbox's calls: reading an account's direct-message conversations and sending one.
    Messages,
    /// A read of an account's own posts (X's timeline, a page's posts, LinkedIn's posts by
    /// author), where a publishing call whose answer was lost is looked up.
    Listing,
}

/// Where the next publishing call on a platform loses its answer (see
/// [`Simulator::lose_next_answer`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LostAnswer {
    /// The connection breaks before the post is kept: nothing is published, and the caller
    /// cannot tell.
    BeforePosting,
    /// The post is kept, then the connection breaks before its answer arrives.
    AfterPosting,
}

/// A media file a post carried, as the simulator received or fetched it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostedMedia {
    /// "image" or "video".
    pub kind: String,
    pub bytes: u64,
    /// The SHA-256 of the file (hex), when the simulator fetched it whole from a URL; `None`
    /// for a file sent in chunks, of which it keeps only the sizes.
    pub sha256: Option<String>,
}

/// A post the simulator accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    pub platform: Platform,
    pub user_id: String,
    pub id: String,
    pub text: String,
    /// In order.
    pub media: Vec<PostedMedia>,
}

/// A comment the simulator accepted under one of its posts (on X, a reply).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub platform: Platform,
    /// Who wrote it (the account at the platform).
    pub user_id: String,
    /// The post it is under.
    pub post_id: String,
    pub id: String,
    pub text: String,
}

/// A grant: who authorised which client for which scopes.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub platform: Platform,
    pub client_id: String,
    pub user_id: String,
    pub username: String,
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct PendingCode {
    pub grant: Grant,
    pub redirect_uri: String,
    pub code_challenge: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct AccessToken {
    pub grant: Grant,
    pub issued_at: chrono::DateTime<chrono::Utc>,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    pub revoked: bool,
}

/// A media upload in progress or done.
#[derive(Debug, Clone)]
pub(crate) struct Upload {
    pub platform: Platform,
    pub user_id: String,
    /// "image" or "video".
    pub kind: String,
    pub total_bytes: u64,
    /// Bytes received per segment index.
    pub segments: std::collections::BTreeMap<u32, u64>,
    pub finalized: bool,
    /// Status polls still to answer "in progress" before it is ready.
    pub polls_left: u32,
    pub failed: bool,
}

impl Upload {
    pub fn received(&self) -> u64 {
        self.segments.values().sum()
    }

    /// Ready to be attached to a post.
    pub fn ready(&self) -> bool {
        self.finalized && self.polls_left == 0 && !self.failed
    }
}

#[derive(Default)]
pub(crate) struct State {
    pub codes: HashMap<String, PendingCode>,
    pub access: HashMap<String, AccessToken>,
    pub refresh: HashMap<String, Grant>,
    pub posts: Vec<Post>,
    pub comments: Vec<Comment>,
    pub faults: VecDeque<(Platform, Op, Fault)>,
    pub next_id: u64,
    /// Platforms whose next publish is kept but answered only after this long (the answer is
    /// lost to a caller that gives up or crashes first).
    pub hang_after_publish: HashMap<Platform, Duration>,
    /// Platforms whose next publishing call loses its answer, and where.
    pub lost_answers: HashMap<Platform, LostAnswer>,
    /// A platform module's own state, one per type (see [`Simulator::extension`]).
    pub extensions: HashMap<std::any::TypeId, Arc<dyn std::any::Any + Send + Sync>>,
    /// Media uploaded in pieces (X's chunked upload), by media id.
    pub uploads: HashMap<String, Upload>,
    /// When each post was published (by the simulator's clock), by platform and id.
    pub published_at: HashMap<(Platform, String), chrono::DateTime<chrono::Utc>>,
    /// How far the simulator's clock is ahead of the real one (see [`Simulator::advance_clock`]).
    pub clock_ahead: chrono::Duration,
    /// Where each post is in `posts`, by platform and id (the first kept under that id).
    pub post_at: HashMap<(Platform, String), usize>,
    /// Where each account's posts are in `posts`, by platform and account id, in order.
    pub posts_at: HashMap<(Platform, String), Vec<usize>>,
}

impl State {
    /// Records a post the platform accepted, and when.
    pub(crate) fn record_post(&mut self, post: Post) {
        let now = chrono::Utc::now() + self.clock_ahead;
        self.record_post_at(post, now);
    }

    /// Records a post as published at `at` (by the simulator's clock).
    fn record_post_at(&mut self, post: Post, at: chrono::DateTime<chrono::Utc>) {
        let index = self.posts.len();
        self.published_at
            .insert((post.platform, post.id.clone()), at);
        self.post_at
            .entry((post.platform, post.id.clone()))
            .or_insert(index);
        self.posts_at
            .entry((post.platform, post.user_id.clone()))
            .or_default()
            .push(index);
        self.posts.push(post);
    }
}

/// The simulator: cheap to clone, shared by its routes and by the test that drives it.
#[derive(Clone)]
pub struct Simulator {
    state: Arc<Mutex<State>>,
    /// How long access tokens live.
    pub token_ttl: Duration,
    /// Faults by configuration rather than per call.
    pub chaos: Chaos,
    /// Where people's browsers reach the simulator, when that is not where its API is called
    /// (inside `serve --sandbox`: under the server's public address); links to posts use it.
    public_base: Option<String>,
    /// The calls answered, by platform (see [`Simulator::calls`]).
    calls: Arc<calls::Counter>,
}

/// Faults by configuration: added latency on every platform call, and a share of publishing
/// calls answered with a server error (benchmarks, and trying the product's retries).
#[derive(Debug, Clone, Copy, Default)]
pub struct Chaos {
    pub latency: Duration,
    /// Between 0 and 1.
    pub publish_error_rate: f64,
}

impl Default for Simulator {
    fn default() -> Self {
        Self::new()
    }
}

impl Simulator {
    pub fn new() -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                next_id: 1_000_000,
                ..Default::default()
            })),
            token_ttl: Duration::from_secs(7200),
            chaos: Chaos::default(),
            public_base: None,
            calls: Arc::default(),
        }
    }

    /// With the address browsers reach it at (`https://social.example.com/_sandbox`), for the
    /// links to posts it hands out.
    pub fn with_public_base(mut self, base: &str) -> Self {
        self.public_base = Some(base.trim_end_matches('/').to_owned());
        self
    }

    /// An absolute link to `path` (`/instagram/web/p/…`) for a person's browser: under the
    /// public address when there is one, else on the host the call came to.
    pub(crate) fn web_link(&self, headers: &axum::http::HeaderMap, path: &str) -> String {
        match &self.public_base {
            Some(base) => format!("{base}{path}"),
            None => format!("http://{}{path}", host(headers, "localhost")),
        }
    }

    /// With faults by configuration.
    pub fn with_chaos(mut self, chaos: Chaos) -> Self {
        self.chaos = chaos;
        self
    }

    /// The state of type `T` a platform module keeps beside the shared one (made on first use,
    /// dropped with the simulator).
    pub(crate) fn extension<T: Default + Send + 'static>(&self) -> Arc<Mutex<T>> {
        let mut state = self.state();
        let slot = state
            .extensions
            .entry(std::any::TypeId::of::<T>())
            .or_insert_with(|| Arc::new(Mutex::new(T::default())))
            .clone();
        drop(state);
        slot.downcast::<Mutex<T>>()
            .unwrap_or_else(|_| Arc::new(Mutex::new(T::default())))
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Every platform's routes, the page behind each post's link (`/x/web/…`), and `/_sim/posts`
    /// and `/_sim/comments`: what was published, as JSON (for people trying the sandbox and for
    /// tests in another process), and `/_sim/calls`: the calls answered so far, by platform.
    pub fn router(&self) -> Router {
        let sim = self.clone();
        let latency = self.chaos.latency;
        let counter = self.calls.clone();
        Router::new()
            .nest("/x", x::router(self.clone()))
            .nest("/facebook", facebook::router(self.clone()))
            .nest("/instagram", instagram::router(self.clone()))
            .nest("/tiktok", tiktok::router(self.clone()))
            .nest("/linkedin", linkedin::router(self.clone()))
            .nest("/paypal", paypal::router(self.clone()))
            .nest("/openai", openai::router(self.clone()))
            .nest("/runway", runway::router(self.clone()))
            .nest("/elevenlabs", elevenlabs::router(self.clone()))
            .nest("/hedra", hedra::router(self.clone()))
            .merge(web::router(self.clone()))
            .merge(files::router())
            .route(
            "/_sim/posts",
            axum::routing::get(move || {
                let posts: Vec<serde_json::Value> = sim
                    .posts()
                    .into_iter()
                    .map(|p| {
                        serde_json::json!({
                            "platform": p.platform.slug(),
                            "user_id": p.user_id,
                            "id": p.id,
                            "text": p.text,
                            "media": p.media.iter().map(|m| serde_json::json!({"kind": m.kind, "bytes": m.bytes})).collect::<Vec<_>>(),
                        })
                    })
                    .collect();
                async move { axum::Json(posts) }
            }),
        )
        .route("/_sim/comments", {
            let sim = self.clone();
            axum::routing::get(move || {
                let comments: Vec<serde_json::Value> = sim
                    .comments()
                    .into_iter()
                    .map(|c| {
                        serde_json::json!({
                            "platform": c.platform.slug(),
                            "user_id": c.user_id,
                            "post_id": c.post_id,
                            "id": c.id,
                            "text": c.text,
                        })
                    })
                    .collect();
                async move { axum::Json(comments) }
            })
        })
        .route("/_sim/calls", {
            let sim = self.clone();
            axum::routing::get(move || {
                let calls = sim.all_calls();
                async move { axum::Json(calls) }
            })
        })
        .layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| {
                let counter = counter.clone();
                async move {
                    let path = request.uri().path();
                    if path.starts_with("/_sim") {
                        return next.run(request).await;
                    }
                    let prefix = calls::prefix(path).to_owned();
                    if !latency.is_zero() {
                        tokio::time::sleep(latency).await;
                    }
                    let response = next.run(request).await;
                    counter.count(&prefix, &response);
                    response
                }
            },
        ))
    }

    /// Serves on `addr` (port 0 picks one) until the returned handle is dropped or aborted.
    pub async fn start(&self, addr: SocketAddr) -> anyhow::Result<Running> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let address = listener.local_addr()?;
        let app = self.router();
        let task = tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, app).await {
                tracing::error!(error = ?err, "the simulator stopped");
            }
        });
        Ok(Running {
            base_url: format!("http://{address}"),
            task,
        })
    }

    /// Everything published so far, in order.
    pub fn posts(&self) -> Vec<Post> {
        self.state().posts.clone()
    }

    /// The post `id` on `platform`, if the simulator has it.
    pub fn post(&self, platform: Platform, id: &str) -> Option<Post> {
        let state = self.state();
        let at = *state.post_at.get(&(platform, id.to_owned()))?;
        state.posts.get(at).cloned()
    }

    /// The posts of the account `user_id` on `platform`, in order.
    pub fn posts_by(&self, platform: Platform, user_id: &str) -> Vec<Post> {
        let state = self.state();
        state
            .posts_at
            .get(&(platform, user_id.to_owned()))
            .map(|all| {
                all.iter()
                    .filter_map(|at| state.posts.get(*at).cloned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// How many posts the account `user_id` has on `platform`.
    pub(crate) fn count_posts_by(&self, platform: Platform, user_id: &str) -> usize {
        self.state()
            .posts_at
            .get(&(platform, user_id.to_owned()))
            .map_or(0, Vec::len)
    }

    /// Keeps a text post as published by the account `user_id` on `platform` at `published_at`
    /// (by the simulator's clock), without its publishing calls, and returns its id in the
    /// platform's shape (X's number, `{page}_{n}` on Facebook, Instagram's media id, TikTok's
    /// public video id, `urn:li:share:{n}` on LinkedIn). Its figures are then answered like
    /// those of any post published through the API, by its age.
    ///
    /// For benchmarks and tests that need many posts of many ages at once: publishing them
    /// through the API would take its calls and meet the per-day posting limits (Instagram's
    /// 50 a day, TikTok's inits a minute). `user_id` is the account's id at the platform (a
    /// Facebook page's id, the Instagram, TikTok, X or LinkedIn user's).
    pub fn seed_post(
        &self,
        platform: Platform,
        user_id: &str,
        text: &str,
        published_at: chrono::DateTime<chrono::Utc>,
    ) -> String {
        let n = self.next_id();
        let id = match platform {
            Platform::X | Platform::Instagram => n,
            Platform::Facebook => format!("{user_id}_{n}"),
            Platform::TikTok => format!("7{:018}", n.parse::<u64>().unwrap_or_default()),
            Platform::LinkedIn => format!("urn:li:share:{n}"),
        };
        if platform == Platform::Instagram {
            instagram::keep_media(self, user_id, &id);
        }
        self.state().record_post_at(
            Post {
                platform,
                user_id: user_id.to_owned(),
                id: id.clone(),
                text: text.to_owned(),
                media: Vec::new(),
            },
            published_at,
        );
        id
    }

    /// The calls answered so far on the platform under `prefix` (`x`, `facebook`, `instagram`,
    /// `tiktok`, `linkedin`: the first part of the path, as [`Platform::slug`] names them; also
    /// `paypal`, `openai`, …), and how many of them were refused by a rate limit. Compare two
    /// readings with [`Calls::since`].
    pub fn calls(&self, prefix: &str) -> Calls {
        self.calls.get(prefix)
    }

    /// [`Simulator::calls`] of every prefix called so far.
    pub fn all_calls(&self) -> std::collections::BTreeMap<String, Calls> {
        self.calls.all()
    }

    /// The simulator's clock: the real time, moved ahead by [`Simulator::advance_clock`]. The
    /// metrics the platforms report grow with it.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now() + self.state().clock_ahead
    }

    /// Moves the simulator's clock ahead by `by` (metrics of posts and accounts evolve as if
    /// that much time had passed; nothing waits).
    pub fn advance_clock(&self, by: chrono::Duration) {
        self.state().clock_ahead += by;
    }

    /// When the post `id` was published on `platform`, by the simulator's clock.
    pub fn published_at(
        &self,
        platform: Platform,
        id: &str,
    ) -> Option<chrono::DateTime<chrono::Utc>> {
        self.state()
            .published_at
            .get(&(platform, id.to_owned()))
            .copied()
    }

    /// Every comment accepted so far, in order.
    pub fn comments(&self) -> Vec<Comment> {
        self.state().comments.clone()
    }

    /// Keeps a comment by `user_id` under the post `post_id` of `platform`, when that post
    /// exists and is the same account's; returns its id. (The platforms allow comments under
    /// others' posts too; the product only ever comments under its own.)
    pub(crate) fn keep_comment(
        &self,
        platform: Platform,
        user_id: &str,
        post_id: &str,
        text: &str,
    ) -> Option<String> {
        let id = self.next_id();
        let mut state = self.state();
        let exists = state
            .post_at
            .get(&(platform, post_id.to_owned()))
            .and_then(|at| state.posts.get(*at))
            .is_some_and(|p| p.user_id == user_id);
        if !exists {
            return None;
        }
        state.comments.push(Comment {
            platform,
            user_id: user_id.to_owned(),
            post_id: post_id.to_owned(),
            id: id.clone(),
            text: text.to_owned(),
        });
        Some(id)
    }

    /// Answers the next `op` call on `platform` with `fault`.
    pub fn inject(&self, platform: Platform, op: Op, fault: Fault) {
        self.state().faults.push_back((platform, op, fault));
    }

    /// Keeps the next post made on `platform` but answers only after `hang`: a crash or a
    /// timeout between the platform's publishing and the caller hearing of it.
    pub fn publish_then_hang(&self, platform: Platform, hang: Duration) {
        self.state().hang_after_publish.insert(platform, hang);
    }

    /// Makes the next publishing call on `platform` lose its answer `when`: the connection
    /// breaks (the answer's body fails, or no answer comes), as when a network drops it or the
    /// platform fails while answering. The caller cannot tell whether the post was made.
    pub fn lose_next_answer(&self, platform: Platform, when: LostAnswer) {
        self.state().lost_answers.insert(platform, when);
    }

    /// A broken answer in place of the call, if the next publishing call on `platform` was to
    /// lose its answer before the post is kept (taken).
    pub(crate) fn lost_before_posting(
        &self,
        platform: Platform,
    ) -> Option<axum::response::Response> {
        self.take_lost(platform, LostAnswer::BeforePosting)
    }

    /// Waits as [`Simulator::publish_then_hang`] asked, after a post was kept; then a broken
    /// answer in place of the real one, if [`Simulator::lose_next_answer`] asked for one after
    /// posting.
    pub(crate) async fn after_publishing(
        &self,
        platform: Platform,
    ) -> Option<axum::response::Response> {
        let hang = self.state().hang_after_publish.remove(&platform);
        if let Some(hang) = hang {
            tokio::time::sleep(hang).await;
        }
        self.take_lost(platform, LostAnswer::AfterPosting)
    }

    fn take_lost(&self, platform: Platform, when: LostAnswer) -> Option<axum::response::Response> {
        let mut state = self.state();
        if state.lost_answers.get(&platform) != Some(&when) {
            return None;
        }
        state.lost_answers.remove(&platform);
        Some(broken_answer())
    }

    /// Makes every access token issued so far look `by` older (issued and expiring earlier),
    /// for platforms whose rules depend on a token's age (Instagram refreshes only tokens at
    /// least a day old).
    pub fn age_tokens(&self, by: Duration) {
        let by = chrono::Duration::from_std(by).unwrap_or_default();
        for token in self.state().access.values_mut() {
            token.issued_at -= by;
            token.expires_at -= by;
        }
    }

    /// The person known as `from` at `platform` takes the username `to`: the identity calls
    /// answer with it from now on, for the tokens issued so far and those refreshed from them.
    pub fn rename(&self, platform: Platform, from: &str, to: &str) {
        let mut state = self.state();
        let state = &mut *state;
        let grants = state
            .access
            .values_mut()
            .map(|t| &mut t.grant)
            .chain(state.refresh.values_mut());
        for grant in grants.filter(|g| g.platform == platform && g.username == from) {
            grant.username = to.to_owned();
        }
    }

    /// The people who authorised the app at `platform` remove it there: every token issued so
    /// far stops working, and refreshing one is refused.
    pub fn withdraw_all(&self, platform: Platform) {
        let mut state = self.state();
        for token in state.access.values_mut() {
            if token.grant.platform == platform {
                token.revoked = true;
            }
        }
        state.refresh.retain(|_, grant| grant.platform != platform);
    }

    /// Makes every access token issued so far expire now.
    pub fn expire_all_tokens(&self) {
        let now = chrono::Utc::now();
        for token in self.state().access.values_mut() {
            token.expires_at = now;
        }
    }

    pub(crate) fn take_fault(&self, platform: Platform, op: Op) -> Option<Fault> {
        if op == Op::Publish
            && self.chaos.publish_error_rate > 0.0
            && rand::random::<f64>() < self.chaos.publish_error_rate
        {
            return Some(Fault::ServerError);
        }
        let mut state = self.state();
        let at = state
            .faults
            .iter()
            .position(|(p, o, _)| *p == platform && *o == op)?;
        state.faults.remove(at).map(|(_, _, f)| f)
    }

    pub(crate) fn next_id(&self) -> String {
        let mut state = self.state();
        state.next_id += 1;
        state.next_id.to_string()
    }
}

/// A running simulator.
pub struct Running {
    /// `http://127.0.0.1:<port>`; a platform's base URL is this plus its prefix (`/x`).
    pub base_url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// An answer that breaks off: its head says 201, its body fails before the first byte, so the
/// connection is dropped (a client sees no answer, or one it cannot read).
fn broken_answer() -> axum::response::Response {
    use axum::response::IntoResponse;
    let body = futures_util::stream::once(async {
        Err::<bytes::Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "the simulator dropped the answer",
        ))
    });
    (
        axum::http::StatusCode::CREATED,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        axum::body::Body::from_stream(body),
    )
        .into_response()
}

/// A random token of 32 URL-safe characters.
pub(crate) fn random_token(prefix: &str) -> String {
    use base64::Engine;
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// Whether `verifier` matches an S256 `challenge` (RFC 7636).
pub(crate) fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    use base64::Engine;
    use sha2::Digest;
    let digest = sha2::Sha256::digest(verifier.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest) == challenge
}

/// A stable follower count for a simulated account.
pub(crate) fn followers(user_id: &str) -> u64 {
    user_id
        .bytes()
        .fold(7u64, |n, b| n.wrapping_mul(31).wrapping_add(u64::from(b)))
        % 50_000
}

/// Escapes text for the authorize page.
pub(crate) fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The host a call came to (for absolute links back into the simulator), or `fallback` when
/// the request names none.
pub(crate) fn host(headers: &axum::http::HeaderMap, fallback: &str) -> String {
    headers
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or(fallback)
        .to_owned()
}

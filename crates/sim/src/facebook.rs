//! Facebook Pages through the Graph API, under `/facebook`: the login dialog
//! (`www.facebook.com/{version}/dialog/oauth`, served as `/facebook/{version}/dialog/oauth`) and
//! the API host `graph.facebook.com` as `/facebook/graph`.
//!
//! OAuth has no PKCE and no refresh tokens: a code gives a short-lived user token (an hour),
//! `fb_exchange_token` turns a still-valid user token into a long-lived one (60 days), and the
//! pages a person manages each have a page token that does not expire while the app stays
//! authorised. Every simulated person manages two pages, "<username> Bakery" and
//! "<username> Studio", with ids derived from the username (stable across runs).
//!
//! Publishing needs the page's own token and `pages_manage_posts`: `/feed` for text and for
//! several photos (`attached_media` of photos uploaded with `published=false`), `/photos` for one
//! photo, `/videos` with `file_url` for a video, which is processed (one status poll answers
//! "processing") and becomes a post once ready.
//!
//! Faults: `Op::Token` on `oauth/access_token` and on asking a page for its token,
//! `Op::Identity` on `/me` and `/me/accounts`, `Op::Publish` on `/feed`, published `/photos` and
//! `/videos`, `Op::Upload` on unpublished `/photos`, `Op::Status` on video status polls,
//! `Op::Revoke` on `DELETE /me/permissions`.
//!
//! The Graph helpers shared with the Instagram simulator (parameters, error bodies, token
//! checks, fault answers) live here too.

use crate::oauth::{Flavor, Params, Pkce, RefreshTokens, bearer};
use crate::{AccessToken, Fault, Grant, Op, Post, PostedMedia, Simulator};
use axum::body::Bytes;
use axum::extract::{Path, Query, State as Shared};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Json, Router};
use domain::Platform;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// How Facebook runs OAuth.
pub(crate) const FLAVOR: Flavor = Flavor {
    platform: Platform::Facebook,
    name: "Facebook",
    client_param: "client_id",
    scopes: &[
        "public_profile",
        "pages_show_list",
        "pages_manage_posts",
        "pages_read_engagement",
        "pages_manage_engagement",
        "read_insights",
        "business_management",
    ],
    scope_separator: ',',
    // The login dialog takes a challenge for manually built flows; the exchange then needs
    // its verifier.
    pkce: Pkce::Optional,
    refresh_tokens: RefreshTokens::Never,
    token_prefix: "fb",
    default_user: "sandbox_fb",
};

pub(crate) const CLIENT_SECRET: &str = "sandbox-secret";
/// A user token from the code lives an hour.
const SHORT_TTL: Duration = Duration::from_secs(3600);
/// A long-lived user token lives 60 days.
pub(crate) const LONG_TTL: Duration = Duration::from_secs(5_184_000);
/// Facebook's limit on a post's text.
const MAX_MESSAGE: usize = 63_206;
/// Page tokens are kept apart from user tokens by this prefix: `fbpage.<page-id>.<random>`.
const PAGE_TOKEN_PREFIX: &str = "fbpage.";

pub fn router(sim: Simulator) -> Router {
    Router::new()
        .route("/{version}/dialog/oauth", get(authorize_page).post(decide))
        .route("/graph/{version}/{node}", get(node_get))
        .route(
            "/graph/{version}/{node}/{edge}",
            get(edge_call).post(edge_call).delete(edge_call),
        )
        .with_state(sim)
}

// ---------------------------------------------------------------------------------------------
// Graph helpers, shared with the Instagram simulator.

/// An error in Graph's shape: `{"error":{message, type, code, error_subcode, fbtrace_id}}`.
pub(crate) struct GraphError {
    status: StatusCode,
    code: u32,
    subcode: Option<u32>,
    kind: &'static str,
    message: String,
    transient: bool,
    headers: Vec<(&'static str, String)>,
}

impl GraphError {
    /// An error with `code`, answered with HTTP 400 as Graph mostly does.
    pub fn new(code: u32, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code,
            subcode: None,
            kind: "OAuthException",
            message: message.into(),
            transient: false,
            headers: Vec::new(),
        }
    }

    pub fn subcode(mut self, subcode: u32) -> Self {
        self.subcode = Some(subcode);
        self
    }

    pub fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    pub fn kind(mut self, kind: &'static str) -> Self {
        self.kind = kind;
        self
    }

    fn transient(mut self) -> Self {
        self.transient = true;
        self
    }

    fn header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }

    /// Code 100: a missing or invalid parameter.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(100, message).kind("GraphMethodException")
    }

    /// The answer for an id that does not exist or that the token may not see.
    pub fn unknown_object(id: &str) -> Self {
        Self::invalid(format!(
            "Unsupported request: object '{id}' does not exist, cannot be loaded with this \
             token, or does not support this operation."
        ))
        .subcode(33)
    }
}

impl From<GraphError> for Response {
    fn from(e: GraphError) -> Self {
        e.into_response()
    }
}

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        let mut error = json!({
            "message": self.message,
            "type": self.kind,
            "code": self.code,
            "fbtrace_id": crate::random_token("A"),
        });
        if let Some(subcode) = self.subcode {
            error["error_subcode"] = json!(subcode);
        }
        if self.transient {
            error["is_transient"] = json!(true);
        }
        let mut response = (self.status, Json(json!({ "error": error }))).into_response();
        for (name, value) in self.headers {
            if let Ok(value) = header::HeaderValue::from_str(&value) {
                response.headers_mut().insert(name, value);
            }
        }
        response
    }
}

/// A Graph call's parameters: the query, with the body's (form or JSON) on top. JSON values
/// that are not strings are kept as JSON text (`attached_media`, `published`).
pub(crate) fn graph_params(query: Params, headers: &HeaderMap, body: &[u8]) -> Params {
    let mut params = query;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type.starts_with("application/json") {
        if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) {
            for (name, value) in map {
                let text = match value {
                    Value::String(text) => text,
                    other => other.to_string(),
                };
                params.insert(name, text);
            }
        }
    } else if !body.is_empty() {
        for (name, value) in form_urlencoded::parse(body) {
            params.insert(name.into_owned(), value.into_owned());
        }
    }
    params
}

/// A parameter's value, empty when absent.
pub(crate) fn param<'a>(params: &'a Params, name: &str) -> &'a str {
    params.get(name).map(String::as_str).unwrap_or_default()
}

/// The token of a Graph call: the `access_token` parameter or `Authorization: Bearer`.
pub(crate) fn token_of<'a>(params: &'a Params, headers: &'a HeaderMap) -> Option<&'a str> {
    params
        .get("access_token")
        .map(String::as_str)
        .or_else(|| bearer(headers))
        .filter(|t| !t.is_empty())
}

/// The token record behind `token` on `platform`, or the error Graph gives.
pub(crate) fn graph_token(
    sim: &Simulator,
    platform: Platform,
    token: Option<&str>,
) -> Result<AccessToken, GraphError> {
    let Some(token) = token else {
        return Err(GraphError::new(
            104,
            "An access token is required for this request.",
        ));
    };
    let state = sim.state();
    let Some(found) = state
        .access
        .get(token)
        .filter(|t| t.grant.platform == platform)
    else {
        return Err(GraphError::new(
            190,
            "Invalid OAuth access token: the token could not be read.",
        ));
    };
    if found.revoked {
        return Err(GraphError::new(
            190,
            "Error validating access token: the person has not authorised this application.",
        )
        .subcode(458));
    }
    if found.expires_at <= chrono::Utc::now() {
        return Err(GraphError::new(
            190,
            "Error validating access token: the session has expired.",
        )
        .subcode(463));
    }
    Ok(found.clone())
}

/// Refuses a token whose grant lacks `scope`, with the permission error `code` (Facebook 200,
/// Instagram 10).
pub(crate) fn require_scope(grant: &Grant, scope: &str, code: u32) -> Result<(), GraphError> {
    if grant.scopes.iter().any(|s| s == scope) {
        Ok(())
    } else {
        Err(GraphError::new(
            code,
            format!("(#{code}) This call needs the {scope} permission, which was not granted."),
        ))
    }
}

/// Checks a `vNN.N` version segment.
pub(crate) fn check_version(version: &str) -> Result<(), GraphError> {
    let valid = version.strip_prefix('v').is_some_and(|rest| {
        rest.split_once('.').is_some_and(|(major, minor)| {
            !major.is_empty()
                && !minor.is_empty()
                && major.bytes().all(|b| b.is_ascii_digit())
                && minor.bytes().all(|b| b.is_ascii_digit())
        })
    });
    if valid {
        Ok(())
    } else {
        Err(GraphError::invalid(format!(
            "Unknown path components: '{version}' is not an API version."
        )))
    }
}

/// The names in a `fields` parameter (`picture{url},name` gives `picture`, `name`); `None`
/// when the parameter is absent.
pub(crate) fn fields(params: &Params) -> Option<Vec<String>> {
    let raw = params.get("fields")?;
    let mut names = Vec::new();
    let mut depth = 0usize;
    let mut current = String::new();
    for c in raw.chars() {
        match c {
            '{' | '(' => depth += 1,
            '}' | ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => names.push(std::mem::take(&mut current)),
            _ if depth == 0 => current.push(c),
            _ => {}
        }
    }
    names.push(current);
    Some(
        names
            .into_iter()
            .map(|n| n.split('.').next().unwrap_or_default().trim().to_owned())
            .filter(|n| !n.is_empty())
            .collect(),
    )
}

/// Keeps the asked-for `fields` of `all` (every field Graph knows for this node), plus `id`;
/// an unknown field is Graph's code 100.
pub(crate) fn pick(
    all: &serde_json::Map<String, Value>,
    asked: Option<Vec<String>>,
    default: &[&str],
    node_type: &str,
) -> Result<Value, GraphError> {
    let asked = asked.unwrap_or_else(|| default.iter().map(|s| (*s).to_owned()).collect());
    let mut out = serde_json::Map::new();
    for name in asked {
        let Some(value) = all.get(&name) else {
            return Err(GraphError::invalid(format!(
                "(#100) Tried accessing nonexisting field ({name}) on node type ({node_type})"
            )));
        };
        out.insert(name, value.clone());
    }
    if let Some(id) = all.get("id") {
        out.insert("id".into(), id.clone());
    }
    Ok(Value::Object(out))
}

/// The answer to an injected fault, in Graph's shape. A rate limit carries
/// `X-Business-Use-Case-Usage` for `usage_id` with the minutes until access comes back.
pub(crate) async fn graph_fault(fault: Fault, platform: Platform, usage_id: &str) -> Response {
    match fault {
        Fault::ExpiredToken => GraphError::new(
            190,
            "Error validating access token: the session has expired.",
        )
        .subcode(463)
        .into_response(),
        Fault::RevokedToken => GraphError::new(
            190,
            "Error validating access token: the person has not authorised this application.",
        )
        .subcode(458)
        .into_response(),
        Fault::RateLimited { retry_after } => {
            let minutes = retry_after.as_secs().div_ceil(60);
            let (code, kind, message) = match platform {
                Platform::Instagram => (4, "instagram", "(#4) Application request limit reached"),
                _ => (32, "pages", "(#32) Page request limit reached"),
            };
            let usage = json!({ usage_id: [{
                "type": kind,
                "call_count": 100,
                "total_cputime": 25,
                "total_time": 30,
                "estimated_time_to_regain_access": minutes,
            }]});
            GraphError::new(code, message)
                .header("x-business-use-case-usage", usage.to_string())
                .into_response()
        }
        Fault::ServerError | Fault::ProcessingFailed | Fault::SlowProcessing(_) => GraphError::new(
            2,
            "An unexpected error happened. Please retry your request later.",
        )
        .status(StatusCode::INTERNAL_SERVER_ERROR)
        .transient()
        .into_response(),
        Fault::Slow(wait) => {
            tokio::time::sleep(wait).await;
            GraphError::new(2, "Service temporarily unavailable")
                .status(StatusCode::SERVICE_UNAVAILABLE)
                .transient()
                .into_response()
        }
    }
}

/// The host the call came to, for absolute links back into the simulator.
pub(crate) fn host(headers: &HeaderMap) -> String {
    headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost")
        .to_owned()
}

/// Whether a token was issued to live longer than a day (a long-lived token).
pub(crate) fn long_lived(token: &AccessToken) -> bool {
    token.expires_at - token.issued_at > chrono::Duration::days(1)
}

fn text_len(text: &str) -> usize {
    text.chars().count()
}

// ---------------------------------------------------------------------------------------------
// Facebook's own records, kept beside the shared state (one store per simulator).

#[derive(Default)]
struct Store {
    /// Photos uploaded with `published=false`, by id.
    photos: HashMap<String, Photo>,
    videos: HashMap<String, Video>,
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

// ---------------------------------------------------------------------------------------------
// Pages and tokens.

/// A page a simulated person manages.
struct Page {
    id: String,
    name: String,
}

/// The name of the page `page_id` of someone who authorised the app, for the page behind a
/// post's link.
pub(crate) fn page_name(sim: &Simulator, page_id: &str) -> Option<String> {
    let state = sim.state();
    let people = state
        .access
        .values()
        .map(|t| &t.grant)
        .chain(state.refresh.values());
    people
        .filter(|grant| grant.platform == Platform::Facebook)
        .flat_map(|grant| pages_of(&grant.username))
        .find(|page| page.id == page_id)
        .map(|page| page.name)
}

/// The two pages every simulated person manages.
fn pages_of(username: &str) -> [Page; 2] {
    ["Bakery", "Studio"].map(|kind| Page {
        id: crate::oauth::user_id(Platform::Facebook, &format!("{username}/page/{kind}")),
        name: format!("{username} {kind}"),
    })
}

fn page_of(username: &str, page_id: &str) -> Option<Page> {
    pages_of(username).into_iter().find(|p| p.id == page_id)
}

/// Who is calling: a person with a user token, or a page with its page token.
enum Caller {
    User { token: AccessToken },
    Page { token: AccessToken, page: Page },
}

impl Caller {
    fn grant(&self) -> &Grant {
        match self {
            Caller::User { token } | Caller::Page { token, .. } => &token.grant,
        }
    }
}

fn caller(sim: &Simulator, params: &Params, headers: &HeaderMap) -> Result<Caller, GraphError> {
    let raw = token_of(params, headers);
    let token = graph_token(sim, Platform::Facebook, raw)?;
    let page_id = raw
        .and_then(|t| t.strip_prefix(PAGE_TOKEN_PREFIX))
        .and_then(|rest| rest.split_once('.'))
        .map(|(id, _)| id.to_owned());
    match page_id {
        Some(id) => {
            let page = page_of(&token.grant.username, &id)
                .ok_or_else(|| GraphError::new(190, "Invalid OAuth access token."))?;
            Ok(Caller::Page { token, page })
        }
        None => Ok(Caller::User { token }),
    }
}

/// A new token for `page`, issued from `user`'s token: it does not expire when the user token
/// is long-lived, and dies with it otherwise.
fn page_token(sim: &Simulator, user: &AccessToken, page: &Page) -> String {
    let token = format!("{PAGE_TOKEN_PREFIX}{}.{}", page.id, crate::random_token(""));
    let now = chrono::Utc::now();
    let expires_at = if long_lived(user) {
        now + chrono::Duration::days(365 * 100)
    } else {
        user.expires_at
    };
    sim.state().access.insert(
        token.clone(),
        AccessToken {
            grant: user.grant.clone(),
            issued_at: now,
            expires_at,
            revoked: false,
        },
    );
    token
}

fn picture(headers: &HeaderMap, id: &str) -> Value {
    json!({"data": {
        "url": format!("http://{}/facebook/web/pictures/{id}.jpg", host(headers)),
        "is_silhouette": false,
        "height": 50,
        "width": 50,
    }})
}

fn page_fields(headers: &HeaderMap, page: &Page) -> serde_json::Map<String, Value> {
    let followers = crate::followers(&page.id);
    let mut all = serde_json::Map::new();
    all.insert("id".into(), json!(page.id));
    all.insert("name".into(), json!(page.name));
    all.insert("category".into(), json!("Local business"));
    all.insert("followers_count".into(), json!(followers));
    all.insert("fan_count".into(), json!(followers));
    all.insert("picture".into(), picture(headers, &page.id));
    all.insert(
        "link".into(),
        json!(format!("http://{}/facebook/web/{}", host(headers), page.id)),
    );
    all.insert(
        "tasks".into(),
        json!([
            "ADVERTISE",
            "ANALYZE",
            "CREATE_CONTENT",
            "MANAGE",
            "MODERATE"
        ]),
    );
    all
}

// ---------------------------------------------------------------------------------------------
// Routes.

async fn authorize_page(Path(version): Path<String>, Query(p): Query<Params>) -> Response {
    if let Err(e) = check_version(&version) {
        return e.into_response();
    }
    FLAVOR.authorize_page(&p)
}

async fn decide(
    Shared(sim): Shared<Simulator>,
    Path(version): Path<String>,
    Form(p): Form<Params>,
) -> Response {
    if let Err(e) = check_version(&version) {
        return e.into_response();
    }
    FLAVOR.decide(&sim, &p)
}

async fn node_get(
    Shared(sim): Shared<Simulator>,
    Path((version, node)): Path<(String, String)>,
    Query(query): Query<Params>,
    headers: HeaderMap,
) -> Response {
    if let Err(e) = check_version(&version) {
        return e.into_response();
    }
    let params = query;
    let result = if node == "me" {
        me(&sim, &params, &headers).await
    } else if lock(&store(&sim)).videos.contains_key(&node) {
        video_status(&sim, &node, &params, &headers).await
    } else {
        other_node(&sim, &node, &params, &headers).await
    };
    result.unwrap_or_else(|e| e)
}

async fn edge_call(
    Shared(sim): Shared<Simulator>,
    Path((version, node, edge)): Path<(String, String, String)>,
    Query(query): Query<Params>,
    method: axum::http::Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(e) = check_version(&version) {
        return e.into_response();
    }
    let params = graph_params(query, &headers, &body);
    let result = match (method.as_str(), node.as_str(), edge.as_str()) {
        ("GET" | "POST", "oauth", "access_token") => access_token(&sim, &params).await,
        ("GET", "me", "accounts") => accounts(&sim, &params, &headers).await,
        ("GET", "me", "permissions") => {
            permissions(&sim, &params, &headers).map_err(Response::from)
        }
        ("DELETE", "me", "permissions") => deauthorise(&sim, &params, &headers).await,
        ("POST", _, "feed") => feed(&sim, &node, &params, &headers).await,
        ("POST", _, "photos") => photos(&sim, &node, &params, &headers).await,
        ("POST", _, "videos") => videos(&sim, &node, &params, &headers).await,
        ("POST", _, "comments") => comment(&sim, &node, &params, &headers).await,
        _ => Err(GraphError::unknown_object(&format!("{node}/{edge}")).into_response()),
    };
    result.unwrap_or_else(|e| e)
}

type Answer = Result<Response, Response>;

/// A Graph error as whatever the caller returns (a response, or the error itself).
fn err<E: From<GraphError>>(e: GraphError) -> E {
    E::from(e)
}

async fn access_token(sim: &Simulator, p: &Params) -> Answer {
    if let Some(fault) = sim.take_fault(Platform::Facebook, Op::Token) {
        return Err(graph_fault(fault, Platform::Facebook, param(p, "client_id")).await);
    }
    if param(p, "client_id").is_empty() {
        return Err(err(GraphError::invalid("Missing client_id parameter.")));
    }
    if param(p, "client_secret") != CLIENT_SECRET {
        return Err(err(GraphError::new(1, "Error validating client secret.")));
    }
    if param(p, "grant_type") == "fb_exchange_token" {
        let user = graph_token(sim, Platform::Facebook, Some(param(p, "fb_exchange_token")))?;
        if param(p, "fb_exchange_token").starts_with(PAGE_TOKEN_PREFIX) {
            return Err(err(GraphError::new(
                190,
                "Only a user access token can be exchanged for a long-lived one.",
            )));
        }
        let issued = FLAVOR.issue(sim, user.grant, LONG_TTL);
        return Ok(Json(json!({
            "access_token": issued.access,
            "token_type": "bearer",
            "expires_in": issued.expires_in,
        }))
        .into_response());
    }
    if param(p, "code").is_empty() {
        return Err(err(GraphError::invalid("Missing code parameter.")));
    }
    let grant = FLAVOR
        .redeem(
            sim,
            param(p, "code"),
            param(p, "client_id"),
            param(p, "redirect_uri"),
            param(p, "code_verifier"),
        )
        .map_err(|why| {
            let message = format!("Error validating verification code: {why}.");
            err::<GraphError>(if why.starts_with("unknown") {
                GraphError::invalid(message).subcode(36009)
            } else if why.starts_with("code_verifier") {
                // A missing or wrong verifier: an invalid parameter, OAuth's way.
                GraphError::new(100, message)
            } else {
                GraphError::invalid(message).subcode(36008)
            })
        })?;
    let issued = FLAVOR.issue(sim, grant, SHORT_TTL);
    Ok(Json(json!({
        "access_token": issued.access,
        "token_type": "bearer",
        "expires_in": issued.expires_in,
    }))
    .into_response())
}

async fn me(sim: &Simulator, p: &Params, headers: &HeaderMap) -> Answer {
    if let Some(fault) = sim.take_fault(Platform::Facebook, Op::Identity) {
        return Err(graph_fault(fault, Platform::Facebook, "me").await);
    }
    let (all, default, node_type) = match caller(sim, p, headers)? {
        Caller::Page { page, .. } => (page_fields(headers, &page), &["id", "name"][..], "Page"),
        Caller::User { token } => {
            let mut all = serde_json::Map::new();
            all.insert("id".into(), json!(token.grant.user_id));
            all.insert(
                "name".into(),
                json!(format!("{} (simulated)", token.grant.username)),
            );
            all.insert("picture".into(), picture(headers, &token.grant.user_id));
            (all, &["id", "name"][..], "User")
        }
    };
    pick(&all, fields(p), default, node_type)
        .map(|v| Json(v).into_response())
        .map_err(Into::into)
}

async fn accounts(sim: &Simulator, p: &Params, headers: &HeaderMap) -> Answer {
    if let Some(fault) = sim.take_fault(Platform::Facebook, Op::Identity) {
        return Err(graph_fault(fault, Platform::Facebook, "me").await);
    }
    let user = match caller(sim, p, headers)? {
        Caller::User { token } => token,
        Caller::Page { .. } => {
            return Err(err(GraphError::invalid(
                "(#100) Tried accessing nonexisting field (accounts) on node type (Page)",
            )));
        }
    };
    require_scope(&user.grant, "pages_show_list", 200)?;
    let mut data = Vec::new();
    for page in pages_of(&user.grant.username) {
        let mut all = page_fields(headers, &page);
        all.insert("access_token".into(), json!(page_token(sim, &user, &page)));
        data.push(pick(
            &all,
            fields(p),
            &["access_token", "category", "name", "tasks"],
            "Page",
        )?);
    }
    Ok(Json(json!({
        "data": data,
        "paging": {"cursors": {"before": "QVFIUmFi", "after": "QVFIUlN0"}},
    }))
    .into_response())
}

fn permissions(sim: &Simulator, p: &Params, headers: &HeaderMap) -> Result<Response, GraphError> {
    let caller = caller(sim, p, headers)?;
    let data: Vec<Value> = caller
        .grant()
        .scopes
        .iter()
        .map(|s| json!({"permission": s, "status": "granted"}))
        .collect();
    Ok(Json(json!({ "data": data })).into_response())
}

/// Removes the app for the person: every token of theirs (user and page tokens) stops working.
async fn deauthorise(sim: &Simulator, p: &Params, headers: &HeaderMap) -> Answer {
    if let Some(fault) = sim.take_fault(Platform::Facebook, Op::Revoke) {
        return Err(graph_fault(fault, Platform::Facebook, "me").await);
    }
    let user = match caller(sim, p, headers)? {
        Caller::User { token } => token,
        Caller::Page { .. } => {
            return Err(err(GraphError::invalid(
                "(#100) Permissions are removed with a user access token, not a page token.",
            )));
        }
    };
    let mut state = sim.state();
    for token in state.access.values_mut() {
        if token.grant.platform == Platform::Facebook
            && token.grant.user_id == user.grant.user_id
            && token.grant.client_id == user.grant.client_id
        {
            token.revoked = true;
        }
    }
    Ok(Json(json!({"success": true})).into_response())
}

/// A page (its fields, or its token for a user who manages it) or a published post.
async fn other_node(sim: &Simulator, node: &str, p: &Params, headers: &HeaderMap) -> Answer {
    let asked = fields(p);
    if asked
        .as_ref()
        .is_some_and(|f| f.iter().any(|n| n == "access_token"))
        && let Some(fault) = sim.take_fault(Platform::Facebook, Op::Token)
    {
        return Err(graph_fault(fault, Platform::Facebook, node).await);
    }
    let caller = caller(sim, p, headers)?;
    if let Some(page) = page_of(&caller.grant().username, node) {
        let mut all = page_fields(headers, &page);
        let token = match &caller {
            Caller::User { token } => page_token(sim, token, &page),
            Caller::Page { .. } => token_of(p, headers).unwrap_or_default().to_owned(),
        };
        all.insert("access_token".into(), json!(token));
        return pick(&all, asked, &["id", "name"], "Page")
            .map(|v| Json(v).into_response())
            .map_err(Into::into);
    }
    let post = sim
        .posts()
        .into_iter()
        .find(|post| post.platform == Platform::Facebook && post.id == node);
    let owned = post.filter(|post| {
        pages_of(&caller.grant().username)
            .iter()
            .any(|page| page.id == post.user_id)
    });
    match owned {
        Some(post) => {
            let mut all = serde_json::Map::new();
            all.insert("id".into(), json!(post.id));
            all.insert("message".into(), json!(post.text));
            all.insert(
                "permalink_url".into(),
                json!(sim.web_link(headers, &format!("/facebook/web/{}", post.id))),
            );
            pick(&all, asked, &["id", "message"], "Post")
                .map(|v| Json(v).into_response())
                .map_err(Into::into)
        }
        None => Err(err(GraphError::unknown_object(node))),
    }
}

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

async fn feed(sim: &Simulator, node: &str, p: &Params, headers: &HeaderMap) -> Answer {
    if let Some(fault) = sim.take_fault(Platform::Facebook, Op::Publish) {
        return Err(graph_fault(fault, Platform::Facebook, node).await);
    }
    let (_, page) = publishing_page(sim, node, p, headers)?;
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
    let store = store(sim);
    let mut store = lock(&store);
    for id in &attached {
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
    for id in &attached {
        if let Some(photo) = store.photos.get_mut(id) {
            photo.attached = true;
            media.push(photo.media.clone());
        }
    }
    drop(store);
    let id = format!("{}_{}", page.id, sim.next_id());
    if flag(p, "published", true) {
        sim.state().posts.push(Post {
            platform: Platform::Facebook,
            user_id: page.id,
            id: id.clone(),
            text: message.to_owned(),
            media,
        });
    }
    Ok(Json(json!({ "id": id })).into_response())
}

/// `POST /{post-id}/comments {message}`: a comment by the page under its own post, with the
/// page's token and `pages_manage_engagement`.
async fn comment(sim: &Simulator, node: &str, p: &Params, headers: &HeaderMap) -> Answer {
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
    match sim.add_comment(Platform::Facebook, &page.id, node, message) {
        Some(id) => Ok(Json(json!({ "id": format!("{node}_{id}") })).into_response()),
        None => Err(err(GraphError::unknown_object(node))),
    }
}

async fn photos(sim: &Simulator, node: &str, p: &Params, headers: &HeaderMap) -> Answer {
    let published = flag(p, "published", true);
    let op = if published { Op::Publish } else { Op::Upload };
    if let Some(fault) = sim.take_fault(Platform::Facebook, op) {
        return Err(graph_fault(fault, Platform::Facebook, node).await);
    }
    let (_, page) = publishing_page(sim, node, p, headers)?;
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
    let fetched = crate::fetch(url).await.map_err(|why| {
        err::<GraphError>(GraphError::new(
            324,
            format!("(#324) Missing or invalid image file: {why}."),
        ))
    })?;
    if fetched.kind != "image" {
        return Err(err(GraphError::new(
            324,
            format!(
                "(#324) Missing or invalid image file: the url serves {}.",
                fetched.mime
            ),
        )));
    }
    let photo_id = sim.next_id();
    if !published {
        lock(&store(sim)).photos.insert(
            photo_id.clone(),
            Photo {
                page_id: page.id,
                media: fetched.posted(),
                attached: false,
            },
        );
        return Ok(Json(json!({ "id": photo_id })).into_response());
    }
    let post_id = format!("{}_{}", page.id, sim.next_id());
    sim.state().posts.push(Post {
        platform: Platform::Facebook,
        user_id: page.id,
        id: post_id.clone(),
        text: caption.to_owned(),
        media: vec![fetched.posted()],
    });
    Ok(Json(json!({ "id": photo_id, "post_id": post_id })).into_response())
}

async fn videos(sim: &Simulator, node: &str, p: &Params, headers: &HeaderMap) -> Answer {
    if let Some(fault) = sim.take_fault(Platform::Facebook, Op::Publish) {
        return Err(graph_fault(fault, Platform::Facebook, node).await);
    }
    let (grant, page) = publishing_page(sim, node, p, headers)?;
    let description = param(p, "description");
    check_text(description, "description")?;
    let url = param(p, "file_url");
    if url.is_empty() {
        return Err(err(GraphError::invalid(
            "(#100) file_url is required (the simulator takes no chunked uploads).",
        )));
    }
    let fetched = crate::fetch(url).await.map_err(|why| {
        err::<GraphError>(GraphError::new(
            6000,
            format!("There was a problem uploading your video file: {why}."),
        ))
    })?;
    if fetched.kind != "video" {
        return Err(err(GraphError::new(
            6000,
            format!(
                "There was a problem uploading your video file: the url serves {}.",
                fetched.mime
            ),
        )));
    }
    let id = sim.next_id();
    lock(&store(sim)).videos.insert(
        id.clone(),
        Video {
            page_id: page.id,
            user_id: grant.user_id,
            description: description.to_owned(),
            media: fetched.posted(),
            polls_left: 1,
            progress: Progress::Processing,
        },
    );
    Ok(Json(json!({ "id": id })).into_response())
}

/// A video's processing, moved one step by each poll; the post is recorded when it is ready.
async fn video_status(sim: &Simulator, id: &str, p: &Params, headers: &HeaderMap) -> Answer {
    let fault = sim.take_fault(Platform::Facebook, Op::Status);
    let caller = caller(sim, p, headers)?;
    let store = store(sim);
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
        sim.state().posts.push(post);
    }
    Ok(Json(json!({ "id": id, "status": status })).into_response())
}

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
//! `Op::Revoke` on `DELETE /me/permissions`, `Op::Metrics` on insights and on a post's counts;
//! the comments under posts are in `facebook/comments.rs`, a page's own posts listed back in
//! `facebook/posts.rs`.
//!
//! A page's followers grow day by day on the simulator's clock ([`crate::metrics::followers_on`]),
//! and the count a page's node answers is noted as `followers_count`.
//!
//! This file holds the OAuth dialog and token calls, the pages and their tokens, and identity;
//! publishing is in `facebook/publishing.rs`, insights and a post's counts in
//! `facebook/insights.rs`, and the Graph helpers shared with the Instagram simulator in
//! `graph.rs`.

mod comments;
mod insights;
pub(crate) mod pages;
mod posts;
mod publishing;

use crate::graph::{
    Answer, GraphError, LONG_TTL, check_version, err, fields, graph_fault, graph_params,
    graph_token, long_lived, pick, require_scope, token_answer, token_of,
};
use crate::oauth::{CLIENT_SECRET, Flavor, Params, Pkce, RefreshTokens, param};
use crate::{AccessToken, Grant, Op, Simulator};
use axum::body::Bytes;
use axum::extract::{Path, Query, State as Shared};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Json, Router};
use domain::Platform;
use serde_json::{Value, json};
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
        "pages_read_user_content",
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

/// A user token from the code lives an hour.
const SHORT_TTL: Duration = Duration::from_secs(3600);
/// Page tokens are kept apart from user tokens by this prefix: `fbpage.<page-id>.<random>`.
const PAGE_TOKEN_PREFIX: &str = "fbpage.";

pub fn router(sim: Simulator) -> Router {
    Router::new()
        .route("/{version}/dialog/oauth", get(authorize_page).post(decide))
        .route(
            "/graph/{version}/{node}",
            get(node_get)
                .post(comments::node_write)
                .delete(comments::node_write),
        )
        .route(
            "/graph/{version}/{node}/{edge}",
            get(edge_call).post(edge_call).delete(edge_call),
        )
        .route(
            "/rupload/video-upload/{version}/{video_id}",
            axum::routing::post(rupload),
        )
        .with_state(sim)
}

// ---------------------------------------------------------------------------------------------
// Pages and tokens.

use pages::{Page, page_of, pages_of};

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
        "url": format!("http://{}/facebook/web/pictures/{id}.jpg", crate::host(headers, "localhost")),
        "is_silhouette": false,
        "height": 50,
        "width": 50,
    }})
}

/// Every field of `page` Graph knows here; its followers are those of today on the simulator's
/// clock.
fn page_fields(
    sim: &Simulator,
    headers: &HeaderMap,
    page: &Page,
) -> serde_json::Map<String, Value> {
    let followers = crate::metrics::followers_on(&page.id, sim.now().date_naive()).max(0);
    let mut all = serde_json::Map::new();
    all.insert("id".into(), json!(page.id));
    all.insert("name".into(), json!(page.name));
    all.insert("category".into(), json!("Local business"));
    all.insert("followers_count".into(), json!(followers));
    all.insert("fan_count".into(), json!(followers));
    all.insert("picture".into(), picture(headers, &page.id));
    all.insert(
        "link".into(),
        json!(format!(
            "http://{}/facebook/web/{}",
            crate::host(headers, "localhost"),
            page.id
        )),
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
    // A video's node is its status, unless its counts are asked for (a published video is a
    // post like any other).
    let counts = fields(&params).is_some_and(|f| {
        f.iter()
            .any(|n| insights::COUNT_FIELDS.contains(&n.as_str()))
    });
    let result = if node == "me" {
        me(&sim, &params, &headers).await
    } else if publishing::is_video(&sim, &node) && !counts {
        publishing::video_status(&sim, &node, &params, &headers).await
    } else {
        other_node(&sim, &node, &params, &headers).await
    };
    result.unwrap_or_else(|e| e)
}

/// The upload host's resumable upload of a reel or a video story.
async fn rupload(
    Shared(sim): Shared<Simulator>,
    Path((version, video_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(e) = check_version(&version) {
        return e.into_response();
    }
    publishing::rupload(&sim, &video_id, &headers)
        .await
        .unwrap_or_else(|e| e)
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
        ("POST", _, "feed") => publishing::feed(&sim, &node, &params, &headers).await,
        ("POST", _, "photos") => publishing::photos(&sim, &node, &params, &headers).await,
        ("POST", _, "videos") => publishing::videos(&sim, &node, &params, &headers).await,
        ("POST", _, "comments") if comments::is_comment(&sim, &node) => {
            comments::reply(&sim, &node, &params, &headers).await
        }
        ("POST", _, "comments") => publishing::comment(&sim, &node, &params, &headers).await,
        ("GET", _, "comments") => comments::read(&sim, &version, &node, &params, &headers).await,
        ("GET", _, "posts") => posts::read(&sim, &version, &node, &params, &headers).await,
        ("POST", _, "video_reels") => {
            publishing::upload_session(&sim, &node, "video_reels", &params, &headers).await
        }
        ("POST", _, "video_stories") => {
            publishing::upload_session(&sim, &node, "video_stories", &params, &headers).await
        }
        ("POST", _, "photo_stories") => {
            publishing::photo_story(&sim, &node, &params, &headers).await
        }
        ("GET", _, "insights") => insights::read(&sim, &node, &params, &headers).await,
        _ => Err(GraphError::unknown_object(&format!("{node}/{edge}")).into_response()),
    };
    result.unwrap_or_else(|e| e)
}

async fn access_token(sim: &Simulator, p: &Params) -> Answer {
    let request = FLAVOR.token_request(p);
    if let Some(fault) = sim.take_fault(Platform::Facebook, Op::Token) {
        return Err(graph_fault(fault, Platform::Facebook, &request.client.id).await);
    }
    if request.client.id.is_empty() {
        return Err(err(GraphError::invalid("Missing client_id parameter.")));
    }
    if request.client.secret != CLIENT_SECRET {
        return Err(err(GraphError::new(1, "Error validating client secret.")));
    }
    if request.grant_type == "fb_exchange_token" {
        let user = graph_token(sim, Platform::Facebook, Some(param(p, "fb_exchange_token")))?;
        if param(p, "fb_exchange_token").starts_with(PAGE_TOKEN_PREFIX) {
            return Err(err(GraphError::new(
                190,
                "Only a user access token can be exchanged for a long-lived one.",
            )));
        }
        return Ok(token_answer(&FLAVOR.issue(sim, user.grant, LONG_TTL)));
    }
    if request.code.is_empty() {
        return Err(err(GraphError::invalid("Missing code parameter.")));
    }
    let grant = FLAVOR.redeem(sim, &request).map_err(|why| {
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
    Ok(token_answer(&FLAVOR.issue(sim, grant, SHORT_TTL)))
}

async fn me(sim: &Simulator, p: &Params, headers: &HeaderMap) -> Answer {
    if let Some(fault) = sim.take_fault(Platform::Facebook, Op::Identity) {
        return Err(graph_fault(fault, Platform::Facebook, "me").await);
    }
    let (all, default, node_type) = match caller(sim, p, headers)? {
        Caller::Page { page, .. } => (
            page_fields(sim, headers, &page),
            &["id", "name"][..],
            "Page",
        ),
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
        let mut all = page_fields(sim, headers, &page);
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
    FLAVOR.end_authorisation(sim, &user.grant);
    Ok(Json(json!({"success": true})).into_response())
}

/// A page (its fields, or its token for a user who manages it) or a published post (its fields,
/// with its counts when asked for them).
async fn other_node(sim: &Simulator, node: &str, p: &Params, headers: &HeaderMap) -> Answer {
    let asked = fields(p);
    let asks = |names: &[&str]| {
        asked
            .as_ref()
            .is_some_and(|f| f.iter().any(|n| names.contains(&n.as_str())))
    };
    if asks(&["access_token"])
        && let Some(fault) = sim.take_fault(Platform::Facebook, Op::Token)
    {
        return Err(graph_fault(fault, Platform::Facebook, node).await);
    }
    let counts_asked = asks(&insights::COUNT_FIELDS);
    if counts_asked && let Some(fault) = sim.take_fault(Platform::Facebook, Op::Metrics) {
        return Err(graph_fault(fault, Platform::Facebook, node).await);
    }
    let caller = caller(sim, p, headers)?;
    if let Some(page) = page_of(&caller.grant().username, node) {
        let mut all = page_fields(sim, headers, &page);
        if asks(&["followers_count"])
            && let Some(followers) = all.get("followers_count").and_then(Value::as_i64)
        {
            sim.report(Platform::Facebook, &page.id, "followers_count", followers);
        }
        let token = match &caller {
            Caller::User { token } => page_token(sim, token, &page),
            Caller::Page { .. } => token_of(p, headers).unwrap_or_default().to_owned(),
        };
        all.insert("access_token".into(), json!(token));
        return pick(&all, asked, &["id", "name"], "Page")
            .map(|v| Json(v).into_response())
            .map_err(Into::into);
    }
    let post = sim.post(Platform::Facebook, node);
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
            let mut asked = asked;
            if counts_asked && let Some(names) = &asked {
                insights::counts(sim, &post.id, caller.grant(), names, &mut all)?;
                // A post nobody shared has no `shares` at all.
                asked = Some(
                    names
                        .iter()
                        .filter(|n| *n != "shares" || all.contains_key("shares"))
                        .cloned()
                        .collect(),
                );
            }
            pick(&all, asked, &["id", "message"], "Post")
                .map(|v| Json(v).into_response())
                .map_err(Into::into)
        }
        None => Err(err(GraphError::unknown_object(node))),
    }
}

//! The request context: who is signed in, the CSRF token for this browser, the flash message,
//! the language, the cookie consent (applying a Global Privacy Control signal when it has to);
//! and the CSRF check on every unsafe method.
//!
//! `load` builds it from one small step per concern, in this order:
//! - `session`: the session cookie, who it names, and the rest of the signed-in frame (their
//!   workspaces, their place in the page's workspace), in one statement;
//! - `csrf`: the per-browser seed of the CSRF token, and (after the policies) the check;
//! - `flash`: the message left by the previous response;
//! - `consent`: the cookie consent under the Cookie Policy in effect, and the policies the
//!   person must accept again before changing anything;
//! - `cookies`: the cookies the response needs besides its handler's, written last.
//!
//! The CSRF token is an HMAC, under the server key, of a per-browser seed: the session token
//! when signed in, otherwise a random value kept in an HttpOnly cookie. A form carries the token
//! in a hidden `csrf` field; scripts send it in the `X-CSRF-Token` header.

mod consent;
mod cookies;
mod csrf;
mod flash;
mod session;

pub use consent::pending_signature;

use crate::AppState;
use crate::consent::ConsentView;
use crate::flash::Flash;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cookie::{Cookie, SameSite};
use cookies::CookiePlan;
use services::frame::Here;
use services::policies::Pending;
use services::sessions::{self, AuthSession};
use services::workspaces::Membership;
use std::sync::Arc;

pub const SESSION_COOKIE: &str = "sz_session";
pub const CSRF_COOKIE: &str = "sz_csrf";
pub const FLASH_COOKIE: &str = "sz_flash";
/// Set for the browser session when someone chooses to review updated policies later.
pub const POLICIES_LATER_COOKIE: &str = "sz_policies_later";

/// What every handler can read about the request.
#[derive(Clone)]
pub struct RequestCtx {
    pub auth: Option<AuthSession>,
    /// Every workspace of the signed-in person with their role (the switcher), read with the
    /// session; none for a visitor.
    pub memberships: Arc<Vec<Membership>>,
    /// The signed-in person's place in the workspace of the page (its `wid`), when they belong
    /// to it: read with the session too.
    pub workspace: Option<Here>,
    /// Notices wait for the signed-in person.
    pub notices_waiting: bool,
    pub csrf: String,
    pub flash: Option<Flash>,
    pub lang: domain::Language,
    pub consent: ConsentView,
    /// This page's path and query, to come back to after the banner's form.
    pub here: String,
    /// The client's address (behind trusted proxies, the forwarded one).
    pub client: String,
    pub browser: String,
    /// Policies the signed-in person must accept again (a newer version is in effect).
    pub pending_policies: Vec<Pending>,
    /// The Cookie Policy in effect, under which cookie choices are made.
    pub cookie_policy: CookiePolicy,
}

/// The Cookie Policy in effect.
#[derive(Debug, Clone)]
pub struct CookiePolicy {
    pub version: String,
    pub sha256: String,
}

impl CookiePolicy {
    /// How a decision names it in the ledger.
    pub fn as_json(&self) -> serde_json::Value {
        serde_json::json!({ "cookies": { "version": self.version, "sha256": self.sha256 } })
    }
}

/// A change to the session cookie, asked for by a handler through the response's extensions;
/// the request context writes the cookie with the flags this deployment needs.
#[derive(Debug, Clone)]
pub enum SessionCookie {
    Start(String),
    End,
}

/// A cookie value from the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Builds a cookie with the flags every cookie of ours has.
pub fn build_cookie(
    name: &'static str,
    value: String,
    max_age_secs: i64,
    secure: bool,
) -> HeaderValue {
    let cookie = Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(cookie::time::Duration::seconds(max_age_secs))
        .build();
    HeaderValue::from_str(&cookie.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub fn clear_cookie(name: &'static str, secure: bool) -> HeaderValue {
    build_cookie(name, String::new(), 0, secure)
}

/// Whether a cookie value has the shape of one of our random tokens.
fn looks_like_token(value: &str) -> bool {
    value.len() == 43
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The middleware: builds the request's context, runs the handler with it, and writes the
/// cookies the response needs.
pub async fn load(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match prepare(&state, req).await {
        Ok((req, cookies)) => cookies.apply(crate::error::page_for_rejection(next.run(req).await)),
        Err(answer) => answer,
    }
}

/// Builds the context, one concern after another, and puts it in the request's extensions;
/// or the answer that stops the request before its handler.
async fn prepare(state: &AppState, req: Request) -> Result<(Request, CookiePlan), Response> {
    let (req, here) = workspace_of(state, req).await;
    let headers = req.headers();
    let session = session::read(state, headers, here)
        .await
        .map_err(IntoResponse::into_response)?;
    let seed = csrf::seed(headers, &session);
    let flash = flash::read(headers);
    let auth = session.frame.as_ref().map(|f| &f.auth);
    let sender = Sender::of(state, &req, auth);
    let consent = consent::read(state, headers, auth, &sender)
        .await
        .map_err(IntoResponse::into_response)?;
    let pending_policies = consent::pending_policies(state, session.frame.as_ref())
        .await
        .map_err(IntoResponse::into_response)?;
    let cookies = CookiePlan::new(state, headers, &session, &seed, &flash, &consent);
    if let Some(review) = consent::review_first(&req, &sender.here, &pending_policies) {
        return Err(cookies.apply(review));
    }
    let mut req = match csrf::check(state, req, &seed, session.stale).await {
        Ok(req) => req,
        Err(csrf::Refused::Plain(res)) => return Err(res),
        Err(csrf::Refused::WithCookies(res)) => return Err(cookies.apply(res)),
    };
    let (auth, memberships, workspace, notices_waiting) = match session.frame {
        Some(f) => (Some(f.auth), f.memberships, f.here, f.notices_waiting),
        None => (None, Vec::new(), None, false),
    };
    req.extensions_mut().insert(RequestCtx {
        auth,
        memberships: Arc::new(memberships),
        workspace,
        notices_waiting,
        csrf: csrf::token(state, &seed),
        flash: flash.message,
        lang: sender.lang,
        consent: consent.view,
        here: sender.here,
        client: sender.client,
        browser: sender.browser,
        pending_policies,
        cookie_policy: consent.policy,
    });
    Ok((req, cookies))
}

/// The workspace the request's page is in: its `wid` path parameter, read as the
/// `WorkspaceMember` extractor reads it.
async fn workspace_of(state: &AppState, req: Request) -> (Request, Option<domain::WorkspaceId>) {
    use axum::extract::{FromRequestParts, RawPathParams};
    let (mut parts, body) = req.into_parts();
    let wid = RawPathParams::from_request_parts(&mut parts, state)
        .await
        .ok()
        .and_then(|params| crate::extract::wid_of(&params));
    (
        Request::from_parts(parts, body),
        wid.map(domain::WorkspaceId),
    )
}

/// What the request says about who sends it and from where.
struct Sender {
    lang: domain::Language,
    /// The client's address (behind trusted proxies, the forwarded one).
    client: String,
    /// "Firefox on Linux".
    browser: String,
    /// The path and query of this request.
    here: String,
}

impl Sender {
    fn of(state: &AppState, req: &Request, auth: Option<&AuthSession>) -> Self {
        let headers = req.headers();
        let lang = crate::i18n::negotiate(auth.map(|a| a.user.language.as_str()), headers);
        let client = crate::extract::client_of(req, &state.config.trusted_proxies);
        let browser = sessions::describe_device(
            headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default(),
        );
        let here = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/".to_owned());
        Self {
            lang,
            client,
            browser,
            here,
        }
    }
}

//! The request context: who is signed in, the CSRF token for this browser, the flash message,
//! the language, the cookie consent (applying a Global Privacy Control signal when it has to);
//! and the CSRF check on every unsafe method.
//!
//! The CSRF token is an HMAC, under the server key, of a per-browser seed: the session token
//! when signed in, otherwise a random value kept in an HttpOnly cookie. A form carries the token
//! in a hidden `csrf` field; scripts send it in the `X-CSRF-Token` header.

use crate::AppState;
use crate::consent::{
    ANALYTICS_COOKIE, CONSENT_COOKIE, ConsentCookie, ConsentView, MARKETING_COOKIE,
};
use crate::error::AppError;
use crate::flash::{Flash, redirect_with};
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cookie::{Cookie, SameSite};
use domain::consent::ConsentChoice;
use services::policies::Pending;
use services::sessions::{self, AuthSession};
use services::tokens;

pub const SESSION_COOKIE: &str = "sz_session";
pub const CSRF_COOKIE: &str = "sz_csrf";
pub const FLASH_COOKIE: &str = "sz_flash";
/// Set for the browser session when someone chooses to review updated policies later.
pub const POLICIES_LATER_COOKIE: &str = "sz_policies_later";

/// Which pending versions a "later" covers: a newer version asks again.
pub fn pending_signature(pending: &[Pending]) -> String {
    pending
        .iter()
        .map(|p| format!("{}:{}", p.kind.slug(), p.current))
        .collect::<Vec<_>>()
        .join(",")
}
pub const CSRF_FIELD: &str = "csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Forms are small; anything larger than this is not a form of ours.
const FORM_LIMIT: usize = 1024 * 1024;

/// The longest a request body may take to arrive before the request context gives up on it.
const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// What every handler can read about the request.
#[derive(Clone)]
pub struct RequestCtx {
    pub auth: Option<AuthSession>,
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

fn looks_like_token(value: &str) -> bool {
    value.len() == 43
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub async fn load(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let secure = state.config.https;
    let headers = req.headers();
    let session_token = cookie(headers, SESSION_COOKIE)
        .filter(|t| looks_like_token(t))
        .map(str::to_owned);
    let auth = match &session_token {
        Some(token) => match sessions::authenticate(&state.services.db, token).await {
            Ok(auth) => auth,
            Err(err) => return AppError::from(err).into_response(),
        },
        None => None,
    };
    let stale_session = cookie(headers, SESSION_COOKIE).is_some() && auth.is_none();
    let anon_seed = cookie(headers, CSRF_COOKIE)
        .filter(|t| looks_like_token(t))
        .map(str::to_owned);
    let (seed, new_seed) = match (&auth, &session_token, anon_seed) {
        (Some(_), Some(token), _) => (token.clone(), None),
        (_, _, Some(seed)) => (seed, None),
        _ => {
            let seed = tokens::random_token();
            (seed.clone(), Some(seed))
        }
    };
    let flash = cookie(headers, FLASH_COOKIE).and_then(Flash::from_code);
    let had_flash = cookie(headers, FLASH_COOKIE).is_some();
    let lang = crate::i18n::negotiate(auth.as_ref().map(|a| a.user.language.as_str()), headers);
    let client = crate::extract::client_of(&req, &state.config.trusted_proxies);
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

    // Consent: a stored, valid choice made under the Cookie Policy in effect; else none. A GPC
    // signal may decide it now.
    let now = chrono::Utc::now();
    let cookie_policy = match state.services.cookie_policy().await {
        Ok(policy) => CookiePolicy {
            version: policy.0,
            sha256: policy.1,
        },
        Err(err) => return AppError::from(err).into_response(),
    };
    let stored = cookie(headers, CONSENT_COOKIE).and_then(|value| {
        ConsentCookie::decode(value, &state.services.keys, now, &cookie_policy.version)
            .inspect_err(|why| {
                tracing::info!(
                    reason = why,
                    "consent cookie ignored; the banner asks again"
                )
            })
            .ok()
    });
    let gpc = headers.get("sec-gpc").is_some_and(|v| v.as_bytes() == b"1");
    let (consent, outcome) = crate::consent::resolve(stored, gpc, now, &cookie_policy.version);
    if let Some(applied) = outcome.store.as_ref().filter(|_| outcome.record_gpc) {
        let decision = services::consent::Decision {
            consent_id: applied.id.clone(),
            user_id: auth.as_ref().map(|a| a.user.id),
            event: services::consent::Event::Gpc,
            categories: applied.choice.keys(),
            policies: cookie_policy.as_json(),
            source: services::consent::Source::Gpc,
            locale: lang.code().to_owned(),
            client: client.clone(),
            browser: browser.clone(),
        };
        if let Err(err) = state.services.record_consent(decision).await {
            return AppError::from(err).into_response();
        }
    }

    let pending_policies = match &auth {
        Some(a) => match state.services.pending_policies(a.user.id).await {
            Ok(list) => list,
            Err(err) => return AppError::from(err).into_response(),
        },
        None => Vec::new(),
    };
    let cookies = CookiePlan {
        secure,
        new_seed,
        stale_session,
        had_flash,
        consent: outcome.store,
        effective: consent.effective,
        had_analytics: cookie(headers, ANALYTICS_COOKIE).is_some(),
        had_marketing: cookie(headers, MARKETING_COOKIE).is_some(),
        tags: TagsConfigured {
            analytics: state.config.analytics_script.is_some(),
            marketing: state.config.marketing_script.is_some(),
        },
        keys: state.services.keys.clone(),
    };
    // Updated policies: until the person accepts, nothing but their own settings, the policy
    // pages and signing out may change anything; workspace pages can be read once they chose
    // "later".
    if !pending_policies.is_empty() {
        let path = req.uri().path();
        let open_for_changes = [
            "/settings",
            "/policies/",
            "/consent",
            "/logout",
            "/verify/",
            "/password/",
        ]
        .iter()
        .any(|p| path.starts_with(p));
        let workspace_page =
            path.starts_with("/w/") || path.starts_with("/workspaces/") || path == "/dashboard";
        let deferred = cookie(headers, POLICIES_LATER_COOKIE)
            == Some(pending_signature(&pending_policies).as_str());
        let blocked = if req.method().is_safe() {
            workspace_page && !deferred
        } else {
            !open_for_changes
        };
        if blocked {
            // After a refused change, come back to a page, not to the form's address.
            let back = if req.method().is_safe() {
                here.as_str()
            } else {
                "/dashboard"
            };
            let target = format!(
                "/policies/review?next={}",
                form_urlencoded::byte_serialize(back.as_bytes()).collect::<String>()
            );
            return cookies.apply(axum::response::Redirect::to(&target).into_response());
        }
    }

    let req = if req.method().is_safe() {
        req
    } else {
        if let Some(refused) = crate::security::refused_cross_site(req.method(), req.headers()) {
            tracing::warn!("request refused: sent by a page of another site");
            return cookies.apply(refused.into_response());
        }
        let (req, submitted) = match submitted_token(req).await {
            Ok(found) => found,
            Err(resp) => return resp,
        };
        let valid =
            submitted.is_some_and(|t| state.services.keys.verify("csrf", seed.as_bytes(), &t));
        if !valid && stale_session {
            // The form was made for a session that has since ended: ask for a new log-in
            // rather than calling the form expired.
            let mut res = redirect_with("/login", Flash::SessionExpired);
            res.extensions_mut().insert(SessionCookie::End);
            return cookies.apply(res);
        }
        if !valid {
            tracing::warn!("request refused: missing or wrong CSRF token");
            return cookies.apply(AppError::Csrf.into_response());
        }
        req
    };

    let csrf = state.services.keys.mac("csrf", seed.as_bytes());
    let mut req = req;
    req.extensions_mut().insert(RequestCtx {
        auth,
        csrf,
        flash,
        lang,
        consent,
        here,
        client,
        browser,
        pending_policies,
        cookie_policy,
    });
    cookies.apply(crate::error::page_for_rejection(next.run(req).await))
}

/// Which optional tags the operator configured; their categories' cookies exist only then.
struct TagsConfigured {
    analytics: bool,
    marketing: bool,
}

/// The cookies a response needs besides what its handler asked for.
struct CookiePlan {
    secure: bool,
    /// A CSRF seed made for a browser that had none.
    new_seed: Option<String>,
    /// The browser sent a session cookie that no longer names a session.
    stale_session: bool,
    had_flash: bool,
    /// A consent cookie to store (a GPC signal applied now).
    consent: Option<ConsentCookie>,
    /// The consent in effect for this response, unless the handler changes it.
    effective: ConsentChoice,
    had_analytics: bool,
    had_marketing: bool,
    tags: TagsConfigured,
    keys: services::tokens::Keys,
}

impl CookiePlan {
    /// Writes every cookie: the handler's session and flash intents (from the response's
    /// extensions) and this plan's own.
    fn apply(self, mut res: Response) -> Response {
        let secure = self.secure;
        let status = res.status();
        let flash_set = res.extensions_mut().remove::<Flash>();
        let session_change = res.extensions_mut().remove::<SessionCookie>();
        // A choice made by this request's handler takes effect on this very response.
        let consent = res
            .extensions_mut()
            .remove::<ConsentCookie>()
            .or(self.consent);
        let effective = consent.as_ref().map(|c| c.choice).unwrap_or(self.effective);
        let set = res.headers_mut();
        let mut add = |value: HeaderValue| set.append(header::SET_COOKIE, value);
        if let Some(consent) = consent {
            let max_age = crate::consent::MAX_AGE_DAYS * 24 * 60 * 60;
            add(build_cookie(
                CONSENT_COOKIE,
                consent.encode(&self.keys),
                max_age,
                secure,
            ));
        }
        // Optional categories' cookies exist only while granted (and while their tag is
        // configured); a withdrawal expires them on the same response.
        for (granted, configured, had, name, days) in [
            (
                effective.analytics,
                self.tags.analytics,
                self.had_analytics,
                ANALYTICS_COOKIE,
                365,
            ),
            (
                effective.marketing,
                self.tags.marketing,
                self.had_marketing,
                MARKETING_COOKIE,
                90,
            ),
        ] {
            if granted && configured && !had {
                add(build_cookie(
                    name,
                    tokens::random_token(),
                    days * 24 * 60 * 60,
                    secure,
                ));
            } else if had && !(granted && configured) {
                add(clear_cookie(name, secure));
            }
        }
        if let Some(seed) = self.new_seed {
            add(build_cookie(CSRF_COOKIE, seed, 60 * 60 * 24 * 365, secure));
        }
        match session_change {
            Some(SessionCookie::Start(token)) => {
                add(build_cookie(
                    SESSION_COOKIE,
                    token,
                    sessions::LIFETIME.num_seconds(),
                    secure,
                ));
            }
            Some(SessionCookie::End) => {
                add(clear_cookie(SESSION_COOKIE, secure));
            }
            None if self.stale_session => {
                add(clear_cookie(SESSION_COOKIE, secure));
            }
            None => {}
        }
        match flash_set {
            Some(flash) => {
                add(build_cookie(
                    FLASH_COOKIE,
                    flash.code().to_owned(),
                    60,
                    secure,
                ));
            }
            // The message is shown by the page that ends a chain of redirects, not by a redirect.
            None if self.had_flash && !status.is_redirection() => {
                add(clear_cookie(FLASH_COOKIE, secure));
            }
            None => {}
        }
        res
    }
}
/// Finds the CSRF token of an unsafe request: the header, or the `csrf` field of a form body
/// (the body is read and put back for the handler).
async fn submitted_token(req: Request) -> Result<(Request, Option<String>), Response> {
    if let Some(value) = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        let value = value.to_owned();
        return Ok((req, Some(value)));
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if let Some(boundary) = multipart_boundary(&content_type) {
        return Ok(multipart_token(req, &boundary).await);
    }
    if !content_type.starts_with("application/x-www-form-urlencoded") {
        return Ok((req, None));
    }
    let (parts, body) = req.into_parts();
    let bytes = match tokio::time::timeout(BODY_TIMEOUT, to_bytes(body, FORM_LIMIT)).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(_)) => return Err(AppError::TooLarge.into_response()),
        Err(_) => return Err(axum::http::StatusCode::REQUEST_TIMEOUT.into_response()),
    };
    let token = form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == CSRF_FIELD)
        .map(|(_, v)| v.into_owned());
    Ok((Request::from_parts(parts, Body::from(bytes)), token))
}

/// The boundary of a `multipart/form-data` body.
fn multipart_boundary(content_type: &str) -> Option<String> {
    if !content_type.starts_with("multipart/form-data") {
        return None;
    }
    content_type
        .split(';')
        .filter_map(|p| p.trim().strip_prefix("boundary="))
        .map(|b| b.trim_matches('"').to_owned())
        .find(|b| !b.is_empty())
}

/// How much of a multipart body is read to find its `csrf` field.
const MULTIPART_PEEK: usize = 16 * 1024;

/// Finds the CSRF token of a multipart upload without holding the upload: the form puts the
/// `csrf` field first, so the first few kilobytes are read, searched, and put back in front
/// of the rest of the stream for the handler.
async fn multipart_token(req: Request, boundary: &str) -> (Request, Option<String>) {
    use futures_util::StreamExt;
    let (parts, body) = req.into_parts();
    let mut stream = body.into_data_stream();
    let mut head = bytes::BytesMut::new();
    let end = format!("\r\n--{boundary}");
    let mut failed = false;
    let deadline = tokio::time::Instant::now() + BODY_TIMEOUT;
    while head.len() < MULTIPART_PEEK {
        let next = tokio::time::timeout_at(deadline, stream.next()).await;
        let Ok(next) = next else {
            failed = true;
            break;
        };
        match next {
            Some(Ok(chunk)) => {
                head.extend_from_slice(&chunk);
                if first_field(&head, &end).is_some() {
                    break;
                }
            }
            Some(Err(_)) => {
                failed = true;
                break;
            }
            None => break,
        }
    }
    let token = if failed {
        None
    } else {
        first_field(&head, &end)
            .filter(|(name, _)| name == CSRF_FIELD)
            .map(|(_, value)| value)
    };
    let head = head.freeze();
    let rest = futures_util::stream::once(async move { Ok::<_, axum::Error>(head) }).chain(stream);
    (Request::from_parts(parts, Body::from_stream(rest)), token)
}

/// The name and value of the first field of a multipart body, once it has arrived whole.
fn first_field(body: &[u8], end: &str) -> Option<(String, String)> {
    let text = std::str::from_utf8(body).ok().or_else(|| {
        // The peeked bytes may end inside a multi-byte character or in binary content.
        let upto = body.windows(end.len()).position(|w| w == end.as_bytes())?;
        std::str::from_utf8(&body[..upto + end.len()]).ok()
    })?;
    let headers_end = text.find("\r\n\r\n")?;
    let headers = &text[..headers_end];
    let name = headers
        .split("name=\"")
        .nth(1)?
        .split('"')
        .next()?
        .to_owned();
    let value_start = headers_end + 4;
    let value_len = text[value_start..].find(end)?;
    Some((name, text[value_start..value_start + value_len].to_owned()))
}

#[cfg(test)]
mod multipart_tests {
    use super::*;

    #[test]
    fn the_first_field_of_a_multipart_body_is_found() {
        let body = "--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntok3n\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\r\n\u{89}PNG";
        assert_eq!(
            first_field(body.as_bytes(), "\r\n--XyZ"),
            Some(("csrf".to_owned(), "tok3n".to_owned()))
        );
        assert_eq!(
            first_field(
                b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntok",
                "\r\n--XyZ"
            ),
            None
        );
        assert_eq!(
            multipart_boundary("multipart/form-data; boundary=\"XyZ\""),
            Some("XyZ".to_owned())
        );
        assert_eq!(multipart_boundary("application/json"), None);
    }
}

//! The request context: who is signed in, the CSRF token for this browser, the flash message;
//! and the CSRF check on every unsafe method.
//!
//! The CSRF token is an HMAC, under the server key, of a per-browser seed: the session token
//! when signed in, otherwise a random value kept in an HttpOnly cookie. A form carries the token
//! in a hidden `csrf` field; scripts send it in the `X-CSRF-Token` header.

use crate::AppState;
use crate::error::AppError;
use crate::flash::{Flash, redirect_with};
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cookie::{Cookie, SameSite};
use services::sessions::{self, AuthSession};
use services::tokens;

pub const SESSION_COOKIE: &str = "sz_session";
pub const CSRF_COOKIE: &str = "sz_csrf";
pub const FLASH_COOKIE: &str = "sz_flash";
pub const CSRF_FIELD: &str = "csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Forms are small; anything larger than this is not a form of ours.
const FORM_LIMIT: usize = 256 * 1024;

/// What every handler can read about the request.
#[derive(Clone)]
pub struct RequestCtx {
    pub auth: Option<AuthSession>,
    pub csrf: String,
    pub flash: Option<Flash>,
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

    let cookies = CookiePlan {
        secure,
        new_seed,
        stale_session,
        had_flash,
    };
    let req = if req.method().is_safe() {
        req
    } else {
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
    req.extensions_mut()
        .insert(RequestCtx { auth, csrf, flash });
    cookies.apply(next.run(req).await)
}

/// The cookies a response needs besides what its handler asked for.
struct CookiePlan {
    secure: bool,
    /// A CSRF seed made for a browser that had none.
    new_seed: Option<String>,
    /// The browser sent a session cookie that no longer names a session.
    stale_session: bool,
    had_flash: bool,
}

impl CookiePlan {
    /// Writes every cookie: the handler's session and flash intents (from the response's
    /// extensions) and this plan's own.
    fn apply(self, mut res: Response) -> Response {
        let secure = self.secure;
        let status = res.status();
        let flash_set = res.extensions_mut().remove::<Flash>();
        let session_change = res.extensions_mut().remove::<SessionCookie>();
        let set = res.headers_mut();
        let mut add = |value: HeaderValue| set.append(header::SET_COOKIE, value);
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
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Ok((req, None));
    }
    let (parts, body) = req.into_parts();
    let bytes = match to_bytes(body, FORM_LIMIT).await {
        Ok(bytes) => bytes,
        Err(_) => return Err(AppError::TooLarge.into_response()),
    };
    let token = form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == CSRF_FIELD)
        .map(|(_, v)| v.into_owned());
    Ok((Request::from_parts(parts, Body::from(bytes)), token))
}

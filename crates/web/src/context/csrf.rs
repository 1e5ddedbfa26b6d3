//! The CSRF concern of the request context: the per-browser seed the token is made from, the
//! token itself, and the check of every unsafe request (its origin, then the token sent in the
//! `X-CSRF-Token` header or the `csrf` field of its form, multipart uploads included).

use super::session::Session;
use super::{CSRF_COOKIE, SessionCookie, cookie, looks_like_token};
use crate::AppState;
use crate::error::AppError;
use crate::flash::{Flash, redirect_with};
use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use services::tokens;

/// The form field that carries the token.
pub const CSRF_FIELD: &str = "csrf";
/// The header that carries the token for scripts.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Forms are small; anything larger than this is not a form of ours.
const FORM_LIMIT: usize = 1024 * 1024;

/// The longest a request body may take to arrive before the request context gives up on it.
const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// What the browser's CSRF token is made from.
pub(super) struct Seed {
    /// The session token when signed in, else the browser's random seed.
    value: String,
    /// A seed made now for a browser that had none: the response stores it in a cookie.
    pub new: Option<String>,
}

/// The seed for this browser: its session token when signed in, else the seed in its CSRF
/// cookie, else a new one.
pub(super) fn seed(headers: &HeaderMap, session: &Session) -> Seed {
    let anon_seed = cookie(headers, CSRF_COOKIE)
        .filter(|t| looks_like_token(t))
        .map(str::to_owned);
    match (&session.frame, &session.token, anon_seed) {
        (Some(_), Some(token), _) => Seed {
            value: token.clone(),
            new: None,
        },
        (_, _, Some(seed)) => Seed {
            value: seed,
            new: None,
        },
        _ => {
            let seed = tokens::random_token();
            Seed {
                value: seed.clone(),
                new: Some(seed),
            }
        }
    }
}

/// The token the pages of this request put in their forms.
pub(super) fn token(state: &AppState, seed: &Seed) -> String {
    state.services.keys.mac("csrf", seed.value.as_bytes())
}

/// Why an unsafe request was stopped, and whether the context's cookies go with the answer.
pub(super) enum Refused {
    /// The body could not be read: answered as it is.
    Plain(Response),
    /// Sent by another site, or without a valid token.
    WithCookies(Response),
}

/// Lets a safe request through; an unsafe one only when a page of this site sent it with a
/// valid token. A form made for a session that has since ended asks for a new log-in.
pub(super) async fn check(
    state: &AppState,
    req: Request,
    seed: &Seed,
    stale_session: bool,
) -> Result<Request, Refused> {
    if req.method().is_safe() {
        return Ok(req);
    }
    if let Some(refused) = crate::security::refused_cross_site(req.method(), req.headers()) {
        tracing::warn!("request refused: sent by a page of another site");
        return Err(Refused::WithCookies(refused.into_response()));
    }
    let (req, submitted) = submitted_token(req).await.map_err(Refused::Plain)?;
    let valid = submitted.is_some_and(|t| {
        state
            .services
            .keys
            .verify("csrf", seed.value.as_bytes(), &t)
    });
    if !valid && stale_session {
        // The form was made for a session that has since ended: ask for a new log-in
        // rather than calling the form expired.
        let mut res = redirect_with("/login", Flash::SessionExpired);
        res.extensions_mut().insert(SessionCookie::End);
        return Err(Refused::WithCookies(res));
    }
    if !valid {
        tracing::warn!("request refused: missing or wrong CSRF token");
        return Err(Refused::WithCookies(AppError::Csrf.into_response()));
    }
    Ok(req)
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

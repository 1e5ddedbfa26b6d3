//! PayPal's OAuth client credentials and its replay of requests. `POST /v1/oauth2/token` takes
//! the app's client id and secret as HTTP Basic and hands out a bearer token for nine hours
//! (every other API call needs one). A POST carrying `PayPal-Request-Id` runs once per client
//! and request id: a repeat, even one sent while the first is still running, waits for it and
//! gets the same status and body, and nothing happens twice. Answers of 500 and up are not
//! kept, so a retry after a server error runs again.

use super::answers::fault;
use super::{PAYPAL_SECRET, PayPalOp, Token, lock, now, stamp, store};
use crate::Simulator;
use crate::oauth::oauth_error;
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State as Shared};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::sync::Arc;

/// How long an access token lives, in seconds (PayPal's nine hours).
const TOKEN_TTL_SECS: i64 = 32_400;
/// The scopes an app with subscriptions and webhooks gets.
const SCOPE: &str = "https://uri.paypal.com/services/subscriptions \
                     https://uri.paypal.com/services/applications/webhooks \
                     https://uri.paypal.com/payments/payouts openid";
const APP_ID: &str = "APP-80W284485P519543T";

pub(super) async fn token(
    Shared(sim): Shared<Simulator>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(answer) = fault(&sim, PayPalOp::Token).await {
        return answer;
    }
    let Some((client_id, secret)) = basic(&headers) else {
        return invalid_client();
    };
    if client_id.is_empty() || secret != PAYPAL_SECRET {
        return invalid_client();
    }
    let grant_type = form_urlencoded::parse(&body)
        .find(|(name, _)| name == "grant_type")
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default();
    match grant_type.as_str() {
        "client_credentials" => {}
        "" => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "Grant Type is NULL",
            );
        }
        _ => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "unsupported grant_type",
            );
        }
    }
    let issued = now();
    let access_token = crate::random_token("A21AA");
    lock(&store(&sim)).tokens.insert(
        access_token.clone(),
        Token {
            client_id,
            expires_at: issued + chrono::Duration::seconds(TOKEN_TTL_SECS),
        },
    );
    Json(json!({
        "scope": SCOPE,
        "access_token": access_token,
        "token_type": "Bearer",
        "app_id": APP_ID,
        "expires_in": TOKEN_TTL_SECS,
        "nonce": format!("{}{}", stamp(issued), crate::random_token("")),
    }))
    .into_response()
}

fn invalid_client() -> Response {
    oauth_error(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "Client Authentication failed",
    )
}

/// The client id and secret of an `Authorization: Basic` header.
fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    use base64::Engine;
    let encoded = headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let (id, secret) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// The client a request comes from, when it shows valid credentials: a live bearer token, or
/// (on the token endpoint) the right Basic secret.
fn client_of(sim: &Simulator, headers: &HeaderMap) -> Option<String> {
    if let Some(token) = crate::oauth::bearer(headers) {
        return lock(&store(sim)).client_of_token(token).map(str::to_owned);
    }
    basic(headers)
        .filter(|(id, secret)| !id.is_empty() && secret == PAYPAL_SECRET)
        .map(|(id, _)| id)
}

/// The first answer to a (client, `PayPal-Request-Id`), once there is one. Its lock is held
/// while the first request runs, so a repeat waits for that answer.
pub(super) type Replay = Arc<tokio::sync::Mutex<Option<Kept>>>;

pub(super) struct Kept {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Kept {
    fn answer(&self) -> Response {
        let mut res = Response::new(Body::from(self.body.clone()));
        *res.status_mut() = self.status;
        *res.headers_mut() = self.headers.clone();
        res
    }
}

/// Counts every call, and answers a repeated POST of a `PayPal-Request-Id` as the first one
/// was answered.
pub(super) async fn replay(
    Shared(sim): Shared<Simulator>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    lock(&store(&sim)).calls.push(path);
    let request_id = request
        .headers()
        .get("paypal-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .map(str::to_owned);
    let key = match request_id {
        Some(request_id) if request.method() == Method::POST => {
            client_of(&sim, request.headers()).map(|client| (client, request_id))
        }
        _ => None,
    };
    let Some(key) = key else {
        return next.run(request).await;
    };
    let slot = lock(&store(&sim)).replays.entry(key).or_default().clone();
    let mut kept = slot.lock().await;
    if let Some(kept) = kept.as_ref() {
        return kept.answer();
    }
    let answer = next.run(request).await;
    if answer.status().is_server_error() {
        return answer;
    }
    let (parts, body) = answer.into_parts();
    let Ok(body) = axum::body::to_bytes(body, usize::MAX).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    *kept = Some(Kept {
        status: parts.status,
        headers: parts.headers.clone(),
        body: body.clone(),
    });
    Response::from_parts(parts, Body::from(body))
}

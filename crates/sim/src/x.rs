//! X API v2, under `/x`: OAuth 2.0 with PKCE (S256), `/2/users/me`, `/2/tweets`.

use crate::{AccessToken, Fault, Grant, Op, PendingCode, Post, Simulator, html_escape};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use domain::Platform;
use serde::Deserialize;
use serde_json::json;

/// The scopes X knows (those the product may ask for).
const SCOPES: [&str; 5] = [
    "tweet.read",
    "tweet.write",
    "users.read",
    "offline.access",
    "media.write",
];

pub fn router(sim: Simulator) -> Router {
    Router::new()
        .route("/i/oauth2/authorize", get(authorize_page).post(decide))
        .route("/2/oauth2/token", post(token))
        .route("/2/oauth2/revoke", post(revoke))
        .route("/2/users/me", get(me))
        .route("/2/tweets", post(tweet))
        .with_state(sim)
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct AuthorizeParams {
    response_type: String,
    client_id: String,
    redirect_uri: String,
    state: String,
    scope: String,
    code_challenge: String,
    code_challenge_method: String,
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

/// Checks an authorize request as X does; the reason when it is refused.
fn check_authorize(p: &AuthorizeParams) -> Result<Vec<String>, String> {
    if p.response_type != "code" {
        return Err("response_type must be code".into());
    }
    if p.client_id.is_empty() || p.state.is_empty() {
        return Err("client_id and state are required".into());
    }
    if !(p.redirect_uri.starts_with("http://") || p.redirect_uri.starts_with("https://")) {
        return Err("redirect_uri must be an http(s) URL".into());
    }
    if p.code_challenge.is_empty() || p.code_challenge_method != "S256" {
        return Err("PKCE with code_challenge_method=S256 is required".into());
    }
    let scopes: Vec<String> = p.scope.split_whitespace().map(str::to_owned).collect();
    if scopes.is_empty() {
        return Err("scope is required".into());
    }
    if let Some(unknown) = scopes.iter().find(|s| !SCOPES.contains(&s.as_str())) {
        return Err(format!("unknown scope {unknown}"));
    }
    Ok(scopes)
}

async fn authorize_page(Query(p): Query<AuthorizeParams>) -> Response {
    let scopes = match check_authorize(&p) {
        Ok(scopes) => scopes,
        Err(why) => return (StatusCode::BAD_REQUEST, why).into_response(),
    };
    let hidden: String = [
        ("response_type", &p.response_type),
        ("client_id", &p.client_id),
        ("redirect_uri", &p.redirect_uri),
        ("state", &p.state),
        ("scope", &p.scope),
        ("code_challenge", &p.code_challenge),
        ("code_challenge_method", &p.code_challenge_method),
    ]
    .iter()
    .map(|(k, v)| {
        format!(
            r#"<input type="hidden" name="{k}" value="{}">"#,
            html_escape(v)
        )
    })
    .collect();
    let list: String = scopes
        .iter()
        .map(|s| format!("<li>{}</li>", html_escape(s)))
        .collect();
    Html(format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Authorize app · X (simulated)</title></head>
<body><main><h1>Authorize {client} to use your X account? (simulated)</h1>
<p>This is the Socializioz platform simulator, not X.</p>
<p>It will be able to:</p><ul id="scopes">{list}</ul>
<form method="post">{hidden}
<label for="username">Simulated X user</label> <input id="username" name="username" value="sandbox_x">
<button type="submit" name="decision" value="allow" id="allow">Authorize app</button>
<button type="submit" name="decision" value="deny" id="deny">Cancel</button>
</form></main></body></html>"#,
        client = html_escape(&p.client_id),
    ))
    .into_response()
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Decision {
    #[serde(flatten)]
    params: AuthorizeParams,
    decision: String,
    username: String,
}

/// The redirect back to the app, with `pairs` added to the query.
fn back_to(redirect_uri: &str, pairs: &[(&str, &str)]) -> Response {
    let query: String = pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{k}={}",
                form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
            )
        })
        .collect::<Vec<_>>()
        .join("&");
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{redirect_uri}{sep}{query}")).into_response()
}

async fn decide(State(sim): State<Simulator>, Form(d): Form<Decision>) -> Response {
    let scopes = match check_authorize(&d.params) {
        Ok(scopes) => scopes,
        Err(why) => return (StatusCode::BAD_REQUEST, why).into_response(),
    };
    let p = &d.params;
    if d.decision != "allow" {
        return back_to(
            &p.redirect_uri,
            &[("error", "access_denied"), ("state", &p.state)],
        );
    }
    let username = if d.username.trim().is_empty() {
        "sandbox_x".to_owned()
    } else {
        d.username.trim().to_owned()
    };
    let code = crate::random_token("xcode_");
    sim.state().codes.insert(
        code.clone(),
        PendingCode {
            grant: Grant {
                platform: Platform::X,
                client_id: p.client_id.clone(),
                user_id: user_id(&username),
                username,
                scopes,
            },
            redirect_uri: p.redirect_uri.clone(),
            code_challenge: Some(p.code_challenge.clone()),
        },
    );
    back_to(&p.redirect_uri, &[("state", &p.state), ("code", &code)])
}

/// A stable numeric id for a simulated username.
fn user_id(username: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(username.as_bytes());
    let mut n = 0u64;
    for b in &digest[..7] {
        n = (n << 8) | u64::from(*b);
    }
    (n % 9_000_000_000_000_000 + 1_000_000_000_000_000).to_string()
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TokenForm {
    grant_type: String,
    code: String,
    redirect_uri: String,
    code_verifier: String,
    client_id: String,
    refresh_token: String,
}

/// Issues an access token (and, with `offline.access`, a refresh token) for `grant`.
fn issue(sim: &Simulator, grant: Grant) -> Response {
    let access = crate::random_token("xat_");
    let expires_at =
        chrono::Utc::now() + chrono::Duration::from_std(sim.token_ttl).unwrap_or_default();
    let refresh = grant
        .scopes
        .iter()
        .any(|s| s == "offline.access")
        .then(|| crate::random_token("xrt_"));
    let scope = grant.scopes.join(" ");
    let mut state = sim.state();
    state.access.insert(
        access.clone(),
        AccessToken {
            grant: grant.clone(),
            expires_at,
            revoked: false,
        },
    );
    if let Some(refresh) = &refresh {
        state.refresh.insert(refresh.clone(), grant);
    }
    let mut body = json!({
        "token_type": "bearer",
        "expires_in": sim.token_ttl.as_secs(),
        "access_token": access,
        "scope": scope,
    });
    if let Some(refresh) = refresh {
        body["refresh_token"] = json!(refresh);
    }
    Json(body).into_response()
}

async fn token(State(sim): State<Simulator>, Form(f): Form<TokenForm>) -> Response {
    if let Some(fault) = sim.take_fault(Platform::X, Op::Token) {
        return fault_response(fault).await;
    }
    match f.grant_type.as_str() {
        "authorization_code" => {
            let pending = sim.state().codes.remove(&f.code);
            let Some(pending) = pending else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "unknown or used code",
                );
            };
            if pending.grant.client_id != f.client_id || pending.redirect_uri != f.redirect_uri {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "client_id or redirect_uri does not match the authorization",
                );
            }
            let verified = pending
                .code_challenge
                .as_deref()
                .is_some_and(|c| crate::pkce_matches(&f.code_verifier, c));
            if !verified {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "code_verifier does not match the code_challenge",
                );
            }
            issue(&sim, pending.grant)
        }
        "refresh_token" => {
            // X rotates refresh tokens: the old one stops working.
            let grant = sim.state().refresh.remove(&f.refresh_token);
            match grant {
                Some(grant) if grant.client_id == f.client_id => issue(&sim, grant),
                _ => oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "Value passed for the token was invalid.",
                ),
            }
        }
        _ => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "unsupported grant_type",
        ),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RevokeForm {
    token: String,
    client_id: String,
}

async fn revoke(State(sim): State<Simulator>, Form(f): Form<RevokeForm>) -> Response {
    let mut state = sim.state();
    let mut found = false;
    if let Some(t) = state.access.get_mut(&f.token)
        && t.grant.client_id == f.client_id
    {
        t.revoked = true;
        found = true;
    }
    if let Some(grant) = state.refresh.get(&f.token)
        && grant.client_id == f.client_id
    {
        state.refresh.remove(&f.token);
        found = true;
    }
    Json(json!({"revoked": found})).into_response()
}

/// Why a bearer token was not accepted.
enum Refusal {
    Unauthorised,
    MissingScope(&'static str),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Self::Unauthorised => (
                StatusCode::UNAUTHORIZED,
                Json(json!({"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"})),
            )
                .into_response(),
            Self::MissingScope(scope) => (
                StatusCode::FORBIDDEN,
                Json(json!({"title": "Forbidden", "status": 403, "detail": format!("missing scope {scope}")})),
            )
                .into_response(),
        }
    }
}

/// The grant behind the request's bearer token, if it is valid and carries `scope`.
fn authorised(sim: &Simulator, headers: &HeaderMap, scope: &'static str) -> Result<Grant, Refusal> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(Refusal::Unauthorised)?;
    let state = sim.state();
    let found = state.access.get(token).ok_or(Refusal::Unauthorised)?;
    // A token of another platform, revoked or expired is not accepted here.
    if found.grant.platform != Platform::X
        || found.revoked
        || found.expires_at <= chrono::Utc::now()
    {
        return Err(Refusal::Unauthorised);
    }
    if !found.grant.scopes.iter().any(|s| s == scope) {
        return Err(Refusal::MissingScope(scope));
    }
    Ok(found.grant.clone())
}

async fn fault_response(fault: Fault) -> Response {
    match fault {
        Fault::ExpiredToken => (
            StatusCode::UNAUTHORIZED,
            Json(json!({"title": "Unauthorized", "status": 401, "detail": "Unauthorized"})),
        )
            .into_response(),
        Fault::RateLimited { retry_after } => {
            let reset = chrono::Utc::now().timestamp()
                + i64::try_from(retry_after.as_secs()).unwrap_or(900);
            (
                StatusCode::TOO_MANY_REQUESTS,
                [
                    ("x-rate-limit-limit", "100".to_owned()),
                    ("x-rate-limit-remaining", "0".to_owned()),
                    ("x-rate-limit-reset", reset.to_string()),
                ],
                Json(json!({"title": "Too Many Requests", "type": "https://api.twitter.com/2/problems/rate-limit-exceeded", "status": 429})),
            )
                .into_response()
        }
        Fault::ServerError => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"title": "Internal Server Error", "status": 500})),
        )
            .into_response(),
        Fault::Slow(wait) => {
            tokio::time::sleep(wait).await;
            (StatusCode::SERVICE_UNAVAILABLE, "slow").into_response()
        }
    }
}

async fn me(State(sim): State<Simulator>, headers: HeaderMap) -> Response {
    if let Some(fault) = sim.take_fault(Platform::X, Op::Identity) {
        return fault_response(fault).await;
    }
    match authorised(&sim, &headers, "users.read") {
        Ok(grant) => Json(json!({"data": {
            "id": grant.user_id,
            "name": format!("{} (simulated)", grant.username),
            "username": grant.username,
        }}))
        .into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

#[derive(Deserialize)]
struct TweetBody {
    text: String,
}

async fn tweet(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Json(body): Json<TweetBody>,
) -> Response {
    if let Some(fault) = sim.take_fault(Platform::X, Op::Publish) {
        return fault_response(fault).await;
    }
    let grant = match authorised(&sim, &headers, "tweet.write") {
        Ok(grant) => grant,
        Err(refusal) => return refusal.into_response(),
    };
    let length = domain::content::x_weighted_length(&body.text);
    if body.text.trim().is_empty() || length > 280 {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({
                "title": "Invalid Request",
                "status": 400,
                "detail": "One or more parameters to your request was invalid.",
                "errors": [{"message": format!("text: weighted length {length} is not between 1 and 280")}],
            })),
        )
            .into_response();
    }
    let id = sim.next_id();
    sim.state().posts.push(Post {
        platform: Platform::X,
        user_id: grant.user_id,
        id: id.clone(),
        text: body.text.clone(),
    });
    (
        StatusCode::CREATED,
        Json(json!({"data": {"id": id, "text": body.text}})),
    )
        .into_response()
}

//! X API v2, under `/x`: OAuth 2.0 with PKCE (S256), `/2/users/me`, `/2/tweets`.

use crate::oauth::{Flavor, Params, Pkce, RefreshTokens, Refusal, bearer, check_token};
use crate::{Fault, Grant, Op, Post, Simulator};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use domain::Platform;
use serde::Deserialize;
use serde_json::json;

/// How X runs OAuth 2.0.
pub(crate) const FLAVOR: Flavor = Flavor {
    platform: Platform::X,
    name: "X",
    client_param: "client_id",
    scopes: &[
        "tweet.read",
        "tweet.write",
        "users.read",
        "offline.access",
        "media.write",
    ],
    scope_separator: ' ',
    pkce: Pkce::Required,
    refresh_tokens: RefreshTokens::WithScope("offline.access"),
    token_prefix: "x",
    default_user: "sandbox_x",
};

pub fn router(sim: Simulator) -> Router {
    Router::new()
        .route("/i/oauth2/authorize", get(authorize_page).post(decide))
        .route("/2/oauth2/token", post(token))
        .route("/2/oauth2/revoke", post(revoke))
        .route("/2/users/me", get(me))
        .route("/2/tweets", post(tweet))
        .with_state(sim)
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

async fn authorize_page(Query(p): Query<Params>) -> Response {
    FLAVOR.authorize_page(&p)
}

async fn decide(State(sim): State<Simulator>, Form(p): Form<Params>) -> Response {
    FLAVOR.decide(&sim, &p)
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

/// X's token answer.
fn issue(sim: &Simulator, grant: Grant) -> Response {
    let issued = FLAVOR.issue(sim, grant, sim.token_ttl);
    let mut body = json!({
        "token_type": "bearer",
        "expires_in": issued.expires_in,
        "access_token": issued.access,
        "scope": issued.scope,
    });
    if let Some(refresh) = issued.refresh {
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
            match FLAVOR.redeem(
                &sim,
                &f.code,
                &f.client_id,
                &f.redirect_uri,
                &f.code_verifier,
            ) {
                Ok(grant) => issue(&sim, grant),
                Err(why) => oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", why),
            }
        }
        // X rotates refresh tokens: the old one stops working.
        "refresh_token" => match FLAVOR.use_refresh(&sim, &f.refresh_token, &f.client_id) {
            Some(grant) => issue(&sim, grant),
            None => oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Value passed for the token was invalid.",
            ),
        },
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
    Json(json!({"revoked": FLAVOR.revoke(&sim, &f.token, &f.client_id)})).into_response()
}

fn refusal_response(refusal: Refusal) -> Response {
    match refusal {
        Refusal::Unauthorised => (
            StatusCode::UNAUTHORIZED,
            Json(json!({"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"})),
        )
            .into_response(),
        Refusal::MissingScope(scope) => (
            StatusCode::FORBIDDEN,
            Json(json!({"title": "Forbidden", "status": 403, "detail": format!("missing scope {scope}")})),
        )
            .into_response(),
    }
}

/// The grant behind the request's bearer token, if it is valid and carries `scope`.
fn authorised(
    sim: &Simulator,
    headers: &HeaderMap,
    scope: &'static str,
) -> Result<Grant, Response> {
    check_token(sim, Platform::X, bearer(headers), scope).map_err(refusal_response)
}

async fn fault_response(fault: Fault) -> Response {
    match fault {
        Fault::ExpiredToken | Fault::RevokedToken => (
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
        Fault::ServerError | Fault::ProcessingFailed | Fault::SlowProcessing(_) => (
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
            "public_metrics": {"followers_count": crate::followers(&grant.user_id), "following_count": 12, "tweet_count": 345, "listed_count": 1},
        }}))
        .into_response(),
        Err(refused) => refused,
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
        Err(refused) => return refused,
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
        media: Vec::new(),
    });
    (
        StatusCode::CREATED,
        Json(json!({"data": {"id": id, "text": body.text}})),
    )
        .into_response()
}

//! LinkedIn's OAuth and OpenID Connect: the authorize page (which keeps the `nonce` of each
//! code), the token endpoint (the code exchange with its ID token, and refreshing, which keeps
//! the same refresh token until its year is up), revoke, and `/v2/userinfo`.

use super::{
    ACCESS_TTL, FLAVOR, ID_TOKEN_TTL, ISSUER, REFRESH_TTL, authorised, fault_response, lock, store,
};
use crate::oauth::{Params, oauth_error};
use crate::{Grant, Op, Simulator};
use axum::extract::{Query, State as Shared};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use domain::Platform;
use serde_json::json;

pub(super) async fn authorize_page(Query(p): Query<Params>) -> Response {
    FLAVOR.authorize_page(&p)
}

pub(super) async fn decide(Shared(sim): Shared<Simulator>, Form(p): Form<Params>) -> Response {
    let (answer, code) = FLAVOR.decide_with_code(&sim, &p);
    if let (Some(code), Some(nonce)) = (code, p.get("nonce").filter(|n| !n.is_empty())) {
        lock(&store(&sim)).nonces.insert(code, nonce.clone());
    }
    answer
}

/// An ID token for `grant`, as LinkedIn's OpenID Connect answers it.
fn id_token(grant: &Grant, nonce: Option<&str>) -> String {
    use base64::Engine;
    use sha2::Digest;
    let encode = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let now = chrono::Utc::now().timestamp();
    let mut claims = json!({
        "iss": ISSUER,
        "aud": grant.client_id,
        "sub": grant.user_id,
        "iat": now,
        "exp": now + ID_TOKEN_TTL,
        "name": format!("{} Simulated", grant.username),
        "given_name": grant.username,
        "family_name": "Simulated",
        "picture": format!("https://media.licdn.com/sim/{}.jpg", grant.user_id),
    });
    if let Some(nonce) = nonce {
        claims["nonce"] = json!(nonce);
    }
    if grant.scopes.iter().any(|s| s == "email") {
        claims["email"] = json!(format!("{}@example.com", grant.username));
        claims["email_verified"] = json!(true);
    }
    let signed = format!(
        "{}.{}",
        encode(
            json!({"alg": "RS256", "typ": "JWT", "kid": "sim"})
                .to_string()
                .as_bytes()
        ),
        encode(claims.to_string().as_bytes())
    );
    // Not a real signature: a digest, so the token has LinkedIn's three parts.
    let signature = encode(&sha2::Sha256::digest(signed.as_bytes()));
    format!("{signed}.{signature}")
}

fn token_answer(
    access: &str,
    refresh: &str,
    refresh_left: i64,
    scope: &[String],
    id_token: Option<String>,
) -> Response {
    let mut body = json!({
        "access_token": access,
        "expires_in": ACCESS_TTL.as_secs(),
        "refresh_token": refresh,
        "refresh_token_expires_in": refresh_left.max(0),
        "scope": scope.join(","),
        "token_type": "Bearer",
    });
    if let Some(id_token) = id_token {
        body["id_token"] = json!(id_token);
    }
    Json(body).into_response()
}

/// The app's credentials are wrong.
fn invalid_client() -> Response {
    oauth_error(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "Client authentication failed",
    )
}

pub(super) async fn token(Shared(sim): Shared<Simulator>, Form(p): Form<Params>) -> Response {
    let request = FLAVOR.token_request(&p);
    if let Some(fault) = sim.take_fault(Platform::LinkedIn, Op::Token) {
        return fault_response(fault).await;
    }
    if !request.client.authenticated() {
        return invalid_client();
    }
    match request.grant_type.as_str() {
        "authorization_code" => {
            let nonce = lock(&store(&sim)).nonces.remove(&request.code);
            let grant = match FLAVOR.redeem(&sim, &request) {
                Ok(grant) => grant,
                Err(_) => {
                    return oauth_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_request",
                        "Unable to retrieve access token: appid/redirect uri/code verifier does not match authorization code. Or authorization code expired.",
                    );
                }
            };
            let scopes = grant.scopes.clone();
            let id_token = scopes
                .iter()
                .any(|s| s == "openid")
                .then(|| id_token(&grant, nonce.as_deref()));
            let issued = FLAVOR.issue(&sim, grant, ACCESS_TTL);
            let refresh = issued.refresh.unwrap_or_default();
            lock(&store(&sim))
                .refresh_granted
                .insert(refresh.clone(), chrono::Utc::now());
            token_answer(
                &issued.access,
                &refresh,
                REFRESH_TTL.num_seconds(),
                &scopes,
                id_token,
            )
        }
        // The same refresh token keeps working until its year is up.
        "refresh_token" => {
            let granted = lock(&store(&sim))
                .refresh_granted
                .get(&request.refresh_token)
                .copied();
            let grant = FLAVOR.refresh_grant(&sim, &request);
            let left = granted.map(|g| (g + REFRESH_TTL - chrono::Utc::now()).num_seconds());
            match (grant, left) {
                (Some(grant), Some(left)) if left > 0 => {
                    let scopes = grant.scopes.clone();
                    let access = FLAVOR.issue_access(&sim, grant, ACCESS_TTL);
                    token_answer(&access, &request.refresh_token, left, &scopes, None)
                }
                _ => oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "The provided refresh token is invalid or has expired.",
                ),
            }
        }
        _ => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "The grant type is not supported.",
        ),
    }
}

pub(super) async fn revoke(Shared(sim): Shared<Simulator>, Form(p): Form<Params>) -> Response {
    let request = FLAVOR.revoke_request(&p);
    if let Some(fault) = sim.take_fault(Platform::LinkedIn, Op::Revoke) {
        return fault_response(fault).await;
    }
    if !request.client.authenticated() {
        return invalid_client();
    }
    if FLAVOR.revoke(&sim, &request) {
        StatusCode::OK.into_response()
    } else {
        oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The token is invalid or was already revoked.",
        )
    }
}

pub(super) async fn userinfo(Shared(sim): Shared<Simulator>, headers: HeaderMap) -> Response {
    if let Some(fault) = sim.take_fault(Platform::LinkedIn, Op::Identity) {
        return fault_response(fault).await;
    }
    let grant = match authorised(&sim, &headers, &["openid", "profile"]) {
        Ok(grant) => grant,
        Err(refused) => return refused,
    };
    let given = grant.username.clone();
    let mut body = json!({
        "sub": grant.user_id,
        "name": format!("{given} Simulated"),
        "given_name": given,
        "family_name": "Simulated",
        "picture": format!("https://media.licdn.com/sim/{}.jpg", grant.user_id),
        "locale": {"country": "US", "language": "en"},
    });
    if grant.scopes.iter().any(|s| s == "email") {
        body["email"] = json!(format!("{}@example.com", grant.username));
        body["email_verified"] = json!(true);
    }
    Json(body).into_response()
}

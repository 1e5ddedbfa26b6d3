//! TikTok's OAuth and identity: the authorize page, the token endpoint (codes with optional
//! PKCE, rotating refresh tokens), revoke (which ends the whole authorisation) and user info,
//! whose profile and stats fields each need their own scope (the stats are `metrics.rs`').

use super::metrics::{self, STATS_FIELDS};
use super::{
    ACCESS_TTL, FLAVOR, REFRESH_TTL_SECS, authorised, fault_response, invalid_params, oauth_error,
    ok, refusal_response,
};
use crate::oauth::{NoGrant, Params, Refusal};
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
    FLAVOR.decide(&sim, &p)
}

/// TikTok's token answer: flat, with both lifetimes.
fn issue(sim: &Simulator, grant: Grant) -> Response {
    let open_id = grant.user_id.clone();
    let issued = FLAVOR.issue(sim, grant, ACCESS_TTL);
    Json(json!({
        "open_id": open_id,
        "scope": issued.scope,
        "access_token": issued.access,
        "expires_in": issued.expires_in,
        "refresh_token": issued.refresh,
        "refresh_expires_in": REFRESH_TTL_SECS,
        "token_type": "Bearer",
    }))
    .into_response()
}

/// The app's credentials are wrong.
fn invalid_client() -> Response {
    oauth_error(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "Client key or secret is incorrect.",
    )
}

pub(super) async fn token(Shared(sim): Shared<Simulator>, Form(p): Form<Params>) -> Response {
    let request = FLAVOR.token_request(&p);
    if let Some(fault) = sim.take_fault(Platform::TikTok, Op::Token) {
        return fault_response(fault).await;
    }
    if !request.client.authenticated() {
        return invalid_client();
    }
    match FLAVOR.grant(&sim, &request) {
        Ok(grant) => issue(&sim, grant),
        Err(NoGrant::Code(why)) => oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", why),
        // Refresh tokens rotate: the one just spent stops working.
        Err(NoGrant::Refresh) => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Refresh token is invalid or expired.",
        ),
        Err(NoGrant::GrantType) => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "The grant type is not supported.",
        ),
    }
}

/// Revoking ends the whole authorisation: every token of that person for that client.
pub(super) async fn revoke(Shared(sim): Shared<Simulator>, Form(p): Form<Params>) -> Response {
    let request = FLAVOR.revoke_request(&p);
    if let Some(fault) = sim.take_fault(Platform::TikTok, Op::Revoke) {
        return fault_response(fault).await;
    }
    if !request.client.authenticated() {
        return invalid_client();
    }
    match FLAVOR.grant_of(&sim, &request.token, &request.client.id) {
        Some(owner) => {
            FLAVOR.end_authorisation(&sim, &owner);
            Json(json!({})).into_response()
        }
        None => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The token is invalid.",
        ),
    }
}

/// `GET /v2/user/info/?fields=…`: the profile fields asked for, each needing its scope. A call
/// asking for the stats fields alone is a metrics read (its faults are `Op::Metrics`'); any
/// other is the identity call.
pub(super) async fn user_info(
    Shared(sim): Shared<Simulator>,
    headers: HeaderMap,
    Query(q): Query<Params>,
) -> Response {
    let fields: Vec<&str> = q
        .get("fields")
        .map(String::as_str)
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .collect();
    let stats_only = !fields.is_empty() && fields.iter().all(|f| STATS_FIELDS.contains(f));
    if stats_only {
        if let Some(fault) = sim.take_fault(Platform::TikTok, Op::Metrics) {
            return metrics::fault_answer(fault).await;
        }
    } else if let Some(fault) = sim.take_fault(Platform::TikTok, Op::Identity) {
        return fault_response(fault).await;
    }
    let (grant, _) = match authorised(&sim, &headers, "user.info.basic") {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    let mut user = serde_json::Map::new();
    for field in fields {
        let value = match field {
            "open_id" => json!(grant.user_id),
            "union_id" => json!(format!("u{}", grant.user_id)),
            "avatar_url" => json!(format!(
                "https://p16-sign.tiktokcdn.com/sim/{}.jpeg",
                grant.user_id
            )),
            "display_name" => json!(format!("{} (simulated)", grant.username)),
            // Profile fields need their own scope, as at TikTok.
            "username" | "bio_description" | "profile_deep_link" | "is_verified" => {
                if !grant.scopes.iter().any(|s| s == "user.info.profile") {
                    return refusal_response(Refusal::MissingScope("user.info.profile"));
                }
                match field {
                    "username" => json!(grant.username),
                    "is_verified" => json!(false),
                    _ => json!(""),
                }
            }
            stat if STATS_FIELDS.contains(&stat) => {
                if !grant.scopes.iter().any(|s| s == "user.info.stats") {
                    return refusal_response(Refusal::MissingScope("user.info.stats"));
                }
                json!(metrics::account_stat(&sim, &grant.user_id, stat))
            }
            other => return invalid_params(&format!("unknown field {other}")),
        };
        user.insert(field.to_owned(), value);
    }
    if user.is_empty() {
        return invalid_params("fields is required");
    }
    ok(json!({"user": user}))
}

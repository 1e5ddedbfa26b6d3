//! Legal pages and the cookie choice.

pub mod consent;
pub mod cookies;
pub mod index;
pub mod policy;
pub mod review;
use crate::AppState;
use axum::Router;
use axum::routing::{get, post};

/// The routes of the legal pages, the policy review and the cookie choice.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/consent", post(consent::save))
        .route("/legal", get(index::page))
        .route("/legal/cookies", get(cookies::page))
        .route("/policies/review", get(review::page))
        .route("/policies/accept", post(review::accept))
        .route("/policies/later", post(review::later))
        .route("/legal/{kind}", get(policy::current))
        .route("/legal/{kind}/versions", get(policy::versions))
        .route("/legal/{kind}/v/{version}", get(policy::version))
        .route("/legal/{kind}/diff", get(policy::diff))
}

/// The Global Privacy Control statement: read by user agents, outside the request context (no
/// session, no cookies).
pub fn router_without_context() -> Router<AppState> {
    Router::new().route("/.well-known/gpc.json", get(cookies::gpc_json))
}

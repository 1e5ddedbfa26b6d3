//! The page behind the link e-mailed for a deletion request (see
//! `services::deletion_requests`).

pub mod confirm;
use crate::AppState;
use axum::Router;
use axum::routing::get;

/// The route of the e-mailed link.
pub fn router() -> Router<AppState> {
    Router::new().route(
        "/deletion-requests/confirm/{token}",
        get(confirm::page).post(confirm::confirm),
    )
}

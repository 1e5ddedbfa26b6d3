//! The person's own settings: profile, e-mail address, password, sessions.

pub mod delete;
pub mod email;
pub mod password;
pub mod privacy;
pub mod profile;
pub mod sessions;
use crate::AppState;
use axum::Router;
use axum::routing::{get, post};

/// The routes of one's own settings, and the page shown once an account is deleted.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/settings", get(profile::form).post(profile::submit))
        .route("/settings/email", get(email::form).post(email::submit))
        .route(
            "/settings/password",
            get(password::form).post(password::submit),
        )
        .route("/settings/sessions", get(sessions::page))
        .route("/settings/privacy", get(privacy::page))
        .route("/settings/privacy/export", post(privacy::request_export))
        .route(
            "/settings/privacy/export/status",
            get(privacy::export_status),
        )
        .route(
            "/settings/privacy/export/{id}/download",
            get(privacy::download_export),
        )
        .route("/settings/privacy/consent.json", get(privacy::download))
        .route("/settings/sessions/others/end", post(sessions::end_others))
        .route("/settings/sessions/{sid}/end", post(sessions::end_one))
        .route(
            "/settings/account/delete",
            get(delete::form).post(delete::submit),
        )
        .route("/account-deleted", get(delete::deleted))
}

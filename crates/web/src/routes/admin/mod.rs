//! The instance administrators' pages. An administrator is a signed-in person whose confirmed
//! address is listed in `[admin] emails`; to anyone else these pages do not exist (404).

pub mod deletion_requests;

use crate::AppState;
use crate::context::RequestCtx;
use crate::error::AppError;
use crate::extract::{AuthRejection, CurrentUser};
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::routing::{get, post};
use services::sessions::AuthSession;

/// The administrators' routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/deletion-requests",
            get(deletion_requests::page).post(deletion_requests::record),
        )
        .route(
            "/admin/deletion-requests/{id}/resend",
            post(deletion_requests::resend),
        )
        .route(
            "/admin/deletion-requests/{id}/close",
            post(deletion_requests::close),
        )
}

/// A signed-in administrator. Without a session the page asks to log in, like every page
/// that needs one; a signed-in person who is not an administrator gets "not found".
pub struct Admin {
    pub auth: AuthSession,
    pub ctx: RequestCtx,
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = AuthRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let CurrentUser { auth, ctx } = CurrentUser::from_request_parts(parts, state).await?;
        if !state.services.is_admin(&auth.user) {
            return Err(AuthRejection::Error(AppError::NotFound));
        }
        Ok(Self { auth, ctx })
    }
}

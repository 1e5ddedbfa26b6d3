//! Extractors: who is asking, and in which workspace with which role.

use crate::AppState;
use crate::context::RequestCtx;
use crate::error::AppError;
use axum::extract::{ConnectInfo, FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use domain::WorkspaceId;
use services::sessions::AuthSession;
use services::workspaces::Membership;
use std::net::SocketAddr;

fn request_ctx(parts: &Parts) -> Result<RequestCtx, AppError> {
    parts
        .extensions
        .get::<RequestCtx>()
        .cloned()
        .ok_or_else(|| {
            AppError::Unexpected(anyhow::anyhow!("the request context layer is missing"))
        })
}

/// The request context, for pages anyone may open.
pub struct Ctx(pub RequestCtx);

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        request_ctx(parts).map(Ctx)
    }
}

/// A signed-in person. Without a session, a page asks them to log in and brings them back.
pub struct CurrentUser {
    pub auth: AuthSession,
    pub ctx: RequestCtx,
}

pub enum AuthRejection {
    LogIn(String),
    Error(AppError),
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        match self {
            Self::LogIn(next) => {
                let target = format!(
                    "/login?next={}",
                    form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
                );
                Redirect::to(&target).into_response()
            }
            Self::Error(e) => e.into_response(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ctx = request_ctx(parts).map_err(AuthRejection::Error)?;
        match ctx.auth.clone() {
            Some(auth) => Ok(Self { auth, ctx }),
            None => {
                // Only pages are worth coming back to; after a form post, go to the dashboard.
                let next = if parts.method == axum::http::Method::GET {
                    parts.uri.path().to_owned()
                } else {
                    "/dashboard".to_owned()
                };
                Err(AuthRejection::LogIn(next))
            }
        }
    }
}

/// A signed-in member of the workspace named by the `wid` path parameter, with their role. A
/// workspace the person does not belong to answers 404, exactly like one that does not exist.
pub struct WorkspaceMember {
    pub auth: AuthSession,
    pub ctx: RequestCtx,
    pub membership: Membership,
}

impl FromRequestParts<AppState> for WorkspaceMember {
    type Rejection = AuthRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let CurrentUser { auth, ctx } = CurrentUser::from_request_parts(parts, state).await?;
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| AuthRejection::Error(AppError::NotFound))?;
        let wid = params
            .iter()
            .find(|(k, _)| *k == "wid")
            .and_then(|(_, v)| v.parse::<i64>().ok())
            .ok_or(AuthRejection::Error(AppError::NotFound))?;
        let membership = state
            .services
            .membership(auth.user_id(), WorkspaceId(wid))
            .await
            .map_err(|e| AuthRejection::Error(e.into()))?;
        Ok(Self {
            auth,
            ctx,
            membership,
        })
    }
}

/// The caller's network address, for per-client limits.
pub struct ClientAddr(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let addr = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string())
            .unwrap_or_else(|| "unknown".to_owned());
        Ok(Self(addr))
    }
}

/// The User-Agent header, or nothing.
pub struct UserAgent(pub String);

impl<S: Send + Sync> FromRequestParts<S> for UserAgent {
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ua = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        Ok(Self(ua.chars().take(512).collect()))
    }
}

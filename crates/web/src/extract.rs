//! Extractors: who is asking, and in which workspace with which role.

use crate::AppState;
use crate::context::RequestCtx;
use crate::error::AppError;
use axum::extract::{ConnectInfo, FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use services::sessions::AuthSession;
use services::workspaces::Membership;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

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
/// The request context read all of it with the session (`services::frame`): no statement here.
pub struct WorkspaceMember {
    pub auth: AuthSession,
    pub ctx: RequestCtx,
    pub membership: Membership,
    /// All of the person's memberships, for the workspace switcher.
    pub memberships: Arc<Vec<Membership>>,
    /// How many of the person's notifications in this workspace are unread (the navigation's
    /// badge).
    pub unread: u64,
    /// How many members the workspace has.
    pub members: u64,
}

/// The workspace id of a path's `wid` parameter, if it has one that reads as an id.
pub(crate) fn wid_of(params: &RawPathParams) -> Option<i64> {
    params
        .iter()
        .find(|(k, _)| *k == "wid")
        .and_then(|(_, v)| v.parse::<i64>().ok())
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
        let wid = wid_of(&params).ok_or(AuthRejection::Error(AppError::NotFound))?;
        // The frame was read for this very `wid`; a person who does not belong to it has none.
        let here = ctx
            .workspace
            .clone()
            .filter(|h| h.membership.workspace.id == wid)
            .ok_or(AuthRejection::Error(AppError::NotFound))?;
        Ok(Self {
            auth,
            memberships: ctx.memberships.clone(),
            ctx,
            membership: here.membership,
            unread: here.unread,
            members: here.members,
        })
    }
}

/// Values from the path (ids, tokens); a path whose values do not parse names nothing, so it is a 404
/// page rather than a bare "400 Bad Request".
pub struct PathIds<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned + Send> FromRequestParts<S> for PathIds<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(t)| Self(t))
            .map_err(|_| AppError::NotFound)
    }
}

/// The client address of a whole request (for the middleware).
pub fn client_of(req: &axum::extract::Request, trusted: &[IpAddr]) -> String {
    client_from(req.extensions(), req.headers(), trusted)
}

fn client_from(
    extensions: &axum::http::Extensions,
    headers: &axum::http::HeaderMap,
    trusted: &[IpAddr],
) -> String {
    match extensions.get::<ConnectInfo<SocketAddr>>() {
        Some(ConnectInfo(peer)) => {
            client_ip(peer.ip(), forwarded_for(headers), trusted).to_string()
        }
        None => "unknown".to_owned(),
    }
}

fn forwarded_for(headers: &axum::http::HeaderMap) -> Vec<IpAddr> {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|ip| ip.trim().parse().ok())
        .collect()
}

/// Walks the forwarding chain from the nearest hop outwards and stops at the first address that
/// is not a trusted proxy.
fn client_ip(peer: IpAddr, chain: Vec<IpAddr>, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let mut client = peer;
    for hop in chain.into_iter().rev() {
        client = hop;
        if !trusted.contains(&hop) {
            break;
        }
    }
    client
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

#[cfg(test)]
mod tests {
    use super::client_ip;
    use std::net::IpAddr;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    #[test]
    fn forwarded_addresses_count_only_behind_trusted_proxies() {
        let trusted = [ip("127.0.0.1"), ip("10.0.0.2")];
        // Straight from the internet: the header is whatever the client made up.
        assert_eq!(
            client_ip(ip("203.0.113.9"), vec![ip("1.2.3.4")], &trusted),
            ip("203.0.113.9")
        );
        // Through the local proxy: the address it saw.
        assert_eq!(
            client_ip(ip("127.0.0.1"), vec![ip("198.51.100.7")], &trusted),
            ip("198.51.100.7")
        );
        // A spoofed entry left of the real one is ignored.
        let chain = vec![ip("1.1.1.1"), ip("198.51.100.7"), ip("10.0.0.2")];
        assert_eq!(
            client_ip(ip("127.0.0.1"), chain, &trusted),
            ip("198.51.100.7")
        );
        // No header: the proxy itself.
        assert_eq!(
            client_ip(ip("127.0.0.1"), vec![], &trusted),
            ip("127.0.0.1")
        );
    }
}

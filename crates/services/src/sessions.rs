//! Server-side sessions, and the browsers an account signed in with before (known devices). In
//! both the browser holds a random token and the database holds its hash.

use crate::{Result, ServiceError, Services, tokens};
use chrono::Duration;
use domain::{SessionId, UserId};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use store::entities::{known_device, session, user};

/// How long a session lasts without use... and at most.
pub const LIFETIME: Duration = Duration::days(30);
/// `last_seen_at` is written at most this often, so reading pages does not write on every request.
const TOUCH_EVERY: Duration = Duration::minutes(5);

/// A signed-in request's session and user.
#[derive(Debug, Clone)]
pub struct AuthSession {
    pub session_id: SessionId,
    pub user: user::Model,
}

impl AuthSession {
    pub fn user_id(&self) -> UserId {
        UserId(self.user.id)
    }
}

/// The session actions a route asks for. They run on the service's own connection; the free
/// functions below take any connection, for callers inside a transaction.
impl Services {
    /// The user's sessions that have not expired, the most recently used first.
    pub async fn sessions_of(&self, user_id: UserId) -> Result<Vec<session::Model>> {
        list(&self.db, user_id).await
    }

    /// Ends the session behind `token` (log out).
    pub async fn end_session(&self, token: &str) -> Result<()> {
        end(&self.db, token).await
    }

    /// Ends one of the user's sessions; another person's session is "not found".
    pub async fn end_one_session(&self, user_id: UserId, id: SessionId) -> Result<()> {
        end_one(&self.db, user_id, id).await
    }

    /// Ends every session of the user but `keep`; returns how many ended.
    pub async fn end_other_sessions(&self, user_id: UserId, keep: SessionId) -> Result<u64> {
        end_all_but(&self.db, user_id, Some(keep)).await
    }
}

/// Starts a session for `user_id`; returns the token for the cookie.
pub async fn start<C: ConnectionTrait>(
    conn: &C,
    user_id: UserId,
    user_agent: &str,
) -> Result<String> {
    let token = tokens::random_token();
    let now = crate::now();
    session::ActiveModel {
        token_hash: Set(tokens::hash_token(&token)),
        user_id: Set(user_id.0),
        device: Set(describe_device(user_agent)),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(now + LIFETIME),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(token)
}

/// The rules of a session found behind a cookie (by the signed-in frame, `crate::frame`): one
/// that has expired is deleted and names no one (false); one last seen [`TOUCH_EVERY`] ago or
/// more is marked seen now.
pub(crate) async fn keep_alive<C: ConnectionTrait>(
    conn: &C,
    id: SessionId,
    expires_at: chrono::DateTime<chrono::Utc>,
    last_seen_at: chrono::DateTime<chrono::Utc>,
) -> Result<bool> {
    let now = crate::now();
    if expires_at <= now {
        session::Entity::delete_by_id(id.0).exec(conn).await?;
        return Ok(false);
    }
    if now - last_seen_at >= TOUCH_EVERY {
        session::Entity::update_many()
            .col_expr(
                session::Column::LastSeenAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .filter(session::Column::Id.eq(id.0))
            .exec(conn)
            .await?;
    }
    Ok(true)
}

pub async fn list<C: ConnectionTrait>(conn: &C, user_id: UserId) -> Result<Vec<session::Model>> {
    Ok(session::Entity::find()
        .filter(session::Column::UserId.eq(user_id.0))
        .filter(session::Column::ExpiresAt.gt(crate::now()))
        .order_by_desc(session::Column::LastSeenAt)
        .all(conn)
        .await?)
}

/// Ends the session behind `token` (log out).
pub async fn end<C: ConnectionTrait>(conn: &C, token: &str) -> Result<()> {
    session::Entity::delete_many()
        .filter(session::Column::TokenHash.eq(tokens::hash_token(token)))
        .exec(conn)
        .await?;
    Ok(())
}

/// Ends one of the user's sessions; another person's session is "not found".
pub async fn end_one<C: ConnectionTrait>(conn: &C, user_id: UserId, id: SessionId) -> Result<()> {
    let res = session::Entity::delete_many()
        .filter(session::Column::Id.eq(id.0))
        .filter(session::Column::UserId.eq(user_id.0))
        .exec(conn)
        .await?;
    if res.rows_affected == 0 {
        return Err(ServiceError::NotFound);
    }
    Ok(())
}

/// Ends every session of the user except `keep` (all of them when `keep` is `None`).
pub async fn end_all_but<C: ConnectionTrait>(
    conn: &C,
    user_id: UserId,
    keep: Option<SessionId>,
) -> Result<u64> {
    let mut query = session::Entity::delete_many().filter(session::Column::UserId.eq(user_id.0));
    if let Some(keep) = keep {
        query = query.filter(session::Column::Id.ne(keep.0));
    }
    Ok(query.exec(conn).await?.rows_affected)
}

/// How long a browser stays known without signing in again (its cookie lives as long).
pub const DEVICE_LIFETIME: Duration = Duration::days(365);

/// Whether the browser holding `token` signed in to `user_id` before (within
/// [`DEVICE_LIFETIME`]).
pub async fn is_known_device<C: ConnectionTrait>(
    conn: &C,
    user_id: UserId,
    token: &str,
) -> Result<bool> {
    let found = known_device::Entity::find()
        .filter(known_device::Column::UserId.eq(user_id.0))
        .filter(known_device::Column::TokenHash.eq(tokens::hash_token(token)))
        .filter(known_device::Column::LastUsedAt.gt(crate::now() - DEVICE_LIFETIME))
        .one(conn)
        .await?;
    Ok(found.is_some())
}

/// Remembers the browser that just signed in to `user_id`: the token it already holds (the
/// same browser may be known to several accounts), or a new one. Forgets the user's devices
/// unused for [`DEVICE_LIFETIME`]. Returns the token for the cookie.
pub async fn remember_device<C: ConnectionTrait>(
    conn: &C,
    user_id: UserId,
    token: Option<&str>,
    user_agent: &str,
) -> Result<String> {
    let now = crate::now();
    known_device::Entity::delete_many()
        .filter(known_device::Column::UserId.eq(user_id.0))
        .filter(known_device::Column::LastUsedAt.lte(now - DEVICE_LIFETIME))
        .exec(conn)
        .await?;
    let token = token
        .map(str::to_owned)
        .unwrap_or_else(tokens::random_token);
    let hash = tokens::hash_token(&token);
    let touched = known_device::Entity::update_many()
        .col_expr(
            known_device::Column::LastUsedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(known_device::Column::UserId.eq(user_id.0))
        .filter(known_device::Column::TokenHash.eq(hash.as_str()))
        .exec(conn)
        .await?;
    if touched.rows_affected == 0 {
        let inserted = known_device::ActiveModel {
            user_id: Set(user_id.0),
            token_hash: Set(hash),
            device: Set(describe_device(user_agent)),
            created_at: Set(now),
            last_used_at: Set(now),
            ..Default::default()
        }
        .insert(conn)
        .await;
        match inserted {
            Ok(_) => {}
            // The same browser signed in twice at once: it is known either way.
            Err(e) if store::is_unique_violation(&e) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(token)
}

/// Forgets every browser known to `user_id` (their password changed).
pub async fn forget_devices<C: ConnectionTrait>(conn: &C, user_id: UserId) -> Result<()> {
    known_device::Entity::delete_many()
        .filter(known_device::Column::UserId.eq(user_id.0))
        .exec(conn)
        .await?;
    Ok(())
}

/// "Firefox on Linux" from a User-Agent header: enough to recognise a device, no more.
pub fn describe_device(user_agent: &str) -> String {
    let ua = user_agent;
    let browser = if ua.contains("Edg/") {
        "Edge"
    } else if ua.contains("OPR/") {
        "Opera"
    } else if ua.contains("Firefox/") {
        "Firefox"
    } else if ua.contains("Chrome/") || ua.contains("Chromium/") {
        "Chrome"
    } else if ua.contains("Safari/") {
        "Safari"
    } else if ua.is_empty() {
        "Unknown browser"
    } else {
        "Other browser"
    };
    let os = if ua.contains("Android") {
        "Android"
    } else if ua.contains("iPhone") || ua.contains("iPad") {
        "iOS"
    } else if ua.contains("Windows") {
        "Windows"
    } else if ua.contains("Mac OS X") || ua.contains("Macintosh") {
        "macOS"
    } else if ua.contains("Linux") || ua.contains("X11") {
        "Linux"
    } else {
        "an unknown system"
    };
    format!("{browser} on {os}")
}

#[cfg(test)]
mod tests {
    use super::describe_device;

    #[test]
    fn devices_are_described_coarsely() {
        assert_eq!(
            describe_device(
                "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
            ),
            "Firefox on Linux"
        );
        assert_eq!(
            describe_device(
                "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/120 Safari/537.36 Edg/120"
            ),
            "Edge on Windows"
        );
        assert_eq!(
            describe_device("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1"),
            "Safari on iOS"
        );
        assert_eq!(describe_device(""), "Unknown browser on an unknown system");
    }
}

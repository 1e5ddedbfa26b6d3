//! In-app notifications: what a person is told inside a workspace (mentioned in a note on a
//! post, a post waiting for their approval, a decision on their post), with an unread count on
//! every page of the workspace.
//!
//! Other services call [`notify`] inside the transaction of the change that causes the
//! notification, so it exists exactly when the change does. A notification holds no names: it
//! keeps who caused it by id, and the name is read when it is shown (a deleted account's id is
//! cleared, and the line then says "A former member").
//!
//! A person reads and marks only their own notifications, and only in workspaces they still
//! belong to: a notification of someone else, or of another workspace, is "not found". Ending a
//! membership deletes the person's notifications in that workspace ([`forget_member`]).
//!
//! This module imports no other area of the crate (posts and workspaces call it).

use crate::{Result, ServiceError, Services};
use domain::{NotificationId, UserId, WorkspaceId};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use store::entities::{membership, notification, user};

pub use store::entities::notification::NotificationKind;

/// How many notifications a page of the list shows.
pub const PAGE: u64 = 50;

/// A notification about to be made.
#[derive(Debug, Clone)]
pub struct Notice {
    pub kind: NotificationKind,
    /// Who caused it.
    pub actor: Option<UserId>,
    /// What happened, to follow the actor's name, without names or secrets: "mentioned you in
    /// a note on “…”".
    pub summary: String,
    /// A path of this site (`/w/1/posts/2#note-3`), never an absolute address.
    pub link: String,
    /// What it is about (`post` or `post_note`) and its id.
    pub object_type: &'static str,
    pub object_id: i64,
}

/// A notification as the list shows it.
#[derive(Debug, Clone)]
pub struct NotificationLine {
    pub notification: notification::Model,
    /// Who caused it; none when their account is gone.
    pub actor: Option<String>,
}

impl NotificationLine {
    /// "Ada Lovelace mentioned you in a note on “…”".
    pub fn text(&self) -> String {
        format!(
            "{} {}",
            self.actor.as_deref().unwrap_or("A former member"),
            self.notification.summary
        )
    }

    pub fn unread(&self) -> bool {
        self.notification.read_at.is_none()
    }
}

/// The condition "`user` is a member of `ws`", as a subquery the notification queries carry.
fn still_member(user: UserId, ws: WorkspaceId) -> sea_orm::sea_query::SimpleExpr {
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(membership::Entity)
            .and_where(membership::Column::UserId.eq(user.0))
            .and_where(membership::Column::WorkspaceId.eq(ws.0))
            .to_owned(),
    )
}

/// Tells `user` of something in `ws`, in `conn` (the transaction of the change). Someone who is
/// not (or no longer) a member of `ws` is told nothing; returns whether they were told.
pub async fn notify<C: ConnectionTrait>(
    conn: &C,
    user: UserId,
    ws: WorkspaceId,
    notice: &Notice,
) -> Result<bool> {
    let member = membership::Entity::find()
        .filter(membership::Column::UserId.eq(user.0))
        .filter(membership::Column::WorkspaceId.eq(ws.0))
        .count(conn)
        .await?
        > 0;
    if !member {
        return Ok(false);
    }
    if !notice.link.starts_with(&format!("/w/{}/", ws.0)) {
        return Err(anyhow::anyhow!("a notification links outside its workspace").into());
    }
    notification::ActiveModel {
        user_id: Set(user.0),
        workspace_id: Set(ws.0),
        actor_id: Set(notice.actor.map(|a| a.0)),
        kind: Set(notice.kind),
        summary: Set(notice.summary.clone()),
        link: Set(notice.link.clone()),
        object_type: Set(notice.object_type.to_owned()),
        object_id: Set(Some(notice.object_id)),
        created_at: Set(crate::now()),
        read_at: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(true)
}

/// Deletes the notifications about `ids` of `object_type` (a deleted post or note: there is
/// nothing left to follow them to), in `conn`.
pub async fn withdraw<C: ConnectionTrait>(
    conn: &C,
    object_type: &'static str,
    ids: impl IntoIterator<Item = i64>,
) -> Result<()> {
    let ids: Vec<i64> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(());
    }
    notification::Entity::delete_many()
        .filter(notification::Column::ObjectType.eq(object_type))
        .filter(notification::Column::ObjectId.is_in(ids))
        .exec(conn)
        .await?;
    Ok(())
}

/// Marks read every notification of `kind` about `object_type` `id` (a post's approval
/// requests, once it is decided: nobody needs to act on them any more), in `conn`.
pub async fn settle<C: ConnectionTrait>(
    conn: &C,
    kind: NotificationKind,
    object_type: &'static str,
    id: i64,
) -> Result<()> {
    notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(crate::now()))
        .filter(notification::Column::Kind.eq(kind.as_str()))
        .filter(notification::Column::ObjectType.eq(object_type))
        .filter(notification::Column::ObjectId.eq(id))
        .filter(notification::Column::ReadAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// Deletes `user`'s notifications in `ws`, in `conn`: their membership ends.
pub async fn forget_member<C: ConnectionTrait>(
    conn: &C,
    user: UserId,
    ws: WorkspaceId,
) -> Result<()> {
    notification::Entity::delete_many()
        .filter(notification::Column::UserId.eq(user.0))
        .filter(notification::Column::WorkspaceId.eq(ws.0))
        .exec(conn)
        .await?;
    Ok(())
}

impl Services {
    /// `user`'s notifications in `ws`, newest first, [`PAGE`] at a time, older than `before`
    /// when given. Not a member: not found.
    #[tracing::instrument(skip_all, fields(user = user.0, workspace = ws.0))]
    pub async fn notifications(
        &self,
        user: UserId,
        ws: WorkspaceId,
        before: Option<NotificationId>,
    ) -> Result<Vec<NotificationLine>> {
        let mut query = notification::Entity::find()
            .filter(notification::Column::UserId.eq(user.0))
            .filter(notification::Column::WorkspaceId.eq(ws.0))
            .filter(still_member(user, ws));
        if let Some(before) = before {
            query = query.filter(notification::Column::Id.lt(before.0));
        }
        let rows = query
            .order_by_desc(notification::Column::Id)
            .limit(PAGE)
            .all(&self.db)
            .await?;
        let actors: Vec<i64> = rows.iter().filter_map(|n| n.actor_id).collect();
        let names: std::collections::HashMap<i64, String> = if actors.is_empty() {
            Default::default()
        } else {
            user::Entity::find()
                .filter(user::Column::Id.is_in(actors))
                .all(&self.db)
                .await?
                .into_iter()
                .map(|u| (u.id, u.name))
                .collect()
        };
        Ok(rows
            .into_iter()
            .map(|n| NotificationLine {
                actor: n.actor_id.and_then(|id| names.get(&id).cloned()),
                notification: n,
            })
            .collect())
    }

    /// How many of `user`'s notifications in `ws` are unread: one indexed count (none when they
    /// are not a member).
    pub async fn unread_notifications(&self, user: UserId, ws: WorkspaceId) -> Result<u64> {
        Ok(notification::Entity::find()
            .filter(notification::Column::UserId.eq(user.0))
            .filter(notification::Column::WorkspaceId.eq(ws.0))
            .filter(notification::Column::ReadAt.is_null())
            .filter(still_member(user, ws))
            .count(&self.db)
            .await?)
    }

    /// Marks one of `user`'s notifications in `ws` read (it may be already) and returns the
    /// path it leads to. Someone else's, another workspace's, or one that does not exist: not
    /// found.
    #[tracing::instrument(skip_all, fields(user = user.0, workspace = ws.0, notification = id.0))]
    pub async fn open_notification(
        &self,
        user: UserId,
        ws: WorkspaceId,
        id: NotificationId,
    ) -> Result<String> {
        let found = notification::Entity::find_by_id(id.0)
            .filter(notification::Column::UserId.eq(user.0))
            .filter(notification::Column::WorkspaceId.eq(ws.0))
            .filter(still_member(user, ws))
            .one(&self.db)
            .await?
            .ok_or(ServiceError::NotFound)?;
        notification::Entity::update_many()
            .col_expr(notification::Column::ReadAt, Expr::value(crate::now()))
            .filter(notification::Column::Id.eq(found.id))
            .filter(notification::Column::ReadAt.is_null())
            .exec(&self.db)
            .await?;
        Ok(found.link)
    }

    /// Marks every unread notification of `user` in `ws` read; returns how many there were.
    #[tracing::instrument(skip_all, fields(user = user.0, workspace = ws.0))]
    pub async fn mark_notifications_read(&self, user: UserId, ws: WorkspaceId) -> Result<u64> {
        let done = notification::Entity::update_many()
            .col_expr(notification::Column::ReadAt, Expr::value(crate::now()))
            .filter(notification::Column::UserId.eq(user.0))
            .filter(notification::Column::WorkspaceId.eq(ws.0))
            .filter(notification::Column::ReadAt.is_null())
            .filter(still_member(user, ws))
            .exec(&self.db)
            .await?;
        Ok(done.rows_affected)
    }
}

//! The activity log: every mutating service writes one entry per change through `record`, in the
//! same transaction as the change.

use crate::Result;
use domain::{ActivityId, WorkspaceId};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use store::entities::{activity, user};

/// What happened, to which object, described for people.
#[derive(Debug, Clone)]
pub struct Entry {
    /// A stable machine name such as `member.role_changed`.
    pub action: &'static str,
    pub object_type: &'static str,
    pub object_id: Option<i64>,
    pub summary: String,
}

pub async fn record<C: ConnectionTrait>(
    conn: &C,
    workspace: WorkspaceId,
    actor: Option<&user::Model>,
    entry: Entry,
) -> Result<()> {
    activity::ActiveModel {
        workspace_id: Set(workspace.0),
        actor_user_id: Set(actor.map(|a| a.id)),
        actor_name: Set(actor
            .map(|a| a.name.clone())
            .unwrap_or_else(|| "System".to_owned())),
        action: Set(entry.action.to_owned()),
        object_type: Set(entry.object_type.to_owned()),
        object_id: Set(entry.object_id),
        summary: Set(entry.summary),
        created_at: Set(crate::now()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Writes several entries by the system (no person acted), each in its workspace's log, in
/// one statement.
pub async fn record_many<C: ConnectionTrait>(
    conn: &C,
    entries: Vec<(WorkspaceId, Entry)>,
) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let now = crate::now();
    activity::Entity::insert_many(
        entries
            .into_iter()
            .map(|(ws, entry)| activity::ActiveModel {
                workspace_id: Set(ws.0),
                actor_user_id: Set(None),
                actor_name: Set("System".to_owned()),
                action: Set(entry.action.to_owned()),
                object_type: Set(entry.object_type.to_owned()),
                object_id: Set(entry.object_id),
                summary: Set(entry.summary),
                created_at: Set(now),
                ..Default::default()
            }),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// The newest entries first, `limit` at a time, older than `before` (an entry id) when given.
async fn list<C: ConnectionTrait>(
    conn: &C,
    workspace: WorkspaceId,
    limit: u64,
    before: Option<i64>,
) -> Result<Vec<activity::Model>> {
    let mut query = activity::Entity::find().filter(activity::Column::WorkspaceId.eq(workspace.0));
    if let Some(before) = before {
        query = query.filter(activity::Column::Id.lt(before));
    }
    Ok(query
        .order_by_desc(activity::Column::Id)
        .limit(limit)
        .all(conn)
        .await?)
}

impl crate::Services {
    /// A workspace's activity log, the newest entries first, `limit` at a time, older than
    /// `before` (an entry id) when given.
    pub async fn activity_of(
        &self,
        workspace: WorkspaceId,
        limit: u64,
        before: Option<ActivityId>,
    ) -> Result<Vec<activity::Model>> {
        list(&self.db, workspace, limit, before.map(i64::from)).await
    }
}

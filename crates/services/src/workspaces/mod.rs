//! Workspaces and their members: create, rename, invite, accept, change role, remove, leave.
//!
//! Every change that depends on who the owners are starts by writing the workspace row, which
//! serialises such changes on both backends (a row lock on PostgreSQL, the write lock on SQLite),
//! so two owners demoting each other at once cannot leave a workspace without an owner.
//!
//! Invitations are limited per address, per inviter and per workspace ([`InvitationLimits`]),
//! counted from their rows, which is why a withdrawn or replaced invitation is not deleted at
//! once but stops working and is purged a day later.

pub mod invitations;

use crate::activity::{self, Entry};
use crate::{Result, ServiceError, Services};
use domain::{MembershipId, Role, UserId, WorkspaceId, WorkspaceName};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};
use store::entities::{invitation, membership, preview_link, user, workspace};

/// The signed-in user's place in one workspace: what every workspace-scoped request carries.
#[derive(Debug, Clone)]
pub struct Membership {
    pub id: MembershipId,
    pub workspace: workspace::Model,
    pub role: Role,
    /// The member asked for the weekly analytics report by e-mail.
    pub weekly_report: bool,
}

impl Membership {
    pub fn workspace_id(&self) -> WorkspaceId {
        WorkspaceId(self.workspace.id)
    }
}

/// A member as listed on the members page.
#[derive(Debug, Clone)]
pub struct Member {
    pub membership_id: MembershipId,
    pub user_id: UserId,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub joined: chrono::DateTime<chrono::Utc>,
    /// Named as an approver.
    pub approver: bool,
}

/// The names of the people `ids` names (those whose account is gone are left out): one query.
pub(crate) async fn names_of<C: ConnectionTrait>(
    conn: &C,
    ids: impl IntoIterator<Item = i64>,
) -> Result<std::collections::HashMap<i64, String>> {
    Ok(user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect())
}

/// Sorts memberships as the switcher lists them: by workspace name (case aside), then id.
pub(crate) fn by_name(list: &mut [Membership]) {
    list.sort_by_cached_key(|m| (m.workspace.name.to_lowercase(), m.workspace.id));
}

pub(crate) fn role_of(stored: &str) -> Result<Role> {
    Role::parse(stored)
        .map_err(|_| anyhow::anyhow!("a membership has an unknown role {stored:?}").into())
}

/// Takes the workspace's write lock for the rest of the transaction.
pub(crate) async fn lock_workspace<C: ConnectionTrait>(conn: &C, id: WorkspaceId) -> Result<()> {
    let res = workspace::Entity::update_many()
        .col_expr(workspace::Column::UpdatedAt, Expr::value(crate::now()))
        .filter(workspace::Column::Id.eq(id.0))
        .exec(conn)
        .await?;
    if res.rows_affected == 0 {
        return Err(ServiceError::NotFound);
    }
    Ok(())
}

/// Starts a change to the workspace: takes its write lock, then reads the actor's role again
/// under it, so that a role changed (or a membership ended) a moment ago by someone else counts,
/// not the one the page was loaded with.
pub(crate) async fn lock_as_member<C: ConnectionTrait>(
    conn: &C,
    ctx: &Membership,
) -> Result<membership::Model> {
    lock_workspace(conn, ctx.workspace_id()).await?;
    let (me, _) = member_row(conn, ctx.workspace_id(), ctx.id).await?;
    Ok(me)
}

/// As `lock_as_member`, for changes only owners and admins may make; returns the actor's role.
pub(crate) async fn lock_as_manager<C: ConnectionTrait>(
    conn: &C,
    ctx: &Membership,
) -> Result<Role> {
    let role = role_of(&lock_as_member(conn, ctx).await?.role)?;
    if role.can_manage_members() {
        Ok(role)
    } else {
        Err(ServiceError::Forbidden(
            "Only owners and admins can manage members.".into(),
        ))
    }
}

/// As `lock_as_member`, for changes to posts, campaigns and media, which viewers may not make.
pub(crate) async fn lock_as_editor<C: ConnectionTrait>(
    conn: &C,
    ctx: &Membership,
) -> Result<membership::Model> {
    let me = lock_as_member(conn, ctx).await?;
    if role_of(&me.role)?.can_publish() {
        Ok(me)
    } else {
        Err(ServiceError::Forbidden(
            "Viewers can read posts and campaigns but not change them. Ask an owner or admin \
             for the editor role."
                .into(),
        ))
    }
}

pub(crate) async fn owner_count<C: ConnectionTrait>(conn: &C, id: WorkspaceId) -> Result<u64> {
    Ok(membership::Entity::find()
        .filter(membership::Column::WorkspaceId.eq(id.0))
        .filter(membership::Column::Role.eq(Role::Owner.as_str()))
        .count(conn)
        .await?)
}

/// Refuses a change that would leave the workspace without an owner: `current` is the role the
/// member holds before the change.
pub(crate) async fn keep_an_owner<C: ConnectionTrait>(
    conn: &C,
    ws: WorkspaceId,
    current: Role,
    refusal: &str,
) -> Result<()> {
    if current == Role::Owner && owner_count(conn, ws).await? <= 1 {
        return Err(ServiceError::Forbidden(refusal.to_owned()));
    }
    Ok(())
}

/// Ends a membership, withdraws the invitations the member sent that nobody accepted yet (they
/// speak for someone who is no longer here), and records why.
pub(crate) async fn end_membership<C: ConnectionTrait>(
    conn: &C,
    ws: WorkspaceId,
    actor: &user::Model,
    member: &membership::Model,
    action: &'static str,
    summary: String,
) -> Result<()> {
    let membership_id = member.id;
    membership::Entity::delete_by_id(membership_id)
        .exec(conn)
        .await?;
    withdraw_pending(
        conn,
        sea_orm::Condition::all()
            .add(invitation::Column::WorkspaceId.eq(ws.0))
            .add(invitation::Column::InvitedBy.eq(member.user_id)),
        crate::now(),
    )
    .await?;
    // The client preview links they made stop working with their membership.
    preview_link::Entity::update_many()
        .col_expr(
            preview_link::Column::RevokedAt,
            Expr::value(Some(crate::now())),
        )
        .filter(preview_link::Column::WorkspaceId.eq(ws.0))
        .filter(preview_link::Column::CreatedBy.eq(member.user_id))
        .filter(preview_link::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    // What they were told in this workspace is no longer theirs to read.
    crate::notifications::forget_member(conn, UserId(member.user_id), ws).await?;
    activity::record(
        conn,
        ws,
        Some(actor),
        Entry {
            action,
            object_type: "membership",
            object_id: Some(membership_id),
            summary,
        },
    )
    .await
}

/// A member of `ws` by membership id; a membership of another workspace is "not found".
pub(crate) async fn member_row<C: ConnectionTrait>(
    conn: &C,
    ws: WorkspaceId,
    id: MembershipId,
) -> Result<(membership::Model, user::Model)> {
    let found = membership::Entity::find_by_id(id.0)
        .filter(membership::Column::WorkspaceId.eq(ws.0))
        .find_also_related(user::Entity)
        .one(conn)
        .await?;
    match found {
        Some((m, Some(u))) => Ok((m, u)),
        _ => Err(ServiceError::NotFound),
    }
}

impl Services {
    /// Creates a workspace with `owner` as its first owner.
    #[tracing::instrument(skip_all)]
    pub async fn create_workspace(
        &self,
        owner: &user::Model,
        name: &WorkspaceName,
    ) -> Result<workspace::Model> {
        let now = crate::now();
        let txn = self.db.begin().await?;
        let ws = workspace::ActiveModel {
            name: Set(name.as_str().to_owned()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        membership::ActiveModel {
            workspace_id: Set(ws.id),
            user_id: Set(owner.id),
            role: Set(Role::Owner.as_str().to_owned()),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        activity::record(
            &txn,
            WorkspaceId(ws.id),
            Some(owner),
            Entry {
                action: "workspace.created",
                object_type: "workspace",
                object_id: Some(ws.id),
                summary: format!("created the workspace \"{}\"", ws.name),
            },
        )
        .await?;
        txn.commit().await?;
        self.remember_workspace(owner, WorkspaceId(ws.id)).await?;
        Ok(ws)
    }

    /// Every membership of the user, by workspace name. (Pages read the same list with the
    /// session, in the signed-in frame: `crate::frame`.)
    pub async fn memberships_of(&self, user_id: UserId) -> Result<Vec<Membership>> {
        let rows = membership::Entity::find()
            .filter(membership::Column::UserId.eq(user_id.0))
            .find_also_related(workspace::Entity)
            .all(&self.db)
            .await?;
        let mut list = Vec::with_capacity(rows.len());
        for (m, ws) in rows {
            if let Some(workspace) = ws {
                list.push(Membership {
                    id: MembershipId(m.id),
                    role: role_of(&m.role)?,
                    workspace,
                    weekly_report: m.weekly_report,
                });
            }
        }
        by_name(&mut list);
        Ok(list)
    }

    /// Remembers the workspace the user opened last, to open it next time. Writes only when it
    /// changed, so reading a workspace's pages does not write.
    pub async fn remember_workspace(&self, user: &user::Model, ws: WorkspaceId) -> Result<()> {
        if user.last_workspace_id == Some(ws.0) {
            return Ok(());
        }
        user::Entity::update_many()
            .col_expr(user::Column::LastWorkspaceId, Expr::value(ws.0))
            .filter(user::Column::Id.eq(user.id))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(workspace = ctx.workspace.id))]
    pub async fn rename_workspace(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        name: &WorkspaceName,
    ) -> Result<()> {
        let txn = self.db.begin().await?;
        lock_as_manager(&txn, ctx).await?;
        workspace::Entity::update_many()
            .col_expr(workspace::Column::Name, Expr::value(name.as_str()))
            .col_expr(workspace::Column::UpdatedAt, Expr::value(crate::now()))
            .filter(workspace::Column::Id.eq(ctx.workspace.id))
            .exec(&txn)
            .await?;
        activity::record(
            &txn,
            ctx.workspace_id(),
            Some(actor),
            Entry {
                action: "workspace.renamed",
                object_type: "workspace",
                object_id: Some(ctx.workspace.id),
                summary: format!(
                    "renamed the workspace from \"{}\" to \"{}\"",
                    ctx.workspace.name,
                    name.as_str()
                ),
            },
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    pub async fn members(&self, ws: WorkspaceId) -> Result<Vec<Member>> {
        let rows = membership::Entity::find()
            .filter(membership::Column::WorkspaceId.eq(ws.0))
            .find_also_related(user::Entity)
            .order_by_asc(membership::Column::CreatedAt)
            .all(&self.db)
            .await?;
        let mut members = Vec::with_capacity(rows.len());
        for (m, u) in rows {
            if let Some(u) = u {
                members.push(Member {
                    membership_id: MembershipId(m.id),
                    user_id: UserId(u.id),
                    name: u.name,
                    email: u.email,
                    role: role_of(&m.role)?,
                    joined: m.created_at,
                    approver: m.approver,
                });
            }
        }
        Ok(members)
    }

    #[tracing::instrument(skip_all, fields(workspace = ctx.workspace.id))]
    pub async fn change_role(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        target: MembershipId,
        role: Role,
    ) -> Result<()> {
        let txn = self.db.begin().await?;
        let my_role = lock_as_manager(&txn, ctx).await?;
        let (member, person) = member_row(&txn, ctx.workspace_id(), target).await?;
        let current = role_of(&member.role)?;
        if !my_role.may_manage(current, Some(role)) {
            return Err(ServiceError::Forbidden(
                "Only owners can change an owner's role or make someone an owner.".into(),
            ));
        }
        if current == role {
            return Ok(());
        }
        keep_an_owner(
            &txn,
            ctx.workspace_id(),
            current,
            "A workspace needs at least one owner. Make someone else an owner first.",
        )
        .await?;
        membership::Entity::update_many()
            .col_expr(membership::Column::Role, Expr::value(role.as_str()))
            .filter(membership::Column::Id.eq(member.id))
            .exec(&txn)
            .await?;
        let summary = format!(
            "changed {}'s role from {} to {}",
            person.name,
            current.label(),
            role.label()
        );
        let entry = Entry {
            action: "member.role_changed",
            object_type: "membership",
            object_id: Some(member.id),
            summary,
        };
        activity::record(&txn, ctx.workspace_id(), Some(actor), entry).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Removes another member. (Removing oneself is leaving.)
    #[tracing::instrument(skip_all, fields(workspace = ctx.workspace.id))]
    pub async fn remove_member(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        target: MembershipId,
    ) -> Result<()> {
        if target == ctx.id {
            return self.leave_workspace(ctx, actor).await;
        }
        let txn = self.db.begin().await?;
        let my_role = lock_as_manager(&txn, ctx).await?;
        let (member, person) = member_row(&txn, ctx.workspace_id(), target).await?;
        let current = role_of(&member.role)?;
        if !my_role.may_manage(current, None) {
            return Err(ServiceError::Forbidden(
                "Only owners can remove an owner.".into(),
            ));
        }
        keep_an_owner(
            &txn,
            ctx.workspace_id(),
            current,
            "The last owner cannot be removed.",
        )
        .await?;
        let summary = format!("removed {} ({})", person.name, current.label());
        end_membership(
            &txn,
            ctx.workspace_id(),
            actor,
            &member,
            "member.removed",
            summary,
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(workspace = ctx.workspace.id))]
    pub async fn leave_workspace(&self, ctx: &Membership, actor: &user::Model) -> Result<()> {
        let txn = self.db.begin().await?;
        let me = lock_as_member(&txn, ctx).await?;
        keep_an_owner(
            &txn,
            ctx.workspace_id(),
            role_of(&me.role)?,
            "You are the last owner of this workspace. Make someone else an owner before you leave.",
        )
        .await?;
        let summary = "left the workspace".to_owned();
        end_membership(&txn, ctx.workspace_id(), actor, &me, "member.left", summary).await?;
        txn.commit().await?;
        Ok(())
    }

    /// How many owners the workspace has (the members page offers "Leave" accordingly).
    pub async fn owners(&self, ws: WorkspaceId) -> Result<u64> {
        owner_count(&self.db, ws).await
    }
}

/// Makes the pending invitations that `filter` picks stop working now. Their rows stay for
/// [`SPENT_KEPT`], so that they still count towards the limits.
async fn withdraw_pending<C: ConnectionTrait>(
    conn: &C,
    filter: sea_orm::Condition,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<u64> {
    let res = invitation::Entity::update_many()
        .col_expr(invitation::Column::ExpiresAt, Expr::value(now))
        .filter(filter)
        .filter(invitation::Column::AcceptedAt.is_null())
        .filter(invitation::Column::ExpiresAt.gt(now))
        .exec(conn)
        .await?;
    Ok(res.rows_affected)
}

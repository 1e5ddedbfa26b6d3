//! Workspaces and their members: create, rename, invite, accept, change role, remove, leave.
//!
//! Every change that depends on who the owners are starts by writing the workspace row, which
//! serialises such changes on both backends (a row lock on PostgreSQL, the write lock on SQLite),
//! so two owners demoting each other at once cannot leave a workspace without an owner.
//!
//! Invitations are limited per address, per inviter and per workspace ([`InvitationLimits`]),
//! counted from their rows, which is why a withdrawn or replaced invitation is not deleted at
//! once but stops working and is purged a day later.

use crate::activity::{self, Entry};
use crate::{Result, ServiceError, Services, emails, tokens};
use chrono::Duration;
use domain::{Email, MembershipId, Role, UserId, WorkspaceId, WorkspaceName};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};
use store::entities::{invitation, membership, user, workspace};

pub const INVITATION_LIFETIME: Duration = Duration::days(7);

/// How many invitations may be sent: to one address (from all workspaces together) and by one
/// workspace in a day, and by one person in an hour. They are counted from the invitations
/// table, whose rows stay, withdrawn and replaced ones too, until a day after they stopped
/// working ([`SPENT_KEPT`]), so the limits hold across restarts and any number of processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvitationLimits {
    pub per_recipient_per_day: u32,
    pub per_inviter_per_hour: u32,
    pub per_workspace_per_day: u32,
}

impl Default for InvitationLimits {
    fn default() -> Self {
        Self {
            per_recipient_per_day: 3,
            per_inviter_per_hour: 20,
            per_workspace_per_day: 50,
        }
    }
}

/// How long an invitation that no longer works (expired, withdrawn or replaced, never
/// accepted) is kept before it is deleted: as long as the longest window it is counted in.
pub const SPENT_KEPT: Duration = Duration::days(1);

/// The form field a refusal for a reached invitation limit is reported under; the invite form
/// shows it next to the address, with the status 429.
pub const LIMIT_FIELD: &str = "invitation_limit";

/// One of the invitation limits: what is counted, how many, over how long.
struct Limit {
    max: u32,
    window: Duration,
    filter: sea_orm::Condition,
}

/// When the limit is reached, the moment it allows one more: the invitation that then leaves the
/// window is the `max`-th newest.
async fn limit_resets_at<C: ConnectionTrait>(
    conn: &C,
    limit: Limit,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
    use sea_orm::QuerySelect;
    let newest: Vec<chrono::DateTime<chrono::Utc>> = invitation::Entity::find()
        .select_only()
        .column(invitation::Column::CreatedAt)
        .filter(limit.filter)
        .filter(invitation::Column::CreatedAt.gt(now - limit.window))
        .order_by_desc(invitation::Column::CreatedAt)
        .limit(u64::from(limit.max))
        .into_tuple()
        .all(conn)
        .await?;
    if limit.max == 0 || newest.len() < limit.max as usize {
        return Ok(None);
    }
    Ok(newest.last().map(|oldest| *oldest + limit.window))
}

/// "at 14:05 on 3 Dec (Europe/Berlin), in about 40 minutes": when a limit allows more, in the
/// reader's time zone.
fn reset_time(
    at: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
    tz: &str,
) -> String {
    let zone = domain::Timezone::parse(tz).unwrap_or_else(|_| domain::Timezone::utc());
    let local = at.with_timezone(&zone.tz()).format("%H:%M on %-d %b");
    let minutes = ((at - now).num_seconds() + 59).div_euclid(60).max(1);
    let wait = if minutes >= 120 {
        domain::counted((minutes + 30) / 60, "hour", "hours")
    } else {
        domain::counted(minutes, "minute", "minutes")
    };
    format!("at {local} ({}), in about {wait}", zone.name())
}

/// On PostgreSQL, serialises the transactions that count and add invitations for `key` (an
/// inviter or an address) until they end; on SQLite the workspace's write lock, taken first,
/// already serialises every writer.
async fn lock_key<C: ConnectionTrait>(conn: &C, key: &str) -> Result<()> {
    use sea_orm::{DbBackend, Statement};
    if conn.get_database_backend() == DbBackend::Postgres {
        conn.query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))::text",
            [format!("socializioz-invitations:{key}").into()],
        ))
        .await?;
    }
    Ok(())
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

/// Deletes the invitations that stopped working, unaccepted, more than [`SPENT_KEPT`] ago.
pub async fn purge_spent_invitations<C: ConnectionTrait>(
    conn: &C,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<u64> {
    let res = invitation::Entity::delete_many()
        .filter(invitation::Column::AcceptedAt.is_null())
        .filter(invitation::Column::ExpiresAt.lt(now - SPENT_KEPT))
        .exec(conn)
        .await?;
    Ok(res.rows_affected)
}

/// The signed-in user's place in one workspace: what every workspace-scoped request carries.
#[derive(Debug, Clone)]
pub struct Membership {
    pub id: MembershipId,
    pub workspace: workspace::Model,
    pub role: Role,
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
}

/// An invitation looked up by its link, for the acceptance page.
#[derive(Debug, Clone)]
pub struct InvitationView {
    pub invitation: invitation::Model,
    pub workspace_name: String,
    pub role: Role,
}

fn role_of(stored: &str) -> Result<Role> {
    Role::parse(stored)
        .map_err(|_| anyhow::anyhow!("a membership has an unknown role {stored:?}").into())
}

/// Takes the workspace's write lock for the rest of the transaction.
async fn lock_workspace<C: ConnectionTrait>(conn: &C, id: WorkspaceId) -> Result<()> {
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
async fn lock_as_member<C: ConnectionTrait>(
    conn: &C,
    ctx: &Membership,
) -> Result<membership::Model> {
    lock_workspace(conn, ctx.workspace_id()).await?;
    let (me, _) = member_row(conn, ctx.workspace_id(), ctx.id).await?;
    Ok(me)
}

/// As `lock_as_member`, for changes only owners and admins may make; returns the actor's role.
async fn lock_as_manager<C: ConnectionTrait>(conn: &C, ctx: &Membership) -> Result<Role> {
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
pub(crate) async fn lock_as_editor<C: ConnectionTrait>(conn: &C, ctx: &Membership) -> Result<()> {
    let role = role_of(&lock_as_member(conn, ctx).await?.role)?;
    if role.can_publish() {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(
            "Viewers can read posts and campaigns but not change them. Ask an owner or admin \
             for the editor role."
                .into(),
        ))
    }
}

async fn owner_count<C: ConnectionTrait>(conn: &C, id: WorkspaceId) -> Result<u64> {
    Ok(membership::Entity::find()
        .filter(membership::Column::WorkspaceId.eq(id.0))
        .filter(membership::Column::Role.eq(Role::Owner.as_str()))
        .count(conn)
        .await?)
}

/// Refuses a change that would leave the workspace without an owner: `current` is the role the
/// member holds before the change.
async fn keep_an_owner<C: ConnectionTrait>(
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
async fn end_membership<C: ConnectionTrait>(
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
async fn member_row<C: ConnectionTrait>(
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

    /// Every membership of the user, by workspace name: the switcher's list, and (found in it)
    /// the membership a workspace-scoped request acts through. One query serves both.
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
                });
            }
        }
        list.sort_by_cached_key(|m| (m.workspace.name.to_lowercase(), m.workspace.id));
        Ok(list)
    }

    pub async fn member_count(&self, ws: WorkspaceId) -> Result<u64> {
        Ok(membership::Entity::find()
            .filter(membership::Column::WorkspaceId.eq(ws.0))
            .count(&self.db)
            .await?)
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
                });
            }
        }
        Ok(members)
    }

    /// Invitations neither accepted nor expired.
    pub async fn pending_invitations(&self, ws: WorkspaceId) -> Result<Vec<invitation::Model>> {
        Ok(invitation::Entity::find()
            .filter(invitation::Column::WorkspaceId.eq(ws.0))
            .filter(invitation::Column::AcceptedAt.is_null())
            .filter(invitation::Column::ExpiresAt.gt(crate::now()))
            .order_by_desc(invitation::Column::CreatedAt)
            .all(&self.db)
            .await?)
    }

    /// Invites `email` with `role` and e-mails the link. A pending invitation for the same
    /// address is replaced. Refused, under [`LIMIT_FIELD`], once one of the
    /// [`InvitationLimits`] is reached: the message names the limit and when it allows more.
    #[tracing::instrument(skip_all, fields(workspace = ctx.workspace.id))]
    pub async fn invite(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        email: &Email,
        role: Role,
    ) -> Result<invitation::Model> {
        if actor.email_verified_at.is_none() {
            return Err(ServiceError::invalid(
                "email",
                "Confirm your own e-mail address before inviting others (see the notice at the top of the page).",
            ));
        }
        let txn = self.db.begin().await?;
        let my_role = lock_as_manager(&txn, ctx).await?;
        if !my_role.may_manage(Role::Viewer, Some(role)) {
            return Err(ServiceError::invalid(
                "role",
                "Only owners can invite owners.",
            ));
        }
        let already = membership::Entity::find()
            .filter(membership::Column::WorkspaceId.eq(ctx.workspace.id))
            .find_also_related(user::Entity)
            .filter(user::Column::Email.eq(email.as_str()))
            .one(&txn)
            .await?;
        if already.is_some() {
            return Err(ServiceError::invalid(
                "email",
                "This person is already a member of the workspace.",
            ));
        }
        let now = crate::now();
        self.check_invitation_limits(&txn, ctx, actor, email, now)
            .await?;
        let token = tokens::random_token();
        withdraw_pending(
            &txn,
            sea_orm::Condition::all()
                .add(invitation::Column::WorkspaceId.eq(ctx.workspace.id))
                .add(invitation::Column::Email.eq(email.as_str())),
            now,
        )
        .await?;
        purge_spent_invitations(&txn, now).await?;
        let inv = invitation::ActiveModel {
            workspace_id: Set(ctx.workspace.id),
            email: Set(email.as_str().to_owned()),
            role: Set(role.as_str().to_owned()),
            token_hash: Set(tokens::hash_token(&token)),
            invited_by: Set(Some(actor.id)),
            expires_at: Set(now + INVITATION_LIFETIME),
            accepted_at: Set(None),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let link = format!("{}/invitations/{token}", self.base_url);
        emails::queue(
            &txn,
            emails::invitation(
                email.as_str(),
                &actor.name,
                &ctx.workspace.name,
                role.label(),
                &link,
            ),
            None,
        )
        .await?;
        activity::record(
            &txn,
            ctx.workspace_id(),
            Some(actor),
            Entry {
                action: "invitation.created",
                object_type: "invitation",
                object_id: Some(inv.id),
                summary: format!("invited {} as {}", email, role.label()),
            },
        )
        .await?;
        txn.commit().await?;
        Ok(inv)
    }

    /// Refuses an invitation that would pass one of the [`InvitationLimits`]. Runs under the
    /// workspace's lock; the inviter's and the address's are taken here, in that order.
    async fn check_invitation_limits<C: ConnectionTrait>(
        &self,
        conn: &C,
        ctx: &Membership,
        actor: &user::Model,
        email: &Email,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<()> {
        let limits = self.invitation_limits;
        lock_key(conn, &format!("user:{}", actor.id)).await?;
        lock_key(conn, &format!("address:{}", email.as_str())).await?;
        let when = |at| reset_time(at, now, &actor.timezone);
        let refuse = |message: String| Err(ServiceError::invalid(LIMIT_FIELD, message));
        let inviter = Limit {
            max: limits.per_inviter_per_hour,
            window: Duration::hours(1),
            filter: sea_orm::Condition::all().add(invitation::Column::InvitedBy.eq(actor.id)),
        };
        if let Some(at) = limit_resets_at(conn, inviter, now).await? {
            return refuse(format!(
                "You can send at most {} an hour, and you have. You can invite again {}.",
                domain::counted(limits.per_inviter_per_hour, "invitation", "invitations"),
                when(at)
            ));
        }
        let workspace = Limit {
            max: limits.per_workspace_per_day,
            window: Duration::days(1),
            filter: sea_orm::Condition::all()
                .add(invitation::Column::WorkspaceId.eq(ctx.workspace.id)),
        };
        if let Some(at) = limit_resets_at(conn, workspace, now).await? {
            return refuse(format!(
                "A workspace can send at most {} in 24 hours, and this one has. It can invite \
                 again {}.",
                domain::counted(limits.per_workspace_per_day, "invitation", "invitations"),
                when(at)
            ));
        }
        let recipient = Limit {
            max: limits.per_recipient_per_day,
            window: Duration::days(1),
            filter: sea_orm::Condition::all().add(invitation::Column::Email.eq(email.as_str())),
        };
        if let Some(at) = limit_resets_at(conn, recipient, now).await? {
            return refuse(format!(
                "One address can be sent at most {} in 24 hours (from all workspaces \
                 together), and this one has been. You can invite it again {}.",
                domain::counted(limits.per_recipient_per_day, "invitation", "invitations"),
                when(at)
            ));
        }
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(workspace = ctx.workspace.id))]
    pub async fn revoke_invitation(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        id: i64,
    ) -> Result<()> {
        let txn = self.db.begin().await?;
        lock_as_manager(&txn, ctx).await?;
        let now = crate::now();
        let inv = invitation::Entity::find_by_id(id)
            .filter(invitation::Column::WorkspaceId.eq(ctx.workspace.id))
            .filter(invitation::Column::AcceptedAt.is_null())
            .filter(invitation::Column::ExpiresAt.gt(now))
            .one(&txn)
            .await?
            .ok_or(ServiceError::NotFound)?;
        // The row stays a day, withdrawn, so that withdrawing and inviting again does not get
        // round the limits on invitations.
        withdraw_pending(
            &txn,
            sea_orm::Condition::all().add(invitation::Column::Id.eq(inv.id)),
            now,
        )
        .await?;
        activity::record(
            &txn,
            ctx.workspace_id(),
            Some(actor),
            Entry {
                action: "invitation.revoked",
                object_type: "invitation",
                object_id: Some(inv.id),
                summary: format!("withdrew the invitation of {}", inv.email),
            },
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// A live invitation by its link.
    pub async fn peek_invitation(&self, token: &str) -> Result<InvitationView> {
        let found = invitation::Entity::find()
            .filter(invitation::Column::TokenHash.eq(tokens::hash_token(token)))
            .find_also_related(workspace::Entity)
            .one(&self.db)
            .await?;
        match found {
            Some((inv, Some(ws))) if inv.accepted_at.is_none() && inv.expires_at > crate::now() => {
                Ok(InvitationView {
                    role: role_of(&inv.role)?,
                    invitation: inv,
                    workspace_name: ws.name,
                })
            }
            _ => Err(ServiceError::invalid(
                "token",
                "This invitation has expired, was withdrawn, or has already been used. Ask for a new one.",
            )),
        }
    }

    /// Accepts an invitation for `user`, whose confirmed address must be the invited one.
    /// Accepts an invitation for `user`, whose address must be the invited one. The link reached
    /// that inbox, so accepting also confirms the address.
    #[tracing::instrument(skip_all, fields(user = user.id))]
    pub async fn accept_invitation(&self, user: &user::Model, token: &str) -> Result<WorkspaceId> {
        let view = self.peek_invitation(token).await?;
        let inv = view.invitation;
        if user.email != inv.email {
            return Err(ServiceError::Forbidden(format!(
                "This invitation was sent to another e-mail address. Sign in with the account for that address to accept it (you are signed in as {}).",
                user.email
            )));
        }
        let ws = WorkspaceId(inv.workspace_id);
        let now = crate::now();
        let txn = self.db.begin().await?;
        lock_workspace(&txn, ws).await?;
        let used = invitation::Entity::update_many()
            .col_expr(invitation::Column::AcceptedAt, Expr::value(now))
            .filter(invitation::Column::Id.eq(inv.id))
            .filter(invitation::Column::AcceptedAt.is_null())
            .exec(&txn)
            .await?;
        if used.rows_affected != 1 {
            return Err(ServiceError::invalid(
                "token",
                "This invitation has already been used.",
            ));
        }
        if user.email_verified_at.is_none() {
            user::Entity::update_many()
                .col_expr(user::Column::EmailVerifiedAt, Expr::value(now))
                .filter(user::Column::Id.eq(user.id))
                .exec(&txn)
                .await?;
        }
        let existing = membership::Entity::find()
            .filter(membership::Column::WorkspaceId.eq(ws.0))
            .filter(membership::Column::UserId.eq(user.id))
            .one(&txn)
            .await?;
        // Someone who joined another way meanwhile keeps their role; the invitation is used up.
        if existing.is_none() {
            let m = membership::ActiveModel {
                workspace_id: Set(ws.0),
                user_id: Set(user.id),
                role: Set(view.role.as_str().to_owned()),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            let summary = format!("joined as {}", view.role.label());
            let entry = Entry {
                action: "member.joined",
                object_type: "membership",
                object_id: Some(m.id),
                summary,
            };
            activity::record(&txn, ws, Some(user), entry).await?;
        }
        txn.commit().await?;
        self.remember_workspace(user, ws).await?;
        Ok(ws)
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

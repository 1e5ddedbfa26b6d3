//! Invitations: sending one (with its limits per address, per inviter and per workspace,
//! counted from the rows, which is why a withdrawn or replaced invitation stops working at once
//! but is purged a day later), withdrawing it, and accepting it from the e-mailed link.

use super::*;
use crate::activity::{self, Entry};
use crate::plans::Need;
use crate::{Result, ServiceError, Services, emails, tokens};
use chrono::Duration;
use domain::plans::Feature;
use domain::{Email, InvitationId, Role, WorkspaceId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
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
    let zone = domain::Timezone::stored(tz);
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

/// An invitation looked up by its link, for the acceptance page.
#[derive(Debug, Clone)]
pub struct InvitationView {
    pub invitation: invitation::Model,
    pub workspace_name: String,
    pub role: Role,
}

impl Services {
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
        self.entitle(
            &txn,
            ctx.workspace_id(),
            Need::Feature(Feature::TeamCollaboration),
        )
        .await?;
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
        id: InvitationId,
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
}

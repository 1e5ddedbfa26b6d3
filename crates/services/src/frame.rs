//! The signed-in frame: what every page of a signed-in person needs before its handler runs,
//! read in one statement. From the session cookie's token: the session and its user, every
//! workspace the person belongs to with their role (the switcher, and the membership a
//! workspace page acts through), and, for the workspace the page is in, the person's unread
//! notifications (the navigation's badge) and its number of members; the newest version of each
//! policy the person accepted (compared with the cached versions in effect, see
//! [`Services::pending_for`]) and whether notices wait for them.
//!
//! The rules are the sessions' (`sessions::keep_alive`): an expired session is deleted and names
//! no one, an ended one is gone, `last_seen_at` is written at most every five minutes. A
//! workspace the person does not belong to (or that does not exist) has no row: its pages are
//! not found. Roles are read with every request, so a changed role counts at once.

use crate::policies::Accepted;
use crate::sessions::{self, AuthSession};
use crate::sql::{Binder, columns};
use crate::workspaces::{Membership, by_name, role_of};
use crate::{Result, Services, tokens};
use domain::policy::PolicyKind;
use domain::{MembershipId, SessionId, WorkspaceId};
use sea_orm::{ConnectionTrait, FromQueryResult, QueryResult};
use store::entities::{user, workspace};

/// What every page of a signed-in person shows or checks.
#[derive(Debug, Clone)]
pub struct Frame {
    pub auth: AuthSession,
    /// Every membership of the person, by workspace name.
    pub memberships: Vec<Membership>,
    /// The workspace the page is in, when the person belongs to it.
    pub here: Option<Here>,
    /// What the person accepted, for the policies they must accept again.
    pub accepted: Accepted,
    /// Notices wait for the person (`Services::take_notices` hands them over).
    pub notices_waiting: bool,
}

/// The person in the workspace the page is in.
#[derive(Debug, Clone)]
pub struct Here {
    pub membership: Membership,
    /// The person's unread notifications in it.
    pub unread: u64,
    /// How many members it has.
    pub members: u64,
}

impl Services {
    /// The frame of the session behind the cookie `token`, with the workspace `here` when the
    /// page is in one; `None` when the token names no live session. One statement (two when
    /// the session is marked seen or deleted as expired).
    pub async fn frame(&self, token: &str, here: Option<WorkspaceId>) -> Result<Option<Frame>> {
        let mut b = Binder::new(self.db.get_database_backend());
        let hash = b.bind(tokens::hash_token(token));
        let accepted: String = PolicyKind::ALL
            .iter()
            .enumerate()
            .map(|(i, kind)| {
                format!(
                    "(SELECT a.version FROM policy_acceptances a WHERE a.user_id = u.id AND \
                     a.kind = {} ORDER BY a.id DESC LIMIT 1) AS accepted_{i}, ",
                    b.bind(kind.slug())
                )
            })
            .collect();
        let here_id = b.bind(here.map(|w| w.0));
        // The session's own columns and the user's are read once (a materialised CTE), then
        // once more with each membership; the counts only on the row of the page's workspace.
        let sql = format!(
            "WITH me AS MATERIALIZED (SELECT s.id AS s_id, s.expires_at AS s_expires_at, \
             s.last_seen_at AS s_last_seen_at, {users}, {accepted}\
             EXISTS (SELECT 1 FROM policy_acceptances a WHERE a.user_id = u.id) AS accepted_any, \
             EXISTS (SELECT 1 FROM notices n WHERE n.user_id = u.id) AS notices_waiting \
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = {hash}) \
             SELECT me.*, m.id AS m_id, m.role AS m_role, m.weekly_report AS m_weekly_report, \
             {workspaces}, \
             CASE WHEN w.id = {here_id} THEN (SELECT COUNT(*) FROM notifications n WHERE \
             n.user_id = me.u_id AND n.workspace_id = w.id AND n.read_at IS NULL) END AS \
             here_unread, \
             CASE WHEN w.id = {here_id} THEN (SELECT COUNT(*) FROM memberships o WHERE \
             o.workspace_id = w.id) END AS here_members \
             FROM me LEFT JOIN memberships m ON m.user_id = me.u_id \
             LEFT JOIN workspaces w ON w.id = m.workspace_id",
            users = columns::<user::Entity>("u", "u_"),
            workspaces = columns::<workspace::Entity>("w", "w_"),
        );
        let rows = self.db.query_all_raw(b.statement(sql)).await?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let session_id = SessionId(first.try_get("", "s_id")?);
        if !sessions::keep_alive(
            &self.db,
            session_id,
            first.try_get("", "s_expires_at")?,
            first.try_get("", "s_last_seen_at")?,
        )
        .await?
        {
            return Ok(None);
        }
        let mut newest = Vec::with_capacity(PolicyKind::ALL.len());
        for (i, kind) in PolicyKind::ALL.iter().enumerate() {
            newest.push((
                *kind,
                first.try_get::<Option<String>>("", &format!("accepted_{i}"))?,
            ));
        }
        let accepted = Accepted::new(newest, first.try_get("", "accepted_any")?);
        let notices_waiting = first.try_get("", "notices_waiting")?;
        let auth = AuthSession {
            session_id,
            user: user::Model::from_query_result(first, "u_")?,
        };
        let mut memberships = Vec::with_capacity(rows.len());
        let mut here = None;
        for row in &rows {
            let Some(membership) = membership_of(row)? else {
                continue;
            };
            if let Some(unread) = row.try_get::<Option<i64>>("", "here_unread")? {
                here = Some(Here {
                    membership: membership.clone(),
                    unread: u64::try_from(unread).unwrap_or(0),
                    members: u64::try_from(row.try_get::<i64>("", "here_members")?).unwrap_or(0),
                });
            }
            memberships.push(membership);
        }
        by_name(&mut memberships);
        Ok(Some(Frame {
            auth,
            memberships,
            here,
            accepted,
            notices_waiting,
        }))
    }
}

/// The membership on a row of the frame (none on the row of a person without any).
fn membership_of(row: &QueryResult) -> Result<Option<Membership>> {
    let (Some(id), Some(_)) = (
        row.try_get::<Option<i64>>("", "m_id")?,
        row.try_get::<Option<i64>>("", "w_id")?,
    ) else {
        return Ok(None);
    };
    Ok(Some(Membership {
        id: MembershipId(id),
        role: role_of(&row.try_get::<String>("", "m_role")?)?,
        workspace: workspace::Model::from_query_result(row, "w_")?,
        weekly_report: row.try_get::<bool>("", "m_weekly_report")?,
    }))
}

//! Account deletion: everything at once, proven.
//!
//! Confirming (in the app, or through a request e-mailed to the privacy address) starts a
//! deletion in one transaction: the account can no longer sign in (its address and password
//! are replaced, its sessions and links deleted), an `account_deletions` row records the plan
//! (which workspaces go, which are handed over to their other owners, and whether the posts
//! and files the person made in workspaces others keep go too: by default they do, see
//! `kept_work`), the publish jobs of those posts are withdrawn, and a job is queued that carries
//! it out should this process die. The deletion then runs at once, in steps that each record
//! the next, so a crash resumes where it stopped:
//!
//! 1. `revoke`: the tokens of the connected accounts of the deleted workspaces are revoked at
//!    the platforms (best effort; each outcome goes into the receipt as it happens).
//! 2. `receipt`: the receipt (what is deleted, what is kept and for how long, the revocations)
//!    is e-mailed to the address, which is still known.
//! 3. `rows`: one transaction deletes the person's posts and files in workspaces others keep
//!    (unless they chose to leave them; their other members get a notice naming the scheduled
//!    posts withdrawn), every row the data map ties to the person and the deleted workspaces,
//!    clears their name and id from the rows the remaining workspaces keep, adds keyed hashes
//!    of the deleted ids to the forget list, tells the other owners (and leaves each member of
//!    a deleted workspace a notice for their next page), and erases the address from the
//!    deletion row.
//! 4. `objects`: the media store objects of the deleted rows, and everything under the deleted
//!    workspaces' prefixes, are removed.
//! 5. `in_flight`, only when a post of theirs had a platform call under way at step 3: it is
//!    deleted (with the files it carries) once the call has ended; until then the step fails
//!    and the deletion's job tries again later.
//!
//! Which tables are touched, and how, comes from `store::datamap` only: a table is deleted,
//! checked for residue and re-applied after a restore by being classified there.

use crate::connections::Revocation;
use crate::datamap::{self as plan, Subject};
use crate::{Result, ServiceError, Services, activity, emails, notices, queue};
use domain::{Role, WorkspaceId};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashSet};

mod kept_work;
pub use kept_work::{KeptLine, KeptWork};
use store::datamap::{self, Names, OnDeletion, Owner, TABLES, Then};
use store::entities::{
    account_deletion, deletion_request, email_token, forget_entry, membership, oauth_state,
    session, social_account, user, workspace,
};

pub const JOB_KIND: &str = "delete_account";

/// The purpose under which ids are hashed for the forget list.
const FORGET: &str = "forget-list";

/// How long the safety-net job waits before resuming a deletion that the request running it
/// did not finish (a crash, a restart).
const RESUME_AFTER: chrono::Duration = chrono::Duration::minutes(2);

/// Where the deletion was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// From the settings page, after the password and the typed confirmation.
    App,
    /// A request sent to the privacy address, confirmed from the account's mailbox.
    Email,
}

impl Via {
    fn as_str(self) -> &'static str {
        match self {
            Self::App => "app",
            Self::Email => "email",
        }
    }
}

/// A step of a deletion; each is stored before the next begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Revoke,
    Receipt,
    Rows,
    Objects,
    /// Waiting for the platform calls under way on posts the deletion deletes.
    InFlight,
    Done,
}

impl Step {
    fn as_str(self) -> &'static str {
        match self {
            Self::Revoke => "revoke",
            Self::Receipt => "receipt",
            Self::Rows => "rows",
            Self::Objects => "objects",
            Self::InFlight => "in_flight",
            Self::Done => "done",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [
            Self::Revoke,
            Self::Receipt,
            Self::Rows,
            Self::Objects,
            Self::InFlight,
            Self::Done,
        ]
        .into_iter()
        .find(|step| step.as_str() == s)
    }
}

/// What a deletion did to one connected account at its platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationLine {
    pub account_id: i64,
    pub platform: String,
    pub username: String,
    /// `revoked`, `not_offered`, `failed`, `shared`.
    pub outcome: String,
    /// For people: what happened and what is left to do.
    pub detail: String,
}

impl RevocationLine {
    pub fn revoked(&self) -> bool {
        self.outcome == "revoked"
    }
}

/// A workspace the deletion removes or hands over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceLine {
    pub id: i64,
    pub name: String,
    /// The other people in it: (user id, name, address, role).
    pub others: Vec<(i64, String, String, String)>,
}

/// The record a deletion builds as it goes (stored as JSON on its row): the plan, the
/// revocations, and what was deleted. Reduced to counts when the deletion ends.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Receipt {
    pub user_id: i64,
    /// Workspaces deleted with the account (it was their only owner).
    pub deleted: Vec<WorkspaceLine>,
    /// Workspaces kept by their other owners.
    pub handed_over: Vec<WorkspaceLine>,
    /// Every workspace the person belonged to (where kept text may name them).
    #[serde(default)]
    pub member_of: Vec<i64>,
    /// What the person chose for the posts and files they made in workspaces others keep.
    #[serde(default = "KeptWork::before_the_choice")]
    pub kept_work: KeptWork,
    /// Those workspaces, with what the person made in each (counted for the receipt).
    #[serde(default)]
    pub kept: Vec<KeptLine>,
    /// Rows deleted from those workspaces, by table (apart from `rows`, which counts what the
    /// deletion page listed).
    #[serde(default)]
    pub kept_rows: BTreeMap<String, u64>,
    /// Posts with a platform call under way when the rows were deleted, and the files such
    /// posts carry: deleted once the call has ended.
    #[serde(default)]
    pub in_flight_posts: Vec<i64>,
    #[serde(default)]
    pub in_flight_files: Vec<i64>,
    pub revocations: Vec<RevocationLine>,
    /// Rows deleted, by table (those of `signed_out` included).
    pub rows: BTreeMap<String, u64>,
    /// Rows deleted when the deletion started, to stop sign-in at once (sessions and links),
    /// by table: counted in `rows` with everything deleted later, so that the receipt counts
    /// what the deletion page said would go.
    #[serde(default)]
    pub signed_out: BTreeMap<String, u64>,
    /// Rows kept (by workspaces that stay, or as proof) with the person's name or id cleared.
    #[serde(default)]
    pub detached: BTreeMap<String, u64>,
    /// Media store keys of the deleted rows, removed in the last step.
    pub objects: Vec<String>,
    pub objects_deleted: u64,
    pub mailed: bool,
    /// The receipt, when sending it at once failed: queued with the rows' transaction instead
    /// (the address is still known there), so an outage of the mail server does not hold the
    /// deletion back.
    #[serde(default)]
    pub unsent: Option<providers::mail::Email>,
}

impl Receipt {
    /// `rows`, deleted in the last step, with the rows deleted when sign-in stopped.
    fn with_signed_out(&self, mut rows: BTreeMap<String, u64>) -> BTreeMap<String, u64> {
        for (table, n) in &self.signed_out {
            *rows.entry(table.clone()).or_default() += n;
        }
        rows
    }

    /// The rows deleted per data category of the privacy page.
    pub fn by_category(&self) -> Vec<(&'static str, u64)> {
        let mut out: Vec<(&'static str, u64)> = Vec::new();
        for (table, n) in &self.rows {
            let Some(class) = datamap::classify(table) else {
                continue;
            };
            let label = class.category.label();
            match out.iter_mut().find(|(l, _)| *l == label) {
                Some((_, total)) => *total += n,
                None => out.push((label, *n)),
            }
        }
        out
    }
}

/// What confirming would do, for the page that asks.
#[derive(Debug, Clone)]
pub struct Preview {
    pub deleted: Vec<WorkspaceLine>,
    pub handed_over: Vec<WorkspaceLine>,
    /// The workspaces others keep where the person made posts or files, with what is there:
    /// deleted too unless they choose to leave them.
    pub kept: Vec<KeptLine>,
    /// Per category of the privacy page: what is deleted, with how many rows.
    pub deleted_data: Vec<PreviewLine>,
    /// What is kept, and why.
    pub retained: Vec<PreviewLine>,
    /// The connected accounts of the deleted workspaces: (platform, username, what happens).
    pub accounts: Vec<(String, String, String)>,
}

/// What became of the person's posts and files in workspaces others keep, for the page shown
/// once the account is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeptOutcome {
    /// There were none.
    Nothing,
    /// Deleted with the account.
    Deleted,
    /// Deleted, except posts with a platform call under way: those go once it has ended.
    Pending,
    /// Left with the workspaces, as the person chose.
    Left,
}

impl KeptOutcome {
    /// How the page after the deletion is told (a query value; nothing when there were none).
    pub fn as_query(self) -> Option<&'static str> {
        match self {
            Self::Nothing => None,
            Self::Deleted => Some("deleted"),
            Self::Pending => Some("pending"),
            Self::Left => Some("left"),
        }
    }

    /// The outcome a query value names; anything else reads as none.
    pub fn from_query(value: Option<&str>) -> Self {
        match value {
            Some("deleted") => Self::Deleted,
            Some("pending") => Self::Pending,
            Some("left") => Self::Left,
            _ => Self::Nothing,
        }
    }
}

#[derive(Debug, Clone)]
pub struct PreviewLine {
    pub category: &'static str,
    pub what: &'static str,
    pub rows: u64,
    /// For retained data: why, and for how long.
    pub reason: String,
}

/// Why the `in_flight` step has not finished yet: posts with a platform call under way.
#[derive(Debug, thiserror::Error)]
#[error("{0} post(s) still being published: deleted once that ends")]
struct StillInFlight(usize);

/// The choice a deletion record holds for the posts and files the person made in workspaces
/// others keep (its receipt while it runs, its summary once finished; records made before the
/// choice existed left them).
fn recorded_choice(receipt: Option<&str>) -> KeptWork {
    let value: serde_json::Value = receipt
        .and_then(|r| serde_json::from_str(r).ok())
        .unwrap_or_default();
    match value["kept_work"].as_str() {
        Some(c) if c == KeptWork::Delete.as_str() => KeptWork::Delete,
        _ => KeptWork::before_the_choice(),
    }
}

/// Whether `err` only says that a deletion waits for platform calls under way to end.
fn still_in_flight(err: &ServiceError) -> bool {
    matches!(err, ServiceError::Unexpected(e) if e.downcast_ref::<StillInFlight>().is_some())
}

/// What re-applying the forget list removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ForgetReport {
    pub users: usize,
    pub workspaces: usize,
    pub rows: u64,
    pub objects: u64,
}

/// Something a deletion should have removed and did not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// `table.column`, or `media store`.
    pub place: String,
    pub count: u64,
}

/// Whose deletion the residue check looks at.
#[derive(Debug, Clone)]
pub enum Whom {
    Email(String),
    /// The address and the name the account had: the database files are searched for both.
    EmailAndName {
        email: String,
        name: String,
    },
    /// The keyed hash of the user id (as in the forget list and the deletion record). The
    /// address is not known then, so the database files are not searched.
    UserHash(String),
}

/// The residue check's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Residue {
    /// The account still exists (not deleted, or its deletion has not finished).
    AccountExists,
    /// No deletion is recorded for it.
    Unknown,
    /// Checked: the findings (empty when nothing remains).
    Checked {
        deletions: usize,
        findings: Vec<Finding>,
    },
}

fn outcome_line(account: &social_account::Model, revocation: &Revocation) -> RevocationLine {
    let (outcome, detail) = match revocation {
        Revocation::Revoked => ("revoked", "access revoked at the platform".to_owned()),
        Revocation::NotOffered => (
            "not_offered",
            "the platform offers no revocation: remove Socializioz in its settings".to_owned(),
        ),
        Revocation::Failed(why) => (
            "failed",
            format!(
                "the platform did not confirm the revocation ({why}): remove Socializioz in its \
                 settings"
            ),
        ),
        Revocation::Shared(n) => (
            "shared",
            format!(
                "kept: the same authorisation serves {} in workspaces that stay",
                domain::counted(*n, "account", "accounts")
            ),
        ),
    };
    RevocationLine {
        account_id: account.id,
        platform: account.platform.clone(),
        username: account.username.clone(),
        outcome: outcome.to_owned(),
        detail,
    }
}

fn as_subject(receipt: &Receipt, row: &account_deletion::Model) -> Subject {
    Subject {
        users: vec![receipt.user_id],
        workspaces: receipt.deleted.iter().map(|w| w.id).collect(),
        addresses: row.email.iter().map(|a| a.to_lowercase()).collect(),
        names: row.name.iter().cloned().collect(),
        member_of: receipt.member_of.clone(),
    }
}

/// `NOT condition`, or nothing to exclude.
fn and_not(base: SimpleExpr, excluded: Option<SimpleExpr>) -> SimpleExpr {
    match excluded {
        Some(excluded) => base.and(excluded.not()),
        None => base,
    }
}

/// Deletes everything of `subject` the data map names, in one transaction's worth of
/// statements: copies of names replaced and ids cleared in the rows that stay, rows addressed
/// to the deleted ones removed, then every owned row, children before parents. Returns the
/// rows changed per table and the media keys of the deleted rows.
async fn delete_rows<C: ConnectionTrait>(conn: &C, subject: &Subject) -> Result<Changes> {
    let mut changes = Changes::default();
    let mut add = |table: &str, n: u64, deleted: bool| {
        let map = if deleted {
            &mut changes.deleted
        } else {
            &mut changes.detached
        };
        if n > 0 {
            *map.entry(table.to_owned()).or_default() += n;
        }
    };
    let mut keys = Vec::new();
    for table in TABLES {
        let Some(owned) = plan::owned(table, subject) else {
            continue;
        };
        if table.objects.is_empty() || matches!(table.deletion, OnDeletion::Retain(_)) {
            continue;
        }
        let found = conn
            .query_all_raw(plan::build(
                conn,
                &plan::select(table.table, table.objects, owned),
            ))
            .await?;
        for row in found {
            for column in table.objects {
                if let Some(key) = row.try_get::<Option<String>>("", column)? {
                    keys.push(key);
                }
            }
        }
    }
    // Rows that stay: replaced names first (they are found through the ids cleared next).
    for pass in [Pass::Replace, Pass::Clear, Pass::DeleteRows] {
        for table in TABLES {
            let stays = !matches!(
                table.deletion,
                OnDeletion::Delete | OnDeletion::FollowWorkspace
            );
            let owned = if stays {
                None
            } else {
                plan::owned(table, subject)
            };
            for reference in table.refs {
                let Some(naming) = plan::referencing(table, reference, subject) else {
                    continue;
                };
                let n = match (pass, reference.then) {
                    (Pass::Replace, Then::Replace(text)) => {
                        let value = if reference.names == Names::Mentions {
                            plan::without_mentions(table, reference.column, subject, text)
                        } else {
                            text.into()
                        };
                        plan::execute(
                            conn,
                            &plan::update(
                                table.table,
                                reference.column,
                                value,
                                and_not(naming, owned.clone()),
                            ),
                        )
                        .await?
                    }
                    (Pass::Clear, Then::Clear) => {
                        plan::execute(
                            conn,
                            &plan::update(
                                table.table,
                                reference.column,
                                Expr::cust("NULL"),
                                and_not(naming, owned.clone()),
                            ),
                        )
                        .await?
                    }
                    (Pass::DeleteRows, Then::DeleteRow) => {
                        plan::execute(conn, &plan::delete(table.table, naming)).await?
                    }
                    _ => 0,
                };
                add(table.table, n, pass == Pass::DeleteRows);
            }
        }
    }
    // Owned rows, children before parents.
    for table in TABLES.iter().rev() {
        let Some(owned) = plan::owned(table, subject) else {
            continue;
        };
        match (table.deletion, table.owner) {
            (OnDeletion::Delete | OnDeletion::FollowWorkspace, _) => {
                let n = plan::execute(conn, &plan::delete(table.table, owned)).await?;
                add(table.table, n, true);
            }
            (OnDeletion::Retain(_), Owner::User(column)) => {
                let n = plan::execute(
                    conn,
                    &plan::update(table.table, column, Expr::cust("NULL"), owned),
                )
                .await?;
                add(table.table, n, false);
            }
            (OnDeletion::Retain(_), _) => {}
        }
    }
    changes.objects = keys;
    Ok(changes)
}

/// What `delete_rows` did.
#[derive(Debug, Default)]
struct Changes {
    /// Rows deleted, by table.
    deleted: BTreeMap<String, u64>,
    /// Rows kept with the person's name or id cleared, by table.
    detached: BTreeMap<String, u64>,
    /// Media store keys of the deleted rows.
    objects: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    Replace,
    Clear,
    DeleteRows,
}

impl Services {
    /// The keyed hash the forget list keeps for `value` of `kind` (`user`, `workspace`,
    /// `address`).
    pub fn forget_hash(&self, kind: &str, value: &str) -> String {
        self.keys.mac(FORGET, format!("{kind}:{value}").as_bytes())
    }

    fn forget_id(&self, kind: &str, id: i64) -> String {
        self.forget_hash(kind, &id.to_string())
    }

    /// What deleting `user` would do: the workspaces deleted and handed over, the rows per
    /// category, what is kept and why, and what happens to each connected account.
    pub async fn deletion_preview(&self, user: &user::Model) -> Result<Preview> {
        let (deleted, handed_over) = self.workspace_fates(&self.db, user.id).await?;
        let subject = Subject {
            users: vec![user.id],
            workspaces: deleted.iter().map(|w| w.id).collect(),
            addresses: vec![user.email.to_lowercase()],
            ..Default::default()
        };
        let mut deleted_data = Vec::new();
        let mut retained = Vec::new();
        for table in TABLES {
            if table.category == datamap::Category::System {
                continue;
            }
            let rows = owned_rows(&self.db, table, &subject).await?;
            let line = PreviewLine {
                category: table.category.label(),
                what: table.holds,
                rows,
                reason: String::new(),
            };
            match table.deletion {
                OnDeletion::Delete | OnDeletion::FollowWorkspace => deleted_data.push(line),
                OnDeletion::Retain(reason) => retained.push(PreviewLine {
                    reason: reason.to_owned(),
                    ..line
                }),
            }
        }
        for (what, how_long) in crate::retention::kept_after_deletion(&self.retention) {
            retained.push(PreviewLine {
                category: "Kept after deletion",
                what,
                rows: 0,
                reason: how_long,
            });
        }
        let kept = kept_work::survey(&self.db, user.id, &subject.workspaces).await?;
        let accounts = self.connected_accounts_of(&deleted).await?;
        let leaving: Vec<i64> = accounts.iter().map(|a| a.id).collect();
        let mut lines = Vec::new();
        for account in &accounts {
            let sharing = self.sharing_authorisation(account, &leaving).await?;
            let platform = domain::Platform::parse(&account.platform).ok();
            let what = if sharing > 0 {
                format!(
                    "kept: the authorisation also serves {} in workspaces that stay",
                    domain::counted(sharing, "account", "accounts")
                )
            } else if platform == Some(domain::Platform::Instagram) {
                "Instagram offers no revocation: remove Socializioz in Instagram's settings"
                    .to_owned()
            } else {
                "access revoked at the platform".to_owned()
            };
            lines.push((
                domain::Platform::label_of(&account.platform).to_owned(),
                account.username.clone(),
                what,
            ));
        }
        Ok(Preview {
            deleted,
            handed_over,
            kept,
            deleted_data,
            retained,
            accounts: lines,
        })
    }

    /// The accounts still connected in `workspaces` (those a deletion revokes).
    async fn connected_accounts_of(
        &self,
        workspaces: &[WorkspaceLine],
    ) -> Result<Vec<social_account::Model>> {
        Ok(social_account::Entity::find()
            .filter(social_account::Column::WorkspaceId.is_in(workspaces.iter().map(|w| w.id)))
            .filter(social_account::Column::Status.ne("disconnected"))
            .order_by_asc(social_account::Column::Id)
            .all(&self.db)
            .await?)
    }

    /// The workspaces `user_id` owns: those with no other owner are deleted with the account,
    /// the others handed over. Workspaces where they are not an owner are simply left.
    async fn workspace_fates<C: ConnectionTrait>(
        &self,
        conn: &C,
        user_id: i64,
    ) -> Result<(Vec<WorkspaceLine>, Vec<WorkspaceLine>)> {
        let owned = membership::Entity::find()
            .filter(membership::Column::UserId.eq(user_id))
            .filter(membership::Column::Role.eq(Role::Owner.as_str()))
            .order_by_asc(membership::Column::WorkspaceId)
            .all(conn)
            .await?;
        let mut deleted = Vec::new();
        let mut handed_over = Vec::new();
        for m in owned {
            let Some(ws) = workspace::Entity::find_by_id(m.workspace_id)
                .one(conn)
                .await?
            else {
                continue;
            };
            let others = membership::Entity::find()
                .filter(membership::Column::WorkspaceId.eq(ws.id))
                .filter(membership::Column::UserId.ne(user_id))
                .find_also_related(user::Entity)
                .all(conn)
                .await?;
            let others: Vec<(i64, String, String, String)> = others
                .into_iter()
                .filter_map(|(m, u)| u.map(|u| (u.id, u.name, u.email, m.role)))
                .collect();
            let line = WorkspaceLine {
                id: ws.id,
                name: ws.name,
                others,
            };
            if line.others.iter().any(|o| o.3 == Role::Owner.as_str()) {
                handed_over.push(line);
            } else {
                deleted.push(line);
            }
        }
        Ok((deleted, handed_over))
    }

    /// Deletes the signed-in person's account once they have given their password again and
    /// typed their address: starts the deletion and carries it out at once (the receipt goes
    /// by e-mail). `kept_work` is their choice for the posts and files they made in workspaces
    /// others keep; the answer says what became of them.
    pub async fn delete_own_account(
        &self,
        auth: &crate::sessions::AuthSession,
        password: &str,
        typed: &str,
        client: &str,
        kept_work: KeptWork,
    ) -> Result<KeptOutcome> {
        if !typed.trim().eq_ignore_ascii_case(auth.user.email.trim()) {
            return Err(ServiceError::invalid(
                "confirm",
                "Type your e-mail address exactly as shown to confirm.",
            ));
        }
        self.confirm_identity(auth, password, client, "password")
            .await?;
        let (id, started) = self
            .start_deletion(auth.user.id, Via::App, kept_work)
            .await?;
        if !started {
            // A second confirmation (a double click): the first one is carrying it out, and
            // running it twice would call the platforms and send the receipt twice.
            return self.kept_outcome(id).await;
        }
        // The account is locked from here on. The rest runs in its own task, so a request that
        // times out or a browser that goes away does not cut it short; should it fail, its job
        // resumes it, and the page still says the account is being deleted.
        let services = self.clone();
        let run = tokio::spawn(async move { services.run_account_deletion(id).await });
        match run.await {
            Ok(Ok(())) => {}
            Ok(Err(err)) if still_in_flight(&err) => {
                tracing::info!(
                    deletion = id,
                    "posts being published are deleted once that ends"
                )
            }
            Ok(Err(err)) => {
                tracing::error!(deletion = id, error = ?err, "the deletion will be resumed by its job")
            }
            Err(err) => {
                tracing::error!(deletion = id, error = ?err, "the deletion will be resumed by its job")
            }
        }
        self.kept_outcome(id).await
    }

    /// What deletion `id` did with the posts and files the person made in workspaces others
    /// keep, as far as it has gone.
    async fn kept_outcome(&self, id: i64) -> Result<KeptOutcome> {
        let row = account_deletion::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let text = row.receipt.as_deref().unwrap_or("{}");
        let (choice, any, pending) = if row.step == Step::Done.as_str() {
            let summary: serde_json::Value =
                serde_json::from_str(text).map_err(anyhow::Error::from)?;
            let choice = recorded_choice(Some(text));
            let any = summary["kept"]["workspaces"].as_u64().unwrap_or(0) > 0;
            (choice, any, false)
        } else {
            let receipt: Receipt = serde_json::from_str(text).map_err(anyhow::Error::from)?;
            (
                receipt.kept_work,
                !receipt.kept.is_empty(),
                row.step == Step::InFlight.as_str(),
            )
        };
        Ok(match (any, choice) {
            (false, _) => KeptOutcome::Nothing,
            (true, KeptWork::Leave) => KeptOutcome::Left,
            (true, KeptWork::Delete) if pending => KeptOutcome::Pending,
            (true, KeptWork::Delete) => KeptOutcome::Deleted,
        })
    }

    /// Starts deleting an account: in one transaction, the account stops being able to sign
    /// in and the deletion is recorded with a job that resumes it. Returns the deletion's id
    /// (the same one when a deletion of this account is already under way). The posts and
    /// files the person made in workspaces others keep are deleted too (the default, and what
    /// a request e-mailed to us does).
    pub async fn begin_account_deletion(&self, user_id: i64, via: Via) -> Result<i64> {
        Ok(self.start_deletion(user_id, via, KeptWork::Delete).await?.0)
    }

    /// [`Self::begin_account_deletion`], saying whether this call started it (`false`: it was
    /// already under way, and whoever started it runs it).
    async fn start_deletion(
        &self,
        user_id: i64,
        via: Via,
        kept_work: KeptWork,
    ) -> Result<(i64, bool)> {
        let txn = store::begin_write(&self.db).await?;
        // Two confirmations at once take turns on the user row (PostgreSQL; SQLite's write
        // lock is taken at BEGIN), so the second finds the first's deletion.
        let person = user::Entity::find_by_id(user_id)
            .lock_exclusive()
            .one(&txn)
            .await?
            .ok_or(ServiceError::NotFound)?;
        if let Some(running) = account_deletion::Entity::find()
            .filter(account_deletion::Column::UserId.eq(user_id))
            .filter(account_deletion::Column::Step.ne(Step::Done.as_str()))
            .one(&txn)
            .await?
        {
            txn.rollback().await?;
            return Ok((running.id, false));
        }
        let (deleted, handed_over) = self.workspace_fates(&txn, user_id).await?;
        let member_of = workspaces_of(&txn, &[user_id]).await?;
        if kept_work == KeptWork::Delete {
            let going: Vec<i64> = deleted.iter().map(|w| w.id).collect();
            kept_work::withdraw_queued(&txn, user_id, &going).await?;
        }
        let mut receipt = Receipt {
            user_id,
            deleted,
            handed_over,
            member_of,
            kept_work,
            ..Default::default()
        };
        let now = crate::now();
        let row = account_deletion::ActiveModel {
            user_id: Set(Some(user_id)),
            subject_hash: Set(self.forget_id("user", user_id)),
            email: Set(Some(person.email.clone())),
            name: Set(Some(person.name.clone())),
            via: Set(via.as_str().to_owned()),
            step: Set(Step::Revoke.as_str().to_owned()),
            receipt: Set(Some(
                serde_json::to_string(&receipt).map_err(anyhow::Error::from)?,
            )),
            started_at: Set(now),
            finished_at: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        receipt.signed_out = block_sign_in(&txn, user_id, row.id).await?;
        account_deletion::Entity::update_many()
            .col_expr(
                account_deletion::Column::Receipt,
                Expr::value(serde_json::to_string(&receipt).map_err(anyhow::Error::from)?),
            )
            .filter(account_deletion::Column::Id.eq(row.id))
            .exec(&txn)
            .await?;
        let mut job = queue::NewJob::now(JOB_KIND, serde_json::json!({ "deletion": row.id }));
        job.run_at = now + RESUME_AFTER;
        // A deletion must end: its job keeps trying (the daily retention run also resumes any
        // deletion left unfinished).
        job.max_attempts = i32::MAX;
        queue::enqueue(&txn, job).await?;
        txn.commit().await?;
        tracing::info!(
            deletion = row.id,
            via = via.as_str(),
            kept_work = kept_work.as_str(),
            "account deletion started"
        );
        Ok((row.id, true))
    }

    /// Carries out (or resumes) a deletion to its end. Safe to run again: each step records
    /// the next, and a finished deletion does nothing.
    pub async fn run_account_deletion(&self, deletion_id: i64) -> Result<()> {
        loop {
            let row = account_deletion::Entity::find_by_id(deletion_id)
                .one(&self.db)
                .await?
                .ok_or(ServiceError::NotFound)?;
            let step = Step::parse(&row.step).ok_or_else(|| {
                anyhow::anyhow!(
                    "deletion {deletion_id} is at an unknown step {:?}",
                    row.step
                )
            })?;
            if step == Step::Done {
                return Ok(());
            }
            self.deletion_step(&row, step).await?;
        }
    }

    /// Resumes every deletion started more than `older_than` ago that has not finished (its job
    /// gave up, or was lost): the daily retention run calls this. Returns how many it finished.
    pub async fn resume_unfinished_deletions(&self, older_than: chrono::Duration) -> Result<usize> {
        let stalled = account_deletion::Entity::find()
            .filter(account_deletion::Column::Step.ne(Step::Done.as_str()))
            .filter(account_deletion::Column::StartedAt.lt(crate::now() - older_than))
            .all(&self.db)
            .await?;
        let mut finished = 0;
        for deletion in stalled {
            match self.run_account_deletion(deletion.id).await {
                Ok(()) => finished += 1,
                Err(err) => {
                    tracing::error!(deletion = deletion.id, error = ?err, "a deletion could not be finished yet")
                }
            }
        }
        Ok(finished)
    }

    /// Runs one step of a deletion and records the next. Public so that a test can stop a
    /// deletion between steps, as a crash would.
    pub async fn deletion_step(&self, row: &account_deletion::Model, step: Step) -> Result<()> {
        let mut receipt: Receipt = row
            .receipt
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(anyhow::Error::from)?
            .unwrap_or_default();
        match step {
            Step::Revoke => {
                self.revoke_step(row, &mut receipt).await?;
                self.save_step(row.id, step, Step::Receipt, &receipt).await
            }
            Step::Receipt => {
                if !receipt.mailed {
                    let going: Vec<i64> = receipt.deleted.iter().map(|w| w.id).collect();
                    receipt.kept = kept_work::survey(&self.db, receipt.user_id, &going).await?;
                    if let Some(address) = row.email.as_deref() {
                        // Count what the last step will delete, so the receipt says it.
                        let subject = as_subject(&receipt, row);
                        let mut rows = BTreeMap::new();
                        for table in TABLES.iter().filter(|t| {
                            matches!(t.deletion, OnDeletion::Delete | OnDeletion::FollowWorkspace)
                        }) {
                            let n = owned_rows(&self.db, table, &subject).await?;
                            if n > 0 {
                                rows.insert(table.table.to_owned(), n);
                            }
                        }
                        receipt.rows = receipt.with_signed_out(rows);
                        let email = emails::deletion_receipt(
                            address,
                            row.name.as_deref().unwrap_or(""),
                            &receipt,
                            &crate::retention::kept_after_deletion(&self.retention),
                            &format!("{}/help/revoke-access", self.base_url),
                        );
                        if let Err(err) = self.mailer.send(&email).await {
                            tracing::warn!(deletion = row.id, error = %err, "the receipt goes through the queue");
                            receipt.unsent = Some(email);
                        }
                    }
                    receipt.mailed = true;
                }
                self.save_step(row.id, step, Step::Rows, &receipt).await
            }
            Step::Rows => self.rows_step(row, receipt).await,
            Step::Objects => {
                let workspaces: Vec<i64> = receipt.deleted.iter().map(|w| w.id).collect();
                let deleted = self
                    .delete_objects(&receipt.objects, &[receipt.user_id], &workspaces)
                    .await?;
                receipt.objects_deleted += deleted;
                if !receipt.in_flight_posts.is_empty() || !receipt.in_flight_files.is_empty() {
                    receipt.objects.clear();
                    return self.save_step(row.id, step, Step::InFlight, &receipt).await;
                }
                self.finish_deletion(row, step, &receipt).await
            }
            Step::InFlight => self.in_flight_step(row, receipt).await,
            Step::Done => Ok(()),
        }
    }

    /// The posts left at the `rows` step because a platform call for them was under way, and
    /// the files they carry: deleted once the call has ended (until then the step fails, and
    /// the deletion's job tries again later).
    async fn in_flight_step(
        &self,
        row: &account_deletion::Model,
        mut receipt: Receipt,
    ) -> Result<()> {
        let txn = store::begin_write(&self.db).await?;
        let removed =
            kept_work::remove_pending(&txn, &receipt.in_flight_posts, &receipt.in_flight_files)
                .await?;
        txn.commit().await?;
        for key in &removed.keys {
            self.objects.delete(key).await?;
        }
        receipt.objects_deleted += removed.keys.len() as u64;
        for (table, n) in removed.rows {
            *receipt.kept_rows.entry(table).or_default() += n;
        }
        receipt.in_flight_posts = removed.pending_posts;
        receipt.in_flight_files = removed.pending_files;
        if receipt.in_flight_posts.is_empty() && receipt.in_flight_files.is_empty() {
            return self.finish_deletion(row, Step::InFlight, &receipt).await;
        }
        let waiting = receipt.in_flight_posts.len();
        self.save_step(row.id, Step::InFlight, Step::InFlight, &receipt)
            .await?;
        Err(anyhow::Error::new(StillInFlight(waiting)).into())
    }

    /// The last step: what stays on the row is counts, with no names or ids.
    async fn finish_deletion(
        &self,
        row: &account_deletion::Model,
        from: Step,
        receipt: &Receipt,
    ) -> Result<()> {
        let summary = serde_json::json!({
            "rows": receipt.rows,
            "detached": receipt.detached,
            "objects_deleted": receipt.objects_deleted,
            "workspaces_deleted": receipt.deleted.len(),
            "workspaces_handed_over": receipt.handed_over.len(),
            "revocations": receipt.revocations.iter().fold(
                BTreeMap::<String, u64>::new(),
                |mut all, r| { *all.entry(r.outcome.clone()).or_default() += 1; all },
            ),
            "kept_work": receipt.kept_work,
            "kept": {
                "workspaces": receipt.kept.len(),
                "posts": receipt.kept.iter().map(KeptLine::posts).sum::<u64>(),
                "files": receipt.kept.iter().map(|k| k.files).sum::<u64>(),
                "rows_deleted": receipt.kept_rows,
            },
        });
        account_deletion::Entity::update_many()
            .col_expr(
                account_deletion::Column::Step,
                Expr::value(Step::Done.as_str()),
            )
            .col_expr(
                account_deletion::Column::Receipt,
                Expr::value(summary.to_string()),
            )
            .col_expr(
                account_deletion::Column::FinishedAt,
                Expr::value(crate::now()),
            )
            .filter(account_deletion::Column::Id.eq(row.id))
            .filter(account_deletion::Column::Step.eq(from.as_str()))
            .exec(&self.db)
            .await?;
        tracing::info!(deletion = row.id, "account deletion finished");
        self.after_deletion(row.id, receipt).await;
        Ok(())
    }

    async fn save_step(&self, id: i64, from: Step, to: Step, receipt: &Receipt) -> Result<()> {
        account_deletion::Entity::update_many()
            .col_expr(account_deletion::Column::Step, Expr::value(to.as_str()))
            .col_expr(
                account_deletion::Column::Receipt,
                Expr::value(serde_json::to_string(receipt).map_err(anyhow::Error::from)?),
            )
            .filter(account_deletion::Column::Id.eq(id))
            .filter(account_deletion::Column::Step.eq(from.as_str()))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Revokes the platform access of every connected account of the deleted workspaces,
    /// once per authorisation, recording each outcome as it happens.
    async fn revoke_step(
        &self,
        row: &account_deletion::Model,
        receipt: &mut Receipt,
    ) -> Result<()> {
        let accounts = self.connected_accounts_of(&receipt.deleted).await?;
        let leaving: Vec<i64> = accounts.iter().map(|a| a.id).collect();
        let mut revoked_grants: HashSet<(String, String)> = receipt
            .revocations
            .iter()
            .filter(|r| r.revoked())
            .filter_map(|r| {
                accounts
                    .iter()
                    .find(|a| a.id == r.account_id)
                    .and_then(|a| a.authorized_by.clone().map(|p| (a.platform.clone(), p)))
            })
            .collect();
        for account in &accounts {
            if receipt
                .revocations
                .iter()
                .any(|r| r.account_id == account.id)
            {
                continue;
            }
            let grant = account
                .authorized_by
                .clone()
                .map(|p| (account.platform.clone(), p));
            let revocation = match &grant {
                // Another page of the same login, deleted too, already revoked it.
                Some(grant) if revoked_grants.contains(grant) => Revocation::Revoked,
                _ => {
                    let sharing = self.sharing_authorisation(account, &leaving).await?;
                    self.revoke_at_platform(account, sharing).await
                }
            };
            if let (Revocation::Revoked, Some(grant)) = (&revocation, grant) {
                revoked_grants.insert(grant);
            }
            receipt.revocations.push(outcome_line(account, &revocation));
            // Recorded at once, so a resumed deletion does not ask the platform again.
            self.save_step(row.id, Step::Revoke, Step::Revoke, receipt)
                .await?;
        }
        Ok(())
    }

    /// The one transaction that deletes the rows.
    async fn rows_step(&self, row: &account_deletion::Model, mut receipt: Receipt) -> Result<()> {
        let txn = store::begin_write(&self.db).await?;
        // Claim the step: a second runner (the safety-net job) finds it taken and stops.
        let claimed = account_deletion::Entity::update_many()
            .col_expr(
                account_deletion::Column::Step,
                Expr::value(Step::Rows.as_str()),
            )
            .filter(account_deletion::Column::Id.eq(row.id))
            .filter(account_deletion::Column::Step.eq(Step::Rows.as_str()))
            .exec(&txn)
            .await?
            .rows_affected;
        if claimed == 0 {
            txn.rollback().await?;
            return Ok(());
        }
        let subject = as_subject(&receipt, row);
        if let Some(email) = receipt.unsent.take() {
            emails::queue_receipt(&txn, email).await?;
        }
        // A request e-mailed to us for this account is fulfilled by this deletion, however it
        // was started: it does not stay open (and keep reminding) with nobody left to confirm.
        let now = crate::now();
        deletion_request::Entity::update_many()
            .col_expr(
                deletion_request::Column::State,
                Expr::value(crate::deletion_requests::State::Confirmed.as_str()),
            )
            .col_expr(deletion_request::Column::ConfirmedAt, Expr::value(now))
            .col_expr(deletion_request::Column::ClosedAt, Expr::value(now))
            .col_expr(deletion_request::Column::DeletionId, Expr::value(row.id))
            .col_expr(
                deletion_request::Column::Email,
                Expr::value(Option::<String>::None),
            )
            .col_expr(deletion_request::Column::UpdatedAt, Expr::value(now))
            .filter(deletion_request::Column::UserId.eq(receipt.user_id))
            .filter(
                deletion_request::Column::State.eq(crate::deletion_requests::State::Open.as_str()),
            )
            .exec(&txn)
            .await?;
        // Their posts and files in workspaces others keep go first, unless they chose to leave
        // them (`delete_rows` then detaches them like every row those workspaces keep); the
        // members there are told what went.
        let kept = match receipt.kept_work {
            KeptWork::Delete => {
                let going: Vec<i64> = receipt.deleted.iter().map(|w| w.id).collect();
                let removed =
                    kept_work::remove_theirs(&txn, receipt.user_id, &going, kept_work::Calls::Wait)
                        .await?;
                kept_work::tell(&txn, receipt.user_id, &removed, row.started_at).await?;
                Some(removed)
            }
            KeptWork::Leave => None,
        };
        // The consent ledger records the detachment of the rows `delete_rows` detaches.
        self.record_consent_detachments(&txn, &subject.users)
            .await?;
        let changes = delete_rows(&txn, &subject).await?;
        receipt.rows = receipt.with_signed_out(changes.deleted);
        receipt.detached = changes.detached;
        receipt.objects = changes.objects;
        if let Some(removed) = kept {
            receipt.kept_rows = removed.rows;
            receipt.objects.extend(removed.keys);
            receipt.in_flight_posts = removed.pending_posts;
            receipt.in_flight_files = removed.pending_files;
        }
        // The workspaces that stay are told; so are the members of those that went.
        for ws in &receipt.handed_over {
            let summary = match receipt.kept_work {
                KeptWork::Delete => "an owner deleted their account".to_owned(),
                KeptWork::Leave => format!(
                    "an owner deleted their account; their posts and files stay, shown as by \
                     “{}”",
                    datamap::FORMER_MEMBER
                ),
            };
            activity::record(
                &txn,
                WorkspaceId(ws.id),
                None,
                activity::Entry {
                    action: "member.account_deleted",
                    object_type: "member",
                    object_id: None,
                    summary,
                },
            )
            .await?;
            for (id, name, address, role) in &ws.others {
                if role == Role::Owner.as_str() {
                    emails::queue(
                        &txn,
                        emails::workspace_handed_over(
                            address,
                            name,
                            &ws.name,
                            receipt.kept_work,
                            receipt.kept.iter().any(|k| k.id == ws.id),
                        ),
                        Some(*id),
                    )
                    .await?;
                }
            }
        }
        for ws in &receipt.deleted {
            for (id, name, address, _) in &ws.others {
                emails::queue(
                    &txn,
                    emails::workspace_deleted(address, name, &ws.name),
                    Some(*id),
                )
                .await?;
                // Said once in the product too, where they would land on "Create your first
                // workspace" with no word of why.
                notices::workspace_deleted(&txn, *id, &ws.name, row.started_at).await?;
            }
        }
        let now = crate::now();
        let keep_until = now + self.retention.forget_keep();
        let mut forget = vec![("user", self.forget_id("user", receipt.user_id))];
        for ws in &receipt.deleted {
            forget.push(("workspace", self.forget_id("workspace", ws.id)));
        }
        for address in &subject.addresses {
            forget.push(("address", self.forget_hash("address", address)));
        }
        for (kind, hash) in forget {
            forget_entry::ActiveModel {
                deletion_id: Set(Some(row.id)),
                kind: Set(kind.to_owned()),
                hash: Set(hash),
                created_at: Set(now),
                keep_until: Set(keep_until),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
        account_deletion::Entity::update_many()
            .col_expr(
                account_deletion::Column::Step,
                Expr::value(Step::Objects.as_str()),
            )
            .col_expr(
                account_deletion::Column::Receipt,
                Expr::value(serde_json::to_string(&receipt).map_err(anyhow::Error::from)?),
            )
            .col_expr(
                account_deletion::Column::Email,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                account_deletion::Column::Name,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                account_deletion::Column::UserId,
                Expr::value(Option::<i64>::None),
            )
            .filter(account_deletion::Column::Id.eq(row.id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }

    /// After a restore from a backup: deletes again every user and workspace whose keyed hash
    /// is on the forget list, with the same plan as the deletion (no platform calls, no
    /// e-mails: those happened when they were deleted).
    pub async fn reapply_forget_list(&self) -> Result<ForgetReport> {
        // Deletions that had not finished when the backup (or the saved records) was taken:
        // their accounts are locked again before anything else, then finished.
        let unfinished = account_deletion::Entity::find()
            .filter(account_deletion::Column::Step.ne(Step::Done.as_str()))
            .all(&self.db)
            .await?;
        for deletion in &unfinished {
            if let Some(user_id) = deletion.user_id {
                let txn = store::begin_write(&self.db).await?;
                block_sign_in(&txn, user_id, deletion.id).await?;
                txn.commit().await?;
            }
        }
        for deletion in &unfinished {
            match self.run_account_deletion(deletion.id).await {
                // Waiting for a platform call to end: its job finishes it once the instance
                // runs again.
                Err(err) if still_in_flight(&err) => {}
                other => other?,
            }
        }
        let entries = forget_entry::Entity::find().all(&self.db).await?;
        let hashes = |kind: &str| -> HashSet<String> {
            entries
                .iter()
                .filter(|e| e.kind == kind)
                .map(|e| e.hash.clone())
                .collect()
        };
        let (users, workspaces, addresses) =
            (hashes("user"), hashes("workspace"), hashes("address"));
        let mut subject = Subject::default();
        for id in self.distinct::<i64>("users", "id").await? {
            if users.contains(&self.forget_id("user", id)) {
                subject.users.push(id);
            }
        }
        for id in self.distinct::<i64>("workspaces", "id").await? {
            if workspaces.contains(&self.forget_id("workspace", id)) {
                subject.workspaces.push(id);
            }
        }
        for table in TABLES {
            for reference in table.refs.iter().filter(|r| r.names == Names::Address) {
                for value in self
                    .distinct::<String>(table.table, reference.column)
                    .await?
                {
                    let value = value.to_lowercase();
                    if addresses.contains(&self.forget_hash("address", &value))
                        && !subject.addresses.contains(&value)
                    {
                        subject.addresses.push(value);
                    }
                }
            }
        }
        // Free text may name them: their names and addresses, as the restored rows hold them
        // (the names in their workspaces' text only).
        subject.member_of = workspaces_of(&self.db, &subject.users).await?;
        for person in user::Entity::find()
            .filter(user::Column::Id.is_in(subject.users.iter().copied()))
            .all(&self.db)
            .await?
        {
            subject.names.push(person.name);
            subject.addresses.push(person.email.to_lowercase());
        }
        let mut report = ForgetReport {
            users: subject.users.len(),
            workspaces: subject.workspaces.len(),
            ..Default::default()
        };
        if subject.is_empty() {
            return Ok(report);
        }
        // Whose deletion deleted their posts and files in workspaces others keep (the default):
        // those are deleted again; the others are detached again, as their deletion did.
        let deleting: HashSet<String> = account_deletion::Entity::find()
            .all(&self.db)
            .await?
            .into_iter()
            .filter(|d| recorded_choice(d.receipt.as_deref()) == KeptWork::Delete)
            .map(|d| d.subject_hash)
            .collect();
        let deleting_work: Vec<i64> = subject
            .users
            .iter()
            .copied()
            .filter(|id| deleting.contains(&self.forget_id("user", *id)))
            .collect();
        let txn = store::begin_write(&self.db).await?;
        let mut keys = Vec::new();
        let mut kept_rows = 0;
        for user_id in &deleting_work {
            // A restore runs before the instance serves: no platform call is under way.
            let removed = kept_work::remove_theirs(
                &txn,
                *user_id,
                &subject.workspaces,
                kept_work::Calls::NoneUnderWay,
            )
            .await?;
            kept_rows += removed.rows.values().sum::<u64>();
            keys.extend(removed.keys);
        }
        // The consent ledger records the detachment of the rows `delete_rows` detaches.
        self.record_consent_detachments(&txn, &subject.users)
            .await?;
        let changes = delete_rows(&txn, &subject).await?;
        txn.commit().await?;
        report.rows = changes.deleted.values().sum::<u64>() + kept_rows;
        keys.extend(changes.objects);
        report.objects = self
            .delete_objects(&keys, &subject.users, &subject.workspaces)
            .await?;
        tracing::info!(
            users = report.users,
            workspaces = report.workspaces,
            rows = report.rows,
            "forget list re-applied"
        );
        Ok(report)
    }

    /// Deletes `keys` from the media store, then everything under the prefixes of `users` and
    /// `workspaces` (their exports, thumbnails, anything a row no longer names). Returns how
    /// many objects went.
    async fn delete_objects(
        &self,
        keys: &[String],
        users: &[i64],
        workspaces: &[i64],
    ) -> Result<u64> {
        let prefixes = users.iter().map(|u| store::objects::user_prefix(*u)).chain(
            workspaces
                .iter()
                .map(|w| store::objects::workspace_prefix(*w)),
        );
        for key in keys {
            self.objects.delete(key).await?;
        }
        let mut deleted = keys.len() as u64;
        for prefix in prefixes {
            for key in self.objects.keys(&prefix).await? {
                self.objects.delete(&key).await?;
                deleted += 1;
            }
        }
        Ok(deleted)
    }

    /// The distinct values of `table.column` that are not NULL.
    async fn distinct<T: sea_orm::TryGetable>(&self, table: &str, column: &str) -> Result<Vec<T>> {
        let query = Query::select()
            .distinct()
            .column(Alias::new(column))
            .from(Alias::new(table))
            .and_where(Expr::col(Alias::new(column)).is_not_null())
            .to_owned();
        let rows = self.db.query_all_raw(plan::build(&self.db, &query)).await?;
        Ok(rows
            .iter()
            .map(|r| r.try_get_by_index::<T>(0))
            .collect::<Result<Vec<T>, _>>()?)
    }

    /// Checks that nothing of a deleted account remains: no row in any table, through any
    /// column the data map names, refers to its user id, its deleted workspaces or its
    /// address, no row owned through a parent has lost its parent, the media store holds
    /// nothing under their prefixes, the mail outbox holds no message to or naming the address
    /// but the deletion receipt, and then (SQLite, when the address is given) the bytes of
    /// the database file and its WAL hold neither the address nor the name given.
    pub async fn residue(&self, whom: Whom) -> Result<Residue> {
        let deletion_ids: BTreeSet<Option<i64>> = match &whom {
            Whom::Email(address) | Whom::EmailAndName { email: address, .. } => {
                let address = address.trim().to_lowercase();
                let exists = user::Entity::find()
                    .filter(
                        Expr::expr(sea_orm::sea_query::Func::lower(Expr::col(
                            user::Column::Email,
                        )))
                        .eq(address.as_str()),
                    )
                    .one(&self.db)
                    .await?
                    .is_some();
                if exists {
                    return Ok(Residue::AccountExists);
                }
                forget_entry::Entity::find()
                    .filter(forget_entry::Column::Kind.eq("address"))
                    .filter(forget_entry::Column::Hash.eq(self.forget_hash("address", &address)))
                    .all(&self.db)
                    .await?
                    .into_iter()
                    .map(|e| e.deletion_id)
                    .collect()
            }
            Whom::UserHash(hash) => {
                let running = account_deletion::Entity::find()
                    .filter(account_deletion::Column::SubjectHash.eq(hash.as_str()))
                    .filter(account_deletion::Column::Step.ne(Step::Done.as_str()))
                    .one(&self.db)
                    .await?;
                if running.is_some() {
                    return Ok(Residue::AccountExists);
                }
                forget_entry::Entity::find()
                    .filter(forget_entry::Column::Kind.eq("user"))
                    .filter(forget_entry::Column::Hash.eq(hash.as_str()))
                    .all(&self.db)
                    .await?
                    .into_iter()
                    .map(|e| e.deletion_id)
                    .collect()
            }
        };
        if deletion_ids.is_empty() {
            return Ok(Residue::Unknown);
        }
        let ids: Vec<i64> = deletion_ids.iter().flatten().copied().collect();
        let entries = forget_entry::Entity::find()
            .filter(forget_entry::Column::DeletionId.is_in(ids.iter().copied()))
            .all(&self.db)
            .await?;
        let set = |kind: &str| -> HashSet<String> {
            entries
                .iter()
                .filter(|e| e.kind == kind)
                .map(|e| e.hash.clone())
                .collect()
        };
        let (users, workspaces, addresses) = (set("user"), set("workspace"), set("address"));
        let mut findings = Vec::new();
        for table in TABLES {
            let mut columns: Vec<(&str, Names)> = table
                .refs
                .iter()
                .filter(|r| !matches!(r.names, Names::NameOf(_) | Names::Mentions))
                .map(|r| (r.column, r.names))
                .collect();
            match table.owner {
                Owner::User(column) => columns.push((column, Names::User)),
                Owner::Workspace(column) => columns.push((column, Names::Workspace)),
                Owner::Parent {
                    column,
                    table: parent,
                } => {
                    let orphans = plan::count_rows(
                        &self.db,
                        table.table,
                        Expr::col(Alias::new(column)).is_not_null().and(
                            Expr::col(Alias::new(column)).not_in_subquery(
                                Query::select()
                                    .column(Alias::new("id"))
                                    .from(Alias::new(parent))
                                    .to_owned(),
                            ),
                        ),
                    )
                    .await?;
                    if orphans > 0 {
                        findings.push(Finding {
                            place: format!(
                                "{}.{column} (rows whose {parent} row is gone)",
                                table.table
                            ),
                            count: orphans,
                        });
                    }
                }
                Owner::Nobody => {}
            }
            for (column, names) in columns {
                let hits = match names {
                    Names::User | Names::Workspace => {
                        let (kind, set) = if names == Names::User {
                            ("user", &users)
                        } else {
                            ("workspace", &workspaces)
                        };
                        let mut hits = Vec::new();
                        for id in self.distinct::<i64>(table.table, column).await? {
                            if set.contains(&self.forget_id(kind, id)) {
                                hits.push(Expr::col(Alias::new(column)).eq(id));
                            }
                        }
                        hits
                    }
                    Names::Address => {
                        let mut hits = Vec::new();
                        for value in self.distinct::<String>(table.table, column).await? {
                            if addresses
                                .contains(&self.forget_hash("address", &value.to_lowercase()))
                            {
                                hits.push(Expr::col(Alias::new(column)).eq(value));
                            }
                        }
                        hits
                    }
                    Names::NameOf(_) | Names::Mentions => Vec::new(),
                };
                for hit in hits {
                    let count = plan::count_rows(&self.db, table.table, hit).await?;
                    findings.push(Finding {
                        place: format!("{}.{column}", table.table),
                        count,
                    });
                }
            }
        }
        let mut objects = 0;
        for key in self.objects.keys("").await? {
            if let Some((kind, id)) = store::objects::owner_of_key(&key) {
                let set = if kind == "user" { &users } else { &workspaces };
                if set.contains(&self.forget_id(kind, id)) {
                    objects += 1;
                }
            }
        }
        if objects > 0 {
            findings.push(Finding {
                place: "media store".to_owned(),
                count: objects,
            });
        }
        let rows_clean = findings.is_empty();
        findings.extend(
            self.residue_outside_rows(&whom, &addresses, rows_clean)
                .await?,
        );
        Ok(Residue::Checked {
            deletions: deletion_ids.len(),
            findings,
        })
    }

    /// What the residue check finds outside the rows: messages in the mail outbox to or
    /// naming the deleted addresses (the deletion receipt aside), and, on SQLite, the address
    /// and the name in the raw bytes of the database file and its WAL, free pages included.
    /// The bytes are searched when no row holds anything of the account (`rows_clean`): a hit
    /// then is a copy outside the live rows.
    async fn residue_outside_rows(
        &self,
        whom: &Whom,
        addresses: &HashSet<String>,
        rows_clean: bool,
    ) -> Result<Vec<Finding>> {
        let mut findings = Vec::new();
        let outbox = self.outbox_naming(addresses).await?.len() as u64;
        if outbox > 0 {
            findings.push(Finding {
                place: "mail outbox (messages to or naming the address)".to_owned(),
                count: outbox,
            });
        }
        let (address, name) = match whom {
            Whom::Email(address) => (Some(address), None),
            Whom::EmailAndName { email, name } => (Some(email), Some(name)),
            Whom::UserHash(_) => (None, None),
        };
        let needles: Vec<(&str, Vec<u8>)> = [
            ("the address", address.map(|a| a.trim().to_lowercase())),
            ("the name", name.map(|n| n.trim().to_owned())),
        ]
        .into_iter()
        .filter_map(|(what, text)| {
            text.filter(|t| !t.is_empty())
                .map(|t| (what, t.into_bytes()))
        })
        .collect();
        if needles.is_empty() || !rows_clean {
            return Ok(findings);
        }
        // A receipt that could not be sent at once waits in the queue with the address (and
        // the name), as it is meant to: until it has gone, the files are not searched.
        if let Some(address) = address
            && self.receipt_waiting(address).await?
        {
            return Ok(findings);
        }
        for path in store::database_files(&self.db).await? {
            let file = path.clone();
            let search: Vec<Vec<u8>> = needles.iter().map(|(_, n)| n.clone()).collect();
            let counts = tokio::task::spawn_blocking(move || {
                let search: Vec<&[u8]> = search.iter().map(Vec::as_slice).collect();
                store::files::occurrences(&file, &search)
            })
            .await
            .map_err(anyhow::Error::from)?
            .map_err(|e| anyhow::anyhow!("could not read {}: {e}", path.display()))?;
            for ((what, _), count) in needles.iter().zip(counts) {
                if count > 0 {
                    findings.push(Finding {
                        place: format!("database file {} ({what}, in its bytes)", path.display()),
                        count,
                    });
                }
            }
        }
        Ok(findings)
    }

    /// Whether a deletion receipt to `address` waits in the queue (the mail server was down).
    async fn receipt_waiting(&self, address: &str) -> Result<bool> {
        let subject = Self::receipt_subject();
        let address = address.trim();
        Ok(store::entities::job::Entity::find()
            .filter(store::entities::job::Column::Kind.eq(emails::JOB_KIND))
            .filter(store::entities::job::Column::State.is_in([queue::QUEUED, queue::RUNNING]))
            .all(&self.db)
            .await?
            .iter()
            .filter_map(|job| serde_json::from_str::<providers::mail::Email>(&job.payload).ok())
            .any(|email| email.subject == subject && email.to.trim().eq_ignore_ascii_case(address)))
    }

    /// The subject of deletion receipts: the one message to a deleted address that stays in
    /// the outbox (until `retention.outbox_days`).
    fn receipt_subject() -> String {
        emails::deletion_receipt("", "", &Receipt::default(), &[], "").subject
    }

    /// The messages in the mail outbox, deletion receipts aside, to or naming an address whose
    /// forget-list hash is in `hashes` (none when mail goes to a server).
    async fn outbox_naming(
        &self,
        hashes: &HashSet<String>,
    ) -> Result<Vec<providers::mail::StoredMessage>> {
        let Some(outbox) = self.mailer.outbox() else {
            return Ok(Vec::new());
        };
        if hashes.is_empty() {
            return Ok(Vec::new());
        }
        let receipt = Self::receipt_subject();
        let messages = outbox
            .messages()
            .await
            .map_err(|e| anyhow::anyhow!("could not read the mail outbox: {e}"))?;
        Ok(messages
            .into_iter()
            .filter(|m| {
                m.subject != receipt
                    && m.addresses
                        .iter()
                        .any(|a| hashes.contains(&self.forget_hash("address", a)))
            })
            .collect())
    }

    /// Deletes from the mail outbox the messages to or naming an address on the forget list
    /// (`deletion`: that deletion's; `None`: every one), apart from deletion receipts. A
    /// deletion does this when it finishes; the daily retention run again, in case that failed.
    /// Returns how many messages went.
    pub async fn forget_outbox(&self, deletion: Option<i64>) -> Result<u64> {
        let Some(outbox) = self.mailer.outbox() else {
            return Ok(0);
        };
        let mut entries =
            forget_entry::Entity::find().filter(forget_entry::Column::Kind.eq("address"));
        if let Some(id) = deletion {
            entries = entries.filter(forget_entry::Column::DeletionId.eq(id));
        }
        let hashes: HashSet<String> = entries
            .all(&self.db)
            .await?
            .into_iter()
            .map(|e| e.hash)
            .collect();
        let doomed = self.outbox_naming(&hashes).await?;
        Ok(outbox
            .remove(doomed)
            .await
            .map_err(|e| anyhow::anyhow!("could not delete from the mail outbox: {e}"))?)
    }

    /// Once a deletion has finished: its messages leave the mail outbox, and the database
    /// drops the copies of the deleted rows it still holds (SQLite: the WAL's older page
    /// images, by a checkpoint that truncates it; PostgreSQL: the dead row versions, by
    /// `VACUUM` of the tables the deletion touched). Best effort, each failure logged: the
    /// daily retention run clears the outbox again, and the database's own checkpoints and
    /// autovacuum get there later.
    async fn after_deletion(&self, deletion_id: i64, receipt: &Receipt) {
        match self.forget_outbox(Some(deletion_id)).await {
            Ok(0) => {}
            Ok(removed) => tracing::info!(
                deletion = deletion_id,
                removed,
                "messages to the deleted address removed from the outbox"
            ),
            Err(err) => tracing::warn!(
                deletion = deletion_id,
                error = %err,
                "could not clear the outbox yet; the daily retention run will"
            ),
        }
        // Sign-in was stopped in these; the rest are the tables the deletion changed.
        let mut tables: BTreeSet<&str> = [
            "users",
            "sessions",
            "email_tokens",
            "oauth_states",
            "account_deletions",
            "deletion_requests",
            "jobs",
        ]
        .into_iter()
        .collect();
        for changed in [&receipt.rows, &receipt.detached, &receipt.kept_rows] {
            tables.extend(changed.keys().map(String::as_str));
        }
        let tables: Vec<&str> = tables.into_iter().collect();
        match store::scrub_deleted_rows(&self.db, &tables).await {
            Ok(done) => tracing::debug!(deletion = deletion_id, ?done, "database scrubbed"),
            Err(err) => tracing::warn!(
                deletion = deletion_id,
                error = %format!("{err:#}"),
                "could not scrub the database after the deletion; checkpoints and autovacuum \
                 will later"
            ),
        }
    }
}

/// How many rows of `table` belong to `subject` (what a deletion would remove from it).
async fn owned_rows<C: ConnectionTrait>(
    conn: &C,
    table: &datamap::TableClass,
    subject: &Subject,
) -> Result<u64> {
    Ok(match plan::owned(table, subject) {
        Some(owned) => plan::count_rows(conn, table.table, owned).await?,
        None => 0,
    })
}

/// The workspaces `users` belong to.
async fn workspaces_of<C: ConnectionTrait>(conn: &C, users: &[i64]) -> Result<Vec<i64>> {
    Ok(membership::Entity::find()
        .filter(membership::Column::UserId.is_in(users.iter().copied()))
        .all(conn)
        .await?
        .into_iter()
        .map(|m| m.workspace_id)
        .collect())
}

/// From here on nobody signs in as the person: the address no longer matches any sign-in or
/// reset, the password matches nothing, and every session and link is gone. Returns the rows
/// deleted, by table.
async fn block_sign_in<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
    deletion_id: i64,
) -> Result<BTreeMap<String, u64>> {
    user::Entity::update_many()
        .col_expr(
            user::Column::Email,
            Expr::value(format!("deleting-{deletion_id}@deleted.invalid")),
        )
        .col_expr(user::Column::PasswordHash, Expr::value("!deleted"))
        .filter(user::Column::Id.eq(user_id))
        .exec(conn)
        .await?;
    let sessions = session::Entity::delete_many()
        .filter(session::Column::UserId.eq(user_id))
        .exec(conn)
        .await?
        .rows_affected;
    let links = email_token::Entity::delete_many()
        .filter(email_token::Column::UserId.eq(user_id))
        .exec(conn)
        .await?
        .rows_affected;
    let oauth = oauth_state::Entity::delete_many()
        .filter(oauth_state::Column::UserId.eq(user_id))
        .exec(conn)
        .await?
        .rows_affected;
    use sea_orm::EntityName;
    Ok([
        (session::Entity.table_name(), sessions),
        (email_token::Entity.table_name(), links),
        (oauth_state::Entity.table_name(), oauth),
    ]
    .into_iter()
    .filter(|(_, n)| *n > 0)
    .map(|(table, n)| (table.to_owned(), n))
    .collect())
}

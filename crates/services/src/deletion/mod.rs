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

use store::entities::states::AccountStatus;
use store::entities::states::ForgetKind;
pub mod forget;
pub mod kept_work;
pub mod preview;
pub mod receipt;
pub mod residue;
pub mod steps;

pub use forget::ForgetReport;
pub use preview::{KeptOutcome, Preview, PreviewLine};
pub use receipt::{KeptLine, KeptWork, Receipt, RevocationLine, Step, Via, WorkspaceLine};
pub use residue::{Finding, Residue, Whom};

use crate::{Result, ServiceError, Services, emails, queue};
use domain::{DeletionId, Role, UserId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use steps::{as_subject, block_sign_in, owned_rows, still_in_flight, workspaces_of};

use store::datamap::{OnDeletion, TABLES};
use store::entities::{account_deletion, membership, social_account, user, workspace};

/// The payload of the job that carries an account deletion out.
#[derive(Debug, Serialize, Deserialize)]
pub struct DeletionRun {
    pub deletion: i64,
}

impl queue::Payload for DeletionRun {
    const KIND: &'static str = "delete_account";
}

/// Carries out (or resumes) an account deletion; it keeps trying until the deletion is done.
pub struct DeleteAccount;

impl crate::jobs::Job for DeleteAccount {
    type Payload = DeletionRun;

    async fn run(
        services: &Services,
        _: &store::entities::job::Model,
        payload: DeletionRun,
    ) -> Result<(), crate::jobs::JobError> {
        services
            .run_account_deletion(DeletionId(payload.deletion))
            .await
            .map_err(crate::jobs::JobError::retry)
    }
}

/// How long the safety-net job waits before resuming a deletion that the request running it
/// did not finish (a crash, a restart).
pub(crate) const RESUME_AFTER: chrono::Duration = chrono::Duration::minutes(2);

impl Services {
    /// The accounts still connected in `workspaces` (those a deletion revokes).
    pub(crate) async fn connected_accounts_of(
        &self,
        workspaces: &[WorkspaceLine],
    ) -> Result<Vec<social_account::Model>> {
        Ok(social_account::Entity::find()
            .filter(social_account::Column::WorkspaceId.is_in(workspaces.iter().map(|w| w.id)))
            .filter(social_account::Column::Status.ne(AccountStatus::Disconnected))
            .order_by_asc(social_account::Column::Id)
            .all(&self.db)
            .await?)
    }

    /// The workspaces `user_id` owns: those with no other owner are deleted with the account,
    /// the others handed over. Workspaces where they are not an owner are simply left.
    pub(crate) async fn workspace_fates<C: ConnectionTrait>(
        &self,
        conn: &C,
        user_id: UserId,
    ) -> Result<(Vec<WorkspaceLine>, Vec<WorkspaceLine>)> {
        let owned = membership::Entity::find()
            .filter(membership::Column::UserId.eq(user_id.0))
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
                .filter(membership::Column::UserId.ne(user_id.0))
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
    #[tracing::instrument(skip_all)]
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
            .start_deletion(UserId(auth.user.id), Via::App, kept_work)
            .await?;
        if !started {
            // A second confirmation (a double click): the first one is carrying it out, and
            // running it twice would call the platforms and send the receipt twice.
            return self.kept_outcome(id.0).await;
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
                    deletion = id.0,
                    "posts being published are deleted once that ends"
                )
            }
            Ok(Err(err)) => {
                tracing::error!(deletion = id.0, error = ?err, "the deletion will be resumed by its job")
            }
            Err(err) => {
                tracing::error!(deletion = id.0, error = ?err, "the deletion will be resumed by its job")
            }
        }
        self.kept_outcome(id.0).await
    }

    /// Starts deleting an account: in one transaction, the account stops being able to sign
    /// in and the deletion is recorded with a job that resumes it. Returns the deletion's id
    /// (the same one when a deletion of this account is already under way). The posts and
    /// files the person made in workspaces others keep are deleted too (the default, and what
    /// a request e-mailed to us does).
    #[tracing::instrument(skip_all, fields(user = user_id.0))]
    pub async fn begin_account_deletion(&self, user_id: UserId, via: Via) -> Result<DeletionId> {
        Ok(self.start_deletion(user_id, via, KeptWork::Delete).await?.0)
    }

    /// [`Self::begin_account_deletion`], saying whether this call started it (`false`: it was
    /// already under way, and whoever started it runs it).
    pub(crate) async fn start_deletion(
        &self,
        user_id: UserId,
        via: Via,
        kept_work: KeptWork,
    ) -> Result<(DeletionId, bool)> {
        let txn = store::begin_write(&self.db).await?;
        // Two confirmations at once take turns on the user row (PostgreSQL; SQLite's write
        // lock is taken at BEGIN), so the second finds the first's deletion.
        let person = user::Entity::find_by_id(user_id)
            .lock_exclusive()
            .one(&txn)
            .await?
            .ok_or(ServiceError::NotFound)?;
        if let Some(running) = account_deletion::Entity::find()
            .filter(account_deletion::Column::UserId.eq(user_id.0))
            .filter(account_deletion::Column::Step.ne(Step::Done))
            .one(&txn)
            .await?
        {
            txn.rollback().await?;
            return Ok((DeletionId(running.id), false));
        }
        let (deleted, handed_over) = self.workspace_fates(&txn, user_id).await?;
        let member_of = workspaces_of(&txn, &[user_id.0]).await?;
        if kept_work == KeptWork::Delete {
            let going: Vec<i64> = deleted.iter().map(|w| w.id).collect();
            kept_work::withdraw_queued(&txn, user_id.0, &going).await?;
        }
        let mut receipt = Receipt {
            user_id: user_id.0,
            deleted,
            handed_over,
            member_of,
            kept_work,
            ..Default::default()
        };
        let now = crate::now();
        let row = account_deletion::ActiveModel {
            user_id: Set(Some(user_id.0)),
            subject_hash: Set(self.forget_id(ForgetKind::User, user_id.0)),
            email: Set(Some(person.email.clone())),
            name: Set(Some(person.name.clone())),
            via: Set(via),
            step: Set(Step::Revoke),
            receipt: Set(Some(
                serde_json::to_string(&receipt).map_err(anyhow::Error::from)?,
            )),
            started_at: Set(now),
            finished_at: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        receipt.signed_out = block_sign_in(&txn, user_id, DeletionId(row.id)).await?;
        account_deletion::Entity::update_many()
            .col_expr(
                account_deletion::Column::Receipt,
                Expr::value(serde_json::to_string(&receipt).map_err(anyhow::Error::from)?),
            )
            .filter(account_deletion::Column::Id.eq(row.id))
            .exec(&txn)
            .await?;
        let mut job = queue::NewJob::of(&DeletionRun { deletion: row.id })?;
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
        Ok((DeletionId(row.id), true))
    }

    /// Carries out (or resumes) a deletion to its end. Safe to run again: each step records
    /// the next, and a finished deletion does nothing.
    #[tracing::instrument(skip_all, fields(deletion = deletion_id.0))]
    pub async fn run_account_deletion(&self, deletion_id: DeletionId) -> Result<()> {
        loop {
            let row = account_deletion::Entity::find_by_id(deletion_id)
                .one(&self.db)
                .await?
                .ok_or(ServiceError::NotFound)?;
            let step = row.step;
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
            .filter(account_deletion::Column::Step.ne(Step::Done))
            .filter(account_deletion::Column::StartedAt.lt(crate::now() - older_than))
            .all(&self.db)
            .await?;
        let mut finished = 0;
        for deletion in stalled {
            match self.run_account_deletion(DeletionId(deletion.id)).await {
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

    /// The last step: what stays on the row is counts, with no names or ids.
    pub(crate) async fn finish_deletion(
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
            .col_expr(account_deletion::Column::Step, Expr::value(Step::Done))
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
        self.after_deletion(DeletionId(row.id), receipt).await;
        Ok(())
    }

    pub(crate) async fn save_step(
        &self,
        id: i64,
        from: Step,
        to: Step,
        receipt: &Receipt,
    ) -> Result<()> {
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

    /// Once a deletion has finished: its messages leave the mail outbox, and the database
    /// drops the copies of the deleted rows it still holds (SQLite: the WAL's older page
    /// images, by a checkpoint that truncates it; PostgreSQL: the dead row versions, by
    /// `VACUUM` of the tables the deletion touched). Best effort, each failure logged: the
    /// daily retention run clears the outbox again, and the database's own checkpoints and
    /// autovacuum get there later.
    pub(crate) async fn after_deletion(&self, deletion_id: DeletionId, receipt: &Receipt) {
        match self.forget_outbox(Some(deletion_id)).await {
            Ok(0) => {}
            Ok(removed) => tracing::info!(
                deletion = deletion_id.0,
                removed,
                "messages to the deleted address removed from the outbox"
            ),
            Err(err) => tracing::warn!(
                deletion = deletion_id.0,
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
            Ok(done) => tracing::debug!(deletion = deletion_id.0, ?done, "database scrubbed"),
            Err(err) => tracing::warn!(
                deletion = deletion_id.0,
                error = %format!("{err:#}"),
                "could not scrub the database after the deletion; checkpoints and autovacuum \
                 will later"
            ),
        }
    }
}

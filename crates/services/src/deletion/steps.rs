//! The steps that do a deletion's work: revoking the platform tokens, deleting the rows the data
//! map ties to the person and the deleted workspaces (in one transaction), removing the media
//! objects, and waiting for platform calls under way. [`super`] runs them in order.

use super::kept_work;
use super::receipt::{KeptWork, Receipt, RevocationLine, Step};
use crate::connections::Revocation;
use crate::datamap::{self as plan, Subject};
use crate::{Result, ServiceError, Services, activity, emails, notices};
use domain::{DeletionId, Role, UserId, WorkspaceId};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SimpleExpr};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use std::collections::{BTreeMap, HashSet};
use store::datamap::{self, Names, OnDeletion, Owner, TABLES, Then};
use store::entities::states::ForgetKind;
use store::entities::{
    account_deletion, deletion_request, email_token, forget_entry, membership, oauth_state,
    session, social_account, user,
};

pub(crate) fn outcome_line(
    account: &social_account::Model,
    revocation: &Revocation,
) -> RevocationLine {
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

pub(crate) fn as_subject(receipt: &Receipt, row: &account_deletion::Model) -> Subject {
    Subject {
        users: vec![receipt.user_id],
        workspaces: receipt.deleted.iter().map(|w| w.id).collect(),
        addresses: row.email.iter().map(|a| a.to_lowercase()).collect(),
        names: row.name.iter().cloned().collect(),
        member_of: receipt.member_of.clone(),
        owned: Vec::new(),
    }
}

/// `NOT condition`, or nothing to exclude.
pub(crate) fn and_not(base: SimpleExpr, excluded: Option<SimpleExpr>) -> SimpleExpr {
    match excluded {
        Some(excluded) => base.and(excluded.not()),
        None => base,
    }
}

/// Deletes everything of `subject` the data map names, in one transaction's worth of
/// statements: copies of names replaced and ids cleared in the rows that stay, rows addressed
/// to the deleted ones removed, then every owned row, children before parents. Returns the
/// rows changed per table and the media keys of the deleted rows.
pub(crate) async fn delete_rows<C: ConnectionTrait>(
    conn: &C,
    subject: &Subject,
) -> Result<Changes> {
    // PayPal must stop billing the workspaces that go (their subscriptions' rows go with them).
    crate::billing::cancel_with_workspaces(conn, &subject.workspaces).await?;
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
pub(crate) struct Changes {
    /// Rows deleted, by table.
    pub(crate) deleted: BTreeMap<String, u64>,
    /// Rows kept with the person's name or id cleared, by table.
    pub(crate) detached: BTreeMap<String, u64>,
    /// Media store keys of the deleted rows.
    pub(crate) objects: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    Replace,
    Clear,
    DeleteRows,
}

/// How many rows of `table` belong to `subject` (what a deletion would remove from it).
pub(crate) async fn owned_rows<C: ConnectionTrait>(
    conn: &C,
    table: &datamap::TableClass,
    subject: &Subject,
) -> Result<u64> {
    Ok(match plan::owned(table, subject) {
        Some(owned) => plan::count_rows(conn, table.table, owned).await?,
        None => 0,
    })
}

impl Services {
    /// The posts left at the `rows` step because a platform call for them was under way, and
    /// the files they carry: deleted once the call has ended (until then the step fails, and
    /// the deletion's job tries again later).
    pub(crate) async fn in_flight_step(
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

    /// Revokes the platform access of every connected account of the deleted workspaces,
    /// once per authorisation, recording each outcome as it happens.
    pub(crate) async fn revoke_step(
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
    pub(crate) async fn rows_step(
        &self,
        row: &account_deletion::Model,
        mut receipt: Receipt,
    ) -> Result<()> {
        let txn = store::begin_write(&self.db).await?;
        // Claim the step: a second runner (the safety-net job) finds it taken and stops.
        let claimed = account_deletion::Entity::update_many()
            .col_expr(account_deletion::Column::Step, Expr::value(Step::Rows))
            .filter(account_deletion::Column::Id.eq(row.id))
            .filter(account_deletion::Column::Step.eq(Step::Rows))
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
                Expr::value(crate::deletion_requests::State::Confirmed),
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
            .filter(deletion_request::Column::State.eq(crate::deletion_requests::State::Open))
            .exec(&txn)
            .await?;
        // Their posts and files in workspaces others keep go first, unless they chose to leave
        // them (`delete_rows` then detaches them like every row those workspaces keep); the
        // members there are told what went.
        let kept = match receipt.kept_work {
            KeptWork::Delete => {
                let going: Vec<i64> = receipt.deleted.iter().map(|w| w.id).collect();
                let mut removed =
                    kept_work::remove_theirs(&txn, receipt.user_id, &going, kept_work::Calls::Wait)
                        .await?;
                removed.keep_existing_parts(&self.objects).await;
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
                        Some(UserId(*id)),
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
                    Some(UserId(*id)),
                )
                .await?;
                // Said once in the product too, where they would land on "Create your first
                // workspace" with no word of why.
                notices::workspace_deleted(&txn, UserId(*id), &ws.name, row.started_at).await?;
            }
        }
        let now = crate::now();
        let keep_until = now + self.retention.forget_keep();
        let mut forget = vec![(
            ForgetKind::User,
            self.forget_id(ForgetKind::User, receipt.user_id),
        )];
        for ws in &receipt.deleted {
            forget.push((
                ForgetKind::Workspace,
                self.forget_id(ForgetKind::Workspace, ws.id),
            ));
        }
        for address in &subject.addresses {
            forget.push((
                ForgetKind::Address,
                self.forget_hash(ForgetKind::Address, address),
            ));
        }
        for (kind, hash) in forget {
            forget_entry::ActiveModel {
                deletion_id: Set(Some(row.id)),
                kind: Set(kind),
                hash: Set(hash),
                created_at: Set(now),
                keep_until: Set(keep_until),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
        account_deletion::Entity::update_many()
            .col_expr(account_deletion::Column::Step, Expr::value(Step::Objects))
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
        // The analytics views this process kept of them go with them.
        for ws in &receipt.deleted {
            self.kept_views.forget_workspace(ws.id);
        }
        Ok(())
    }

    /// Deletes `keys` from the media store, then everything under the prefixes of `users` and
    /// `workspaces` (their exports, thumbnails, anything a row no longer names). Returns how
    /// many objects went.
    pub(crate) async fn delete_objects(
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
    pub(crate) async fn distinct<T: sea_orm::TryGetable>(
        &self,
        table: &str,
        column: &str,
    ) -> Result<Vec<T>> {
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
}

/// Why the `in_flight` step has not finished yet: posts with a platform call under way.
#[derive(Debug, thiserror::Error)]
#[error("{0} post(s) still being published: deleted once that ends")]
pub(crate) struct StillInFlight(usize);

/// Whether `err` only says that a deletion waits for platform calls under way to end.
pub(crate) fn still_in_flight(err: &ServiceError) -> bool {
    matches!(err, ServiceError::Unexpected(e) if e.downcast_ref::<StillInFlight>().is_some())
}

/// The workspaces `users` belong to.
pub(crate) async fn workspaces_of<C: ConnectionTrait>(conn: &C, users: &[i64]) -> Result<Vec<i64>> {
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
pub(crate) async fn block_sign_in<C: ConnectionTrait>(
    conn: &C,
    user_id: UserId,
    deletion_id: DeletionId,
) -> Result<BTreeMap<String, u64>> {
    user::Entity::update_many()
        .col_expr(
            user::Column::Email,
            Expr::value(format!("deleting-{deletion_id}@deleted.invalid")),
        )
        .col_expr(user::Column::PasswordHash, Expr::value("!deleted"))
        .filter(user::Column::Id.eq(user_id.0))
        .exec(conn)
        .await?;
    let sessions = session::Entity::delete_many()
        .filter(session::Column::UserId.eq(user_id.0))
        .exec(conn)
        .await?
        .rows_affected;
    let links = email_token::Entity::delete_many()
        .filter(email_token::Column::UserId.eq(user_id.0))
        .exec(conn)
        .await?
        .rows_affected;
    let oauth = oauth_state::Entity::delete_many()
        .filter(oauth_state::Column::UserId.eq(user_id.0))
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

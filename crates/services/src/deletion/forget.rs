//! The forget list: keyed hashes of the ids of deleted people and workspaces, kept apart from
//! the backups, and re-applied after a restore so that a restored backup forgets them again.

use super::kept_work;
use super::receipt::{KeptWork, Step, recorded_choice};
use super::steps::{block_sign_in, delete_rows, still_in_flight, workspaces_of};
use crate::datamap::Subject;
use crate::{Result, Services};
use domain::{DeletionId, UserId};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::collections::HashSet;
use store::datamap::{Names, TABLES};
use store::entities::states::ForgetKind;
use store::entities::{account_deletion, forget_entry, user};

/// What re-applying the forget list removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ForgetReport {
    pub users: usize,
    pub workspaces: usize,
    pub rows: u64,
    pub objects: u64,
}

impl Services {
    /// The keyed hash the forget list keeps for `value` of `kind` (`user`, `workspace`,
    /// `address`).
    pub fn forget_hash(&self, kind: ForgetKind, value: &str) -> String {
        self.keys.mac(FORGET, format!("{kind}:{value}").as_bytes())
    }

    pub(crate) fn forget_id(&self, kind: ForgetKind, id: i64) -> String {
        self.forget_hash(kind, &id.to_string())
    }

    /// After a restore from a backup: deletes again every user and workspace whose keyed hash
    /// is on the forget list, with the same plan as the deletion (no platform calls, no
    /// e-mails: those happened when they were deleted).
    pub async fn reapply_forget_list(&self) -> Result<ForgetReport> {
        // Deletions that had not finished when the backup (or the saved records) was taken:
        // their accounts are locked again before anything else, then finished.
        let unfinished = account_deletion::Entity::find()
            .filter(account_deletion::Column::Step.ne(Step::Done))
            .all(&self.db)
            .await?;
        for deletion in &unfinished {
            if let Some(user_id) = deletion.user_id {
                let txn = store::begin_write(&self.db).await?;
                block_sign_in(&txn, UserId(user_id), DeletionId(deletion.id)).await?;
                txn.commit().await?;
            }
        }
        for deletion in &unfinished {
            match self.run_account_deletion(DeletionId(deletion.id)).await {
                // Waiting for a platform call to end: its job finishes it once the instance
                // runs again.
                Err(err) if still_in_flight(&err) => {}
                other => other?,
            }
        }
        let entries = forget_entry::Entity::find().all(&self.db).await?;
        let hashes = |kind: ForgetKind| -> HashSet<String> {
            entries
                .iter()
                .filter(|e| e.kind == kind)
                .map(|e| e.hash.clone())
                .collect()
        };
        let (users, workspaces, addresses) = (
            hashes(ForgetKind::User),
            hashes(ForgetKind::Workspace),
            hashes(ForgetKind::Address),
        );
        let mut subject = Subject::default();
        for id in self.distinct::<i64>("users", "id").await? {
            if users.contains(&self.forget_id(ForgetKind::User, id)) {
                subject.users.push(id);
            }
        }
        for id in self.distinct::<i64>("workspaces", "id").await? {
            if workspaces.contains(&self.forget_id(ForgetKind::Workspace, id)) {
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
                    if addresses.contains(&self.forget_hash(ForgetKind::Address, &value))
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
            .filter(|id| deleting.contains(&self.forget_id(ForgetKind::User, *id)))
            .collect();
        let txn = store::begin_write(&self.db).await?;
        let mut keys = Vec::new();
        let mut kept_rows = 0;
        for user_id in &deleting_work {
            // A restore runs before the instance serves: no platform call is under way.
            let mut removed = kept_work::remove_theirs(
                &txn,
                *user_id,
                &subject.workspaces,
                kept_work::Calls::NoneUnderWay,
            )
            .await?;
            removed.keep_existing_parts(&self.objects).await;
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
}

/// The purpose under which ids are hashed for the forget list.
pub(crate) const FORGET: &str = "forget-list";

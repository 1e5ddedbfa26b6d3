//! The deletions a restore carries over: read from the database about to be replaced, kept on
//! disk as JSON while the restore runs, and merged into the restored database (where the
//! deletions still under way get a job that resumes them).

use crate::Result;
use anyhow::Context;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set,
};
use std::collections::HashMap;
use store::entities::states::{DeletionStep, DeletionVia, ForgetKind};
use store::entities::{account_deletion, forget_entry};

/// The deletions a database knows of: its deletion records and its forget list, read before a
/// restore replaces it.
#[derive(Debug, Clone, Default)]
pub struct Deletions {
    pub records: Vec<account_deletion::Model>,
    pub forget_list: Vec<forget_entry::Model>,
}

/// What merging saved deletions into a restored database added.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Merged {
    /// Deletion records the restored database did not have (or had at an earlier step).
    pub records: usize,
    /// Forget-list entries it did not have.
    pub forget_entries: usize,
    /// Deletions that were under way: their ids in the restored database, resumed by the
    /// worker (or at once by the caller).
    pub unfinished: Vec<i64>,
}

impl Deletions {
    /// Reads them from `db`; empty when the database predates the tables.
    pub async fn read(db: &store::Db) -> Result<Self> {
        let tables = store::live_tables(db).await?;
        let has = |t: &str| tables.iter().any(|l| l == t);
        let records = if has("account_deletions") {
            account_deletion::Entity::find()
                .order_by_asc(account_deletion::Column::Id)
                .all(db)
                .await?
        } else {
            Vec::new()
        };
        let forget_list = if has("forget_list") {
            forget_entry::Entity::find()
                .order_by_asc(forget_entry::Column::Id)
                .all(db)
                .await?
        } else {
            Vec::new()
        };
        Ok(Self {
            records,
            forget_list,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty() && self.forget_list.is_empty()
    }

    /// As JSON, to keep on disk while a restore is under way (so that a restore that fails
    /// after replacing the database does not lose them).
    pub fn to_json(&self) -> Result<String> {
        let saved = Saved {
            records: self.records.iter().map(SavedRecord::from).collect(),
            forget_list: self.forget_list.iter().map(SavedEntry::from).collect(),
        };
        Ok(serde_json::to_string(&saved).context("could not write the saved deletions")?)
    }

    pub fn from_json(text: &str) -> Result<Self> {
        let saved: Saved =
            serde_json::from_str(text).context("the saved deletions could not be read")?;
        Ok(Self {
            records: saved.records.into_iter().map(Into::into).collect(),
            forget_list: saved.forget_list.into_iter().map(Into::into).collect(),
        })
    }

    /// Merges them into `db` (a restored database, migrated), in one transaction and without
    /// duplicates: a deletion is the same when its subject hash and start time are, a forget
    /// entry when its kind and hash are. The saved state is the newer one, so it wins; a
    /// forget entry keeps the later of the two `keep_until`. Deletions still under way get a
    /// job that resumes them.
    pub async fn merge_into(&self, db: &store::Db) -> Result<Merged> {
        let txn = store::begin_write(db).await?;
        let mut merged = Merged::default();
        let mut ids: HashMap<i64, i64> = HashMap::new();
        for saved in &self.records {
            let existing = account_deletion::Entity::find()
                .filter(account_deletion::Column::SubjectHash.eq(saved.subject_hash.as_str()))
                .filter(account_deletion::Column::StartedAt.eq(saved.started_at))
                .one(&txn)
                .await?;
            let id = match existing {
                Some(row) if row.step == saved.step && row.finished_at == saved.finished_at => {
                    row.id
                }
                Some(row) => {
                    let mut update = row.into_active_model();
                    update.user_id = Set(saved.user_id);
                    update.email = Set(saved.email.clone());
                    update.name = Set(saved.name.clone());
                    update.step = Set(saved.step);
                    update.receipt = Set(saved.receipt.clone());
                    update.finished_at = Set(saved.finished_at);
                    merged.records += 1;
                    update.update(&txn).await?.id
                }
                None => {
                    merged.records += 1;
                    account_deletion::ActiveModel {
                        user_id: Set(saved.user_id),
                        subject_hash: Set(saved.subject_hash.clone()),
                        email: Set(saved.email.clone()),
                        name: Set(saved.name.clone()),
                        via: Set(saved.via),
                        step: Set(saved.step),
                        receipt: Set(saved.receipt.clone()),
                        started_at: Set(saved.started_at),
                        finished_at: Set(saved.finished_at),
                        ..Default::default()
                    }
                    .insert(&txn)
                    .await?
                    .id
                }
            };
            ids.insert(saved.id, id);
            if saved.finished_at.is_none() {
                merged.unfinished.push(id);
                crate::queue::enqueue(
                    &txn,
                    crate::queue::NewJob::now(
                        <crate::deletion::DeletionRun as crate::queue::Payload>::KIND,
                        serde_json::json!({ "deletion": id }),
                    ),
                )
                .await?;
            }
        }
        for saved in &self.forget_list {
            let deletion_id = saved.deletion_id.and_then(|old| ids.get(&old).copied());
            let existing = forget_entry::Entity::find()
                .filter(forget_entry::Column::Kind.eq(saved.kind.as_str()))
                .filter(forget_entry::Column::Hash.eq(saved.hash.as_str()))
                .all(&txn)
                .await?;
            if existing.is_empty() {
                forget_entry::ActiveModel {
                    deletion_id: Set(deletion_id),
                    kind: Set(saved.kind),
                    hash: Set(saved.hash.clone()),
                    created_at: Set(saved.created_at),
                    keep_until: Set(saved.keep_until),
                    ..Default::default()
                }
                .insert(&txn)
                .await?;
                merged.forget_entries += 1;
                continue;
            }
            for row in existing {
                if row.keep_until < saved.keep_until
                    || (row.deletion_id.is_none() && deletion_id.is_some())
                {
                    let keep_until = row.keep_until.max(saved.keep_until);
                    let linked = row.deletion_id.or(deletion_id);
                    let mut update = row.into_active_model();
                    update.keep_until = Set(keep_until);
                    update.deletion_id = Set(linked);
                    update.update(&txn).await?;
                }
            }
        }
        txn.commit().await?;
        Ok(merged)
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Saved {
    records: Vec<SavedRecord>,
    forget_list: Vec<SavedEntry>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct SavedRecord {
    id: i64,
    user_id: Option<i64>,
    subject_hash: String,
    email: Option<String>,
    name: Option<String>,
    via: DeletionVia,
    step: DeletionStep,
    receipt: Option<String>,
    started_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
}

impl From<&account_deletion::Model> for SavedRecord {
    fn from(m: &account_deletion::Model) -> Self {
        Self {
            id: m.id,
            user_id: m.user_id,
            subject_hash: m.subject_hash.clone(),
            email: m.email.clone(),
            name: m.name.clone(),
            via: m.via,
            step: m.step,
            receipt: m.receipt.clone(),
            started_at: m.started_at,
            finished_at: m.finished_at,
        }
    }
}

impl From<SavedRecord> for account_deletion::Model {
    fn from(s: SavedRecord) -> Self {
        Self {
            id: s.id,
            user_id: s.user_id,
            subject_hash: s.subject_hash,
            email: s.email,
            name: s.name,
            via: s.via,
            step: s.step,
            receipt: s.receipt,
            started_at: s.started_at,
            finished_at: s.finished_at,
        }
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct SavedEntry {
    id: i64,
    deletion_id: Option<i64>,
    kind: ForgetKind,
    hash: String,
    created_at: DateTime<Utc>,
    keep_until: DateTime<Utc>,
}

impl From<&forget_entry::Model> for SavedEntry {
    fn from(m: &forget_entry::Model) -> Self {
        Self {
            id: m.id,
            deletion_id: m.deletion_id,
            kind: m.kind,
            hash: m.hash.clone(),
            created_at: m.created_at,
            keep_until: m.keep_until,
        }
    }
}

impl From<SavedEntry> for forget_entry::Model {
    fn from(s: SavedEntry) -> Self {
        Self {
            id: s.id,
            deletion_id: s.deletion_id,
            kind: s.kind,
            hash: s.hash,
            created_at: s.created_at,
            keep_until: s.keep_until,
        }
    }
}

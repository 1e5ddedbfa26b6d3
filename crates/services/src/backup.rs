//! Backups: taking one (the `backup` command and the daily job), purging those past the
//! retention window, and carrying deletions across a restore.
//!
//! The file format and the database copy are in `store::backup`. A restore brings back the
//! database as it was when the backup was taken, including people who have deleted their
//! accounts since. So before a restore the current database's deletion records and forget list
//! are read, and after it they are merged into the restored database, where
//! `Services::reapply_forget_list` deletes those people again before the instance serves.

use crate::{Result, Services};
use anyhow::Context;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set,
};
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashMap;
use std::path::PathBuf;
use store::backup::BackupFile;
use store::entities::{account_deletion, forget_entry};

/// Where backups go and which database they copy.
#[derive(Debug, Clone)]
pub struct BackupTarget {
    /// `<data dir>/backups` unless configured otherwise.
    pub dir: PathBuf,
    pub database_url: SecretString,
}

/// A backup just taken, and the old ones purged after it.
#[derive(Debug, Clone)]
pub struct Taken {
    pub file: BackupFile,
    pub purged: Vec<PathBuf>,
}

/// How long a backup or restore may run before its temporary files count as left behind.
const LEFT_BEHIND_AFTER: chrono::Duration = chrono::Duration::days(1);

/// Deletes the backups in the target's folder taken more than `days` days before `now`, and
/// the temporary files of backups and restores cut short more than a day ago (one is an
/// unencrypted copy of the database); returns their paths.
pub fn purge_backups(target: &BackupTarget, days: u32, now: DateTime<Utc>) -> Result<Vec<PathBuf>> {
    let dir = &target.dir;
    let before = now - chrono::Duration::days(i64::from(days));
    let mut removed = store::backup::purge(dir, before)
        .with_context(|| format!("could not purge old backups in {}", dir.display()))?;
    for path in &removed {
        tracing::info!(path = %path.display(), "purged a backup past the retention window");
    }
    // Best effort: a file that cannot be removed now is tried again the next day, and does not
    // make the backup just taken, or the rest of the daily run, fail.
    match store::backup::sweep_leftovers(
        dir,
        target.database_url.expose_secret(),
        now - LEFT_BEHIND_AFTER,
    ) {
        Ok(left) => {
            for path in &left {
                tracing::warn!(path = %path.display(), "removed a file an interrupted backup or restore left behind");
            }
            removed.extend(left);
        }
        Err(err) => {
            tracing::warn!(dir = %dir.display(), error = %err, "could not remove what an interrupted backup or restore left behind");
        }
    }
    Ok(removed)
}

/// Takes an encrypted backup of `db` into `target.dir`, then purges the backups older than
/// `days` days.
pub async fn take_backup(
    db: &store::Db,
    target: &BackupTarget,
    ring: &store::keyring::KeyRing,
    days: u32,
) -> Result<Taken> {
    let file = store::backup::create(db, target.database_url.expose_secret(), ring, &target.dir)
        .await
        .context("the backup failed")?;
    tracing::info!(path = %file.path.display(), bytes = file.size, key = ring.current_id(), "backup written");
    let purged = purge_backups(target, days, crate::now())?;
    Ok(Taken { file, purged })
}

impl Services {
    /// Takes an encrypted backup now (into the backups folder), then purges the old ones.
    pub async fn take_backup(&self) -> Result<Taken> {
        take_backup(
            &self.db,
            &self.backups,
            &self.keyring,
            self.retention.backup_days,
        )
        .await
    }

    /// Purges the backups past the retention window.
    pub fn purge_backups(&self, now: DateTime<Utc>) -> Result<Vec<PathBuf>> {
        purge_backups(&self.backups, self.retention.backup_days, now)
    }
}

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
                    update.step = Set(saved.step.clone());
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
                        via: Set(saved.via.clone()),
                        step: Set(saved.step.clone()),
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
                        crate::deletion::JOB_KIND,
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
                    kind: Set(saved.kind.clone()),
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
    via: String,
    step: String,
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
            via: m.via.clone(),
            step: m.step.clone(),
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
    kind: String,
    hash: String,
    created_at: DateTime<Utc>,
    keep_until: DateTime<Utc>,
}

impl From<&forget_entry::Model> for SavedEntry {
    fn from(m: &forget_entry::Model) -> Self {
        Self {
            id: m.id,
            deletion_id: m.deletion_id,
            kind: m.kind.clone(),
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

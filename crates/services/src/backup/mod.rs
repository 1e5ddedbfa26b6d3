//! Backups: taking one (the `backup` command and the daily job), purging those past the
//! retention window, and restoring one.
//!
//! The file format and the database copy are in `store::backup`. A restore brings back the
//! database as it was when the backup was taken, including people who have deleted their
//! accounts since. So before a restore the current database's deletion records and forget list
//! are read, and after it they are merged into the restored database, where
//! `Services::reapply_forget_list` deletes those people again before the instance serves.
//!
//! - this file: taking a backup and purging old ones;
//! - `deletions`: the deletions carried across a restore (read, kept on disk, merged back);
//! - `restore`: the restore procedure, step by step.

mod deletions;
pub mod restore;

pub use deletions::{Deletions, Merged};
pub use restore::{RestorePlan, Restored, restore};

use crate::{Result, Services};
use anyhow::Context;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use std::path::PathBuf;
use store::backup::BackupFile;

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

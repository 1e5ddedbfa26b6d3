//! Restoring a backup, with the server stopped.
//!
//! The steps, in order: check that the whole file decrypts before anything is touched; save the
//! current database's deletion records and forget list (when the database is reachable) to a
//! file beside it; replace the database with the backup; migrate it; merge what was saved into
//! it; delete again everyone on the forget list and resume the deletions that were under way;
//! remove the saved file. Only then may the instance serve.
//!
//! A restore that fails before the database is replaced changes nothing (and puts the saved
//! file back as it was). One that fails after it leaves the saved file on disk, so that running
//! the same restore again finds what the replaced database knew.
//!
//! The caller builds a [`RestorePlan`] from its configuration, and passes a function that starts
//! the services on the restored database (they are built only once it holds the backup).

use super::{Deletions, Merged};
use crate::Services;
use crate::deletion::ForgetReport;
use anyhow::Context;
use domain::DeletionId;
use secrecy::{ExposeSecret, SecretString};
use std::path::{Path, PathBuf};
use store::Backend;
use store::backup::Header;
use store::keyring::KeyRing;

/// What a restore works with, built from the configuration.
#[derive(Debug, Clone)]
pub struct RestorePlan {
    /// The database that the backup replaces.
    pub database_url: SecretString,
    /// A key ring that already existed (a new key could not open any backup).
    pub ring: KeyRing,
    /// Where the deletions saved before a restore wait until it has finished: a restore that
    /// fails after replacing the database finds them there when it is run again.
    pub pending: PathBuf,
}

/// What a restore did.
#[derive(Debug)]
pub struct Restored {
    pub header: Header,
    /// Whether the replaced database could be read for its deletions.
    pub saved_deletions: bool,
    pub merged: Merged,
    pub forgotten: ForgetReport,
    /// Deletions that were under way and could not be finished now (the worker resumes them).
    pub unfinished_errors: Vec<String>,
}

/// Whether the deletions made after a backup are known: they are in the current database (when
/// it can be read) or in what an interrupted restore saved at `pending`. Without either, a
/// restore would bring those accounts back.
pub async fn later_deletions_known(database_url: &str, pending: &Path) -> anyhow::Result<bool> {
    Ok(!read_pending(pending)?.is_empty() || saved_deletions(database_url).await?.is_some())
}

/// Reads the deletions the current database knows of, when it can be reached.
async fn saved_deletions(url: &str) -> anyhow::Result<Option<Deletions>> {
    if Backend::from_url(url)? == Backend::Sqlite && !store::backup::sqlite_path(url)?.exists() {
        return Ok(None);
    }
    let db = match store::connect(url, 1).await {
        Ok(db) => db,
        Err(err) => {
            tracing::warn!(error = %format!("{err:#}"), "the current database cannot be read; restoring without its forget list");
            return Ok(None);
        }
    };
    let saved = Deletions::read(&db)
        .await
        .map_err(|e| anyhow::anyhow!("could not read the current forget list: {e:#}"))?;
    db.close().await.context("could not close the database")?;
    Ok(Some(saved))
}

fn read_pending(path: &Path) -> anyhow::Result<Vec<Deletions>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(anyhow::Error::new(e).context(format!("could not read {}", path.display())));
        }
    };
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            Deletions::from_json(l)
                .map_err(|e| anyhow::anyhow!("{} is damaged: {e:#}", path.display()))
        })
        .collect()
}

/// Writes the saved deletions (only the owner may read them), replacing the file at once.
fn write_pending(path: &Path, sets: &[Deletions]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut text = String::new();
    for set in sets {
        text.push_str(&set.to_json().map_err(|e| anyhow::anyhow!("{e:#}"))?);
        text.push('\n');
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let temp = path.with_extension("jsonl.partial");
    let _ = std::fs::remove_file(&temp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(&temp)
        .with_context(|| format!("could not write {}", temp.display()))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&temp, path).with_context(|| format!("could not write {}", path.display()))?;
    Ok(())
}

/// Restores the backup at `from` into the plan's database (see the module's notes). `start`
/// builds the services on the restored, migrated database; they delete again everyone on the
/// forget list.
#[tracing::instrument(name = "restore", skip_all)]
pub async fn restore(
    plan: &RestorePlan,
    from: &Path,
    start: impl AsyncFnOnce() -> anyhow::Result<Services>,
) -> anyhow::Result<Restored> {
    let url = plan.database_url.expose_secret();
    let ring = &plan.ring;
    // The whole file is checked first: a file that does not decrypt changes nothing.
    {
        let ring = ring.clone();
        let from = from.to_owned();
        tokio::task::spawn_blocking(move || store::backup::verify(&ring, &from))
            .await
            .context("the check of the backup failed")?
            .with_context(|| "the backup was refused; the database was not changed")?;
    }
    let pending = &plan.pending;
    let mut saved = read_pending(pending)?;
    let left_before = saved.len();
    let current = saved_deletions(url).await?;
    if let Some(current) = &current
        && !current.is_empty()
    {
        saved.push(current.clone());
    }
    if !saved.is_empty() {
        write_pending(pending, &saved)?;
    }
    let header = match store::backup::restore(url, ring, from).await {
        Ok(header) => header,
        Err(err) => {
            // Nothing was replaced, so the current database still holds its records: the file
            // (names and addresses of deletions under way) goes back to what it was.
            let undone = if left_before == 0 {
                std::fs::remove_file(pending).or_else(|e| match e.kind() {
                    std::io::ErrorKind::NotFound => Ok(()),
                    _ => Err(e.into()),
                })
            } else {
                write_pending(pending, &saved[..left_before])
            };
            if let Err(undo) = undone {
                tracing::warn!(path = %pending.display(), error = %undo, "could not put the saved forget list back");
            }
            return Err(err.context("the restore failed; the database was not changed"));
        }
    };
    // From here on the database is the backup's: until the forget list is re-applied it must
    // not serve, and the saved deletions stay on disk for another run.
    let not_ready = |what: &str, err: String| {
        anyhow::anyhow!(
            "{what}: {err}\nThe database now holds the backup, but accounts deleted since it \
             was taken are not deleted again yet: do not start the server. Fix the cause and run \
             the same restore again (the saved forget list waits in {}).",
            pending.display()
        )
    };
    let db = store::connect(url, 2)
        .await
        .map_err(|e| not_ready("could not open the restored database", format!("{e:#}")))?;
    store::migrate(&db)
        .await
        .map_err(|e| not_ready("could not migrate the restored database", format!("{e:#}")))?;
    let mut merged = Merged::default();
    for set in &saved {
        let one = set
            .merge_into(&db)
            .await
            .map_err(|e| not_ready("could not merge the saved forget list", format!("{e:#}")))?;
        merged.records += one.records;
        merged.forget_entries += one.forget_entries;
        merged.unfinished.extend(one.unfinished);
    }
    db.close().await.context("could not close the database")?;
    let services = start()
        .await
        .map_err(|e| not_ready("could not start the services", format!("{e:#}")))?;
    let forgotten = services
        .reapply_forget_list()
        .await
        .map_err(|e| not_ready("could not re-apply the forget list", format!("{e:#}")))?;
    let mut unfinished_errors = Vec::new();
    for id in &merged.unfinished {
        if let Err(err) = services.run_account_deletion(DeletionId(*id)).await {
            unfinished_errors.push(format!("deletion {id}: {err:#}"));
        }
    }
    services
        .db
        .clone()
        .close()
        .await
        .context("could not close the database")?;
    match std::fs::remove_file(pending) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(anyhow::Error::new(e).context(format!(
                "the restore is complete, but {} could not be removed; remove it by hand",
                pending.display()
            )));
        }
    }
    Ok(Restored {
        header,
        saved_deletions: current.is_some(),
        merged,
        forgotten,
        unfinished_errors,
    })
}

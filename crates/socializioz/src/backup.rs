//! `socializioz backup` and `socializioz restore`.
//!
//! A restore runs with the server stopped. It checks the whole file decrypts before anything
//! is touched, saves the current database's deletion records and forget list (when the
//! database is reachable), restores, migrates, merges what it saved into the restored
//! database, and deletes again everyone on the forget list. Only then may the instance serve.

use crate::app;
use crate::config::Settings;
use anyhow::Context;
use services::backup::{Deletions, Merged, Taken};
use services::deletion::ForgetReport;
use std::path::{Path, PathBuf};
use store::Backend;
use store::backup::Header;

/// Takes an encrypted backup into `<data dir>/backups` and purges those past the window.
pub async fn backup(settings: &Settings) -> anyhow::Result<Taken> {
    let url = settings.database_url();
    if Backend::from_url(&url)? == Backend::Sqlite {
        let path = store::backup::sqlite_path(&url)?;
        anyhow::ensure!(
            path.exists(),
            "there is no database at {} to back up",
            path.display()
        );
    }
    let db = store::connect(&url, 2).await?;
    let (ring, _) = settings.key_ring()?;
    let retention = settings.retention.to_retention()?;
    let taken =
        services::backup::take_backup(&db, &settings.backup_target(), &ring, retention.backup_days)
            .await?;
    db.close().await.context("could not close the database")?;
    Ok(taken)
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

/// The key ring for a restore: never generated (a new key could not open any backup).
fn existing_key_ring(settings: &Settings) -> anyhow::Result<store::keyring::KeyRing> {
    if settings.security.master_keys.is_none() {
        let path = settings.data.dir.join("master.keys");
        anyhow::ensure!(
            path.exists(),
            "there is no master key file at {}: copy the master.keys that the backup was made \
             with there (or set security.master_keys), then run the restore again",
            path.display()
        );
    }
    Ok(settings.key_ring()?.0)
}

/// The forget list holds hashes keyed with the server's secret key: a restore with a new key
/// would match none of them, and bring back everyone deleted since the backup.
fn require_secret_key(settings: &Settings) -> anyhow::Result<()> {
    if settings.security.secret_key.is_none() {
        let path = settings.data.dir.join("secret.key");
        anyhow::ensure!(
            path.exists(),
            "there is no secret key at {}: copy the secret.key of the instance the backup was \
             made on there (or set security.secret_key); the forget list can only be matched \
             with it",
            path.display()
        );
    }
    Ok(())
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

/// Where the deletions saved before a restore wait until it has finished: a restore that fails
/// after replacing the database finds them there when it is run again.
fn pending_path(settings: &Settings) -> PathBuf {
    settings.data.dir.join("restore-pending.jsonl")
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

/// Restores the backup at `from` into the configured database (see the module's notes).
pub async fn restore(settings: &Settings, from: &Path) -> anyhow::Result<Restored> {
    app::install_crypto_provider();
    let url = settings.database_url();
    let ring = existing_key_ring(settings)?;
    require_secret_key(settings)?;
    // The whole file is checked first: a file that does not decrypt changes nothing.
    {
        let ring = ring.clone();
        let from = from.to_owned();
        tokio::task::spawn_blocking(move || store::backup::verify(&ring, &from))
            .await
            .context("the check of the backup failed")?
            .with_context(|| "the backup was refused; the database was not changed")?;
    }
    let pending = pending_path(settings);
    let mut saved = read_pending(&pending)?;
    let left_before = saved.len();
    let current = saved_deletions(&url).await?;
    if let Some(current) = &current
        && !current.is_empty()
    {
        saved.push(current.clone());
    }
    if !saved.is_empty() {
        write_pending(&pending, &saved)?;
    }
    let header = match store::backup::restore(&url, &ring, from).await {
        Ok(header) => header,
        Err(err) => {
            // Nothing was replaced, so the current database still holds its records: the file
            // (names and addresses of deletions under way) goes back to what it was.
            let undone = if left_before == 0 {
                std::fs::remove_file(&pending).or_else(|e| match e.kind() {
                    std::io::ErrorKind::NotFound => Ok(()),
                    _ => Err(e.into()),
                })
            } else {
                write_pending(&pending, &saved[..left_before])
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
    let db = store::connect(&url, 2)
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
    let public = settings.public_url(settings.listen_addr()?);
    let services = app::services(settings, public)
        .await
        .map_err(|e| not_ready("could not start the services", format!("{e:#}")))?;
    let forgotten = services
        .reapply_forget_list()
        .await
        .map_err(|e| not_ready("could not re-apply the forget list", format!("{e:#}")))?;
    let mut unfinished_errors = Vec::new();
    for id in &merged.unfinished {
        if let Err(err) = services.run_account_deletion(*id).await {
            unfinished_errors.push(format!("deletion {id}: {err:#}"));
        }
    }
    services
        .db
        .clone()
        .close()
        .await
        .context("could not close the database")?;
    match std::fs::remove_file(&pending) {
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

/// `socializioz backup`: prints the file written and its size.
pub async fn backup_command(settings: &Settings) -> anyhow::Result<()> {
    app::install_crypto_provider();
    let taken = backup(settings).await?;
    println!(
        "Wrote {} ({} bytes, encrypted with master key {:?}).",
        taken.file.path.display(),
        taken.file.size,
        settings.key_ring()?.0.current_id()
    );
    for path in &taken.purged {
        println!(
            "Purged {} (older than the retention window).",
            path.display()
        );
    }
    Ok(())
}

/// `socializioz restore --from FILE [--yes]`: asks before replacing the database, restores,
/// and says what the forget list removed.
pub async fn restore_command(
    settings: &Settings,
    from: &Path,
    yes: bool,
    without_current_database: bool,
) -> anyhow::Result<()> {
    use std::io::{BufRead, IsTerminal, Write};
    anyhow::ensure!(from.is_file(), "--from: {} is not a file", from.display());
    // The forget list of deletions made after the backup lives in the current database (or in
    // what an interrupted restore saved). Without either, those accounts would come back: the
    // operator has to say so knowingly.
    if !without_current_database
        && read_pending(&pending_path(settings))?.is_empty()
        && saved_deletions(&settings.database_url()).await?.is_none()
    {
        anyhow::bail!(
            "the current database cannot be read, so the accounts deleted after this backup was \
             made are not known and would come back. Restore the current database's own backup \
             instead if there is a newer one; to restore anyway, run again with \
             --without-current-database and delete those accounts again by hand"
        );
    }
    if !yes {
        anyhow::ensure!(
            std::io::stdin().is_terminal(),
            "a restore replaces the whole database: stop the server, then run it again with \
             --yes to confirm"
        );
        print!(
            "This replaces the whole database ({}) with the backup {}. Stop every serve and \
             worker process first. Type \"restore\" to go on: ",
            redacted(&settings.database_url()),
            from.display()
        );
        std::io::stdout().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        anyhow::ensure!(answer.trim() == "restore", "nothing was changed");
    }
    let restored = restore(settings, from).await?;
    println!(
        "Restored the {} backup {} (master key {:?}).",
        store::backup::backend_name(restored.header.backend),
        from.display(),
        restored.header.key_id
    );
    if restored.saved_deletions {
        println!(
            "Carried over from the replaced database: {} and {}.",
            domain::counted(
                restored.merged.records,
                "deletion record",
                "deletion records"
            ),
            domain::counted(
                restored.merged.forget_entries,
                "forget-list record",
                "forget-list records"
            )
        );
    } else {
        println!(
            "The replaced database could not be read: only the forget list inside the backup \
             was applied."
        );
    }
    let f = &restored.forgotten;
    println!(
        "Forget list re-applied: {} and {} deleted again ({}, {}).",
        domain::counted(f.users, "account", "accounts"),
        domain::counted(f.workspaces, "workspace", "workspaces"),
        domain::counted(f.rows, "row", "rows"),
        domain::counted(f.objects, "file", "files")
    );
    for error in &restored.unfinished_errors {
        println!(
            "A deletion that was under way is not finished yet ({error}); the worker resumes it when the instance starts."
        );
    }
    println!("The instance may serve again.");
    Ok(())
}

/// A database URL without its password, to show.
fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

//! `socializioz backup` and `socializioz restore`: what they need is built from the settings,
//! the work is done by `services::backup`, and what it did is printed here.
//!
//! A restore runs with the server stopped; its steps are described in
//! `services::backup::restore`. Here it only checks that the keys it needs exist (never
//! generating them), asks before replacing the database, and says what happened.

use crate::app;
use crate::config::Settings;
use anyhow::Context;
use services::backup::{RestorePlan, Taken};
use std::path::{Path, PathBuf};
use store::Backend;

pub use services::backup::Restored;

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

/// Where the deletions saved before a restore wait until it has finished (in the data folder).
fn pending_path(settings: &Settings) -> PathBuf {
    settings.data.dir.join("restore-pending.jsonl")
}

/// Restores the backup at `from` into the configured database: builds the restore's plan from
/// the settings and runs [`services::backup::restore`], which starts the services on the
/// restored database with these settings.
pub async fn restore(settings: &Settings, from: &Path) -> anyhow::Result<Restored> {
    app::install_crypto_provider();
    let database_url = settings.database_url();
    let ring = existing_key_ring(settings)?;
    require_secret_key(settings)?;
    let plan = RestorePlan {
        database_url: database_url.into(),
        ring,
        pending: pending_path(settings),
    };
    services::backup::restore(&plan, from, async || {
        let public = settings.public_url(settings.listen_addr()?);
        app::services(settings, public).await
    })
    .await
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
        && !services::backup::restore::later_deletions_known(
            &settings.database_url(),
            &pending_path(settings),
        )
        .await?
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

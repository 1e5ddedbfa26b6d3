//! Taking a backup while the server runs: a consistent copy of the database (SQLite's
//! `VACUUM INTO`, PostgreSQL's `pg_dump`), encrypted as it is read, written under a temporary
//! name and renamed once whole.

use super::BackupFile;
use super::crypt::encrypt;
use super::folder::{
    COPY_SUFFIX, PARTIAL_SUFFIX, create_private, file_name, parse_file_name, private_dir, sync_dir,
    temporary,
};
use super::pg::{drain, pg_tool, tool_missing};
use crate::Backend;
use crate::keyring::KeyRing;
use anyhow::Context;
use chrono::Utc;
use std::path::Path;

/// Takes an encrypted backup of the database at `database_url` (whose pool is `db`) into
/// `dir`. Online: the server may keep running.
pub async fn create(
    db: &crate::Db,
    database_url: &str,
    ring: &KeyRing,
    dir: &Path,
) -> anyhow::Result<BackupFile> {
    let backend = Backend::from_url(database_url)?;
    private_dir(dir)
        .with_context(|| format!("could not create the backups folder {}", dir.display()))?;
    let taken_at = Utc::now();
    let name = file_name(taken_at, backend);
    let final_path = dir.join(&name);
    let partial = temporary(dir, &name, PARTIAL_SUFFIX);
    match backend {
        Backend::Sqlite => {
            // A consistent copy of the live database, taken by SQLite itself.
            let copy = temporary(dir, &name, COPY_SUFFIX);
            let _ = std::fs::remove_file(&copy.0);
            // Empty and for the owner only: SQLite copies into an empty file, keeping its mode.
            drop(create_private(&copy.0).context("could not create the database copy")?);
            let target = copy
                .0
                .to_str()
                .context("the backups folder's path is not valid UTF-8")?
                .to_owned();
            use sea_orm::ConnectionTrait;
            db.execute_raw(sea_orm::Statement::from_sql_and_values(
                sea_orm::DbBackend::Sqlite,
                "VACUUM INTO ?",
                [target.into()],
            ))
            .await
            .context("SQLite could not copy the database (VACUUM INTO)")?;
            let ring = ring.clone();
            let out = partial.0.clone();
            tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
                let mut input = std::io::BufReader::new(
                    std::fs::File::open(&copy.0).context("could not read the database copy")?,
                );
                let file = create_private(&out).context("could not create the backup file")?;
                let mut output = std::io::BufWriter::new(file);
                encrypt(&ring, Backend::Sqlite, &mut input, &mut output)?;
                let file = output.into_inner().map_err(|e| e.into_error())?;
                file.sync_all()?;
                drop(copy);
                Ok(())
            })
            .await
            .context("the backup task failed")??;
        }
        Backend::Postgres => {
            let ring = ring.clone();
            let url = database_url.to_owned();
            let out = partial.0.clone();
            tokio::task::spawn_blocking(move || pg_dump_encrypted(&url, &ring, &out))
                .await
                .context("the backup task failed")??;
        }
    }
    std::fs::rename(&partial.0, &final_path)
        .with_context(|| format!("could not move the backup to {}", final_path.display()))?;
    // (The temporary name no longer exists; dropping `partial` finds nothing to remove.)
    sync_dir(dir);
    let size = std::fs::metadata(&final_path)?.len();
    Ok(BackupFile {
        path: final_path,
        taken_at: parse_file_name(&name).map_or(taken_at, |(t, _)| t),
        backend,
        size,
    })
}

fn pg_dump_encrypted(url: &str, ring: &KeyRing, out: &Path) -> anyhow::Result<()> {
    use std::process::Stdio;
    let mut child = pg_tool("pg_dump", url)
        .args([
            "--format=plain",
            "--no-owner",
            "--no-privileges",
            "--encoding=UTF8",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| tool_missing("pg_dump", e))?;
    let errors = drain(child.stderr.take());
    let mut input = child.stdout.take().context("pg_dump has no output")?;
    let result = (|| -> anyhow::Result<()> {
        let file = create_private(out).context("could not create the backup file")?;
        let mut output = std::io::BufWriter::new(file);
        encrypt(ring, Backend::Postgres, &mut input, &mut output)?;
        let file = output.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        Ok(())
    })();
    if result.is_err() {
        let _ = child.kill();
    }
    let status = child.wait().context("pg_dump did not finish")?;
    let stderr = errors.join().unwrap_or_default();
    result?;
    anyhow::ensure!(
        status.success(),
        "pg_dump failed ({status}): {}",
        stderr.trim()
    );
    Ok(())
}

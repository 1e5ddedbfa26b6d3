//! Replacing the database with a backup. The whole file is authenticated before the database
//! changes: SQLite's file is replaced in one rename, PostgreSQL is loaded in one transaction.

use super::crypt::{Header, decrypt, open_key, read_full};
use super::folder::{RESTORING_SUFFIX, TempFile, create_private, sync_dir};
use super::pg::{drain, pg_tool, tool_missing};
use super::{BackupError, backend_name, sqlite_path};
use crate::Backend;
use crate::keyring::KeyRing;
use anyhow::Context;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Restores the backup at `path` into the database at `database_url`. The server must be
/// stopped. The whole file is authenticated before the database is changed: SQLite is
/// decrypted to a temporary file beside the database, which then replaces it in one rename;
/// PostgreSQL is checked in a first pass, then emptied and loaded in one transaction that
/// commits only after the last chunk has been authenticated. A refused file leaves the
/// database as it was.
pub async fn restore(database_url: &str, ring: &KeyRing, path: &Path) -> anyhow::Result<Header> {
    let target = Backend::from_url(database_url)?;
    let ring = ring.clone();
    let path = path.to_owned();
    let url = database_url.to_owned();
    tokio::task::spawn_blocking(move || -> anyhow::Result<Header> {
        let mut file = std::io::BufReader::new(
            std::fs::File::open(&path)
                .with_context(|| format!("could not open {}", path.display()))?,
        );
        let header = Header::read(&mut file)?;
        if header.backend != target {
            return Err(BackupError::WrongBackend {
                file: backend_name(header.backend),
                target: backend_name(target),
            }
            .into());
        }
        open_key(&ring, &header)?;
        match target {
            Backend::Sqlite => restore_sqlite(&url, &ring, &path),
            // The load runs in one transaction that commits only after the file's last chunk
            // is authenticated: a damaged file changes nothing, without a reading beforehand.
            Backend::Postgres => restore_postgres(&url, &ring, &path),
        }
    })
    .await
    .context("the restore task failed")?
}

fn restore_sqlite(url: &str, ring: &KeyRing, path: &Path) -> anyhow::Result<Header> {
    let db_path = sqlite_path(url)?;
    let dir = match db_path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("could not create the database folder {}", dir.display()))?;
    let file_name = db_path
        .file_name()
        .context("the SQLite database URL names no file")?
        .to_string_lossy()
        .into_owned();
    let temp = TempFile(dir.join(format!("{file_name}{RESTORING_SUFFIX}")));
    let _ = std::fs::remove_file(&temp.0);
    let header = {
        let mut input = std::io::BufReader::new(std::fs::File::open(path)?);
        let out = create_private(&temp.0).with_context(|| {
            format!("could not create {} beside the database", temp.0.display())
        })?;
        let mut output = std::io::BufWriter::new(out);
        let header = decrypt(ring, &mut input, &mut output)?;
        let out = output.into_inner().map_err(|e| e.into_error())?;
        out.sync_all()?;
        header
    };
    let mut magic = [0u8; 16];
    let read = read_full(&mut std::fs::File::open(&temp.0)?, &mut magic)?;
    anyhow::ensure!(
        read == 16 && &magic == b"SQLite format 3\0",
        "the backup decrypted, but does not hold a SQLite database"
    );
    // The old database's journal files belong to the file being replaced (SQLite would apply
    // them to the restored one), but hold its latest writes: they are moved aside, and put back
    // should the replacement fail, so a failed restore leaves the old database whole.
    let mut aside = Vec::new();
    for suffix in ["-wal", "-shm", "-journal"] {
        let journal = dir.join(format!("{file_name}{suffix}"));
        let moved = dir.join(format!("{file_name}{suffix}{RESTORING_SUFFIX}"));
        match std::fs::rename(&journal, &moved) {
            Ok(()) => aside.push((journal, moved)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                put_back(&aside);
                return Err(anyhow::Error::new(e)
                    .context(format!("could not move {} aside", journal.display())));
            }
        }
    }
    if let Err(e) = std::fs::rename(&temp.0, &db_path) {
        put_back(&aside);
        return Err(
            anyhow::Error::new(e).context(format!("could not replace {}", db_path.display()))
        );
    }
    for (_, moved) in &aside {
        let _ = std::fs::remove_file(moved);
    }
    sync_dir(&dir);
    Ok(header)
}

/// Returns journal files moved aside to their places.
fn put_back(aside: &[(PathBuf, PathBuf)]) {
    for (journal, moved) in aside {
        let _ = std::fs::rename(moved, journal);
    }
}

/// Empties the current schema (tables and sequences), inside the restore's transaction.
const EMPTY_SCHEMA: &str = "\
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = current_schema() LOOP
    EXECUTE 'DROP TABLE IF EXISTS ' || quote_ident(current_schema()) || '.' || quote_ident(r.tablename) || ' CASCADE';
  END LOOP;
  FOR r IN SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema() LOOP
    EXECUTE 'DROP SEQUENCE IF EXISTS ' || quote_ident(current_schema()) || '.' || quote_ident(r.sequencename) || ' CASCADE';
  END LOOP;
END
$$;
";

fn restore_postgres(url: &str, ring: &KeyRing, path: &Path) -> anyhow::Result<Header> {
    use std::process::Stdio;
    let mut child = pg_tool("psql", url)
        .args(["--no-psqlrc", "--quiet", "--set", "ON_ERROR_STOP=1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| tool_missing("psql", e))?;
    let errors = drain(child.stderr.take());
    let mut stdin = child.stdin.take().context("psql has no input")?;
    let fed = (|| -> Result<Header, BackupError> {
        let mut input = std::io::BufReader::new(std::fs::File::open(path)?);
        let mut output = std::io::BufWriter::new(&mut stdin);
        output.write_all(b"BEGIN;\n")?;
        output.write_all(EMPTY_SCHEMA.as_bytes())?;
        let header = decrypt(ring, &mut input, &mut output)?;
        // Only now, with every chunk authenticated, may the transaction commit.
        output.write_all(b"\nCOMMIT;\n")?;
        output.flush()?;
        Ok(header)
    })();
    match fed {
        Ok(header) => {
            drop(stdin);
            let status = child.wait().context("psql did not finish")?;
            let stderr = errors.join().unwrap_or_default();
            anyhow::ensure!(
                status.success(),
                "psql could not load the backup ({status}); the database was left as it was: {}",
                stderr.trim()
            );
            Ok(header)
        }
        Err(err) => {
            // Without a COMMIT the open transaction is rolled back when psql's connection ends.
            let _ = child.kill();
            drop(stdin);
            let _ = child.wait();
            let stderr = errors.join().unwrap_or_default();
            match err {
                BackupError::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe => {
                    anyhow::bail!(
                        "psql stopped while loading the backup; the database was left as it \
                         was: {}",
                        stderr.trim()
                    )
                }
                other => Err(other.into()),
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::backup::testing::{A, data, ring, sealed};

    #[test]
    fn a_sqlite_restore_that_cannot_replace_the_file_leaves_the_old_journal() {
        let dir = std::env::temp_dir().join(format!("sz-restore-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("live.db")).unwrap();
        // A folder where the database file should be: the final rename fails.
        std::fs::write(dir.join("live.db").join("in-the-way"), b"x").unwrap();
        std::fs::write(dir.join("live.db-wal"), b"latest writes").unwrap();
        let mut plain = b"SQLite format 3\0".to_vec();
        plain.extend(data(100));
        let backup = dir.join("backup.szbak");
        std::fs::write(&backup, sealed(&plain)).unwrap();
        let url = format!("sqlite://{}", dir.join("live.db").display());

        let err = restore_sqlite(&url, &ring(A), &backup).unwrap_err();
        assert!(format!("{err:#}").contains("could not replace"), "{err:#}");
        assert_eq!(
            std::fs::read(dir.join("live.db-wal")).unwrap(),
            b"latest writes",
            "the old database lost its journal"
        );
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(RESTORING_SUFFIX))
            .collect();
        assert!(left.is_empty(), "{left:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

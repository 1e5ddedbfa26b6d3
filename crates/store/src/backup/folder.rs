//! The backups folder: the names backups are written under, listing and purging them, and the
//! temporary files of a backup or restore (and sweeping those an interrupted run left behind).

use super::{backend_name, sqlite_path};
use crate::Backend;
use chrono::{DateTime, NaiveDateTime, Utc};
use std::path::{Path, PathBuf};

/// The extension of backup files.
pub const EXTENSION: &str = "szbak";
const FILE_PREFIX: &str = "socializioz-";
const TIME_FORMAT: &str = "%Y%m%dT%H%M%S%.3fZ";

/// A backup file in the backups folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupFile {
    pub path: PathBuf,
    /// When it was taken (from its name).
    pub taken_at: DateTime<Utc>,
    pub backend: Backend,
    /// Its size in bytes.
    pub size: u64,
}

/// The name of a backup taken at `at`: `socializioz-20261129T020000.000Z-sqlite.szbak`.
pub fn file_name(at: DateTime<Utc>, backend: Backend) -> String {
    format!(
        "{FILE_PREFIX}{}-{}.{EXTENSION}",
        at.format(TIME_FORMAT),
        backend_name(backend)
    )
}

/// Reads a backup's time and backend from its file name; `None` for any other name (so that
/// purging never touches files it did not write).
pub fn parse_file_name(name: &str) -> Option<(DateTime<Utc>, Backend)> {
    let rest = name
        .strip_prefix(FILE_PREFIX)?
        .strip_suffix(&format!(".{EXTENSION}"))?;
    let (time, backend) = rest.rsplit_once('-')?;
    let backend = match backend {
        "sqlite" => Backend::Sqlite,
        "postgres" => Backend::Postgres,
        _ => return None,
    };
    let time = NaiveDateTime::parse_from_str(time, TIME_FORMAT).ok()?;
    Some((time.and_utc(), backend))
}

/// The backups in `dir`, oldest first. A missing folder holds none.
pub fn list(dir: &Path) -> std::io::Result<Vec<BackupFile>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry?;
        let Some((taken_at, backend)) = entry.file_name().to_str().and_then(parse_file_name) else {
            continue;
        };
        let meta = entry.metadata()?;
        if !meta.is_file() {
            continue;
        }
        found.push(BackupFile {
            path: entry.path(),
            taken_at,
            backend,
            size: meta.len(),
        });
    }
    found.sort_by_key(|b| b.taken_at);
    Ok(found)
}

/// Deletes the backups in `dir` taken before `before`; returns the paths deleted. Files whose
/// names do not follow the backup pattern are left alone.
pub fn purge(dir: &Path, before: DateTime<Utc>) -> std::io::Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    for backup in list(dir)?.into_iter().filter(|b| b.taken_at < before) {
        std::fs::remove_file(&backup.path)?;
        removed.push(backup.path);
    }
    Ok(removed)
}

/// The temporary files of a backup, named `.<backup file name><suffix>` in the backups folder:
/// SQLite's unencrypted copy of the database, and the encrypted file being written.
pub(super) const COPY_SUFFIX: &str = ".sqlite-copy";
pub(super) const PARTIAL_SUFFIX: &str = ".partial";
/// A restore's decrypted database, `<database file name><suffix>` beside the database.
pub(super) const RESTORING_SUFFIX: &str = ".restoring";

pub(super) fn temporary(dir: &Path, backup: &str, suffix: &str) -> TempFile {
    TempFile(dir.join(format!(".{backup}{suffix}")))
}

/// Deletes what a backup or a restore cut short (a crash, a kill) left behind, when it is older
/// than `before`: the temporary files in the backups folder `dir` (their names carry the time
/// the backup began) and, for a SQLite database, a restore's decrypted copy beside it (by its
/// modification time). One of them is an unencrypted copy of the whole database: left alone it
/// would outlive the backups' retention window. Returns the paths deleted.
pub fn sweep_leftovers(
    dir: &Path,
    database_url: &str,
    before: DateTime<Utc>,
) -> std::io::Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => Some(entries),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    for entry in entries.into_iter().flatten() {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let began = name.strip_prefix('.').and_then(|rest| {
            [COPY_SUFFIX, PARTIAL_SUFFIX]
                .iter()
                .find_map(|suffix| rest.strip_suffix(suffix))
                .and_then(parse_file_name)
        });
        if let Some((began, _)) = began
            && began < before
            && entry.metadata()?.is_file()
        {
            std::fs::remove_file(entry.path())?;
            removed.push(entry.path());
        }
    }
    if Backend::from_url(database_url).ok() == Some(Backend::Sqlite)
        && let Ok(db_path) = sqlite_path(database_url)
    {
        // The decrypted copy, and the old database's journals moved aside beside it.
        for journal in ["", "-wal", "-shm", "-journal"] {
            let mut restoring = db_path.clone().into_os_string();
            restoring.push(journal);
            restoring.push(RESTORING_SUFFIX);
            let restoring = PathBuf::from(restoring);
            let modified = std::fs::metadata(&restoring).and_then(|m| m.modified());
            if let Ok(modified) = modified
                && DateTime::<Utc>::from(modified) < before
            {
                std::fs::remove_file(&restoring)?;
                removed.push(restoring);
            }
        }
    }
    Ok(removed)
}

/// A file created only for its owner (0600 on Unix), failing if it exists.
pub(super) fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Creates `dir` (only its owner may enter it, on Unix) when missing.
pub(super) fn private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Makes a rename in `dir` durable.
pub(super) fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Removes a file when dropped (the temporary files of a backup or restore, on any path out).
pub(super) struct TempFile(pub(super) PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn file_names_round_trip_and_others_are_ignored() {
        let at = DateTime::parse_from_rfc3339("2026-11-29T02:00:05.250Z")
            .unwrap()
            .with_timezone(&Utc);
        let name = file_name(at, Backend::Postgres);
        assert_eq!(name, "socializioz-20261129T020005.250Z-postgres.szbak");
        assert_eq!(parse_file_name(&name), Some((at, Backend::Postgres)));
        for other in [
            "socializioz.db",
            "socializioz-20261129T020005.250Z-mysql.szbak",
            "socializioz-yesterday-sqlite.szbak",
            ".socializioz-20261129T020005.250Z-sqlite.szbak.partial",
            "notes.szbak",
        ] {
            assert_eq!(parse_file_name(other), None, "{other}");
        }
    }
}

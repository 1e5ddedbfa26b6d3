//! Encrypted backups of the whole database, and restoring them.
//!
//! A backup is a consistent copy taken while the server runs (SQLite: `VACUUM INTO` a
//! temporary file; PostgreSQL: `pg_dump`, plain SQL), encrypted as it is read, never held in
//! memory whole, into `<backups folder>/socializioz-<UTC time>-<backend>.szbak`. The file is
//! written under a temporary name and renamed once complete, so a listed backup is a whole one.
//!
//! File format, version 1:
//!
//! ```text
//! header: "SZBACKUP" | version (1 byte) | backend (1 byte: 1 SQLite, 2 PostgreSQL)
//!         | key id length (1 byte) | key id | wrapped data key length (2 bytes, big endian)
//!         | wrapped data key | nonce prefix (19 random bytes)
//! body:   chunks of XChaCha20-Poly1305 ciphertext, each 64 KiB of plaintext + a 16-byte tag,
//!         the last one shorter (possibly empty plaintext)
//! ```
//!
//! The data key is random per backup and wrapped with the key ring's current master key (the
//! header names which), so the master keys never leave the key file and old backups open as
//! long as their key line is kept. Chunk `i` is sealed with the nonce `prefix | i (4 bytes, big
//! endian) | last (1 byte: 1 for the final chunk)` and the whole header as associated data (the
//! STREAM construction): reordering, dropping, altering or appending chunks, or editing the
//! header, makes decryption fail, and so does a file cut short, because the chunk that ends it
//! was not sealed as the last one.
//!
//! The module's parts:
//! - `crypt`: the file format, encrypting and decrypting it, checking a file;
//! - `folder`: the backups folder: names, listing, purging, what an interrupted run left;
//! - `create`: taking a backup (SQLite `VACUUM INTO`, PostgreSQL `pg_dump`);
//! - `restore`: replacing the database with a backup;
//! - `pg`: starting the PostgreSQL client tools without the password on their command line.

mod create;
mod crypt;
mod folder;
mod pg;
mod restore;
#[cfg(test)]
mod testing;

pub use create::create;
pub use crypt::{Header, decrypt, encrypt, verify};
pub use folder::{BackupFile, EXTENSION, file_name, list, parse_file_name, purge, sweep_leftovers};
pub use restore::restore;

use crate::Backend;
use anyhow::Context;
use std::path::PathBuf;
use std::str::FromStr;

/// Why a backup file was refused. Every case leaves the database untouched.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("this is not a Socializioz backup file")]
    NotABackup,
    #[error(
        "this backup has format version {0}, which this release cannot read; restore it with a \
         newer release of Socializioz"
    )]
    UnsupportedVersion(u8),
    #[error(
        "this backup was encrypted with master key {0:?}, which the key ring does not hold: add \
         that key's line to the master key file (or security.master_keys) and try again"
    )]
    UnknownKey(String),
    #[error(
        "this backup does not decrypt with master key {0:?}: the key ring holds a different key \
         under that name, or the file's header was altered"
    )]
    WrongKey(String),
    #[error(
        "this backup is damaged: part of it does not decrypt (the file was altered, or cut short)"
    )]
    Damaged,
    #[error("this backup is incomplete: it ends before its last part (an unfinished copy?)")]
    Truncated,
    #[error(
        "this is a backup of a {file} database, but the configured database is {target}: restore \
         it into the same kind of database"
    )]
    WrongBackend {
        file: &'static str,
        target: &'static str,
    },
    #[error("could not read or write the backup: {0}")]
    Io(#[from] std::io::Error),
}

/// The name of a backend in file names and messages.
pub fn backend_name(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    }
}

/// The database file of a SQLite URL.
pub fn sqlite_path(url: &str) -> anyhow::Result<PathBuf> {
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)
        .context("the SQLite database URL could not be read")?;
    let path = options.get_filename().to_owned();
    anyhow::ensure!(
        !path.as_os_str().is_empty() && !url.contains(":memory:"),
        "an in-memory database has no file to back up or restore"
    );
    Ok(path)
}

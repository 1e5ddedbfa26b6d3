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

use crate::Backend;
use crate::keyring::{KeyRing, KeyRingError};
use anyhow::Context;
use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chrono::{DateTime, NaiveDateTime, Utc};
use rand::RngCore;
use secrecy::ExposeSecret;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The extension of backup files.
pub const EXTENSION: &str = "szbak";
const FILE_PREFIX: &str = "socializioz-";
const TIME_FORMAT: &str = "%Y%m%dT%H%M%S%.3fZ";
const MAGIC: &[u8; 8] = b"SZBACKUP";
const VERSION: u8 = 1;
/// Plaintext bytes per chunk.
const CHUNK: usize = 64 * 1024;
const TAG: usize = 16;
const PREFIX: usize = 19;
/// What the data key is wrapped for (associated data of the wrap).
const PURPOSE: &str = "backup-v1";

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

fn backend_code(backend: Backend) -> u8 {
    match backend {
        Backend::Sqlite => 1,
        Backend::Postgres => 2,
    }
}

/// The readable start of a backup file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub version: u8,
    pub backend: Backend,
    /// The master key that wrapped the data key.
    pub key_id: String,
    wrapped: Vec<u8>,
    prefix: [u8; PREFIX],
    /// The header as written: the associated data of every chunk.
    raw: Vec<u8>,
}

impl Header {
    fn new(backend: Backend, key_id: &str, wrapped: Vec<u8>) -> Result<Self, BackupError> {
        let mut prefix = [0u8; PREFIX];
        rand::rng().fill_bytes(&mut prefix);
        let id_len = u8::try_from(key_id.len()).map_err(|_| BackupError::NotABackup)?;
        let wrapped_len = u16::try_from(wrapped.len()).map_err(|_| BackupError::NotABackup)?;
        let mut raw = Vec::with_capacity(64 + key_id.len() + wrapped.len());
        raw.extend_from_slice(MAGIC);
        raw.push(VERSION);
        raw.push(backend_code(backend));
        raw.push(id_len);
        raw.extend_from_slice(key_id.as_bytes());
        raw.extend_from_slice(&wrapped_len.to_be_bytes());
        raw.extend_from_slice(&wrapped);
        raw.extend_from_slice(&prefix);
        Ok(Self {
            version: VERSION,
            backend,
            key_id: key_id.to_owned(),
            wrapped,
            prefix,
            raw,
        })
    }

    /// Reads the header from the start of a backup.
    pub fn read(input: &mut impl Read) -> Result<Self, BackupError> {
        let mut raw = Vec::new();
        let mut take = |n: usize, raw: &mut Vec<u8>| -> Result<Vec<u8>, BackupError> {
            let mut buf = vec![0u8; n];
            match input.read_exact(&mut buf) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    return Err(BackupError::NotABackup);
                }
                Err(e) => return Err(e.into()),
            }
            raw.extend_from_slice(&buf);
            Ok(buf)
        };
        if take(MAGIC.len(), &mut raw)? != MAGIC {
            return Err(BackupError::NotABackup);
        }
        // Past the magic, a file that ends is a backup cut short.
        let mut take = |n: usize, raw: &mut Vec<u8>| {
            take(n, raw).map_err(|e| match e {
                BackupError::NotABackup => BackupError::Truncated,
                other => other,
            })
        };
        let fixed = take(3, &mut raw)?;
        let (version, code, id_len) = (fixed[0], fixed[1], fixed[2]);
        if version != VERSION {
            return Err(BackupError::UnsupportedVersion(version));
        }
        let backend = match code {
            1 => Backend::Sqlite,
            2 => Backend::Postgres,
            _ => return Err(BackupError::NotABackup),
        };
        let key_id = String::from_utf8(take(usize::from(id_len), &mut raw)?)
            .map_err(|_| BackupError::NotABackup)?;
        let len = take(2, &mut raw)?;
        let wrapped = take(usize::from(u16::from_be_bytes([len[0], len[1]])), &mut raw)?;
        let prefix: [u8; PREFIX] = take(PREFIX, &mut raw)?
            .try_into()
            .map_err(|_| BackupError::NotABackup)?;
        Ok(Self {
            version,
            backend,
            key_id,
            wrapped,
            prefix,
            raw,
        })
    }

    fn nonce(&self, counter: u32, last: bool) -> [u8; 24] {
        let mut nonce = [0u8; 24];
        nonce[..PREFIX].copy_from_slice(&self.prefix);
        nonce[PREFIX..PREFIX + 4].copy_from_slice(&counter.to_be_bytes());
        nonce[23] = u8::from(last);
        nonce
    }
}

/// Reads until `buf` is full or the input ends; returns how many bytes were read.
fn read_full(input: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

fn cipher(key: &secrecy::SecretSlice<u8>) -> Result<XChaCha20Poly1305, BackupError> {
    let key: [u8; 32] = key
        .expose_secret()
        .try_into()
        .map_err(|_| BackupError::Damaged)?;
    Ok(XChaCha20Poly1305::new(&key.into()))
}

/// Encrypts `input` into `output` as a backup of a `backend` database, under a fresh data key
/// wrapped with the ring's current master key. Returns the number of plaintext bytes.
pub fn encrypt(
    ring: &KeyRing,
    backend: Backend,
    input: &mut impl Read,
    output: &mut impl Write,
) -> Result<u64, BackupError> {
    let data_key = ring.new_data_key(PURPOSE).map_err(|e| match e {
        KeyRingError::UnknownKey(id) => BackupError::UnknownKey(id),
        _ => BackupError::WrongKey(ring.current_id().to_owned()),
    })?;
    let header = Header::new(backend, &data_key.key_id, data_key.wrapped)?;
    let cipher = cipher(&data_key.key)?;
    output.write_all(&header.raw)?;
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK + TAG);
    let mut counter: u32 = 0;
    let mut total: u64 = 0;
    loop {
        buf.resize(CHUNK, 0);
        let n = read_full(input, &mut buf)?;
        buf.truncate(n);
        total += n as u64;
        // The final chunk is the first one shorter than CHUNK (empty when the input is a
        // multiple of CHUNK), so a reader knows the last one by its length.
        let last = n < CHUNK;
        cipher
            .encrypt_in_place(&header.nonce(counter, last).into(), &header.raw, &mut buf)
            .map_err(|_| BackupError::Damaged)?;
        output.write_all(&buf)?;
        if last {
            break;
        }
        counter = counter.checked_add(1).ok_or(std::io::Error::other(
            "the database is too large for one backup file",
        ))?;
    }
    output.flush()?;
    Ok(total)
}

/// Opens the data key of a backup whose header was just read.
fn open_key(ring: &KeyRing, header: &Header) -> Result<XChaCha20Poly1305, BackupError> {
    let key = ring
        .open_data_key(&header.key_id, PURPOSE, &header.wrapped)
        .map_err(|e| match e {
            KeyRingError::UnknownKey(id) => BackupError::UnknownKey(id),
            _ => BackupError::WrongKey(header.key_id.clone()),
        })?;
    cipher(&key)
}

/// Decrypts a backup from `input` into `output`, writing each chunk only once it has been
/// authenticated. An error part-way means `output` holds a prefix of the data that must be
/// thrown away: the caller writes to a temporary place, or inside a transaction it rolls back.
pub fn decrypt(
    ring: &KeyRing,
    input: &mut impl Read,
    output: &mut impl Write,
) -> Result<Header, BackupError> {
    let header = Header::read(input)?;
    let cipher = open_key(ring, &header)?;
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK + TAG);
    let mut counter: u32 = 0;
    loop {
        buf.resize(CHUNK + TAG, 0);
        let n = read_full(input, &mut buf)?;
        if n < TAG {
            return Err(BackupError::Truncated);
        }
        buf.truncate(n);
        let last = n < CHUNK + TAG;
        cipher
            .decrypt_in_place(&header.nonce(counter, last).into(), &header.raw, &mut buf)
            .map_err(|_| BackupError::Damaged)?;
        output.write_all(&buf)?;
        if last {
            let mut extra = [0u8; 1];
            if read_full(input, &mut extra)? != 0 {
                return Err(BackupError::Damaged);
            }
            break;
        }
        counter = counter.checked_add(1).ok_or(BackupError::Damaged)?;
    }
    output.flush()?;
    Ok(header)
}

/// Checks that a backup file decrypts to its end with `ring`; reads it without writing
/// anything.
pub fn verify(ring: &KeyRing, path: &Path) -> Result<Header, BackupError> {
    let mut file = std::io::BufReader::new(std::fs::File::open(path)?);
    decrypt(ring, &mut file, &mut std::io::sink())
}

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
const COPY_SUFFIX: &str = ".sqlite-copy";
const PARTIAL_SUFFIX: &str = ".partial";
/// A restore's decrypted database, `<database file name><suffix>` beside the database.
const RESTORING_SUFFIX: &str = ".restoring";

fn temporary(dir: &Path, backup: &str, suffix: &str) -> TempFile {
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
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
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
fn private_dir(dir: &Path) -> std::io::Result<()> {
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
fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Removes a file when dropped (the temporary files of a backup or restore, on any path out).
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

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

/// The connection string for the PostgreSQL client tools, without the password (so that it
/// does not show in the process list), and the password for `PGPASSWORD`.
fn libpq_target(url: &str) -> (String, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_owned(), None);
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return (url.to_owned(), None);
    };
    let Some((user, password)) = userinfo.split_once(':') else {
        return (url.to_owned(), None);
    };
    (
        format!("{scheme}://{user}@{host}{tail}"),
        Some(percent_decode(password)),
    )
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = text.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Starts one of the PostgreSQL client tools against `url`.
fn pg_tool(tool: &str, url: &str) -> std::process::Command {
    let (target, password) = libpq_target(url);
    let mut command = std::process::Command::new(tool);
    command.arg("--dbname").arg(target);
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    command
}

fn tool_missing(tool: &str, err: std::io::Error) -> anyhow::Error {
    if err.kind() == std::io::ErrorKind::NotFound {
        anyhow::anyhow!(
            "`{tool}` was not found on PATH: install the PostgreSQL client tools (the package \
             postgresql-client on Debian and Ubuntu), of the server's major version or newer"
        )
    } else {
        anyhow::Error::new(err).context(format!("could not start {tool}"))
    }
}

/// Collects a child's standard error on a thread (so that a full pipe never blocks it).
fn drain(stderr: Option<std::process::ChildStderr>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut stderr) = stderr {
            let _ = stderr.read_to_string(&mut text);
        }
        text
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

    const A: &str = "a:0000000000000000000000000000000000000000000000000000000000000001";
    const A2: &str = "a:00000000000000000000000000000000000000000000000000000000000000ff";
    const B: &str = "b:0000000000000000000000000000000000000000000000000000000000000002";

    fn ring(line: &str) -> KeyRing {
        KeyRing::parse(line).unwrap()
    }

    fn sealed(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        encrypt(&ring(A), Backend::Sqlite, &mut &data[..], &mut out).unwrap();
        out
    }

    fn open(ring: &KeyRing, file: &[u8]) -> Result<Vec<u8>, BackupError> {
        let mut out = Vec::new();
        decrypt(ring, &mut &file[..], &mut out)?;
        Ok(out)
    }

    fn data(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i % 251) as u8).collect()
    }

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

    #[test]
    fn round_trips_at_every_chunk_boundary() {
        for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 17] {
            let plain = data(len);
            let file = sealed(&plain);
            if len >= 32 {
                assert!(
                    !file.windows(32).any(|w| w == &plain[..32]),
                    "no plaintext in the file"
                );
            }
            assert_eq!(open(&ring(A), &file).unwrap(), plain, "length {len}");
        }
    }

    #[test]
    fn the_header_names_key_and_backend() {
        let file = sealed(b"hello");
        let header = Header::read(&mut &file[..]).unwrap();
        assert_eq!(header.key_id, "a");
        assert_eq!(header.backend, Backend::Sqlite);
        assert_eq!(header.version, VERSION);
    }

    #[test]
    fn truncation_at_any_point_is_refused() {
        let file = sealed(&data(2 * CHUNK + 100));
        let header_len = Header::read(&mut &file[..]).unwrap().raw.len();
        // At a chunk boundary (the final chunk dropped), inside a chunk, inside the header.
        for cut in [
            header_len + 2 * (CHUNK + TAG),
            header_len + CHUNK + TAG,
            header_len + 10,
            file.len() - 1,
            5,
        ] {
            let err = open(&ring(A), &file[..cut]).unwrap_err();
            assert!(
                matches!(
                    err,
                    BackupError::Truncated | BackupError::Damaged | BackupError::NotABackup
                ),
                "cut at {cut}: {err:?}"
            );
        }
        // Data appended after the last chunk.
        let mut longer = file.clone();
        longer.push(0);
        assert!(matches!(open(&ring(A), &longer), Err(BackupError::Damaged)));
    }

    #[test]
    fn a_changed_byte_anywhere_is_refused() {
        let file = sealed(&data(CHUNK + 10));
        let header_len = Header::read(&mut &file[..]).unwrap().raw.len();
        for at in [9, header_len - 1, header_len + 5, file.len() - 1] {
            let mut bad = file.clone();
            bad[at] ^= 0x40;
            assert!(open(&ring(A), &bad).is_err(), "byte {at} changed");
        }
    }

    #[test]
    fn a_missing_or_different_key_is_named() {
        let file = sealed(b"secret rows");
        assert!(matches!(
            open(&ring(B), &file),
            Err(BackupError::UnknownKey(id)) if id == "a"
        ));
        assert!(matches!(
            open(&ring(A2), &file),
            Err(BackupError::WrongKey(id)) if id == "a"
        ));
        // An older key kept in the ring still opens it.
        let both = KeyRing::parse(&format!("{B}\n{A}")).unwrap();
        assert_eq!(open(&both, &file).unwrap(), b"secret rows");
        assert!(matches!(
            open(&ring(A), b"not a backup at all"),
            Err(BackupError::NotABackup)
        ));
    }

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

    #[test]
    fn a_missing_client_tool_names_its_package() {
        let err = tool_missing("pg_dump", std::io::ErrorKind::NotFound.into()).to_string();
        assert!(err.contains("`pg_dump` was not found"), "{err}");
        assert!(err.contains("postgresql-client"), "{err}");
    }

    #[test]
    fn the_password_stays_out_of_the_command_line() {
        assert_eq!(
            libpq_target("postgres://app:p%40ss@db.example:5432/sz?sslmode=require"),
            (
                "postgres://app@db.example:5432/sz?sslmode=require".to_owned(),
                Some("p@ss".to_owned())
            )
        );
        assert_eq!(
            libpq_target("postgres://postgres@127.0.0.1:5432/test"),
            ("postgres://postgres@127.0.0.1:5432/test".to_owned(), None)
        );
    }
}

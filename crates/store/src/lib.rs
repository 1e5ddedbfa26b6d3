//! Storage: the one definition of every table (SeaORM entities and migrations) for SQLite and
//! PostgreSQL, the connection, and the data map that classifies every table.

pub mod backup;
pub mod datamap;
pub mod entities;
pub mod files;
pub mod keyring;
pub mod migration;
pub mod objects;
pub mod statements;

use anyhow::Context;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use sea_orm_migration::MigratorTrait;
use std::str::FromStr;
use std::time::Duration;

pub use sea_orm;

/// The two backends the product runs on, chosen by the database URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Reads the backend from a database URL; any other scheme is refused rather than guessed.
    pub fn from_url(url: &str) -> Result<Self, UnknownScheme> {
        let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or_default();
        match scheme {
            "sqlite" => Ok(Self::Sqlite),
            "postgres" | "postgresql" => Ok(Self::Postgres),
            _ => Err(UnknownScheme(scheme.to_owned())),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error(
    "the database URL has the scheme {0:?}, which Socializioz does not know; use \
     sqlite://path/to/file.db for the embedded database or postgres://user@host/db for PostgreSQL"
)]
pub struct UnknownScheme(pub String);

/// The connection handle every layer above uses.
pub type Db = DatabaseConnection;

/// Opens a pool for `url`. SQLite files (and their folder) are created when missing, only for
/// the server's user (see [`files`]), and opened in WAL mode with a busy timeout, foreign keys
/// enforced and `secure_delete` on, so that what a deletion removes is overwritten with zeros
/// rather than left in free space (see [`scrub_deleted_rows`] for the copies in the WAL). Its
/// statements are counted for the work that asks ([`statements::counted`]).
pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Db> {
    connect_with(url, max_connections, SecureDelete::On).await
}

/// Whether SQLite overwrites deleted content (`PRAGMA secure_delete`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecureDelete {
    /// What the product uses.
    On,
    /// SQLite's default, for measuring what `On` costs (the deletion benchmark); deleted
    /// content then stays in free pages until they are reused.
    Off,
}

/// [`connect`], choosing `secure_delete` on SQLite (PostgreSQL has no such setting).
pub async fn connect_with(
    url: &str,
    max_connections: u32,
    secure_delete: SecureDelete,
) -> anyhow::Result<Db> {
    match Backend::from_url(url)? {
        Backend::Sqlite => {
            use sqlx::sqlite::{
                SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
            };
            let options = SqliteConnectOptions::from_str(url)
                .with_context(|| "the SQLite database URL could not be read".to_owned())?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                .pragma(
                    "secure_delete",
                    match secure_delete {
                        SecureDelete::On => "ON",
                        SecureDelete::Off => "OFF",
                    },
                );
            let file = options.get_filename().to_owned();
            if let Some(parent) = file.parent()
                && !parent.as_os_str().is_empty()
                && !parent.exists()
            {
                files::private_dir(parent).with_context(|| {
                    format!("could not create the database folder {}", parent.display())
                })?;
            }
            // Created here, for its owner only, rather than by SQLite with the default mode:
            // its journals (-wal, -shm) take the mode of the database file.
            if !url.contains(":memory:")
                && !url.contains("mode=memory")
                && !file.as_os_str().is_empty()
                && !file.exists()
            {
                match files::create_private(&file) {
                    Ok(_) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                    Err(e) => {
                        return Err(anyhow::Error::new(e).context(format!(
                            "could not create the database file {}",
                            file.display()
                        )));
                    }
                }
            }
            // Setting up a connection (journal mode, pragmas) on a database that another
            // process is creating or migrating at the same moment can answer "locked" at once:
            // SQLite does not wait on its busy handler where waiting could deadlock. The open
            // is tried again while the busy timeout lasts.
            let started = std::time::Instant::now();
            let pool = loop {
                let opened = SqlitePoolOptions::new()
                    .max_connections(max_connections.max(1))
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options.clone())
                    .await;
                match opened {
                    Err(sqlx::Error::Database(e))
                        if e.code()
                            .and_then(|code| code.parse::<i32>().ok())
                            .is_some_and(|code| code & 0xff == 5)
                            && started.elapsed() < Duration::from_secs(10) =>
                    {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    other => break other.context("could not open the SQLite database")?,
                }
            };
            let mut db = sea_orm::SqlxSqliteConnector::from_sqlx_sqlite_pool(pool);
            statements::observe(&mut db);
            if secure_delete == SecureDelete::On {
                clear_old_free_pages(&db).await;
            }
            Ok(db)
        }
        Backend::Postgres => {
            use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
            let options = PgConnectOptions::from_str(url)
                .context("the PostgreSQL database URL could not be read")?;
            let pool = PgPoolOptions::new()
                .max_connections(max_connections.max(1))
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
                .context("could not connect to PostgreSQL")?;
            let mut db = sea_orm::SqlxPostgresConnector::from_sqlx_postgres_pool(pool);
            statements::observe(&mut db);
            Ok(db)
        }
    }
}

/// `PRAGMA user_version` of a SQLite database whose free pages hold nothing deleted before
/// `secure_delete` was on ("Szd" and 1).
const FREE_PAGES_CLEARED: i64 = 0x537a_6401;

/// A SQLite database written before `secure_delete` was on keeps what was deleted then in its
/// free pages: it is rebuilt once (`VACUUM`, which leaves no free page) and marked. A new or
/// already rebuilt database is only marked. A failure is logged and tried again at the next
/// start.
async fn clear_old_free_pages(db: &Db) {
    async fn run(db: &Db) -> anyhow::Result<bool> {
        if pragma_i64(db, "user_version").await? == FREE_PAGES_CLEARED {
            return Ok(false);
        }
        let free = pragma_i64(db, "freelist_count").await?;
        if free > 0 {
            db.execute_unprepared("VACUUM")
                .await
                .context("VACUUM failed")?;
            db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
                .await
                .context("the checkpoint after VACUUM failed")?;
        }
        db.execute_unprepared(&format!("PRAGMA user_version = {FREE_PAGES_CLEARED}"))
            .await
            .context("could not mark the database")?;
        Ok(free > 0)
    }
    match run(db).await {
        Ok(true) => tracing::warn!(
            "the SQLite database was rebuilt once (VACUUM) to clear free pages that may hold              data deleted before secure_delete was on"
        ),
        Ok(false) => {}
        Err(err) => tracing::warn!(
            error = %format!("{err:#}"),
            "could not clear the free pages of the SQLite database; trying again at the next start"
        ),
    }
}

/// The first column of `PRAGMA name` as a number (SQLite).
async fn pragma_i64(db: &Db, name: &str) -> anyhow::Result<i64> {
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            format!("PRAGMA {name}"),
        ))
        .await
        .with_context(|| format!("could not read PRAGMA {name}"))?
        .with_context(|| format!("PRAGMA {name} returned nothing"))?;
    row.try_get_by_index::<i64>(0)
        .with_context(|| format!("reading PRAGMA {name}"))
}

/// What [`scrub_deleted_rows`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scrubbed {
    /// SQLite in WAL mode: the WAL's page images (which hold rows as they were before the
    /// deletion) were copied into the database and the WAL emptied.
    WalTruncated,
    /// SQLite with a rollback journal: nothing to do, `secure_delete` has overwritten the rows.
    NothingToDo,
    /// PostgreSQL: these tables were vacuumed (their dead row versions removed).
    Vacuumed(Vec<String>),
}

/// Once deleted rows are committed (an account deletion, the daily purges): on SQLite,
/// checkpoints the WAL and truncates it (its older frames are copies of pages from before the
/// deletion); on PostgreSQL, `VACUUM`s the `tables` it touched (only tables the data map classifies; `VACUUM` cannot run inside a
/// transaction, so this runs on its own). An error means the copies stay until the next
/// checkpoint or autovacuum; the caller logs it.
pub async fn scrub_deleted_rows(db: &Db, tables: &[&str]) -> anyhow::Result<Scrubbed> {
    match backend(db) {
        Backend::Sqlite => {
            let mode = db
                .query_one_raw(Statement::from_string(
                    DbBackend::Sqlite,
                    "PRAGMA journal_mode",
                ))
                .await
                .context("could not read the journal mode")?
                .context("PRAGMA journal_mode returned nothing")?
                .try_get_by_index::<String>(0)
                .context("reading the journal mode")?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Ok(Scrubbed::NothingToDo);
            }
            let row = db
                .query_one_raw(Statement::from_string(
                    DbBackend::Sqlite,
                    "PRAGMA wal_checkpoint(TRUNCATE)",
                ))
                .await
                .context("the WAL checkpoint failed")?
                .context("the WAL checkpoint returned nothing")?;
            let busy = row.try_get_by_index::<i64>(0).unwrap_or(1);
            anyhow::ensure!(
                busy == 0,
                "the WAL checkpoint could not finish (another connection was reading or writing)"
            );
            Ok(Scrubbed::WalTruncated)
        }
        Backend::Postgres => {
            let mut names: Vec<String> = tables
                .iter()
                .filter(|t| datamap::TABLES.iter().any(|c| c.table == **t))
                .map(|t| (*t).to_owned())
                .collect();
            names.sort();
            names.dedup();
            if names.is_empty() {
                return Ok(Scrubbed::Vacuumed(names));
            }
            let list = names
                .iter()
                .map(|t| format!("\"{t}\""))
                .collect::<Vec<_>>()
                .join(", ");
            db.execute_unprepared(&format!("VACUUM {list}"))
                .await
                .with_context(|| format!("VACUUM {list} failed"))?;
            Ok(Scrubbed::Vacuumed(names))
        }
    }
}

/// The files a SQLite database lives in that can hold row data: the database file and, when
/// present, its WAL. Empty for PostgreSQL (its files are the server's) and in-memory SQLite.
pub async fn database_files(db: &Db) -> anyhow::Result<Vec<std::path::PathBuf>> {
    if backend(db) != Backend::Sqlite {
        return Ok(Vec::new());
    }
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA database_list",
        ))
        .await
        .context("could not list the database files")?;
    let mut out = Vec::new();
    for row in rows {
        let name: String = row.try_get("", "name").context("reading a database name")?;
        let file: String = row.try_get("", "file").context("reading a database file")?;
        if name != "main" || file.is_empty() {
            continue;
        }
        let main = std::path::PathBuf::from(&file);
        let wal = std::path::PathBuf::from(format!("{file}-wal"));
        out.push(main);
        if wal.exists() {
            out.push(wal);
        }
    }
    Ok(out)
}

/// Brings the schema up to date and returns the names of the migrations it applied. Safe to
/// run on every start, and from several processes starting at once: they take turns under a
/// lock, and the ones that waited find nothing left to apply. The migrations run inside one
/// transaction that holds the lock (so a failed start leaves the schema as it was, and one
/// connection is enough): on PostgreSQL a transaction-scoped advisory lock, released when the
/// transaction ends or its connection dies with the process; on SQLite the write lock, taken at
/// `BEGIN`, which a second process waits for (up to the busy timeout).
pub async fn migrate(db: &Db) -> anyhow::Result<Vec<String>> {
    use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
    const CONTEXT: &str = "could not apply the database migrations";
    let txn = db
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Exclusive),
            ..Default::default()
        })
        .await
        .context("could not take the migration lock")?;
    if backend(db) == Backend::Postgres {
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
            .await
            .context("could not take the migration lock")?;
    }
    let pending: Vec<String> = migration::Migrator::get_pending_migrations(&txn)
        .await
        .context(CONTEXT)?
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    migration::Migrator::up(&txn, None).await.context(CONTEXT)?;
    txn.commit().await.context(CONTEXT)?;
    Ok(pending)
}

/// The advisory lock key that serialises migrations on PostgreSQL ("sz-migr" in ASCII).
const MIGRATION_LOCK: i64 = 0x0073_7a2d_6d69_6772;

/// Migrations that exist in code but are not applied yet.
pub async fn pending_migrations(db: &Db) -> anyhow::Result<Vec<String>> {
    let pending = migration::Migrator::get_pending_migrations(db)
        .await
        .context("could not read the applied migrations")?;
    Ok(pending.iter().map(|m| m.name().to_owned()).collect())
}

/// A round trip to the database, for readiness checks.
pub async fn ping(db: &Db) -> anyhow::Result<()> {
    db.execute_unprepared("SELECT 1")
        .await
        .context("database ping failed")?;
    Ok(())
}

/// The database server's clock, when it has its own: PostgreSQL's `now()`, which may run on
/// another machine. SQLite is a file this process opens, so it has none (`None`).
pub async fn server_clock(db: &Db) -> anyhow::Result<Option<chrono::DateTime<chrono::Utc>>> {
    if backend(db) != Backend::Postgres {
        return Ok(None);
    }
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            DbBackend::Postgres,
            "SELECT CURRENT_TIMESTAMP AS now",
        ))
        .await
        .context("could not read the database's clock")?
        .context("the database did not say its time")?;
    Ok(Some(
        row.try_get::<chrono::DateTime<chrono::Utc>>("", "now")?,
    ))
}

pub fn backend(db: &Db) -> Backend {
    match db.get_database_backend() {
        DbBackend::Postgres => Backend::Postgres,
        _ => Backend::Sqlite,
    }
}

/// The names of the tables that exist in the live database (without the migration bookkeeping
/// of the backend itself). The catalogue query is the one place where the backends differ.
pub async fn live_tables(db: &Db) -> anyhow::Result<Vec<String>> {
    let sql = match backend(db) {
        Backend::Sqlite => {
            "SELECT name AS table_name FROM sqlite_master \
             WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        }
        Backend::Postgres => {
            "SELECT table_name::text AS table_name FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
             ORDER BY table_name"
        }
    };
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .context("could not list the tables")?;
    rows.iter()
        .map(|row| {
            row.try_get::<String>("", "table_name")
                .context("reading a table name")
        })
        .collect()
}

/// Whether a database error is a unique-constraint violation (a duplicate e-mail, say), which
/// the layers above turn into a message for the person rather than a server error.
pub fn is_unique_violation(err: &sea_orm::DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// Starts a transaction that will write. On SQLite it takes the write lock at `BEGIN`
/// (`BEGIN IMMEDIATE`), so a transaction that reads before it writes waits for other writers
/// (up to the busy timeout) instead of failing when one committed after its first read. On
/// PostgreSQL it is an ordinary transaction; row locks do the rest.
pub async fn begin_write(db: &Db) -> Result<sea_orm::DatabaseTransaction, sea_orm::DbErr> {
    use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

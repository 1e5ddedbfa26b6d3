//! Storage: the one definition of every table (SeaORM entities and migrations) for SQLite and
//! PostgreSQL, the connection, and the data map that classifies every table.

pub mod backup;
pub mod datamap;
pub mod entities;
pub mod keyring;
pub mod migration;
pub mod objects;

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

/// Opens a pool for `url`. SQLite files (and their folder) are created when missing and opened
/// in WAL mode with a busy timeout and foreign keys enforced.
pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Db> {
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
                .foreign_keys(true);
            if let Some(parent) = options.get_filename().parent()
                && !parent.as_os_str().is_empty()
            {
                std::fs::create_dir_all(parent).with_context(|| {
                    format!("could not create the database folder {}", parent.display())
                })?;
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(max_connections.max(1))
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
                .context("could not open the SQLite database")?;
            Ok(sea_orm::SqlxSqliteConnector::from_sqlx_sqlite_pool(pool))
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
            Ok(sea_orm::SqlxPostgresConnector::from_sqlx_postgres_pool(
                pool,
            ))
        }
    }
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

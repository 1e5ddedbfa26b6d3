//! "Export all my data": one ZIP of everything the product holds about a person and the
//! workspaces they belong to, asked for from the privacy settings at most once a day.
//!
//! Asking writes a `data_exports` row and its `build_export` job in one transaction. The job
//! builds the ZIP as a stream, never holding an account's data in memory:
//!
//! - rows are read in pages (keyset by id) and written as they come;
//! - media originals are copied from the store chunk by chunk;
//! - the ZIP is written by a blocking thread (deflate is CPU work) fed through a bounded
//!   channel, and its output goes through another bounded channel straight into a multipart
//!   upload to the media store, under the person's prefix (`user-{id}/`).
//!
//! What goes in comes from `store::datamap`: every table whose rows the data map marks for
//! export is dumped to `data/<table>.jsonl` for the person (their user id and every workspace
//! they belong to), without the columns it names as secrets, so a table classified later is in
//! the export without code here. Beside that complete record, readable files (profile,
//! consent history, and per workspace its posts, campaigns, accounts, activity and media) put
//! related rows together; `README.html` explains every file from the data map's sentences.
//!
//! When the ZIP is ready the person is e-mailed a link to the privacy settings (no secret in
//! it) and a job is planned at its expiry, seven days later, that deletes the file; opening
//! the page or the download after that time deletes it too.

use crate::datamap::{self as plan, Subject};
use crate::worker::JobError;
use crate::{Result, ServiceError, Services, emails, queue};
use anyhow::Context;
use askama::Template;
use bytes::Bytes;
use chrono::{DateTime, Datelike, Timelike, Utc};
use domain::UserId;
use futures_util::{Stream, StreamExt, TryStreamExt};
use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, Order, Query, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, JsonValue,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::json;
use std::collections::HashMap;
use std::io::Write;
use std::time::{Duration, Instant};
use store::datamap::{self, Category, OnExport, TableClass};
use store::entities::{
    activity, campaign, data_export, job, media_item, membership, post, post_media, post_target,
    publish_attempt, social_account, user,
};
use tokio::sync::mpsc;

pub const BUILD_JOB: &str = "build_export";
pub const EXPIRE_JOB: &str = "expire_export";

pub const QUEUED: &str = "queued";
pub const BUILDING: &str = "building";
pub const READY: &str = "ready";
pub const FAILED: &str = "failed";
pub const EXPIRED: &str = "expired";

/// One export a day.
pub const INTERVAL: chrono::Duration = chrono::Duration::hours(24);
/// How long a ready export is kept.
pub const KEEP: chrono::Duration = chrono::Duration::days(7);

/// Rows whose related rows are read together (members' accounts; posts' targets, attempts
/// and media).
const BATCH: usize = 100;
/// Bytes gathered before they are handed on, in both channels.
const CHUNK: usize = 256 * 1024;
/// How often progress is written to the database, at most.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);
/// How long a job's lease is extended by while a build runs, and how often.
const LEASE: chrono::Duration = chrono::Duration::minutes(5);
const LEASE_EVERY: Duration = Duration::from_secs(30);

/// The rows of `table` that an export for `subject` carries, as the data map says; `None` for
/// a table it leaves out (or when none of the table's rows can belong to `subject`).
pub fn exported(table: &TableClass, subject: &Subject) -> Option<SimpleExpr> {
    let owned = plan::owned_per_row(table, subject)?;
    match table.export {
        OnExport::Include | OnExport::IncludeWithout(_) => Some(owned),
        OnExport::IncludeOwn(column, _) => (!subject.users.is_empty())
            .then(|| owned.and(Expr::col(Alias::new(column)).is_in(subject.users.iter().copied()))),
        OnExport::Exclude(_) => None,
    }
}

/// The columns of `table` that are never exported (secrets).
pub fn secret_columns(table: &TableClass) -> &'static [&'static str] {
    match table.export {
        OnExport::IncludeWithout(columns) | OnExport::IncludeOwn(_, columns) => columns,
        _ => &[],
    }
}

/// What asking for an export did.
#[derive(Debug, Clone)]
pub enum Requested {
    /// A new export is queued.
    Queued(data_export::Model),
    /// One is already being made; that one is shown instead.
    AlreadyRunning(data_export::Model),
}

/// What the privacy page shows about exports.
#[derive(Debug, Clone)]
pub struct ExportStatus {
    /// The newest export, if any.
    pub latest: Option<data_export::Model>,
    /// When the next export may be asked for; `None` when now.
    pub next_at: Option<DateTime<Utc>>,
}

/// An export's file, for the download.
#[derive(Debug, Clone)]
pub enum ExportFile {
    Ready {
        key: String,
        bytes: u64,
        /// The name to save it under.
        filename: String,
    },
    /// Not ready yet (or its build failed).
    NotReady,
    /// It expired and was deleted.
    Gone,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Payload {
    export: i64,
}

/// Waiting to be built, or being built.
pub fn is_running(export: &data_export::Model) -> bool {
    export.state == QUEUED || export.state == BUILDING
}

/// A build still not finished a day after it was asked for has died with its job (a crash
/// after the last attempt): it no longer blocks a new one.
fn is_stale(export: &data_export::Model, now: DateTime<Utc>) -> bool {
    is_running(export) && export.requested_at + INTERVAL <= now
}

fn zone_of(user: &user::Model) -> domain::Timezone {
    domain::Timezone::parse(&user.timezone).unwrap_or_else(|_| domain::Timezone::utc())
}

impl Services {
    /// Asks for an export of everything about `user`. One a day: a second request within 24
    /// hours of the last one that did not fail is refused with when the next is possible; while
    /// one is being made, that one is returned instead of starting another.
    pub async fn request_export(&self, user: &user::Model) -> Result<Requested> {
        let txn = store::begin_write(&self.db).await?;
        // Requests of the same person (a double click) take turns: the user row's lock on
        // PostgreSQL, the write lock taken at BEGIN on SQLite.
        user::Entity::find_by_id(user.id)
            .lock_exclusive()
            .one(&txn)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let now = crate::now();
        let latest = data_export::Entity::find()
            .filter(data_export::Column::UserId.eq(user.id))
            .filter(data_export::Column::State.ne(FAILED))
            .order_by_desc(data_export::Column::RequestedAt)
            .order_by_desc(data_export::Column::Id)
            .one(&txn)
            .await?;
        if let Some(last) = latest {
            if is_stale(&last, now) {
                mark_failed(&txn, last.id, "The export did not finish.").await?;
            } else if is_running(&last) {
                return Ok(Requested::AlreadyRunning(last));
            } else if last.requested_at + INTERVAL > now {
                return Err(ServiceError::invalid(
                    "export",
                    format!(
                        "You can ask for one export a day. Your next export is possible from {}.",
                        domain::schedule::describe(last.requested_at + INTERVAL, zone_of(user))
                    ),
                ));
            }
        }
        let export = data_export::ActiveModel {
            user_id: Set(user.id),
            state: Set(QUEUED.to_owned()),
            progress_done: Set(0),
            progress_total: Set(0),
            bytes: Set(None),
            object_key: Set(None),
            requested_at: Set(now),
            ready_at: Set(None),
            expires_at: Set(None),
            error: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let mut job =
            queue::NewJob::now(BUILD_JOB, json!(Payload { export: export.id })).for_user(user.id);
        job.max_attempts = 3;
        job.subject = Some(format!("data_export:{}", export.id));
        queue::enqueue(&txn, job).await?;
        txn.commit().await?;
        self.wake.notify_one();
        Ok(Requested::Queued(export))
    }

    /// The newest export of the person and when they may ask for the next. An export past its
    /// expiry is deleted here (the planned job may not have run yet).
    pub async fn export_status(&self, user_id: UserId) -> Result<ExportStatus> {
        let find = || {
            data_export::Entity::find()
                .filter(data_export::Column::UserId.eq(user_id.0))
                .order_by_desc(data_export::Column::RequestedAt)
                .order_by_desc(data_export::Column::Id)
        };
        let mut latest = find().one(&self.db).await?;
        let now = crate::now();
        if let Some(export) = &latest
            && self.expire_if_due(export, now).await?
        {
            latest = find().one(&self.db).await?;
        }
        let counted = find()
            .filter(data_export::Column::State.ne(FAILED))
            .one(&self.db)
            .await?;
        let next_at = counted
            .filter(|e| !is_stale(e, now))
            .map(|e| e.requested_at + INTERVAL)
            .filter(|at| *at > now);
        Ok(ExportStatus { latest, next_at })
    }

    /// Export `id` of the person, for the download: `NotFound` for anyone else's.
    pub async fn export_file(&self, user_id: UserId, id: i64) -> Result<ExportFile> {
        let export = data_export::Entity::find_by_id(id)
            .filter(data_export::Column::UserId.eq(user_id.0))
            .one(&self.db)
            .await?
            .ok_or(ServiceError::NotFound)?;
        if self.expire_if_due(&export, crate::now()).await? || export.state == EXPIRED {
            return Ok(ExportFile::Gone);
        }
        match (&export.state[..], export.object_key, export.ready_at) {
            (READY, Some(key), Some(ready_at)) => Ok(ExportFile::Ready {
                key,
                bytes: u64::try_from(export.bytes.unwrap_or(0)).unwrap_or(0),
                filename: format!(
                    "socializioz-export-{}.zip",
                    ready_at.format("%Y-%m-%d-%H%M")
                ),
            }),
            _ => Ok(ExportFile::NotReady),
        }
    }

    /// Deletes the export's file when it is ready and past its expiry. Returns whether it did.
    async fn expire_if_due(&self, export: &data_export::Model, now: DateTime<Utc>) -> Result<bool> {
        let due = export.state == READY && export.expires_at.is_some_and(|at| at <= now);
        if !due {
            return Ok(false);
        }
        if let Some(key) = &export.object_key {
            self.objects.delete(key).await?;
        }
        data_export::Entity::update_many()
            .col_expr(data_export::Column::State, Expr::value(EXPIRED))
            .col_expr(
                data_export::Column::ObjectKey,
                Expr::value(Option::<String>::None),
            )
            .filter(data_export::Column::Id.eq(export.id))
            .filter(data_export::Column::State.eq(READY))
            .exec(&self.db)
            .await?;
        Ok(true)
    }

    /// Builds export `id`'s ZIP, uploads it and marks it ready (then e-mails the person). The
    /// job runs this; a benchmark can call it directly on an export it queued. An export that
    /// is not waiting to be built (ready, failed, gone) is left as it is.
    pub async fn build_export(&self, id: i64) -> Result<()> {
        self.build(id, None).await
    }

    async fn build(&self, id: i64, job: Option<&job::Model>) -> Result<()> {
        let Some(export) = data_export::Entity::find_by_id(id).one(&self.db).await? else {
            return Ok(());
        };
        if !is_running(&export) {
            return Ok(());
        }
        let Some(owner) = user::Entity::find_by_id(export.user_id)
            .one(&self.db)
            .await?
        else {
            return Ok(());
        };
        let memberships = self.memberships_of(UserId(owner.id)).await?;
        let subject = Subject {
            users: vec![owner.id],
            workspaces: memberships.iter().map(|m| m.workspace.id).collect(),
            ..Default::default()
        };
        let mut tables = Vec::new();
        for class in datamap::TABLES {
            if let Some(condition) = exported(class, &subject) {
                let rows = plan::count_rows(&self.db, class.table, condition.clone()).await?;
                tables.push(Dump {
                    class,
                    condition,
                    rows,
                });
            }
        }
        // One original per row of the media library, which is dumped whole.
        let media = tables
            .iter()
            .find(|d| d.class.table == "media_items")
            .map_or(0, |d| d.rows);
        let steps = 3 + memberships.len() as u64;
        let total = tables.iter().map(|t| t.rows).sum::<u64>() + media + steps;
        let key = export.object_key.clone().unwrap_or_else(|| {
            format!(
                "{}export-{}-{}.zip",
                store::objects::user_prefix(owner.id),
                export.id,
                &crate::tokens::random_token()[..16]
            )
        });
        let started = data_export::Entity::update_many()
            .col_expr(data_export::Column::State, Expr::value(BUILDING))
            .col_expr(data_export::Column::ProgressDone, Expr::value(0_i64))
            .col_expr(
                data_export::Column::ProgressTotal,
                Expr::value(i64::try_from(total).unwrap_or(i64::MAX)),
            )
            .col_expr(data_export::Column::ObjectKey, Expr::value(key.clone()))
            .col_expr(
                data_export::Column::Error,
                Expr::value(Option::<String>::None),
            )
            .filter(data_export::Column::Id.eq(export.id))
            .filter(data_export::Column::State.is_in([QUEUED, BUILDING]))
            .exec(&self.db)
            .await?;
        if started.rows_affected == 0 {
            // Failed, expired or deleted with the account since it was read: not built.
            return Ok(());
        }

        let (pieces, pieces_rx) = mpsc::channel::<Piece>(16);
        let (out, out_rx) = mpsc::channel::<Result<Bytes, String>>(4);
        let stamp = zip_time(export.requested_at);
        let zipper = tokio::task::spawn_blocking(move || zip_pieces(pieces_rx, out, stamp));
        let stream = futures_util::stream::unfold(out_rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        });
        let upload = self
            .objects
            .put_stream(&key, Bytes::new(), Box::pin(stream), u64::MAX);
        let contents = Contents {
            services: self,
            owner: &owner,
            memberships: &memberships,
            tables: &tables,
            sink: Sink::new(pieces),
            progress: Progress::new(self, export.id, total, job),
        };
        let (written, uploaded) = tokio::join!(contents.write(), upload);
        let zipped = zipper
            .await
            .map_err(|e| anyhow::anyhow!("the ZIP writer failed: {e}"));
        written?;
        zipped??;
        let size = uploaded.map_err(|e| anyhow::anyhow!("could not store the export: {e}"))?;
        self.finish_export(&export, &owner, &key, size).await
    }

    /// Marks the export ready, plans its expiry and e-mails the person, in one transaction.
    async fn finish_export(
        &self,
        export: &data_export::Model,
        owner: &user::Model,
        key: &str,
        size: u64,
    ) -> Result<()> {
        let now = crate::now();
        let expires_at = now + KEEP;
        let txn = store::begin_write(&self.db).await?;
        let done = data_export::Entity::update_many()
            .col_expr(data_export::Column::State, Expr::value(READY))
            .col_expr(
                data_export::Column::Bytes,
                Expr::value(i64::try_from(size).unwrap_or(i64::MAX)),
            )
            .col_expr(
                data_export::Column::ProgressDone,
                Expr::col(data_export::Column::ProgressTotal),
            )
            .col_expr(data_export::Column::ReadyAt, Expr::value(now))
            .col_expr(data_export::Column::ExpiresAt, Expr::value(expires_at))
            .filter(data_export::Column::Id.eq(export.id))
            .filter(data_export::Column::State.eq(BUILDING))
            .exec(&txn)
            .await?;
        if done.rows_affected == 0 {
            // The account was deleted (or the export withdrawn) while it was being built.
            drop(txn);
            self.objects.delete(key).await?;
            return Ok(());
        }
        let mut expire =
            queue::NewJob::now(EXPIRE_JOB, json!(Payload { export: export.id })).for_user(owner.id);
        expire.run_at = expires_at;
        expire.subject = Some(format!("data_export:{}", export.id));
        queue::enqueue(&txn, expire).await?;
        let email = emails::export_ready(
            &owner.email,
            &owner.name,
            &crate::media::human_size(size),
            &domain::schedule::describe(expires_at, zone_of(owner)),
            &format!("{}/settings/privacy", self.base_url),
        );
        emails::queue(&txn, email, Some(owner.id)).await?;
        txn.commit().await?;
        self.wake.notify_one();
        Ok(())
    }

    /// Gives up on an export after its last attempt and tells the person.
    async fn give_up_export(&self, id: i64) -> Result<()> {
        let txn = store::begin_write(&self.db).await?;
        let Some(export) = data_export::Entity::find_by_id(id).one(&txn).await? else {
            return Ok(());
        };
        if !is_running(&export) {
            return Ok(());
        }
        // The ZIP may have been stored before the last step failed: nothing of it is kept.
        if let Some(key) = &export.object_key {
            self.objects.delete(key).await?;
        }
        mark_failed(
            &txn,
            id,
            "Something went wrong while making the export. Nothing of it was kept; ask for a new one.",
        )
        .await?;
        if let Some(owner) = user::Entity::find_by_id(export.user_id).one(&txn).await? {
            let email = emails::export_failed(
                &owner.email,
                &owner.name,
                &format!("{}/settings/privacy", self.base_url),
            );
            emails::queue(&txn, email, Some(owner.id)).await?;
        }
        txn.commit().await?;
        Ok(())
    }
}

async fn mark_failed<C: ConnectionTrait>(conn: &C, id: i64, why: &str) -> Result<()> {
    data_export::Entity::update_many()
        .col_expr(data_export::Column::State, Expr::value(FAILED))
        .col_expr(data_export::Column::Error, Expr::value(why))
        .col_expr(
            data_export::Column::ObjectKey,
            Expr::value(Option::<String>::None),
        )
        .filter(data_export::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

fn payload_of(job: &job::Model) -> Result<Payload, JobError> {
    serde_json::from_str(&job.payload)
        .map_err(|e| JobError::Permanent(format!("unreadable payload: {e}")))
}

/// The `build_export` job: builds the ZIP; after the last failed attempt the export is marked
/// failed and the person told.
pub async fn run_build(services: &Services, job: &job::Model) -> Result<(), JobError> {
    let payload = payload_of(job)?;
    match services.build(payload.export, Some(job)).await {
        Ok(()) => Ok(()),
        Err(err) => {
            let reason = format!("{err:#}");
            if job.attempts >= job.max_attempts {
                services
                    .give_up_export(payload.export)
                    .await
                    .map_err(|e| JobError::Retry(format!("{e:#}")))?;
                return Err(JobError::Permanent(reason));
            }
            Err(JobError::Retry(reason))
        }
    }
}

/// The `expire_export` job, planned at the export's expiry: deletes its file.
pub async fn run_expire(services: &Services, job: &job::Model) -> Result<(), JobError> {
    let payload = payload_of(job)?;
    let retry = |e: ServiceError| JobError::Retry(format!("{e:#}"));
    let Some(export) = data_export::Entity::find_by_id(payload.export)
        .one(&services.db)
        .await
        .map_err(|e| retry(e.into()))?
    else {
        return Ok(());
    };
    services
        .expire_if_due(&export, crate::now())
        .await
        .map_err(retry)?;
    Ok(())
}

/// One table of the complete record, with the condition that picks the person's rows.
struct Dump {
    class: &'static TableClass,
    condition: SimpleExpr,
    rows: u64,
}

/// Progress of a build, written to its row now and then; extends the job's lease as it goes
/// (a large export takes longer than one lease).
struct Progress<'a> {
    services: &'a Services,
    id: i64,
    done: u64,
    total: u64,
    saved_at: Instant,
    job: Option<&'a job::Model>,
    leased_at: Instant,
}

impl<'a> Progress<'a> {
    fn new(services: &'a Services, id: i64, total: u64, job: Option<&'a job::Model>) -> Self {
        Self {
            services,
            id,
            done: 0,
            total,
            saved_at: Instant::now(),
            job,
            leased_at: Instant::now(),
        }
    }

    async fn add(&mut self, n: u64) -> Result<()> {
        self.done = std::cmp::min(self.done + n, self.total);
        if self.saved_at.elapsed() >= PROGRESS_EVERY {
            self.save().await?;
        }
        Ok(())
    }

    async fn save(&mut self) -> Result<()> {
        let db = &self.services.db;
        data_export::Entity::update_many()
            .col_expr(
                data_export::Column::ProgressDone,
                Expr::value(i64::try_from(self.done).unwrap_or(i64::MAX)),
            )
            .filter(data_export::Column::Id.eq(self.id))
            .filter(data_export::Column::State.eq(BUILDING))
            .exec(db)
            .await?;
        self.saved_at = Instant::now();
        if let Some(job) = self.job
            && self.leased_at.elapsed() >= LEASE_EVERY
        {
            job::Entity::update_many()
                .col_expr(
                    job::Column::LockedUntil,
                    Expr::value(Some(crate::now() + LEASE)),
                )
                .filter(job::Column::Id.eq(job.id))
                .filter(job::Column::LockedBy.eq(job.locked_by.clone()))
                .filter(job::Column::State.eq(queue::RUNNING))
                .exec(db)
                .await?;
            self.leased_at = Instant::now();
        }
        Ok(())
    }
}

/// What the ZIP writer is told: start a file, here are its bytes, the end.
enum Piece {
    File {
        name: String,
        deflate: bool,
        large: bool,
    },
    Data(Bytes),
    End,
}

/// The async side of the ZIP writer: gathers small writes into chunks.
struct Sink {
    tx: mpsc::Sender<Piece>,
    buf: Vec<u8>,
}

impl Sink {
    fn new(tx: mpsc::Sender<Piece>) -> Self {
        Self {
            tx,
            buf: Vec::with_capacity(CHUNK),
        }
    }

    async fn send(&self, piece: Piece) -> Result<()> {
        self.tx
            .send(piece)
            .await
            .map_err(|_| anyhow::anyhow!("the ZIP writer stopped").into())
    }

    /// Starts the next file. `size` when known (a file over 4 GiB needs ZIP64).
    async fn file(&mut self, name: String, deflate: bool, size: Option<u64>) -> Result<()> {
        self.flush().await?;
        let large = size.is_some_and(|s| s >= u64::from(u32::MAX));
        self.send(Piece::File {
            name,
            deflate,
            large,
        })
        .await
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= CHUNK {
            self.flush().await?;
        }
        Ok(())
    }

    /// Hands a chunk on as it is (a piece of a media file).
    async fn chunk(&mut self, bytes: Bytes) -> Result<()> {
        self.flush().await?;
        self.send(Piece::Data(bytes)).await
    }

    async fn flush(&mut self) -> Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.send(Piece::Data(chunk)).await
    }

    /// Writes one value of a JSON array opened with `[`: `first` says whether it is the first.
    async fn item(&mut self, first: &mut bool, value: &serde_json::Value) -> Result<()> {
        self.write(if *first { b"\n" } else { b",\n" }).await?;
        *first = false;
        let text = serde_json::to_vec_pretty(value).context("could not write JSON")?;
        self.write(&text).await
    }

    async fn finish(mut self) -> Result<()> {
        self.flush().await?;
        self.send(Piece::End).await
    }
}

/// The blocking side's output: chunks into the upload's channel.
struct Outlet {
    out: mpsc::Sender<Result<Bytes, String>>,
    buf: Vec<u8>,
}

impl Outlet {
    fn hand_on(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.out
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "upload stopped"))
    }
}

impl Write for Outlet {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= CHUNK {
            self.hand_on()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs on a blocking thread: writes the pieces into a streamed ZIP. Without its `End` (the
/// builder failed), the upload is told to abandon what it has.
fn zip_pieces(
    mut pieces: mpsc::Receiver<Piece>,
    out: mpsc::Sender<Result<Bytes, String>>,
    stamp: zip::DateTime,
) -> anyhow::Result<()> {
    let abandon = out.clone();
    let mut zip = zip::ZipWriter::new_stream(Outlet {
        out,
        buf: Vec::with_capacity(CHUNK),
    });
    let failed = |why: String| {
        let _ = abandon.blocking_send(Err(why.clone()));
        anyhow::anyhow!(why)
    };
    loop {
        let Some(piece) = pieces.blocking_recv() else {
            return Err(failed("the export stopped before its end".into()));
        };
        let step = match piece {
            Piece::File {
                name,
                deflate,
                large,
            } => {
                let method = if deflate {
                    zip::CompressionMethod::Deflated
                } else {
                    zip::CompressionMethod::Stored
                };
                let options = zip::write::SimpleFileOptions::default()
                    .compression_method(method)
                    .last_modified_time(stamp)
                    .unix_permissions(0o644)
                    .large_file(large);
                zip.start_file(name, options).map_err(anyhow::Error::from)
            }
            Piece::Data(bytes) => zip.write_all(&bytes).map_err(anyhow::Error::from),
            Piece::End => {
                return match zip.finish() {
                    Ok(stream) => {
                        let mut outlet = stream.into_inner();
                        outlet
                            .hand_on()
                            .map_err(|e| failed(format!("could not write the ZIP: {e}")))
                    }
                    Err(e) => Err(failed(format!("could not write the ZIP: {e}"))),
                };
            }
        };
        if let Err(e) = step {
            return Err(failed(format!("could not write the ZIP: {e:#}")));
        }
    }
}

fn zip_time(t: DateTime<Utc>) -> zip::DateTime {
    zip::DateTime::from_date_and_time(
        u16::try_from(t.year()).unwrap_or(1980),
        t.month() as u8,
        t.day() as u8,
        t.hour() as u8,
        t.minute() as u8,
        t.second() as u8,
    )
    .unwrap_or_default()
}

/// A name safe as one part of a path in the ZIP: no separators, no dots alone, not empty.
fn path_part(raw: &str, max: usize) -> String {
    let cleaned: String = raw
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ' ' | '(' | ')') {
                c
            } else {
                '_'
            }
        })
        .take(max)
        .collect();
    let cleaned = cleaned.trim().trim_matches('.').trim().to_owned();
    if cleaned.is_empty() {
        "unnamed".to_owned()
    } else {
        cleaned
    }
}

/// One CSV line (RFC 4180). A text a spreadsheet would run as a formula gets a `'` first.
fn csv_line(fields: &[&str]) -> String {
    let mut line = fields
        .iter()
        .map(|f| {
            let f = if f.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                format!("'{f}")
            } else {
                (*f).to_owned()
            };
            if f.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", f.replace('"', "\"\""))
            } else {
                f
            }
        })
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

fn time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339()
}

fn opt_time(t: &Option<DateTime<Utc>>) -> serde_json::Value {
    t.as_ref()
        .map(time)
        .map_or(serde_json::Value::Null, Into::into)
}

/// The rows of `table` that `condition` selects, in id order, as JSON objects.
///
/// Every table of the export is read like this, by one query whose rows arrive as the ZIP
/// takes them (both drivers hold back rows the reader has not asked for), so memory stays
/// flat and the database plans each table once. A stream keeps its pool connection until it
/// is dropped (not when it runs dry), so each is dropped before the next is opened: an export
/// holds two connections at most, the stream and one for the related rows or its progress. Reading pages by id planned every page
/// anew: on PostgreSQL, before a freshly filled table's statistics were gathered, each page
/// of a million-row activity log re-read and sorted every matching row (0.1–0.2 s a page).
async fn rows_of<'a>(
    db: &'a store::Db,
    table: &str,
    condition: SimpleExpr,
) -> Result<impl Stream<Item = Result<JsonValue, DbErr>> + Send + 'a> {
    let query = Query::select()
        .column(Asterisk)
        .from(Alias::new(table))
        .and_where(condition)
        .order_by(Alias::new("id"), Order::Asc)
        .to_owned();
    Ok(JsonValue::find_by_statement(plan::build(db, &query))
        .stream(db)
        .await?)
}

/// A row as exported: without the table's secret columns.
fn strip(mut row: JsonValue, class: &TableClass) -> JsonValue {
    if let Some(map) = row.as_object_mut() {
        for column in secret_columns(class) {
            map.remove(*column);
        }
    }
    row
}

#[derive(Template)]
#[template(path = "export/readme.html")]
struct Readme {
    name: String,
    email: String,
    made: String,
    keep_days: i64,
    workspaces: Vec<ReadmeWorkspace>,
    tables: Vec<ReadmeTable>,
    excluded: Vec<ReadmeExcluded>,
    system: Vec<&'static str>,
}

struct ReadmeWorkspace {
    folder: String,
    name: String,
    role: String,
}

struct ReadmeTable {
    table: &'static str,
    category: &'static str,
    holds: &'static str,
    rows: u64,
    own_only: bool,
    left_out: String,
}

struct ReadmeExcluded {
    table: &'static str,
    category: &'static str,
    holds: &'static str,
    reason: &'static str,
}

/// Writes the ZIP's files, in order, into the sink.
struct Contents<'a> {
    services: &'a Services,
    owner: &'a user::Model,
    memberships: &'a [crate::workspaces::Membership],
    tables: &'a [Dump],
    sink: Sink,
    progress: Progress<'a>,
}

impl<'a> Contents<'a> {
    /// Consumes the writer: on failure the sink is dropped, which tells the ZIP writer (and
    /// through it the upload) to abandon the file.
    async fn write(mut self) -> Result<()> {
        self.readme().await?;
        self.profile().await?;
        self.consent().await?;
        for m in self.memberships {
            self.workspace(m).await?;
        }
        for dump in self.tables {
            self.dump(dump).await?;
        }
        self.sink.finish().await?;
        self.progress.save().await
    }

    fn folder(m: &crate::workspaces::Membership) -> String {
        format!(
            "workspaces/{}-{}",
            m.workspace.id,
            path_part(&m.workspace.name, 60)
        )
    }

    fn dump_of(&self, table: &str) -> Option<&'a Dump> {
        self.tables.iter().find(|d| d.class.table == table)
    }

    async fn readme(&mut self) -> Result<()> {
        let readme = Readme {
            name: self.owner.name.clone(),
            email: self.owner.email.clone(),
            made: domain::schedule::describe(crate::now(), zone_of(self.owner)),
            keep_days: KEEP.num_days(),
            workspaces: self
                .memberships
                .iter()
                .map(|m| ReadmeWorkspace {
                    folder: Self::folder(m),
                    name: m.workspace.name.clone(),
                    role: m.role.as_str().to_owned(),
                })
                .collect(),
            tables: self
                .tables
                .iter()
                .map(|d| ReadmeTable {
                    table: d.class.table,
                    category: d.class.category.label(),
                    holds: d.class.holds,
                    rows: d.rows,
                    own_only: matches!(d.class.export, OnExport::IncludeOwn(..)),
                    left_out: secret_columns(d.class).join(", "),
                })
                .collect(),
            excluded: datamap::TABLES
                .iter()
                .filter(|t| t.category != Category::System)
                .filter_map(|t| match t.export {
                    OnExport::Exclude(reason) => Some(ReadmeExcluded {
                        table: t.table,
                        category: t.category.label(),
                        holds: t.holds,
                        reason,
                    }),
                    _ => None,
                })
                .collect(),
            system: datamap::TABLES
                .iter()
                .filter(|t| t.category == Category::System)
                .map(|t| t.table)
                .collect(),
        };
        let html = readme
            .render()
            .map_err(|e| anyhow::anyhow!("the README could not be made: {e}"))?;
        self.sink.file("README.html".into(), true, None).await?;
        self.sink.write(html.as_bytes()).await?;
        self.progress.add(1).await
    }

    /// Every row of `table` that the export carries (secrets removed), as a JSON array.
    async fn array_of(&mut self, table: &str) -> Result<()> {
        self.sink.write(b"[").await?;
        let mut first = true;
        if let Some(dump) = self.dump_of(table) {
            let mut rows = rows_of(&self.services.db, table, dump.condition.clone()).await?;
            while let Some(row) = rows.try_next().await? {
                self.sink.item(&mut first, &strip(row, dump.class)).await?;
            }
        }
        self.sink.write(b"\n]").await
    }

    async fn profile(&mut self) -> Result<()> {
        self.sink.file("profile.json".into(), true, None).await?;
        self.sink.write(b"{\n\"account\": ").await?;
        let account = match self.dump_of("users") {
            Some(dump) => rows_of(&self.services.db, "users", dump.condition.clone())
                .await?
                .try_next()
                .await?
                .map(|row| strip(row, dump.class)),
            None => None,
        };
        let account = account.unwrap_or(JsonValue::Null);
        let text = serde_json::to_vec_pretty(&account).context("could not write JSON")?;
        self.sink.write(&text).await?;
        let workspaces: Vec<JsonValue> = self
            .memberships
            .iter()
            .map(|m| {
                json!({
                    "workspace_id": m.workspace.id,
                    "name": m.workspace.name,
                    "role": m.role.as_str(),
                    "folder": Self::folder(m),
                })
            })
            .collect();
        self.sink.write(b",\n\"workspaces\": ").await?;
        let text = serde_json::to_vec_pretty(&workspaces).context("could not write JSON")?;
        self.sink.write(&text).await?;
        self.sink.write(b",\n\"sessions\": ").await?;
        self.array_of("sessions").await?;
        self.sink.write(b",\n\"known_devices\": ").await?;
        self.array_of("known_devices").await?;
        self.sink.write(b"\n}\n").await?;
        self.progress.add(1).await
    }

    async fn consent(&mut self) -> Result<()> {
        self.sink.file("consent.json".into(), true, None).await?;
        self.sink.write(b"{\n\"consent_history\": ").await?;
        self.array_of("consent_ledger").await?;
        self.sink.write(b",\n\"policy_acceptances\": ").await?;
        self.array_of("policy_acceptances").await?;
        self.sink.write(b"\n}\n").await?;
        self.progress.add(1).await
    }

    async fn workspace(&mut self, m: &crate::workspaces::Membership) -> Result<()> {
        let folder = Self::folder(m);
        let ws = m.workspace.id;
        let services = self.services;
        let db = &services.db;

        self.sink
            .file(format!("{folder}/workspace.json"), true, None)
            .await?;
        let about = json!({
            "id": ws,
            "name": m.workspace.name,
            "created_at": time(&m.workspace.created_at),
            "updated_at": time(&m.workspace.updated_at),
            "your_role": m.role.as_str(),
        });
        let text = serde_json::to_vec_pretty(&about).context("could not write JSON")?;
        self.sink.write(&text).await?;

        self.sink
            .file(format!("{folder}/members.csv"), true, None)
            .await?;
        self.sink
            .write(csv_line(&["user_id", "name", "email", "role", "member_since"]).as_bytes())
            .await?;
        let mut members = membership::Entity::find()
            .filter(membership::Column::WorkspaceId.eq(ws))
            .order_by_asc(membership::Column::Id)
            .stream(db)
            .await?
            .try_chunks(BATCH);
        while let Some(batch) = members.try_next().await.map_err(|e| e.1)? {
            let people: HashMap<i64, user::Model> = user::Entity::find()
                .filter(user::Column::Id.is_in(batch.iter().map(|m| m.user_id)))
                .all(db)
                .await?
                .into_iter()
                .map(|u| (u.id, u))
                .collect();
            for member in batch {
                let Some(person) = people.get(&member.user_id) else {
                    continue;
                };
                let line = csv_line(&[
                    &person.id.to_string(),
                    &person.name,
                    &person.email,
                    &member.role,
                    &time(&member.created_at),
                ]);
                self.sink.write(line.as_bytes()).await?;
            }
        }
        drop(members);

        self.sink
            .file(format!("{folder}/campaigns.json"), true, None)
            .await?;
        self.sink.write(b"[").await?;
        let mut first = true;
        let mut campaigns = campaign::Entity::find()
            .filter(campaign::Column::WorkspaceId.eq(ws))
            .order_by_asc(campaign::Column::Id)
            .stream(db)
            .await?;
        while let Some(c) = campaigns.try_next().await? {
            let value = json!({
                "id": c.id,
                "name": c.name,
                "description": c.description,
                "starts_on": c.starts_on.map(|d| d.to_string()),
                "ends_on": c.ends_on.map(|d| d.to_string()),
                "colour": c.colour,
                "created_by": c.created_by,
                "created_at": time(&c.created_at),
                "updated_at": time(&c.updated_at),
            });
            self.sink.item(&mut first, &value).await?;
        }
        drop(campaigns);
        self.sink.write(b"\n]\n").await?;

        // A workspace's connected accounts are few: kept at hand to name them in posts.
        let accounts = social_account::Entity::find()
            .filter(social_account::Column::WorkspaceId.eq(ws))
            .order_by_asc(social_account::Column::Id)
            .all(db)
            .await?;
        self.sink
            .file(format!("{folder}/accounts.json"), true, None)
            .await?;
        self.sink.write(b"[").await?;
        let mut first = true;
        for a in &accounts {
            let value = json!({
                "id": a.id,
                "platform": a.platform,
                "platform_account_id": a.external_id,
                "username": a.username,
                "display_name": a.display_name,
                "avatar_url": a.avatar_url,
                "status": a.status,
                "follower_count": a.follower_count,
                "followers_updated_at": opt_time(&a.followers_updated_at),
                "authorized_by": a.authorized_by,
                "connected_at": time(&a.created_at),
                "updated_at": time(&a.updated_at),
            });
            self.sink.item(&mut first, &value).await?;
        }
        self.sink.write(b"\n]\n").await?;
        let names: HashMap<i64, (String, String)> = accounts
            .into_iter()
            .map(|a| (a.id, (a.platform, a.username)))
            .collect();

        self.posts(&folder, ws, &names).await?;
        self.activity(&folder, ws).await?;
        self.progress.add(1).await?;
        self.media(&folder, ws).await
    }

    async fn posts(
        &mut self,
        folder: &str,
        ws: i64,
        accounts: &HashMap<i64, (String, String)>,
    ) -> Result<()> {
        let services = self.services;
        let db = &services.db;
        self.sink
            .file(format!("{folder}/posts.json"), true, None)
            .await?;
        self.sink.write(b"[").await?;
        let mut first = true;
        let mut posts = post::Entity::find()
            .filter(post::Column::WorkspaceId.eq(ws))
            .order_by_asc(post::Column::Id)
            .stream(db)
            .await?
            .try_chunks(BATCH);
        while let Some(page) = posts.try_next().await.map_err(|e| e.1)? {
            let ids: Vec<i64> = page.iter().map(|p| p.id).collect();
            let targets = post_target::Entity::find()
                .filter(post_target::Column::PostId.is_in(ids.clone()))
                .order_by_asc(post_target::Column::Id)
                .all(db)
                .await?;
            let target_ids: Vec<i64> = targets.iter().map(|t| t.id).collect();
            let attempts = if target_ids.is_empty() {
                Vec::new()
            } else {
                publish_attempt::Entity::find()
                    .filter(publish_attempt::Column::TargetId.is_in(target_ids))
                    .order_by_asc(publish_attempt::Column::Id)
                    .all(db)
                    .await?
            };
            let media = post_media::Entity::find()
                .filter(post_media::Column::PostId.is_in(ids))
                .order_by_asc(post_media::Column::Position)
                .order_by_asc(post_media::Column::Id)
                .all(db)
                .await?;
            for p in page {
                let targets_of: Vec<JsonValue> = targets
                    .iter()
                    .filter(|t| t.post_id == p.id)
                    .map(|t| {
                        let (platform, username) = accounts
                            .get(&t.account_id)
                            .map(|(p, u)| (p.as_str(), u.as_str()))
                            .unwrap_or_default();
                        json!({
                            "id": t.id,
                            "account_id": t.account_id,
                            "platform": platform,
                            "username": username,
                            "text": t.body,
                            "options": serde_json::from_str::<JsonValue>(&t.options)
                                .unwrap_or_else(|_| JsonValue::String(t.options.clone())),
                            "state": t.state,
                            "attempts": t.attempts,
                            "platform_post_id": t.platform_post_id,
                            "permalink": t.permalink,
                            "last_error": t.last_error,
                            "published_at": opt_time(&t.published_at),
                            "updated_at": time(&t.updated_at),
                            "publish_attempts": attempts
                                .iter()
                                .filter(|a| a.target_id == t.id)
                                .map(|a| json!({
                                    "number": a.number,
                                    "idempotency_key": a.idempotency_key,
                                    "started_at": time(&a.started_at),
                                    "finished_at": opt_time(&a.finished_at),
                                    "outcome": a.outcome,
                                    "error": a.error,
                                    "platform_post_id": a.platform_post_id,
                                }))
                                .collect::<Vec<_>>(),
                        })
                    })
                    .collect();
                let media_of: Vec<JsonValue> = media
                    .iter()
                    .filter(|m| m.post_id == p.id)
                    .map(|m| {
                        json!({
                            "media_id": m.media_id,
                            "position": m.position,
                            "only_for_account_id": m.account_id,
                        })
                    })
                    .collect();
                let value = json!({
                    "id": p.id,
                    "state": p.state,
                    "text": p.body,
                    "first_comment": p.first_comment,
                    "campaign_id": p.campaign_id,
                    "author_id": p.author_id,
                    "scheduled_at": opt_time(&p.scheduled_at),
                    "schedule_time_zone": p.schedule_tz,
                    "published_at": opt_time(&p.published_at),
                    "failure_reason": p.failure_reason,
                    "revision": p.revision,
                    "created_at": time(&p.created_at),
                    "updated_at": time(&p.updated_at),
                    "targets": targets_of,
                    "media": media_of,
                });
                self.sink.item(&mut first, &value).await?;
            }
        }
        self.sink.write(b"\n]\n").await
    }

    /// The person's own entries of the workspace's activity log.
    async fn activity(&mut self, folder: &str, ws: i64) -> Result<()> {
        let services = self.services;
        self.sink
            .file(format!("{folder}/activity.json"), true, None)
            .await?;
        self.sink.write(b"[").await?;
        let mut first = true;
        let mut entries = activity::Entity::find()
            .filter(activity::Column::WorkspaceId.eq(ws))
            .filter(activity::Column::ActorUserId.eq(self.owner.id))
            .order_by_asc(activity::Column::Id)
            .stream(&services.db)
            .await?;
        while let Some(a) = entries.try_next().await? {
            let value = json!({
                "at": time(&a.created_at),
                "action": a.action,
                "object_type": a.object_type,
                "object_id": a.object_id,
                "summary": a.summary,
            });
            self.sink.item(&mut first, &value).await?;
        }
        self.sink.write(b"\n]\n").await
    }

    fn original_name(item: &media_item::Model) -> String {
        format!(
            "media/originals/{}-{}",
            item.id,
            path_part(&item.filename, 120)
        )
    }

    /// The workspace's media library, in id order.
    async fn library(
        db: &store::Db,
        ws: i64,
    ) -> Result<impl Stream<Item = Result<media_item::Model, DbErr>> + Send + '_> {
        Ok(media_item::Entity::find()
            .filter(media_item::Column::WorkspaceId.eq(ws))
            .order_by_asc(media_item::Column::Id)
            .stream(db)
            .await?)
    }

    /// The library's index, then every original, streamed from the store.
    async fn media(&mut self, folder: &str, ws: i64) -> Result<()> {
        let services = self.services;
        self.sink
            .file(format!("{folder}/media/index.csv"), true, None)
            .await?;
        self.sink
            .write(
                csv_line(&[
                    "id",
                    "file",
                    "filename",
                    "kind",
                    "mime",
                    "size_bytes",
                    "width",
                    "height",
                    "folder",
                    "tags",
                    "uploaded_by",
                    "provenance",
                    "ai_provider",
                    "ai_prompt",
                    "created_at",
                ])
                .as_bytes(),
            )
            .await?;
        let mut library = Self::library(&services.db, ws).await?;
        while let Some(item) = library.try_next().await? {
            let opt = |v: Option<i32>| v.map(|v| v.to_string()).unwrap_or_default();
            let tags = crate::media::tags_of(&item).join(", ");
            let line = csv_line(&[
                &item.id.to_string(),
                &Self::original_name(&item),
                &item.filename,
                &item.kind,
                &item.mime,
                &item.size_bytes.to_string(),
                &opt(item.width),
                &opt(item.height),
                &item.folder,
                &tags,
                &item.uploaded_by.map(|u| u.to_string()).unwrap_or_default(),
                &item.provenance,
                item.ai_provider.as_deref().unwrap_or_default(),
                item.ai_prompt.as_deref().unwrap_or_default(),
                &time(&item.created_at),
            ]);
            self.sink.write(line.as_bytes()).await?;
        }
        drop(library);

        let mut library = Self::library(&services.db, ws).await?;
        while let Some(item) = library.try_next().await? {
            self.original(folder, &item).await?;
            self.progress.add(1).await?;
        }
        Ok(())
    }

    /// Copies one original from the store, chunk by chunk. One missing from the store is noted
    /// in a text file beside where it would be, instead of failing the whole export.
    async fn original(&mut self, folder: &str, item: &media_item::Model) -> Result<()> {
        let name = format!("{folder}/{}", Self::original_name(item));
        let (size, mut stream) = match self.services.objects.stream(&item.object_key).await {
            Ok(found) => found,
            Err(err) => {
                tracing::warn!(media = item.id, error = ?err, "an original is missing from the store");
                self.sink
                    .file(format!("{name}.missing.txt"), true, None)
                    .await?;
                return self
                    .sink
                    .write(
                        b"The original of this file could not be found in storage when the \
                          export was made.\n",
                    )
                    .await;
            }
        };
        self.sink.file(name, false, Some(size)).await?;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.context("could not read a media file")?;
            self.sink.chunk(chunk).await?;
            // Keeps the lease while a large file is copied.
            self.progress.add(0).await?;
        }
        Ok(())
    }

    /// One table of the complete record: `data/<table>.jsonl`.
    async fn dump(&mut self, dump: &Dump) -> Result<()> {
        let table = dump.class.table;
        self.sink
            .file(format!("data/{table}.jsonl"), true, None)
            .await?;
        let services = self.services;
        let mut rows = rows_of(&services.db, table, dump.condition.clone()).await?;
        while let Some(row) = rows.try_next().await? {
            let mut line =
                serde_json::to_vec(&strip(row, dump.class)).context("could not write JSON")?;
            line.push(b'\n');
            self.sink.write(&line).await?;
            self.progress.add(1).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sql(condition: SimpleExpr) -> String {
        plan::select("t", &["id"], condition)
            .to_string(sea_orm::sea_query::SqliteQueryBuilder)
            .replace('"', "")
    }

    #[test]
    fn the_activity_log_is_exported_for_the_person_only() {
        let subject = Subject {
            users: vec![7],
            workspaces: vec![3],
            ..Default::default()
        };
        let log = datamap::classify("activity_log").unwrap();
        let condition = sql(exported(log, &subject).unwrap());
        assert!(condition.contains("workspace_id IN (3)"), "{condition}");
        assert!(condition.contains("actor_user_id IN (7)"), "{condition}");
    }

    #[test]
    fn secrets_and_excluded_tables_stay_out() {
        let subject = Subject {
            users: vec![7],
            workspaces: vec![3],
            ..Default::default()
        };
        for table in [
            "account_tokens",
            "email_tokens",
            "oauth_states",
            "data_exports",
        ] {
            let class = datamap::classify(table).unwrap();
            assert!(exported(class, &subject).is_none(), "{table}");
        }
        let users = datamap::classify("users").unwrap();
        assert!(secret_columns(users).contains(&"password_hash"));
        let row = strip(
            json!({"id": 7, "name": "Ada", "password_hash": "$argon2id$..."}),
            users,
        );
        assert_eq!(row, json!({"id": 7, "name": "Ada"}));
        for table in ["sessions", "invitations"] {
            let class = datamap::classify(table).unwrap();
            assert!(secret_columns(class).contains(&"token_hash"), "{table}");
        }
    }

    #[test]
    fn names_in_the_zip_cannot_leave_their_folder() {
        assert_eq!(path_part("../../etc/passwd", 60), "_.._etc_passwd");
        assert_eq!(path_part("..", 60), "unnamed");
        assert_eq!(path_part("Acme / Spring", 60), "Acme _ Spring");
        assert_eq!(path_part("", 60), "unnamed");
        assert!(!path_part("a\\b/c", 60).contains(['/', '\\']));
    }

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(
            csv_line(&["a", "b,c", "say \"hi\""]),
            "a,\"b,c\",\"say \"\"hi\"\"\"\r\n"
        );
        assert_eq!(csv_line(&["=1+1", "@x"]), "'=1+1,'@x\r\n");
    }

    #[test]
    fn a_streamed_zip_reads_back() {
        let (pieces, pieces_rx) = mpsc::channel(16);
        let (out, mut out_rx) = mpsc::channel(1024);
        let writer =
            std::thread::spawn(move || zip_pieces(pieces_rx, out, zip::DateTime::default()));
        let big: Vec<u8> = (0..600_000u32).map(|i| (i % 251) as u8).collect();
        for piece in [
            Piece::File {
                name: "a.json".into(),
                deflate: true,
                large: false,
            },
            Piece::Data(Bytes::from_static(b"[1, 2, 3]")),
            Piece::File {
                name: "media/originals/1-photo.bin".into(),
                deflate: false,
                large: false,
            },
            Piece::Data(Bytes::from(big[..300_000].to_vec())),
            Piece::Data(Bytes::from(big[300_000..].to_vec())),
            Piece::End,
        ] {
            pieces.blocking_send(piece).unwrap();
        }
        writer.join().unwrap().unwrap();
        let mut bytes = Vec::new();
        while let Ok(chunk) = out_rx.try_recv() {
            bytes.extend_from_slice(&chunk.unwrap());
        }
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut read = |name: &str| {
            let mut file = archive.by_name(name).unwrap();
            let mut content = Vec::new();
            std::io::Read::read_to_end(&mut file, &mut content).unwrap();
            content
        };
        assert_eq!(read("a.json"), b"[1, 2, 3]");
        assert_eq!(read("media/originals/1-photo.bin"), big);
    }

    #[test]
    fn an_unfinished_zip_is_abandoned() {
        let (pieces, pieces_rx) = mpsc::channel(16);
        let (out, mut out_rx) = mpsc::channel(1024);
        let writer =
            std::thread::spawn(move || zip_pieces(pieces_rx, out, zip::DateTime::default()));
        pieces
            .blocking_send(Piece::File {
                name: "a.json".into(),
                deflate: true,
                large: false,
            })
            .unwrap();
        drop(pieces);
        assert!(writer.join().unwrap().is_err());
        let mut saw_error = false;
        while let Ok(chunk) = out_rx.try_recv() {
            saw_error |= chunk.is_err();
        }
        assert!(saw_error, "the upload was not told to abandon the file");
    }
}

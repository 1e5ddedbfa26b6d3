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

pub mod files;
pub mod progress;
pub mod stream;

pub use files::{KEEP, exported, secret_columns};

use crate::datamap::{self as plan, Subject};
use crate::jobs::{Job, JobError};
use crate::{Result, ServiceError, Services, emails, queue};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use domain::{ExportId, UserId};
use files::{Contents, Dump, zone_of};
use progress::Progress;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use store::datamap::{self};
pub use store::entities::states::ExportState;
use store::entities::{data_export, job, user};
use stream::{Piece, Sink, zip_pieces, zip_time};
use tokio::sync::mpsc;

/// One export a day.
pub const INTERVAL: chrono::Duration = chrono::Duration::hours(24);

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

/// The payload of the `build_export` job: which export to build.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct BuildPayload {
    export: i64,
}

impl queue::Payload for BuildPayload {
    const KIND: &'static str = "build_export";
}

/// The payload of the `expire_export` job: which export's file to delete.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct ExpirePayload {
    export: i64,
}

impl queue::Payload for ExpirePayload {
    const KIND: &'static str = "expire_export";
}

/// Waiting to be built, or being built.
pub fn is_running(export: &data_export::Model) -> bool {
    export.state == ExportState::Queued || export.state == ExportState::Building
}

/// A build still not finished a day after it was asked for has died with its job (a crash
/// after the last attempt): it no longer blocks a new one.
fn is_stale(export: &data_export::Model, now: DateTime<Utc>) -> bool {
    is_running(export) && export.requested_at + INTERVAL <= now
}

impl Services {
    /// Asks for an export of everything about `user`. One a day: a second request within 24
    /// hours of the last one that did not fail is refused with when the next is possible; while
    /// one is being made, that one is returned instead of starting another.
    #[tracing::instrument(skip_all, fields(user = user.id))]
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
            .filter(data_export::Column::State.ne(ExportState::Failed))
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
            state: Set(ExportState::Queued),
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
            queue::NewJob::of(&BuildPayload { export: export.id })?.for_user(UserId(user.id));
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
            .filter(data_export::Column::State.ne(ExportState::Failed))
            .one(&self.db)
            .await?;
        let next_at = counted
            .filter(|e| !is_stale(e, now))
            .map(|e| e.requested_at + INTERVAL)
            .filter(|at| *at > now);
        Ok(ExportStatus { latest, next_at })
    }

    /// Export `id` of the person, for the download: `NotFound` for anyone else's.
    pub async fn export_file(&self, user_id: UserId, id: ExportId) -> Result<ExportFile> {
        let export = data_export::Entity::find_by_id(id)
            .filter(data_export::Column::UserId.eq(user_id.0))
            .one(&self.db)
            .await?
            .ok_or(ServiceError::NotFound)?;
        if self.expire_if_due(&export, crate::now()).await? || export.state == ExportState::Expired
        {
            return Ok(ExportFile::Gone);
        }
        match (export.state, export.object_key, export.ready_at) {
            (ExportState::Ready, Some(key), Some(ready_at)) => Ok(ExportFile::Ready {
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
        let due =
            export.state == ExportState::Ready && export.expires_at.is_some_and(|at| at <= now);
        if !due {
            return Ok(false);
        }
        if let Some(key) = &export.object_key {
            self.objects.delete(key).await?;
        }
        data_export::Entity::update_many()
            .col_expr(
                data_export::Column::State,
                Expr::value(ExportState::Expired),
            )
            .col_expr(
                data_export::Column::ObjectKey,
                Expr::value(Option::<String>::None),
            )
            .filter(data_export::Column::Id.eq(export.id))
            .filter(data_export::Column::State.eq(ExportState::Ready))
            .exec(&self.db)
            .await?;
        Ok(true)
    }

    /// Builds export `id`'s ZIP, uploads it and marks it ready (then e-mails the person). The
    /// job runs this; a benchmark can call it directly on an export it queued. An export that
    /// is not waiting to be built (ready, failed, gone) is left as it is.
    #[tracing::instrument(skip_all, fields(export = id.0))]
    pub async fn build_export(&self, id: ExportId) -> Result<()> {
        self.build(id.0, None).await
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
            owned: memberships
                .iter()
                .filter(|m| m.role == domain::Role::Owner)
                .map(|m| m.workspace.id)
                .collect(),
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
            .col_expr(
                data_export::Column::State,
                Expr::value(ExportState::Building),
            )
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
            .filter(data_export::Column::State.is_in([ExportState::Queued, ExportState::Building]))
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
            .col_expr(data_export::Column::State, Expr::value(ExportState::Ready))
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
            .filter(data_export::Column::State.eq(ExportState::Building))
            .exec(&txn)
            .await?;
        if done.rows_affected == 0 {
            // The account was deleted (or the export withdrawn) while it was being built.
            drop(txn);
            self.objects.delete(key).await?;
            return Ok(());
        }
        let mut expire =
            queue::NewJob::of(&ExpirePayload { export: export.id })?.for_user(UserId(owner.id));
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
        emails::queue(&txn, email, Some(UserId(owner.id))).await?;
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
            emails::queue(&txn, email, Some(UserId(owner.id))).await?;
        }
        txn.commit().await?;
        Ok(())
    }
}

async fn mark_failed<C: ConnectionTrait>(conn: &C, id: i64, why: &str) -> Result<()> {
    data_export::Entity::update_many()
        .col_expr(data_export::Column::State, Expr::value(ExportState::Failed))
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

/// The `build_export` job: builds the ZIP; after the last failed attempt the export is marked
/// failed and the person told.
pub struct BuildExport;

impl Job for BuildExport {
    type Payload = BuildPayload;

    async fn run(
        services: &Services,
        job: &job::Model,
        payload: BuildPayload,
    ) -> Result<(), JobError> {
        run_build(services, job, payload).await
    }
}

async fn run_build(
    services: &Services,
    job: &job::Model,
    payload: BuildPayload,
) -> Result<(), JobError> {
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
pub struct ExpireExport;

impl Job for ExpireExport {
    type Payload = ExpirePayload;

    async fn run(
        services: &Services,
        _: &job::Model,
        payload: ExpirePayload,
    ) -> Result<(), JobError> {
        run_expire(services, payload).await
    }
}

async fn run_expire(services: &Services, payload: ExpirePayload) -> Result<(), JobError> {
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

#[cfg(test)]
mod tests {
    use super::files::{csv_line, strip};
    use super::stream::path_part;
    use super::*;
    use sea_orm::sea_query::SimpleExpr;
    use serde_json::json;

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
    fn third_parties_comments_go_to_the_workspace_owners_only() {
        let comments = datamap::classify("comments").unwrap();
        let member = Subject {
            users: vec![7],
            workspaces: vec![3, 4],
            ..Default::default()
        };
        let nothing = sql(exported(comments, &member).unwrap());
        assert!(nothing.contains("1 = 2"), "{nothing}");
        let owner = Subject {
            owned: vec![4],
            ..member
        };
        let condition = sql(exported(comments, &owner).unwrap());
        assert!(condition.contains("workspace_id IN (3, 4)"), "{condition}");
        assert!(condition.contains("workspace_id IN (4)"), "{condition}");
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
        let subjects = datamap::classify("consent_subjects").unwrap();
        assert!(secret_columns(subjects).contains(&"salt"));
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

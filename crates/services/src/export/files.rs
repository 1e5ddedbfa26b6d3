//! What the ZIP holds besides the complete record: `README.html` (every file explained from the
//! data map's sentences), the person's profile and consent history, and per workspace its posts,
//! campaigns, accounts, activity and media library, with the originals; and the complete record
//! itself, one `data/<table>.jsonl` per table the data map marks for export.

use super::progress::Progress;
use super::stream::{Sink, path_part};
use crate::datamap::{self as plan, Subject};
use crate::{Result, Services};
use anyhow::Context;
use askama::Template;
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt, TryStreamExt};
use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, Order, Query, SimpleExpr};
use sea_orm::{
    ColumnTrait, DbErr, EntityTrait, FromQueryResult, JsonValue, QueryFilter, QueryOrder,
};
use serde_json::json;
use std::collections::HashMap;
use store::datamap::{self, Category, OnExport, TableClass};
use store::entities::{
    activity, campaign, media_item, membership, post, post_media, post_target, publish_attempt,
    social_account, user,
};

/// Rows whose related rows are read together (members' accounts; posts' targets, attempts
/// and media).
/// How long a ready export is kept.
pub const KEEP: chrono::Duration = chrono::Duration::days(7);

pub(crate) const BATCH: usize = 100;

/// The rows of `table` that an export for `subject` carries, as the data map says; `None` for
/// a table it leaves out (or when none of the table's rows can belong to `subject`).
pub fn exported(table: &TableClass, subject: &Subject) -> Option<SimpleExpr> {
    let owned = plan::owned_per_row(table, subject)?;
    match table.export {
        OnExport::Include | OnExport::IncludeWithout(_) => Some(owned),
        OnExport::IncludeOwn(column, _) => (!subject.users.is_empty())
            .then(|| owned.and(Expr::col(Alias::new(column)).is_in(subject.users.iter().copied()))),
        // A member who owns none of the workspaces gets the file, empty.
        OnExport::ToOwners => Some(
            owned.and(Expr::col(Alias::new("workspace_id")).is_in(subject.owned.iter().copied())),
        ),
        OnExport::ToOwnersAndAuthor(column) => Some(
            owned.and(
                Expr::col(Alias::new("workspace_id"))
                    .is_in(subject.owned.iter().copied())
                    .or(Expr::col(Alias::new(column)).is_in(subject.users.iter().copied())),
            ),
        ),
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

/// One table of the complete record, with the condition that picks the person's rows.
pub(crate) struct Dump {
    pub(crate) class: &'static TableClass,
    pub(crate) condition: SimpleExpr,
    pub(crate) rows: u64,
}

/// One CSV line (RFC 4180). A text a spreadsheet would run as a formula gets a `'` first.
pub(crate) fn csv_line(fields: &[&str]) -> String {
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

pub(crate) fn time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339()
}

pub(crate) fn opt_time(t: &Option<DateTime<Utc>>) -> serde_json::Value {
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
pub(crate) async fn rows_of<'a>(
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
pub(crate) fn strip(mut row: JsonValue, class: &TableClass) -> JsonValue {
    if let Some(map) = row.as_object_mut() {
        for column in secret_columns(class) {
            map.remove(*column);
        }
    }
    row
}

#[derive(Template)]
#[template(path = "export/readme.html")]
pub(crate) struct Readme {
    name: String,
    email: String,
    made: String,
    keep_days: i64,
    workspaces: Vec<ReadmeWorkspace>,
    tables: Vec<ReadmeTable>,
    excluded: Vec<ReadmeExcluded>,
    system: Vec<&'static str>,
}

pub(crate) struct ReadmeWorkspace {
    folder: String,
    name: String,
    role: String,
}

pub(crate) struct ReadmeTable {
    table: &'static str,
    category: &'static str,
    holds: &'static str,
    rows: u64,
    own_only: bool,
    left_out: String,
}

pub(crate) struct ReadmeExcluded {
    table: &'static str,
    category: &'static str,
    holds: &'static str,
    reason: &'static str,
}

/// Writes the ZIP's files, in order, into the sink.
pub(crate) struct Contents<'a> {
    pub(crate) services: &'a Services,
    pub(crate) owner: &'a user::Model,
    pub(crate) memberships: &'a [crate::workspaces::Membership],
    pub(crate) tables: &'a [Dump],
    pub(crate) sink: Sink,
    pub(crate) progress: Progress<'a>,
}

impl<'a> Contents<'a> {
    /// Consumes the writer: on failure the sink is dropped, which tells the ZIP writer (and
    /// through it the upload) to abandon the file.
    pub(crate) async fn write(mut self) -> Result<()> {
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

    pub(crate) fn folder(m: &crate::workspaces::Membership) -> String {
        format!(
            "workspaces/{}-{}",
            m.workspace.id,
            path_part(&m.workspace.name, 60)
        )
    }

    pub(crate) fn dump_of(&self, table: &str) -> Option<&'a Dump> {
        self.tables.iter().find(|d| d.class.table == table)
    }

    pub(crate) async fn readme(&mut self) -> Result<()> {
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
    pub(crate) async fn array_of(&mut self, table: &str) -> Result<()> {
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

    pub(crate) async fn profile(&mut self) -> Result<()> {
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

    pub(crate) async fn consent(&mut self) -> Result<()> {
        self.sink.file("consent.json".into(), true, None).await?;
        self.sink.write(b"{\n\"consent_history\": ").await?;
        self.array_of("consent_ledger").await?;
        self.sink.write(b",\n\"policy_acceptances\": ").await?;
        self.array_of("policy_acceptances").await?;
        self.sink.write(b"\n}\n").await?;
        self.progress.add(1).await
    }

    pub(crate) async fn workspace(&mut self, m: &crate::workspaces::Membership) -> Result<()> {
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
                "metrics_error": a.metrics_error,
                "metrics_error_at": opt_time(&a.metrics_error_at),
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

    pub(crate) async fn posts(
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
                            "state": t.state.as_str(),
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
                                    "outcome": a.outcome.map(|o| o.as_str()),
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
                    "state": p.state.as_str(),
                    "text": p.body,
                    "first_comment": p.first_comment,
                    "campaign_id": p.campaign_id,
                    "author_id": p.author_id,
                    "scheduled_at": opt_time(&p.scheduled_at),
                    "schedule_time_zone": p.schedule_tz,
                    "published_at": opt_time(&p.published_at),
                    "failure_reason": p.failure_reason,
                    "revision": p.revision,
                    "review_note": p.review_note,
                    "reviewed_by": p.reviewed_by,
                    "reviewed_at": opt_time(&p.reviewed_at),
                    "approved_by": p.approved_by,
                    "approved_at": opt_time(&p.approved_at),
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
    pub(crate) async fn activity(&mut self, folder: &str, ws: i64) -> Result<()> {
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

    pub(crate) fn original_name(item: &media_item::Model) -> String {
        format!(
            "media/originals/{}-{}",
            item.id,
            path_part(&item.filename, 120)
        )
    }

    /// The workspace's media library, in id order.
    pub(crate) async fn library(
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
    pub(crate) async fn media(&mut self, folder: &str, ws: i64) -> Result<()> {
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
                    "ai_model",
                    "reviewed_by",
                    "reviewed_at",
                    "duration_ms",
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
                item.ai_model.as_deref().unwrap_or_default(),
                &item.reviewed_by.map(|u| u.to_string()).unwrap_or_default(),
                &item.reviewed_at.as_ref().map(time).unwrap_or_default(),
                &item.duration_ms.map(|d| d.to_string()).unwrap_or_default(),
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
    pub(crate) async fn original(&mut self, folder: &str, item: &media_item::Model) -> Result<()> {
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
    pub(crate) async fn dump(&mut self, dump: &Dump) -> Result<()> {
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

pub(crate) fn zone_of(user: &user::Model) -> domain::Timezone {
    domain::Timezone::stored(&user.timezone)
}

//! The media library: streaming uploads checked by their bytes and held to a size limit while
//! they arrive, image dimensions and thumbnails, folders, tags and search, where each file is
//! used, and signed, expiring URLs for platforms that fetch media by address.

pub mod generate;
pub mod generate_character;
pub mod generate_reel;
pub mod generate_video;
pub mod generations;
pub mod images;
pub mod import;
pub mod video;

use images::DECODING;
pub use images::{Described, ImageRefusal, decode_budget, describe_image};

use crate::plans::Need;
use crate::workspaces::{Membership, lock_as_editor};
use crate::{Result, ServiceError, Services, activity};
use bytes::{Bytes, BytesMut};
use domain::media::{self, MediaKind, MediaType};
use domain::plans::Limit;
use domain::{MediaId, WorkspaceId};
use futures_util::{Stream, StreamExt};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use store::entities::{media_item, post, post_media, user};
use store::objects::PutError;

/// The media library's limits: sizes, pixels, uploads at once per person, and how long signed
/// addresses last; with the count of uploads in progress that the per-person limit is held to
/// (shared by every clone of the services).
#[derive(Debug, Clone)]
pub struct MediaLimits {
    pub image_bytes: u64,
    pub video_bytes: u64,
    pub url_ttl: Duration,
    /// The most pixels (width × height) an image may have. Larger ones are refused from the
    /// dimensions in their header, before any pixel is decoded.
    pub max_pixels: u64,
    /// How many uploads one person may have in progress at once.
    pub uploads_per_person: usize,
    pub uploads: UploadSlots,
    /// ffmpeg and ffprobe, when installed: a video's length, size and poster frame.
    pub video: Option<video::VideoTools>,
    /// Origins Import from URL trusts (an intranet asset server): no https or public-address
    /// rule for them.
    pub import_trusted_origins: Vec<String>,
}

impl Default for MediaLimits {
    fn default() -> Self {
        Self {
            image_bytes: 10 * 1024 * 1024,
            video_bytes: 1024 * 1024 * 1024,
            url_ttl: Duration::from_secs(24 * 3600),
            max_pixels: 48_000_000,
            uploads_per_person: 4,
            uploads: UploadSlots::default(),
            video: None,
            import_trusted_origins: Vec::new(),
        }
    }
}

/// The uploads in progress, per person.
#[derive(Debug, Clone, Default)]
pub struct UploadSlots {
    running: Arc<Mutex<HashMap<i64, usize>>>,
}

impl UploadSlots {
    /// A slot for one more upload by `user`, unless they already have `limit` in progress. The
    /// slot is given back when it is dropped (the upload ended, however it ended).
    pub fn try_take(&self, user: domain::UserId, limit: usize) -> Option<UploadSlot> {
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        let count = running.entry(user.0).or_default();
        if *count >= limit {
            return None;
        }
        *count += 1;
        Some(UploadSlot {
            slots: self.clone(),
            user: user.0,
        })
    }

    /// How many uploads `user` has in progress.
    pub fn running(&self, user: domain::UserId) -> usize {
        let running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        running.get(&user.0).copied().unwrap_or_default()
    }
}

/// One upload in progress; see [`UploadSlots::try_take`].
#[derive(Debug)]
pub struct UploadSlot {
    slots: UploadSlots,
    user: i64,
}

impl Drop for UploadSlot {
    fn drop(&mut self) {
        let mut running = self
            .slots
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = running.get_mut(&self.user) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                running.remove(&self.user);
            }
        }
    }
}

/// Stored objects of an upload that has not been recorded yet: deleted when the upload ends
/// any other way (a refusal, an error, or the request being dropped mid-way).
struct Leftovers {
    objects: store::objects::Objects,
    keys: Vec<String>,
}

impl Leftovers {
    /// The upload is recorded: keep the objects.
    fn keep(mut self) {
        self.keys.clear();
    }

    /// The upload was refused: delete the objects now, before the refusal is answered.
    async fn remove_now(mut self) {
        let keys = std::mem::take(&mut self.keys);
        remove_objects(&self.objects, keys).await;
    }
}

async fn remove_objects(objects: &store::objects::Objects, keys: Vec<String>) {
    for key in keys {
        if let Err(err) = objects.delete(&key).await {
            tracing::error!(error = ?err, "could not delete the file of an unfinished upload");
        }
    }
}

impl Drop for Leftovers {
    fn drop(&mut self) {
        if self.keys.is_empty() {
            return;
        }
        let objects = self.objects.clone();
        let keys = std::mem::take(&mut self.keys);
        let cleanup = async move { remove_objects(&objects, keys).await };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(cleanup);
        }
    }
}

/// What was read of a stored file: its picture size, a video's length, and its thumbnail.
#[derive(Debug, Clone, Default)]
pub(crate) struct Facts {
    pub(crate) width: Option<i32>,
    pub(crate) height: Option<i32>,
    pub(crate) duration_ms: Option<i64>,
    pub(crate) thumb_key: Option<String>,
}

/// What the upload form sends besides the file.
#[derive(Debug, Clone, Default)]
pub struct UploadMeta {
    pub folder: String,
    pub tags: String,
}

/// The longest search of the library, in characters: longer searches are refused with a
/// message (a very long one made SQLite give up on the LIKE pattern).
pub const SEARCH_LIMIT: usize = 200;

/// Which library files a page lists.
#[derive(Debug, Clone, Default)]
pub struct MediaFilter {
    /// Words to find in file names and tags.
    pub q: String,
    pub folder: Option<String>,
    pub kind: Option<MediaKind>,
}

/// "10 MB", "1 GB", "512 KB".
pub fn human_size(bytes: u64) -> String {
    const KB: u64 = 1024;
    const MB: u64 = KB * 1024;
    const GB: u64 = MB * 1024;
    match bytes {
        b if b >= GB && b % GB == 0 => format!("{} GB", b / GB),
        b if b >= MB => format!("{:.1} MB", b as f64 / MB as f64).replace(".0 MB", " MB"),
        b if b >= KB => format!("{} KB", b.div_ceil(KB)),
        b => format!("{b} bytes"),
    }
}

/// Tags as stored: `,a,b,` (so one tag matches `LIKE '%,a,%'`).
fn stored_tags(tags: &[String]) -> String {
    if tags.is_empty() {
        String::new()
    } else {
        format!(",{},", tags.join(","))
    }
}

/// Tags as shown.
pub fn tags_of(item: &media_item::Model) -> Vec<&str> {
    item.tags.split(',').filter(|t| !t.is_empty()).collect()
}

/// File `id` of workspace `ws`, or NotFound.
async fn media_in<C: sea_orm::ConnectionTrait>(
    conn: &C,
    ws: WorkspaceId,
    id: i64,
) -> Result<media_item::Model> {
    media_item::Entity::find_by_id(id)
        .filter(media_item::Column::WorkspaceId.eq(ws.0))
        .one(conn)
        .await?
        .ok_or(ServiceError::NotFound)
}

/// The posts that carry file `media_id`.
fn carrying(media_id: i64) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::ExprTrait;
    post::Column::Id.in_subquery(
        sea_orm::sea_query::Query::select()
            .column(post_media::Column::PostId)
            .from(post_media::Entity)
            .and_where(Expr::col(post_media::Column::MediaId).eq(media_id))
            .to_owned(),
    )
}

impl Services {
    /// Stores one uploaded file, streamed from `body`: its type is read from its first bytes
    /// (and must match what its name claims), its size is held to the limit of its kind while
    /// it arrives, and an image gets its dimensions and a thumbnail. On any refusal nothing is
    /// left in storage or in the database.
    #[tracing::instrument(skip_all, fields(workspace = ctx.workspace.id))]
    pub async fn upload_media<S, E>(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        filename: &str,
        meta: &UploadMeta,
        body: S,
    ) -> Result<media_item::Model>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let limits = (self.media_limits.image_bytes, self.media_limits.video_bytes);
        self.store_media(ctx, actor, filename, meta, body, limits)
            .await
    }

    /// [`Self::upload_media`] with the limits of an image and of a video given.
    pub(crate) async fn store_media<S, E>(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        filename: &str,
        meta: &UploadMeta,
        mut body: S,
        (image_limit, video_limit): (u64, u64),
    ) -> Result<media_item::Model>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        if !ctx.role.can_publish() {
            return Err(ServiceError::Forbidden(
                "Viewers can see the media library but not add to it.".into(),
            ));
        }
        let folder =
            media::parse_folder(&meta.folder).map_err(|e| ServiceError::invalid("folder", e.0))?;
        let tags = media::parse_tags(&meta.tags).map_err(|e| ServiceError::invalid("tags", e.0))?;
        let name = media::clean_filename(filename);
        let mut head = BytesMut::new();
        while head.len() < media::SNIFF_LEN {
            match body.next().await {
                Some(Ok(chunk)) => head.extend_from_slice(&chunk),
                Some(Err(err)) => {
                    tracing::info!(error = %err, "an upload ended before its file arrived");
                    return Err(ServiceError::invalid(
                        "file",
                        format!("The upload of “{name}” was interrupted. Nothing was saved."),
                    ));
                }
                None => break,
            }
        }
        if head.is_empty() {
            return Err(ServiceError::invalid("file", "Choose a file to upload."));
        }
        let ty = media::identify(&name, &head).map_err(|e| ServiceError::invalid("file", e.0))?;
        let limit = match ty.kind() {
            MediaKind::Image => image_limit,
            MediaKind::Video => video_limit,
        };
        let ws = ctx.workspace_id();
        let key = format!(
            "{}{}.{}",
            store::objects::workspace_prefix(ws.0),
            &crate::tokens::random_token()[..24],
            ty.extension()
        );
        let size = self
            .objects
            .put_stream(&key, head.freeze(), body, limit)
            .await
            .map_err(|err| match err {
                PutError::TooLarge { limit } => ServiceError::TooLarge(format!(
                    "“{name}” is larger than {}, the limit for {}s. Nothing was saved.",
                    human_size(limit),
                    ty.kind().as_str()
                )),
                PutError::Interrupted(why) => {
                    tracing::info!(error = %why, "an upload ended before its file arrived");
                    ServiceError::invalid(
                        "file",
                        format!("The upload of “{name}” was interrupted. Nothing was saved."),
                    )
                }
                PutError::Storage(err) => ServiceError::Unexpected(err),
            })?;
        let mut leftovers = Leftovers {
            objects: self.objects.clone(),
            keys: vec![key.clone()],
        };
        let recorded = async {
            let facts = self.describe_upload(&key, ty, &name).await?;
            leftovers.keys.extend(facts.thumb_key.clone());
            self.insert_media(ctx, actor, &name, ty, size, &facts, &key, folder, &tags)
                .await
        }
        .await;
        match recorded {
            Ok(item) => {
                leftovers.keep();
                Ok(item)
            }
            Err(err) => {
                // Removed before the refusal is answered, so that nothing is left at the moment
                // the person reads it (the guard's own clean-up is for a cancelled request).
                leftovers.remove_now().await;
                Err(err)
            }
        }
    }

    /// Dimensions and thumbnail of an image just stored; of a video, with ffmpeg, its
    /// dimensions, length and a poster frame as its thumbnail.
    async fn describe_upload(&self, key: &str, ty: MediaType, name: &str) -> Result<Facts> {
        if ty.kind() != MediaKind::Image {
            return self.describe_video(key).await;
        }
        // A turn is taken before the file is read and given back when the decoding thread is
        // done (even if the request is dropped meanwhile), so that neither the bytes nor the
        // pixels of more than a few images are held at once.
        let turn = DECODING
            .acquire()
            .await
            .map_err(|e| anyhow::anyhow!("the decoding turns were closed: {e}"))?;
        let bytes = self.objects.get(key).await?;
        let max_pixels = self.media_limits.max_pixels;
        let made = tokio::task::spawn_blocking(move || {
            let described = describe_image(&bytes, ty, max_pixels);
            drop(turn);
            described
        })
        .await
        .map_err(|e| anyhow::anyhow!("thumbnail task failed: {e}"))?;
        let Described {
            width,
            height,
            thumbnail: thumb,
        } = made.map_err(|why| ServiceError::invalid("file", why.message(name, ty)))?;
        let thumb_key = format!("{key}.thumb.jpg");
        self.objects.put(&thumb_key, Bytes::from(thumb)).await?;
        Ok(Facts {
            width: i32::try_from(width).ok(),
            height: i32::try_from(height).ok(),
            duration_ms: None,
            thumb_key: Some(thumb_key),
        })
    }

    /// A video's facts, read with ffmpeg when it is installed; none when it is not, or when
    /// the tools cannot read the file (it is kept: the platform judges it when it is sent).
    pub(crate) async fn describe_video(&self, key: &str) -> Result<Facts> {
        let Some(tools) = &self.media_limits.video else {
            return Ok(Facts::default());
        };
        let readable = match self.objects.local_path(key) {
            Some(path) => video::Readable::own(path),
            None => {
                let copy = std::env::temp_dir().join(format!(
                    "socializioz-video-{}",
                    &crate::tokens::random_token()[..16]
                ));
                let readable = video::Readable::temporary(copy.clone());
                if let Err(err) = self.objects.copy_to_file(key, &copy).await {
                    // Kept without its facts, as a video the tools cannot read.
                    tracing::warn!(error = %format!("{err:#}"), "could not copy a video to read it");
                    return Ok(Facts::default());
                }
                readable
            }
        };
        // A turn of the decoding slots, as for images: a few files are read at once at most.
        let turn = DECODING
            .acquire()
            .await
            .map_err(|e| anyhow::anyhow!("the decoding turns were closed: {e}"))?;
        let Some(facts) = tools.probe(&readable.path).await else {
            return Ok(Facts::default());
        };
        // A frame a second in (the first is often black), or half-way through a shorter one;
        // none for a picture larger than an image may be.
        let at = Duration::from_millis((facts.duration_ms / 2).min(1000));
        let pixels = u64::from(facts.width) * u64::from(facts.height);
        let poster = if pixels <= self.media_limits.max_pixels {
            tools.poster(&readable.path, at, images::THUMB_SIDE).await
        } else {
            None
        };
        drop(turn);
        drop(readable);
        let thumb_key = match poster {
            Some(jpeg) => {
                let thumb_key = format!("{key}.thumb.jpg");
                self.objects.put(&thumb_key, Bytes::from(jpeg)).await?;
                Some(thumb_key)
            }
            None => None,
        };
        Ok(Facts {
            width: i32::try_from(facts.width).ok(),
            height: i32::try_from(facts.height).ok(),
            duration_ms: i64::try_from(facts.duration_ms).ok(),
            thumb_key,
        })
    }

    #[allow(clippy::too_many_arguments)]
    async fn insert_media(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        name: &str,
        ty: MediaType,
        size: u64,
        facts: &Facts,
        key: &str,
        folder: String,
        tags: &[String],
    ) -> Result<media_item::Model> {
        let ws = ctx.workspace_id();
        let txn = store::begin_write(&self.db).await?;
        lock_as_editor(&txn, ctx).await?;
        self.entitle(&txn, ws, Need::More(Limit::Storage, size))
            .await?;
        let item = media_item::ActiveModel {
            workspace_id: Set(ws.0),
            uploaded_by: Set(Some(actor.id)),
            kind: Set(ty.kind().as_str().to_owned()),
            mime: Set(ty.mime().to_owned()),
            filename: Set(name.to_owned()),
            size_bytes: Set(i64::try_from(size).unwrap_or(i64::MAX)),
            width: Set(facts.width),
            height: Set(facts.height),
            object_key: Set(key.to_owned()),
            thumb_key: Set(facts.thumb_key.clone()),
            folder: Set(folder),
            tags: Set(stored_tags(tags)),
            provenance: Set("uploaded".to_owned()),
            ai_provider: Set(None),
            ai_prompt: Set(None),
            ai_model: Set(None),
            reviewed_by: Set(None),
            reviewed_at: Set(None),
            duration_ms: Set(facts.duration_ms),
            created_at: Set(crate::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        activity::record(
            &txn,
            ws,
            Some(actor),
            activity::Entry {
                action: "media.uploaded",
                object_type: "media",
                object_id: Some(item.id),
                summary: format!("uploaded “{name}” ({})", human_size(size)),
            },
        )
        .await?;
        txn.commit().await?;
        Ok(item)
    }

    /// Which of the files `ids` of the workspace have a thumbnail.
    pub async fn with_thumbnails(
        &self,
        ws: WorkspaceId,
        ids: &[i64],
    ) -> Result<std::collections::HashSet<i64>> {
        if ids.is_empty() {
            return Ok(Default::default());
        }
        Ok(media_item::Entity::find()
            .filter(media_item::Column::WorkspaceId.eq(ws.0))
            .filter(media_item::Column::Id.is_in(ids.iter().copied()))
            .filter(media_item::Column::ThumbKey.is_not_null())
            .all(&self.db)
            .await?
            .into_iter()
            .map(|item| item.id)
            .collect())
    }

    /// The library's files that match `filter`, newest first.
    pub async fn media_of(
        &self,
        ws: WorkspaceId,
        filter: &MediaFilter,
    ) -> Result<Vec<media_item::Model>> {
        let typed = filter.q.trim().chars().count();
        if typed > SEARCH_LIMIT {
            return Err(ServiceError::invalid(
                "q",
                format!(
                    "Search for at most {SEARCH_LIMIT} characters; this search has {typed}. \
                     A word or two of a file name, folder or tag is enough."
                ),
            ));
        }
        let mut query = media_item::Entity::find().filter(media_item::Column::WorkspaceId.eq(ws.0));
        use sea_orm::sea_query::ExprTrait;
        for word in filter.q.split_whitespace().take(5) {
            let pattern = format!("%{}%", word.to_lowercase().replace(['%', '_'], ""));
            query = query.filter(
                Condition::any()
                    .add(
                        Expr::expr(Func::lower(Expr::col(media_item::Column::Filename)))
                            .like(pattern.clone()),
                    )
                    .add(media_item::Column::Tags.like(pattern.clone()))
                    .add(
                        Expr::expr(Func::lower(Expr::col(media_item::Column::Folder)))
                            .like(pattern),
                    ),
            );
        }
        if let Some(folder) = &filter.folder {
            query = query.filter(media_item::Column::Folder.eq(folder.as_str()));
        }
        if let Some(kind) = filter.kind {
            query = query.filter(media_item::Column::Kind.eq(kind.as_str()));
        }
        Ok(query
            .order_by_desc(media_item::Column::Id)
            .limit(500)
            .all(&self.db)
            .await?)
    }

    /// The folders in use, by name.
    pub async fn media_folders(&self, ws: WorkspaceId) -> Result<Vec<String>> {
        Ok(media_item::Entity::find()
            .select_only()
            .column(media_item::Column::Folder)
            .distinct()
            .filter(media_item::Column::WorkspaceId.eq(ws.0))
            .filter(media_item::Column::Folder.ne(""))
            .order_by_asc(media_item::Column::Folder)
            .into_tuple()
            .all(&self.db)
            .await?)
    }

    pub async fn media_item(&self, ws: WorkspaceId, id: MediaId) -> Result<media_item::Model> {
        media_in(&self.db, ws, id.0).await
    }

    /// The posts that carry a file.
    pub async fn media_usage(&self, ws: WorkspaceId, id: MediaId) -> Result<Vec<post::Model>> {
        let item = self.media_item(ws, id).await?;
        Ok(post::Entity::find()
            .filter(carrying(item.id))
            .order_by_desc(post::Column::Id)
            .all(&self.db)
            .await?)
    }

    /// Changes a file's folder and tags.
    #[tracing::instrument(skip_all, fields(workspace = ctx.workspace.id, media = id.0))]
    pub async fn update_media(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        id: MediaId,
        meta: &UploadMeta,
    ) -> Result<()> {
        let folder =
            media::parse_folder(&meta.folder).map_err(|e| ServiceError::invalid("folder", e.0))?;
        let tags = media::parse_tags(&meta.tags).map_err(|e| ServiceError::invalid("tags", e.0))?;
        let ws = ctx.workspace_id();
        let txn = store::begin_write(&self.db).await?;
        lock_as_editor(&txn, ctx).await?;
        let item = media_in(&txn, ws, id.0).await?;
        let mut row: media_item::ActiveModel = item.clone().into();
        row.folder = Set(folder);
        row.tags = Set(stored_tags(&tags));
        row.update(&txn).await?;
        activity::record(
            &txn,
            ws,
            Some(actor),
            activity::Entry {
                action: "media.updated",
                object_type: "media",
                object_id: Some(item.id),
                summary: format!("changed the folder and tags of “{}”", item.filename),
            },
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Deletes a file and its stored bytes. A file that a post still waiting to go out carries
    /// is refused; published posts keep their record without it.
    #[tracing::instrument(skip_all, fields(workspace = ctx.workspace.id, media = id.0))]
    pub async fn delete_media(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        id: MediaId,
    ) -> Result<()> {
        let ws = ctx.workspace_id();
        let txn = store::begin_write(&self.db).await?;
        lock_as_editor(&txn, ctx).await?;
        let item = media_in(&txn, ws, id.0).await?;
        let waiting = post::Entity::find()
            .filter(carrying(item.id))
            // Every post that may still send it (drafts, scheduled, failed, unconfirmed or partly
            // published ones can be retried); fully published posts keep a record without it.
            .filter(post::Column::State.ne(store::entities::states::PostState::Published))
            .count(&txn)
            .await?;
        if waiting > 0 {
            return Err(ServiceError::Forbidden(format!(
                "“{}” is in {} that have not all gone out yet. Remove it from them first.",
                item.filename,
                domain::counted(waiting, "post", "posts")
            )));
        }
        media_item::Entity::delete_by_id(item.id).exec(&txn).await?;
        activity::record(
            &txn,
            ws,
            Some(actor),
            activity::Entry {
                action: "media.deleted",
                object_type: "media",
                object_id: Some(item.id),
                summary: format!("deleted “{}”", item.filename),
            },
        )
        .await?;
        txn.commit().await?;
        // The row is gone first, so no page links to bytes that no longer exist; a failure
        // here leaves an orphan file, which the log names.
        for key in std::iter::once(&item.object_key).chain(item.thumb_key.as_ref()) {
            if let Err(err) = self.objects.delete(key).await {
                tracing::error!(error = ?err, media = item.id, "could not delete a media file");
            }
        }
        Ok(())
    }

    /// An address a platform can fetch the file from, valid for the configured time: the
    /// store's own signed URL (S3), or this server's.
    pub async fn public_media_url(&self, item: &media_item::Model) -> String {
        let ttl = self.media_limits.url_ttl;
        if let Some(url) = self.objects.presigned_get(&item.object_key, ttl).await {
            return url;
        }
        let expires =
            (crate::now() + chrono::Duration::from_std(ttl).unwrap_or_default()).timestamp();
        let sig = self
            .keys
            .mac("media", format!("{}:{expires}", item.id).as_bytes());
        format!("{}/media/{}/{expires}/{sig}", self.base_url, item.id)
    }

    /// The file behind a signed address, if the signature holds and has not expired.
    pub async fn media_by_signature(
        &self,
        id: MediaId,
        expires: i64,
        sig: &str,
    ) -> Result<media_item::Model> {
        let valid = self
            .keys
            .verify("media", format!("{id}:{expires}").as_bytes(), sig);
        if !valid || expires < crate::now().timestamp() {
            return Err(ServiceError::NotFound);
        }
        media_item::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(ServiceError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::images::megapixels;
    use super::*;

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_size(10 * 1024 * 1024), "10 MB");
        assert_eq!(human_size(1024 * 1024 * 1024), "1 GB");
        assert_eq!(human_size(1536 * 1024), "1.5 MB");
        assert_eq!(human_size(2048), "2 KB");
        assert_eq!(human_size(12), "12 bytes");
    }

    fn png(width: u32, height: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 7])
        });
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn an_image_over_the_budget_is_refused_from_its_header_alone() {
        // The pixel data is destroyed: decoding would fail, so a refusal for the size shows
        // that the size was judged before any decoding.
        let mut bytes = png(300, 200);
        let idat = bytes.windows(4).position(|w| w == b"IDAT").unwrap() + 4;
        for b in &mut bytes[idat..idat + 20] {
            *b = 0xff;
        }
        let refused = describe_image(&bytes, MediaType::Png, 59_999).unwrap_err();
        assert_eq!(
            refused,
            ImageRefusal::TooManyPixels {
                width: 300,
                height: 200,
                limit: 59_999
            }
        );
        assert_eq!(
            refused.message("big.png", MediaType::Png),
            "“big.png” is 300 × 200 pixels; the limit is 0.1 megapixels. Make it smaller and \
             upload it again. Nothing was saved."
        );
        // Within the budget the same file is decoded, and its damage found.
        let unreadable = describe_image(&bytes, MediaType::Png, 60_000).unwrap_err();
        assert_eq!(unreadable, ImageRefusal::Unreadable);
        assert_eq!(
            unreadable.message("big.png", MediaType::Png),
            "“big.png” could not be read as a PNG image. Export it again. Nothing was saved."
        );
    }

    #[test]
    fn an_image_within_the_budget_gets_its_thumbnail() {
        let made = describe_image(&png(640, 480), MediaType::Png, 307_200).unwrap();
        assert_eq!((made.width, made.height), (640, 480));
        let thumb = image::load_from_memory(&made.thumbnail).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (320, 240));
        assert_eq!(megapixels(48_000_000), "48 megapixels");
        assert_eq!(megapixels(1_000_000), "1 megapixel");
        assert_eq!(decode_budget(48_000_000), 192_000_000 + 32 * 1024 * 1024);
    }

    #[test]
    fn a_person_holds_at_most_the_limit_of_upload_slots() {
        let slots = UploadSlots::default();
        let ada = domain::UserId(1);
        let held: Vec<_> = (0..2).filter_map(|_| slots.try_take(ada, 2)).collect();
        assert_eq!(held.len(), 2);
        assert!(slots.try_take(ada, 2).is_none());
        assert!(slots.try_take(domain::UserId(2), 2).is_some());
        drop(held);
        assert_eq!(slots.running(ada), 0);
        assert!(slots.try_take(ada, 2).is_some());
    }

    #[test]
    fn tags_are_stored_between_commas() {
        assert_eq!(stored_tags(&["a".into(), "b c".into()]), ",a,b c,");
        assert_eq!(stored_tags(&[]), "");
    }
}

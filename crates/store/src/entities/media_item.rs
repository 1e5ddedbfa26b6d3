use sea_orm::entity::prelude::*;

/// A file of a workspace's media library. The bytes live in the object store under
/// `object_key` (and a JPEG thumbnail of an image under `thumb_key`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "media_items")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub workspace_id: i64,
    pub uploaded_by: Option<i64>,
    /// `image` or `video`.
    pub kind: String,
    pub mime: String,
    pub filename: String,
    pub size_bytes: i64,
    pub width: Option<i32>,
    pub height: Option<i32>,
    #[sea_orm(unique)]
    pub object_key: String,
    pub thumb_key: Option<String>,
    /// Empty when the file is in no folder.
    pub folder: String,
    /// Lower-case tags joined by commas, each also surrounded by commas (`,spring,sale,`) so
    /// that one tag can be matched with `LIKE '%,tag,%'`.
    pub tags: String,
    /// `uploaded` or `ai`.
    pub provenance: String,
    pub ai_provider: Option<String>,
    pub ai_prompt: Option<String>,
    pub ai_model: Option<String>,
    /// Who looked at an AI-made file and marked it fit to publish, and when (until then no
    /// post carrying it can be scheduled).
    pub reviewed_by: Option<i64>,
    pub reviewed_at: Option<DateTimeUtc>,
    /// A video's length in milliseconds, as ffprobe read it (none for images, without ffmpeg,
    /// or when it could not be read).
    pub duration_ms: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

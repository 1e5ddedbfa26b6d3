use sea_orm::entity::prelude::*;

/// One request of the media library's Generate tab: what was asked (`prompt`, and the style,
/// shape, model, length or source image as JSON in `options`) of which provider and model, by whom, how far it
/// has got, how it ended and the library file it made.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "media_generations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub workspace_id: i64,
    pub requested_by: Option<i64>,
    /// `image` or `video`.
    pub kind: String,
    pub provider: String,
    pub model: String,
    pub prompt: String,
    pub options: String,
    /// `queued`, `running`, `done`, `failed` or `cancelled`.
    pub state: String,
    /// 0–100.
    pub progress: i32,
    /// Why it failed, in words for the person who asked.
    pub outcome: Option<String>,
    pub media_id: Option<i64>,
    /// The month (`YYYY-MM`) its quota was counted in, until it is given back.
    pub counted_in: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
    /// A video's task at the provider, once it was started.
    pub provider_task: Option<String>,
    /// When the provider's task was started (a video's time limit counts from then).
    pub sent_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

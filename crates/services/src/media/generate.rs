//! AI media: the library's Generate tab. A person writes a prompt, picks a style and a shape;
//! the request is recorded and counted against the plan's monthly AI images at once, and a
//! background job ([`GenerateMedia`]) asks the provider, frames the picture to the chosen shape
//! and stores it in the library with its provenance (AI, provider, model, prompt, who, when).
//!
//! A generated file is "AI-generated — review before publishing": no post carrying it can be
//! scheduled until a person has looked at it and marked it reviewed (recorded, with who and
//! when). A generation that fails or is cancelled gives its count back.
//!
//! The job is durable: it survives a restart or a killed worker (the lease runs out and another
//! worker takes it). The stored file's key is the generation's own, so a second run after a
//! crash replaces the first run's bytes instead of leaving them behind, and the library row and
//! the generation's end are written in one transaction, so there is never a second file.

use super::images::{DECODING, frame_image};
use super::stored_tags;
use crate::ai::AiState;
use crate::jobs::{Job, JobError};
use crate::plans::Need;
use crate::workspaces::{Membership, lock_as_editor, lock_workspace};
use crate::{Result, ServiceError, Services, activity, queue};
use bytes::Bytes;
use domain::WorkspaceId;
use domain::media::MediaType;
use domain::plans::Limit;
use providers::ai::AiError;
use providers::ai::images::{ImageFormat, ImageQuality, ImageRequest, ImageSize};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use store::entities::{job, media_generation, media_item, user};

/// The longest prompt taken, in characters (the GPT image models take far more; a prompt for
/// one picture does not need it).
pub const PROMPT_LIMIT: usize = 4_000;

/// The storage a generated image is expected to take at most (a 1536 × 1024 JPEG is well
/// under it), checked before the request is accepted.
pub const ROOM_FOR_AN_IMAGE: u64 = 2 * 1024 * 1024;

/// A generation still open this long after its last change has lost its job (given up while
/// the database could not be written): housekeeping ends it and gives its count back.
pub const STALE_AFTER: chrono::Duration = chrono::Duration::days(1);

/// How long generations are listed and kept; the file keeps its own provenance.
pub const GENERATIONS_KEPT: chrono::Duration = chrono::Duration::days(30);

/// The look of a generated image: a sentence added to the prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Style {
    Realistic,
    Illustration,
    Minimal,
    Cinematic,
}

impl Style {
    pub const ALL: [Style; 4] = [
        Style::Realistic,
        Style::Illustration,
        Style::Minimal,
        Style::Cinematic,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Realistic => "realistic",
            Self::Illustration => "illustration",
            Self::Minimal => "minimal",
            Self::Cinematic => "cinematic",
        }
    }

    pub fn parse(raw: &str) -> Option<Style> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Realistic => "Realistic",
            Self::Illustration => "Illustration",
            Self::Minimal => "Minimal",
            Self::Cinematic => "Cinematic",
        }
    }

    /// What is added to the prompt.
    fn direction(self) -> &'static str {
        match self {
            Self::Realistic => {
                "Style: a realistic photograph with natural light, true colours and fine detail."
            }
            Self::Illustration => {
                "Style: a clean digital illustration with clear shapes and a cohesive palette."
            }
            Self::Minimal => {
                "Style: minimal, with one clear subject, plenty of empty space and few colours."
            }
            Self::Cinematic => {
                "Style: a cinematic still with dramatic light, depth of field and a wide-screen \
                 composition."
            }
        }
    }
}

/// The shape of a generated image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Aspect {
    #[serde(rename = "1:1")]
    Square,
    #[serde(rename = "4:5")]
    Portrait,
    #[serde(rename = "16:9")]
    Wide,
    /// Reels and stories.
    #[serde(rename = "9:16")]
    Vertical,
}

impl Aspect {
    pub const ALL: [Aspect; 4] = [
        Aspect::Square,
        Aspect::Portrait,
        Aspect::Wide,
        Aspect::Vertical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Square => "1:1",
            Self::Portrait => "4:5",
            Self::Wide => "16:9",
            Self::Vertical => "9:16",
        }
    }

    pub fn parse(raw: &str) -> Option<Aspect> {
        Self::ALL.into_iter().find(|a| a.as_str() == raw)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Square => "Square 1:1 (feed)",
            Self::Portrait => "Portrait 4:5 (feed)",
            Self::Wide => "Wide 16:9",
            Self::Vertical => "Vertical 9:16 (stories and reels)",
        }
    }

    /// Width and height of the ratio.
    pub fn ratio(self) -> (u32, u32) {
        match self {
            Self::Square => (1, 1),
            Self::Portrait => (4, 5),
            Self::Wide => (16, 9),
            Self::Vertical => (9, 16),
        }
    }

    /// The provider's size the shape is cut from: the nearest one at least as wide (for a wide
    /// shape) or as tall (for a tall one).
    fn size(self) -> ImageSize {
        match self {
            Self::Square => ImageSize::Square,
            Self::Portrait | Self::Vertical => ImageSize::Portrait,
            Self::Wide => ImageSize::Landscape,
        }
    }
}

/// A request for an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageAsk {
    pub prompt: String,
    pub style: Style,
    pub aspect: Aspect,
}

/// What a generation's `options` hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageOptions {
    pub style: Style,
    pub aspect: Aspect,
}

/// Where a generation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GenerationState {
    Queued,
    Running,
    /// Made this library file.
    Done(i64),
    Failed,
    Cancelled,
}

impl GenerationState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done(_) => "done",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn of(row: &media_generation::Model) -> GenerationState {
        match row.state.as_str() {
            "queued" => Self::Queued,
            "running" => Self::Running,
            "done" => Self::Done(row.media_id.unwrap_or_default()),
            "cancelled" => Self::Cancelled,
            _ => Self::Failed,
        }
    }

    /// Still to end.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Queued | Self::Running)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Queued => "Waiting to start",
            Self::Running => "Generating",
            Self::Done(_) => "Done",
            Self::Failed => "Failed",
            Self::Cancelled => "Cancelled",
        }
    }
}

/// The prompt as sent: the person's words, then the style's direction.
pub fn styled_prompt(prompt: &str, style: Style) -> String {
    format!("{}\n\n{}", prompt.trim(), style.direction())
}

/// The job that makes one generation.
#[derive(Debug, Serialize, Deserialize)]
pub struct Generation {
    generation: i64,
}

impl queue::Payload for Generation {
    const KIND: &'static str = "generate_media";
}

/// A file name from the prompt's first words: `ai-a-red-bicycle-by-the-sea-12.png`.
fn file_name(prompt: &str, id: i64) -> String {
    let words: Vec<String> = prompt
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(6)
        .map(str::to_lowercase)
        .collect();
    let mut stem = words.join("-");
    if let Some((cut, _)) = stem.char_indices().nth(48) {
        stem.truncate(cut);
    }
    if stem.is_empty() {
        format!("ai-image-{id}.jpg")
    } else {
        format!("ai-{stem}-{id}.jpg")
    }
}

async fn generation_in<C: sea_orm::ConnectionTrait>(
    conn: &C,
    ws: WorkspaceId,
    id: i64,
) -> Result<media_generation::Model> {
    media_generation::Entity::find_by_id(id)
        .filter(media_generation::Column::WorkspaceId.eq(ws.0))
        .one(conn)
        .await?
        .ok_or(ServiceError::NotFound)
}

impl Services {
    /// The image model, when the instance has one and the workspace has AI on.
    pub fn image_generation(&self, ctx: &Membership) -> bool {
        self.ai_state(ctx) == AiState::On && self.ai.as_ref().is_some_and(|ai| ai.images.is_some())
    }

    /// Records a request for an image and queues its job. The plan's monthly AI images are
    /// counted now (given back if it fails or is cancelled), so requests at once cannot go past
    /// them.
    #[tracing::instrument(skip_all, fields(workspace = ctx.workspace.id))]
    pub async fn request_image(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        ask: &ImageAsk,
    ) -> Result<media_generation::Model> {
        let images = match &self.ai {
            Some(ai) if self.image_generation(ctx) => ai.images.clone(),
            _ => None,
        }
        .ok_or(ServiceError::NotFound)?;
        if !ctx.role.can_publish() {
            return Err(ServiceError::Forbidden(
                "Viewers can see the media library but not add to it.".into(),
            ));
        }
        let prompt = ask.prompt.trim();
        if prompt.is_empty() {
            return Err(ServiceError::invalid(
                "prompt",
                "Describe the image you want: its subject, setting and mood.",
            ));
        }
        let typed = prompt.chars().count();
        if typed > PROMPT_LIMIT {
            return Err(ServiceError::invalid(
                "prompt",
                format!("Write at most {PROMPT_LIMIT} characters; this prompt has {typed}."),
            ));
        }
        let ws = ctx.workspace_id();
        let now = crate::now();
        let txn = store::begin_write(&self.db).await?;
        lock_as_editor(&txn, ctx).await?;
        self.entitle(&txn, ws, Need::More(Limit::AiImages, 1))
            .await?;
        // Room for the file it makes, so that a full library is told now and not after the
        // provider has been paid for an image that cannot be kept.
        self.entitle(&txn, ws, Need::More(Limit::Storage, ROOM_FOR_AN_IMAGE))
            .await?;
        let month = crate::plans::month_of(&txn, ws, now).await?;
        crate::plans::count_up(&txn, ws, Limit::AiImages, &month, 1, now).await?;
        let options = ImageOptions {
            style: ask.style,
            aspect: ask.aspect,
        };
        let row = media_generation::ActiveModel {
            workspace_id: Set(ws.0),
            requested_by: Set(Some(actor.id)),
            kind: Set("image".to_owned()),
            provider: Set(images.provider().to_owned()),
            model: Set(images.model().to_owned()),
            prompt: Set(prompt.to_owned()),
            options: Set(serde_json::to_string(&options).map_err(anyhow::Error::from)?),
            state: Set(GenerationState::Queued.as_str().to_owned()),
            progress: Set(0),
            outcome: Set(None),
            media_id: Set(None),
            counted_in: Set(Some(month)),
            created_at: Set(now),
            updated_at: Set(now),
            finished_at: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let mut job = queue::NewJob::of(&Generation { generation: row.id })?;
        job.workspace_id = Some(ws.0);
        job.subject = Some(format!("media_generation:{}", row.id));
        job.max_attempts = 4;
        queue::enqueue(&txn, job).await?;
        activity::record(
            &txn,
            ws,
            Some(actor),
            activity::Entry {
                action: "media.generation_requested",
                object_type: "media_generation",
                object_id: Some(row.id),
                summary: format!(
                    "asked {} ({}) for a {} {} image",
                    row.provider,
                    row.model,
                    ask.style.label().to_lowercase(),
                    ask.aspect.as_str()
                ),
            },
        )
        .await?;
        txn.commit().await?;
        self.wake.notify_one();
        Ok(row)
    }

    /// The workspace's generations of the last 30 days, newest first.
    pub async fn generations_of(&self, ws: WorkspaceId) -> Result<Vec<media_generation::Model>> {
        Ok(media_generation::Entity::find()
            .filter(media_generation::Column::WorkspaceId.eq(ws.0))
            .filter(media_generation::Column::CreatedAt.gte(crate::now() - GENERATIONS_KEPT))
            .order_by_desc(media_generation::Column::Id)
            .limit(60)
            .all(&self.db)
            .await?)
    }

    pub async fn generation(&self, ws: WorkspaceId, id: i64) -> Result<media_generation::Model> {
        generation_in(&self.db, ws, id).await
    }

    /// Cancels a generation that has not started (an image request cannot be stopped at the
    /// provider once sent); its count is given back.
    #[tracing::instrument(skip_all, fields(workspace = ctx.workspace.id, generation = id))]
    pub async fn cancel_generation(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        id: i64,
    ) -> Result<()> {
        let ws = ctx.workspace_id();
        let txn = store::begin_write(&self.db).await?;
        lock_as_editor(&txn, ctx).await?;
        let row = generation_in(&txn, ws, id).await?;
        match GenerationState::of(&row) {
            GenerationState::Queued => {}
            GenerationState::Running => {
                return Err(ServiceError::Forbidden(
                    "This image is already being made and the provider cannot stop it; it will \
                     be in the library in a moment, and you can delete it there."
                        .into(),
                ));
            }
            _ => {
                return Err(ServiceError::Forbidden(
                    "This generation has already ended.".into(),
                ));
            }
        }
        finish(
            &txn,
            &row,
            GenerationState::Cancelled,
            None,
            Count::GivenBack,
        )
        .await?;
        queue_withdraw(&txn, row.id).await?;
        activity::record(
            &txn,
            ws,
            Some(actor),
            activity::Entry {
                action: "media.generation_cancelled",
                object_type: "media_generation",
                object_id: Some(row.id),
                summary: "cancelled an image generation before it started".to_owned(),
            },
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Records that a person looked at an AI-made file and found it fit to publish: from now on
    /// posts carrying it can be scheduled.
    #[tracing::instrument(skip_all, fields(workspace = ctx.workspace.id, media = id.0))]
    pub async fn review_media(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        id: domain::MediaId,
    ) -> Result<()> {
        if !ctx.role.can_publish() {
            return Err(ServiceError::Forbidden(
                "Viewers cannot mark files reviewed.".into(),
            ));
        }
        let ws = ctx.workspace_id();
        let txn = store::begin_write(&self.db).await?;
        lock_as_editor(&txn, ctx).await?;
        let item = super::media_in(&txn, ws, id.0).await?;
        if item.provenance != "ai" {
            return Err(ServiceError::Forbidden(
                "Only AI-generated files need a review.".into(),
            ));
        }
        if item.reviewed_at.is_some() {
            return Ok(());
        }
        let mut row: media_item::ActiveModel = item.clone().into();
        row.reviewed_by = Set(Some(actor.id));
        row.reviewed_at = Set(Some(crate::now()));
        row.update(&txn).await?;
        activity::record(
            &txn,
            ws,
            Some(actor),
            activity::Entry {
                action: "media.reviewed",
                object_type: "media",
                object_id: Some(item.id),
                summary: format!(
                    "reviewed the AI-generated “{}” and marked it fit to publish",
                    item.filename
                ),
            },
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }
}

/// Where an AI-made file came from and who reviewed it, for its page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaProvenance {
    pub provider: String,
    pub model: String,
    pub prompt: String,
    /// Who asked for it (none once they deleted their account).
    pub asked_by: Option<String>,
    pub made_at: chrono::DateTime<chrono::Utc>,
    /// Who marked it fit to publish, and when; none until then.
    pub reviewed: Option<(Option<String>, chrono::DateTime<chrono::Utc>)>,
}

impl Services {
    /// The provenance of an AI-made file (none for an uploaded one).
    pub async fn media_provenance(
        &self,
        item: &media_item::Model,
    ) -> Result<Option<MediaProvenance>> {
        if item.provenance != "ai" {
            return Ok(None);
        }
        let name = |id: Option<i64>| async move {
            match id {
                Some(id) => Ok::<_, ServiceError>(
                    user::Entity::find_by_id(id)
                        .one(&self.db)
                        .await?
                        .map(|u| u.name),
                ),
                None => Ok(None),
            }
        };
        Ok(Some(MediaProvenance {
            provider: item.ai_provider.clone().unwrap_or_default(),
            model: item.ai_model.clone().unwrap_or_default(),
            prompt: item.ai_prompt.clone().unwrap_or_default(),
            asked_by: name(item.uploaded_by).await?,
            made_at: item.created_at,
            reviewed: match item.reviewed_at {
                Some(at) => Some((name(item.reviewed_by).await?, at)),
                None => None,
            },
        }))
    }
}

/// Withdraws a generation's queued job.
async fn queue_withdraw<C: sea_orm::ConnectionTrait>(conn: &C, generation: i64) -> Result<()> {
    job::Entity::delete_many()
        .filter(job::Column::Subject.eq(format!("media_generation:{generation}")))
        .filter(job::Column::Kind.eq(<Generation as queue::Payload>::KIND))
        .filter(job::Column::State.eq(store::entities::states::JobState::Queued))
        .exec(conn)
        .await?;
    Ok(())
}

/// Whether an ended generation's count is given back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Count {
    Kept,
    GivenBack,
}

/// Ends a generation, giving its count back when told (it was not made, or not sent).
async fn finish<C: sea_orm::ConnectionTrait>(
    conn: &C,
    row: &media_generation::Model,
    state: GenerationState,
    outcome: Option<String>,
    count: Count,
) -> Result<()> {
    let now = crate::now();
    let mut active: media_generation::ActiveModel = row.clone().into();
    if let GenerationState::Done(media) = state {
        active.media_id = Set(Some(media));
        active.progress = Set(100);
    } else if count == Count::GivenBack
        && let Some(month) = &row.counted_in
    {
        let ws = WorkspaceId(row.workspace_id);
        crate::plans::count_down(conn, ws, Limit::AiImages, month, 1).await?;
        active.counted_in = Set(None);
    }
    active.state = Set(state.as_str().to_owned());
    active.outcome = Set(outcome);
    active.updated_at = Set(now);
    active.finished_at = Set(Some(now));
    active.update(conn).await?;
    Ok(())
}

/// Deletes generations older than [`GENERATIONS_KEPT`] (the daily retention run).
pub(crate) async fn purge_generations<C: sea_orm::ConnectionTrait>(
    conn: &C,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<u64> {
    let stale = media_generation::Entity::find()
        .filter(media_generation::Column::State.is_in(["queued", "running"]))
        .filter(media_generation::Column::UpdatedAt.lt(now - STALE_AFTER))
        .all(conn)
        .await?;
    for row in stale {
        let message = "This generation stopped without an answer. Try again; your monthly \
                       count was given back."
            .to_owned();
        let failed = GenerationState::Failed;
        finish(conn, &row, failed, Some(message), Count::GivenBack).await?;
    }
    let res = media_generation::Entity::delete_many()
        .filter(media_generation::Column::CreatedAt.lt(now - GENERATIONS_KEPT))
        .filter(media_generation::Column::State.is_not_in(["queued", "running"]))
        .exec(conn)
        .await?;
    Ok(res.rows_affected)
}

/// The `generate_media` job.
pub struct GenerateMedia;

impl Job for GenerateMedia {
    type Payload = Generation;

    async fn run(
        services: &Services,
        job: &job::Model,
        payload: Generation,
    ) -> Result<(), JobError> {
        match make(services, payload.generation).await {
            Ok(()) => Ok(()),
            Err(Failure::Ends(message, count)) => {
                end_failed(services, payload.generation, message, count).await?;
                Ok(())
            }
            Err(Failure::Passing(why, wait)) => {
                if job.attempts >= job.max_attempts {
                    end_failed(
                        services,
                        payload.generation,
                        "The AI provider could not make the image after several tries. Try \
                         again later; your monthly count was given back."
                            .to_owned(),
                        Count::GivenBack,
                    )
                    .await?;
                    return Err(JobError::Permanent(why));
                }
                Err(match wait {
                    Some(wait) => JobError::RetryAfter(why, wait),
                    None => JobError::Retry(why),
                })
            }
        }
    }
}

/// Why a run did not make the image.
enum Failure {
    /// It will not work on another try: the generation fails with this message (and its
    /// count is given back, or kept when the provider made the image).
    Ends(String, Count),
    /// It may work later (after this wait, when the provider said).
    Passing(String, Option<std::time::Duration>),
}

impl From<ServiceError> for Failure {
    fn from(err: ServiceError) -> Self {
        Failure::Passing(format!("{err:#}"), None)
    }
}

async fn end_failed(
    services: &Services,
    id: i64,
    message: String,
    count: Count,
) -> Result<(), JobError> {
    let ended = async {
        let txn = store::begin_write(&services.db).await?;
        if let Some(row) = media_generation::Entity::find_by_id(id).one(&txn).await? {
            lock_workspace(&txn, WorkspaceId(row.workspace_id)).await?;
            if GenerationState::of(&row).is_open() {
                finish(&txn, &row, GenerationState::Failed, Some(message), count).await?;
            }
        }
        txn.commit().await?;
        Ok::<_, ServiceError>(())
    };
    ended.await.map_err(JobError::retry)
}

/// Marks a generation running (its first run) or moves its progress on; false when it has
/// ended meanwhile (cancelled before this run started).
async fn advance(services: &Services, id: i64, progress: i32) -> Result<bool> {
    use sea_orm::sea_query::Expr;
    let res = media_generation::Entity::update_many()
        .col_expr(
            media_generation::Column::State,
            Expr::value(GenerationState::Running.as_str()),
        )
        .col_expr(media_generation::Column::Progress, Expr::value(progress))
        .col_expr(
            media_generation::Column::UpdatedAt,
            Expr::value(crate::now()),
        )
        .filter(media_generation::Column::Id.eq(id))
        .filter(media_generation::Column::State.is_in(["queued", "running"]))
        .exec(&services.db)
        .await?;
    Ok(res.rows_affected > 0)
}

async fn start(services: &Services, id: i64) -> Result<bool> {
    advance(services, id, 10).await
}

/// What the person reads when the provider did not make the image.
fn provider_failure(provider: &str, err: AiError) -> Failure {
    match err {
        AiError::Refused { reason } => Failure::Ends(
            format!(
                "{provider} refused this prompt: {reason} Change the prompt and try again; your \
                 monthly count was given back."
            ),
            Count::GivenBack,
        ),
        AiError::Credentials(why) => {
            tracing::error!(error = %why, "the image provider refused this instance's key");
            Failure::Ends(
                "The AI provider refused this instance's key. Tell the operator of this \
                 instance; your monthly count was given back."
                    .to_owned(),
                Count::GivenBack,
            )
        }
        AiError::Invalid(why) => {
            // A request it refused as malformed, or an answer that cannot be read: asking
            // again would be refused (and paid for) again.
            tracing::warn!(error = %why, "the image provider's answer could not be used");
            Failure::Ends(
                "The AI provider's answer could not be used. Try again with another prompt; \
                 your monthly count was given back."
                    .to_owned(),
                Count::GivenBack,
            )
        }
        AiError::Unavailable(why) => {
            tracing::warn!(error = %why, "the image provider failed");
            Failure::Passing(why, None)
        }
        AiError::RateLimited { retry_after } => {
            Failure::Passing("rate limited".to_owned(), Some(retry_after))
        }
        other => Failure::Passing(other.to_string(), None),
    }
}

/// One run of a generation: ask, frame, store, record.
async fn make(services: &Services, id: i64) -> Result<(), Failure> {
    let Some(row) = media_generation::Entity::find_by_id(id)
        .one(&services.db)
        .await
        .map_err(ServiceError::from)?
    else {
        // Its workspace was deleted.
        return Ok(());
    };
    if !GenerationState::of(&row).is_open() {
        return Ok(());
    }
    let Some(images) = services.ai.as_ref().and_then(|ai| ai.images.clone()) else {
        return Err(Failure::Ends(
            "This instance no longer generates images; nothing was sent, and your monthly \
             count was given back."
                .to_owned(),
            Count::GivenBack,
        ));
    };
    // Sent only while the workspace still agrees to this provider and model (AI can be turned
    // off, or the operator can change the provider, while a request waits).
    let agreed = crate::ai::agreed_fingerprint(&services.db, WorkspaceId(row.workspace_id)).await?;
    let current = services.ai.as_ref().map(|ai| ai.disclosure.fingerprint());
    if agreed.is_none()
        || agreed != current
        || images.provider() != row.provider
        || images.model() != row.model
    {
        return Err(Failure::Ends(
            "AI was turned off in this workspace, or this instance's AI provider changed, \
             before the image was made: nothing was sent, and your monthly count was given \
             back. Ask again to use the provider now configured."
                .to_owned(),
            Count::GivenBack,
        ));
    }
    let options: ImageOptions = serde_json::from_str(&row.options).map_err(|_| {
        Failure::Ends(
            "The generation's options could not be read.".to_owned(),
            Count::GivenBack,
        )
    })?;
    // Started, unless it was cancelled since it was claimed.
    if !start(services, id).await? {
        return Ok(());
    }
    let request = ImageRequest {
        prompt: styled_prompt(&row.prompt, options.style),
        n: 1,
        size: options.aspect.size(),
        quality: ImageQuality::Medium,
        background: providers::ai::images::Background::Auto,
        format: ImageFormat::Png,
    };
    let made = images
        .generate(&request)
        .await
        .map_err(|e| provider_failure(&row.provider, e))?;
    let Some(picture) = made.images.into_iter().next() else {
        return Err(Failure::Passing("the provider sent no image".into(), None));
    };
    advance(services, id, 70).await?;
    let ty = MediaType::from_mime(picture.mime)
        .ok_or_else(|| Failure::Passing("the provider sent an unknown type".into(), None))?;
    let max_pixels = services.media_limits.max_pixels;
    let turn = DECODING
        .acquire()
        .await
        .map_err(|e| ServiceError::from(anyhow::anyhow!("the decoding turns were closed: {e}")))?;
    let framed = tokio::task::spawn_blocking(move || {
        let framed = frame_image(&picture.bytes, ty, max_pixels, options.aspect.ratio());
        drop(turn);
        framed
    })
    .await
    .map_err(|e| ServiceError::from(anyhow::anyhow!("framing task failed: {e}")))?
    .map_err(|why| {
        tracing::warn!(refusal = ?why, "a generated image could not be read");
        Failure::Ends(
            "The image the AI provider sent could not be read. Try again; your monthly count \
             was given back."
                .to_owned(),
            Count::GivenBack,
        )
    })?;
    let ws = WorkspaceId(row.workspace_id);
    // The generation's own keys: a second run replaces the first one's bytes.
    let key = format!(
        "{}ai-{}.jpg",
        store::objects::workspace_prefix(ws.0),
        row.id
    );
    let thumb_key = format!("{key}.thumb.jpg");
    let size = framed.jpeg.len() as u64;
    services
        .objects
        .put(&key, Bytes::from(framed.jpeg))
        .await
        .map_err(ServiceError::from)?;
    services
        .objects
        .put(&thumb_key, Bytes::from(framed.described.thumbnail))
        .await
        .map_err(ServiceError::from)?;
    let recorded = record(
        services,
        &row,
        (&key, &thumb_key),
        size,
        (framed.described.width, framed.described.height),
    )
    .await;
    let keep = match &recorded {
        Ok(true) | Err(Failure::Passing(..)) => true,
        // Another run of the same job recorded these very keys: its file stays.
        Ok(false) => {
            media_item::Entity::find()
                .filter(media_item::Column::ObjectKey.eq(key.as_str()))
                .count(&services.db)
                .await
                .map_err(ServiceError::from)?
                > 0
        }
        Err(Failure::Ends(..)) => false,
    };
    match recorded {
        Ok(_) | Err(Failure::Passing(..)) if keep => recorded.map(|_| ()),
        _ => {
            // Cancelled, deleted or refused meanwhile: the bytes go.
            for k in [&key, &thumb_key] {
                if let Err(err) = services.objects.delete(k).await {
                    tracing::error!(error = ?err, "could not delete a generated file");
                }
            }
            recorded.map(|_| ())
        }
    }
}

/// Writes the library file and ends the generation, in one transaction. False when the
/// generation had already ended (cancelled, or finished by another run).
async fn record(
    services: &Services,
    row: &media_generation::Model,
    (key, thumb_key): (&str, &str),
    size: u64,
    (width, height): (u32, u32),
) -> Result<bool, Failure> {
    let ws = WorkspaceId(row.workspace_id);
    let txn = store::begin_write(&services.db)
        .await
        .map_err(ServiceError::from)?;
    lock_workspace(&txn, ws).await?;
    let Some(now_row) = media_generation::Entity::find_by_id(row.id)
        .one(&txn)
        .await
        .map_err(ServiceError::from)?
    else {
        return Ok(false);
    };
    if !GenerationState::of(&now_row).is_open() {
        return Ok(false);
    }
    match services
        .entitle(&txn, ws, Need::More(Limit::Storage, size))
        .await
    {
        Ok(()) => {}
        Err(ServiceError::PlanLimit { refusal, .. }) => {
            let message = format!("The image was made but not kept: {refusal}");
            // The provider made it: the count stays.
            let failed = GenerationState::Failed;
            finish(&txn, &now_row, failed, Some(message.clone()), Count::Kept).await?;
            txn.commit().await.map_err(ServiceError::from)?;
            return Err(Failure::Ends(message, Count::Kept));
        }
        Err(err) => return Err(err.into()),
    }
    let requester = match now_row.requested_by {
        Some(id) => user::Entity::find_by_id(id)
            .one(&txn)
            .await
            .map_err(ServiceError::from)?,
        None => None,
    };
    let name = file_name(&now_row.prompt, now_row.id);
    let item = media_item::ActiveModel {
        workspace_id: Set(ws.0),
        uploaded_by: Set(requester.as_ref().map(|u| u.id)),
        kind: Set("image".to_owned()),
        mime: Set(MediaType::Jpeg.mime().to_owned()),
        filename: Set(name.clone()),
        size_bytes: Set(i64::try_from(size).unwrap_or(i64::MAX)),
        width: Set(i32::try_from(width).ok()),
        height: Set(i32::try_from(height).ok()),
        object_key: Set(key.to_owned()),
        thumb_key: Set(Some(thumb_key.to_owned())),
        folder: Set(String::new()),
        tags: Set(stored_tags(&["ai".to_owned()])),
        provenance: Set("ai".to_owned()),
        ai_provider: Set(Some(now_row.provider.clone())),
        ai_prompt: Set(Some(now_row.prompt.clone())),
        ai_model: Set(Some(now_row.model.clone())),
        reviewed_by: Set(None),
        reviewed_at: Set(None),
        duration_ms: Set(None),
        created_at: Set(crate::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(ServiceError::from)?;
    finish(
        &txn,
        &now_row,
        GenerationState::Done(item.id),
        None,
        Count::Kept,
    )
    .await?;
    activity::record(
        &txn,
        ws,
        requester.as_ref(),
        activity::Entry {
            action: "media.generated",
            object_type: "media",
            object_id: Some(item.id),
            summary: format!(
                "generated “{name}” with {} ({}); it waits for a review before it can be \
                 published",
                now_row.provider, now_row.model
            ),
        },
    )
    .await?;
    txn.commit().await.map_err(ServiceError::from)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_come_from_the_prompt() {
        assert_eq!(
            file_name("A red bicycle, by the sea at dawn!", 12),
            "ai-a-red-bicycle-by-the-sea-12.jpg"
        );
        assert_eq!(file_name("¿¡…!?", 3), "ai-image-3.jpg");
        assert_eq!(file_name("Café au lait", 4), "ai-café-au-lait-4.jpg");
    }

    #[test]
    fn shapes_are_cut_from_the_nearest_size() {
        use super::super::images::framed_size;
        for (aspect, from, want) in [
            (Aspect::Square, (1024, 1024), (1024, 1024)),
            (Aspect::Portrait, (1024, 1536), (1024, 1280)),
            (Aspect::Vertical, (1024, 1536), (864, 1536)),
            (Aspect::Wide, (1536, 1024), (1536, 864)),
        ] {
            assert_eq!(aspect.size().as_str(), format!("{}x{}", from.0, from.1));
            assert_eq!(framed_size(from, aspect.ratio()), want, "{aspect:?}");
            assert_eq!(Aspect::parse(aspect.as_str()), Some(aspect));
        }
    }

    #[test]
    fn the_style_follows_the_prompt() {
        let sent = styled_prompt("  a lighthouse  ", Style::Minimal);
        assert!(sent.starts_with("a lighthouse\n\nStyle: minimal"), "{sent}");
        for style in Style::ALL {
            assert_eq!(Style::parse(style.as_str()), Some(style));
        }
    }
}

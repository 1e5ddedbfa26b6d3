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

use super::generations::{
    Count, Failure, GENERATIONS_KEPT, Generation, GenerationState, Made, NewGeneration, advance,
    end_failed, finish, generation_in, keep_made, provider_failure, queue_withdraw, start,
};
use super::images::{DECODING, frame_image};
use crate::ai::AiState;
use crate::jobs::{Job, JobError};
use crate::workspaces::{Membership, lock_as_editor};
use crate::{Result, ServiceError, Services, activity};
use bytes::Bytes;
use domain::WorkspaceId;
use domain::media::MediaType;
use domain::plans::Limit;
use providers::ai::images::{ImageFormat, ImageQuality, ImageRequest, ImageSize};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use store::entities::{job, media_generation, media_item, user};

/// The longest prompt taken, in characters (the GPT image models take far more; a prompt for
/// one picture does not need it).
pub const PROMPT_LIMIT: usize = 4_000;

/// The storage a generated image is expected to take at most (a 1536 × 1024 JPEG is well
/// under it), checked before the request is accepted.
pub const ROOM_FOR_AN_IMAGE: u64 = 2 * 1024 * 1024;

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

/// The prompt as sent: the person's words, then the style's direction.
pub fn styled_prompt(prompt: &str, style: Style) -> String {
    format!("{}\n\n{}", prompt.trim(), style.direction())
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
        let txn = store::begin_write(&self.db).await?;
        lock_as_editor(&txn, ctx).await?;
        let options = ImageOptions {
            style: ask.style,
            aspect: ask.aspect,
        };
        let new = NewGeneration {
            kind: "image",
            limit: Limit::AiImages,
            room: ROOM_FOR_AN_IMAGE,
            provider: images.provider().to_owned(),
            model: images.model().to_owned(),
            prompt: prompt.to_owned(),
            options: serde_json::to_string(&options).map_err(anyhow::Error::from)?,
            attempts: 4,
            summary: format!(
                "asked {} ({}) for a {} {} image",
                images.provider(),
                images.model(),
                ask.style.label().to_lowercase(),
                ask.aspect.as_str()
            ),
        };
        let row = super::generations::open(self, &txn, ws, actor, new).await?;
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

    /// Whether generation `row` can be cancelled now: it has not started, or it is a video whose
    /// provider stops tasks (or whose task is not sent yet).
    pub fn generation_cancellable(&self, row: &media_generation::Model) -> bool {
        match GenerationState::of(row) {
            GenerationState::Queued => true,
            GenerationState::Running => super::generate_video::stoppable(self, row),
            _ => false,
        }
    }

    /// Cancels a generation that has not started, or a video while it is being made (its task
    /// is stopped at the provider; an image request cannot be stopped once sent); its count is
    /// given back.
    #[tracing::instrument(skip_all, fields(workspace = ctx.workspace.id, generation = id))]
    pub async fn cancel_generation(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        id: i64,
    ) -> Result<()> {
        let ws = ctx.workspace_id();
        // A video's task is stopped at the provider first; when it cannot be, nothing changes
        // here and the person is told to try again.
        let seen = generation_in(&self.db, ws, id).await?;
        if ctx.role.can_publish() && GenerationState::of(&seen).is_open() {
            super::generate_video::stop_task(self, &seen).await?;
        }
        let txn = store::begin_write(&self.db).await?;
        lock_as_editor(&txn, ctx).await?;
        let row = generation_in(&txn, ws, id).await?;
        match GenerationState::of(&row) {
            GenerationState::Queued => {}
            GenerationState::Running if super::generate_video::stoppable(self, &row) => {}
            GenerationState::Running if row.kind == "image" => {
                return Err(ServiceError::Forbidden(
                    "This image is already being made and the provider cannot stop it; it will \
                     be in the library in a moment, and you can delete it there."
                        .into(),
                ));
            }
            GenerationState::Running => {
                let provider = super::generate_video::tracker_of(self, &row)
                    .map_or(row.provider.clone(), |t| t.tasks.provider().to_owned());
                return Err(ServiceError::Forbidden(format!(
                    "This {} is already being made and {provider} cannot stop it; it will be in \
                     the library when it is done, and you can delete it there.",
                    super::generations::noun(&row)
                )));
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
                summary: format!("cancelled a {} generation", row.kind),
            },
        )
        .await?;
        txn.commit().await?;
        // What a run stored of it (a reel's voice-over, say) goes too.
        super::generations::forget_files(self, id).await;
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
            Err(Failure::Later(wait)) => Err(JobError::Later(wait)),
            Err(Failure::Ends(message, count)) => {
                end_failed(services, payload.generation, message, count).await?;
                Ok(())
            }
            Err(Failure::Passing(why, wait)) => {
                if job.attempts >= job.max_attempts {
                    super::generate_video::abandon(services, payload.generation).await;
                    end_failed(
                        services,
                        payload.generation,
                        "The AI provider could not make the file after several tries. Try \
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
    match row.kind.as_str() {
        "video" => super::generate_video::make_video(services, row).await,
        "reel" if super::generations::is_character(&row) => {
            super::generate_character::make_character(services, row).await
        }
        "reel" => super::generate_reel::make_reel(services, row).await,
        "character" => super::generate_character::make_character(services, row).await,
        _ => make_image(services, row).await,
    }
}

/// One run of an image generation.
async fn make_image(services: &Services, row: media_generation::Model) -> Result<(), Failure> {
    let id = row.id;
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
    if !super::generations::still_agreed(services, WorkspaceId(row.workspace_id)).await?
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
        .map_err(|e| provider_failure(&row.provider, "image", e))?;
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
    let key = super::generations::stored_at(ws.0, row.id, ".jpg");
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
    let made = Made {
        key,
        thumb_key: Some(thumb_key),
        ty: MediaType::Jpeg,
        size,
        prompt: None,
        width: Some(framed.described.width),
        height: Some(framed.described.height),
        duration_ms: None,
    };
    keep_made(services, &row, &made).await
}

#[cfg(test)]
mod tests {
    use super::*;

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

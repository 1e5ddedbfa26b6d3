//! AI videos in the media library: from a prompt, or from a picture of the library with an
//! optional prompt, with a model, a shape and a length the provider's model takes. The request
//! is counted against the plan's monthly AI videos at once (given back when it fails or is
//! cancelled) and made by the same durable job as images ([`super::generations::Generation`]).
//!
//! A video is a task at the provider: the job starts it (the picture handed over as an
//! ephemeral upload, never at a public address), records the task's id before anything else,
//! and looks at it every few seconds, moving the generation's progress on, until it ends. A
//! worker that dies meanwhile leaves a job the next worker takes over: it finds the task's id
//! and goes on looking at the same task instead of paying for a second one. The output's
//! address expires, so the video is downloaded as soon as it is made (and a fresh address
//! asked for when the first has expired), streamed into storage under the generation's own
//! key and held to the video size limit, read with ffmpeg for its length, size and poster, and
//! recorded in the library with its provenance in the same transaction as the generation's
//! end. A task that takes longer than the time limit is stopped at the provider.

pub use super::generations::VideoOptions;
use super::generations::{
    Count, Failure, Made, NewGeneration, advance, keep_made, noun, provider_failure, start,
};
use crate::ai::{AiState, Tracker, Videos};
use crate::workspaces::{Membership, lock_as_editor};
use crate::{Result, ServiceError, Services};
use bytes::{Bytes, BytesMut};
use domain::media::{self, MediaKind, MediaType};
use domain::plans::Limit;
use domain::{MediaId, WorkspaceId};
use futures_util::StreamExt;
use providers::ai::AiError;
pub use providers::ai::video::VideoShape;
use providers::ai::video::{Download, InputFile, TaskState, VideoRequest};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::time::Duration;
use store::entities::{media_generation, user};
use store::objects::PutError;

/// The longest prompt taken, in characters (Runway's limit).
pub const PROMPT_LIMIT: usize = 1000;

/// The storage a generated video is expected to take, checked before the request is accepted
/// (ten seconds of 720p are a few megabytes); the real size is checked when it is stored.
pub const ROOM_FOR_A_VIDEO: u64 = 16 * 1024 * 1024;

/// The largest output kept, whatever the upload limit for videos.
pub const LARGEST_OUTPUT: u64 = 512 * 1024 * 1024;

/// The picture types a video can start from (Runway's).
const STARTING_PICTURES: [&str; 3] = ["image/jpeg", "image/png", "image/webp"];

/// A request for a video.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoAsk {
    pub prompt: String,
    /// The provider's model id.
    pub model: String,
    pub shape: VideoShape,
    pub seconds: u32,
    /// The library picture it starts from; none for a video from the prompt alone.
    pub source: Option<MediaId>,
}

impl Services {
    /// The video provider, when the instance has one and the workspace has AI on.
    pub fn video_generation(&self, ctx: &Membership) -> Option<Videos> {
        if self.ai_state(ctx) != AiState::On {
            return None;
        }
        self.ai.as_ref().and_then(|ai| ai.videos.clone())
    }

    /// Records a request for a video and queues its job; the plan's monthly AI videos are
    /// counted now.
    #[tracing::instrument(skip_all, fields(workspace = ctx.workspace.id))]
    pub async fn request_video(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        ask: &VideoAsk,
    ) -> Result<media_generation::Model> {
        let videos = self.video_generation(ctx).ok_or(ServiceError::NotFound)?;
        if !ctx.role.can_publish() {
            return Err(ServiceError::Forbidden(
                "Viewers can see the media library but not add to it.".into(),
            ));
        }
        let generator = &videos.generator;
        let model = generator.model(&ask.model).ok_or_else(|| {
            ServiceError::invalid("model", "Choose one of the models in the list.")
        })?;
        let prompt = ask.prompt.trim();
        let typed = prompt.chars().count();
        if typed > PROMPT_LIMIT {
            return Err(ServiceError::invalid(
                "prompt",
                format!("Write at most {PROMPT_LIMIT} characters; this prompt has {typed}."),
            ));
        }
        match ask.source {
            Some(_) if !model.from_image => {
                return Err(ServiceError::invalid(
                    "source",
                    format!(
                        "{} makes videos from a prompt only: choose no picture, or another \
                         model.",
                        model.label
                    ),
                ));
            }
            None if !model.from_text => {
                return Err(ServiceError::invalid(
                    "source",
                    format!(
                        "{} makes videos from a picture: choose one from the library.",
                        model.label
                    ),
                ));
            }
            None if prompt.is_empty() => {
                return Err(ServiceError::invalid(
                    "prompt",
                    "Describe the video you want: what happens, where, and how the camera \
                     moves.",
                ));
            }
            _ => {}
        }
        if !model.shapes.contains(&ask.shape) {
            let shapes: Vec<&str> = model.shapes.iter().map(|s| s.as_str()).collect();
            return Err(ServiceError::invalid(
                "shape",
                format!("{} makes {} videos.", model.label, shapes.join(" or ")),
            ));
        }
        if !model.durations.contains(&ask.seconds) {
            let lengths: Vec<String> = model.durations.iter().map(|d| format!("{d} s")).collect();
            return Err(ServiceError::invalid(
                "seconds",
                format!("{} makes videos of {}.", model.label, lengths.join(", ")),
            ));
        }
        let ws = ctx.workspace_id();
        let txn = store::begin_write(&self.db).await?;
        lock_as_editor(&txn, ctx).await?;
        if let Some(source) = ask.source {
            starting_picture(&txn, ws, source, "source").await?;
        }
        let options = VideoOptions {
            shape: ask.shape.as_str().to_owned(),
            seconds: ask.seconds,
            source: ask.source.map(|s| s.0),
        };
        let new = NewGeneration {
            kind: "video",
            limit: Limit::AiVideos,
            room: ROOM_FOR_A_VIDEO,
            provider: generator.provider().to_owned(),
            model: model.id.to_owned(),
            prompt: prompt.to_owned(),
            options: serde_json::to_string(&options).map_err(anyhow::Error::from)?,
            attempts: 8,
            summary: format!(
                "asked {} ({}) for a {} s {} video{}",
                generator.provider(),
                model.label,
                ask.seconds,
                ask.shape.as_str(),
                if ask.source.is_some() {
                    " from a library picture"
                } else {
                    ""
                }
            ),
        };
        let row = super::generations::open(self, &txn, ws, actor, new).await?;
        txn.commit().await?;
        self.wake.notify_one();
        Ok(row)
    }
}

/// Library picture `id` as one a video can start from (a JPEG, PNG or WebP image of this
/// library), else a refusal about `field`.
pub(crate) async fn starting_picture<C: sea_orm::ConnectionTrait>(
    conn: &C,
    ws: WorkspaceId,
    id: MediaId,
    field: &'static str,
) -> Result<store::entities::media_item::Model> {
    let picture = super::media_in(conn, ws, id.0)
        .await
        .map_err(|_| ServiceError::invalid(field, "That picture is not in this library."))?;
    if picture.kind != MediaKind::Image.as_str() {
        return Err(ServiceError::invalid(
            field,
            "A video starts from a picture: choose an image, not a video.",
        ));
    }
    if !STARTING_PICTURES.contains(&picture.mime.as_str()) {
        return Err(ServiceError::invalid(
            field,
            "A video starts from a JPEG, PNG or WebP picture; this one is not.",
        ));
    }
    Ok(picture)
}

/// A library picture as a file to hand to a provider: without its metadata (see
/// [`super::images::without_metadata`]) and under a name of its own (the person's file name
/// may say more than the picture).
pub(crate) async fn picture_file(
    services: &Services,
    picture: &store::entities::media_item::Model,
    stem: &str,
) -> Result<InputFile> {
    let ty = MediaType::from_mime(&picture.mime).unwrap_or(MediaType::Jpeg);
    let turn = super::images::DECODING
        .acquire()
        .await
        .map_err(|e| anyhow::anyhow!("the decoding turns were closed: {e}"))?;
    let bytes = services.objects.get(&picture.object_key).await?;
    let max_pixels = services.media_limits.max_pixels;
    let cleaned = tokio::task::spawn_blocking(move || {
        let cleaned = super::images::without_metadata(&bytes, ty, max_pixels);
        drop(turn);
        cleaned
    })
    .await
    .map_err(|e| anyhow::anyhow!("the picture could not be read: {e}"))?;
    let (bytes, ty) = cleaned.map_err(|why| {
        ServiceError::Unexpected(anyhow::anyhow!(
            "a library picture could not be read again: {}",
            why.message("picture", ty)
        ))
    })?;
    Ok(InputFile {
        bytes,
        mime: ty.mime(),
        filename: format!("{stem}.{}", ty.extension()),
    })
}

/// How generation `row`'s task is followed: by the character provider for a video made from a
/// portrait and a voice-over, else by the video provider.
pub(crate) fn tracker_of<'a>(
    services: &'a Services,
    row: &media_generation::Model,
) -> Option<Tracker<'a>> {
    let ai = services.ai.as_ref()?;
    if super::generations::is_character(row) {
        ai.characters.as_ref().map(|c| c.tracker())
    } else {
        ai.videos.as_ref().map(|v| v.tracker())
    }
}

/// Whether generation `row`, while it is being made, can still be cancelled: its provider
/// stops tasks, or nothing of its task was recorded yet (a character provider's request key
/// is recorded, under the workspace's lock, before anything is sent to it).
pub(crate) fn stoppable(services: &Services, row: &media_generation::Model) -> bool {
    row.kind != "image"
        && (row.provider_task.is_none()
            || tracker_of(services, row).is_some_and(|t| t.tasks.cancels()))
}

/// Stops a generation's task at the provider, when it has one (a person cancelled it, or the
/// job gave up on it).
pub(crate) async fn stop_task(services: &Services, row: &media_generation::Model) -> Result<()> {
    let (Some(task), Some(tracker)) = (row.provider_task.as_deref(), tracker_of(services, row))
    else {
        return Ok(());
    };
    if !tracker.tasks.cancels() {
        return Ok(());
    }
    tracker.tasks.cancel(task).await.map_err(|err| {
        tracing::warn!(error = %err, "the video provider could not stop a task");
        ServiceError::Unavailable(format!(
            "{} could not be told to stop this video just now. Try again in a moment.",
            row.provider
        ))
    })
}

/// Best-effort stop of generation `id`'s task when its job gives up.
pub(crate) async fn abandon(services: &Services, id: i64) {
    if let Ok(Some(row)) = media_generation::Entity::find_by_id(id)
        .one(&services.db)
        .await
        && let Err(err) = stop_task(services, &row).await
    {
        tracing::warn!(error = %err, "an abandoned video task could not be stopped");
    }
}

/// What the person reads when the task failed at the provider.
fn task_failure(provider: &str, noun: &str, reason: &str, code: Option<&str>) -> Failure {
    let code = code.unwrap_or_default();
    let message = if code.contains("SAFETY") || code.contains("MODERATION") {
        format!(
            "{provider} refused this request: {reason} Change the prompt or the picture and try \
             again; your monthly count was given back."
        )
    } else if code.starts_with("ASSET") || code.starts_with("INPUT") {
        format!(
            "{provider} could not use the picture: {reason} Try another picture; your monthly \
             count was given back."
        )
    } else {
        format!(
            "{provider} could not make this {noun}: {reason} Try again; your monthly count was \
             given back."
        )
    };
    Failure::Ends(message, Count::GivenBack)
}

/// The wait before the next look: the set interval, give or take a tenth.
fn next_look(poll: Duration) -> Duration {
    let tenth = poll.as_millis() as u64 / 10;
    let jitter = if tenth == 0 {
        0
    } else {
        rand::random::<u64>() % (2 * tenth + 1)
    };
    Duration::from_millis(poll.as_millis() as u64 - tenth + jitter)
}

/// One run of a video generation: follow its task ([`follow`]) and keep its output.
pub(crate) async fn make_video(
    services: &Services,
    row: media_generation::Model,
) -> Result<(), Failure> {
    let Some(videos) = services.ai.as_ref().and_then(|ai| ai.videos.clone()) else {
        return Err(Failure::Ends(
            "This instance no longer generates videos; your monthly count was given back."
                .to_owned(),
            Count::GivenBack,
        ));
    };
    let options: VideoOptions = serde_json::from_str(&row.options).map_err(|_| unreadable())?;
    let Some((task, outputs)) = follow(services, &videos, &row, &options).await? else {
        return Ok(());
    };
    let key = super::generations::stored_at(row.workspace_id, row.id, ".mp4");
    let kept = keep_output(services, videos.tracker(), &row, &task, outputs, &key).await?;
    let made = made_video(services, key, kept, None).await?;
    keep_made(services, &row, &made).await
}

pub(crate) fn unreadable() -> Failure {
    Failure::Ends(
        "The generation's options could not be read.".to_owned(),
        Count::GivenBack,
    )
}

/// Starts the generation's task (once), then takes one look at it ([`look`]).
pub(crate) async fn follow(
    services: &Services,
    videos: &Videos,
    row: &media_generation::Model,
    options: &VideoOptions,
) -> Result<Option<(String, Vec<String>)>, Failure> {
    let (task, sent_at) = match (row.provider_task.clone(), row.sent_at) {
        (Some(task), Some(sent_at)) => (task, sent_at),
        (Some(task), None) => (task, row.updated_at),
        _ => match send(services, videos, row, options).await? {
            Some(sent) => sent,
            // Cancelled while it was being sent.
            None => return Ok(None),
        },
    };
    look(services, videos.tracker(), row, &task, sent_at).await
}

/// Takes one look at the task: not done yet (look again after the interval, the worker free
/// meanwhile: [`Failure::Later`]), made (the task and its outputs' addresses), ended without a
/// video (a failure), or the generation ended meanwhile (none).
pub(crate) async fn look(
    services: &Services,
    tracker: Tracker<'_>,
    row: &media_generation::Model,
    task: &str,
    sent_at: chrono::DateTime<chrono::Utc>,
) -> Result<Option<(String, Vec<String>)>, Failure> {
    let id = row.id;
    let provider = tracker.tasks.provider();
    let deadline = sent_at
        + chrono::Duration::from_std(tracker.time_limit).unwrap_or(chrono::Duration::hours(1));
    // The time limit is for the task while it is not done: a task already made is kept
    // whenever its output is fetched.
    let late = || crate::now() > deadline;
    let seen = match tracker.tasks.task(task).await {
        Ok(seen) => seen,
        Err(AiError::RateLimited { .. }) if late() => {
            return Err(too_late(tracker, row, task).await);
        }
        Err(AiError::RateLimited { retry_after }) => {
            return Err(Failure::Later(retry_after.max(tracker.poll)));
        }
        Err(err) => {
            let failure = provider_failure(provider, noun(row), err);
            if matches!(failure, Failure::Ends(..)) {
                stop_quietly(tracker, task).await;
            }
            return Err(failure);
        }
    };
    match seen.state {
        TaskState::Waiting | TaskState::Running if late() => {
            Err(too_late(tracker, row, task).await)
        }
        TaskState::Waiting | TaskState::Running => {
            let done = seen.progress.unwrap_or(0.0).clamp(0.0, 1.0);
            let progress = 20 + (done * 65.0).round() as i32;
            if !advance(services, id, progress).await? {
                // Ended meanwhile (a person cancelled it): the task stops too, whether or not
                // the cancel reached the provider first.
                stop_quietly(tracker, task).await;
                return Ok(None);
            }
            Err(Failure::Later(next_look(tracker.poll)))
        }
        TaskState::Succeeded(outputs) => {
            advance(services, id, 88).await?;
            Ok(Some((task.to_owned(), outputs)))
        }
        TaskState::Failed { reason, code } => {
            tracing::info!(code = ?code, "a video task failed at the provider");
            Err(task_failure(provider, noun(row), &reason, code.as_deref()))
        }
        TaskState::Cancelled => Err(Failure::Ends(
            format!(
                "This {} was cancelled at {provider}. Your monthly count was given back.",
                noun(row)
            ),
            Count::GivenBack,
        )),
    }
}

/// Stops a task, logging (not failing) when the provider cannot be told.
async fn stop_quietly(tracker: Tracker<'_>, task: &str) -> bool {
    if !tracker.tasks.cancels() {
        return false;
    }
    match tracker.tasks.cancel(task).await {
        Ok(()) => true,
        Err(err) => {
            tracing::warn!(error = %err, "a video task could not be stopped");
            false
        }
    }
}

/// A task past the time limit: stopped, and the generation fails.
async fn too_late(tracker: Tracker<'_>, row: &media_generation::Model, task: &str) -> Failure {
    let stopped = stop_quietly(tracker, task).await;
    let minutes = tracker.time_limit.as_secs().div_ceil(60);
    let what = if stopped {
        "so it was stopped"
    } else if tracker.tasks.cancels() {
        "and it could not be stopped there just now"
    } else {
        "so it was given up"
    };
    Failure::Ends(
        format!(
            "{} did not finish this {} within {minutes} minutes, {what}. Try again later; \
             your monthly count was given back.",
            tracker.tasks.provider(),
            noun(row)
        ),
        Count::GivenBack,
    )
}

/// Starts the task and records its id; none when the generation was cancelled meanwhile (the
/// task, if it was started, is stopped).
pub(crate) async fn send(
    services: &Services,
    videos: &Videos,
    row: &media_generation::Model,
    options: &VideoOptions,
) -> Result<Option<(String, chrono::DateTime<chrono::Utc>)>, Failure> {
    let generator = &videos.generator;
    // Sent only while the workspace still agrees to this provider (AI can be turned off, or
    // the operator can change the provider, while a request waits).
    let ws = WorkspaceId(row.workspace_id);
    if !super::generations::still_agreed(services, ws).await?
        || !row.provider.starts_with(generator.provider())
        || generator.model(&row.model).is_none()
    {
        return Err(Failure::Ends(
            "AI was turned off in this workspace, or this instance's video provider changed, \
             before the video was started: nothing was sent, and your monthly count was given \
             back."
                .to_owned(),
            Count::GivenBack,
        ));
    }
    let shape = VideoShape::parse(&options.shape).ok_or_else(|| {
        Failure::Ends(
            "The generation's options could not be read.".to_owned(),
            Count::GivenBack,
        )
    })?;
    if !start(services, row.id).await? {
        return Ok(None);
    }
    let image = match options.source {
        Some(source) => {
            let Ok(picture) = super::media_in(&services.db, ws, source).await else {
                return Err(Failure::Ends(
                    "The picture this video was to start from was deleted before it was sent; \
                     nothing was sent, and your monthly count was given back."
                        .to_owned(),
                    Count::GivenBack,
                ));
            };
            let input = picture_file(services, &picture, "picture").await?;
            let reference = generator
                .upload(&input)
                .await
                .map_err(|e| provider_failure(&row.provider, "video", e))?;
            Some(reference)
        }
        None => None,
    };
    let request = VideoRequest {
        model: row.model.clone(),
        prompt: row.prompt.clone(),
        shape,
        seconds: options.seconds,
        image,
    };
    let task = generator
        .start(&request)
        .await
        .map_err(|e| provider_failure(&row.provider, "video", e))?;
    // The task's id is written before anything else is done with it: a worker that takes the
    // job over goes on with this task.
    let now = crate::now();
    match record_sent(services, row.id, &task, now).await {
        Ok(true) => Ok(Some((task, now))),
        other => {
            // Cancelled meanwhile, or the id could not be written: the task is stopped so that
            // nothing runs (and costs) without a record of it.
            if let Err(err) = generator.cancel(&task).await {
                tracing::warn!(error = %err, "an unrecorded video task could not be stopped");
            }
            match other {
                Err(err) => Err(err.into()),
                Ok(_) => Ok(None),
            }
        }
    }
}

/// Records that generation `id`'s task `task` was sent at `now`; false when the generation
/// has ended meanwhile.
pub(crate) async fn record_sent(
    services: &Services,
    id: i64,
    task: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<bool> {
    use sea_orm::sea_query::Expr;
    let saved = media_generation::Entity::update_many()
        .col_expr(
            media_generation::Column::ProviderTask,
            Expr::value(task.to_owned()),
        )
        .col_expr(media_generation::Column::SentAt, Expr::value(now))
        .col_expr(media_generation::Column::Progress, Expr::value(15))
        .col_expr(media_generation::Column::UpdatedAt, Expr::value(now))
        .filter(media_generation::Column::Id.eq(id))
        .filter(media_generation::Column::State.is_in(["queued", "running"]))
        .exec(&services.db)
        .await?;
    Ok(saved.rows_affected > 0)
}

/// A stored video as a made file: its facts read with ffmpeg (none without it), and the
/// provenance's prompt when it is not the generation's own.
pub(crate) async fn made_video(
    services: &Services,
    key: String,
    (ty, size): (MediaType, u64),
    prompt: Option<String>,
) -> Result<Made, Failure> {
    let facts = services.describe_video(&key).await?;
    Ok(Made {
        key,
        thumb_key: facts.thumb_key,
        ty,
        size,
        prompt,
        width: facts.width.and_then(|w| u32::try_from(w).ok()),
        height: facts.height.and_then(|h| u32::try_from(h).ok()),
        duration_ms: facts.duration_ms.and_then(|d| u64::try_from(d).ok()),
    })
}

/// Downloads the output into storage at `key`, the generation's own (a second run replaces
/// the first one's bytes), asking for a fresh address when the first one has expired; its
/// type and size.
pub(crate) async fn keep_output(
    services: &Services,
    tracker: Tracker<'_>,
    row: &media_generation::Model,
    task: &str,
    mut outputs: Vec<String>,
    key: &str,
) -> Result<(MediaType, u64), Failure> {
    let generator = tracker.tasks;
    let limit = services.media_limits.video_bytes.min(LARGEST_OUTPUT);
    let mut fresh_asked = false;
    let download = loop {
        let Some(url) = outputs.first() else {
            return Err(Failure::Passing("the task has no output".into(), None));
        };
        match generator.download(url).await {
            Ok(download) => break download,
            Err(AiError::Expired) if !fresh_asked => {
                fresh_asked = true;
                match generator.task(task).await {
                    Ok(seen) => match seen.state {
                        TaskState::Succeeded(again) => outputs = again,
                        _ => {
                            return Err(Failure::Passing(
                                "the task is no longer done".into(),
                                None,
                            ));
                        }
                    },
                    Err(err) => return Err(provider_failure(generator.provider(), noun(row), err)),
                }
            }
            Err(AiError::Expired) => {
                return Err(Failure::Passing(
                    "the output's fresh address had expired too".into(),
                    None,
                ));
            }
            Err(err) => return Err(provider_failure(generator.provider(), noun(row), err)),
        }
    };
    if download.length.is_some_and(|l| l > limit) {
        return Err(too_large(generator.provider(), limit));
    }
    stream_into(services, key, download, limit, generator.provider()).await
}

fn too_large(provider: &str, limit: u64) -> Failure {
    // The provider made it: the count stays.
    Failure::Ends(
        format!(
            "The video {provider} made is larger than {}, the limit for videos here, so it was \
             not kept.",
            super::human_size(limit)
        ),
        Count::Kept,
    )
}

/// Streams the download into storage at `key`, its type checked from its first bytes; its
/// type and the bytes stored.
async fn stream_into(
    services: &Services,
    key: &str,
    mut download: Download,
    limit: u64,
    provider: &str,
) -> Result<(MediaType, u64), Failure> {
    let mut head = BytesMut::new();
    while head.len() < media::SNIFF_LEN {
        match download.chunk().await {
            Ok(Some(chunk)) => head.extend_from_slice(&chunk),
            Ok(None) => break,
            Err(err) => return Err(provider_failure(provider, "video", err)),
        }
    }
    let ty = media::identify("output.mp4", &head)
        .ok()
        .filter(|ty| ty.kind() == MediaKind::Video);
    let Some(ty) = ty else {
        return Err(Failure::Ends(
            format!(
                "The file {provider} sent is not a video this library takes. Try again; your \
                 monthly count was given back."
            ),
            Count::GivenBack,
        ));
    };
    let rest = futures_util::stream::unfold(Some(download), |state| async move {
        let mut download = state?;
        match download.chunk().await {
            Ok(Some(chunk)) => Some((Ok::<Bytes, AiError>(chunk), Some(download))),
            Ok(None) => None,
            Err(err) => Some((Err(err), None)),
        }
    })
    .boxed();
    let size = services
        .objects
        .put_stream(key, head.freeze(), rest, limit)
        .await
        .map_err(|err| match err {
            PutError::TooLarge { limit } => too_large(provider, limit),
            PutError::Interrupted(why) => {
                Failure::Passing(format!("the download was interrupted: {why}"), None)
            }
            PutError::Storage(err) => ServiceError::Unexpected(err).into(),
        })?;
    Ok((ty, size))
}

//! What every AI generation of the media library shares, whatever it makes: where it is
//! ([`GenerationState`]), the durable job's payload ([`Generation`]), how it ends (its monthly
//! count given back or kept, [`finish`]), how a run moves its progress on ([`advance`]), and
//! how a made file enters the library with its provenance, in the same transaction as the
//! generation's end ([`record`]). Images ([`super::generate`]) and videos
//! ([`super::generate_video`]) build on it.

use super::stored_tags;
use crate::jobs::JobError;
use crate::plans::Need;
use crate::workspaces::lock_workspace;
use crate::{Result, ServiceError, Services, activity, queue};
use domain::WorkspaceId;
use domain::media::MediaType;
use domain::plans::Limit;
use providers::ai::AiError;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use store::entities::{job, media_generation, media_item, user};

/// A generation still open this long after its last change has lost its job (given up while
/// the database could not be written): housekeeping ends it and gives its count back.
pub const STALE_AFTER: chrono::Duration = chrono::Duration::days(1);

/// A generation that ends this long after it was asked for is told to its requester by e-mail
/// (they have likely left the page by then).
pub const LONG: chrono::Duration = chrono::Duration::minutes(2);

/// How long generations are listed and kept; the file keeps its own provenance.
pub const GENERATIONS_KEPT: chrono::Duration = chrono::Duration::days(30);

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

/// What a video generation's `options` hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VideoOptions {
    /// `9:16`, `16:9` or `1:1`.
    pub shape: String,
    pub seconds: u32,
    /// The library picture it starts from (for a character, the portrait that speaks).
    pub source: Option<i64>,
}

/// What the `options` of a generation with a voice-over hold: a reel's, or a character
/// video's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReelOptions {
    #[serde(flatten)]
    pub video: VideoOptions,
    pub script: String,
    pub voice: String,
    pub voice_name: String,
    /// The voice provider's model.
    pub voice_model: String,
}

/// Whether generation `row` is made by the character provider: a character video, or a reel
/// spoken by a character (its options name the portrait).
pub(crate) fn is_character(row: &media_generation::Model) -> bool {
    match row.kind.as_str() {
        "character" => true,
        "reel" => serde_json::from_str::<ReelOptions>(&row.options)
            .is_ok_and(|o| o.video.source.is_some()),
        _ => false,
    }
}

/// What generation `row` makes, in words: `image`, `video`, `reel` or `character video`.
pub(crate) fn noun(row: &media_generation::Model) -> &'static str {
    match row.kind.as_str() {
        "image" => "image",
        "reel" => "reel",
        "character" => "character video",
        _ => "video",
    }
}

/// The job that makes one generation.
#[derive(Debug, Serialize, Deserialize)]
pub struct Generation {
    pub(crate) generation: i64,
}

impl queue::Payload for Generation {
    const KIND: &'static str = "generate_media";
}

/// A request about to be recorded.
pub(crate) struct NewGeneration {
    pub kind: &'static str,
    /// The monthly count it takes one of.
    pub limit: Limit,
    /// The storage it is expected to take, checked now.
    pub room: u64,
    pub provider: String,
    pub model: String,
    pub prompt: String,
    /// The options, as JSON.
    pub options: String,
    /// Runs of its job before it gives up.
    pub attempts: i32,
    /// What the activity log says was asked.
    pub summary: String,
}

/// Records a request in the caller's transaction (under the workspace's lock): the plan's
/// monthly count and the storage are checked and the count taken now (given back if it fails
/// or is cancelled), so requests at once cannot go past them; its job is queued and the
/// request written to the activity log.
pub(crate) async fn open<C: sea_orm::ConnectionTrait>(
    services: &Services,
    txn: &C,
    ws: WorkspaceId,
    actor: &user::Model,
    new: NewGeneration,
) -> Result<media_generation::Model> {
    let now = crate::now();
    services.entitle(txn, ws, Need::More(new.limit, 1)).await?;
    // Room for the file it makes, so that a full library is told now and not after the
    // provider has been paid for a file that cannot be kept.
    services
        .entitle(txn, ws, Need::More(Limit::Storage, new.room))
        .await?;
    let month = crate::plans::month_of(txn, ws, now).await?;
    crate::plans::count_up(txn, ws, new.limit, &month, 1, now).await?;
    let row = media_generation::ActiveModel {
        workspace_id: Set(ws.0),
        requested_by: Set(Some(actor.id)),
        kind: Set(new.kind.to_owned()),
        provider: Set(new.provider),
        model: Set(new.model),
        prompt: Set(new.prompt),
        options: Set(new.options),
        state: Set(GenerationState::Queued.as_str().to_owned()),
        progress: Set(0),
        counted_in: Set(Some(month)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let mut job = queue::NewJob::of(&Generation { generation: row.id })?;
    job.workspace_id = Some(ws.0);
    job.subject = Some(format!("media_generation:{}", row.id));
    job.max_attempts = new.attempts;
    queue::enqueue(txn, job).await?;
    activity::record(
        txn,
        ws,
        Some(actor),
        activity::Entry {
            action: "media.generation_requested",
            object_type: "media_generation",
            object_id: Some(row.id),
            summary: new.summary,
        },
    )
    .await?;
    Ok(row)
}

pub(crate) async fn generation_in<C: sea_orm::ConnectionTrait>(
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

/// Withdraws a generation's queued job.
pub(crate) async fn queue_withdraw<C: sea_orm::ConnectionTrait>(
    conn: &C,
    generation: i64,
) -> Result<()> {
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
pub(crate) enum Count {
    Kept,
    GivenBack,
}

/// Ends a generation, giving its count back when told (it was not made, or not sent).
pub(crate) async fn finish<C: sea_orm::ConnectionTrait>(
    conn: &C,
    row: &media_generation::Model,
    state: GenerationState,
    outcome: Option<String>,
    count: Count,
) -> Result<()> {
    let now = crate::now();
    let limit = counted_as(&row.kind);
    let mut active: media_generation::ActiveModel = row.clone().into();
    if let GenerationState::Done(media) = state {
        active.media_id = Set(Some(media));
        active.progress = Set(100);
    } else if count == Count::GivenBack
        && let Some(month) = &row.counted_in
    {
        let ws = WorkspaceId(row.workspace_id);
        crate::plans::count_down(conn, ws, limit, month, 1).await?;
        active.counted_in = Set(None);
    }
    active.state = Set(state.as_str().to_owned());
    active.outcome = Set(outcome);
    active.updated_at = Set(now);
    active.finished_at = Set(Some(now));
    active.update(conn).await?;
    Ok(())
}

/// Deletes generations older than [`GENERATIONS_KEPT`] (the daily retention run), after
/// ending those that lost their job (and deleting what their runs stored).
pub(crate) async fn purge_generations(
    services: &Services,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<u64> {
    let conn = &services.db;
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
        finish(conn, &row, failed, Some(message.clone()), Count::GivenBack).await?;
        tell_requester(services, conn, &row, Some(&message)).await?;
        forget_files(services, row.id).await;
    }
    let res = media_generation::Entity::delete_many()
        .filter(media_generation::Column::CreatedAt.lt(now - GENERATIONS_KEPT))
        .filter(media_generation::Column::State.is_not_in(["queued", "running"]))
        .exec(conn)
        .await?;
    Ok(res.rows_affected)
}

/// Why a run did not make the file.
pub(crate) enum Failure {
    /// It will not work on another try: the generation fails with this message (and its
    /// count is given back, or kept when the provider made the image).
    Ends(String, Count),
    /// It may work later (after this wait, when the provider said).
    Passing(String, Option<std::time::Duration>),
    /// Not done yet (a task at the provider): look again after this wait.
    Later(std::time::Duration),
}

impl From<ServiceError> for Failure {
    fn from(err: ServiceError) -> Self {
        Failure::Passing(format!("{err:#}"), None)
    }
}

pub(crate) async fn end_failed(
    services: &Services,
    id: i64,
    message: String,
    count: Count,
) -> Result<(), JobError> {
    let ended = async {
        let txn = store::begin_write(&services.db).await?;
        if let Some(seen) = media_generation::Entity::find_by_id(id).one(&txn).await? {
            // Read again under the workspace's lock: a cancel may have ended it meanwhile, and
            // its count must not be given back twice.
            lock_workspace(&txn, WorkspaceId(seen.workspace_id)).await?;
            if let Some(row) = media_generation::Entity::find_by_id(id).one(&txn).await?
                && GenerationState::of(&row).is_open()
            {
                finish(
                    &txn,
                    &row,
                    GenerationState::Failed,
                    Some(message.clone()),
                    count,
                )
                .await?;
                tell_requester(services, &txn, &row, Some(&message)).await?;
            }
        }
        txn.commit().await?;
        Ok::<_, ServiceError>(())
    };
    ended.await.map_err(JobError::retry)?;
    forget_files(services, id).await;
    Ok(())
}

/// Marks a generation running (its first run) or moves its progress on; false when it has
/// ended meanwhile (cancelled before this run started).
pub(crate) async fn advance(services: &Services, id: i64, progress: i32) -> Result<bool> {
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

pub(crate) async fn start(services: &Services, id: i64) -> Result<bool> {
    advance(services, id, 10).await
}

/// What the person reads when the provider did not make the `what` (`image`, `video`).
pub(crate) fn provider_failure(provider: &str, what: &str, err: AiError) -> Failure {
    match err {
        AiError::Refused { reason } => Failure::Ends(
            format!(
                "{provider} refused this prompt: {reason} Change the prompt and try again; your \
                 monthly count was given back."
            ),
            Count::GivenBack,
        ),
        AiError::Credentials(why) => {
            tracing::error!(error = %why, what, "the media provider refused this instance's key");
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
            tracing::warn!(error = %why, what, "the media provider's answer could not be used");
            Failure::Ends(
                "The AI provider's answer could not be used. Try again with another prompt; \
                 your monthly count was given back."
                    .to_owned(),
                Count::GivenBack,
            )
        }
        AiError::Unavailable(why) => {
            tracing::warn!(error = %why, what, "the media provider failed");
            Failure::Passing(why, None)
        }
        AiError::RateLimited { retry_after } => {
            Failure::Passing("rate limited".to_owned(), Some(retry_after))
        }
        AiError::ContextTooLong => Failure::Ends(
            format!(
                "This is longer than {provider}'s model takes. Shorten it and try again; your \
                 monthly count was given back."
            ),
            Count::GivenBack,
        ),
        other => Failure::Passing(other.to_string(), None),
    }
}

/// The storage keys a run of generation `id` of workspace `ws` may have written: its file and
/// poster (an image's or a video's), and a reel's parts (voice-over, scenes and their poster).
pub(crate) fn keys_of(ws: i64, id: i64) -> Vec<String> {
    [
        ".jpg",
        ".jpg.thumb.jpg",
        ".mp4",
        ".mp4.thumb.jpg",
        ".voice.mp3",
        ".scenes.mp4",
        ".scenes.mp4.thumb.jpg",
    ]
    .iter()
    .map(|end| stored_at(ws, id, end))
    .collect()
}

/// The storage key of what generation `id` of workspace `ws` makes, ending in `end`
/// (`.mp4`, `.voice.mp3`): its own, so that a second run replaces the first one's bytes.
pub(crate) fn stored_at(ws: i64, id: i64, end: &str) -> String {
    format!("{}ai-{id}{end}", store::objects::workspace_prefix(ws))
}

/// Whether workspace `ws` still agrees to the AI providers configured now: AI can be turned
/// off, or the operator can change a provider, while a request waits, and then nothing more is
/// sent.
pub(crate) async fn still_agreed(services: &Services, ws: WorkspaceId) -> Result<bool> {
    let agreed = crate::ai::agreed_fingerprint(&services.db, ws).await?;
    let current = services.ai.as_ref().map(|ai| ai.disclosure.fingerprint());
    Ok(agreed.is_some() && agreed == current)
}

/// Deletes what runs of generation `id` stored that no library file refers to (a failed or
/// cancelled generation's bytes, a reel's parts).
pub(crate) async fn forget_files(services: &Services, id: i64) {
    let forgotten = async {
        let Some(row) = media_generation::Entity::find_by_id(id)
            .one(&services.db)
            .await?
        else {
            return Ok::<_, ServiceError>(());
        };
        for key in keys_of(row.workspace_id, id) {
            let used = media_item::Entity::find()
                .filter(
                    sea_orm::Condition::any()
                        .add(media_item::Column::ObjectKey.eq(key.as_str()))
                        .add(media_item::Column::ThumbKey.eq(key.as_str())),
                )
                .count(&services.db)
                .await?;
            if used == 0 {
                services.objects.delete(&key).await?;
            }
        }
        Ok(())
    };
    if let Err(err) = forgotten.await {
        tracing::error!(error = ?err, "could not delete a failed generation's files");
    }
}

/// The monthly limit a generation of `kind` counts against.
pub(crate) fn counted_as(kind: &str) -> Limit {
    match kind {
        "video" | "character" => Limit::AiVideos,
        "reel" => Limit::AiReels,
        _ => Limit::AiImages,
    }
}

/// A file a generation made, stored under the generation's own keys.
pub(crate) struct Made {
    pub key: String,
    pub thumb_key: Option<String>,
    pub ty: MediaType,
    pub size: u64,
    /// What the file's provenance records as its prompt (the generation's own, when none).
    pub prompt: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub duration_ms: Option<u64>,
}

/// A file name from the prompt's first words: `ai-a-red-bicycle-by-the-sea-12.jpg`.
pub(crate) fn file_name(prompt: &str, id: i64, ty: MediaType) -> String {
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
    let ext = ty.extension();
    if stem.is_empty() {
        format!("ai-{}-{id}.{ext}", ty.kind().as_str())
    } else {
        format!("ai-{stem}-{id}.{ext}")
    }
}

/// Records a made file (see [`record`]); when the generation ended meanwhile (cancelled,
/// deleted, or refused for room), its bytes are deleted, unless another run of the same job
/// recorded these very keys.
pub(crate) async fn keep_made(
    services: &Services,
    row: &media_generation::Model,
    made: &Made,
) -> Result<(), Failure> {
    let recorded = record(services, row, made).await;
    let keep = match &recorded {
        Ok(true) | Err(Failure::Passing(..) | Failure::Later(_)) => true,
        Ok(false) => {
            media_item::Entity::find()
                .filter(media_item::Column::ObjectKey.eq(made.key.as_str()))
                .count(&services.db)
                .await
                .map_err(ServiceError::from)?
                > 0
        }
        Err(Failure::Ends(..)) => false,
    };
    if !keep {
        for k in std::iter::once(&made.key).chain(made.thumb_key.iter()) {
            if let Err(err) = services.objects.delete(k).await {
                tracing::error!(error = ?err, "could not delete a generated file");
            }
        }
    }
    recorded.map(|_| ())
}

/// Writes the library file and ends the generation, in one transaction. False when the
/// generation had already ended (cancelled, or finished by another run).
async fn record(
    services: &Services,
    row: &media_generation::Model,
    made: &Made,
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
        .entitle(&txn, ws, Need::More(Limit::Storage, made.size))
        .await
    {
        Ok(()) => {}
        Err(ServiceError::PlanLimit { refusal, .. }) => {
            let message = format!(
                "The {} was made but not kept: {refusal}",
                made.ty.kind().as_str()
            );
            // The provider made it: the count stays.
            let failed = GenerationState::Failed;
            finish(&txn, &now_row, failed, Some(message.clone()), Count::Kept).await?;
            tell_requester(services, &txn, &now_row, Some(&message)).await?;
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
    let name = file_name(&now_row.prompt, now_row.id, made.ty);
    let item = media_item::ActiveModel {
        workspace_id: Set(ws.0),
        uploaded_by: Set(requester.as_ref().map(|u| u.id)),
        kind: Set(made.ty.kind().as_str().to_owned()),
        mime: Set(made.ty.mime().to_owned()),
        filename: Set(name.clone()),
        size_bytes: Set(i64::try_from(made.size).unwrap_or(i64::MAX)),
        width: Set(made.width.and_then(|w| i32::try_from(w).ok())),
        height: Set(made.height.and_then(|h| i32::try_from(h).ok())),
        object_key: Set(made.key.clone()),
        thumb_key: Set(made.thumb_key.clone()),
        folder: Set(String::new()),
        tags: Set(stored_tags(&["ai".to_owned()])),
        provenance: Set("ai".to_owned()),
        ai_provider: Set(Some(now_row.provider.clone())),
        ai_prompt: Set(Some(
            made.prompt
                .clone()
                .unwrap_or_else(|| now_row.prompt.clone()),
        )),
        ai_model: Set(Some(now_row.model.clone())),
        reviewed_by: Set(None),
        reviewed_at: Set(None),
        duration_ms: Set(made.duration_ms.and_then(|d| i64::try_from(d).ok())),
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
    tell_requester(services, &txn, &now_row, None).await?;
    txn.commit().await.map_err(ServiceError::from)?;
    Ok(true)
}

/// Queues an e-mail to the person who asked for generation `row`, when it ended (made, or not:
/// `failure`) after [`LONG`] and they are still a member of its workspace.
async fn tell_requester<C: sea_orm::ConnectionTrait>(
    services: &Services,
    conn: &C,
    row: &media_generation::Model,
    failure: Option<&str>,
) -> Result<()> {
    use store::entities::{membership, workspace};
    let Some(requester) = row.requested_by else {
        return Ok(());
    };
    if crate::now() - row.created_at < LONG {
        return Ok(());
    }
    let member = membership::Entity::find()
        .filter(membership::Column::WorkspaceId.eq(row.workspace_id))
        .filter(membership::Column::UserId.eq(requester))
        .one(conn)
        .await?;
    let (Some(_), Some(person), Some(place)) = (
        member,
        user::Entity::find_by_id(requester).one(conn).await?,
        workspace::Entity::find_by_id(row.workspace_id)
            .one(conn)
            .await?,
    ) else {
        return Ok(());
    };
    let email = crate::emails::generation_ended(
        &person.email,
        &person.name,
        noun(row),
        &place.name,
        failure,
        &format!(
            "{}/w/{}/media/generations/{}",
            services.base_url, row.workspace_id, row.id
        ),
    );
    crate::emails::queue(conn, email, Some(domain::UserId(person.id))).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_come_from_the_prompt() {
        assert_eq!(
            file_name("A red bicycle, by the sea at dawn!", 12, MediaType::Jpeg),
            "ai-a-red-bicycle-by-the-sea-12.jpg"
        );
        assert_eq!(file_name("¿¡…!?", 3, MediaType::Jpeg), "ai-image-3.jpg");
        assert_eq!(file_name("¿¡…!?", 3, MediaType::Mp4), "ai-video-3.mp4");
        assert_eq!(
            file_name("Café au lait", 4, MediaType::Jpeg),
            "ai-café-au-lait-4.jpg"
        );
    }
}

//! Character videos: a portrait from the library speaks a script. The script is read aloud by
//! the voice provider (ElevenLabs) in the voice chosen, as for reels; the portrait and that
//! voice-over are handed to the character provider (Hedra) as assets, with a prompt for how
//! the character moves, and the video it makes (the voice-over in it) lands in the library. A
//! character video counts against the plan's monthly AI videos; a reel made with a character
//! (vertical, from the Reel tab) against its AI reels. Both run on the generations' durable
//! job.
//!
//! The request to the provider carries a key chosen and recorded before it is sent, so a
//! worker that takes the job over after a crash sends it again with the same key and the
//! provider starts no second video. The provider cannot stop a generation once sent: until
//! then it can be cancelled here; afterwards it runs to its end.

use super::generate_reel::{ROOM_FOR_A_REEL, ReelOptions, checked_script, speak_once};
use super::generate_video::{
    VideoOptions, VideoShape, keep_output, look, made_video, picture_file, record_sent,
    starting_picture, unreadable,
};
use super::generations::{Count, Failure, NewGeneration, keep_made, noun, provider_failure, start};
use crate::ai::{AiState, Characters};
use crate::workspaces::{Membership, lock_as_editor, lock_workspace};
use crate::{Result, ServiceError, Services};
use domain::plans::Limit;
use domain::{MediaId, WorkspaceId};
use providers::ai::AiError;
use providers::ai::character::{AssetKind, CharacterRequest};
use providers::ai::speech::SpeechGenerator;
use providers::ai::video::InputFile;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::sync::Arc;
use store::entities::{media_generation, user};

/// What the character does when the person writes nothing about it.
pub const DEFAULT_MOTION: &str =
    "Speaks to the camera with natural expressions and small movements of the head.";

/// A request for a character video.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CharacterAsk {
    /// The library picture that speaks.
    pub portrait: MediaId,
    /// What it says.
    pub script: String,
    /// The voice's id at the voice provider.
    pub voice: String,
    /// How it moves and looks (optional).
    pub prompt: String,
    pub shape: VideoShape,
}

/// What makes character videos: the character and the voice provider.
#[derive(Clone)]
pub struct Speakers {
    pub characters: Characters,
    pub speech: Arc<dyn SpeechGenerator>,
}

impl Services {
    /// The character providers, when the instance has both and the workspace has AI on.
    pub fn character_generation(&self, ctx: &Membership) -> Option<Speakers> {
        if self.ai_state(ctx) != AiState::On {
            return None;
        }
        let ai = self.ai.as_ref()?;
        Some(Speakers {
            characters: ai.characters.clone()?,
            speech: ai.speech.clone()?,
        })
    }

    /// Records a request for a character video and queues its job; the plan's monthly AI
    /// videos are counted now.
    pub async fn request_character(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        ask: &CharacterAsk,
    ) -> Result<media_generation::Model> {
        self.request_speaking(ctx, actor, ask, false).await
    }

    /// Records a request for a reel spoken by a character: a vertical character video, counted
    /// against the plan's monthly AI reels.
    pub async fn request_character_reel(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        ask: &CharacterAsk,
    ) -> Result<media_generation::Model> {
        let ask = CharacterAsk {
            shape: VideoShape::Vertical,
            ..ask.clone()
        };
        self.request_speaking(ctx, actor, &ask, true).await
    }

    /// Records a request for a character video (`reel`: a vertical one counted as a reel).
    #[tracing::instrument(skip_all, fields(workspace = ctx.workspace.id))]
    async fn request_speaking(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        ask: &CharacterAsk,
        reel: bool,
    ) -> Result<media_generation::Model> {
        let speakers = self
            .character_generation(ctx)
            .ok_or(ServiceError::NotFound)?;
        if !ctx.role.can_publish() {
            return Err(ServiceError::Forbidden(
                "Viewers can see the media library but not add to it.".into(),
            ));
        }
        let script = checked_script(&ask.script, &speakers.speech)?;
        let generator = &speakers.characters.generator;
        let prompt = ask.prompt.trim();
        let most = generator.max_prompt();
        let typed = prompt.chars().count();
        let field = if reel { "scenes" } else { "prompt" };
        if typed > most {
            return Err(ServiceError::invalid(
                field,
                format!("Write at most {most} characters; this has {typed}."),
            ));
        }
        let voice = self.offered_voice(&speakers.speech, &ask.voice).await?;
        let ws = ctx.workspace_id();
        let txn = store::begin_write(&self.db).await?;
        lock_as_editor(&txn, ctx).await?;
        let field = if reel { "character" } else { "portrait" };
        starting_picture(&txn, ws, ask.portrait, field).await?;
        let options = ReelOptions {
            video: VideoOptions {
                shape: ask.shape.as_str().to_owned(),
                seconds: 0,
                source: Some(ask.portrait.0),
            },
            script: script.to_owned(),
            voice: voice.id.clone(),
            voice_name: voice.name.clone(),
            voice_model: speakers.speech.model().to_owned(),
        };
        let provider = format!(
            "{} and {}",
            speakers.speech.provider(),
            generator.provider()
        );
        let (kind, limit, what) = if reel {
            ("reel", Limit::AiReels, "a reel".to_owned())
        } else {
            (
                "character",
                Limit::AiVideos,
                format!("a {} character video", ask.shape.as_str()),
            )
        };
        let new = NewGeneration {
            kind,
            limit,
            room: ROOM_FOR_A_REEL,
            summary: format!(
                "asked {provider} for {what} of a library portrait speaking with the voice {}",
                voice.name
            ),
            provider,
            model: generator.model().to_owned(),
            prompt: if prompt.is_empty() {
                DEFAULT_MOTION.to_owned()
            } else {
                prompt.to_owned()
            },
            options: serde_json::to_string(&options).map_err(anyhow::Error::from)?,
            attempts: 8,
        };
        let row = super::generations::open(self, &txn, ws, actor, new).await?;
        txn.commit().await?;
        self.wake.notify_one();
        Ok(row)
    }
}

/// One run of a character video: the voice-over (once), the request to the provider (once,
/// by its key), a look at it, and at the end the video kept.
pub(crate) async fn make_character(
    services: &Services,
    row: media_generation::Model,
) -> Result<(), Failure> {
    let ai = services.ai.as_ref();
    let (Some(characters), Some(speech)) = (
        ai.and_then(|ai| ai.characters.clone()),
        ai.and_then(|ai| ai.speech.clone()),
    ) else {
        return Err(Failure::Ends(
            format!(
                "This instance no longer makes a {} from a portrait; your monthly count was \
                 given back.",
                noun(&row)
            ),
            Count::GivenBack,
        ));
    };
    let options: ReelOptions = serde_json::from_str(&row.options).map_err(|_| unreadable())?;
    let at = |end| super::generations::stored_at(row.workspace_id, row.id, end);
    let voice_key = at(".voice.mp3");
    let (task, sent_at) = match (row.provider_task.clone(), row.sent_at) {
        (Some(task), Some(sent_at)) => (task, sent_at),
        _ => {
            if !start(services, row.id).await? {
                return Ok(());
            }
            speak_once(services, &speech, &row, &options, &voice_key).await?;
            match send(services, &characters, &row, &options, &voice_key).await? {
                Some(sent) => sent,
                None => {
                    super::generations::forget_files(services, row.id).await;
                    return Ok(());
                }
            }
        }
    };
    let tracker = characters.tracker();
    let Some((task, outputs)) = look(services, tracker, &row, &task, sent_at).await? else {
        super::generations::forget_files(services, row.id).await;
        return Ok(());
    };
    let key = at(".mp4");
    let kept = keep_output(services, tracker, &row, &task, outputs, &key).await?;
    let prompt = format!(
        "Character: {}\n\nVoice-over ({}, {}): {}",
        row.prompt, options.voice_name, options.voice_model, options.script
    );
    let made = made_video(services, key, kept, Some(prompt)).await?;
    keep_made(services, &row, &made).await?;
    // The voice-over is in the video now.
    super::generations::forget_files(services, row.id).await;
    Ok(())
}

/// A key for a request, chosen before it is sent: a random UUID (version 4).
fn request_key() -> String {
    let mut bytes: [u8; 16] = rand::random();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// Hands the portrait and the voice-over to the provider and starts the generation under the
/// request's key (recorded first); the generation's id and when it was sent, or none when the
/// generation ended meanwhile.
async fn send(
    services: &Services,
    characters: &Characters,
    row: &media_generation::Model,
    options: &ReelOptions,
    voice_key: &str,
) -> Result<Option<(String, chrono::DateTime<chrono::Utc>)>, Failure> {
    let generator = &characters.generator;
    let provider = generator.provider().to_owned();
    let what = noun(row);
    let failed = |err| provider_failure(&provider, what, err);
    // A run that takes over after the request was sent (its answer lost, or the worker gone
    // before it was recorded) finds it at the provider under its key, and sends nothing again.
    if let Some(key) = &row.provider_task {
        match generator.task(key).await {
            Ok(_) => {
                let now = crate::now();
                let recorded = record_sent(services, row.id, key, now).await?;
                return Ok(recorded.then(|| (key.clone(), now)));
            }
            // Not there: it was never started.
            Err(AiError::Invalid(_)) => {}
            Err(err) => return Err(failed(err)),
        }
    }
    let ws = WorkspaceId(row.workspace_id);
    if !super::generations::still_agreed(services, ws).await?
        || !row.provider.ends_with(generator.provider())
        || generator.model() != row.model
    {
        return Err(Failure::Ends(
            format!(
                "AI was turned off in this workspace, or this instance's character provider \
                 changed, before the {what} was started: the portrait was not sent, and your \
                 monthly count was given back."
            ),
            Count::GivenBack,
        ));
    }
    let shape = VideoShape::parse(&options.video.shape).ok_or_else(unreadable)?;
    let key = match &row.provider_task {
        Some(key) => key.clone(),
        None => match record_key(services, row).await? {
            Some(key) => key,
            // Cancelled meanwhile.
            None => return Ok(None),
        },
    };
    let portrait = match options.video.source {
        Some(id) => super::media_in(&services.db, ws, id).await.ok(),
        None => None,
    };
    let Some(portrait) = portrait else {
        return Err(Failure::Ends(
            format!(
                "The portrait was deleted from the library before it was sent; no {what} was \
                 made, and your monthly count was given back."
            ),
            Count::GivenBack,
        ));
    };
    let image = picture_file(services, &portrait, "portrait").await?;
    let image = generator
        .upload(AssetKind::Image, &image)
        .await
        .map_err(failed)?;
    let voice = services
        .objects
        .get(voice_key)
        .await
        .map_err(ServiceError::from)?;
    let voice = InputFile {
        bytes: voice.to_vec(),
        mime: "audio/mpeg",
        filename: "voice.mp3".to_owned(),
    };
    let voice = generator
        .upload(AssetKind::Audio, &voice)
        .await
        .map_err(failed)?;
    let request = CharacterRequest {
        portrait: image,
        voice,
        prompt: row.prompt.clone(),
        shape,
        key,
    };
    let id = generator.start(&request).await.map_err(failed)?;
    let now = crate::now();
    if !record_sent(services, row.id, &id, now).await? {
        // Ended meanwhile (the workspace was deleted): the provider cannot be told to stop, so
        // its video is not fetched.
        tracing::info!("a character video ended while it was being sent");
        return Ok(None);
    }
    Ok(Some((id, now)))
}

/// Records a new request key for generation `row`, under the workspace's lock so that a cancel
/// either comes first (and none is recorded) or sees the key (and is refused: what is sent
/// from then on cannot be stopped); none when the generation has ended.
async fn record_key(
    services: &Services,
    row: &media_generation::Model,
) -> Result<Option<String>, Failure> {
    use sea_orm::sea_query::Expr;
    let key = request_key();
    let txn = store::begin_write(&services.db)
        .await
        .map_err(ServiceError::from)?;
    lock_workspace(&txn, WorkspaceId(row.workspace_id)).await?;
    let saved = media_generation::Entity::update_many()
        .col_expr(
            media_generation::Column::ProviderTask,
            Expr::value(key.clone()),
        )
        .filter(media_generation::Column::Id.eq(row.id))
        .filter(media_generation::Column::ProviderTask.is_null())
        .filter(media_generation::Column::State.is_in(["queued", "running"]))
        .exec(&txn)
        .await
        .map_err(ServiceError::from)?;
    txn.commit().await.map_err(ServiceError::from)?;
    Ok((saved.rows_affected > 0).then_some(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_keys_are_version_4_uuids() {
        let key = request_key();
        assert_eq!(key.len(), 36);
        assert_eq!(&key[14..15], "4");
        assert!("89ab".contains(&key[19..20]), "{key}");
        assert_ne!(key, request_key());
    }
}

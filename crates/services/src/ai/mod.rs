//! The AI assistant: which provider the instance sends text to, whether a workspace has agreed
//! to it, the brand profile every prompt carries ([`brand`]), and the composer's Write, Enhance
//! and Suggest ([`assist`]), whose answers are fitted to each platform's limits ([`fit`]) before
//! they are offered.
//!
//! AI exists only when the operator configured a provider (`[ai]`, or the simulator in sandbox
//! mode). A workspace starts with it off: an owner or admin reads what is sent to whom (the
//! [`Disclosure`], rendered from the configuration) and turns it on. What they agreed to is kept
//! as the disclosure's fingerprint, so that a different provider, model or address counts as
//! off until someone agrees again.
//!
//! What a provider receives is what the person submitted (a brief, the draft), the platforms'
//! names and limits, and the workspace's brand profile: never an address, a member's name, a
//! token or another workspace's data.

pub mod assist;
pub mod brand;
pub mod fit;
pub mod prompt_help;
pub(crate) mod prompts;
pub mod request;

use crate::workspaces::{Membership, lock_as_member};
use crate::{Result, ServiceError, Services, activity};
use domain::Role;
use providers::ai::character::CharacterGenerator;
use providers::ai::images::ImageGenerator;
use providers::ai::speech::SpeechGenerator;
use providers::ai::video::{Tasks, VideoGenerator};
use providers::ai::{AiError, Moderator, TextGenerator};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::sync::Arc;
use std::time::Duration;
use store::entities::{user, workspace};

/// The instance's text provider.
#[derive(Clone)]
pub struct Assistant {
    pub generator: Arc<dyn TextGenerator>,
    /// Checks prompts and suggestions (none: the server has no moderation endpoint).
    pub moderator: Option<Arc<dyn Moderator>>,
    /// Makes images for the media library (none: the instance generates no images).
    pub images: Option<Arc<dyn ImageGenerator>>,
    /// Makes videos for the media library (none: the instance generates no videos).
    pub videos: Option<Videos>,
    /// Reads reels' scripts aloud (none: the instance makes no reels).
    pub speech: Option<Arc<dyn SpeechGenerator>>,
    /// Makes character videos from a portrait and a voice-over (none: the instance makes
    /// none).
    pub characters: Option<Characters>,
    pub disclosure: Disclosure,
}

/// The instance's character-video provider and how its generations are followed.
#[derive(Clone)]
pub struct Characters {
    pub generator: Arc<dyn CharacterGenerator>,
    /// The wait between two looks at a generation.
    pub poll: Duration,
    /// How long a generation may take from when it was sent; then it is given up.
    pub time_limit: Duration,
}

/// A provider's tasks as the jobs follow them: how often they are looked at and for how long.
#[derive(Clone, Copy)]
pub struct Tracker<'a> {
    pub tasks: &'a dyn Tasks,
    pub poll: Duration,
    pub time_limit: Duration,
}

impl Videos {
    pub fn tracker(&self) -> Tracker<'_> {
        Tracker {
            tasks: &*self.generator,
            poll: self.poll,
            time_limit: self.time_limit,
        }
    }
}

impl Characters {
    pub fn tracker(&self) -> Tracker<'_> {
        Tracker {
            tasks: &*self.generator,
            poll: self.poll,
            time_limit: self.time_limit,
        }
    }
}

/// The instance's video provider and how its tasks are followed.
#[derive(Clone)]
pub struct Videos {
    pub generator: Arc<dyn VideoGenerator>,
    /// The wait between two looks at a task.
    pub poll: Duration,
    /// How long a task may take from when it was sent; then it is stopped and the
    /// generation fails.
    pub time_limit: Duration,
}

/// What people are told about the provider, from the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disclosure {
    /// `OpenAI`, or the operator's name for a compatible server.
    pub provider: String,
    pub model: String,
    /// Where requests go: the base URL's origin (`https://api.openai.com`).
    pub address: String,
    /// The moderation model, when texts are checked.
    pub moderation: Option<String>,
    /// The image model, when the instance generates images (same provider and address).
    pub image_model: Option<String>,
    /// The video provider, when the instance generates videos.
    pub video: Option<VideoDisclosure>,
    /// The voice provider, when the instance makes reels with a voice-over.
    pub speech: Option<SpeechDisclosure>,
    /// The character-video provider, when the instance makes character videos.
    pub character: Option<CharacterDisclosure>,
}

/// What people are told about the character-video provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CharacterDisclosure {
    /// `Hedra`.
    pub provider: String,
    /// The API's origin (`https://api.hedra.com`).
    pub address: String,
    pub model: String,
}

/// What people are told about the voice provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpeechDisclosure {
    /// `ElevenLabs`.
    pub provider: String,
    /// The API's origin (`https://api.elevenlabs.io`).
    pub address: String,
    pub model: String,
}

/// What people are told about the video provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoDisclosure {
    /// `Runway`.
    pub provider: String,
    /// The API's origin (`https://api.dev.runwayml.com`).
    pub address: String,
    /// The offered models, for people (`Gen-4.5`).
    pub models: Vec<String>,
}

impl Disclosure {
    /// What a workspace agrees to: provider, model and address. A change of any of them asks
    /// for agreement again.
    pub fn fingerprint(&self) -> String {
        let mut print = format!("{}|{}|{}", self.provider, self.model, self.address);
        if let Some(images) = &self.image_model {
            print.push_str("|images:");
            print.push_str(images);
        }
        if let Some(video) = &self.video {
            print.push_str("|video:");
            print.push_str(&video.provider);
            print.push('@');
            print.push_str(&video.address);
        }
        if let Some(speech) = &self.speech {
            print.push_str("|speech:");
            print.push_str(&speech.provider);
            print.push('@');
            print.push_str(&speech.address);
        }
        if let Some(character) = &self.character {
            print.push_str("|character:");
            print.push_str(&character.provider);
            print.push('@');
            print.push_str(&character.address);
        }
        print
    }

    /// "OpenAI (gpt-4o-mini)".
    pub fn label(&self) -> String {
        format!("{} ({})", self.provider, self.model)
    }

    /// What the provider receives, one item per line, for the disclosure page and the README.
    pub fn what_is_sent(&self) -> Vec<String> {
        let mut sent = vec![
            "The brief or the draft text you submit to AI Write, Enhance or Suggest, and the \
             tone and length you choose."
                .to_owned(),
            "The names and text limits of the platforms the post is for.".to_owned(),
            "This workspace's brand profile (name, what it does, audience, voice, words to use \
             and to avoid, example posts)."
                .to_owned(),
            "For the agent: the conversation so far (your messages, its answers and the drafts \
             it wrote), and what its tools read from this workspace when a question needs it \
             (posts: id, state, time, the first 280 characters and the accounts' platform and \
             handle; connected accounts: id, platform and handle; free times; campaigns: id, \
             name and dates; files: id, name and kind)."
                .to_owned(),
        ];
        if let Some(model) = &self.image_model {
            sent.push(format!(
                "For images made in the media library: the prompt you write and the style and \
                 shape you choose, to {}'s image model ({model}). The image it makes is stored \
                 in this workspace's library.",
                self.provider
            ));
        }
        if let Some(video) = &self.video {
            sent.push(format!(
                "For videos made in the media library: the prompt you write, the model, shape \
                 and length you choose and, for a video made from a picture, that picture from \
                 the library (handed over as a temporary upload, never at a public address), to \
                 {} at {}. The video it makes is stored in this workspace's library.",
                video.provider, video.address
            ));
        }
        if let Some(speech) = &self.speech {
            sent.push(format!(
                "For reels: the voice-over's script you write and the voice you choose, to {} \
                 at {} (model {}), which reads it aloud; the scenes' prompt goes to the video \
                 provider as for a video, never the script.",
                speech.provider, speech.address, speech.model
            ));
        }
        if let (Some(character), Some(speech)) = (&self.character, &self.speech) {
            sent.push(format!(
                "For character videos: the script you write and the voice you choose, to {} \
                 (which reads it aloud, as for reels); then the portrait you choose from the \
                 library, that voice-over and the prompt for how the character moves, to {} at \
                 {} (model {}), which makes the portrait speak. The video it makes is stored in \
                 this workspace's library.",
                speech.provider, character.provider, character.address, character.model
            ));
        }
        if self.image_model.is_some() || self.video.is_some() || self.character.is_some() {
            sent.push(
                "For Enhance on the Generate forms: the prompt, scenes or script you typed \
                 there (and, for a script, this workspace's brand profile), to be rewritten."
                    .to_owned(),
            );
        }
        if let Some(model) = &self.moderation {
            sent.push(format!(
                "The same text, and the suggestions before they are shown, to {}'s moderation \
                 ({model}), which checks them for harmful content.",
                self.provider
            ));
        }
        sent
    }

    /// What is never added to what the person submits.
    pub fn never_sent() -> &'static [&'static str] {
        &[
            "your e-mail address or the names of the workspace's members",
            "passwords, sign-in sessions or the tokens of connected accounts",
            "posts, files or data you did not submit, or anything of another workspace",
        ]
    }
}

/// Whether a workspace can use AI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AiState {
    /// The instance has no AI provider: nothing AI is shown.
    Unavailable,
    /// Configured, but this workspace has not agreed (or agreed to another provider).
    Off,
    On,
}

impl Services {
    /// Whether `ctx`'s workspace can use AI now (from the membership as it was read).
    pub fn ai_state(&self, ctx: &Membership) -> AiState {
        match &self.ai {
            None => AiState::Unavailable,
            Some(ai) => {
                if ctx.workspace.ai_enabled_for.as_deref()
                    == Some(ai.disclosure.fingerprint().as_str())
                {
                    AiState::On
                } else {
                    AiState::Off
                }
            }
        }
    }

    /// Turns AI on (agreeing to the current provider) or off for the workspace. Owners and
    /// admins only; logged.
    pub async fn set_ai(&self, ctx: &Membership, actor: &user::Model, on: bool) -> Result<()> {
        let ai = self.ai.as_ref().ok_or(ServiceError::NotFound)?;
        let txn = store::begin_write(&self.db).await?;
        let me = lock_as_member(&txn, ctx).await?;
        if !Role::parse(&me.role).is_ok_and(|r| r.can_manage_members()) {
            return Err(ServiceError::Forbidden(
                "Only owners and admins can turn AI on or off for this workspace.".into(),
            ));
        }
        let value = on.then(|| ai.disclosure.fingerprint());
        workspace::Entity::update_many()
            .col_expr(workspace::Column::AiEnabledFor, Expr::value(value))
            .col_expr(workspace::Column::UpdatedAt, Expr::value(crate::now()))
            .filter(workspace::Column::Id.eq(ctx.workspace.id))
            .exec(&txn)
            .await?;
        let summary = if on {
            format!("turned AI on: text goes to {}", ai.disclosure.label())
        } else {
            "turned AI off".to_owned()
        };
        activity::record(
            &txn,
            ctx.workspace_id(),
            Some(actor),
            activity::Entry {
                action: if on { "ai.turned_on" } else { "ai.turned_off" },
                object_type: "workspace",
                object_id: Some(ctx.workspace.id),
                summary,
            },
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// The assistant, when AI is on for the workspace; otherwise a refusal that says why.
    pub(crate) fn assistant_for(&self, ctx: &Membership) -> Result<&Arc<Assistant>> {
        let ai = self.ai.as_ref().ok_or(ServiceError::NotFound)?;
        match self.ai_state(ctx) {
            AiState::On => Ok(ai),
            _ => Err(ServiceError::Forbidden(
                "AI is off in this workspace. An owner or admin can turn it on on the \
                 workspace's AI page."
                    .into(),
            )),
        }
    }
}

/// Where a post's text came from: the provider and model of a suggestion, and when it was
/// taken.
pub(crate) struct Provenance {
    pub provider: String,
    pub model: String,
    pub accepted_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The provenance of generation `id` when it is `author`'s own in `ws`, one of its suggestions
/// was taken, and what was taken is still in the post: most of a text's words in the post's
/// text or one of its versions (`texts`), a first comment's in `comment`, one of the hashtags in
/// the text. `None` otherwise: a stale, foreign or unrelated id records nothing.
pub(crate) async fn provenance<C: sea_orm::ConnectionTrait>(
    conn: &C,
    ws: domain::WorkspaceId,
    author: &user::Model,
    id: i64,
    texts: &[&str],
    comment: &str,
) -> Result<Option<Provenance>> {
    use assist::{Suggestion, Target};
    use store::entities::ai_generation;
    let Some(g) = ai_generation::Entity::find_by_id(id)
        .filter(ai_generation::Column::WorkspaceId.eq(ws.0))
        .filter(ai_generation::Column::UserId.eq(author.id))
        .filter(ai_generation::Column::AcceptedAt.is_not_null())
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    let suggestions: Vec<Suggestion> = serde_json::from_str(&g.output).unwrap_or_default();
    let post_words = words(&texts.join(" "));
    let used = suggestions.iter().any(|s| match &s.target {
        Target::Body | Target::Variant(_) => mostly_in(&words(&s.text), &post_words),
        Target::FirstComment => mostly_in(&words(&s.text), &words(comment)),
        Target::Hashtags => s.text.split_whitespace().any(|tag| {
            texts
                .iter()
                .any(|t| t.to_lowercase().contains(&tag.to_lowercase()))
        }),
    });
    Ok(used.then_some(Provenance {
        provider: g.provider,
        model: g.model,
        accepted_at: g.accepted_at,
    }))
}

/// The words of a text, lower-cased.
fn words(text: &str) -> std::collections::HashSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Whether at least half of `some` are in `all` (an edited suggestion still counts; another
/// text does not).
fn mostly_in(
    some: &std::collections::HashSet<String>,
    all: &std::collections::HashSet<String>,
) -> bool {
    !some.is_empty() && some.iter().filter(|w| all.contains(*w)).count() * 2 >= some.len()
}

/// Where a post's text came from, for its page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostProvenance {
    pub provider: String,
    pub model: String,
    /// Who took the suggestion (`None`: a former member).
    pub accepted_by: Option<String>,
    pub accepted_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl Services {
    /// Where `post`'s text came from, when it came from an AI suggestion.
    pub async fn post_provenance(
        &self,
        post: &store::entities::post::Model,
    ) -> Result<Option<PostProvenance>> {
        let (Some(provider), Some(model)) = (&post.ai_provider, &post.ai_model) else {
            return Ok(None);
        };
        let accepted_by = match post.ai_accepted_by {
            Some(id) => user::Entity::find_by_id(id)
                .one(&self.db)
                .await?
                .map(|u| u.name),
            None => None,
        };
        Ok(Some(PostProvenance {
            provider: provider.clone(),
            model: model.clone(),
            accepted_by,
            accepted_at: post.ai_accepted_at,
        }))
    }
}

/// The disclosure's fingerprint the workspace agreed to (none while AI is off there), read
/// now: a background job checks it before it sends anything.
pub(crate) async fn agreed_fingerprint<C: sea_orm::ConnectionTrait>(
    conn: &C,
    ws: domain::WorkspaceId,
) -> Result<Option<String>> {
    use sea_orm::QuerySelect;
    let agreed: Option<Option<String>> = workspace::Entity::find_by_id(ws.0)
        .select_only()
        .column(workspace::Column::AiEnabledFor)
        .into_tuple()
        .one(conn)
        .await?;
    Ok(agreed.flatten())
}

/// Tokens reserved for one request before the provider is asked.
pub(crate) struct Reservation {
    /// The month they are counted in.
    month: String,
    tokens: u64,
}

impl Services {
    /// Reserves the most one answer may cost (`prompt_bytes` of prompt, about three to a
    /// token, and `answer` tokens) under the workspace's lock, so that requests at once cannot
    /// together spend past the monthly budget; refused with the plan's limit when it would.
    pub(crate) async fn reserve_tokens(
        &self,
        ws: domain::WorkspaceId,
        prompt_bytes: usize,
        answer: u32,
    ) -> Result<Reservation> {
        use domain::plans::Limit;
        let tokens =
            u64::try_from(prompt_bytes.div_ceil(3)).unwrap_or(u64::MAX) + u64::from(answer);
        let now = crate::now();
        let txn = store::begin_write(&self.db).await?;
        crate::workspaces::lock_workspace(&txn, ws).await?;
        self.entitle(&txn, ws, crate::plans::Need::More(Limit::AiTokens, tokens))
            .await?;
        let month = crate::plans::month_of(&txn, ws, now).await?;
        crate::plans::count_up(&txn, ws, Limit::AiTokens, &month, tokens, now).await?;
        txn.commit().await?;
        Ok(Reservation { month, tokens })
    }
}

impl Reservation {
    /// Makes the reservation what was `spent`, in the month it was made (counted whatever the
    /// plan: the billing page shows it when plans are on).
    pub(crate) async fn settle<C: sea_orm::ConnectionTrait>(
        &self,
        conn: &C,
        ws: domain::WorkspaceId,
        spent: u64,
    ) -> Result<()> {
        use domain::plans::Limit;
        if spent > self.tokens {
            let extra = spent - self.tokens;
            crate::plans::count_up(conn, ws, Limit::AiTokens, &self.month, extra, crate::now())
                .await
        } else {
            crate::plans::count_down(conn, ws, Limit::AiTokens, &self.month, self.tokens - spent)
                .await
        }
    }
}

/// How long the assistant's answers are kept: long enough to take a suggestion from a page
/// left open; a post keeps its provenance itself.
pub const GENERATIONS_KEPT: chrono::Duration = chrono::Duration::days(30);

/// Deletes the assistant's answers older than [`GENERATIONS_KEPT`] (the daily retention run).
pub(crate) async fn purge_generations<C: sea_orm::ConnectionTrait>(
    conn: &C,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<u64> {
    use store::entities::ai_generation;
    let res = ai_generation::Entity::delete_many()
        .filter(ai_generation::Column::CreatedAt.lt(now - GENERATIONS_KEPT))
        .exec(conn)
        .await?;
    Ok(res.rows_affected)
}

/// The most a provider's "wait" is waited for in a request a person is waiting on; a longer
/// one is told to them.
pub(crate) const WAIT_AT_MOST: Duration = Duration::from_secs(3);

/// Refuses what the provider's moderation flags (when it has one).
pub(crate) async fn moderate(ai: &Assistant, field: &'static str, texts: &[String]) -> Result<()> {
    let Some(moderator) = &ai.moderator else {
        return Ok(());
    };
    let verdicts = moderator
        .moderate(texts)
        .await
        .map_err(|e| failure(field, e))?;
    if let Some(flagged) = verdicts.iter().find(|v| v.flagged) {
        return Err(ServiceError::invalid(
            field,
            format!(
                "{}'s moderation flagged this text ({}), so it was not sent for writing. Change \
                 it and try again.",
                ai.disclosure.provider,
                flagged.categories.join(", ")
            ),
        ));
    }
    Ok(())
}

/// Calls the provider, waiting once as told after a short rate limit.
pub(crate) async fn complete(
    ai: &Assistant,
    request: &providers::ai::Request,
) -> Result<providers::ai::Completion, AiError> {
    match ai.generator.complete(request).await {
        Err(AiError::RateLimited { retry_after }) if retry_after <= WAIT_AT_MOST => {
            tokio::time::sleep(retry_after).await;
            ai.generator.complete(request).await
        }
        other => other,
    }
}

/// A provider's failure as the person reads it, shown next to `field`. Nothing was changed.
pub(crate) fn failure(field: &'static str, err: AiError) -> ServiceError {
    match err {
        AiError::RateLimited { retry_after } => ServiceError::Unavailable(format!(
            "The AI provider is busy and asks to wait {}. Nothing was changed; try again then.",
            crate::human_wait(retry_after)
        )),
        AiError::Refused { reason } => ServiceError::invalid(
            field,
            format!(
                "The AI provider refused this request: {reason} Change the text and try again."
            ),
        ),
        AiError::ContextTooLong => ServiceError::invalid(
            field,
            "This is too long for the AI model. Shorten the text or the brand profile's \
             examples and try again.",
        ),
        AiError::Expired => {
            ServiceError::Unavailable("The AI provider's file had expired. Try again.".into())
        }
        AiError::Truncated => ServiceError::Unavailable(
            "The AI model stopped before finishing its answer. Try again, or ask for a shorter \
             post."
                .into(),
        ),
        AiError::Timeout => ServiceError::Unavailable(
            "The AI provider did not answer in time. Nothing was changed; try again.".into(),
        ),
        AiError::Unavailable(why) => {
            tracing::warn!(error = %why, "the AI provider could not be reached");
            ServiceError::Unavailable(
                "The AI provider could not be reached. Nothing was changed; try again later."
                    .into(),
            )
        }
        AiError::Credentials(why) => {
            tracing::error!(error = %why, "the AI provider refused this instance's key");
            ServiceError::Unavailable(
                "The AI provider refused this instance's key. Tell the operator of this \
                 instance."
                    .into(),
            )
        }
        AiError::Invalid(why) => {
            tracing::warn!(error = %why, "the AI provider's answer could not be used");
            ServiceError::Unavailable(
                "The AI provider's answer could not be used. Nothing was changed; try again."
                    .into(),
            )
        }
    }
}

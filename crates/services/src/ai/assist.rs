//! The composer's Assist: AI Write (a post from a brief), Enhance (the current text, improved)
//! and AI Suggest (hashtags, a first comment, a version per platform).
//!
//! Each answer is a set of suggestions, kept as a generation of the person who asked, and only
//! a suggestion: the person takes one with "Use this" ([`Services::accept_suggestion`]), edits
//! it, and saves the post themselves. Before anything is offered it is fitted to the limits of
//! every platform it is for (asked again, shorter, then cut at a sentence), and checked by the
//! provider's moderation when it has one.

use super::fit;
use super::prompts;
pub use super::request::{Action, AssistRequest, Length, MAX_BRIEF, MAX_CTA, MAX_TEXT, Tone};
use super::{Assistant, complete, failure, moderate};
use crate::plans::Need;
use crate::workspaces::Membership;
use crate::{Result, ServiceError, Services};
use domain::Platform;
use domain::plans::{Feature, Limit};
use providers::ai::{AiError, Chunk, Message, Output, Request, Usage};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use store::entities::{ai_generation, user};

/// Where a suggestion goes in the composer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// Replaces the post's text.
    Body,
    /// Added to the post's text on a line of its own.
    Hashtags,
    FirstComment,
    /// The text for the accounts of one platform (its slug).
    Variant(String),
}

impl Target {
    pub fn label(&self) -> String {
        match self {
            Target::Body => "Post text".to_owned(),
            Target::Hashtags => "Hashtags".to_owned(),
            Target::FirstComment => "First comment".to_owned(),
            Target::Variant(slug) => format!("For {}", Platform::label_of(slug)),
        }
    }
}

/// One suggestion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suggestion {
    pub target: Target,
    pub text: String,
    /// "Shortened to fit X", when the text was cut.
    pub note: Option<String>,
}

/// What Assist offers.
#[derive(Debug, Clone)]
pub struct Offer {
    pub generation: i64,
    pub provider: String,
    pub model: String,
    pub suggestions: Vec<Suggestion>,
    pub tokens: u64,
}

/// A suggestion the person took.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub generation: i64,
    pub suggestion: Suggestion,
}

/// A piece of a streamed answer of Assist.
#[derive(Debug)]
pub enum Streamed {
    /// More of the text as the model writes it (before it is fitted and checked).
    Text(String),
    /// The suggestions, as [`Services::assist`] returns them.
    Done(Offer),
    Failed(ServiceError),
}

/// A request that passed the checks, with what its prompts need.
struct Prepared {
    ai: std::sync::Arc<Assistant>,
    request: AssistRequest,
    brand: super::brand::BrandProfile,
    user_text: String,
    /// The tokens reserved for the request.
    reserved: super::Reservation,
}

impl Prepared {
    fn first_messages(&self) -> Vec<Message> {
        vec![
            Message::system(prompts::system(&self.request, &self.brand)),
            Message::user(&self.user_text),
        ]
    }

    /// The suggestions of the action; `first` is the model's first answer when it was already
    /// received (streamed).
    async fn suggestions(
        &self,
        first: Option<providers::ai::Completion>,
        spent: &mut Spent,
    ) -> Result<Vec<Suggestion>> {
        match self.request.action {
            Action::Write | Action::Enhance => Ok(vec![one_text(self, first, spent).await?]),
            Action::Suggest => suggest(self, spent).await,
        }
    }

    /// The first answer of Write or Enhance, streamed: its text is sent on `tx` as it comes.
    async fn stream_first(
        &self,
        tx: &tokio::sync::mpsc::Sender<Streamed>,
    ) -> Result<providers::ai::Completion> {
        let field = self.request.field();
        let request = request_for(&self.request, self.first_messages());
        let mut pieces = match self.ai.generator.stream(&request).await {
            Err(AiError::RateLimited { retry_after }) if retry_after <= super::WAIT_AT_MOST => {
                tokio::time::sleep(retry_after).await;
                self.ai.generator.stream(&request).await
            }
            other => other,
        }
        .map_err(|e| failure(field, e))?;
        let mut raw = String::new();
        let mut shown = 0;
        while let Some(piece) = pieces.recv().await {
            match piece.map_err(|e| failure(field, e))? {
                Chunk::Text(text) => {
                    raw.push_str(&text);
                    let so_far = partial_text(&raw);
                    if so_far.len() > shown {
                        let _ = tx.send(Streamed::Text(so_far[shown..].to_owned())).await;
                        shown = so_far.len();
                    }
                }
                Chunk::Done(completion) => return Ok(completion),
            }
        }
        Err(failure(
            field,
            AiError::Invalid("the stream ended without an answer".into()),
        ))
    }
}

/// The part of the `text` property's value that has arrived, from the start of a JSON object
/// still being written (`{"text": "Fresh bre`): escapes decoded, an escape cut in half left
/// for the next piece.
fn partial_text(json: &str) -> String {
    let Some(key) = json.find("\"text\"") else {
        return String::new();
    };
    let rest = json[key + 6..].trim_start();
    let Some(rest) = rest.strip_prefix(':') else {
        return String::new();
    };
    let Some(rest) = rest.trim_start().strip_prefix('"') else {
        return String::new();
    };
    let mut out = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => break,
            '\\' => {
                let decoded = match chars.next() {
                    Some('n') => '\n',
                    Some('t') => '\t',
                    Some('r') => '\r',
                    Some('b' | 'f') => ' ',
                    Some('u') => {
                        let hex: String = chars.by_ref().take(4).collect();
                        match u32::from_str_radix(&hex, 16)
                            .ok()
                            .filter(|_| hex.len() == 4)
                        {
                            // A surrogate half waits for the whole answer to be read.
                            Some(n) => match char::from_u32(n) {
                                Some(c) => c,
                                None => break,
                            },
                            None => break,
                        }
                    }
                    Some(other) => other,
                    None => break,
                };
                out.push(decoded);
            }
            c => out.push(c),
        }
    }
    out
}

/// Tokens used by the calls of one request.
#[derive(Default)]
struct Spent {
    usage: Usage,
    model: Option<String>,
}

impl Spent {
    fn add(&mut self, completion: &providers::ai::Completion) {
        self.usage.prompt_tokens += completion.usage.prompt_tokens;
        self.usage.completion_tokens += completion.usage.completion_tokens;
        self.model = Some(completion.model.clone());
    }
}

impl Services {
    /// Asks the AI for suggestions. Nothing of the post changes: the suggestions are kept for
    /// the person to take one.
    #[tracing::instrument(skip_all, fields(workspace = ctx.workspace.id, action = input.action.slug()))]
    pub async fn assist(
        &self,
        ctx: &Membership,
        author: &user::Model,
        input: &AssistRequest,
    ) -> Result<Offer> {
        let prepared = self.prepare(ctx, input).await?;
        let mut spent = Spent::default();
        let suggestions = prepared.suggestions(None, &mut spent).await;
        self.finish(ctx, author, &prepared, suggestions, spent)
            .await
    }

    /// [`Services::assist`], with the text of Write and Enhance sent piece by piece as the
    /// model writes it, then the offer (fitted and checked like any other). What is refused
    /// before the provider is asked (input, plan, moderation) is the error returned here.
    #[tracing::instrument(skip_all, fields(workspace = ctx.workspace.id, action = input.action.slug()))]
    pub async fn assist_stream(
        &self,
        ctx: &Membership,
        author: &user::Model,
        input: &AssistRequest,
    ) -> Result<tokio::sync::mpsc::Receiver<Streamed>> {
        let prepared = self.prepare(ctx, input).await?;
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        let (services, ctx, author) = (self.clone(), ctx.clone(), author.clone());
        tokio::spawn(async move {
            let mut spent = Spent::default();
            let suggestions = match prepared.request.action {
                Action::Suggest => prepared.suggestions(None, &mut spent).await,
                Action::Write | Action::Enhance => match prepared.stream_first(&tx).await {
                    Ok(first) => {
                        spent.add(&first);
                        prepared.suggestions(Some(first), &mut spent).await
                    }
                    Err(err) => Err(err),
                },
            };
            let last = match services
                .finish(&ctx, &author, &prepared, suggestions, spent)
                .await
            {
                Ok(offer) => Streamed::Done(offer),
                Err(err) => Streamed::Failed(err),
            };
            // The person may have left; what was made is kept and counted all the same.
            let _ = tx.send(last).await;
        });
        Ok(rx)
    }

    /// The checks before the provider is asked: AI on, the person may write, the plan allows
    /// it, the input fits, and the provider's moderation passes the text.
    async fn prepare(&self, ctx: &Membership, input: &AssistRequest) -> Result<Prepared> {
        let ai = self.assistant_for(ctx)?;
        if !ctx.role.can_publish() {
            return Err(ServiceError::Forbidden(
                "Viewers cannot write posts, so AI Assist is not for them. Ask an owner or admin \
                 for the editor role."
                    .into(),
            ));
        }
        let ws = ctx.workspace_id();
        self.entitle(&self.db, ws, Need::Feature(Feature::AiCaptions))
            .await?;
        self.entitle(&self.db, ws, Need::More(Limit::AiTokens, 1))
            .await?;
        let request = input.checked()?;
        let user_text = prompts::user(&request);
        moderate(ai, request.field(), std::slice::from_ref(&user_text)).await?;
        let brand = super::brand::profile_of(&self.db, ws).await?.0;
        // The first answer's most tokens are reserved under the workspace's lock, so that
        // requests at once cannot together spend past the budget; what is not used is given
        // back when the answer is in.
        let system = prompts::system(&request, &brand);
        let reserved = self
            .reserve_tokens(ws, system.len() + user_text.len(), MAX_ANSWER)
            .await?;
        Ok(Prepared {
            ai: ai.clone(),
            request,
            brand,
            user_text,
            reserved,
        })
    }

    /// Moderates the suggestions, keeps them as a generation and counts the tokens spent (also
    /// those of a request that failed after the provider answered).
    async fn finish(
        &self,
        ctx: &Membership,
        author: &user::Model,
        prepared: &Prepared,
        suggestions: Result<Vec<Suggestion>>,
        spent: Spent,
    ) -> Result<Offer> {
        let ai = &prepared.ai;
        let suggestions = match suggestions {
            Ok(suggestions) => moderated(ai, prepared.request.field(), suggestions).await,
            Err(err) => Err(err),
        };
        let ws = ctx.workspace_id();
        let tokens = spent.usage.prompt_tokens + spent.usage.completion_tokens;
        let model = spent
            .model
            .clone()
            .unwrap_or_else(|| ai.disclosure.model.clone());
        let now = crate::now();
        let txn = store::begin_write(&self.db).await?;
        prepared.reserved.settle(&txn, ws, tokens).await?;
        let suggestions = match suggestions {
            Ok(suggestions) => suggestions,
            Err(err) => {
                txn.commit().await?;
                return Err(err);
            }
        };
        let row =
            ai_generation::ActiveModel {
                workspace_id: Set(ws.0),
                user_id: Set(author.id),
                kind: Set(prepared.request.action.slug().to_owned()),
                provider: Set(ai.disclosure.provider.clone()),
                model: Set(model.clone()),
                prompt_tokens: Set(i64::try_from(spent.usage.prompt_tokens).unwrap_or(i64::MAX)),
                completion_tokens: Set(
                    i64::try_from(spent.usage.completion_tokens).unwrap_or(i64::MAX)
                ),
                output: Set(serde_json::to_string(&suggestions)
                    .map_err(|e| ServiceError::Unexpected(e.into()))?),
                accepted_at: Set(None),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        txn.commit().await?;
        tracing::info!(
            generation = row.id,
            tokens,
            suggestions = suggestions.len(),
            "AI suggestions offered"
        );
        Ok(Offer {
            generation: row.id,
            provider: ai.disclosure.provider.clone(),
            model,
            suggestions,
            tokens,
        })
    }

    /// The person's own earlier offer (to show it again).
    pub async fn offer(&self, ctx: &Membership, author: &user::Model, id: i64) -> Result<Offer> {
        let row = generation_of(self, ctx, author, id).await?;
        Ok(Offer {
            generation: row.id,
            provider: row.provider.clone(),
            model: row.model.clone(),
            suggestions: serde_json::from_str(&row.output)
                .map_err(|e| ServiceError::Unexpected(e.into()))?,
            tokens: u64::try_from(row.prompt_tokens + row.completion_tokens).unwrap_or(0),
        })
    }

    /// Takes suggestion `index` of the person's generation `id`: returns it for the composer
    /// and records when it was first taken (the post saved with it records where its text came
    /// from).
    pub async fn accept_suggestion(
        &self,
        ctx: &Membership,
        author: &user::Model,
        id: i64,
        index: usize,
    ) -> Result<Accepted> {
        self.assistant_for(ctx)?;
        if !ctx.role.can_publish() {
            return Err(ServiceError::Forbidden(
                "Viewers cannot write posts, so they cannot take a suggestion.".into(),
            ));
        }
        let row = generation_of(self, ctx, author, id).await?;
        let suggestions: Vec<Suggestion> =
            serde_json::from_str(&row.output).map_err(|e| ServiceError::Unexpected(e.into()))?;
        let suggestion = suggestions
            .get(index)
            .cloned()
            .ok_or(ServiceError::NotFound)?;
        if row.accepted_at.is_none() {
            let mut active: ai_generation::ActiveModel = row.clone().into();
            active.accepted_at = Set(Some(crate::now()));
            active.update(&self.db).await?;
        }
        Ok(Accepted {
            generation: row.id,
            suggestion,
        })
    }
}

/// The person's generation `id` in the workspace (not found for anyone else's).
async fn generation_of(
    services: &Services,
    ctx: &Membership,
    author: &user::Model,
    id: i64,
) -> Result<ai_generation::Model> {
    ai_generation::Entity::find_by_id(id)
        .filter(ai_generation::Column::WorkspaceId.eq(ctx.workspace.id))
        .filter(ai_generation::Column::UserId.eq(author.id))
        .one(&services.db)
        .await?
        .ok_or(ServiceError::NotFound)
}

/// The most tokens of one answer.
pub(crate) const MAX_ANSWER: u32 = 2_000;

/// The request with the schema of the action's answer.
fn request_for(request: &AssistRequest, messages: Vec<Message>) -> Request {
    let (name, schema) = prompts::schema(request);
    Request {
        output: Output::Json { name, schema },
        max_tokens: Some(MAX_ANSWER),
        temperature: Some(0.7),
        ..Request::new(messages)
    }
}

/// A string property of the model's JSON answer.
pub(crate) fn text_in(json: Option<&Value>, key: &str) -> Result<String, AiError> {
    json.and_then(|j| j.get(key))
        .and_then(Value::as_str)
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| AiError::Invalid(format!("the answer has no {key}")))
}

/// Write and Enhance: one text for every platform, asked again shorter when it is over the
/// strictest limit, then cut to fit. `first` is the first answer when it was already received.
async fn one_text(
    prepared: &Prepared,
    mut first: Option<providers::ai::Completion>,
    spent: &mut Spent,
) -> Result<Suggestion> {
    let (ai, request) = (&*prepared.ai, &prepared.request);
    let field = request.field();
    let mut messages = prepared.first_messages();
    let mut text = String::new();
    for attempt in 0..2 {
        let answer = match first.take() {
            Some(answer) => Ok(answer),
            None => {
                let answer = complete(ai, &request_for(request, messages.clone())).await;
                if let Ok(answer) = &answer {
                    spent.add(answer);
                }
                answer
            }
        };
        let answer = match answer {
            // An answer cut off at the limit is asked again, shorter, once.
            Err(AiError::Truncated) if attempt == 0 => {
                messages.push(Message::user(
                    "Your answer was cut off. Write it again, shorter.",
                ));
                continue;
            }
            other => other.map_err(|e| failure(field, e))?,
        };
        text = text_in(answer.json.as_ref(), "text").map_err(|e| failure(field, e))?;
        match fit::over(&request.platforms, &text) {
            None => {
                return Ok(Suggestion {
                    target: Target::Body,
                    text,
                    note: None,
                });
            }
            Some((platform, count)) if attempt == 0 => {
                messages.push(Message::assistant(answer.text.unwrap_or_default()));
                messages.push(Message::user(prompts::shorter(
                    platform,
                    count.used,
                    count.limit,
                )));
            }
            Some(_) => {}
        }
    }
    if text.is_empty() {
        return Err(failure(field, AiError::Truncated));
    }
    let mut suggestion = fitted(Target::Body, &request.platforms, text);
    if let Some(note) = &mut suggestion.note {
        note.push_str(" Read the end before you use it.");
    }
    Ok(suggestion)
}

/// AI Suggest: hashtags that fit after the text, a first comment, and a version per platform,
/// each fitted to its platform.
async fn suggest(prepared: &Prepared, spent: &mut Spent) -> Result<Vec<Suggestion>> {
    let request = &prepared.request;
    let field = request.field();
    let answer = complete(
        &prepared.ai,
        &request_for(request, prepared.first_messages()),
    )
    .await
    .map_err(|e| failure(field, e))?;
    spent.add(&answer);
    let json = answer.json.as_ref();
    let mut out = Vec::new();
    let tags: Vec<String> = json
        .and_then(|j| j.get("hashtags"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if let Some(line) = fit::hashtag_line(&request.platforms, &request.text, &tags) {
        out.push(Suggestion {
            target: Target::Hashtags,
            text: line,
            note: None,
        });
    }
    // TikTok's API takes no comments: none is offered for TikTok alone.
    let comments = request.platforms.iter().any(|p| *p != Platform::TikTok);
    if comments && let Ok(comment) = text_in(json, "first_comment") {
        out.push(fitted(Target::FirstComment, &request.platforms, comment));
    }
    let variants = json.and_then(|j| j.get("variants"));
    for platform in &request.platforms {
        if let Ok(text) = text_in(variants, &prompts::variant_key(*platform)) {
            out.push(fitted(
                Target::Variant(platform.slug().to_owned()),
                std::slice::from_ref(platform),
                text,
            ));
        }
    }
    if out.is_empty() {
        return Err(failure(
            field,
            AiError::Invalid("the answer held no suggestion".into()),
        ));
    }
    Ok(out)
}

/// `text` for `target`, cut to fit `platforms` when it is over (and said so).
fn fitted(target: Target, platforms: &[Platform], text: String) -> Suggestion {
    match fit::over(platforms, &text) {
        None => Suggestion {
            target,
            text,
            note: None,
        },
        Some((platform, _)) => Suggestion {
            target,
            text: fit::shorten(platforms, &text),
            note: Some(format!("Shortened to fit {}.", platform.label())),
        },
    }
}

/// The suggestions the provider's moderation does not flag; a refusal when it flags them all.
async fn moderated(
    ai: &Assistant,
    field: &'static str,
    suggestions: Vec<Suggestion>,
) -> Result<Vec<Suggestion>> {
    let Some(moderator) = &ai.moderator else {
        return Ok(suggestions);
    };
    let texts: Vec<String> = suggestions.iter().map(|s| s.text.clone()).collect();
    let verdicts = moderator
        .moderate(&texts)
        .await
        .map_err(|e| failure(field, e))?;
    let kept: Vec<Suggestion> = suggestions
        .into_iter()
        .zip(
            verdicts
                .iter()
                .map(|v| v.flagged)
                .chain(std::iter::repeat(true)),
        )
        .filter(|(_, flagged)| !flagged)
        .map(|(s, _)| s)
        .collect();
    if kept.is_empty() {
        return Err(ServiceError::invalid(
            field,
            format!(
                "{}'s moderation flagged what the AI wrote, so nothing is offered. Change the \
                 text and try again.",
                ai.disclosure.provider
            ),
        ));
    }
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::partial_text;

    #[test]
    fn the_text_so_far_is_read_from_a_json_object_being_written() {
        assert_eq!(partial_text(""), "");
        assert_eq!(partial_text("{\"te"), "");
        assert_eq!(partial_text("{\"text\": \"Fresh"), "Fresh");
        assert_eq!(
            partial_text("{\"text\":\"a\\nb \\\"c\\\" \\u00e9"),
            "a\nb \"c\" é"
        );
        // An escape cut in half waits for the rest.
        assert_eq!(partial_text("{\"text\":\"ab\\u00"), "ab");
        assert_eq!(partial_text("{\"text\":\"ab\\"), "ab");
        assert_eq!(partial_text("{\"text\":\"done\"}"), "done");
        assert_eq!(partial_text("{\"text\":\"مرحبا"), "مرحبا");
    }
}

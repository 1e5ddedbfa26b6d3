//! Text generation for the assistant and the agent: one interface ([`TextGenerator`], and
//! [`Moderator`] for checking prompts and text meant for publishing) that the services call,
//! and the OpenAI Chat Completions adapter in [`openai`], which also serves every
//! OpenAI-compatible server (a local Ollama, vLLM or LiteLLM) through its base URL.
//!
//! Failures come in the kinds the product acts on ([`AiError`]): wait as told (a rate limit),
//! tell the person (a refusal or a moderation block, a prompt too long for the model), or try
//! later (a timeout, the provider down).

pub mod character;
pub mod elevenlabs;
pub mod hedra;
pub mod images;
pub mod openai;
pub mod openai_images;
pub mod runway;
pub mod speech;
pub mod video;

use async_trait::async_trait;
use serde_json::Value;
use std::time::Duration;

/// Redirects followed only on the same origin, at most `most` of them: a key sent in a header
/// of the provider's own (`X-API-Key`, `xi-api-key`), which reqwest does not take off a request
/// redirected elsewhere as it does `Authorization`, never reaches another host.
pub(crate) fn same_origin_redirects(most: usize) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        let same = attempt
            .previous()
            .first()
            .is_some_and(|first| first.origin() == attempt.url().origin());
        if attempt.previous().len() > most {
            attempt.error("too many redirects")
        } else if same {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

/// Who wrote a message of a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    System,
    User,
    Assistant,
    /// A tool's result, answering the assistant's call `tool_call_id`.
    Tool,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        }
    }
}

/// A call of one of the offered tools, as the model asked for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    /// A JSON object, as text (the model's; it may not parse).
    pub arguments: String,
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub role: Role,
    pub content: Option<String>,
    /// The assistant's tool calls (an assistant message).
    pub tool_calls: Vec<ToolCall>,
    /// The call a tool message answers.
    pub tool_call_id: Option<String>,
}

impl Message {
    fn of(role: Role, content: impl Into<String>) -> Message {
        Message {
            role,
            content: Some(content.into()),
            tool_calls: Vec::new(),
            tool_call_id: None,
        }
    }

    pub fn system(content: impl Into<String>) -> Message {
        Message::of(Role::System, content)
    }

    pub fn user(content: impl Into<String>) -> Message {
        Message::of(Role::User, content)
    }

    pub fn assistant(content: impl Into<String>) -> Message {
        Message::of(Role::Assistant, content)
    }

    /// A tool's result for the call `call_id`.
    pub fn tool(call_id: impl Into<String>, content: impl Into<String>) -> Message {
        Message {
            tool_call_id: Some(call_id.into()),
            ..Message::of(Role::Tool, content)
        }
    }
}

/// A tool the model may call: a name, what it does, and its parameters as a JSON schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Tool {
    pub name: String,
    pub description: String,
    pub parameters: Value,
}

/// What shape the answer must have.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    Text,
    /// A JSON object valid against `schema` (strict structured output).
    Json {
        name: String,
        schema: Value,
    },
}

/// One request for a completion.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub messages: Vec<Message>,
    pub output: Output,
    pub tools: Vec<Tool>,
    /// The most tokens of the answer.
    pub max_tokens: Option<u32>,
    pub temperature: Option<f32>,
}

impl Request {
    pub fn new(messages: Vec<Message>) -> Request {
        Request {
            messages,
            output: Output::Text,
            tools: Vec::new(),
            max_tokens: None,
            temperature: None,
        }
    }
}

/// Tokens a request used, as the provider counted them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

/// The model's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// The text (for [`Output::Json`], the JSON as text).
    pub text: Option<String>,
    /// For [`Output::Json`]: the parsed object.
    pub json: Option<Value>,
    pub tool_calls: Vec<ToolCall>,
    /// The model that answered, as the provider names it.
    pub model: String,
    pub usage: Usage,
}

/// A piece of a streamed answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Chunk {
    /// More text, to show as it comes.
    Text(String),
    /// The whole answer, last.
    Done(Completion),
}

/// A streamed answer: its pieces in order, then [`Chunk::Done`] (or an error).
pub type Stream = tokio::sync::mpsc::Receiver<Result<Chunk, AiError>>;

/// Why no answer came.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AiError {
    /// Too many requests: try again after this long.
    #[error("the AI provider asks to wait {} seconds", retry_after.as_secs())]
    RateLimited { retry_after: Duration },
    /// The model or the provider's moderation refused; `reason` is shown to the person.
    #[error("the AI provider refused: {reason}")]
    Refused { reason: String },
    /// The conversation is longer than the model takes.
    #[error("the request is too long for the model")]
    ContextTooLong,
    /// The answer was cut off at the token limit (not offered: ask again, shorter).
    #[error("the answer was cut off at the length limit")]
    Truncated,
    /// No answer in time.
    #[error("the AI provider did not answer in time")]
    Timeout,
    /// Down, unreachable, or out of quota: try later.
    #[error("the AI provider could not be reached: {0}")]
    Unavailable(String),
    /// The API key was refused: the operator's configuration is wrong.
    #[error("the AI provider refused this instance's key: {0}")]
    Credentials(String),
    /// The request was refused as malformed, or the answer could not be read (a JSON answer
    /// that is not JSON).
    #[error("the AI provider's answer could not be used: {0}")]
    Invalid(String),
    /// An output's address has expired (a new look at the task gives a fresh one).
    #[error("the output's address has expired")]
    Expired,
}

/// A text-generation provider.
#[async_trait]
pub trait TextGenerator: Send + Sync {
    /// Its name for people (`OpenAI`, or the configured name of a compatible server).
    fn provider(&self) -> &str;
    /// The model asked for.
    fn model(&self) -> &str;
    /// One answer, whole.
    async fn complete(&self, request: &Request) -> Result<Completion, AiError>;
    /// One answer, piece by piece.
    async fn stream(&self, request: &Request) -> Result<Stream, AiError>;
}

/// What a moderation check found in one text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub flagged: bool,
    /// The flagged categories (`violence`, `hate/threatening`, …).
    pub categories: Vec<String>,
}

/// A moderation check of texts.
#[async_trait]
pub trait Moderator: Send + Sync {
    /// One verdict per text, in order.
    async fn moderate(&self, texts: &[String]) -> Result<Vec<Verdict>, AiError>;
}

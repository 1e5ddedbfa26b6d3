//! OpenAI's Chat Completions and Moderations, as `API_FACTS.md` records them: structured output
//! with `response_format: {type: "json_schema", json_schema: {name, schema, strict: true}}`,
//! tools as functions whose calls come back in `message.tool_calls`, and streaming as
//! server-sent events (`data: {…}` lines ending with `data: [DONE]`). Chat Completions is what
//! every OpenAI-compatible server implements, so the same adapter serves a local Ollama, vLLM or
//! LiteLLM: the base URL, the model and the key (none for a local server) are settings, and the
//! moderation model is optional (local servers have no moderation endpoint).

use super::{
    AiError, Chunk, Completion, Message, Moderator, Output, Request, Stream, TextGenerator,
    ToolCall, Usage, Verdict,
};
use async_trait::async_trait;
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use std::time::Duration;

/// OpenAI's API.
pub const OPENAI_API: &str = "https://api.openai.com/v1";

/// How long to wait after a 429 that does not say.
const DEFAULT_WAIT: Duration = Duration::from_secs(20);

#[derive(Debug, Clone)]
pub struct OpenAiConfig {
    /// `https://api.openai.com/v1`, or a compatible server's (`http://localhost:11434/v1`).
    pub base_url: String,
    /// None for a local server that takes no key.
    pub api_key: Option<SecretString>,
    pub model: String,
    /// `omni-moderation-latest`; None where the server has no moderation endpoint.
    pub moderation_model: Option<String>,
    /// What people are told the provider is (`OpenAI`, `Ollama on ai.example.com`).
    pub name: String,
    /// For a whole answer, and for the wait between two pieces of a streamed one.
    pub timeout: Duration,
    /// Send the answer's token limit as `max_tokens` (older and local servers) instead of
    /// `max_completion_tokens` (OpenAI's, which its reasoning models require).
    pub legacy_max_tokens: bool,
}

pub struct OpenAi {
    api: Api,
    config: OpenAiConfig,
}

/// What the OpenAI adapters (text and images) share: one client, the API's address and key.
pub(super) struct Api {
    http: reqwest::Client,
    base_url: String,
    api_key: Option<SecretString>,
}

impl Api {
    pub(super) fn new(base_url: &str, api_key: Option<SecretString>) -> Api {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        Api {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key,
        }
    }

    /// A POST to `path` (`/chat/completions`), with the key when there is one.
    pub(super) fn post(&self, path: &str) -> reqwest::RequestBuilder {
        let request = self.http.post(format!("{}{path}", self.base_url));
        match &self.api_key {
            Some(key) => request.bearer_auth(key.expose_secret()),
            None => request,
        }
    }
}

/// A refused answer: its status, its error object (OpenAI nests it under `error`; some
/// compatible servers answer it at the top level) and the wait it asks for.
pub(super) async fn refusal(
    answer: reqwest::Response,
) -> (reqwest::StatusCode, Value, Option<Duration>) {
    let status = answer.status();
    let wait = retry_after(answer.headers());
    let mut body: Value = answer.json().await.unwrap_or(Value::Null);
    let error = if body["error"].is_object() {
        body["error"].take()
    } else {
        body
    };
    (status, error, wait)
}

impl OpenAi {
    pub fn new(config: OpenAiConfig) -> OpenAi {
        let api = Api::new(&config.base_url, config.api_key.clone());
        OpenAi { api, config }
    }

    /// Whether moderation can be asked of this provider.
    pub fn moderates(&self) -> bool {
        self.config.moderation_model.is_some()
    }

    fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.api.post(path)
    }

    /// The body of a chat completion request.
    fn body(&self, request: &Request, stream: bool) -> Value {
        let messages: Vec<Value> = request.messages.iter().map(message_json).collect();
        let mut body = json!({"model": self.config.model, "messages": messages});
        if let Output::Json { name, schema } = &request.output {
            body["response_format"] = json!({
                "type": "json_schema",
                "json_schema": {"name": name, "schema": schema, "strict": true},
            });
        }
        if !request.tools.is_empty() {
            body["tools"] = request
                .tools
                .iter()
                .map(|t| {
                    json!({"type": "function", "function": {
                        "name": t.name, "description": t.description, "parameters": t.parameters,
                    }})
                })
                .collect();
        }
        if let Some(n) = request.max_tokens {
            let field = if self.config.legacy_max_tokens {
                "max_tokens"
            } else {
                "max_completion_tokens"
            };
            body[field] = json!(n);
        }
        if let Some(t) = request.temperature {
            body["temperature"] = json!(t);
        }
        if stream {
            body["stream"] = json!(true);
            body["stream_options"] = json!({"include_usage": true});
        }
        body
    }

    async fn send(
        &self,
        path: &str,
        body: &Value,
        timeout: Option<Duration>,
    ) -> Result<reqwest::Response, AiError> {
        let mut request = self.post(path).json(body);
        if let Some(t) = timeout {
            request = request.timeout(t);
        }
        let answer = request.send().await.map_err(failed)?;
        if answer.status().is_success() {
            return Ok(answer);
        }
        let (status, error, wait) = refusal(answer).await;
        Err(error_of(status, &error, wait))
    }
}

fn message_json(m: &Message) -> Value {
    let mut v = json!({"role": m.role.as_str(), "content": m.content});
    if !m.tool_calls.is_empty() {
        v["tool_calls"] = m
            .tool_calls
            .iter()
            .map(|c| {
                json!({"id": c.id, "type": "function",
                       "function": {"name": c.name, "arguments": c.arguments}})
            })
            .collect();
    }
    if let Some(id) = &m.tool_call_id {
        v["tool_call_id"] = json!(id);
    }
    v
}

/// A transport failure in the product's kinds (the URL, which may carry a key, left out).
pub(super) fn failed(err: reqwest::Error) -> AiError {
    if err.is_timeout() {
        AiError::Timeout
    } else {
        AiError::Unavailable(crate::social::without_url(&err))
    }
}

/// How long a 429 asks to wait: `retry-after-ms`, else `retry-after` in seconds.
pub(super) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    header("retry-after-ms")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_millis)
        .or_else(|| crate::social::retry_after_header(headers))
}

/// Hides API keys in a provider's message (OpenAI names part of a refused key; some proxies
/// name more of it).
fn redact(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find("sk-") {
        out.push_str(&rest[..at]);
        out.push_str("sk-…");
        let tail = &rest[at + 3..];
        let end = tail
            .find(|c: char| {
                !(c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '*' || c == '.')
            })
            .unwrap_or(tail.len());
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// An error answer (`{error: {message, type, param, code}}`) in the product's kinds. `code` is
/// a string at OpenAI, a number at some compatible servers; the message decides there.
pub(super) fn error_of(status: StatusCode, error: &Value, wait: Option<Duration>) -> AiError {
    let message = redact(error["message"].as_str().unwrap_or("no reason given"));
    let code = error["code"].as_str().unwrap_or_default();
    let kind = error["type"].as_str().unwrap_or_default();
    let too_long = code == "context_length_exceeded"
        || message.contains("maximum context length")
        || message.contains("context window");
    match status.as_u16() {
        401 | 403 => AiError::Credentials(message),
        429 if code == "insufficient_quota" || kind == "insufficient_quota" => {
            AiError::Unavailable("the provider account's quota is used up".into())
        }
        429 => AiError::RateLimited {
            retry_after: wait.unwrap_or(DEFAULT_WAIT),
        },
        413 => AiError::ContextTooLong,
        _ if too_long => AiError::ContextTooLong,
        _ if matches!(
            code,
            "moderation_blocked" | "content_policy_violation" | "invalid_prompt" | "content_filter"
        ) || kind == "image_generation_user_error" =>
        {
            AiError::Refused { reason: message }
        }
        408 | 504 => AiError::Timeout,
        s if s >= 500 => AiError::Unavailable(format!("{status}: {message}")),
        _ => AiError::Invalid(message),
    }
}

/// An error event in the middle of a stream: its status is read from its kind.
fn stream_error(error: &Value) -> AiError {
    let code = error["code"].as_str().unwrap_or_default();
    let kind = error["type"].as_str().unwrap_or_default();
    let status = if code == "rate_limit_exceeded" || kind == "requests" {
        StatusCode::TOO_MANY_REQUESTS
    } else if kind == "server_error" {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::BAD_REQUEST
    };
    error_of(status, error, None)
}

/// Local reasoning models put their thinking first (`<think>…</think>`): it is not the answer.
fn without_thinking(text: &str) -> &str {
    let trimmed = text.trim_start();
    match trimmed
        .strip_prefix("<think>")
        .and_then(|t| t.split_once("</think>"))
    {
        Some((_, answer)) => answer.trim_start(),
        None => text,
    }
}

/// A JSON answer, also when a server that ignores `response_format` fenced it in Markdown.
fn json_in(text: &str) -> Option<Value> {
    let text = without_thinking(text).trim();
    let inner = text
        .strip_prefix("```json")
        .or_else(|| text.strip_prefix("```"))
        .and_then(|t| t.strip_suffix("```"))
        .unwrap_or(text);
    serde_json::from_str::<Value>(inner.trim())
        .ok()
        .filter(Value::is_object)
}

/// The completion in a whole (non-streamed) answer.
fn completion_of(answer: &Value, output: &Output) -> Result<Completion, AiError> {
    let choice = &answer["choices"][0];
    let message = &choice["message"];
    if let Some(reason) = message["refusal"].as_str().filter(|r| !r.is_empty()) {
        return Err(AiError::Refused {
            reason: reason.to_owned(),
        });
    }
    match choice["finish_reason"].as_str() {
        Some("content_filter") => {
            return Err(AiError::Refused {
                reason: "the provider's content filter stopped the answer".into(),
            });
        }
        Some("length") => return Err(AiError::Truncated),
        _ => {}
    }
    let tool_calls = message["tool_calls"]
        .as_array()
        .map(|calls| {
            calls
                .iter()
                .enumerate()
                .filter_map(|(n, c)| {
                    Some(ToolCall {
                        id: c["id"]
                            .as_str()
                            .map_or_else(|| format!("call_{n}"), str::to_owned),
                        name: c["function"]["name"].as_str()?.to_owned(),
                        arguments: c["function"]["arguments"]
                            .as_str()
                            .unwrap_or("{}")
                            .to_owned(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    finish(
        message["content"].as_str().map(str::to_owned),
        tool_calls,
        answer["model"].as_str().unwrap_or_default().to_owned(),
        usage_of(&answer["usage"]),
        output,
    )
}

/// The answer checked against the shape asked for.
fn finish(
    text: Option<String>,
    tool_calls: Vec<ToolCall>,
    model: String,
    usage: Usage,
    output: &Output,
) -> Result<Completion, AiError> {
    let text = text
        .map(|t| without_thinking(&t).to_owned())
        .filter(|t| !t.trim().is_empty());
    if text.is_none() && tool_calls.is_empty() {
        return Err(AiError::Invalid("the model gave no answer".into()));
    }
    let json = match (output, &text) {
        (Output::Json { .. }, Some(t)) if tool_calls.is_empty() => {
            Some(json_in(t).ok_or_else(|| {
                AiError::Invalid("the model's answer is not the JSON object asked for".into())
            })?)
        }
        _ => None,
    };
    Ok(Completion {
        text,
        json,
        tool_calls,
        model,
        usage,
    })
}

/// A body that could not be read: a timeout, or not JSON.
fn unreadable(err: reqwest::Error) -> AiError {
    if err.is_timeout() {
        AiError::Timeout
    } else {
        AiError::Invalid(format!(
            "the answer is not JSON: {}",
            crate::social::without_url(&err)
        ))
    }
}

fn usage_of(usage: &Value) -> Usage {
    Usage {
        prompt_tokens: usage["prompt_tokens"].as_u64().unwrap_or(0),
        completion_tokens: usage["completion_tokens"].as_u64().unwrap_or(0),
    }
}

/// What the streamed pieces add up to.
#[derive(Default)]
struct Gathered {
    text: String,
    has_text: bool,
    calls: Vec<ToolCall>,
    model: String,
    usage: Usage,
    refusal: String,
    filtered: bool,
    cut: bool,
    /// A finish reason arrived: the answer is whole even if `[DONE]` does not follow.
    finished: bool,
}

impl Gathered {
    /// Takes one `data:` event; answers the text it adds.
    fn take(&mut self, event: &Value) -> Option<String> {
        if let Some(m) = event["model"].as_str() {
            self.model = m.to_owned();
        }
        if event["usage"].is_object() {
            self.usage = usage_of(&event["usage"]);
        }
        let choice = &event["choices"][0];
        match choice["finish_reason"].as_str() {
            Some("content_filter") => self.filtered = true,
            Some("length") => self.cut = true,
            _ => {}
        }
        if choice["finish_reason"].is_string() {
            self.finished = true;
        }
        let delta = &choice["delta"];
        if let Some(r) = delta["refusal"].as_str() {
            self.refusal.push_str(r);
        }
        for call in delta["tool_calls"].as_array().into_iter().flatten() {
            let id = call["id"].as_str().filter(|i| !i.is_empty());
            // By index; a server that sends none (older Ollama) starts a call with a new id.
            let at = match call["index"].as_u64().and_then(|i| usize::try_from(i).ok()) {
                Some(at) => at,
                None => match (id, self.calls.last()) {
                    (Some(id), Some(last)) if last.id != id => self.calls.len(),
                    (_, None) => 0,
                    _ => self.calls.len() - 1,
                },
            };
            while self.calls.len() <= at {
                self.calls.push(ToolCall {
                    id: format!("call_{}", self.calls.len()),
                    name: String::new(),
                    arguments: String::new(),
                });
            }
            let slot = &mut self.calls[at];
            if let Some(id) = id {
                slot.id = id.to_owned();
            }
            if let Some(name) = call["function"]["name"].as_str() {
                // Some servers repeat the whole name in every piece.
                if !slot.name.ends_with(name) || slot.name.is_empty() {
                    slot.name.push_str(name);
                }
            }
            if let Some(args) = call["function"]["arguments"].as_str() {
                slot.arguments.push_str(args);
            }
        }
        let piece = delta["content"].as_str().filter(|p| !p.is_empty())?;
        self.has_text = true;
        self.text.push_str(piece);
        Some(piece.to_owned())
    }

    fn done(self, output: &Output) -> Result<Completion, AiError> {
        if !self.refusal.is_empty() {
            return Err(AiError::Refused {
                reason: self.refusal,
            });
        }
        if self.filtered {
            return Err(AiError::Refused {
                reason: "the provider's content filter stopped the answer".into(),
            });
        }
        if self.cut {
            return Err(AiError::Truncated);
        }
        let calls = self
            .calls
            .into_iter()
            .map(|mut c| {
                if c.arguments.trim().is_empty() {
                    c.arguments = "{}".into();
                }
                c
            })
            .collect();
        finish(
            self.has_text.then_some(self.text),
            calls,
            self.model,
            self.usage,
            output,
        )
    }
}

/// Splits the bytes of a server-sent event stream into lines, however the network cuts them
/// (a line, or a character, across two pieces; CRLF or LF).
#[derive(Default)]
struct Lines {
    buffer: Vec<u8>,
}

impl Lines {
    /// The whole lines `bytes` completes.
    fn feed(&mut self, bytes: &[u8]) -> Vec<String> {
        self.buffer.extend_from_slice(bytes);
        let mut lines = Vec::new();
        while let Some(end) = self.buffer.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.buffer.drain(..=end).collect();
            lines.push(String::from_utf8_lossy(&line).trim_end().to_owned());
        }
        lines
    }

    /// What is left when the stream ends without a last newline.
    fn rest(&mut self) -> Option<String> {
        let rest = String::from_utf8_lossy(&std::mem::take(&mut self.buffer))
            .trim()
            .to_owned();
        (!rest.is_empty()).then_some(rest)
    }
}

/// What one line of the stream means.
enum Line {
    /// An event to take.
    Event(Value),
    Done,
    /// A comment, an empty line, a field other than `data`.
    Nothing,
    Broken,
}

fn line_of(line: &str) -> Line {
    let Some(data) = line.strip_prefix("data:").map(str::trim) else {
        return Line::Nothing;
    };
    if data == "[DONE]" {
        return Line::Done;
    }
    match serde_json::from_str::<Value>(data) {
        Ok(event) => Line::Event(event),
        Err(_) => Line::Broken,
    }
}

/// Reads the server-sent events of `answer` into `tx`, then the whole answer. A pause longer
/// than `idle` between two pieces ends it with a timeout.
async fn pump(
    mut answer: reqwest::Response,
    output: Output,
    idle: Duration,
    tx: tokio::sync::mpsc::Sender<Result<Chunk, AiError>>,
) {
    let mut lines = Lines::default();
    let mut gathered = Gathered::default();
    loop {
        let next = match tokio::time::timeout(idle, answer.chunk()).await {
            Err(_) => {
                let _ = tx.send(Err(AiError::Timeout)).await;
                return;
            }
            Ok(Ok(Some(bytes))) => lines.feed(&bytes),
            Ok(Ok(None)) => lines.rest().into_iter().collect(),
            Ok(Err(err)) => {
                let _ = tx.send(Err(failed(err))).await;
                return;
            }
        };
        let ended = next.is_empty() && lines.buffer.is_empty();
        for line in next {
            match line_of(&line) {
                Line::Nothing => {}
                Line::Done => {
                    let _ = tx.send(gathered.done(&output).map(Chunk::Done)).await;
                    return;
                }
                Line::Broken => {
                    let _ = tx
                        .send(Err(AiError::Invalid("a streamed piece is not JSON".into())))
                        .await;
                    return;
                }
                Line::Event(event) if event["error"].is_object() => {
                    let _ = tx.send(Err(stream_error(&event["error"]))).await;
                    return;
                }
                Line::Event(event) => {
                    if let Some(piece) = gathered.take(&event)
                        && tx.send(Ok(Chunk::Text(piece))).await.is_err()
                    {
                        // The reader went away (the person left the page).
                        return;
                    }
                }
            }
        }
        if ended {
            break;
        }
    }
    // The stream ended without `[DONE]`: whole if a finish reason came.
    let outcome = if gathered.finished {
        gathered.done(&output).map(Chunk::Done)
    } else {
        Err(AiError::Unavailable(
            "the stream ended before the answer did".into(),
        ))
    };
    let _ = tx.send(outcome).await;
}

#[async_trait]
impl TextGenerator for OpenAi {
    fn provider(&self) -> &str {
        &self.config.name
    }

    fn model(&self) -> &str {
        &self.config.model
    }

    async fn complete(&self, request: &Request) -> Result<Completion, AiError> {
        let answer = self
            .send(
                "/chat/completions",
                &self.body(request, false),
                Some(self.config.timeout),
            )
            .await?;
        let answer: Value = answer.json().await.map_err(unreadable)?;
        completion_of(&answer, &request.output)
    }

    async fn stream(&self, request: &Request) -> Result<Stream, AiError> {
        // The time to the first byte is bounded; the pieces may take as long as they take.
        let answer = tokio::time::timeout(
            self.config.timeout,
            self.send("/chat/completions", &self.body(request, true), None),
        )
        .await
        .map_err(|_| AiError::Timeout)??;
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        tokio::spawn(pump(
            answer,
            request.output.clone(),
            self.config.timeout,
            tx,
        ));
        Ok(rx)
    }
}

#[async_trait]
impl Moderator for OpenAi {
    async fn moderate(&self, texts: &[String]) -> Result<Vec<Verdict>, AiError> {
        let Some(model) = &self.config.moderation_model else {
            return Ok(texts
                .iter()
                .map(|_| Verdict {
                    flagged: false,
                    categories: Vec::new(),
                })
                .collect());
        };
        let body = json!({"model": model, "input": texts});
        let answer: Value = self
            .send("/moderations", &body, Some(self.config.timeout))
            .await?
            .json()
            .await
            .map_err(unreadable)?;
        let results = answer["results"].as_array().cloned().unwrap_or_default();
        if results.len() != texts.len() {
            return Err(AiError::Invalid(format!(
                "{} moderation results for {} texts",
                results.len(),
                texts.len()
            )));
        }
        Ok(results
            .iter()
            .map(|r| Verdict {
                flagged: r["flagged"].as_bool().unwrap_or(false),
                categories: r["categories"]
                    .as_object()
                    .map(|c| {
                        c.iter()
                            .filter(|(_, v)| v.as_bool() == Some(true))
                            .map(|(k, _)| k.clone())
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_sorted_into_the_products_kinds() {
        let e = |status: u16, code: &str| {
            error_of(
                StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
                &json!({"message": "m", "type": "t", "code": code}),
                None,
            )
        };
        assert_eq!(e(401, "invalid_api_key"), AiError::Credentials("m".into()));
        assert_eq!(
            e(429, "rate_limit_exceeded"),
            AiError::RateLimited {
                retry_after: DEFAULT_WAIT
            }
        );
        assert!(matches!(
            e(429, "insufficient_quota"),
            AiError::Unavailable(_)
        ));
        assert_eq!(e(400, "context_length_exceeded"), AiError::ContextTooLong);
        assert!(matches!(
            e(400, "moderation_blocked"),
            AiError::Refused { .. }
        ));
        assert!(matches!(e(503, ""), AiError::Unavailable(_)));
        assert!(matches!(e(400, "invalid_value"), AiError::Invalid(_)));
    }

    #[test]
    fn compatible_servers_errors_and_keys_in_messages() {
        // vLLM: a number for a code, the limit said in words, the error at the top level.
        let vllm = json!({"object": "error", "message": "This model's maximum context length is 8192 tokens", "code": 400});
        assert_eq!(
            error_of(StatusCode::BAD_REQUEST, &vllm, None),
            AiError::ContextTooLong
        );
        assert!(matches!(
            error_of(
                StatusCode::BAD_REQUEST,
                &json!({"message": "m", "code": "invalid_prompt"}),
                None
            ),
            AiError::Refused { .. }
        ));
        let key = error_of(
            StatusCode::UNAUTHORIZED,
            &json!({"message": "Incorrect API key provided: sk-proj-abcd****wxyz. You can find…", "code": "invalid_api_key"}),
            None,
        );
        match key {
            AiError::Credentials(m) => assert!(!m.contains("abcd") && !m.contains("wxyz"), "{m}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            stream_error(
                &json!({"message": "slow down", "type": "requests", "code": "rate_limit_exceeded"})
            ),
            AiError::RateLimited { .. }
        ));
        assert!(matches!(
            stream_error(&json!({"message": "oops", "type": "server_error"})),
            AiError::Unavailable(_)
        ));
    }

    #[test]
    fn lines_survive_any_cut_of_the_bytes() {
        let stream = "data: {\"choices\":[{\"delta\":{\"content\":\"Grüße \"}}]}\r\n\r\n: ping\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"aus Köln\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]";
        let mut lines = Lines::default();
        let mut got = Vec::new();
        // One byte at a time: lines and characters cut everywhere.
        for b in stream.as_bytes() {
            got.extend(lines.feed(std::slice::from_ref(b)));
        }
        got.extend(lines.rest());
        let mut g = Gathered::default();
        let mut text = String::new();
        let mut done = false;
        for line in got {
            match line_of(&line) {
                Line::Event(e) => text.extend(g.take(&e)),
                Line::Done => done = true,
                Line::Nothing => {}
                Line::Broken => panic!("{line}"),
            }
        }
        assert!(done, "the last line has no newline");
        assert_eq!(text, "Grüße aus Köln");
    }

    #[test]
    fn a_cut_off_or_empty_answer_is_not_offered() {
        let answer = |finish: &str, content: Value| json!({"model": "m", "choices": [{"finish_reason": finish, "message": {"content": content}}]});
        assert_eq!(
            completion_of(&answer("length", json!("Half a sen")), &Output::Text),
            Err(AiError::Truncated)
        );
        assert!(matches!(
            completion_of(&answer("stop", json!("")), &Output::Text),
            Err(AiError::Invalid(_))
        ));
        // A local reasoning model's thinking is not the answer; fenced JSON is read.
        let thought = completion_of(
            &answer("stop", json!("<think>plan it</think>\n\nThe post")),
            &Output::Text,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(thought.text.as_deref(), Some("The post"));
        let schema = Output::Json {
            name: "c".into(),
            schema: json!({}),
        };
        let fenced = completion_of(
            &answer("stop", json!("```json\n{\"text\": \"Hi\"}\n```")),
            &schema,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(fenced.json, Some(json!({"text": "Hi"})));
    }

    #[test]
    fn tool_calls_without_index_or_with_repeated_names() {
        let mut g = Gathered::default();
        for event in [
            json!({"choices": [{"delta": {"tool_calls": [{"id": "a", "function": {"name": "draft_post", "arguments": "{\"text\":"}}]}}]}),
            json!({"choices": [{"delta": {"tool_calls": [{"id": "a", "function": {"name": "draft_post", "arguments": "\"Hi\"}"}}]}}]}),
            json!({"choices": [{"delta": {"tool_calls": [{"id": "b", "function": {"name": "list_posts"}}]}, "finish_reason": "tool_calls"}]}),
        ] {
            g.take(&event);
        }
        let done = g.done(&Output::Text).unwrap_or_else(|e| panic!("{e}"));
        let calls: Vec<_> = done
            .tool_calls
            .iter()
            .map(|c| (c.id.as_str(), c.name.as_str(), c.arguments.as_str()))
            .collect();
        assert_eq!(
            calls,
            [
                ("a", "draft_post", "{\"text\":\"Hi\"}"),
                ("b", "list_posts", "{}")
            ]
        );
    }

    #[test]
    fn streamed_tool_calls_are_put_together() {
        let mut g = Gathered::default();
        for event in [
            json!({"model": "m", "choices": [{"delta": {"tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "list_posts", "arguments": ""}}]}}]}),
            json!({"choices": [{"delta": {"tool_calls": [{"index": 0, "function": {"arguments": "{\"limit\""}}]}}]}),
            json!({"choices": [{"delta": {"tool_calls": [{"index": 0, "function": {"arguments": ": 5}"}}]}, "finish_reason": "tool_calls"}]}),
        ] {
            assert_eq!(g.take(&event), None);
        }
        let done = g.done(&Output::Text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(done.tool_calls.len(), 1);
        assert_eq!(done.tool_calls[0].name, "list_posts");
        assert_eq!(done.tool_calls[0].arguments, "{\"limit\": 5}");
    }
}

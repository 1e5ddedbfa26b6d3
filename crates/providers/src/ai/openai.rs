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
    /// For a whole answer (a stream may take longer between its first and last piece).
    pub timeout: Duration,
}

pub struct OpenAi {
    http: reqwest::Client,
    config: OpenAiConfig,
}

impl OpenAi {
    pub fn new(mut config: OpenAiConfig) -> OpenAi {
        config.base_url = config.base_url.trim_end_matches('/').to_owned();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        OpenAi { http, config }
    }

    /// Whether moderation can be asked of this provider.
    pub fn moderates(&self) -> bool {
        self.config.moderation_model.is_some()
    }

    fn post(&self, path: &str) -> reqwest::RequestBuilder {
        let request = self.http.post(format!("{}{path}", self.config.base_url));
        match &self.config.api_key {
            Some(key) => request.bearer_auth(key.expose_secret()),
            None => request,
        }
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
            body["max_tokens"] = json!(n);
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
        let status = answer.status();
        let wait = retry_after(answer.headers());
        let error: Value = answer.json().await.unwrap_or(Value::Null);
        Err(error_of(status, &error["error"], wait))
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
fn failed(err: reqwest::Error) -> AiError {
    if err.is_timeout() {
        AiError::Timeout
    } else {
        AiError::Unavailable(crate::social::without_url(&err))
    }
}

/// How long a 429 asks to wait: `retry-after-ms`, else `retry-after` in seconds.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    header("retry-after-ms")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_millis)
        .or_else(|| crate::social::retry_after_header(headers))
}

/// An error answer (`{error: {message, type, param, code}}`) in the product's kinds.
fn error_of(status: StatusCode, error: &Value, wait: Option<Duration>) -> AiError {
    let message = error["message"]
        .as_str()
        .unwrap_or("no reason given")
        .to_owned();
    let code = error["code"].as_str().unwrap_or_default();
    let kind = error["type"].as_str().unwrap_or_default();
    match status.as_u16() {
        401 | 403 => AiError::Credentials(message),
        429 if code == "insufficient_quota" => {
            AiError::Unavailable("the provider account's quota is used up".into())
        }
        429 => AiError::RateLimited {
            retry_after: wait.unwrap_or(DEFAULT_WAIT),
        },
        _ if code == "context_length_exceeded" => AiError::ContextTooLong,
        _ if code == "moderation_blocked"
            || code == "content_policy_violation"
            || kind == "image_generation_user_error" =>
        {
            AiError::Refused { reason: message }
        }
        408 | 504 => AiError::Timeout,
        s if s >= 500 => AiError::Unavailable(format!("{status}: {message}")),
        _ => AiError::Invalid(message),
    }
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
    if choice["finish_reason"].as_str() == Some("content_filter") {
        return Err(AiError::Refused {
            reason: "the provider's content filter stopped the answer".into(),
        });
    }
    let tool_calls = message["tool_calls"]
        .as_array()
        .map(|calls| {
            calls
                .iter()
                .filter_map(|c| {
                    Some(ToolCall {
                        id: c["id"].as_str()?.to_owned(),
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
    let json = match (output, &text) {
        (Output::Json { .. }, Some(t)) if tool_calls.is_empty() => Some(
            serde_json::from_str::<Value>(t)
                .ok()
                .filter(Value::is_object)
                .ok_or_else(|| {
                    AiError::Invalid("the model's answer is not the JSON object asked for".into())
                })?,
        ),
        (Output::Json { .. }, None) if tool_calls.is_empty() => {
            return Err(AiError::Invalid("the model gave no answer".into()));
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
        if choice["finish_reason"].as_str() == Some("content_filter") {
            self.filtered = true;
        }
        let delta = &choice["delta"];
        if let Some(r) = delta["refusal"].as_str() {
            self.refusal.push_str(r);
        }
        for call in delta["tool_calls"].as_array().into_iter().flatten() {
            let at = call["index"]
                .as_u64()
                .and_then(|i| usize::try_from(i).ok())
                .unwrap_or(0);
            while self.calls.len() <= at {
                self.calls.push(ToolCall {
                    id: String::new(),
                    name: String::new(),
                    arguments: String::new(),
                });
            }
            let slot = &mut self.calls[at];
            if let Some(id) = call["id"].as_str() {
                slot.id = id.to_owned();
            }
            if let Some(name) = call["function"]["name"].as_str() {
                slot.name.push_str(name);
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
        finish(
            self.has_text.then_some(self.text),
            self.calls,
            self.model,
            self.usage,
            output,
        )
    }
}

/// Reads the server-sent events of `answer` into `tx`, then the whole answer.
async fn pump(
    mut answer: reqwest::Response,
    output: Output,
    tx: tokio::sync::mpsc::Sender<Result<Chunk, AiError>>,
) {
    let mut buffer: Vec<u8> = Vec::new();
    let mut gathered = Gathered::default();
    loop {
        let next = match answer.chunk().await {
            Ok(Some(bytes)) => bytes,
            Ok(None) => break,
            Err(err) => {
                let _ = tx.send(Err(failed(err))).await;
                return;
            }
        };
        buffer.extend_from_slice(&next);
        while let Some(end) = buffer.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buffer.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line);
            let Some(data) = line.trim().strip_prefix("data:").map(str::trim) else {
                continue;
            };
            if data == "[DONE]" {
                let _ = tx.send(gathered.done(&output).map(Chunk::Done)).await;
                return;
            }
            let Ok(event) = serde_json::from_str::<Value>(data) else {
                let _ = tx
                    .send(Err(AiError::Invalid("a streamed piece is not JSON".into())))
                    .await;
                return;
            };
            if event["error"].is_object() {
                let _ = tx
                    .send(Err(error_of(StatusCode::OK, &event["error"], None)))
                    .await;
                return;
            }
            if let Some(piece) = gathered.take(&event)
                && tx.send(Ok(Chunk::Text(piece))).await.is_err()
            {
                // The reader went away (the person left the page).
                return;
            }
        }
    }
    let _ = tx
        .send(Err(AiError::Unavailable(
            "the stream ended before the answer did".into(),
        )))
        .await;
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
        let answer: Value = answer.json().await.map_err(|e| {
            AiError::Invalid(format!(
                "the answer is not JSON: {}",
                crate::social::without_url(&e)
            ))
        })?;
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
        tokio::spawn(pump(answer, request.output.clone(), tx));
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
            .map_err(|e| {
                AiError::Invalid(format!(
                    "the answer is not JSON: {}",
                    crate::social::without_url(&e)
                ))
            })?;
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

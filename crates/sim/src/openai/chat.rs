//! `POST /v1/chat/completions`: what the answer is (text, JSON filled in from the requested
//! schema, a tool call, a refusal) and how it is sent (one `chat.completion`, or a stream of
//! `chat.completion.chunk` events ending with `data: [DONE]`).

use super::{OpenAiOp, invalid_request, lock, receive, store, text_of, tokens};
use crate::Simulator;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

/// More characters than this in all messages together exceed the model's context.
const CONTEXT_CHARS: usize = 400_000;

/// What the assistant answers.
enum Reply {
    Text(String),
    Refusal(String),
    ToolCall {
        id: String,
        name: String,
        /// A JSON object, as a string.
        arguments: String,
    },
}

/// The parts of a request the answer depends on.
struct Prompt<'a> {
    request: &'a Map<String, Value>,
    messages: &'a [Value],
    /// The text of the last `user` message.
    user_text: String,
}

pub(super) async fn completions(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request = match receive(&sim, OpenAiOp::Chat, &headers, &body).await {
        Ok(request) => request,
        Err(answer) => return answer,
    };
    answer(&sim, &request).unwrap_or_else(|refused| refused)
}

fn answer(sim: &Simulator, request: &Map<String, Value>) -> Result<Response, Response> {
    let model = request
        .get("model")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .ok_or_else(|| invalid_request("you must provide a model parameter", None, None))?;
    let messages = request
        .get("messages")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            invalid_request(
                "Missing required parameter: 'messages'.",
                Some("messages"),
                Some("missing_required_parameter"),
            )
        })?;
    if messages.is_empty() {
        return Err(invalid_request(
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but got \
             an empty array instead.",
            Some("messages"),
            Some("empty_array"),
        ));
    }
    // As OpenAI: each tool result answers a call of an earlier assistant message, and each
    // call is answered before the next message of another kind.
    let mut open: Vec<String> = Vec::new();
    for m in messages {
        let role = m["role"].as_str().unwrap_or_default();
        if role == "tool" {
            let id = m["tool_call_id"].as_str().unwrap_or_default();
            let Some(at) = open.iter().position(|c| c == id) else {
                return Err(invalid_request(
                    "Invalid parameter: messages with role 'tool' must be a response to a \
                     preceeding message with 'tool_calls'.",
                    Some("messages"),
                    None,
                ));
            };
            open.remove(at);
            continue;
        }
        if !open.is_empty() {
            return Err(invalid_request(
                "An assistant message with 'tool_calls' must be followed by tool messages \
                 responding to each 'tool_call_id'.",
                Some("messages"),
                None,
            ));
        }
        if role == "assistant"
            && let Some(calls) = m["tool_calls"].as_array()
        {
            open = calls
                .iter()
                .filter_map(|c| c["id"].as_str().map(str::to_owned))
                .collect();
        }
    }
    let texts: Vec<String> = messages.iter().map(|m| text_of(m.get("content"))).collect();
    let chars: usize = texts.iter().map(|t| t.chars().count()).sum();
    if chars > CONTEXT_CHARS {
        return Err(invalid_request(
            &format!(
                "This model's maximum context length is 128000 tokens. However, your messages \
                 resulted in {} tokens. Please reduce the length of the messages.",
                chars / 3
            ),
            Some("messages"),
            Some("context_length_exceeded"),
        ));
    }
    let prompt = Prompt {
        request,
        messages,
        user_text: messages
            .iter()
            .rev()
            .find(|m| m["role"] == "user")
            .map(|m| text_of(m.get("content")))
            .unwrap_or_default(),
    };
    let malformed = std::mem::take(&mut lock(&store(sim)).malformed_next);
    let reply = if malformed {
        Reply::Text("{not json".to_owned())
    } else {
        compose(&prompt)
    };
    let usage = {
        let prompt_tokens: usize = texts.iter().map(|t| tokens(t)).sum();
        let completion_tokens = match &reply {
            Reply::Text(text) | Reply::Refusal(text) => tokens(text),
            Reply::ToolCall { arguments, .. } => tokens(arguments) + 1,
        };
        json!({
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        })
    };
    let head = Head {
        id: crate::random_token("chatcmpl-"),
        created: chrono::Utc::now().timestamp(),
        model: model.to_owned(),
    };
    if request.get("stream").and_then(Value::as_bool) == Some(true) {
        let include_usage = request
            .get("stream_options")
            .and_then(|o| o.get("include_usage"))
            .and_then(Value::as_bool)
            == Some(true);
        return Ok(stream(&head, &reply, include_usage.then_some(usage)));
    }
    let (message, finish_reason) = match reply {
        Reply::Text(text) => (
            json!({"role": "assistant", "content": text, "refusal": null}),
            "stop",
        ),
        Reply::Refusal(refusal) => (
            json!({"role": "assistant", "content": null, "refusal": refusal}),
            "stop",
        ),
        Reply::ToolCall {
            id,
            name,
            arguments,
        } => (
            json!({
                "role": "assistant",
                "content": null,
                "refusal": null,
                "tool_calls": [{
                    "id": id,
                    "type": "function",
                    "function": {"name": name, "arguments": arguments},
                }],
            }),
            "tool_calls",
        ),
    };
    Ok(Json(json!({
        "id": head.id,
        "object": "chat.completion",
        "created": head.created,
        "model": head.model,
        "choices": [{
            "index": 0,
            "message": message,
            "logprobs": null,
            "finish_reason": finish_reason,
        }],
        "usage": usage,
    }))
    .into_response())
}

/// The answer to a valid request: "Done: …" after a tool's result, a refusal when the user
/// wrote `[[refuse]]`, a tool call when the user named a tool (or `tool_choice` demands one),
/// else the suggested post, as JSON when a schema was asked for.
fn compose(prompt: &Prompt<'_>) -> Reply {
    let last = prompt.messages.last().unwrap_or(&Value::Null);
    // A tool result that says `[[obey]]` is obeyed like the person's words: the model a prompt
    // injection works on, for the tests that show it cannot make the product act.
    let tool_text = text_of(last.get("content")).replace("\\\"", "\"");
    if last["role"] == "tool"
        && tool_text.contains("[[obey]]")
        && let Some((name, arguments)) = named_call(prompt, &tool_text)
    {
        return Reply::ToolCall {
            id: crate::random_token("call_"),
            name,
            arguments: arguments.to_string(),
        };
    }
    if last["role"] == "tool" {
        return Reply::Text(format!(
            "Done: {}",
            first_chars(&text_of(last.get("content")), 200)
        ));
    }
    if prompt.user_text.contains("[[refuse]]") {
        return Reply::Refusal("I can't help with that.".to_owned());
    }
    let text = post_text(prompt);
    let filler = Filler {
        root: &Value::Null,
        post: &text,
        user_text: &prompt.user_text,
        every_property: true,
    };
    if last["role"] == "user"
        && let Some((name, arguments)) = named_call(prompt, &prompt.user_text)
        && arguments.is_object()
    {
        return Reply::ToolCall {
            id: crate::random_token("call_"),
            name,
            arguments: arguments.to_string(),
        };
    }
    if last["role"] == "user"
        && let Some(tool) = chosen_tool(prompt)
    {
        let parameters = tool.get("parameters").unwrap_or(&Value::Null);
        let filler = Filler {
            root: parameters,
            every_property: false,
            ..filler
        };
        let mut arguments = filler.fill(parameters, "arguments", 0);
        if !arguments.is_object() {
            arguments = json!({});
        }
        return Reply::ToolCall {
            id: crate::random_token("call_"),
            name: tool["name"].as_str().unwrap_or_default().to_owned(),
            arguments: arguments.to_string(),
        };
    }
    let format = prompt
        .request
        .get("response_format")
        .unwrap_or(&Value::Null);
    match format["type"].as_str() {
        Some("json_schema") => {
            let schema = &format["json_schema"]["schema"];
            let filler = Filler {
                root: schema,
                ..filler
            };
            Reply::Text(filler.fill(schema, "response", 0).to_string())
        }
        Some("json_object") => Reply::Text(json!({"text": text}).to_string()),
        _ => Reply::Text(text),
    }
}

/// "Suggested post: " and the start of the user's text; more than 5,000 characters when the
/// user wrote `[[too-long]]`, unless some message asks for it shorter, and always when a
/// message says `[[always-long]]`.
fn post_text(prompt: &Prompt<'_>) -> String {
    let short = format!("Suggested post: {}", first_chars(&prompt.user_text, 200));
    let shorten = prompt.messages.iter().any(|m| {
        let text = text_of(m.get("content")).to_lowercase();
        text.contains("shorter") || text.contains("shorten")
    });
    // `[[always-long]]` anywhere in the conversation: long however often it is asked.
    let stubborn = prompt
        .messages
        .iter()
        .any(|m| text_of(m.get("content")).contains("[[always-long]]"));
    if !stubborn && (shorten || !prompt.user_text.contains("[[too-long]]")) {
        return short;
    }
    let mut long = short;
    let mut part = 1;
    while long.chars().count() <= 5_000 {
        long.push_str(&format!(
            " Part {part}: more on this, said again at length for the sake of it."
        ));
        part += 1;
    }
    long
}

/// A tool `text` names followed by a JSON object (`schedule_post {"post_id": 3, "at": "…"}`):
/// its name and that object as the arguments (`null` when no object follows the name).
fn named_call(prompt: &Prompt<'_>, text: &str) -> Option<(String, Value)> {
    let tools = prompt.request.get("tools").and_then(Value::as_array)?;
    let (at, name) = tools
        .iter()
        .filter_map(|t| t["function"]["name"].as_str())
        .filter_map(|name| text.find(name).map(|at| (at, name)))
        .max_by_key(|(_, name)| name.len())?;
    let rest = &text[at + name.len()..];
    let arguments = rest
        .find('{')
        .filter(|open| rest[..*open].trim().is_empty())
        .and_then(|open| {
            let mut depth = 0usize;
            for (i, c) in rest[open..].char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            return serde_json::from_str(&rest[open..=open + i]).ok();
                        }
                    }
                    _ => {}
                }
            }
            None
        })
        .unwrap_or(Value::Null);
    Some((name.to_owned(), arguments))
}

/// The `function` of the tool to call, if any: the one `tool_choice` names; with `"none"`,
/// none; else the tool whose name the user's text contains (the longest such), or with
/// `"required"` the first tool when the text names none.
fn chosen_tool<'a>(prompt: &Prompt<'a>) -> Option<&'a Value> {
    let tools: Vec<&Value> = prompt
        .request
        .get("tools")
        .and_then(Value::as_array)?
        .iter()
        .filter_map(|t| t.get("function"))
        .filter(|f| f["name"].is_string())
        .collect();
    let choice = prompt.request.get("tool_choice").unwrap_or(&Value::Null);
    if choice == "none" {
        return None;
    }
    if let Some(name) = choice["function"]["name"].as_str() {
        return tools.into_iter().find(|f| f["name"] == name);
    }
    let named = tools
        .iter()
        .filter(|f| {
            f["name"]
                .as_str()
                .is_some_and(|name| prompt.user_text.contains(name))
        })
        .max_by_key(|f| f["name"].as_str().map_or(0, str::len))
        .copied();
    match named {
        Some(tool) => Some(tool),
        None if choice == "required" => tools.first().copied(),
        None => None,
    }
}

/// Makes a value that validates against a JSON schema, from the prompt.
#[derive(Clone, Copy)]
struct Filler<'a> {
    /// The schema `$ref`s point into.
    root: &'a Value,
    /// The suggested post, for properties named like `text` or `caption`.
    post: &'a str,
    user_text: &'a str,
    /// Every property of an object, or only its `required` ones (a tool's arguments).
    every_property: bool,
}

impl Filler<'_> {
    fn fill(&self, schema: &Value, name: &str, depth: usize) -> Value {
        if depth > 16 {
            return Value::Null;
        }
        if let Some(reference) = schema["$ref"].as_str() {
            let target = reference
                .strip_prefix('#')
                .and_then(|pointer| self.root.pointer(pointer))
                .unwrap_or(&Value::Null);
            return self.fill(target, name, depth + 1);
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(options) = schema[key].as_array() {
                let option = options
                    .iter()
                    .find(|o| o["type"] != "null")
                    .or(options.first());
                return self.fill(option.unwrap_or(&Value::Null), name, depth + 1);
            }
        }
        if let Some(constant) = schema.get("const") {
            return constant.clone();
        }
        if let Some(first) = schema["enum"].as_array().and_then(|e| e.first()) {
            return first.clone();
        }
        let kind = match &schema["type"] {
            Value::String(kind) => kind.as_str(),
            Value::Array(kinds) => kinds
                .iter()
                .filter_map(Value::as_str)
                .find(|k| *k != "null")
                .unwrap_or("null"),
            _ if schema.get("properties").is_some() => "object",
            _ if schema.get("items").is_some() => "array",
            _ => "string",
        };
        match kind {
            "object" => self.object(schema, depth),
            "array" => self.array(schema, name, depth),
            "integer" => json!(bound(schema, 1.0) as i64),
            "number" => json!(bound(schema, 1.0)),
            "boolean" => json!(false),
            "null" => Value::Null,
            _ => json!(self.string(name)),
        }
    }

    fn object(&self, schema: &Value, depth: usize) -> Value {
        let required: Vec<&str> = schema["required"]
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut object = Map::new();
        if let Some(properties) = schema["properties"].as_object() {
            for (name, property) in properties {
                if self.every_property || required.contains(&name.as_str()) {
                    object.insert(name.clone(), self.fill(property, name, depth + 1));
                }
            }
        }
        // A required name the properties do not describe still gets a value.
        for name in required {
            if !object.contains_key(name) {
                object.insert(name.to_owned(), json!(self.string(name)));
            }
        }
        Value::Object(object)
    }

    fn array(&self, schema: &Value, name: &str, depth: usize) -> Value {
        let min = schema["minItems"].as_u64().unwrap_or(0);
        let max = schema["maxItems"].as_u64().unwrap_or(u64::MAX);
        let count = usize::try_from(3u64.max(min).min(max).min(64)).unwrap_or(3);
        let items = &schema["items"];
        let lower = name.to_lowercase();
        if items["type"] == "string" && (lower.contains("hashtag") || lower.contains("tags")) {
            let mut tags = hashtags(self.user_text);
            tags.truncate(count);
            return json!(tags);
        }
        let values: Vec<Value> = (1..=count)
            .map(|n| match self.fill(items, name, depth + 1) {
                Value::String(text) => json!(format!("{text} {n}")),
                other => other,
            })
            .collect();
        Value::Array(values)
    }

    fn string(&self, name: &str) -> String {
        if !self.every_property {
            return first_chars(self.user_text, 100);
        }
        let lower = name.to_lowercase();
        let post_like = [
            "text", "caption", "post", "content", "body", "message", "draft",
        ];
        if post_like.iter().any(|word| lower.contains(word)) {
            self.post.to_owned()
        } else if lower.contains("hashtag") {
            "#socializioz".to_owned()
        } else {
            format!("Sample {name}")
        }
    }
}

/// 1, or the schema's `minimum` when that is higher (and no more than its `maximum`).
fn bound(schema: &Value, value: f64) -> f64 {
    let low = schema["minimum"].as_f64().unwrap_or(f64::MIN);
    let high = schema["maximum"].as_f64().unwrap_or(f64::MAX);
    value.max(low).min(high)
}

/// `#socializioz` and two hashtags from the words of `text` (four letters or more), or
/// stand-ins when it has too few.
fn hashtags(text: &str) -> Vec<String> {
    let mut tags = vec!["#socializioz".to_owned()];
    for word in text.split(|c: char| !c.is_alphanumeric()) {
        let tag = format!("#{}", word.to_lowercase());
        if word.chars().count() >= 4 && !tags.contains(&tag) && tags.len() < 3 {
            tags.push(tag);
        }
    }
    for stand_in in ["#post", "#today"] {
        if tags.len() < 3 {
            tags.push(stand_in.to_owned());
        }
    }
    tags
}

/// The first `n` characters of `text`.
fn first_chars(text: &str, n: usize) -> String {
    text.chars().take(n).collect()
}

// ---------------------------------------------------------------------------------------------
// Streaming.

/// What every chunk of one answer repeats.
struct Head {
    id: String,
    created: i64,
    model: String,
}

impl Head {
    fn chunk(&self, delta: Value, finish_reason: Option<&str>, usage: bool) -> Value {
        let mut chunk = json!({
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{
                "index": 0,
                "delta": delta,
                "logprobs": null,
                "finish_reason": finish_reason,
            }],
        });
        if usage {
            chunk["usage"] = Value::Null;
        }
        chunk
    }
}

/// The whole answer as server-sent events: the assistant's role, the content a word at a time
/// (or a tool call's name and then its arguments in pieces), the finish reason, the usage when
/// `stream_options.include_usage` asked for it, and `data: [DONE]`.
fn stream(head: &Head, reply: &Reply, usage: Option<Value>) -> Response {
    let with_usage = usage.is_some();
    let mut chunks = Vec::new();
    let finish_reason = match reply {
        Reply::Text(text) => {
            chunks.push(head.chunk(
                json!({"role": "assistant", "content": ""}),
                None,
                with_usage,
            ));
            for word in text.split_inclusive(' ') {
                chunks.push(head.chunk(json!({"content": word}), None, with_usage));
            }
            "stop"
        }
        Reply::Refusal(refusal) => {
            chunks.push(head.chunk(
                json!({"role": "assistant", "content": null, "refusal": ""}),
                None,
                with_usage,
            ));
            chunks.push(head.chunk(json!({"refusal": refusal}), None, with_usage));
            "stop"
        }
        Reply::ToolCall {
            id,
            name,
            arguments,
        } => {
            chunks.push(head.chunk(
                json!({"role": "assistant", "content": null, "tool_calls": [{
                    "index": 0,
                    "id": id,
                    "type": "function",
                    "function": {"name": name, "arguments": ""},
                }]}),
                None,
                with_usage,
            ));
            let characters: Vec<char> = arguments.chars().collect();
            for piece in characters.chunks(8) {
                let piece: String = piece.iter().collect();
                chunks.push(head.chunk(
                    json!({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}),
                    None,
                    with_usage,
                ));
            }
            "tool_calls"
        }
    };
    chunks.push(head.chunk(json!({}), Some(finish_reason), with_usage));
    if let Some(usage) = usage {
        let mut last = head.chunk(json!({}), None, true);
        last["choices"] = json!([]);
        last["usage"] = usage;
        chunks.push(last);
    }
    let mut body = String::new();
    for chunk in chunks {
        body.push_str(&format!("data: {chunk}\n\n"));
    }
    body.push_str("data: [DONE]\n\n");
    (
        [
            (header::CONTENT_TYPE, "text/event-stream; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

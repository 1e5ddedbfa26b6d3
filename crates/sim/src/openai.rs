//! An OpenAI-compatible text and image API, under `/openai` (an adapter's base URL is
//! `<sim>/openai/v1`): Chat Completions (`POST /v1/chat/completions`) with structured output,
//! tool calls, refusals and streaming, image generation (`POST /v1/images/generations`) with
//! the GPT image models, and moderation (`POST /v1/moderations`), in the request and answer
//! shapes of the real API. Any bearer key that starts with `sk-` is accepted.
//!
//! The answers are made from the prompt, so that a test can see that what it sent shaped what
//! came back: a plain answer is "Suggested post: " and the start of the last user message, and
//! a generated image is a real PNG, JPEG or WebP file of the requested size whose colours and
//! shapes come from a hash of the prompt. A few markers in the user's text ask for the cases a
//! product must handle: `[[too-long]]` an answer of more than 5,000 characters (until a message
//! asks for it "shorter"; `[[always-long]]` whatever is asked), `[[refuse]]` a refusal, in
//! moderation `[[flag]]` a flagged text, and in an image prompt `[[block]]` (or
//! `[[block-output]]`) the safety system's `moderation_blocked` refusal at the input (or output)
//! stage. A tool's name followed by a JSON object in the user's text calls that tool with those
//! arguments, and a tool result that says `[[obey]]` is obeyed the same way (a prompt injection
//! that works). Faults are injected per call with [`Simulator::openai_fail_next`], and every
//! request body is kept for privacy tests ([`Simulator::openai_requests`]).
//!
//! This file holds the routes, the test controls, the error shapes, the checks every call
//! makes and moderation; making the chat answers (text, JSON filled in from a schema, tool
//! calls, the stream of chunks) is in `openai/chat.rs`, and checking image requests and
//! drawing the images in `openai/images.rs`.

mod chat;
mod images;

use crate::{Fault, Simulator};
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Map, Value, json};
use std::sync::{Arc, Mutex, MutexGuard};

/// The calls a fault can be injected into (see [`Simulator::openai_fail_next`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpenAiOp {
    /// `POST /v1/chat/completions`.
    Chat,
    /// `POST /v1/moderations`.
    Moderation,
    /// `POST /v1/images/generations`.
    Image,
}

pub fn router(sim: Simulator) -> Router {
    Router::new()
        .route("/v1/chat/completions", post(chat::completions))
        .route("/v1/images/generations", post(images::generations))
        .route("/v1/moderations", post(moderations))
        .with_state(sim)
}

// ---------------------------------------------------------------------------------------------
// Test controls.

impl Simulator {
    /// Answers the next `op` call with `fault`: `RateLimited` is a 429 `rate_limit_exceeded`
    /// with `retry-after` (seconds) and `retry-after-ms`, `ServerError` and `ProcessingFailed`
    /// a 500 `server_error`, `ExpiredToken` and `RevokedToken` a 401 `invalid_api_key`;
    /// `Slow` waits that long and then answers as usual, and `SlowProcessing` changes nothing.
    pub fn openai_fail_next(&self, op: OpenAiOp, fault: Fault) {
        lock(&store(self)).faults.push(op, fault);
    }

    /// Makes the next chat answer's `content` the broken JSON `{not json`, even when the
    /// request asked for a JSON schema.
    pub fn openai_malformed_next(&self) {
        lock(&store(self)).malformed_next = true;
    }

    /// Every request body received on `/openai`, oldest first, answered or not (a body that
    /// is not JSON is kept as a JSON string of its text).
    pub fn openai_requests(&self) -> Vec<Value> {
        lock(&store(self)).requests.clone()
    }

    /// How many calls reached `/openai`, whatever their answer.
    pub fn openai_calls(&self) -> usize {
        lock(&store(self)).requests.len()
    }
}

// ---------------------------------------------------------------------------------------------
// The records kept beside the shared state (one store per simulator).

#[derive(Default)]
struct Store {
    /// Every request body, oldest first.
    requests: Vec<Value>,
    faults: crate::Faults<OpenAiOp>,
    /// Whether the next chat answer is broken JSON.
    malformed_next: bool,
}

impl Store {
    fn take_fault(&mut self, op: OpenAiOp) -> Option<Fault> {
        self.faults.take(op)
    }
}

fn store(sim: &Simulator) -> Arc<Mutex<Store>> {
    sim.extension::<Store>()
}

fn lock(store: &Arc<Mutex<Store>>) -> MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(|p| p.into_inner())
}

// ---------------------------------------------------------------------------------------------
// Errors and the checks every call makes.

/// OpenAI's error: `{"error":{message, type, param, code}}`.
fn error(
    status: StatusCode,
    message: &str,
    kind: &str,
    param: Option<&str>,
    code: Option<&str>,
) -> Response {
    let body = json!({"error": {"message": message, "type": kind, "param": param, "code": code}});
    (status, Json(body)).into_response()
}

/// 400 `invalid_request_error`.
fn invalid_request(message: &str, param: Option<&str>, code: Option<&str>) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        message,
        "invalid_request_error",
        param,
        code,
    )
}

/// 401 for a missing key or one that does not start with `sk-`.
fn invalid_api_key() -> Response {
    error(
        StatusCode::UNAUTHORIZED,
        "Incorrect API key provided.",
        "invalid_request_error",
        None,
        Some("invalid_api_key"),
    )
}

/// Records the call, checks the key, answers an injected fault, and reads the body as a JSON
/// object; the `Err` is the answer to give instead.
async fn receive(
    sim: &Simulator,
    op: OpenAiOp,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Map<String, Value>, Response> {
    let parsed = serde_json::from_slice::<Value>(body);
    let kept = match &parsed {
        Ok(value) => value.clone(),
        Err(_) => Value::String(String::from_utf8_lossy(body).into_owned()),
    };
    let fault = {
        let store = store(sim);
        let mut store = lock(&store);
        store.requests.push(kept);
        store.take_fault(op)
    };
    let key_ok = crate::oauth::bearer(headers).is_some_and(|key| key.starts_with("sk-"));
    if !key_ok {
        return Err(invalid_api_key());
    }
    if let Some(fault) = fault {
        fault_response(fault).await?;
    }
    match parsed {
        Ok(Value::Object(request)) => Ok(request),
        _ => Err(invalid_request(
            "We could not parse the JSON body of your request. (HINT: This likely means you \
             aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, \
             but what was sent was not valid JSON.)",
            None,
            None,
        )),
    }
}

/// The answer to an injected fault; `Ok` when the call goes on to be answered as usual.
async fn fault_response(fault: Fault) -> Result<(), Response> {
    match fault {
        Fault::RateLimited { retry_after } => {
            let message = format!(
                "Rate limit reached for requests in organization org-sim on requests per min \
                 (RPM): Limit 3, Used 3, Requested 1. Please try again in {}s.",
                retry_after.as_secs()
            );
            let mut res = error(
                StatusCode::TOO_MANY_REQUESTS,
                &message,
                "requests",
                None,
                Some("rate_limit_exceeded"),
            );
            let headers = res.headers_mut();
            if let Ok(value) = HeaderValue::from_str(&retry_after.as_secs().to_string()) {
                headers.insert("retry-after", value);
            }
            if let Ok(value) = HeaderValue::from_str(&retry_after.as_millis().to_string()) {
                headers.insert("retry-after-ms", value);
            }
            Err(res)
        }
        Fault::ServerError | Fault::ProcessingFailed => Err(error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The server had an error while processing your request. Sorry about that!",
            "server_error",
            None,
            None,
        )),
        Fault::ExpiredToken | Fault::RevokedToken => Err(invalid_api_key()),
        Fault::Slow(wait) => {
            tokio::time::sleep(wait).await;
            Ok(())
        }
        Fault::SlowProcessing(_) => Ok(()),
    }
}

/// The text of a message's `content`: a string, or the `text` of its `[{type:"text", text}]`
/// parts joined by new lines; empty for anything else (`null` beside tool calls).
fn text_of(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|part| part.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// A stable token count: four tokens for every three words, rounded up.
fn tokens(text: &str) -> usize {
    (text.split_whitespace().count() * 4).div_ceil(3)
}

// ---------------------------------------------------------------------------------------------
// Moderation.

/// The moderation categories, in OpenAI's order.
const CATEGORIES: [&str; 13] = [
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/intent",
    "self-harm/instructions",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
];

/// The categories OpenAI also judges images for.
const IMAGE_CATEGORIES: [&str; 6] = [
    "self-harm",
    "self-harm/intent",
    "self-harm/instructions",
    "sexual",
    "violence",
    "violence/graphic",
];

/// What one moderation result is about: the text, and whether an image came with it.
struct ModerationInput {
    text: String,
    image: bool,
}

/// `POST /v1/moderations {model?, input}`: one result per string of the input (a string or
/// an array of them), or a single one for an array of `{type:"text"|"image_url"}` parts, as
/// OpenAI answers multi-modal input. A text containing `[[flag]]` is flagged for violence.
async fn moderations(State(sim): State<Simulator>, headers: HeaderMap, body: Bytes) -> Response {
    let request = match receive(&sim, OpenAiOp::Moderation, &headers, &body).await {
        Ok(request) => request,
        Err(answer) => return answer,
    };
    let inputs = match request.get("input") {
        Some(Value::String(text)) => vec![ModerationInput {
            text: text.clone(),
            image: false,
        }],
        Some(Value::Array(items)) if !items.is_empty() && items.iter().all(Value::is_string) => {
            items
                .iter()
                .map(|item| ModerationInput {
                    text: item.as_str().unwrap_or_default().to_owned(),
                    image: false,
                })
                .collect()
        }
        Some(Value::Array(parts)) if !parts.is_empty() && parts.iter().all(Value::is_object) => {
            vec![ModerationInput {
                text: text_of(Some(&Value::Array(parts.clone()))),
                image: parts.iter().any(|p| p["type"] == "image_url"),
            }]
        }
        None => {
            return invalid_request(
                "Missing required parameter: 'input'.",
                Some("input"),
                Some("missing_required_parameter"),
            );
        }
        Some(_) => {
            return invalid_request(
                "Invalid value for 'input': expected a string, an array of strings, or an \
                 array of objects.",
                Some("input"),
                Some("invalid_value"),
            );
        }
    };
    let model = request
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("omni-moderation-latest");
    let results: Vec<Value> = inputs.iter().map(moderation_result).collect();
    Json(json!({
        "id": crate::random_token("modr-"),
        "model": model,
        "results": results,
    }))
    .into_response()
}

fn moderation_result(input: &ModerationInput) -> Value {
    let flagged = input.text.contains("[[flag]]");
    let mut categories = Map::new();
    let mut scores = Map::new();
    let mut applied = Map::new();
    for category in CATEGORIES {
        let hit = flagged && category == "violence";
        categories.insert(category.to_owned(), json!(hit));
        scores.insert(
            category.to_owned(),
            json!(if hit { 0.97 } else { 0.000_12 }),
        );
        let mut types = Vec::new();
        if !input.text.is_empty() {
            types.push("text");
        }
        if input.image && IMAGE_CATEGORIES.contains(&category) {
            types.push("image");
        }
        applied.insert(category.to_owned(), json!(types));
    }
    json!({
        "flagged": flagged,
        "categories": categories,
        "category_scores": scores,
        "category_applied_input_types": applied,
    })
}

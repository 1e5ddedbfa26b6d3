//! ElevenLabs' text to speech under `/elevenlabs` (an adapter's base URL is
//! `<sim>/elevenlabs`), in the shapes of the real API: `GET /v1/voices`, `POST
//! /v1/text-to-speech/{voice_id}?output_format=…` answering a real MP3 file, and `GET /v1/user`
//! with the characters used and allowed. A key must start with `sk_`. The characters spoken are
//! counted against a monthly allowance ([`Simulator::elevenlabs_set_allowance`]); past it the
//! answer is `quota_exceeded`, and a text longer than the model takes is
//! `max_character_limit_exceeded`, as ElevenLabs answers them.
//!
//! The two kinds of 429 can be asked for: [`Simulator::elevenlabs_slots_full_next`] answers the
//! next calls `too_many_concurrent_requests` (wait for a slot), and a [`Fault::RateLimited`]
//! injected with [`Simulator::elevenlabs_fail_next`] answers `system_busy` (back off). Every
//! JSON body is kept for privacy tests.

use crate::{Fault, Simulator};
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

/// A real MP3: three seconds of a quiet tone.
const VOICE: &[u8] = include_bytes!("../assets/elevenlabs-voice.mp3");

/// The premade voices: id, name, and labels.
const VOICES: &[(&str, &str, &str, &str)] = &[
    ("21m00Tcm4TlvDq8ikWAM", "Rachel", "american", "calm"),
    ("AZnzlk1XvdvUeBnXmlld", "Domi", "american", "strong"),
    ("EXAVITQu4vr4xnSDxMaL", "Bella", "american", "soft"),
    ("ErXwobaYiN019PkySvjV", "Antoni", "american", "well-rounded"),
];

#[derive(Default)]
struct Store {
    requests: Vec<Value>,
    faults: VecDeque<Fault>,
    slots_full: u32,
    used: u64,
    allowance: Option<u64>,
    spoken: usize,
}

fn store(sim: &Simulator) -> Arc<Mutex<Store>> {
    sim.extension::<Store>()
}

fn lock(store: &Arc<Mutex<Store>>) -> MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(|p| p.into_inner())
}

const DEFAULT_ALLOWANCE: u64 = 100_000;

impl Simulator {
    /// Answers the next call with `fault`: `RateLimited` is a 429 `system_busy`, `ServerError`
    /// a 500, `ExpiredToken` and `RevokedToken` a 401 `invalid_api_key`, `Slow` waits first.
    pub fn elevenlabs_fail_next(&self, fault: Fault) {
        lock(&store(self)).faults.push_back(fault);
    }

    /// Answers the next `n` calls 429 `too_many_concurrent_requests`.
    pub fn elevenlabs_slots_full_next(&self, n: u32) {
        lock(&store(self)).slots_full += n;
    }

    /// Frees the slots taken by [`Simulator::elevenlabs_slots_full_next`].
    pub fn elevenlabs_free_slots(&self) {
        lock(&store(self)).slots_full = 0;
    }

    /// The characters allowed this month (100,000 unless set).
    pub fn elevenlabs_set_allowance(&self, characters: u64) {
        lock(&store(self)).allowance = Some(characters);
    }

    /// Every JSON body received, oldest first.
    pub fn elevenlabs_requests(&self) -> Vec<Value> {
        lock(&store(self)).requests.clone()
    }

    /// How many scripts were spoken.
    pub fn elevenlabs_spoken(&self) -> usize {
        lock(&store(self)).spoken
    }
}

pub fn router(sim: Simulator) -> Router {
    Router::new()
        .route("/v1/voices", get(voices))
        .route("/v1/text-to-speech/{voice}", post(speak))
        .route("/v1/user", get(user))
        .with_state(sim)
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"detail": {"status": code, "message": message}})),
    )
        .into_response()
}

/// Checks the key and answers the injected 429s and faults.
async fn receive(
    sim: &Simulator,
    headers: &HeaderMap,
    body: Option<&Bytes>,
) -> Result<(), Response> {
    let (full, fault) = {
        let store = store(sim);
        let mut store = lock(&store);
        if let Some(body) = body {
            store.requests.push(
                serde_json::from_slice(body)
                    .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into())),
            );
        }
        let full = store.slots_full > 0;
        if full {
            store.slots_full -= 1;
        }
        (full, if full { None } else { store.faults.pop_front() })
    };
    let key_ok = headers
        .get("xi-api-key")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|k| k.starts_with("sk_"));
    if !key_ok {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "invalid_api_key",
            "Invalid API key",
        ));
    }
    if full {
        return Err(error(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_concurrent_requests",
            "Too many concurrent requests for your subscription.",
        ));
    }
    match fault {
        Some(Fault::RateLimited { retry_after }) => {
            let mut res = error(
                StatusCode::TOO_MANY_REQUESTS,
                "system_busy",
                "The system is experiencing heavy traffic, please try again later.",
            );
            if let Ok(v) = HeaderValue::from_str(&retry_after.as_secs().to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Err(res)
        }
        Some(Fault::ServerError | Fault::ProcessingFailed) => Err(error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "An internal error occurred.",
        )),
        Some(Fault::ExpiredToken | Fault::RevokedToken) => Err(error(
            StatusCode::UNAUTHORIZED,
            "invalid_api_key",
            "Invalid API key",
        )),
        Some(Fault::Slow(wait)) => {
            tokio::time::sleep(wait).await;
            Ok(())
        }
        Some(Fault::SlowProcessing(_)) | None => Ok(()),
    }
}

async fn voices(State(sim): State<Simulator>, headers: HeaderMap) -> Response {
    if let Err(answer) = receive(&sim, &headers, None).await {
        return answer;
    }
    let voices: Vec<Value> = VOICES
        .iter()
        .map(|(id, name, accent, description)| {
            json!({
                "voice_id": id, "name": name, "category": "premade",
                "labels": {"accent": accent, "description": description},
                "preview_url": format!("https://storage.example/voices/{id}/preview.mp3"),
            })
        })
        .collect();
    Json(json!({"voices": voices})).into_response()
}

async fn speak(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path(voice): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    if let Err(answer) = receive(&sim, &headers, Some(&body)).await {
        return answer;
    }
    if !VOICES.iter().any(|(id, ..)| *id == voice) {
        return error(
            StatusCode::NOT_FOUND,
            "voice_not_found",
            "A voice with the voice_id was not found.",
        );
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
            "The body is not JSON.",
        );
    };
    let text = request["text"].as_str().unwrap_or_default();
    if text.trim().is_empty() {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
            "text is required.",
        );
    }
    let limit = match request["model_id"].as_str() {
        Some("eleven_flash_v2_5" | "eleven_turbo_v2_5") => 40_000,
        _ => 10_000,
    };
    let characters = text.chars().count();
    if characters > limit {
        return error(
            StatusCode::BAD_REQUEST,
            "max_character_limit_exceeded",
            "The text is longer than the model takes.",
        );
    }
    if !query
        .get("output_format")
        .is_none_or(|f| f.starts_with("mp3_"))
    {
        return error(
            StatusCode::FORBIDDEN,
            "output_format_not_allowed",
            "This output format needs a higher subscription.",
        );
    }
    let store = store(&sim);
    let mut store = lock(&store);
    let allowance = store.allowance.unwrap_or(DEFAULT_ALLOWANCE);
    if store.used + characters as u64 > allowance {
        return error(
            StatusCode::UNAUTHORIZED,
            "quota_exceeded",
            "This request exceeds your quota of characters this month.",
        );
    }
    store.used += characters as u64;
    store.spoken += 1;
    ([(header::CONTENT_TYPE, "audio/mpeg")], VOICE).into_response()
}

async fn user(State(sim): State<Simulator>, headers: HeaderMap) -> Response {
    if let Err(answer) = receive(&sim, &headers, None).await {
        return answer;
    }
    let store = store(&sim);
    let store = lock(&store);
    Json(json!({
        "subscription": {
            "tier": "creator",
            "character_count": store.used,
            "character_limit": store.allowance.unwrap_or(DEFAULT_ALLOWANCE),
        }
    }))
    .into_response()
}

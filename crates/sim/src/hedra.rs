//! Hedra's character videos under `/hedra` (an adapter's base URL is `<sim>/hedra`), in the
//! shapes of the real API: `POST /assets {name, type}` makes an asset and `POST
//! /assets/{id}/upload` takes its file (a picture for an image, an MP3 or WAV for audio, by
//! their first bytes); `POST /generations` checks what Hedra checks (the model's slug, the
//! start keyframe and the audio uploaded and of their kinds, `generated_video_inputs` with a
//! prompt, a resolution and an aspect ratio) and starts a generation, once per
//! `generation_id`; `GET /generations/{id}/status` moves it one step on at each look
//! (`queued`, `processing` with a growing `progress`, `finalizing`, `complete` with a download
//! address), so progress is the same on every run whatever the machine's speed. `GET
//! /voices`, `/models` and `/billing/credits` answer too.
//!
//! A key (`X-API-Key`) must start with `sk_hedra`. A download address is signed in itself: a
//! request that carries a key there is refused. `[[block]]` in the prompt ends the generation
//! in `error` as a moderation refusal; faults are injected per call with
//! [`Simulator::hedra_fail_next`] (and a lost answer with [`Simulator::hedra_lose_next_answer`]),
//! and every JSON body is kept for privacy tests.

use crate::runway::{SQUARE, TALL, WIDE, signed_only, uuid_like};
use crate::{Fault, Simulator};
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// The calls a fault can be injected into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HedraOp {
    /// `POST /assets` and `/assets/{id}/upload`.
    Asset,
    /// `POST /generations`.
    Start,
    /// `GET /generations/{id}/status`.
    Status,
    /// The download address.
    Output,
}

/// The model slugs served.
pub const MODELS: [&str; 2] = ["character-3", "hedra-avatar"];

/// How many looks a generation takes from `queued` to `complete`.
const STEPS: u32 = 5;

struct SimAsset {
    kind: String,
    /// The uploaded file's bytes and the name it came with.
    file: Option<Vec<u8>>,
    filename: Option<String>,
}

struct SimGeneration {
    aspect: String,
    looks: u32,
    needs: u32,
    fails: Option<&'static str>,
}

#[derive(Default)]
struct Store {
    requests: Vec<Value>,
    faults: crate::Faults<HedraOp>,
    assets: HashMap<String, SimAsset>,
    generations: HashMap<String, SimGeneration>,
    /// Download addresses' tokens that still work → the generation.
    outputs: HashMap<String, String>,
    started: usize,
    downloads: usize,
    /// The next generation started is answered with a 500 (a lost answer).
    lose_next: bool,
}

impl Store {
    fn take_fault(&mut self, op: HedraOp) -> Option<Fault> {
        self.faults.take(op)
    }
}

fn store(sim: &Simulator) -> Arc<Mutex<Store>> {
    sim.extension::<Store>()
}

fn lock(store: &Arc<Mutex<Store>>) -> MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(|p| p.into_inner())
}

impl Simulator {
    /// Answers the next `op` call with `fault`: `RateLimited` a 429 with `Retry-After`,
    /// `ServerError` a 500, `ExpiredToken` and `RevokedToken` a 401 (for [`HedraOp::Output`],
    /// `ExpiredToken` is the 403 of an address that has expired), `Slow` waits first; for
    /// [`HedraOp::Start`], `ProcessingFailed` makes the generation end in `error` and
    /// `SlowProcessing(n)` makes it take `n` more looks.
    pub fn hedra_fail_next(&self, op: HedraOp, fault: Fault) {
        lock(&store(self)).faults.push(op, fault);
    }

    /// Every JSON body received on `/hedra`, oldest first.
    pub fn hedra_requests(&self) -> Vec<Value> {
        lock(&store(self)).requests.clone()
    }

    /// How many generations were started and outputs downloaded.
    pub fn hedra_counts(&self) -> (usize, usize) {
        let store = store(self);
        let store = lock(&store);
        (store.started, store.downloads)
    }

    /// The files uploaded, as (kind, bytes), in no particular order.
    pub fn hedra_files(&self) -> Vec<(String, Vec<u8>)> {
        let store = store(self);
        let store = lock(&store);
        store
            .assets
            .values()
            .filter_map(|a| a.file.clone().map(|f| (a.kind.clone(), f)))
            .collect()
    }

    /// Starts the next generation asked for but answers the request with a 500, as when the
    /// answer is lost on its way back.
    pub fn hedra_lose_next_answer(&self) {
        lock(&store(self)).lose_next = true;
    }

    /// The names the uploaded files came with.
    pub fn hedra_file_names(&self) -> Vec<String> {
        let store = store(self);
        let store = lock(&store);
        store
            .assets
            .values()
            .filter_map(|a| a.filename.clone())
            .collect()
    }

    /// Makes every download address handed out so far stop working (403).
    pub fn hedra_expire_outputs(&self) {
        lock(&store(self)).outputs.clear();
    }
}

pub fn router(sim: Simulator) -> Router {
    Router::new()
        .route("/assets", post(new_asset))
        .route("/assets/{id}/upload", post(upload))
        .route("/generations", post(generate))
        .route("/generations/{id}/status", get(status))
        .route("/voices", get(voices))
        .route("/models", get(models))
        .route("/billing/credits", get(credits))
        .route("/_output/{token}", get(output))
        .with_state(sim)
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"detail": message}))).into_response()
}

/// A request that did not validate, as Hedra's framework answers it.
fn unprocessable(field: &str, message: &str) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({"detail": [{"loc": ["body", field], "msg": message, "type": "value_error"}]})),
    )
        .into_response()
}

/// Checks the key, keeps the body, and answers an injected fault (`Ok` with the fault when
/// it acts on the generation the call starts).
async fn receive(
    sim: &Simulator,
    op: HedraOp,
    headers: &HeaderMap,
    body: Option<&Bytes>,
) -> Result<(Value, Option<Fault>), Response> {
    let fault = {
        let store = store(sim);
        let mut store = lock(&store);
        if let Some(body) = body {
            store.requests.push(
                serde_json::from_slice(body)
                    .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into())),
            );
        }
        store.take_fault(op)
    };
    let key = headers.get("x-api-key").and_then(|v| v.to_str().ok());
    if !key.is_some_and(|k| k.starts_with("sk_hedra")) {
        return Err(error(StatusCode::UNAUTHORIZED, "Invalid API key"));
    }
    let passed = match fault {
        Some(fault) => fault_answer(fault).await?,
        None => None,
    };
    let parsed = match body {
        None => Value::Null,
        Some(b) => match serde_json::from_slice::<Value>(b) {
            Ok(value @ Value::Object(_)) => value,
            _ => return Err(unprocessable("body", "Input should be a valid dictionary")),
        },
    };
    Ok((parsed, passed))
}

async fn fault_answer(fault: Fault) -> Result<Option<Fault>, Response> {
    match fault {
        Fault::RateLimited { retry_after } => {
            let mut res = error(StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded");
            if let Ok(v) = HeaderValue::from_str(&retry_after.as_secs().max(1).to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Err(res)
        }
        Fault::ServerError => Err(error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal server error",
        )),
        Fault::ExpiredToken | Fault::RevokedToken => {
            Err(error(StatusCode::UNAUTHORIZED, "Invalid API key"))
        }
        Fault::Slow(wait) => {
            tokio::time::sleep(wait).await;
            Ok(None)
        }
        Fault::ProcessingFailed | Fault::SlowProcessing(_) => Ok(Some(fault)),
    }
}

async fn new_asset(State(sim): State<Simulator>, headers: HeaderMap, body: Bytes) -> Response {
    let request = match receive(&sim, HedraOp::Asset, &headers, Some(&body)).await {
        Ok((r, _)) => r,
        Err(answer) => return answer,
    };
    let kind = request["type"].as_str().unwrap_or_default();
    if !["image", "audio", "video"].contains(&kind) {
        return unprocessable("type", "Input should be 'image', 'audio' or 'video'");
    }
    let Some(name) = request["name"].as_str().filter(|n| !n.is_empty()) else {
        return unprocessable("name", "Field required");
    };
    let id = uuid_like();
    lock(&store(&sim)).assets.insert(
        id.clone(),
        SimAsset {
            kind: kind.to_owned(),
            file: None,
            filename: None,
        },
    );
    Json(json!({"id": id, "name": name, "type": kind})).into_response()
}

/// What a file is, from its first bytes: `image`, `audio`, or neither.
fn sniff(bytes: &[u8]) -> Option<&'static str> {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    if starts(&[0xFF, 0xD8, 0xFF]) || starts(b"\x89PNG") {
        return Some("image");
    }
    if starts(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        return Some("image");
    }
    if starts(b"ID3")
        || (bytes.len() > 1 && bytes[0] == 0xFF && bytes[1] & 0xE0 == 0xE0)
        || (starts(b"RIFF") && bytes.get(8..12) == Some(b"WAVE"))
    {
        return Some("audio");
    }
    None
}

async fn upload(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path(id): Path<String>,
    mut form: Multipart,
) -> Response {
    if let Err(answer) = receive(&sim, HedraOp::Asset, &headers, None).await {
        return answer;
    }
    let mut file = None;
    let mut filename = None;
    while let Ok(Some(field)) = form.next_field().await {
        if field.name() == Some("file") {
            filename = field.file_name().map(str::to_owned);
            file = field.bytes().await.ok().map(|b| b.to_vec());
        }
    }
    let Some(file) = file.filter(|f| !f.is_empty()) else {
        return unprocessable("file", "Field required");
    };
    let store = store(&sim);
    let mut store = lock(&store);
    let Some(asset) = store.assets.get_mut(&id) else {
        return error(StatusCode::NOT_FOUND, "Asset not found");
    };
    if sniff(&file) != Some(asset.kind.as_str()) {
        return error(
            StatusCode::BAD_REQUEST,
            &format!("The file is not a supported {} file", asset.kind),
        );
    }
    asset.file = Some(file);
    asset.filename = filename;
    Json(json!({"id": id, "type": asset.kind})).into_response()
}

async fn generate(State(sim): State<Simulator>, headers: HeaderMap, body: Bytes) -> Response {
    let (request, passed) = match receive(&sim, HedraOp::Start, &headers, Some(&body)).await {
        Ok(r) => r,
        Err(answer) => return answer,
    };
    if request["type"] != "video" {
        return unprocessable("type", "Input should be 'video'");
    }
    if !request["model_slug"]
        .as_str()
        .is_some_and(|m| MODELS.contains(&m))
    {
        return error(StatusCode::BAD_REQUEST, "Unknown model");
    }
    let inputs = &request["generated_video_inputs"];
    if !inputs.is_object() {
        return unprocessable("generated_video_inputs", "Field required");
    }
    let Some(prompt) = inputs["text_prompt"].as_str() else {
        return unprocessable("text_prompt", "Field required");
    };
    if !["540p", "720p"].contains(&inputs["resolution"].as_str().unwrap_or_default()) {
        return unprocessable("resolution", "Input should be '540p' or '720p'");
    }
    let aspect = inputs["aspect_ratio"].as_str().unwrap_or_default();
    if !["16:9", "9:16", "1:1"].contains(&aspect) {
        return unprocessable("aspect_ratio", "Input should be '16:9', '9:16' or '1:1'");
    }
    match &request["batch_size"] {
        Value::Null => {}
        n if n.as_u64().is_some_and(|n| (1..=8).contains(&n)) => {}
        _ => return unprocessable("batch_size", "Input should be between 1 and 8"),
    }
    let store = store(&sim);
    let mut store = lock(&store);
    let uploaded = |id: &Value, kind: &str| {
        id.as_str()
            .and_then(|id| store.assets.get(id))
            .is_some_and(|a| a.kind == kind && a.file.is_some())
    };
    if !uploaded(&request["start_keyframe_id"], "image") {
        return error(
            StatusCode::BAD_REQUEST,
            "start_keyframe_id must be an uploaded image asset",
        );
    }
    if !uploaded(&request["audio_id"], "audio") {
        return error(
            StatusCode::BAD_REQUEST,
            "audio_id must be an uploaded audio asset",
        );
    }
    // The caller's id: a request sent again starts nothing new.
    let id = match request["generation_id"].as_str() {
        Some(key) if store.generations.contains_key(key) => {
            return Json(json!({"id": key})).into_response();
        }
        Some(key) => key.to_owned(),
        None => uuid_like(),
    };
    let mut needs = STEPS;
    let mut fails = None;
    if prompt.contains("[[block]]") {
        fails = Some("The input did not pass content moderation.");
    }
    match passed {
        Some(Fault::SlowProcessing(more)) => needs += more,
        Some(Fault::ProcessingFailed) => fails = Some("Generation failed."),
        _ => {}
    }
    store.generations.insert(
        id.clone(),
        SimGeneration {
            aspect: aspect.to_owned(),
            looks: 0,
            needs,
            fails,
        },
    );
    store.started += 1;
    if std::mem::take(&mut store.lose_next) {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error");
    }
    Json(json!({"id": id, "type": "video", "status": "queued"})).into_response()
}

async fn status(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(answer) = receive(&sim, HedraOp::Status, &headers, None).await {
        return answer;
    }
    let host = crate::host(&headers, "localhost");
    let store = store(&sim);
    let mut store = lock(&store);
    let Some(generation) = store.generations.get_mut(&id) else {
        return error(StatusCode::NOT_FOUND, "Generation not found");
    };
    generation.looks = (generation.looks + 1).min(generation.needs);
    let (looks, needs) = (generation.looks, generation.needs);
    if looks < needs {
        let progress = f64::from(looks - 1) / f64::from(needs - 1);
        let state = match looks {
            1 => "queued",
            l if l + 1 == needs => "finalizing",
            _ => "processing",
        };
        return Json(json!({
            "id": id, "status": state,
            "progress": (progress * 100.0).round() / 100.0,
        }))
        .into_response();
    }
    if let Some(reason) = generation.fails {
        return Json(
            json!({"id": id, "status": "error", "progress": 1.0, "error_message": reason}),
        )
        .into_response();
    }
    // A fresh address at each look.
    let token = crate::random_token("");
    store.outputs.insert(token.clone(), id.clone());
    let address = format!("http://{host}/hedra/_output/{token}?X-Amz-Signature=sim");
    Json(json!({
        "id": id, "status": "complete", "progress": 1.0,
        "url": address, "download_url": address, "asset_id": uuid_like(),
    }))
    .into_response()
}

async fn voices(State(sim): State<Simulator>, headers: HeaderMap) -> Response {
    if let Err(answer) = receive(&sim, HedraOp::Status, &headers, None).await {
        return answer;
    }
    Json(json!([{"id": "hedra-voice-1", "name": "Ada", "labels": ["warm"]}])).into_response()
}

async fn models(State(sim): State<Simulator>, headers: HeaderMap) -> Response {
    if let Err(answer) = receive(&sim, HedraOp::Status, &headers, None).await {
        return answer;
    }
    let list: Vec<Value> = MODELS
        .iter()
        .map(|slug| json!({"id": uuid_like(), "slug": slug, "name": slug, "type": "video"}))
        .collect();
    Json(Value::Array(list)).into_response()
}

async fn credits(State(sim): State<Simulator>, headers: HeaderMap) -> Response {
    if let Err(answer) = receive(&sim, HedraOp::Status, &headers, None).await {
        return answer;
    }
    Json(json!({"remaining": 10_000, "expiring": 0})).into_response()
}

async fn output(
    State(sim): State<Simulator>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = signed_only(&headers) {
        return refused;
    }
    if headers.contains_key("x-api-key") {
        return (StatusCode::BAD_REQUEST, "Unexpected credentials").into_response();
    }
    let fault = lock(&store(&sim)).take_fault(HedraOp::Output);
    match fault {
        Some(Fault::ExpiredToken) => {
            return (StatusCode::FORBIDDEN, "Request has expired").into_response();
        }
        Some(fault) => {
            if let Err(answer) = fault_answer(fault).await {
                return answer;
            }
        }
        None => {}
    }
    let store = store(&sim);
    let mut store = lock(&store);
    let Some(aspect) = store
        .outputs
        .get(&token)
        .and_then(|id| store.generations.get(id))
        .map(|g| g.aspect.clone())
    else {
        return (StatusCode::FORBIDDEN, "Request has expired").into_response();
    };
    store.downloads += 1;
    let bytes: &'static [u8] = match aspect.as_str() {
        "1:1" => SQUARE,
        "9:16" => TALL,
        _ => WIDE,
    };
    ([(header::CONTENT_TYPE, "video/mp4")], bytes).into_response()
}

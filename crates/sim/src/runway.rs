//! Runway's video API under `/runway` (an adapter's base URL is `<sim>/runway`), in the shapes
//! of the real one: `POST /v1/text_to_video` and `/v1/image_to_video` start a task after
//! checking the model, the ratio and the duration it takes; `GET /v1/tasks/{id}` moves the task
//! one step on at each look (`PENDING`, then `RUNNING` with a growing `progress`, then
//! `SUCCEEDED` with an output address), so that progress is the same on every run whatever the
//! machine's speed; `DELETE /v1/tasks/{id}` cancels it. Input images arrive as ephemeral
//! uploads: `POST /v1/uploads` answers an upload address with form fields and a `runway://`
//! reference that a request may use only once the file was posted there.
//!
//! Outputs are real MP4 files (5 s, in the task's ratio) at addresses that stop working when a
//! test says so ([`Simulator::runway_expire_outputs`]); a new look at the task hands out fresh
//! ones, as Runway does. A key must start with `key_` and every call must name the API
//! version. A `[[block]]` in the prompt makes the task fail with `SAFETY.INPUT.TEXT`, a
//! `[[fail]]` with `INTERNAL.BAD_OUTPUT`; faults are injected per call with
//! [`Simulator::runway_fail_next`], and every JSON body is kept for privacy tests.

use crate::{Fault, Simulator};
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// The calls a fault can be injected into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunwayOp {
    /// `POST /v1/uploads`.
    Upload,
    /// `POST /v1/text_to_video` and `/v1/image_to_video`.
    Start,
    /// `GET /v1/tasks/{id}`.
    Task,
    /// The output's address.
    Output,
}

/// The MP4 files outputs are made of, by ratio.
pub(crate) const WIDE: &[u8] = include_bytes!("../assets/runway-1280x720.mp4");
pub(crate) const TALL: &[u8] = include_bytes!("../assets/runway-720x1280.mp4");
pub(crate) const SQUARE: &[u8] = include_bytes!("../assets/runway-960x960.mp4");

/// A model: its id, whether it takes text, whether it takes an image, its ratios and
/// durations.
type Model = (
    &'static str,
    bool,
    bool,
    &'static [&'static str],
    &'static [u64],
);

/// The models and what each takes.
const MODELS: &[Model] = &[
    (
        "gen4.5",
        true,
        true,
        &["1280:720", "720:1280"],
        &[2, 3, 4, 5, 6, 7, 8, 9, 10],
    ),
    (
        "gen4_turbo",
        false,
        true,
        &[
            "1280:720", "720:1280", "1104:832", "832:1104", "960:960", "1584:672",
        ],
        &[5, 10],
    ),
    (
        "veo3.1",
        true,
        true,
        &["1280:720", "720:1280", "1080:1920", "1920:1080"],
        &[4, 6, 8],
    ),
    (
        "veo3.1_fast",
        true,
        true,
        &["1280:720", "720:1280", "1080:1920", "1920:1080"],
        &[4, 6, 8],
    ),
    ("veo3", true, true, &["1280:720", "720:1280"], &[8]),
];

/// How many looks a task takes from `PENDING` to `SUCCEEDED`.
const STEPS: u32 = 4;

struct SimTask {
    ratio: String,
    /// Looks taken so far.
    looks: u32,
    /// Looks it needs.
    needs: u32,
    /// `FAILED` at the end, with this code and reason.
    fails: Option<(&'static str, &'static str)>,
    cancelled: bool,
    created_at: String,
}

#[derive(Default)]
struct Store {
    requests: Vec<Value>,
    faults: crate::Faults<RunwayOp>,
    tasks: HashMap<String, SimTask>,
    /// Upload slots: reference → the bytes posted, once they were.
    uploads: HashMap<String, Option<Vec<u8>>>,
    /// Output addresses' tokens that still work → the task.
    outputs: HashMap<String, String>,
    started: usize,
    cancels: usize,
    downloads: usize,
}

impl Store {
    fn take_fault(&mut self, op: RunwayOp) -> Option<Fault> {
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
    /// `ServerError` a 500, `ExpiredToken` and `RevokedToken` a 401 (for [`RunwayOp::Output`],
    /// `ExpiredToken` is the 403 of an address that has expired), `Slow` waits first;
    /// for [`RunwayOp::Start`], `ProcessingFailed` makes the task fail (`INTERNAL.BAD_OUTPUT`)
    /// and `SlowProcessing(n)` makes it take `n` more looks.
    pub fn runway_fail_next(&self, op: RunwayOp, fault: Fault) {
        lock(&store(self)).faults.push(op, fault);
    }

    /// Every JSON body received on `/runway`, oldest first.
    pub fn runway_requests(&self) -> Vec<Value> {
        lock(&store(self)).requests.clone()
    }

    /// How many tasks were started, cancelled, and outputs downloaded.
    pub fn runway_counts(&self) -> (usize, usize, usize) {
        let store = store(self);
        let store = lock(&store);
        (store.started, store.cancels, store.downloads)
    }

    /// Makes every output address handed out so far stop working (403), as they do after a
    /// day or two.
    pub fn runway_expire_outputs(&self) {
        lock(&store(self)).outputs.clear();
    }
}

pub fn router(sim: Simulator) -> Router {
    Router::new()
        .route("/v1/uploads", post(uploads))
        .route("/_upload/{slot}", post(upload_file))
        .route("/v1/text_to_video", post(text_to_video))
        .route("/v1/image_to_video", post(image_to_video))
        .route("/v1/tasks/{id}", get(task).delete(cancel))
        .route("/v1/organization", get(organization))
        .route("/_output/{token}", get(output))
        .with_state(sim)
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"error": message}))).into_response()
}

/// Checks the key and the version, answers an injected fault, and keeps the body.
async fn receive(
    sim: &Simulator,
    op: RunwayOp,
    headers: &HeaderMap,
    body: Option<&Bytes>,
) -> Result<(Value, Option<Fault>), Response> {
    let parsed = body.map(|b| serde_json::from_slice::<Value>(b));
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
    if !crate::oauth::bearer(headers).is_some_and(|key| key.starts_with("key_")) {
        return Err(error(StatusCode::UNAUTHORIZED, "Invalid API key."));
    }
    if headers.get("x-runway-version").is_none() {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "The X-Runway-Version header is required.",
        ));
    }
    let passed = match fault {
        Some(fault) => fault_answer(fault).await?,
        None => None,
    };
    match parsed {
        None => Ok((Value::Null, passed)),
        Some(Ok(value @ Value::Object(_))) => Ok((value, passed)),
        Some(_) => Err(error(
            StatusCode::BAD_REQUEST,
            "The body is not a JSON object.",
        )),
    }
}

/// The answer to an injected fault; `Ok` when the call goes on (with the fault when it acts
/// on the task the call starts).
async fn fault_answer(fault: Fault) -> Result<Option<Fault>, Response> {
    match fault {
        Fault::RateLimited { retry_after } => {
            let mut res = error(StatusCode::TOO_MANY_REQUESTS, "Too many requests.");
            if let Ok(v) = HeaderValue::from_str(&retry_after.as_secs().max(1).to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Err(res)
        }
        Fault::ServerError => Err(error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "An unexpected error occurred.",
        )),
        Fault::ExpiredToken | Fault::RevokedToken => {
            Err(error(StatusCode::UNAUTHORIZED, "Invalid API key."))
        }
        Fault::Slow(wait) => {
            tokio::time::sleep(wait).await;
            Ok(None)
        }
        Fault::ProcessingFailed | Fault::SlowProcessing(_) => Ok(Some(fault)),
    }
}

async fn uploads(State(sim): State<Simulator>, headers: HeaderMap, body: Bytes) -> Response {
    let request = match receive(&sim, RunwayOp::Upload, &headers, Some(&body)).await {
        Ok((r, _)) => r,
        Err(answer) => return answer,
    };
    if request["type"] != "ephemeral" || !request["filename"].is_string() {
        return error(
            StatusCode::BAD_REQUEST,
            "filename and type \"ephemeral\" are required.",
        );
    }
    let slot = crate::random_token("");
    lock(&store(&sim))
        .uploads
        .insert(format!("runway://sim/{slot}"), None);
    let host = crate::host(&headers, "localhost");
    Json(json!({
        "uploadUrl": format!("http://{host}/runway/_upload/{slot}"),
        "fields": {"key": format!("uploads/{slot}"), "policy": "c2lt"},
        "runwayUri": format!("runway://sim/{slot}"),
    }))
    .into_response()
}

/// The upload address: a form with the slot's fields and `file`.
async fn upload_file(
    State(sim): State<Simulator>,
    Path(slot): Path<String>,
    headers: HeaderMap,
    mut form: Multipart,
) -> Response {
    if let Some(refused) = signed_only(&headers) {
        return refused;
    }
    let mut key_ok = false;
    let mut file = None;
    while let Ok(Some(field)) = form.next_field().await {
        match field.name() {
            Some("key") => key_ok = field.text().await.ok() == Some(format!("uploads/{slot}")),
            Some("file") => file = field.bytes().await.ok().map(|b| b.to_vec()),
            _ => {}
        }
    }
    let reference = format!("runway://sim/{slot}");
    let store = store(&sim);
    let mut store = lock(&store);
    match (store.uploads.get_mut(&reference), key_ok, file) {
        (Some(kept), true, Some(bytes)) if kept.is_none() && !bytes.is_empty() => {
            *kept = Some(bytes);
            StatusCode::NO_CONTENT.into_response()
        }
        _ => StatusCode::FORBIDDEN.into_response(),
    }
}

/// The storage service's addresses are signed in themselves: a request that also carries an
/// `Authorization` header (a key sent where it should not go) is refused, as S3 refuses it.
pub(crate) fn signed_only(headers: &HeaderMap) -> Option<Response> {
    headers.contains_key(header::AUTHORIZATION).then(|| {
        (
            StatusCode::BAD_REQUEST,
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, \
             Signature query string parameter or the Authorization header should be specified",
        )
            .into_response()
    })
}

async fn text_to_video(State(sim): State<Simulator>, headers: HeaderMap, body: Bytes) -> Response {
    start(sim, headers, body, false).await
}

async fn image_to_video(State(sim): State<Simulator>, headers: HeaderMap, body: Bytes) -> Response {
    start(sim, headers, body, true).await
}

/// Checks a request as Runway does and starts its task.
async fn start(sim: Simulator, headers: HeaderMap, body: Bytes, from_image: bool) -> Response {
    let (request, passed) = match receive(&sim, RunwayOp::Start, &headers, Some(&body)).await {
        Ok(r) => r,
        Err(answer) => return answer,
    };
    let store = store(&sim);
    let mut store = lock(&store);
    let model = request["model"].as_str().unwrap_or_default();
    let Some((_, text_ok, image_ok, ratios, durations)) =
        MODELS.iter().find(|(id, ..)| *id == model)
    else {
        return error(StatusCode::BAD_REQUEST, "Invalid model.");
    };
    if (from_image && !image_ok) || (!from_image && !text_ok) {
        return error(
            StatusCode::BAD_REQUEST,
            &format!("Model {model} is not available for this endpoint."),
        );
    }
    let ratio = request["ratio"].as_str().unwrap_or_default();
    if !ratios.contains(&ratio) {
        return error(StatusCode::BAD_REQUEST, "Invalid ratio for this model.");
    }
    if !request["duration"]
        .as_u64()
        .is_some_and(|d| durations.contains(&d))
    {
        return error(StatusCode::BAD_REQUEST, "Invalid duration for this model.");
    }
    let prompt = request["promptText"].as_str().unwrap_or_default();
    if prompt.chars().count() > 1000 {
        return error(
            StatusCode::BAD_REQUEST,
            "promptText must be at most 1000 characters.",
        );
    }
    if !from_image && prompt.trim().is_empty() {
        return error(StatusCode::BAD_REQUEST, "promptText is required.");
    }
    if from_image {
        let uri = match &request["promptImage"] {
            Value::String(uri) => uri.clone(),
            Value::Array(items) => items
                .iter()
                .find(|i| i["position"] == "first")
                .and_then(|i| i["uri"].as_str())
                .unwrap_or_default()
                .to_owned(),
            _ => String::new(),
        };
        let uploaded = store.uploads.get(&uri).is_some_and(Option::is_some);
        if !uploaded {
            return error(
                StatusCode::BAD_REQUEST,
                "promptImage must be an uploaded runway:// URI, an HTTPS URL or a data URI.",
            );
        }
    }
    let mut needs = STEPS;
    let mut fails = None;
    if prompt.contains("[[block]]") {
        fails = Some((
            "SAFETY.INPUT.TEXT",
            "The prompt did not pass our content moderation.",
        ));
    } else if prompt.contains("[[fail]]") {
        fails = Some(("INTERNAL.BAD_OUTPUT", "The generation failed."));
    }
    match passed {
        Some(Fault::SlowProcessing(more)) => needs += more,
        Some(Fault::ProcessingFailed) => {
            fails = Some(("INTERNAL.BAD_OUTPUT", "The generation failed."));
        }
        _ => {}
    }
    let id = uuid_like();
    store.tasks.insert(
        id.clone(),
        SimTask {
            ratio: ratio.to_owned(),
            looks: 0,
            needs,
            fails,
            cancelled: false,
            created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        },
    );
    store.started += 1;
    Json(json!({"id": id})).into_response()
}

pub(crate) fn uuid_like() -> String {
    let t = crate::random_token("");
    let hex: String = t
        .bytes()
        .map(|b| format!("{:x}", b % 16))
        .chain(std::iter::repeat_n("0".to_owned(), 32))
        .take(32)
        .collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

async fn task(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(answer) = receive(&sim, RunwayOp::Task, &headers, None).await {
        return answer;
    }
    let host = crate::host(&headers, "localhost");
    let store = store(&sim);
    let mut store = lock(&store);
    let Some(task) = store.tasks.get_mut(&id) else {
        return error(StatusCode::NOT_FOUND, "Task not found.");
    };
    let created = task.created_at.clone();
    if task.cancelled {
        return Json(json!({"id": id, "status": "CANCELLED", "createdAt": created}))
            .into_response();
    }
    task.looks = (task.looks + 1).min(task.needs);
    let (looks, needs) = (task.looks, task.needs);
    if looks < needs {
        if looks <= 1 {
            return Json(json!({"id": id, "status": "PENDING", "createdAt": created}))
                .into_response();
        }
        let progress = f64::from(looks - 1) / f64::from(needs - 1);
        return Json(json!({
            "id": id, "status": "RUNNING", "createdAt": created,
            "progress": (progress * 100.0).round() / 100.0,
        }))
        .into_response();
    }
    if let Some((code, reason)) = task.fails {
        return Json(json!({
            "id": id, "status": "FAILED", "createdAt": created,
            "failure": reason, "failureCode": code,
        }))
        .into_response();
    }
    // A fresh address at each look.
    let token = crate::random_token("");
    store.outputs.insert(token.clone(), id.clone());
    Json(json!({
        "id": id, "status": "SUCCEEDED", "createdAt": created,
        "output": [format!("http://{host}/runway/_output/{token}?_jwt=sim")],
    }))
    .into_response()
}

async fn cancel(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(answer) = receive(&sim, RunwayOp::Task, &headers, None).await {
        return answer;
    }
    let store = store(&sim);
    let mut store = lock(&store);
    let Some(task) = store.tasks.get_mut(&id) else {
        return error(StatusCode::NOT_FOUND, "Task not found.");
    };
    task.cancelled = true;
    store.cancels += 1;
    StatusCode::NO_CONTENT.into_response()
}

async fn organization(State(sim): State<Simulator>, headers: HeaderMap) -> Response {
    if let Err(answer) = receive(&sim, RunwayOp::Task, &headers, None).await {
        return answer;
    }
    Json(json!({"creditBalance": 10_000, "tier": {"maxMonthlyCreditSpend": 100_000}}))
        .into_response()
}

async fn output(
    State(sim): State<Simulator>,
    Path(token): Path<String>,
    headers: HeaderMap,
    Query(_): Query<HashMap<String, String>>,
) -> Response {
    if let Some(refused) = signed_only(&headers) {
        return refused;
    }
    let fault = {
        let store = store(&sim);
        lock(&store).take_fault(RunwayOp::Output)
    };
    match fault {
        // An address that has expired, as the storage service answers it.
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
    let Some(ratio) = store
        .outputs
        .get(&token)
        .and_then(|id| store.tasks.get(id))
        .map(|t| t.ratio.clone())
    else {
        return (StatusCode::FORBIDDEN, "Request has expired").into_response();
    };
    store.downloads += 1;
    let bytes: &'static [u8] = match ratio.as_str() {
        "960:960" => SQUARE,
        r if r.starts_with("720:") || r.starts_with("1080:") || r.starts_with("832:") => TALL,
        _ => WIDE,
    };
    ([(header::CONTENT_TYPE, "video/mp4")], bytes).into_response()
}

//! Runway's video API (`API_FACTS.md`): `POST /v1/text_to_video` and `POST /v1/image_to_video`
//! start a task (`{id}`), `GET /v1/tasks/{id}` tells where it is (`PENDING`, `THROTTLED`,
//! `RUNNING` with `progress` 0–1, `SUCCEEDED` with `output` addresses that expire,
//! `FAILED` with `failure` and `failureCode`, `CANCELLED`), and `DELETE /v1/tasks/{id}` stops
//! it. Every call carries the key as a bearer token and the API version in
//! `X-Runway-Version`.
//!
//! An input image is never put at a public address: it is handed over as an ephemeral upload
//! (`POST /v1/uploads {filename, type: "ephemeral"}` answers an upload address with its form
//! fields and the `runway://` reference to use; the file is then posted to that address, to
//! which the key is not sent).
//!
//! The models and what each accepts are the published ones; the operator chooses which are
//! offered.

use super::AiError;
use super::openai::{failed, retry_after};
use super::video::{
    Download, InputFile, Task, TaskState, Tasks, VideoGenerator, VideoModel, VideoRequest,
    VideoShape,
};
use async_trait::async_trait;
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use std::time::Duration;

/// Runway's API.
pub const RUNWAY_API: &str = "https://api.dev.runwayml.com";
/// The API version the adapter speaks.
pub const RUNWAY_VERSION: &str = "2024-11-06";

const WIDE_AND_TALL: &[VideoShape] = &[VideoShape::Vertical, VideoShape::Wide];

/// The models Runway publishes, with what each accepts.
pub const MODELS: &[VideoModel] = &[
    VideoModel {
        id: "gen4.5",
        label: "Gen-4.5",
        from_text: true,
        from_image: false,
        shapes: WIDE_AND_TALL,
        durations: &[5, 10],
    },
    VideoModel {
        id: "gen4_turbo",
        label: "Gen-4 Turbo",
        from_text: false,
        from_image: true,
        shapes: &[VideoShape::Vertical, VideoShape::Wide, VideoShape::Square],
        durations: &[5, 10],
    },
    VideoModel {
        id: "veo3.1_fast",
        label: "Veo 3.1 Fast",
        from_text: true,
        from_image: true,
        shapes: WIDE_AND_TALL,
        durations: &[4, 6, 8],
    },
    VideoModel {
        id: "veo3.1",
        label: "Veo 3.1",
        from_text: true,
        from_image: true,
        shapes: WIDE_AND_TALL,
        durations: &[4, 6, 8],
    },
    VideoModel {
        id: "veo3",
        label: "Veo 3",
        from_text: true,
        from_image: false,
        shapes: WIDE_AND_TALL,
        durations: &[8],
    },
];

/// The longest prompt Runway takes, in characters.
pub const MAX_PROMPT: usize = 1000;

#[derive(Debug, Clone)]
pub struct RunwayConfig {
    /// `https://api.dev.runwayml.com`.
    pub base_url: String,
    pub api_key: SecretString,
    /// `X-Runway-Version`.
    pub version: String,
    /// The offered models' ids, in order (each one of [`MODELS`]).
    pub models: Vec<String>,
    /// For one call (not for the task, which is polled).
    pub timeout: Duration,
}

pub struct Runway {
    client: reqwest::Client,
    base: String,
    config: RunwayConfig,
    models: Vec<VideoModel>,
}

/// The wait a 429 without a header asks for.
const DEFAULT_WAIT: Duration = Duration::from_secs(10);

impl Runway {
    /// The adapter, or the name of a model Runway does not publish.
    pub fn new(config: RunwayConfig) -> Result<Runway, String> {
        let mut models = Vec::new();
        for id in &config.models {
            let model = MODELS
                .iter()
                .find(|m| m.id == id.trim())
                .ok_or_else(|| id.clone())?;
            if !models.contains(model) {
                models.push(model.clone());
            }
        }
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Runway {
            client,
            base: config.base_url.trim_end_matches('/').to_owned(),
            config,
            models,
        })
    }

    fn call(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(self.config.api_key.expose_secret())
            .header("X-Runway-Version", &self.config.version)
    }

    /// Sends `request`; the answer when it succeeded, else the failure in the product's kinds.
    async fn send(&self, request: reqwest::RequestBuilder) -> Result<reqwest::Response, AiError> {
        let answer = request.send().await.map_err(failed)?;
        if answer.status().is_success() {
            return Ok(answer);
        }
        let status = answer.status();
        let wait = retry_after(answer.headers());
        let body: Value = answer.json().await.unwrap_or(Value::Null);
        Err(error_of(status, &body, wait))
    }

    /// What the addresses Runway hands out (upload slots, outputs) may be.
    fn outside(&self) -> crate::fetch::FetchPolicy {
        super::video::outside(&self.base, self.config.timeout)
    }

    async fn json(&self, request: reqwest::RequestBuilder) -> Result<Value, AiError> {
        self.send(request)
            .await?
            .json()
            .await
            .map_err(|e| AiError::Invalid(format!("the answer is not JSON: {e}")))
    }
}

/// A Runway error answer (`{"error": "…"}`, with `issues` for a request it refused) in the
/// product's kinds.
fn error_of(status: StatusCode, body: &Value, wait: Option<Duration>) -> AiError {
    let message = match &body["error"] {
        Value::String(text) => text.clone(),
        Value::Object(o) => o
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("no reason given")
            .to_owned(),
        _ => "no reason given".to_owned(),
    };
    match status.as_u16() {
        401 | 403 => AiError::Credentials(message),
        429 => AiError::RateLimited {
            retry_after: wait.unwrap_or(DEFAULT_WAIT),
        },
        408 | 504 => AiError::Timeout,
        400 if message.to_lowercase().contains("moderation")
            || message.to_lowercase().contains("safety") =>
        {
            AiError::Refused { reason: message }
        }
        s if s >= 500 => AiError::Unavailable(format!("{status}: {message}")),
        _ => AiError::Invalid(message),
    }
}

/// Runway's `ratio` for a shape.
fn ratio(shape: VideoShape) -> &'static str {
    match shape {
        VideoShape::Wide => "1280:720",
        VideoShape::Vertical => "720:1280",
        VideoShape::Square => "960:960",
    }
}

/// A task as Runway describes it.
fn task_of(body: &Value) -> Result<Task, AiError> {
    let progress = body["progress"].as_f64().map(|p| p.clamp(0.0, 1.0) as f32);
    let state = match body["status"].as_str() {
        Some("PENDING" | "THROTTLED") => TaskState::Waiting,
        Some("RUNNING") => TaskState::Running,
        Some("SUCCEEDED") => {
            let outputs: Vec<String> = body["output"]
                .as_array()
                .map(|o| {
                    o.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            if outputs.is_empty() {
                return Err(AiError::Invalid("a finished task has no output".into()));
            }
            TaskState::Succeeded(outputs)
        }
        Some("FAILED") => TaskState::Failed {
            reason: body["failure"]
                .as_str()
                .unwrap_or("no reason given")
                .to_owned(),
            code: body["failureCode"].as_str().map(str::to_owned),
        },
        Some("CANCELLED") => TaskState::Cancelled,
        // A state added after this was written: not ended, as far as is known; the time
        // limit ends it if it never does.
        other => {
            tracing::warn!(state = ?other, "a Runway task in an unknown state");
            TaskState::Waiting
        }
    };
    Ok(Task { state, progress })
}

#[async_trait]
impl VideoGenerator for Runway {
    fn models(&self) -> &[VideoModel] {
        &self.models
    }

    async fn upload(&self, image: &InputFile) -> Result<String, AiError> {
        let slot = self
            .json(
                self.call(reqwest::Method::POST, "/v1/uploads")
                    .json(&json!({"filename": image.filename, "type": "ephemeral"})),
            )
            .await?;
        let reference = slot["runwayUri"]
            .as_str()
            .ok_or_else(|| AiError::Invalid("the upload slot has no reference".into()))?
            .to_owned();
        let address = slot["uploadUrl"]
            .as_str()
            .and_then(|a| crate::fetch::Url::parse(a).ok())
            .ok_or_else(|| AiError::Invalid("the upload slot has no upload address".into()))?;
        let mut form = reqwest::multipart::Form::new();
        if let Some(fields) = slot["fields"].as_object() {
            for (name, value) in fields {
                let value = match value {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                form = form.text(name.clone(), value);
            }
        }
        let part = reqwest::multipart::Part::bytes(image.bytes.clone())
            .file_name(image.filename.clone())
            .mime_str(image.mime)
            .map_err(|e| AiError::Invalid(e.to_string()))?;
        form = form.part("file", part);
        // The key is not sent to the upload address (a storage service's, signed by its
        // fields), and the address must be a public https one (or the API's own origin).
        let client = crate::fetch::pinned_client(&address, &self.outside())
            .await
            .map_err(|e| AiError::Invalid(format!("the upload address was refused: {e}")))?;
        let sent = client
            .post(address)
            .multipart(form)
            .send()
            .await
            .map_err(failed)?;
        let status = sent.status();
        if !status.is_success() {
            return Err(if status.is_server_error() {
                AiError::Unavailable(format!("the upload was answered {status}"))
            } else {
                AiError::Invalid(format!("the upload was refused ({status})"))
            });
        }
        Ok(reference)
    }

    async fn start(&self, request: &VideoRequest) -> Result<String, AiError> {
        let model = self
            .model(&request.model)
            .ok_or_else(|| AiError::Invalid(format!("{} is not offered", request.model)))?;
        let prompt = request.prompt.trim();
        if prompt.chars().count() > MAX_PROMPT {
            return Err(AiError::Invalid(format!(
                "the prompt is longer than {MAX_PROMPT} characters"
            )));
        }
        if !model.shapes.contains(&request.shape) || !model.durations.contains(&request.seconds) {
            return Err(AiError::Invalid(format!(
                "{} does not make {} videos of {} s",
                model.id,
                request.shape.as_str(),
                request.seconds
            )));
        }
        let mut body = json!({
            "model": model.id,
            "ratio": ratio(request.shape),
            "duration": request.seconds,
        });
        if !prompt.is_empty() {
            body["promptText"] = json!(prompt);
        }
        if model.id.starts_with("veo3.1") {
            // The voice-over, when there is one, is laid under it afterwards.
            body["audio"] = json!(false);
        }
        let path = match &request.image {
            Some(image) if model.from_image => {
                body["promptImage"] = json!([{"uri": image, "position": "first"}]);
                "/v1/image_to_video"
            }
            None if model.from_text && !prompt.is_empty() => "/v1/text_to_video",
            None if model.from_text => {
                return Err(AiError::Invalid("a video from text needs a prompt".into()));
            }
            _ => {
                return Err(AiError::Invalid(format!(
                    "{} does not make videos from {}",
                    model.id,
                    if request.image.is_some() {
                        "an image"
                    } else {
                        "text"
                    }
                )));
            }
        };
        let answer = self
            .json(self.call(reqwest::Method::POST, path).json(&body))
            .await?;
        let id = answer["id"]
            .as_str()
            .ok_or_else(|| AiError::Invalid("the task has no id".into()))?;
        Ok(task_id(id)?.to_owned())
    }
}

#[async_trait]
impl Tasks for Runway {
    fn provider(&self) -> &str {
        "Runway"
    }

    async fn task(&self, id: &str) -> Result<Task, AiError> {
        let id = task_id(id)?;
        let body = self
            .json(self.call(reqwest::Method::GET, &format!("/v1/tasks/{id}")))
            .await?;
        task_of(&body)
    }

    async fn cancel(&self, id: &str) -> Result<(), AiError> {
        let id = task_id(id)?;
        match self
            .send(self.call(reqwest::Method::DELETE, &format!("/v1/tasks/{id}")))
            .await
        {
            // Already gone.
            Ok(_) | Err(AiError::Invalid(_)) => Ok(()),
            Err(err) => Err(err),
        }
    }

    async fn download(&self, url: &str) -> Result<Download, AiError> {
        super::video::open_output(url, &self.base, self.config.timeout).await
    }
}

/// A task id as Runway makes them (a UUID): anything else is not put in a path.
fn task_id(id: &str) -> Result<&str, AiError> {
    if !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        Ok(id)
    } else {
        Err(AiError::Invalid("not a task id".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_are_read_in_every_state() {
        let t = task_of(&json!({"id": "a", "status": "RUNNING", "progress": 0.4})).unwrap();
        assert_eq!(t.state, TaskState::Running);
        assert_eq!(t.progress, Some(0.4));
        let t = task_of(&json!({"status": "THROTTLED"})).unwrap();
        assert_eq!(t.state, TaskState::Waiting);
        let t = task_of(&json!({"status": "SUCCEEDED", "output": ["https://x/v.mp4"]})).unwrap();
        assert_eq!(
            t.state,
            TaskState::Succeeded(vec!["https://x/v.mp4".into()])
        );
        let t = task_of(
            &json!({"status": "FAILED", "failure": "no", "failureCode": "SAFETY.INPUT.TEXT"}),
        )
        .unwrap();
        assert_eq!(
            t.state,
            TaskState::Failed {
                reason: "no".into(),
                code: Some("SAFETY.INPUT.TEXT".into())
            }
        );
        assert!(task_of(&json!({"status": "SUCCEEDED", "output": []})).is_err());
        assert_eq!(
            task_of(&json!({"status": "PAUSED"})).unwrap().state,
            TaskState::Waiting
        );
    }

    #[test]
    fn only_published_models_are_offered() {
        let config = |models: &[&str]| RunwayConfig {
            base_url: RUNWAY_API.into(),
            api_key: SecretString::from("key_x".to_owned()),
            version: RUNWAY_VERSION.into(),
            models: models.iter().map(|m| (*m).to_owned()).collect(),
            timeout: Duration::from_secs(5),
        };
        let runway = Runway::new(config(&["gen4_turbo", "gen4.5", "gen4_turbo"])).unwrap();
        let ids: Vec<&str> = runway.models().iter().map(|m| m.id).collect();
        assert_eq!(ids, ["gen4_turbo", "gen4.5"]);
        assert_eq!(
            Runway::new(config(&["gen9"])).err().as_deref(),
            Some("gen9")
        );
        assert!(task_id("../organization").is_err());
        assert!(task_id("17f20503-6c24-4c16-946b-35dbbce2af2f").is_ok());
    }
}

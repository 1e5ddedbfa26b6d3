//! Hedra's character videos (`API_FACTS.md`): a portrait and a voice-over become assets
//! (`POST /assets {name, type}` answers `{id}`, then the file is posted to
//! `/assets/{id}/upload`), a generation starts from them (`POST /generations` with the model's
//! slug, the portrait as the start keyframe, the voice-over as the audio and
//! `generated_video_inputs {text_prompt, resolution, aspect_ratio}`; `generation_id`, chosen
//! by the caller, makes a request sent twice start one generation), and
//! `GET /generations/{id}/status` tells where it is (`queued`, `processing`, `finalizing`,
//! `complete` with a download address, `error` with a message). Every call carries the key in
//! `X-API-Key`; the download address is signed in itself and gets no key.
//!
//! Hedra publishes no way to stop a generation: [`Tasks::cancels`] says so.

use super::AiError;
use super::character::{AssetKind, CharacterGenerator, CharacterRequest};
use super::openai::{failed, retry_after};
use super::video::{Download, InputFile, Task, TaskState, Tasks, VideoShape};
use async_trait::async_trait;
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use std::time::Duration;

/// Hedra's API.
pub const HEDRA_API: &str = "https://api.hedra.com/web-app/public";

/// The longest prompt sent, in characters.
pub const MAX_PROMPT: usize = 1000;

/// The resolutions Hedra makes.
pub const RESOLUTIONS: [&str; 2] = ["540p", "720p"];

#[derive(Debug, Clone)]
pub struct HedraConfig {
    /// `https://api.hedra.com/web-app/public`.
    pub base_url: String,
    pub api_key: SecretString,
    /// The model's slug.
    pub model: String,
    /// `540p` or `720p`.
    pub resolution: String,
    /// For one call (not for the generation, which is polled).
    pub timeout: Duration,
}

pub struct Hedra {
    client: reqwest::Client,
    base: String,
    config: HedraConfig,
}

/// The wait a 429 without a header asks for.
const DEFAULT_WAIT: Duration = Duration::from_secs(10);

impl Hedra {
    /// The adapter, or why the configuration cannot be used.
    pub fn new(config: HedraConfig) -> Result<Hedra, String> {
        if !RESOLUTIONS.contains(&config.resolution.as_str()) {
            return Err(format!(
                "the resolution {:?} is not one Hedra makes",
                config.resolution
            ));
        }
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .redirect(super::same_origin_redirects(3))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Hedra {
            client,
            base: config.base_url.trim_end_matches('/').to_owned(),
            config,
        })
    }

    fn call(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .header("X-API-Key", self.config.api_key.expose_secret())
    }

    /// Sends `request`; the answer as JSON when it succeeded, else the failure in the
    /// product's kinds.
    async fn json(&self, request: reqwest::RequestBuilder) -> Result<Value, AiError> {
        let answer = request.send().await.map_err(failed)?;
        let status = answer.status();
        if !status.is_success() {
            let wait = retry_after(answer.headers());
            let body: Value = answer.json().await.unwrap_or(Value::Null);
            return Err(error_of(status, &body, wait));
        }
        let text = answer.text().await.map_err(failed)?;
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text)
            .map_err(|e| AiError::Invalid(format!("the answer is not JSON: {e}")))
    }
}

/// The message of an error answer: `{"detail": "…"}`, `{"detail": [{"msg": "…"}]}` (a request
/// that did not validate), `{"message": "…"}` or `{"error": "…"}`.
fn message_of(body: &Value) -> String {
    let detail = &body["detail"];
    if let Some(text) = detail.as_str() {
        return text.to_owned();
    }
    if let Some(first) = detail.as_array().and_then(|d| d.first())
        && let Some(text) = first["msg"].as_str()
    {
        return text.to_owned();
    }
    for field in ["message", "error"] {
        if let Some(text) = body[field].as_str() {
            return text.to_owned();
        }
    }
    "no reason given".to_owned()
}

/// An error answer in the product's kinds.
fn error_of(status: StatusCode, body: &Value, wait: Option<Duration>) -> AiError {
    let message = message_of(body);
    let lower = message.to_lowercase();
    match status.as_u16() {
        401 | 403 => AiError::Credentials(message),
        // The account's credits are used up: the operator's to settle.
        402 => AiError::Credentials(format!("no credits left: {message}")),
        429 => AiError::RateLimited {
            retry_after: wait.unwrap_or(DEFAULT_WAIT),
        },
        408 | 504 => AiError::Timeout,
        400 | 422
            if lower.contains("moderation")
                || lower.contains("safety")
                || lower.contains("content policy") =>
        {
            AiError::Refused { reason: message }
        }
        s if s >= 500 => AiError::Unavailable(format!("{status}: {message}")),
        _ => AiError::Invalid(message),
    }
}

/// Hedra's `aspect_ratio` for a shape.
fn aspect(shape: VideoShape) -> &'static str {
    shape.as_str()
}

/// A generation's status as Hedra describes it.
fn task_of(body: &Value) -> Result<Task, AiError> {
    // A share (0–1) or a percentage.
    let progress = body["progress"].as_f64().map(|p| {
        let share = if p > 1.0 { p / 100.0 } else { p };
        share.clamp(0.0, 1.0) as f32
    });
    let state = match body["status"].as_str() {
        Some("queued" | "pending") => TaskState::Waiting,
        Some("processing" | "finalizing") => TaskState::Running,
        Some("complete") => {
            let address = ["download_url", "url"]
                .iter()
                .find_map(|f| body[*f].as_str().filter(|a| !a.is_empty()));
            match address {
                Some(address) => TaskState::Succeeded(vec![address.to_owned()]),
                None => {
                    return Err(AiError::Invalid(
                        "a finished generation has no output".into(),
                    ));
                }
            }
        }
        Some("error") => TaskState::Failed {
            reason: body["error_message"]
                .as_str()
                .unwrap_or("no reason given")
                .to_owned(),
            code: None,
        },
        other => {
            tracing::warn!(state = ?other, "a Hedra generation in an unknown state");
            TaskState::Waiting
        }
    };
    Ok(Task { state, progress })
}

/// An id as Hedra makes them (a UUID): anything else is not put in a path.
fn id_of(id: &str) -> Result<&str, AiError> {
    if !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        Ok(id)
    } else {
        Err(AiError::Invalid("not an id".into()))
    }
}

#[async_trait]
impl Tasks for Hedra {
    fn provider(&self) -> &str {
        "Hedra"
    }

    async fn task(&self, id: &str) -> Result<Task, AiError> {
        let id = id_of(id)?;
        let body = self
            .json(self.call(reqwest::Method::GET, &format!("/generations/{id}/status")))
            .await?;
        task_of(&body)
    }

    fn cancels(&self) -> bool {
        false
    }

    async fn cancel(&self, _id: &str) -> Result<(), AiError> {
        Ok(())
    }

    async fn download(&self, url: &str) -> Result<Download, AiError> {
        super::video::open_output(url, &self.base, self.config.timeout).await
    }
}

#[async_trait]
impl CharacterGenerator for Hedra {
    fn model(&self) -> &str {
        &self.config.model
    }

    fn max_prompt(&self) -> usize {
        MAX_PROMPT
    }

    async fn upload(&self, kind: AssetKind, file: &InputFile) -> Result<String, AiError> {
        let asset = self
            .json(
                self.call(reqwest::Method::POST, "/assets")
                    .json(&json!({"name": file.filename, "type": kind.as_str()})),
            )
            .await?;
        let id = asset["id"]
            .as_str()
            .ok_or_else(|| AiError::Invalid("the asset has no id".into()))?;
        let id = id_of(id)?.to_owned();
        let part = reqwest::multipart::Part::bytes(file.bytes.clone())
            .file_name(file.filename.clone())
            .mime_str(file.mime)
            .map_err(|e| AiError::Invalid(e.to_string()))?;
        let form = reqwest::multipart::Form::new().part("file", part);
        self.json(
            self.call(reqwest::Method::POST, &format!("/assets/{id}/upload"))
                .multipart(form),
        )
        .await?;
        Ok(id)
    }

    async fn start(&self, request: &CharacterRequest) -> Result<String, AiError> {
        let prompt = request.prompt.trim();
        if prompt.chars().count() > MAX_PROMPT {
            return Err(AiError::Invalid(format!(
                "the prompt is longer than {MAX_PROMPT} characters"
            )));
        }
        let body = json!({
            "type": "video",
            "model_slug": self.config.model,
            "start_keyframe_id": id_of(&request.portrait)?,
            "audio_id": id_of(&request.voice)?,
            "generated_video_inputs": {
                "text_prompt": prompt,
                "resolution": self.config.resolution,
                "aspect_ratio": aspect(request.shape),
            },
            "batch_size": 1,
            "generation_id": id_of(&request.key)?,
        });
        let answer = self
            .json(self.call(reqwest::Method::POST, "/generations").json(&body))
            .await?;
        let id = answer["id"]
            .as_str()
            .ok_or_else(|| AiError::Invalid("the generation has no id".into()))?;
        Ok(id_of(id)?.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_read_in_every_state() {
        let t = task_of(&json!({"status": "processing", "progress": 0.4})).unwrap();
        assert_eq!(t.state, TaskState::Running);
        assert_eq!(t.progress, Some(0.4));
        let t = task_of(&json!({"status": "finalizing", "progress": 90})).unwrap();
        assert_eq!(t.progress, Some(0.9));
        assert_eq!(
            task_of(&json!({"status": "queued"})).unwrap().state,
            TaskState::Waiting
        );
        let t = task_of(
            &json!({"status": "complete", "url": "https://a/v", "download_url": "https://a/d"}),
        )
        .unwrap();
        assert_eq!(t.state, TaskState::Succeeded(vec!["https://a/d".into()]));
        let t = task_of(&json!({"status": "complete", "url": "https://a/v"})).unwrap();
        assert_eq!(t.state, TaskState::Succeeded(vec!["https://a/v".into()]));
        assert!(task_of(&json!({"status": "complete"})).is_err());
        assert_eq!(
            task_of(&json!({"status": "error", "error_message": "no face found"}))
                .unwrap()
                .state,
            TaskState::Failed {
                reason: "no face found".into(),
                code: None
            }
        );
        assert_eq!(
            task_of(&json!({"status": "paused"})).unwrap().state,
            TaskState::Waiting
        );
    }

    #[test]
    fn errors_are_read_in_their_shapes() {
        let e = error_of(
            StatusCode::UNPROCESSABLE_ENTITY,
            &json!({"detail": [{"loc": ["body", "generated_video_inputs"], "msg": "Field required"}]}),
            None,
        );
        assert_eq!(e, AiError::Invalid("Field required".into()));
        let e = error_of(
            StatusCode::BAD_REQUEST,
            &json!({"detail": "The image did not pass content moderation."}),
            None,
        );
        assert!(matches!(e, AiError::Refused { .. }));
        assert!(matches!(
            error_of(
                StatusCode::PAYMENT_REQUIRED,
                &json!({"message": "Insufficient credits"}),
                None
            ),
            AiError::Credentials(_)
        ));
        assert_eq!(
            error_of(
                StatusCode::TOO_MANY_REQUESTS,
                &Value::Null,
                Some(Duration::from_secs(3))
            ),
            AiError::RateLimited {
                retry_after: Duration::from_secs(3)
            }
        );
        assert!(id_of("../billing/credits").is_err());
        assert!(
            Hedra::new(HedraConfig {
                base_url: HEDRA_API.into(),
                api_key: SecretString::from("sk_hedra_x".to_owned()),
                model: "character-3".into(),
                resolution: "1080p".into(),
                timeout: Duration::from_secs(5),
            })
            .is_err()
        );
    }
}

//! ElevenLabs' text to speech (`API_FACTS.md`): `POST /v1/text-to-speech/{voice_id}
//! ?output_format=mp3_44100_128 {text, model_id, voice_settings}` answers the audio's bytes;
//! `GET /v1/voices` lists the voices; `GET /v1/user` tells the subscription's characters used
//! and allowed. The key goes in `xi-api-key`. Errors are `{"detail": {"status", "message"}}`.
//!
//! Its two kinds of 429 are handled differently. `too_many_concurrent_requests` means the
//! account's concurrent requests are all taken: the request waits for a slot (a short, even
//! wait, with no backoff, a few times) and the adapter holds at most `concurrency` requests at
//! once so that one instance does not take every slot. `system_busy` means ElevenLabs is
//! overloaded: the adapter backs off exponentially a few times and then tells the caller to
//! wait ([`AiError::RateLimited`]).

use super::AiError;
use super::openai::{failed, retry_after};
use super::speech::{SpeechGenerator, SpeechQuota, SpeechRequest, Voice};
use async_trait::async_trait;
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::sync::Semaphore;

/// ElevenLabs' API.
pub const ELEVENLABS_API: &str = "https://api.elevenlabs.io";

/// The models and the longest text each takes in one request.
pub const MODELS: &[(&str, usize)] = &[
    ("eleven_multilingual_v2", 10_000),
    ("eleven_flash_v2_5", 40_000),
    ("eleven_turbo_v2_5", 40_000),
    // Not published with the others; the lowest of them is assumed.
    ("eleven_v3", 10_000),
];

#[derive(Debug, Clone)]
pub struct ElevenLabsConfig {
    /// `https://api.elevenlabs.io`.
    pub base_url: String,
    pub api_key: SecretString,
    /// One of [`MODELS`].
    pub model: String,
    /// `mp3_44100_128`; an MP3 format (the voice-over is laid under a video).
    pub output_format: String,
    /// Requests at once from this instance.
    pub concurrency: usize,
    /// The wait before asking again for a concurrency slot.
    pub slot_wait: Duration,
    /// The first wait after `system_busy` (doubled at each try).
    pub backoff: Duration,
    /// For one call.
    pub timeout: Duration,
}

pub struct ElevenLabs {
    client: reqwest::Client,
    base: String,
    config: ElevenLabsConfig,
    max_characters: usize,
    slots: Semaphore,
}

/// How many times a request waits for a slot, and backs off, before it gives up.
const SLOT_TRIES: u32 = 5;
const BUSY_TRIES: u32 = 3;

/// The largest audio read: 32 MB (10,000 characters are about 12 minutes, 12 MB at 128 kbit/s).
const MAX_AUDIO: usize = 32 * 1024 * 1024;

/// What an answer said went wrong, in the product's kinds, and whether it is one of the two
/// 429s the adapter handles itself.
#[derive(Debug, PartialEq)]
enum Refusal {
    /// `too_many_concurrent_requests`: wait for a slot.
    NoSlot,
    /// `system_busy`: back off.
    Busy(Option<Duration>),
    Other(AiError),
}

impl ElevenLabs {
    /// The adapter, or the model it does not know.
    pub fn new(config: ElevenLabsConfig) -> Result<ElevenLabs, String> {
        let max_characters = MODELS
            .iter()
            .find(|(id, _)| *id == config.model)
            .map(|(_, max)| *max)
            .ok_or_else(|| config.model.clone())?;
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .redirect(super::same_origin_redirects(3))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(ElevenLabs {
            client,
            base: config.base_url.trim_end_matches('/').to_owned(),
            slots: Semaphore::new(config.concurrency.max(1)),
            config,
            max_characters,
        })
    }

    fn call(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .header("xi-api-key", self.config.api_key.expose_secret())
    }

    /// Sends a request (made anew for each try), waiting for a slot or backing off as the
    /// answer asks.
    async fn send(
        &self,
        request: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, AiError> {
        let (mut no_slot, mut busy) = (0, 0);
        loop {
            let refusal = {
                let _slot = self
                    .slots
                    .acquire()
                    .await
                    .map_err(|e| AiError::Unavailable(e.to_string()))?;
                let answer = request().send().await.map_err(failed)?;
                if answer.status().is_success() {
                    return Ok(answer);
                }
                refusal(answer).await
            };
            match refusal {
                Refusal::NoSlot if no_slot < SLOT_TRIES => {
                    no_slot += 1;
                    tokio::time::sleep(self.config.slot_wait).await;
                }
                Refusal::NoSlot => {
                    return Err(AiError::RateLimited {
                        retry_after: self.config.slot_wait,
                    });
                }
                Refusal::Busy(_) if busy < BUSY_TRIES => {
                    tokio::time::sleep(self.config.backoff * 2u32.pow(busy)).await;
                    busy += 1;
                }
                Refusal::Busy(wait) => {
                    return Err(AiError::RateLimited {
                        retry_after: wait.unwrap_or(self.config.backoff * 2u32.pow(busy)),
                    });
                }
                Refusal::Other(err) => return Err(err),
            }
        }
    }
}

/// Reads an error answer.
async fn refusal(answer: reqwest::Response) -> Refusal {
    let status = answer.status();
    let wait = retry_after(answer.headers());
    let body: Value = answer.json().await.unwrap_or(Value::Null);
    refusal_of(status, &body, wait)
}

fn refusal_of(status: StatusCode, body: &Value, wait: Option<Duration>) -> Refusal {
    let detail = &body["detail"];
    let code = detail["status"]
        .as_str()
        .or_else(|| detail["code"].as_str())
        .unwrap_or_default();
    let message = detail["message"]
        .as_str()
        .or_else(|| detail.as_str())
        .unwrap_or("no reason given")
        .to_owned();
    match (status.as_u16(), code) {
        (429, "too_many_concurrent_requests") => Refusal::NoSlot,
        (429, "system_busy") => Refusal::Busy(wait),
        (429, _) => Refusal::Other(AiError::RateLimited {
            retry_after: wait.unwrap_or(Duration::from_secs(10)),
        }),
        // Not passing until the account's period renews: told, not retried.
        (_, "quota_exceeded") => Refusal::Other(AiError::Refused {
            reason: "this instance's ElevenLabs characters for the period are used up; tell \
                     the operator."
                .into(),
        }),
        (401 | 403, _) | (_, "invalid_api_key") => Refusal::Other(AiError::Credentials(message)),
        (_, "voice_not_found") => Refusal::Other(AiError::Refused {
            reason: "this voice is no longer offered; choose another.".into(),
        }),
        (_, "max_character_limit_exceeded") => Refusal::Other(AiError::ContextTooLong),
        (408 | 504, _) => Refusal::Other(AiError::Timeout),
        (s, _) if s >= 500 => Refusal::Other(AiError::Unavailable(format!("{status}: {message}"))),
        _ => Refusal::Other(AiError::Invalid(message)),
    }
}

/// A voice id as ElevenLabs makes them (letters and digits): anything else is not put in a
/// path.
fn voice_id(id: &str) -> Result<&str, AiError> {
    if !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(id)
    } else {
        Err(AiError::Invalid("not a voice id".into()))
    }
}

#[async_trait]
impl SpeechGenerator for ElevenLabs {
    fn provider(&self) -> &str {
        "ElevenLabs"
    }

    fn model(&self) -> &str {
        &self.config.model
    }

    fn max_characters(&self) -> usize {
        self.max_characters
    }

    async fn voices(&self) -> Result<Vec<Voice>, AiError> {
        let answer = self
            .send(|| self.call(reqwest::Method::GET, "/v1/voices"))
            .await?;
        let body: Value = answer
            .json()
            .await
            .map_err(|e| AiError::Invalid(format!("the voices are not JSON: {e}")))?;
        let voices = body["voices"]
            .as_array()
            .ok_or_else(|| AiError::Invalid("the answer has no voices".into()))?;
        Ok(voices
            .iter()
            .filter_map(|v| {
                Some(Voice {
                    id: v["voice_id"].as_str()?.to_owned(),
                    name: v["name"].as_str().unwrap_or("Unnamed").to_owned(),
                    category: v["category"].as_str().unwrap_or_default().to_owned(),
                    labels: v["labels"]
                        .as_object()
                        .map(|l| {
                            l.values()
                                .filter_map(Value::as_str)
                                .map(str::to_owned)
                                .collect()
                        })
                        .unwrap_or_default(),
                })
            })
            .collect())
    }

    async fn speak(&self, request: &SpeechRequest) -> Result<Vec<u8>, AiError> {
        let voice = voice_id(&request.voice)?;
        let text = request.text.trim();
        if text.is_empty() {
            return Err(AiError::Invalid("the script is empty".into()));
        }
        if text.chars().count() > self.max_characters {
            return Err(AiError::ContextTooLong);
        }
        let body = json!({
            "text": text,
            "model_id": self.config.model,
            "voice_settings": {"stability": 0.5, "similarity_boost": 0.75, "style": 0.0, "speed": 1.0},
        });
        let path = format!(
            "/v1/text-to-speech/{voice}?output_format={}",
            self.config.output_format
        );
        let mut answer = self
            .send(|| self.call(reqwest::Method::POST, &path).json(&body))
            .await?;
        let mut audio = Vec::new();
        while let Some(chunk) = answer.chunk().await.map_err(failed)? {
            if audio.len() + chunk.len() > MAX_AUDIO {
                return Err(AiError::Invalid("the audio is larger than 32 MB".into()));
            }
            audio.extend_from_slice(&chunk);
        }
        if audio.is_empty() {
            return Err(AiError::Invalid("the audio is empty".into()));
        }
        Ok(audio)
    }

    async fn quota(&self) -> Result<SpeechQuota, AiError> {
        let answer = self
            .send(|| self.call(reqwest::Method::GET, "/v1/user"))
            .await?;
        let body: Value = answer
            .json()
            .await
            .map_err(|e| AiError::Invalid(format!("the account is not JSON: {e}")))?;
        let sub = &body["subscription"];
        match (
            sub["character_count"].as_u64(),
            sub["character_limit"].as_u64(),
        ) {
            (Some(used), Some(limit)) => Ok(SpeechQuota { used, limit }),
            _ => Err(AiError::Invalid(
                "the account has no character counts".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_two_kinds_of_429_are_told_apart() {
        let busy = json!({"detail": {"status": "system_busy", "message": "busy"}});
        let full = json!({"detail": {"status": "too_many_concurrent_requests", "message": "x"}});
        let other = json!({"detail": {"status": "rate_limited", "message": "x"}});
        let s429 = StatusCode::TOO_MANY_REQUESTS;
        assert_eq!(refusal_of(s429, &full, None), Refusal::NoSlot);
        assert_eq!(
            refusal_of(s429, &busy, Some(Duration::from_secs(2))),
            Refusal::Busy(Some(Duration::from_secs(2)))
        );
        assert!(matches!(
            refusal_of(s429, &other, None),
            Refusal::Other(AiError::RateLimited { .. })
        ));
        let quota = json!({"detail": {"status": "quota_exceeded", "message": "x"}});
        assert!(matches!(
            refusal_of(StatusCode::UNAUTHORIZED, &quota, None),
            Refusal::Other(AiError::Refused { .. })
        ));
        let key = json!({"detail": {"status": "invalid_api_key", "message": "bad key"}});
        assert_eq!(
            refusal_of(StatusCode::UNAUTHORIZED, &key, None),
            Refusal::Other(AiError::Credentials("bad key".into()))
        );
        let long = json!({"detail": {"status": "max_character_limit_exceeded", "message": "x"}});
        assert_eq!(
            refusal_of(StatusCode::BAD_REQUEST, &long, None),
            Refusal::Other(AiError::ContextTooLong)
        );
    }

    #[test]
    fn voice_ids_are_checked_before_they_go_in_a_path() {
        assert!(voice_id("21m00Tcm4TlvDq8ikWAM").is_ok());
        assert!(voice_id("../v1/user").is_err());
        assert!(voice_id("").is_err());
    }
}

//! OpenAI's image generation (`POST /images/generations`) with the GPT image models, as
//! `API_FACTS.md` records it: `{model, prompt, n, size, quality, background, output_format}`
//! answered with `{created, data: [{b64_json}], usage}` (never a URL; the DALL-E models were
//! retired). A prompt the safety system blocks is a 400 with `code: "moderation_blocked"` and
//! `moderation_details {moderation_stage, categories}`: a refusal that says which stage and
//! which categories. The other errors are the text API's.

use super::AiError;
use super::images::{
    Background, GeneratedImage, ImageFormat, ImageGenerator, ImageRequest, Images,
};
use super::openai::{Api, error_of, failed, refusal};
use async_trait::async_trait;
use base64::Engine;
use secrecy::SecretString;
use serde_json::{Value, json};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct OpenAiImagesConfig {
    /// `https://api.openai.com/v1`.
    pub base_url: String,
    pub api_key: Option<SecretString>,
    /// `gpt-image-1`, `gpt-image-1-mini`, `gpt-image-1.5`, `gpt-image-2`, …
    pub model: String,
    /// What people are told the provider is.
    pub name: String,
    /// For the whole answer (a high-quality image can take a minute).
    pub timeout: Duration,
}

/// The largest answer read: 64 MB.
const MAX_ANSWER: usize = 64 * 1024 * 1024;

pub struct OpenAiImages {
    api: Api,
    config: OpenAiImagesConfig,
}

impl OpenAiImages {
    pub fn new(config: OpenAiImagesConfig) -> OpenAiImages {
        let api = Api::new(&config.base_url, config.api_key.clone());
        OpenAiImages { api, config }
    }

    /// The request's body, or why it cannot be asked (checked here as the API would).
    fn body(&self, request: &ImageRequest) -> Result<Value, AiError> {
        let prompt = request.prompt.trim();
        if prompt.is_empty() {
            return Err(AiError::Invalid("the prompt is empty".into()));
        }
        if prompt.chars().count() > super::images::MAX_PROMPT {
            return Err(AiError::Invalid(format!(
                "the prompt is longer than {} characters",
                super::images::MAX_PROMPT
            )));
        }
        if !(1..=10).contains(&request.n) {
            return Err(AiError::Invalid(
                "between 1 and 10 images can be asked".into(),
            ));
        }
        if request.background == Background::Transparent {
            if request.format == ImageFormat::Jpeg {
                return Err(AiError::Invalid(
                    "a transparent background needs PNG or WebP".into(),
                ));
            }
            if self.config.model == "gpt-image-2" {
                return Err(AiError::Invalid(
                    "gpt-image-2 does not make transparent backgrounds".into(),
                ));
            }
        }
        Ok(json!({
            "model": self.config.model,
            "prompt": prompt,
            "n": request.n,
            "size": request.size.as_str(),
            "quality": request.quality.as_str(),
            "background": request.background.as_str(),
            "output_format": request.format.as_str(),
        }))
    }
}

/// The safety system's refusal, with its stage and categories ("the prompt was blocked by
/// OpenAI's safety system (violence)").
fn blocked(error: &Value) -> Option<AiError> {
    if error["code"] != "moderation_blocked" {
        return None;
    }
    let details = &error["moderation_details"];
    let what = match details["moderation_stage"].as_str() {
        Some("output") => "the image made from this prompt was blocked",
        _ => "the prompt was blocked",
    };
    let categories: Vec<&str> = details["categories"]
        .as_array()
        .map(|c| c.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let reason = if categories.is_empty() {
        format!("{what} by the provider's safety system.")
    } else {
        format!(
            "{what} by the provider's safety system ({}).",
            categories.join(", ")
        )
    };
    Some(AiError::Refused { reason })
}

#[async_trait]
impl ImageGenerator for OpenAiImages {
    fn provider(&self) -> &str {
        &self.config.name
    }

    fn model(&self) -> &str {
        &self.config.model
    }

    async fn generate(&self, request: &ImageRequest) -> Result<Images, AiError> {
        let body = self.body(request)?;
        let answer = self
            .api
            .post("/images/generations")
            .timeout(self.config.timeout)
            .json(&body)
            .send()
            .await
            .map_err(failed)?;
        if !answer.status().is_success() {
            let (status, error, wait) = refusal(answer).await;
            return Err(blocked(&error).unwrap_or_else(|| error_of(status, &error, wait)));
        }
        // Read up to a bound: ten large images in base64 fit well within it, and a server
        // that sends more is not held in memory.
        let mut answer = answer;
        let mut raw = Vec::new();
        while let Some(chunk) = answer.chunk().await.map_err(failed)? {
            if raw.len() + chunk.len() > MAX_ANSWER {
                return Err(AiError::Invalid(
                    "the answer is larger than any image's".into(),
                ));
            }
            raw.extend_from_slice(&chunk);
        }
        let answer: Value = serde_json::from_slice(&raw)
            .map_err(|_| AiError::Invalid("the answer is not JSON".into()))?;
        let data = answer["data"]
            .as_array()
            .filter(|d| !d.is_empty())
            .ok_or_else(|| AiError::Invalid("the answer holds no image".into()))?;
        let mut images = Vec::with_capacity(data.len());
        for item in data {
            let encoded = item["b64_json"]
                .as_str()
                .ok_or_else(|| AiError::Invalid("an image came without its data".into()))?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .map_err(|_| AiError::Invalid("an image's data is not base64".into()))?;
            images.push(GeneratedImage {
                mime: sniff(&bytes).ok_or_else(|| {
                    AiError::Invalid("an image is neither PNG, JPEG nor WebP".into())
                })?,
                bytes,
            });
        }
        let usage = &answer["usage"];
        Ok(Images {
            images,
            input_tokens: usage["input_tokens"].as_u64().unwrap_or(0),
            output_tokens: usage["output_tokens"].as_u64().unwrap_or(0),
        })
    }
}

/// The type the bytes really are (the answer does not say; what was asked may not be what
/// came), by the same sniffing as uploads.
fn sniff(bytes: &[u8]) -> Option<&'static str> {
    use domain::media::MediaType;
    domain::media::sniff(bytes)
        .filter(|t| matches!(t, MediaType::Png | MediaType::Jpeg | MediaType::Webp))
        .map(MediaType::mime)
}

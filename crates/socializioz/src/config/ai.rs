//! `[ai]`: the text provider of the AI assistant. Absent, the product has no AI anywhere.
//!
//! ```toml
//! [ai]
//! base_url = "https://api.openai.com/v1"   # or any OpenAI-compatible server:
//!                                           # http://localhost:11434/v1 (Ollama),
//!                                           # http://localhost:8000/v1 (vLLM), LiteLLM's
//! api_key = "sk-…"                          # none for a local server that takes no key
//! model = "gpt-4o-mini"
//! moderation_model = "omni-moderation-latest"  # default with OpenAI; "" turns it off
//! name = "OpenAI"                           # what people are told (default: OpenAI, or the
//!                                           # server's address)
//! timeout_seconds = 25                     # a page gives up after 30 s
//! max_tokens_field = "max_completion_tokens"   # "max_tokens" for older and local servers
//! image_model = "gpt-image-1"              # the media library's Generate tab; default with
//!                                           # OpenAI, none elsewhere; "" turns images off
//! image_timeout_seconds = 180              # one image request (it runs in the background)
//!
//! [ai.runway]                               # videos in the media library's Generate tab
//! api_key = "key_…"
//! base_url = "https://api.dev.runwayml.com"
//! version = "2024-11-06"                    # X-Runway-Version
//! models = ["gen4.5", "gen4_turbo", "veo3.1_fast"]   # offered, in this order
//! poll_milliseconds = 6000                  # between two looks at a task
//! time_limit_minutes = 20                   # a task still running then is stopped
//!
//! [ai.elevenlabs]                           # reels' voice-overs (with [ai.runway] and ffmpeg)
//! api_key = "sk_…"
//! base_url = "https://api.elevenlabs.io"
//! model = "eleven_multilingual_v2"
//! output_format = "mp3_44100_128"
//! concurrency = 2                           # requests at once from this instance
//!
//! [ai.hedra]                                # character videos (with [ai.elevenlabs])
//! api_key = "sk_hedra_…"
//! base_url = "https://api.hedra.com/web-app/public"
//! model = "character-3"                     # the model's slug
//! resolution = "720p"                       # or "540p"
//! poll_milliseconds = 5000                  # between two looks at a generation
//! time_limit_minutes = 30                   # a generation still running then is given up
//! ```
//!
//! With `serve --sandbox` and no `[ai]` section, AI is the built-in simulator's
//! OpenAI-compatible API.

use super::lenient::lenient_u64;
use super::{ConfigError, Settings, err};
use providers::ai::elevenlabs::{ELEVENLABS_API, ElevenLabs, ElevenLabsConfig};
use providers::ai::hedra::{HEDRA_API, Hedra, HedraConfig};
use providers::ai::images::ImageGenerator;
use providers::ai::openai::{OPENAI_API, OpenAi, OpenAiConfig};
use providers::ai::openai_images::{OpenAiImages, OpenAiImagesConfig};
use providers::ai::runway::{RUNWAY_API, RUNWAY_VERSION, Runway, RunwayConfig};
use providers::ai::speech::SpeechGenerator;
use secrecy::SecretString;
use serde::Deserialize;
use services::ai::{
    Assistant, CharacterDisclosure, Characters, Disclosure, SpeechDisclosure, VideoDisclosure,
    Videos,
};
use std::sync::Arc;
use std::time::Duration;

/// OpenAI's moderation model, used by default with OpenAI.
pub const OPENAI_MODERATION: &str = "omni-moderation-latest";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AiSettings {
    pub base_url: String,
    pub api_key: Option<SecretString>,
    pub model: String,
    /// `None`: OpenAI's default with OpenAI, none elsewhere; `""`: none.
    pub moderation_model: Option<String>,
    pub name: Option<String>,
    #[serde(deserialize_with = "lenient_u64")]
    pub timeout_seconds: u64,
    pub max_tokens_field: String,
    /// `None`: OpenAI's default with OpenAI, none elsewhere; `""`: none.
    pub image_model: Option<String>,
    #[serde(deserialize_with = "lenient_u64")]
    pub image_timeout_seconds: u64,
    /// Videos made by Runway; absent, the instance makes no videos.
    pub runway: Option<RunwaySettings>,
    /// Reels' voice-overs read by ElevenLabs; absent, the instance makes no reels.
    pub elevenlabs: Option<ElevenLabsSettings>,
    /// Character videos made by Hedra (with ElevenLabs' voice-overs); absent, the instance
    /// makes none.
    pub hedra: Option<HedraSettings>,
}

/// `[ai.hedra]`: Hedra's character videos.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HedraSettings {
    pub api_key: Option<SecretString>,
    pub base_url: String,
    pub model: String,
    pub resolution: String,
    #[serde(deserialize_with = "lenient_u64")]
    pub poll_milliseconds: u64,
    #[serde(deserialize_with = "lenient_u64")]
    pub time_limit_minutes: u64,
}

impl Default for HedraSettings {
    fn default() -> Self {
        HedraSettings {
            api_key: None,
            base_url: HEDRA_API.to_owned(),
            model: "character-3".to_owned(),
            resolution: "720p".to_owned(),
            poll_milliseconds: 5000,
            time_limit_minutes: 30,
        }
    }
}

impl HedraSettings {
    fn check(&self) -> Result<(), ConfigError> {
        if self.api_key.is_none() {
            return Err(err(
                "ai.hedra.api_key is missing: Hedra needs an API key (or remove [ai.hedra] to \
                 make no character videos)",
            ));
        }
        let url = self.base_url.trim();
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(err(format!(
                "ai.hedra.base_url is {url:?}; write the API's address with https://, such as \
                 \"{HEDRA_API}\""
            )));
        }
        if self.model.trim().is_empty() {
            return Err(err(
                "ai.hedra.model is empty; write the model's slug, such as \"character-3\"",
            ));
        }
        if !providers::ai::hedra::RESOLUTIONS.contains(&self.resolution.trim()) {
            return Err(err("ai.hedra.resolution must be \"540p\" or \"720p\""));
        }
        if self.poll_milliseconds > 600_000 {
            return Err(err("ai.hedra.poll_milliseconds must be at most 600000"));
        }
        if !(1..=240).contains(&self.time_limit_minutes) {
            return Err(err("ai.hedra.time_limit_minutes must be between 1 and 240"));
        }
        Ok(())
    }

    /// The adapter and how its generations are followed.
    fn characters(&self) -> Result<Characters, ConfigError> {
        self.check()?;
        let hedra = Hedra::new(HedraConfig {
            base_url: self.base_url.trim().to_owned(),
            api_key: self.api_key.clone().unwrap_or_else(|| String::new().into()),
            model: self.model.trim().to_owned(),
            resolution: self.resolution.trim().to_owned(),
            timeout: Duration::from_secs(120),
        })
        .map_err(|why| err(format!("ai.hedra: {why}")))?;
        Ok(Characters {
            generator: Arc::new(hedra),
            poll: Duration::from_millis(self.poll_milliseconds),
            time_limit: Duration::from_secs(self.time_limit_minutes * 60),
        })
    }

    /// The sandbox's Hedra: the simulator's.
    pub fn simulated(api: &str) -> HedraSettings {
        HedraSettings {
            api_key: Some("sk_hedra_sandbox".to_owned().into()),
            base_url: format!("{}/hedra", api.trim_end_matches('/')),
            poll_milliseconds: 3000,
            ..HedraSettings::default()
        }
    }
}

/// `[ai.elevenlabs]`: ElevenLabs' text to speech.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ElevenLabsSettings {
    pub api_key: Option<SecretString>,
    pub base_url: String,
    pub model: String,
    pub output_format: String,
    #[serde(deserialize_with = "lenient_u64")]
    pub concurrency: u64,
}

impl Default for ElevenLabsSettings {
    fn default() -> Self {
        ElevenLabsSettings {
            api_key: None,
            base_url: ELEVENLABS_API.to_owned(),
            model: "eleven_multilingual_v2".to_owned(),
            output_format: "mp3_44100_128".to_owned(),
            concurrency: 2,
        }
    }
}

impl ElevenLabsSettings {
    fn check(&self) -> Result<(), ConfigError> {
        if self.api_key.is_none() {
            return Err(err(
                "ai.elevenlabs.api_key is missing: ElevenLabs needs an API key (or remove \
                 [ai.elevenlabs] to make no reels)",
            ));
        }
        let url = self.base_url.trim();
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(err(format!(
                "ai.elevenlabs.base_url is {url:?}; write the API's address with https://, \
                 such as \"{ELEVENLABS_API}\""
            )));
        }
        if !self.output_format.starts_with("mp3_") {
            return Err(err(
                "ai.elevenlabs.output_format must be an MP3 format, such as \"mp3_44100_128\"",
            ));
        }
        if !(1..=20).contains(&self.concurrency) {
            return Err(err("ai.elevenlabs.concurrency must be between 1 and 20"));
        }
        Ok(())
    }

    fn speech(&self) -> Result<Arc<dyn SpeechGenerator>, ConfigError> {
        self.check()?;
        let voice = ElevenLabs::new(ElevenLabsConfig {
            base_url: self.base_url.trim().to_owned(),
            api_key: self.api_key.clone().unwrap_or_else(|| String::new().into()),
            model: self.model.trim().to_owned(),
            output_format: self.output_format.trim().to_owned(),
            concurrency: usize::try_from(self.concurrency).unwrap_or(2),
            slot_wait: Duration::from_millis(500),
            backoff: Duration::from_secs(2),
            timeout: Duration::from_secs(120),
        })
        .map_err(|model| {
            let known: Vec<&str> = providers::ai::elevenlabs::MODELS
                .iter()
                .map(|(id, _)| *id)
                .collect();
            err(format!(
                "ai.elevenlabs.model is {model:?}; write one of {}",
                known.join(", ")
            ))
        })?;
        Ok(Arc::new(voice))
    }

    /// The sandbox's ElevenLabs: the simulator's.
    pub fn simulated(api: &str) -> ElevenLabsSettings {
        ElevenLabsSettings {
            api_key: Some("sk_sandbox".to_owned().into()),
            base_url: format!("{}/elevenlabs", api.trim_end_matches('/')),
            ..ElevenLabsSettings::default()
        }
    }
}

/// `[ai.runway]`: Runway's video API.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunwaySettings {
    pub api_key: Option<SecretString>,
    pub base_url: String,
    pub version: String,
    pub models: Vec<String>,
    #[serde(deserialize_with = "lenient_u64")]
    pub poll_milliseconds: u64,
    #[serde(deserialize_with = "lenient_u64")]
    pub time_limit_minutes: u64,
}

impl Default for RunwaySettings {
    fn default() -> Self {
        RunwaySettings {
            api_key: None,
            base_url: RUNWAY_API.to_owned(),
            version: RUNWAY_VERSION.to_owned(),
            models: vec![
                "gen4.5".to_owned(),
                "gen4_turbo".to_owned(),
                "veo3.1_fast".to_owned(),
            ],
            // Runway asks for a look every few seconds at most.
            poll_milliseconds: 6000,
            time_limit_minutes: 20,
        }
    }
}

impl RunwaySettings {
    fn check(&self) -> Result<(), ConfigError> {
        if self.api_key.is_none() {
            return Err(err(
                "ai.runway.api_key is missing: Runway needs an API key (or remove [ai.runway] to \
                 make no videos)",
            ));
        }
        let url = self.base_url.trim();
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(err(format!(
                "ai.runway.base_url is {url:?}; write the API's address with https://, such as \
                 \"{RUNWAY_API}\""
            )));
        }
        if self.version.trim().is_empty() {
            return Err(err(format!(
                "ai.runway.version is empty; write the API version, such as \"{RUNWAY_VERSION}\""
            )));
        }
        if self.models.is_empty() {
            return Err(err(
                "ai.runway.models is empty; name the models to offer, such as [\"gen4.5\"]",
            ));
        }
        // 0 looks again at once: for a simulator, whose tasks move on at each look.
        if self.poll_milliseconds > 600_000 {
            return Err(err(
                "ai.runway.poll_milliseconds must be at most 600000 (Runway asks for a look \
                 every few seconds: 6000)",
            ));
        }
        if !(1..=240).contains(&self.time_limit_minutes) {
            return Err(err(
                "ai.runway.time_limit_minutes must be between 1 and 240",
            ));
        }
        Ok(())
    }

    /// The adapter and how its tasks are followed.
    fn videos(&self) -> Result<Videos, ConfigError> {
        self.check()?;
        let api_key = self.api_key.clone().unwrap_or_else(|| String::new().into());
        let runway = Runway::new(RunwayConfig {
            base_url: self.base_url.trim().to_owned(),
            api_key,
            version: self.version.trim().to_owned(),
            models: self.models.clone(),
            timeout: Duration::from_secs(60),
        })
        .map_err(|model| {
            let known: Vec<&str> = providers::ai::runway::MODELS.iter().map(|m| m.id).collect();
            err(format!(
                "ai.runway.models names {model:?}, which Runway does not publish; write some of \
                 {}",
                known.join(", ")
            ))
        })?;
        Ok(Videos {
            generator: Arc::new(runway),
            poll: Duration::from_millis(self.poll_milliseconds),
            time_limit: Duration::from_secs(self.time_limit_minutes * 60),
        })
    }

    fn disclosure(&self, videos: &Videos) -> VideoDisclosure {
        VideoDisclosure {
            provider: videos.generator.provider().to_owned(),
            address: origin(self.base_url.trim()),
            models: videos
                .generator
                .models()
                .iter()
                .map(|m| m.label.to_owned())
                .collect(),
        }
    }

    /// The sandbox's Runway: the simulator's.
    pub fn simulated(api: &str) -> RunwaySettings {
        RunwaySettings {
            api_key: Some("key_sandbox".to_owned().into()),
            base_url: format!("{}/runway", api.trim_end_matches('/')),
            poll_milliseconds: 3000,
            ..RunwaySettings::default()
        }
    }
}

/// OpenAI's image model, used by default with OpenAI.
pub const OPENAI_IMAGE_MODEL: &str = "gpt-image-1";

impl Default for AiSettings {
    fn default() -> Self {
        AiSettings {
            base_url: OPENAI_API.to_owned(),
            api_key: None,
            model: "gpt-4o-mini".to_owned(),
            moderation_model: None,
            name: None,
            // Within the 30 s a page may take.
            timeout_seconds: 25,
            max_tokens_field: "max_completion_tokens".to_owned(),
            image_model: None,
            // Images are made by a background job; a high-quality one can take minutes.
            image_timeout_seconds: 180,
            runway: None,
            elevenlabs: None,
            hedra: None,
        }
    }
}

/// `https://api.openai.com` of `https://api.openai.com/v1`.
fn origin(url: &str) -> String {
    url.split('/').take(3).collect::<Vec<_>>().join("/")
}

impl AiSettings {
    fn is_openai(&self) -> bool {
        origin(&self.base_url) == origin(OPENAI_API)
    }

    /// The checks of the section; each complaint says what to write.
    pub fn check(&self) -> Result<(), ConfigError> {
        let url = self.base_url.trim();
        let host = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix("https://"))
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_default();
        if host.is_empty() || host.contains(char::is_whitespace) {
            return Err(err(format!(
                "ai.base_url is {url:?}; write the API's address with http:// or https://, such \
                 as \"https://api.openai.com/v1\" or \"http://localhost:11434/v1\""
            )));
        }
        if self.model.trim().is_empty() {
            return Err(err(
                "ai.model is empty; name the model, such as \"gpt-4o-mini\" or \"llama3.1\"",
            ));
        }
        if self.is_openai() && self.api_key.is_none() {
            return Err(err(
                "ai.api_key is missing: OpenAI needs an API key (or set ai.base_url to a local \
                 server that takes none)",
            ));
        }
        if !(1..=600).contains(&self.timeout_seconds) {
            return Err(err("ai.timeout_seconds must be between 1 and 600"));
        }
        if !["max_completion_tokens", "max_tokens"].contains(&self.max_tokens_field.as_str()) {
            return Err(err(
                "ai.max_tokens_field must be \"max_completion_tokens\" (OpenAI) or \
                 \"max_tokens\" (older and local servers)",
            ));
        }
        if !(1..=1800).contains(&self.image_timeout_seconds) {
            return Err(err("ai.image_timeout_seconds must be between 1 and 1800"));
        }
        if let Some(runway) = &self.runway {
            runway.check()?;
        }
        if let Some(elevenlabs) = &self.elevenlabs {
            elevenlabs.check()?;
        }
        if let Some(hedra) = &self.hedra {
            hedra.check()?;
            if self.elevenlabs.is_none() {
                return Err(err(
                    "[ai.hedra] needs [ai.elevenlabs]: the voice-over a character speaks is \
                     read by ElevenLabs (or remove [ai.hedra] to make no character videos)",
                ));
            }
        }
        Ok(())
    }

    fn image_model(&self) -> Option<String> {
        match &self.image_model {
            Some(m) if m.trim().is_empty() => None,
            Some(m) => Some(m.trim().to_owned()),
            None if self.is_openai() => Some(OPENAI_IMAGE_MODEL.to_owned()),
            None => None,
        }
    }

    fn moderation(&self) -> Option<String> {
        match &self.moderation_model {
            Some(m) if m.trim().is_empty() => None,
            Some(m) => Some(m.trim().to_owned()),
            None if self.is_openai() => Some(OPENAI_MODERATION.to_owned()),
            None => None,
        }
    }

    /// What people are told about the provider these settings describe.
    pub fn disclosure(&self) -> Disclosure {
        let provider = match &self.name {
            Some(name) if !name.trim().is_empty() => name.trim().to_owned(),
            _ if self.is_openai() => "OpenAI".to_owned(),
            _ => format!("the AI server at {}", origin(&self.base_url)),
        };
        Disclosure {
            provider,
            model: self.model.trim().to_owned(),
            address: origin(self.base_url.trim()),
            moderation: self.moderation(),
            image_model: self.image_model(),
            video: None,
            speech: None,
            character: None,
        }
    }

    /// The assistant these settings describe.
    pub fn assistant(&self) -> Result<Assistant, ConfigError> {
        self.check()?;
        let mut disclosure = self.disclosure();
        let videos = self
            .runway
            .as_ref()
            .map(RunwaySettings::videos)
            .transpose()?;
        if let (Some(runway), Some(videos)) = (&self.runway, &videos) {
            disclosure.video = Some(runway.disclosure(videos));
        }
        let speech = self
            .elevenlabs
            .as_ref()
            .map(ElevenLabsSettings::speech)
            .transpose()?;
        if let (Some(settings), Some(speech)) = (&self.elevenlabs, &speech) {
            disclosure.speech = Some(SpeechDisclosure {
                provider: speech.provider().to_owned(),
                address: origin(settings.base_url.trim()),
                model: speech.model().to_owned(),
            });
        }
        let characters = self
            .hedra
            .as_ref()
            .map(HedraSettings::characters)
            .transpose()?;
        if let (Some(settings), Some(characters)) = (&self.hedra, &characters) {
            disclosure.character = Some(CharacterDisclosure {
                provider: characters.generator.provider().to_owned(),
                address: origin(settings.base_url.trim()),
                model: characters.generator.model().to_owned(),
            });
        }
        let (provider, moderation) = (disclosure.provider.clone(), disclosure.moderation.clone());
        let adapter = Arc::new(OpenAi::new(OpenAiConfig {
            base_url: self.base_url.trim().to_owned(),
            api_key: self.api_key.clone(),
            model: self.model.trim().to_owned(),
            moderation_model: moderation.clone(),
            name: provider.clone(),
            timeout: Duration::from_secs(self.timeout_seconds),
            legacy_max_tokens: self.max_tokens_field == "max_tokens",
        }));
        let images = disclosure.image_model.as_ref().map(|model| {
            Arc::new(OpenAiImages::new(OpenAiImagesConfig {
                base_url: self.base_url.trim().to_owned(),
                api_key: self.api_key.clone(),
                model: model.clone(),
                name: provider.clone(),
                timeout: Duration::from_secs(self.image_timeout_seconds),
            })) as Arc<dyn ImageGenerator>
        });
        Ok(Assistant {
            images,
            videos,
            speech,
            characters,
            generator: adapter.clone(),
            moderator: moderation
                .is_some()
                .then_some(adapter as Arc<dyn providers::ai::Moderator>),
            disclosure,
        })
    }

    /// The sandbox's AI: the simulator's OpenAI-compatible API at `api` (its loopback address).
    pub fn simulated(api: &str) -> AiSettings {
        AiSettings {
            base_url: format!("{}/openai/v1", api.trim_end_matches('/')),
            api_key: Some("sk-sandbox".to_owned().into()),
            model: "sim-writer-1".to_owned(),
            moderation_model: Some(OPENAI_MODERATION.to_owned()),
            name: Some("Simulated AI (sandbox)".to_owned()),
            image_model: Some(OPENAI_IMAGE_MODEL.to_owned()),
            runway: Some(RunwaySettings::simulated(api)),
            elevenlabs: Some(ElevenLabsSettings::simulated(api)),
            hedra: Some(HedraSettings::simulated(api)),
            ..AiSettings::default()
        }
    }
}

impl Settings {
    /// The AI assistant of the `[ai]` section (none without one).
    pub fn ai(&self) -> Result<Option<Assistant>, ConfigError> {
        self.ai.as_ref().map(AiSettings::assistant).transpose()
    }
}

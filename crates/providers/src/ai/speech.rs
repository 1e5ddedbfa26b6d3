//! Text to speech: one interface ([`SpeechGenerator`]) for the voice-over of a reel, and
//! ElevenLabs' adapter in [`super::elevenlabs`]. A voice is chosen from the provider's list
//! ([`SpeechGenerator::voices`]); a script becomes an MP3 file ([`SpeechGenerator::speak`]);
//! the account's monthly characters can be read ([`SpeechGenerator::quota`]). Failures are
//! [`super::AiError`]s.

use super::AiError;
use async_trait::async_trait;

/// One voice of the provider's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Voice {
    pub id: String,
    pub name: String,
    /// `premade`, `cloned`, `generated`, `professional`.
    pub category: String,
    /// Words the provider describes it with (accent, age, gender, use case).
    pub labels: Vec<String>,
}

/// The account's characters this period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpeechQuota {
    pub used: u64,
    pub limit: u64,
}

impl SpeechQuota {
    pub fn left(&self) -> u64 {
        self.limit.saturating_sub(self.used)
    }
}

/// A script to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpeechRequest {
    pub voice: String,
    pub text: String,
}

/// A text-to-speech provider.
#[async_trait]
pub trait SpeechGenerator: Send + Sync {
    /// Its name for people (`ElevenLabs`).
    fn provider(&self) -> &str;
    /// The model used (`eleven_multilingual_v2`).
    fn model(&self) -> &str;
    /// The longest script one request takes, in characters.
    fn max_characters(&self) -> usize;
    async fn voices(&self) -> Result<Vec<Voice>, AiError>;
    /// The script read aloud, as an MP3 file.
    async fn speak(&self, request: &SpeechRequest) -> Result<Vec<u8>, AiError>;
    async fn quota(&self) -> Result<SpeechQuota, AiError>;
}

//! Character videos: a portrait that speaks a voice-over, lips and face moving with the words
//! (Hedra's adapter is in [`super::hedra`]). The portrait and the voice-over are handed to the
//! provider as assets ([`CharacterGenerator::upload`]), a generation is started from the two
//! with a prompt for how the character moves ([`CharacterGenerator::start`]), and it is
//! followed like a video's task ([`super::video::Tasks`]).

use super::AiError;
use super::video::{InputFile, Tasks, VideoShape};
use async_trait::async_trait;

/// What an asset is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssetKind {
    Image,
    Audio,
}

impl AssetKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Audio => "audio",
        }
    }
}

/// One request for a character video.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CharacterRequest {
    /// The portrait's asset ([`CharacterGenerator::upload`]).
    pub portrait: String,
    /// The voice-over's asset.
    pub voice: String,
    /// How the character moves and looks (not what it says: that is the voice-over).
    pub prompt: String,
    pub shape: VideoShape,
    /// A key chosen before the request is sent (a UUID), so that a request sent again after a
    /// lost answer starts no second generation.
    pub key: String,
}

/// A character-video provider.
#[async_trait]
pub trait CharacterGenerator: Tasks {
    /// The model asked for.
    fn model(&self) -> &str;
    /// The longest prompt taken, in characters.
    fn max_prompt(&self) -> usize;
    /// Hands a file to the provider; the asset's reference.
    async fn upload(&self, kind: AssetKind, file: &InputFile) -> Result<String, AiError>;
    /// Starts a generation; its id.
    async fn start(&self, request: &CharacterRequest) -> Result<String, AiError>;
}

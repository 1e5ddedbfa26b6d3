//! Image generation: one interface ([`ImageGenerator`]) for the media library's Generate tab,
//! with the options the GPT image models take (size, quality, background, output format), and
//! its OpenAI adapter in [`super::openai_images`]. Failures are [`super::AiError`]s, as for
//! text: a prompt the provider's safety system blocks is a refusal that names its categories.

use super::AiError;
use async_trait::async_trait;

/// The picture's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageSize {
    /// 1024×1024.
    Square,
    /// 1536×1024.
    Landscape,
    /// 1024×1536.
    Portrait,
    /// The model chooses.
    Auto,
}

impl ImageSize {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Square => "1024x1024",
            Self::Landscape => "1536x1024",
            Self::Portrait => "1024x1536",
            Self::Auto => "auto",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageQuality {
    Low,
    Medium,
    High,
    Auto,
}

impl ImageQuality {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Auto => "auto",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Background {
    /// Needs PNG or WebP.
    Transparent,
    Opaque,
    Auto,
}

impl Background {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Transparent => "transparent",
            Self::Opaque => "opaque",
            Self::Auto => "auto",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Png,
    Jpeg,
    Webp,
}

impl ImageFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpeg",
            Self::Webp => "webp",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Webp => "image/webp",
        }
    }
}

/// One request for images.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRequest {
    pub prompt: String,
    /// How many (1–10).
    pub n: u8,
    pub size: ImageSize,
    pub quality: ImageQuality,
    pub background: Background,
    pub format: ImageFormat,
}

impl ImageRequest {
    /// One square PNG of medium quality.
    pub fn new(prompt: impl Into<String>) -> ImageRequest {
        ImageRequest {
            prompt: prompt.into(),
            n: 1,
            size: ImageSize::Square,
            quality: ImageQuality::Medium,
            background: Background::Auto,
            format: ImageFormat::Png,
        }
    }
}

/// The longest prompt the GPT image models take.
pub const MAX_PROMPT: usize = 32_000;

/// One generated image: the file's bytes and its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedImage {
    pub bytes: Vec<u8>,
    pub mime: &'static str,
}

/// The images and the tokens they cost, as the provider counted them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Images {
    pub images: Vec<GeneratedImage>,
    pub input_tokens: u64,
    pub output_tokens: u64,
}

/// An image-generation provider.
#[async_trait]
pub trait ImageGenerator: Send + Sync {
    /// Its name for people (`OpenAI`).
    fn provider(&self) -> &str;
    /// The model asked for.
    fn model(&self) -> &str;
    async fn generate(&self, request: &ImageRequest) -> Result<Images, AiError>;
}

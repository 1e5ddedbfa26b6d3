//! Video generation: one interface ([`VideoGenerator`]) for the media library's Generate tab,
//! and Runway's adapter in [`super::runway`]. A video is a task at the provider: it is started
//! ([`VideoGenerator::start`], with an input image handed over as an ephemeral upload rather
//! than a public address), polled until it ends ([`VideoGenerator::task`]), and its output is
//! downloaded before the provider's address for it expires ([`VideoGenerator::download`]).
//! Failures are [`super::AiError`]s, as for text and images. What every provider's tasks share
//! (looking, stopping, downloading) is [`Tasks`], which character videos
//! ([`super::character`]) use too.

use super::AiError;
use async_trait::async_trait;

/// The shape of a generated video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VideoShape {
    /// 16:9.
    Wide,
    /// 9:16, for reels and stories.
    Vertical,
    /// 1:1.
    Square,
}

impl VideoShape {
    pub const ALL: [VideoShape; 3] = [VideoShape::Vertical, VideoShape::Wide, VideoShape::Square];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Wide => "16:9",
            Self::Vertical => "9:16",
            Self::Square => "1:1",
        }
    }

    pub fn parse(raw: &str) -> Option<VideoShape> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Wide => "Wide 16:9",
            Self::Vertical => "Vertical 9:16 (stories and reels)",
            Self::Square => "Square 1:1",
        }
    }
}

/// What a model makes videos from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VideoInput {
    /// A prompt alone.
    Text,
    /// A still image (the first frame) and an optional prompt.
    Image,
}

/// One model of a provider and what it accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoModel {
    /// The provider's name for it (`gen4.5`).
    pub id: &'static str,
    /// For people (`Gen-4.5`).
    pub label: &'static str,
    pub from_text: bool,
    pub from_image: bool,
    /// The shapes it makes.
    pub shapes: &'static [VideoShape],
    /// The lengths it makes, in seconds.
    pub durations: &'static [u32],
}

impl VideoModel {
    pub fn takes(&self, input: VideoInput) -> bool {
        match input {
            VideoInput::Text => self.from_text,
            VideoInput::Image => self.from_image,
        }
    }
}

/// A file handed to a provider as an input (a picture, a voice-over), as bytes with its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    pub bytes: Vec<u8>,
    pub mime: &'static str,
    pub filename: String,
}

/// One request for a video.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoRequest {
    pub model: String,
    /// Required from text; optional from an image.
    pub prompt: String,
    pub shape: VideoShape,
    pub seconds: u32,
    /// The provider's reference to an uploaded input image ([`VideoGenerator::upload`]).
    pub image: Option<String>,
}

/// Where a task is at the provider.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskState {
    /// Waiting its turn (queued, or held back by the provider's limits).
    Waiting,
    Running,
    /// Made: the addresses of the outputs (they expire; a new look gives fresh ones).
    Succeeded(Vec<String>),
    /// Ended without a video; the provider's reason and its code.
    Failed {
        reason: String,
        code: Option<String>,
    },
    Cancelled,
}

/// A task as last seen.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub state: TaskState,
    /// 0 to 1, when the provider says.
    pub progress: Option<f32>,
}

/// A downloaded output, read piece by piece.
pub struct Download {
    /// What the server said the length is.
    pub length: Option<u64>,
    fetched: crate::fetch::Fetched,
}

impl Download {
    pub(crate) fn new(fetched: crate::fetch::Fetched) -> Download {
        Download {
            length: fetched.content_length,
            fetched,
        }
    }

    /// The next piece; none at the end.
    pub async fn chunk(&mut self) -> Result<Option<bytes::Bytes>, AiError> {
        self.fetched.chunk().await.map_err(|err| match err {
            crate::fetch::FetchError::Timeout => AiError::Timeout,
            other => AiError::Unavailable(other.to_string()),
        })
    }
}

/// A provider's tasks: each is looked at until it ends ([`Tasks::task`]), stopped where the
/// provider allows it ([`Tasks::cancel`]), and its output downloaded before its address
/// expires ([`Tasks::download`]).
#[async_trait]
pub trait Tasks: Send + Sync {
    /// Its name for people (`Runway`).
    fn provider(&self) -> &str;
    /// Where the task `id` is.
    async fn task(&self, id: &str) -> Result<Task, AiError>;
    /// Whether a task can be stopped at the provider (when not, [`Tasks::cancel`] does
    /// nothing: the task runs on there and its output is not fetched).
    fn cancels(&self) -> bool {
        true
    }
    /// Stops the task `id` (or deletes it once ended).
    async fn cancel(&self, id: &str) -> Result<(), AiError>;
    /// Opens an output's address; [`AiError::Expired`] when it has expired.
    async fn download(&self, url: &str) -> Result<Download, AiError>;
}

/// A video-generation provider.
#[async_trait]
pub trait VideoGenerator: Tasks {
    /// The models offered, in the operator's order.
    fn models(&self) -> &[VideoModel];
    /// Hands an input image to the provider; the reference to put in a request.
    async fn upload(&self, image: &InputFile) -> Result<String, AiError>;
    /// Starts a task; its id.
    async fn start(&self, request: &VideoRequest) -> Result<String, AiError>;

    /// The offered model called `id`.
    fn model(&self, id: &str) -> Option<&VideoModel> {
        self.models().iter().find(|m| m.id == id)
    }
}

/// Opens an output's address, which is signed in itself: no key is sent to it, and it must be a
/// public https address or on the API's own origin `base` (a simulator, a proxy).
pub(crate) async fn open_output(
    url: &str,
    base: &str,
    timeout: std::time::Duration,
) -> Result<Download, AiError> {
    use crate::fetch::FetchError;
    match crate::fetch::open(url, &outside(base, timeout)).await {
        Ok(fetched) => Ok(Download::new(fetched)),
        Err(FetchError::Status(403 | 404 | 410)) => Err(AiError::Expired),
        Err(FetchError::Status(s)) if s >= 500 => {
            Err(AiError::Unavailable(format!("the output was answered {s}")))
        }
        Err(FetchError::Timeout) => Err(AiError::Timeout),
        Err(FetchError::Network) => Err(AiError::Unavailable(
            "the output could not be reached".into(),
        )),
        Err(err) => Err(AiError::Invalid(format!("the output was refused: {err}"))),
    }
}

/// What the addresses a provider hands out (upload slots, outputs) may be: public https ones,
/// or on the API's own origin `base`.
pub(crate) fn outside(base: &str, timeout: std::time::Duration) -> crate::fetch::FetchPolicy {
    let own = crate::fetch::Url::parse(base)
        .map(|u| u.origin().ascii_serialization())
        .ok();
    crate::fetch::FetchPolicy {
        trusted_origins: own.into_iter().collect(),
        max_redirects: 3,
        timeout,
    }
}

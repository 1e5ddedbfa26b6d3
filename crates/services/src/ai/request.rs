//! What a person asks of Assist: the action, the brief (topic, tone, length, call to action),
//! the text as typed and the platforms it is for, and the checks of what they typed.

use crate::{Result, ServiceError};
use domain::Platform;

/// What Assist is asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Write,
    Enhance,
    Suggest,
}

impl Action {
    pub fn slug(self) -> &'static str {
        match self {
            Action::Write => "write",
            Action::Enhance => "enhance",
            Action::Suggest => "suggest",
        }
    }

    pub fn parse(raw: &str) -> Option<Action> {
        [Action::Write, Action::Enhance, Action::Suggest]
            .into_iter()
            .find(|a| a.slug() == raw)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tone {
    /// The brand profile's voice.
    #[default]
    Brand,
    Professional,
    Casual,
    Friendly,
}

impl Tone {
    pub const ALL: [Tone; 4] = [
        Tone::Brand,
        Tone::Professional,
        Tone::Casual,
        Tone::Friendly,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Tone::Brand => "brand",
            Tone::Professional => "professional",
            Tone::Casual => "casual",
            Tone::Friendly => "friendly",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Tone::Brand => "The brand's voice",
            Tone::Professional => "Professional",
            Tone::Casual => "Casual",
            Tone::Friendly => "Friendly",
        }
    }

    pub fn parse(raw: &str) -> Option<Tone> {
        Tone::ALL.into_iter().find(|t| t.slug() == raw)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Length {
    Short,
    #[default]
    Medium,
    Long,
}

impl Length {
    pub const ALL: [Length; 3] = [Length::Short, Length::Medium, Length::Long];

    pub fn slug(self) -> &'static str {
        match self {
            Length::Short => "short",
            Length::Medium => "medium",
            Length::Long => "long",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Length::Short => "Short",
            Length::Medium => "Medium",
            Length::Long => "Long",
        }
    }

    pub fn parse(raw: &str) -> Option<Length> {
        Length::ALL.into_iter().find(|l| l.slug() == raw)
    }
}

/// One request to Assist.
#[derive(Debug, Clone)]
pub struct AssistRequest {
    pub action: Action,
    /// Write's brief: what the post is about.
    pub topic: String,
    pub tone: Tone,
    pub length: Length,
    pub call_to_action: String,
    /// The post's current text (Enhance and Suggest).
    pub text: String,
    /// The platforms of the chosen accounts (every platform of the workspace when none is
    /// chosen).
    pub platforms: Vec<Platform>,
}

/// The longest brief.
pub const MAX_BRIEF: usize = 1_000;
/// The longest call to action.
pub const MAX_CTA: usize = 200;
/// The longest text Enhance and Suggest take.
pub const MAX_TEXT: usize = 5_000;

impl AssistRequest {
    /// Checks what the person typed; the errors name their fields.
    pub(crate) fn checked(&self) -> Result<AssistRequest> {
        let mut request = self.clone();
        request.topic = self.topic.replace("\r\n", "\n").trim().to_owned();
        request.call_to_action = self.call_to_action.trim().to_owned();
        request.text = self.text.replace("\r\n", "\n").trim().to_owned();
        let mut errors = Vec::new();
        let mut limit = |field: &str, what: &str, value: &str, max: usize| {
            let n = value.chars().count();
            if n > max {
                errors.push((
                    field.to_owned(),
                    format!("{what} can be at most {max} characters (this has {n})."),
                ));
            }
        };
        match request.action {
            Action::Write => {
                limit("assist_topic", "The brief", &request.topic, MAX_BRIEF);
                limit(
                    "assist_cta",
                    "The call to action",
                    &request.call_to_action,
                    MAX_CTA,
                );
                if request.topic.is_empty() {
                    errors.push((
                        "assist_topic".to_owned(),
                        "Write what the post should be about.".to_owned(),
                    ));
                }
            }
            Action::Enhance | Action::Suggest => {
                limit("body", "For AI, the text", &request.text, MAX_TEXT);
                if request.text.is_empty() {
                    errors.push((
                        "body".to_owned(),
                        format!(
                            "Write the post first: {} works on the text you have.",
                            if request.action == Action::Enhance {
                                "Enhance"
                            } else {
                                "AI Suggest"
                            }
                        ),
                    ));
                }
            }
        }
        if errors.is_empty() {
            request.platforms.sort_by_key(|p| p.slug());
            request.platforms.dedup();
            Ok(request)
        } else {
            Err(ServiceError::Fields(errors))
        }
    }

    /// The field a failure of this request is shown next to.
    pub(crate) fn field(&self) -> &'static str {
        match self.action {
            Action::Write => "assist_topic",
            _ => "body",
        }
    }
}

//! The policies: the version in effect, every version, one version, and what changed between
//! two. The Privacy Policy's lists of data, processors, retention periods and cookie
//! categories are filled in from the code and settings, so the text cannot drift from what the
//! software does.

use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::extract::{Ctx, PathIds};
use crate::page::Layout;
use crate::routes::render;
use askama::Template;
use axum::extract::{Query, State};
use domain::consent::Category;
use domain::policy::PolicyKind;
use store::datamap;
use store::entities::policy_version;

fn kind_of(slug: &str) -> Result<PolicyKind, AppError> {
    PolicyKind::parse(slug).map_err(|_| AppError::NotFound)
}

/// The Markdown with the Privacy Policy's placeholders filled from code and settings.
pub fn with_facts(state: &AppState, body: &str) -> String {
    let mut categories = String::new();
    for category in [
        datamap::Category::AccountProfile,
        datamap::Category::WorkspaceAndUsage,
        datamap::Category::ConnectedAccounts,
        datamap::Category::MediaAssets,
        datamap::Category::Diagnostics,
        datamap::Category::Billing,
        datamap::Category::ConsentRecords,
    ] {
        // Billing data exists only where plans are sold.
        if category == datamap::Category::Billing && state.services.billing.paypal.is_none() {
            continue;
        }
        let holds: Vec<&str> = datamap::TABLES
            .iter()
            .filter(|t| t.category == category)
            .map(|t| t.holds)
            .collect();
        if holds.is_empty() {
            continue;
        }
        categories.push_str(&format!(
            "- **{}**: {}\n",
            category.label(),
            holds.join(" ")
        ));
    }
    let processors = if state.config.processors.is_empty() {
        "- None: this instance sends your data to no third party.\n".to_owned()
    } else {
        state
            .config
            .processors
            .iter()
            .map(|(name, purpose)| format!("- **{name}**: {purpose}\n"))
            .collect()
    };
    let retention: String = services::retention::periods(&state.services.retention)
        .iter()
        .map(|(what, how_long)| format!("- **{what}**: {how_long}\n"))
        .collect();
    let cookies: String = Category::ALL
        .iter()
        .map(|c| {
            let lock = if c.optional() {
                "you choose"
            } else {
                "always on"
            };
            format!(
                "- **{}** ({lock}): {}\n",
                c.name(domain::Language::English),
                c.description(domain::Language::English)
            )
        })
        .collect();
    let filled = body
        .replace("{{data_categories}}", categories.trim_end())
        .replace("{{processors}}", processors.trim_end())
        .replace("{{retention}}", retention.trim_end())
        .replace("{{cookie_categories}}", cookies.trim_end());
    without_absent_features(
        &filled,
        state.services.billing.paypal.is_some(),
        state.services.ai.as_ref().map(|ai| &ai.disclosure),
    )
}

/// The AI section of the policies as this instance has it: no AI provider configured, so
/// nothing is sent to one.
const NO_AI: &str = "This instance has no AI features: nothing you write is sent to an AI \
                     provider. If the operator turns AI features on, this section will name \
                     each provider and what it receives, and AI stays off in each workspace \
                     until an owner or admin of it has read the same and turned it on.";

/// The AI section for an instance with a text provider, from its configuration.
fn ai_section(ai: &services::ai::Disclosure) -> String {
    let moderation = match &ai.moderation {
        Some(model) => format!(
            " Before the AI writes, and before you see what it wrote, the text is checked by \
             {}'s moderation ({model}).",
            ai.provider
        ),
        None => String::new(),
    };
    let images = match &ai.image_model {
        Some(model) => format!(
            "The media library can also generate images: the prompt you write there and the \
             style and shape you choose are sent to **{provider}**'s image model ({model}), and \
             the image it makes is stored in the workspace's library with who asked for it, \
             the provider, the model and the prompt. An AI-made image is marked for review, \
             and a post with it cannot be scheduled until a person has looked at it and marked \
             it reviewed; that review is recorded with their name.",
            provider = ai.provider,
        ),
        None => "This instance does not generate images.".to_owned(),
    };
    let videos = match &ai.video {
        Some(video) => format!(
            " Videos can be generated too: the prompt you write, the model, shape and length you \
             choose and, for a video made from a picture, that picture from the library (handed \
             over as a temporary upload, never at a public address) are sent to **{provider}** \
             (at {address}). The video it makes is stored in the workspace's library with the \
             same provenance and the same review before it can be scheduled.",
            provider = video.provider,
            address = video.address,
        ),
        None => " This instance does not generate videos.".to_owned(),
    };
    let reels = match &ai.speech {
        Some(speech) => format!(
            " Reels are made with a voice-over: the script you write and the voice you choose \
             are sent to **{provider}** (at {address}), which reads it aloud; the audio is laid \
             under the generated scenes on this server and kept only inside the reel.",
            provider = speech.provider,
            address = speech.address,
        ),
        None => String::new(),
    };
    let characters = match (&ai.character, &ai.speech) {
        (Some(character), Some(speech)) => format!(
            " Character videos make a portrait from the library speak: the script is read \
             aloud by **{voice}** as for reels, and the portrait, that voice-over and the prompt \
             for how the character moves are sent to **{provider}** (at {address}), which makes \
             the video; it is stored in the workspace's library with the same provenance and \
             the same review before it can be scheduled.",
            voice = speech.provider,
            provider = character.provider,
            address = character.address,
        ),
        _ => String::new(),
    };
    let enhance = if ai.image_model.is_some() || ai.video.is_some() || ai.character.is_some() {
        format!(
            " On these forms, Enhance sends the prompt, scenes or script you typed (and, for a \
             script, the workspace's brand profile) to **{}** to be rewritten; the answer goes \
             back into the form and nothing is generated until you ask for it.",
            ai.provider
        )
    } else {
        String::new()
    };
    let images = format!("{images}{videos}{reels}{characters}{enhance}");
    format!(
        "This instance offers AI Write, Enhance and Suggest in the composer, and an agent to \
         chat with. AI is off in each workspace until an owner or admin has read what is sent \
         and turned it on. When you use it, what you submit (the brief, the draft or your \
         message), the names and limits of the platforms the post is for, the workspace's brand \
         profile, and what the agent reads from the workspace to answer you (posts, connected \
         accounts' handles, campaigns, file names) are sent to **{provider}** (model {model}, \
         at {address}).{moderation} Nothing else is added: not your e-mail address, not \
         the names of the workspace's members, not the tokens of connected accounts, and \
         nothing of another workspace; what you type into a brief or a draft is sent as you \
         typed it.\n\n\
         What the AI writes comes back to you as a suggestion: nothing is saved, scheduled or \
         published until you take it and save the post yourself, or approve what the agent \
         proposes (on plans that allow it, an owner may let the agent create drafts without \
         asking; scheduling always asks), and you remain responsible for what you publish. \
         A post whose text came from a suggestion or the agent records the provider, the model, \
         who took it and when. We do not use your prompts or the results to train \
         AI models. {images}",
        provider = ai.provider,
        model = ai.model,
        address = ai.address,
    )
}

/// Takes out of a policy's text what this instance does not do, so that the text is true
/// here: the published versions describe AI features, whose section is replaced by what this
/// instance's configuration really sends where (`ai`, or nothing), and billing, which only an
/// instance that sells plans through PayPal (`selling`) does.
/// The stored versions, and the hashes people accepted, are unchanged; like the placeholders,
/// this is part of rendering.
fn without_absent_features(
    text: &str,
    selling: bool,
    ai: Option<&services::ai::Disclosure>,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_ai_section = false;
    for line in text.split_inclusive('\n') {
        if line.starts_with("## ") {
            in_ai_section = line.trim_end() == "## AI features";
            out.push_str(line);
            if in_ai_section {
                out.push('\n');
                match ai {
                    Some(ai) => out.push_str(&ai_section(ai)),
                    None => out.push_str(NO_AI),
                }
                out.push_str("\n\n");
            }
            continue;
        }
        let billing = !selling
            && (line.starts_with("- **To bill your subscription")
                || line.starts_with("- your billing and subscription data"));
        if in_ai_section || billing {
            continue;
        }
        out.push_str(line);
    }
    out
}

/// A policy version ready to show.
pub struct Shown {
    pub kind: PolicyKind,
    pub version: String,
    pub effective: String,
    pub summary: String,
    pub sha256: String,
    pub html: String,
}

pub fn show(state: &AppState, kind: PolicyKind, row: &policy_version::Model) -> Shown {
    Shown {
        kind,
        version: row.version.clone(),
        effective: row.effective_at.format("%-d %B %Y").to_string(),
        summary: row.summary.clone(),
        sha256: row.sha256.clone(),
        html: crate::markdown::to_html(&with_facts(state, &row.body)),
    }
}

#[derive(Template)]
#[template(path = "legal/policy.html")]
struct PolicyPage {
    layout: Layout,
    policy: Shown,
    in_effect: bool,
}

pub async fn current(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    PathIds(slug): PathIds<String>,
) -> AppResult {
    let kind = kind_of(&slug)?;
    let row = state
        .services
        .policy_in_effect(kind)
        .await?
        .ok_or(AppError::NotFound)?;
    let layout = Layout::new(&state, &ctx, kind.title()).await?;
    render(PolicyPage {
        layout,
        policy: show(&state, kind, &row),
        in_effect: true,
    })
}

pub async fn version(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    PathIds((slug, version)): PathIds<(String, String)>,
) -> AppResult {
    let kind = kind_of(&slug)?;
    let row = state.services.policy_version(kind, &version).await?;
    let current = state.services.policy_in_effect(kind).await?;
    let layout = Layout::new(&state, &ctx, kind.title()).await?;
    let in_effect = current.is_some_and(|c| c.id == row.id);
    render(PolicyPage {
        layout,
        policy: show(&state, kind, &row),
        in_effect,
    })
}

struct VersionRow {
    version: String,
    effective: String,
    summary: String,
    previous: Option<String>,
}

#[derive(Template)]
#[template(path = "legal/versions.html")]
struct VersionsPage {
    layout: Layout,
    kind: PolicyKind,
    rows: Vec<VersionRow>,
}

pub async fn versions(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    PathIds(slug): PathIds<String>,
) -> AppResult {
    let kind = kind_of(&slug)?;
    let all = state.services.policy_versions(kind).await?;
    let rows = all
        .iter()
        .enumerate()
        .map(|(i, v)| VersionRow {
            version: v.version.clone(),
            effective: v.effective_at.format("%-d %B %Y").to_string(),
            summary: v.summary.clone(),
            previous: all.get(i + 1).map(|p| p.version.clone()),
        })
        .collect();
    let layout = Layout::new(&state, &ctx, kind.title()).await?;
    render(VersionsPage { layout, kind, rows })
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct Between {
    from: String,
    to: String,
}

#[derive(Template)]
#[template(path = "legal/diff.html")]
struct DiffPage {
    layout: Layout,
    kind: PolicyKind,
    from: String,
    to: String,
    /// The newer text, formatted, with what was inserted and removed marked.
    html: String,
}

pub async fn diff(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    PathIds(slug): PathIds<String>,
    Query(q): Query<Between>,
) -> AppResult {
    let kind = kind_of(&slug)?;
    let old = state.services.policy_version(kind, &q.from).await?;
    let new = state.services.policy_version(kind, &q.to).await?;
    let layout = Layout::new(&state, &ctx, kind.title()).await?;
    // The texts as their pages show them: placeholders filled, Markdown formatted.
    let html = crate::markdown::diff::to_html(
        &with_facts(&state, &old.body),
        &with_facts(&state, &new.body),
    );
    render(DiffPage {
        layout,
        kind,
        from: old.version,
        to: new.version,
        html,
    })
}

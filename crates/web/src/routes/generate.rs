//! The media library's Generate tab: a prompt, a style and a shape make an image request; a
//! prompt or a library picture, a model, a shape and a length make a video request; a script
//! and a voice make a reel (over generated scenes, or spoken by a library portrait), and a
//! portrait, a script and a voice a character video. A
//! generation's page shows how far it has got (and refreshes itself, so no script is needed)
//! and, at the end, the file in the library or why there is none. Each form exists only when
//! the instance has the provider for it; the page says so when AI is off in the workspace.

use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::extract::{PathIds, WorkspaceMember};
use crate::forms::FieldErrors;
use crate::page::Layout;
use crate::routes::{fmt_time, render, rerender};
use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use domain::MediaId;
use domain::WorkspaceId;
use domain::media::MediaKind;
use services::ai::AiState;
use services::ai::prompt_help::Draft;
use services::media::generate::{Aspect, ImageAsk, ImageOptions, PROMPT_LIMIT, Style};
use services::media::generate_character::CharacterAsk;
use services::media::generate_reel::{ReelAsk, ReelOptions, SCRIPT_LIMIT};
use services::media::generate_video::{self, VideoAsk, VideoOptions, VideoShape};
use services::media::generations::GenerationState;
use std::collections::HashSet;
use std::future::Future;
use store::entities::media_generation;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/w/{wid}/media/generate", get(page).post(generate))
        .route(
            "/w/{wid}/media/generate/video",
            get(video_page).post(generate_video),
        )
        .route(
            "/w/{wid}/media/generate/reel",
            get(reel_page).post(generate_reel),
        )
        .route(
            "/w/{wid}/media/generate/character",
            get(character_page).post(generate_character),
        )
        .route("/w/{wid}/media/generations/{gid}", get(show))
        .route("/w/{wid}/media/generations/{gid}/cancel", post(cancel))
}

/// The Generate tabs the instance has, and the one shown.
pub struct Tabs {
    pub ws: i64,
    pub images: bool,
    pub videos: bool,
    pub reels: bool,
    pub characters: bool,
    /// `image`, `video`, `reel` or `character`.
    pub current: &'static str,
}

impl Tabs {
    fn of(ai: &services::ai::Assistant, ws: WorkspaceId, current: &'static str) -> Tabs {
        let speech = ai.speech.is_some();
        Tabs {
            ws: ws.0,
            images: ai.images.is_some(),
            videos: ai.videos.is_some(),
            reels: speech && (ai.videos.is_some() || ai.characters.is_some()),
            characters: speech && ai.characters.is_some(),
            current,
        }
    }

    /// More than one tab: they are shown.
    pub fn several(&self) -> bool {
        [self.images, self.videos, self.reels, self.characters]
            .iter()
            .filter(|t| **t)
            .count()
            > 1
    }
}

/// The page a request came from with the refusal on it, or the new generation's page.
async fn requested<P, F>(
    asked: services::Result<media_generation::Model>,
    ws: WorkspaceId,
    field: &str,
    page: impl FnOnce(FieldErrors) -> F,
) -> AppResult
where
    P: Template,
    F: Future<Output = AppResult<P>>,
{
    match asked {
        Ok(row) => {
            Ok(Redirect::to(&format!("/w/{ws}/media/generations/{}", row.id)).into_response())
        }
        Err(err) => {
            let mut errors = FieldErrors::new();
            let status = errors.refuse(err, field)?;
            refused(page(errors).await?, status)
        }
    }
}

/// The Generate tabs this instance has (none without AI): a form's Enhance is not sent where
/// the form does not exist.
fn generate_tabs(state: &AppState, m: &WorkspaceMember) -> Option<Tabs> {
    let ai = state.services.ai.as_ref()?;
    Some(Tabs::of(ai, m.membership.workspace_id(), ""))
}

/// A Generate page that can say what Enhance did.
trait Enhanceable {
    fn set_enhanced(&mut self, notice: String);
}

macro_rules! enhanceable {
    ($($page:ty),*) => {$(
        impl Enhanceable for $page {
            fn set_enhanced(&mut self, notice: String) {
                self.enhanced = Some(notice);
            }
        }
    )*};
}

enhanceable!(GeneratePage, VideoPage, ReelPage, CharacterPage);

/// Enhance on one field of a Generate form (`field` of `form`): the page again with the field
/// rewritten by the text assistant and a notice saying so, or with the refusal. Nothing is
/// generated.
async fn enhanced_page<F, P, Fut>(
    state: &AppState,
    m: &WorkspaceMember,
    (draft, most): (Draft, usize),
    mut form: F,
    field: fn(&mut F) -> &mut String,
    page: impl Fn(F, FieldErrors) -> Fut,
) -> AppResult
where
    P: Template + Enhanceable,
    Fut: Future<Output = AppResult<P>>,
{
    let typed = field(&mut form).clone();
    match state
        .services
        .enhance_draft(&m.membership, draft, &typed, most)
        .await
    {
        Ok(done) => {
            *field(&mut form) = done.text;
            let mut shown = page(form, FieldErrors::new()).await?;
            shown.set_enhanced(format!(
                "Rewritten by {} ({}). Read it and change what you like: nothing is generated \
                 until you press the Generate button.",
                done.provider, done.model
            ));
            render(shown)
        }
        Err(err) => {
            let mut errors = FieldErrors::new();
            let status = errors.refuse(err, draft.field())?;
            refused(page(form, errors).await?, status)
        }
    }
}

/// A page rendered with the status that says why its request was refused.
fn refused(page: impl Template, status: axum::http::StatusCode) -> AppResult {
    let mut res = render(page)?;
    *res.status_mut() = status;
    Ok(res)
}

/// One generation as listed and shown.
pub struct GenerationRow {
    pub id: i64,
    /// `image`, `video`, `reel` or `character`.
    pub kind: String,
    /// What it makes, in words (`character video`).
    pub noun: &'static str,
    pub prompt: String,
    pub style: &'static str,
    pub aspect: &'static str,
    pub provider: String,
    pub model: String,
    pub state: &'static str,
    pub state_label: &'static str,
    pub progress: i32,
    pub open: bool,
    pub cancellable: bool,
    pub outcome: Option<String>,
    pub media_id: Option<i64>,
    /// The file it made has a thumbnail (a video has none without ffmpeg).
    pub thumb: bool,
    pub when: String,
}

fn row_of(
    state: &AppState,
    g: &media_generation::Model,
    tz: &str,
    thumbs: &HashSet<i64>,
) -> GenerationRow {
    let cancellable = state.services.generation_cancellable(g);
    let state = GenerationState::of(g);
    let video = g.kind != "image";
    let spoken: Option<ReelOptions> = matches!(g.kind.as_str(), "reel" | "character")
        .then(|| serde_json::from_str(&g.options).ok())
        .flatten();
    let shape = |options: &VideoOptions| {
        VideoShape::parse(&options.shape)
            .map(VideoShape::as_str)
            .unwrap_or_default()
    };
    let (style, aspect) = if g.kind == "reel" {
        let with = spoken.as_ref().is_some_and(|o| o.video.source.is_some());
        (
            if with {
                "Reel spoken by a character"
            } else {
                "Reel with a voice-over"
            },
            "9:16",
        )
    } else if g.kind == "character" {
        (
            "Character video",
            spoken.as_ref().map(|o| shape(&o.video)).unwrap_or_default(),
        )
    } else if video {
        let options: Option<VideoOptions> = serde_json::from_str(&g.options).ok();
        let shape = options
            .as_ref()
            .and_then(|o| VideoShape::parse(&o.shape))
            .map(VideoShape::as_str)
            .unwrap_or_default();
        let length = options.map(|o| o.seconds).unwrap_or_default();
        (
            SECONDS.get(length as usize).copied().unwrap_or("Video"),
            shape,
        )
    } else {
        let options: Option<ImageOptions> = serde_json::from_str(&g.options).ok();
        (
            options.map(|o| o.style.label()).unwrap_or_default(),
            options.map(|o| o.aspect.as_str()).unwrap_or_default(),
        )
    };
    GenerationRow {
        id: g.id,
        kind: g.kind.clone(),
        noun: match g.kind.as_str() {
            "image" => "image",
            "reel" => "reel",
            "character" => "character video",
            _ => "video",
        },
        prompt: g.prompt.clone(),
        style,
        aspect,
        provider: g.provider.clone(),
        model: g.model.clone(),
        state: state.as_str(),
        state_label: state.label(),
        progress: g.progress,
        open: state.is_open(),
        cancellable,
        outcome: g.outcome.clone(),
        media_id: g
            .media_id
            .filter(|_| matches!(state, GenerationState::Done(_))),
        thumb: g.media_id.is_some_and(|id| thumbs.contains(&id)),
        when: fmt_time(&g.created_at, tz),
    }
}

/// The workspace's recent generations, as listed.
async fn recent(state: &AppState, ws: WorkspaceId, tz: &str) -> AppResult<Vec<GenerationRow>> {
    let rows = state.services.generations_of(ws).await?;
    let made: Vec<i64> = rows.iter().filter_map(|g| g.media_id).collect();
    let thumbs = state.services.with_thumbnails(ws, &made).await?;
    Ok(rows.iter().map(|g| row_of(state, g, tz, &thumbs)).collect())
}

pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
    pub chosen: bool,
}

/// The video shapes as offered, `chosen` marked.
fn shape_choices(chosen: VideoShape) -> Vec<Choice> {
    VideoShape::ALL
        .into_iter()
        .map(|s| Choice {
            value: s.as_str(),
            label: s.label(),
            chosen: s == chosen,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "media/generate.html")]
struct GeneratePage {
    layout: Layout,
    errors: FieldErrors,
    /// What Enhance said it did, when it just rewrote a field.
    enhanced: Option<String>,
    tabs: Tabs,
    ws: i64,
    on: bool,
    can_turn_on: bool,
    can_edit: bool,
    provider: String,
    prompt: String,
    max: usize,
    styles: Vec<Choice>,
    aspects: Vec<Choice>,
    recent: Vec<GenerationRow>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct GenerateForm {
    /// The field to rewrite with Enhance, when that button was pressed.
    enhance: String,
    prompt: String,
    style: String,
    aspect: String,
}

async fn build(
    state: &AppState,
    m: &WorkspaceMember,
    form: &GenerateForm,
    errors: FieldErrors,
) -> AppResult<GeneratePage> {
    let Some(ai) = state.services.ai.as_ref().filter(|ai| ai.images.is_some()) else {
        return Err(AppError::NotFound);
    };
    let ws = m.membership.workspace_id();
    let tz = m.auth.user.timezone.as_str();
    let style = Style::parse(&form.style).unwrap_or(Style::Realistic);
    let aspect = Aspect::parse(&form.aspect).unwrap_or(Aspect::Square);
    Ok(GeneratePage {
        layout: Layout::for_member(state, m, "Generate an image"),
        errors,
        enhanced: None,
        tabs: Tabs::of(ai, ws, "image"),
        ws: ws.0,
        on: state.services.ai_state(&m.membership) == AiState::On,
        can_turn_on: m.membership.role.can_manage_members(),
        can_edit: m.membership.role.can_publish(),
        provider: format!(
            "{} ({})",
            ai.disclosure.provider,
            ai.disclosure.image_model.clone().unwrap_or_default()
        ),
        prompt: form.prompt.clone(),
        max: PROMPT_LIMIT,
        styles: Style::ALL
            .into_iter()
            .map(|s| Choice {
                value: s.as_str(),
                label: s.label(),
                chosen: s == style,
            })
            .collect(),
        aspects: Aspect::ALL
            .into_iter()
            .map(|a| Choice {
                value: a.as_str(),
                label: a.label(),
                chosen: a == aspect,
            })
            .collect(),
        recent: recent(state, ws, tz).await?,
    })
}

async fn page(State(state): State<AppState>, m: WorkspaceMember) -> AppResult {
    render(build(&state, &m, &GenerateForm::default(), FieldErrors::new()).await?)
}

async fn generate(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds(ws): PathIds<WorkspaceId>,
    Form(form): Form<GenerateForm>,
) -> AppResult {
    if form.enhance == "prompt" {
        if !generate_tabs(&state, &m).is_some_and(|t| t.images) {
            return Err(AppError::NotFound);
        }
        let (state, m) = (&state, &m);
        return enhanced_page(
            state,
            m,
            (Draft::Image, PROMPT_LIMIT),
            form,
            |f| &mut f.prompt,
            move |form, errors| async move { build(state, m, &form, errors).await },
        )
        .await;
    }
    let (Some(style), Some(aspect)) = (Style::parse(&form.style), Aspect::parse(&form.aspect))
    else {
        let mut errors = FieldErrors::new();
        errors.add("style", "Choose a style and a shape from the lists.");
        return rerender(build(&state, &m, &form, errors).await?);
    };
    let ask = ImageAsk {
        prompt: form.prompt.clone(),
        style,
        aspect,
    };
    let asked = state
        .services
        .request_image(&m.membership, &m.auth.user, &ask)
        .await;
    requested(asked, ws, "prompt", |errors| {
        build(&state, &m, &form, errors)
    })
    .await
}

#[derive(Template)]
#[template(path = "media/generation.html")]
struct GenerationPage {
    title: &'static str,
    layout: Layout,
    errors: FieldErrors,
    ws: i64,
    g: GenerationRow,
    can_edit: bool,
}

async fn shown(
    state: &AppState,
    m: &WorkspaceMember,
    id: i64,
    errors: FieldErrors,
) -> AppResult<GenerationPage> {
    if state.services.ai.is_none() {
        return Err(AppError::NotFound);
    }
    let ws = m.membership.workspace_id();
    let row = state.services.generation(ws, id).await?;
    let made: Vec<i64> = row.media_id.into_iter().collect();
    let thumbs = state.services.with_thumbnails(ws, &made).await?;
    let title = match row.kind.as_str() {
        "video" => "Video generation",
        "reel" => "Reel generation",
        "character" => "Character video generation",
        _ => "Image generation",
    };
    Ok(GenerationPage {
        title,
        layout: Layout::for_member(state, m, title),
        errors,
        ws: ws.0,
        g: row_of(state, &row, &m.auth.user.timezone, &thumbs),
        can_edit: m.membership.role.can_publish(),
    })
}

async fn show(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((_, gid)): PathIds<(WorkspaceId, i64)>,
) -> AppResult {
    render(shown(&state, &m, gid, FieldErrors::new()).await?)
}

async fn cancel(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((ws, gid)): PathIds<(WorkspaceId, i64)>,
) -> AppResult {
    match state
        .services
        .cancel_generation(&m.membership, &m.auth.user, gid)
        .await
    {
        Ok(()) => Ok(Redirect::to(&format!("/w/{ws}/media/generations/{gid}")).into_response()),
        Err(err) => {
            let mut errors = FieldErrors::new();
            let status = errors.refuse(err, "generation")?;
            let mut res = render(shown(&state, &m, gid, errors).await?)?;
            *res.status_mut() = status;
            Ok(res)
        }
    }
}

/// "5 s", for the lengths the models make (up to 10 s).
const SECONDS: [&str; 11] = [
    "Video", "1 s", "2 s", "3 s", "4 s", "5 s", "6 s", "7 s", "8 s", "9 s", "10 s",
];

/// One model as offered: its id, its name and what it takes, in words.
pub struct ModelChoice {
    pub value: &'static str,
    pub label: String,
    pub chosen: bool,
}

/// A library picture a video can start from.
pub struct SourceChoice {
    pub id: i64,
    pub name: String,
    pub chosen: bool,
}

#[derive(Template)]
#[template(path = "media/generate_video.html")]
struct VideoPage {
    layout: Layout,
    errors: FieldErrors,
    /// What Enhance said it did, when it just rewrote a field.
    enhanced: Option<String>,
    ws: i64,
    on: bool,
    can_turn_on: bool,
    can_edit: bool,
    tabs: Tabs,
    provider: String,
    prompt: String,
    max: usize,
    models: Vec<ModelChoice>,
    sources: Vec<SourceChoice>,
    shapes: Vec<Choice>,
    lengths: Vec<(u32, bool)>,
    recent: Vec<GenerationRow>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct VideoForm {
    enhance: String,
    prompt: String,
    model: String,
    /// A library picture's id, or empty.
    source: String,
    shape: String,
    seconds: String,
}

async fn build_video(
    state: &AppState,
    m: &WorkspaceMember,
    form: &VideoForm,
    errors: FieldErrors,
) -> AppResult<VideoPage> {
    let Some(ai) = state.services.ai.as_ref() else {
        return Err(AppError::NotFound);
    };
    let Some(videos) = ai.videos.as_ref() else {
        return Err(AppError::NotFound);
    };
    let ws = m.membership.workspace_id();
    let tz = m.auth.user.timezone.as_str();
    let generator = &videos.generator;
    let chosen_model = generator
        .model(&form.model)
        .or_else(|| generator.models().first())
        .map(|m| m.id)
        .unwrap_or_default();
    let shape = VideoShape::parse(&form.shape).unwrap_or(VideoShape::Vertical);
    let seconds: u32 = form.seconds.parse().unwrap_or(5);
    let mut lengths: Vec<u32> = generator
        .models()
        .iter()
        .flat_map(|m| m.durations.iter().copied())
        .collect();
    lengths.sort_unstable();
    lengths.dedup();
    let sources = portraits(state, ws, form.source.parse().ok()).await?;
    Ok(VideoPage {
        layout: Layout::for_member(state, m, "Generate a video"),
        errors,
        enhanced: None,
        ws: ws.0,
        on: state.services.ai_state(&m.membership) == AiState::On,
        can_turn_on: m.membership.role.can_manage_members(),
        can_edit: m.membership.role.can_publish(),
        tabs: Tabs::of(ai, ws, "video"),
        provider: generator.provider().to_owned(),
        prompt: form.prompt.clone(),
        max: generate_video::PROMPT_LIMIT,
        models: generator
            .models()
            .iter()
            .map(|model| {
                let from = match (model.from_text, model.from_image) {
                    (true, true) => "from a prompt or a picture",
                    (true, false) => "from a prompt",
                    _ => "from a picture",
                };
                let lengths: Vec<String> = model.durations.iter().map(|d| d.to_string()).collect();
                let shapes: Vec<&str> = model.shapes.iter().map(|s| s.as_str()).collect();
                ModelChoice {
                    value: model.id,
                    label: format!(
                        "{} — {from}; {} s; {}",
                        model.label,
                        lengths.join(", "),
                        shapes.join(", ")
                    ),
                    chosen: model.id == chosen_model,
                }
            })
            .collect(),
        sources,
        shapes: shape_choices(shape),
        lengths: lengths.into_iter().map(|l| (l, l == seconds)).collect(),
        recent: recent(state, ws, tz).await?,
    })
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct VideoQuery {
    source: String,
}

async fn video_page(
    State(state): State<AppState>,
    m: WorkspaceMember,
    Query(query): Query<VideoQuery>,
) -> AppResult {
    let form = VideoForm {
        source: query.source,
        ..Default::default()
    };
    render(build_video(&state, &m, &form, FieldErrors::new()).await?)
}

async fn generate_video(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds(ws): PathIds<WorkspaceId>,
    Form(form): Form<VideoForm>,
) -> AppResult {
    if form.enhance == "prompt" {
        if !generate_tabs(&state, &m).is_some_and(|t| t.videos) {
            return Err(AppError::NotFound);
        }
        let (state, m) = (&state, &m);
        return enhanced_page(
            state,
            m,
            (Draft::Video, generate_video::PROMPT_LIMIT),
            form,
            |f| &mut f.prompt,
            move |form, errors| async move { build_video(state, m, &form, errors).await },
        )
        .await;
    }
    let shape = VideoShape::parse(&form.shape);
    let seconds = form.seconds.trim().parse::<u32>().ok();
    let source = match form.source.trim() {
        "" => Some(None),
        raw => raw.parse::<i64>().ok().map(|id| Some(MediaId(id))),
    };
    let (Some(shape), Some(seconds), Some(source)) = (shape, seconds, source) else {
        let mut errors = FieldErrors::new();
        errors.add(
            "shape",
            "Choose a shape, a length and a picture (or none) from the lists.",
        );
        return rerender(build_video(&state, &m, &form, errors).await?);
    };
    let ask = VideoAsk {
        prompt: form.prompt.clone(),
        model: form.model.clone(),
        shape,
        seconds,
        source,
    };
    let asked = state
        .services
        .request_video(&m.membership, &m.auth.user, &ask)
        .await;
    requested(asked, ws, "prompt", |errors| {
        build_video(&state, &m, &form, errors)
    })
    .await
}

#[derive(Template)]
#[template(path = "media/generate_reel.html")]
struct ReelPage {
    layout: Layout,
    errors: FieldErrors,
    /// What Enhance said it did, when it just rewrote a field.
    enhanced: Option<String>,
    ws: i64,
    tabs: Tabs,
    on: bool,
    can_turn_on: bool,
    can_edit: bool,
    /// Why no reel can be made here now (no ffmpeg for scenes, and no character provider),
    /// when so.
    unavailable: Option<String>,
    /// Who makes the scenes, when reels can be made over generated scenes.
    video_provider: Option<String>,
    /// Who makes characters speak, when reels can be spoken by one.
    character_provider: Option<String>,
    voice_provider: String,
    script: String,
    scenes: String,
    script_max: usize,
    scenes_max: usize,
    models: Vec<ModelChoice>,
    voices: Vec<VoiceChoice>,
    portraits: Vec<SourceChoice>,
    recent: Vec<GenerationRow>,
}

/// One of the voice provider's voices, as offered.
pub struct VoiceChoice {
    pub id: String,
    pub label: String,
    pub chosen: bool,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ReelForm {
    enhance: String,
    script: String,
    voice: String,
    scenes: String,
    model: String,
    /// A library portrait's id, or empty (generated scenes).
    character: String,
}

/// The voices offered to a member who may generate (read from the provider, and kept a
/// while, only for a form to show); a provider that cannot be reached is said on `errors`.
async fn offered_voices(
    state: &AppState,
    m: &WorkspaceMember,
    chosen: &str,
    errors: &mut FieldErrors,
) -> Vec<VoiceChoice> {
    let speech = state.services.ai.as_ref().and_then(|ai| ai.speech.as_ref());
    let Some(speech) = speech.filter(|_| {
        state.services.ai_state(&m.membership) == AiState::On && m.membership.role.can_publish()
    }) else {
        return Vec::new();
    };
    let voices = match state.services.reel_voices(speech).await {
        Ok(voices) => voices,
        Err(err) => {
            errors.add("voice", err.to_string());
            Vec::new()
        }
    };
    voices
        .iter()
        .enumerate()
        .map(|(i, v)| VoiceChoice {
            id: v.id.clone(),
            label: format!("{}{}", v.name, describe_voice(&v.labels)),
            chosen: v.id == chosen || (i == 0 && chosen.is_empty()),
        })
        .collect()
}

/// The library's pictures a video can start from or a character be made of (JPEG, PNG and
/// WebP), `chosen` marked.
async fn portraits(
    state: &AppState,
    ws: WorkspaceId,
    chosen: Option<i64>,
) -> AppResult<Vec<SourceChoice>> {
    let filter = services::media::MediaFilter {
        kind: Some(MediaKind::Image),
        ..Default::default()
    };
    let pictures = state.services.media_of(ws, &filter).await?;
    Ok(pictures
        .iter()
        .filter(|p| ["image/jpeg", "image/png", "image/webp"].contains(&p.mime.as_str()))
        .map(|p| SourceChoice {
            id: p.id,
            name: p.filename.clone(),
            chosen: Some(p.id) == chosen,
        })
        .collect())
}

async fn build_reel(
    state: &AppState,
    m: &WorkspaceMember,
    form: &ReelForm,
    mut errors: FieldErrors,
) -> AppResult<ReelPage> {
    let Some(ai) = state.services.ai.as_ref() else {
        return Err(AppError::NotFound);
    };
    let Some(speech) = ai.speech.as_ref() else {
        return Err(AppError::NotFound);
    };
    if ai.videos.is_none() && ai.characters.is_none() {
        return Err(AppError::NotFound);
    }
    let ws = m.membership.workspace_id();
    let tz = m.auth.user.timezone.as_str();
    let on = state.services.ai_state(&m.membership) == AiState::On;
    // Scenes need ffmpeg to lay the voice-over under them; a character speaks it itself.
    let scenes = ai
        .videos
        .as_ref()
        .filter(|_| !state.services.reels_need_ffmpeg());
    let characters = ai.characters.as_ref();
    let unavailable = (scenes.is_none() && characters.is_none()).then(|| {
        "Reels need ffmpeg on this server to lay the voice-over under the scenes. The \
         operator can install Debian's ffmpeg package."
            .to_owned()
    });
    let voices = if unavailable.is_none() {
        offered_voices(state, m, &form.voice, &mut errors).await
    } else {
        Vec::new()
    };
    let vertical: Vec<_> = scenes
        .map(|v| {
            v.generator
                .models()
                .iter()
                .filter(|m| m.from_text && m.shapes.contains(&VideoShape::Vertical))
                .collect()
        })
        .unwrap_or_default();
    let chosen_model = vertical
        .iter()
        .find(|m| m.id == form.model)
        .or(vertical.first())
        .map(|m| m.id)
        .unwrap_or_default();
    let portraits = match characters {
        Some(_) => portraits(state, ws, form.character.parse().ok()).await?,
        None => Vec::new(),
    };
    Ok(ReelPage {
        layout: Layout::for_member(state, m, "Generate a reel"),
        errors,
        enhanced: None,
        ws: ws.0,
        tabs: Tabs::of(ai, ws, "reel"),
        on,
        can_turn_on: m.membership.role.can_manage_members(),
        can_edit: m.membership.role.can_publish(),
        unavailable,
        video_provider: scenes.map(|v| v.generator.provider().to_owned()),
        character_provider: characters.map(|c| c.generator.provider().to_owned()),
        voice_provider: speech.provider().to_owned(),
        script: form.script.clone(),
        scenes: form.scenes.clone(),
        script_max: SCRIPT_LIMIT.min(speech.max_characters()),
        scenes_max: generate_video::PROMPT_LIMIT,
        models: vertical
            .iter()
            .map(|model| ModelChoice {
                value: model.id,
                label: format!(
                    "{} — scenes of {} s",
                    model.label,
                    model.durations.iter().max().copied().unwrap_or(5)
                ),
                chosen: model.id == chosen_model,
            })
            .collect(),
        voices,
        portraits,
        recent: recent(state, ws, tz).await?,
    })
}

fn describe_voice(labels: &[String]) -> String {
    if labels.is_empty() {
        String::new()
    } else {
        format!(" ({})", labels.join(", "))
    }
}

async fn reel_page(State(state): State<AppState>, m: WorkspaceMember) -> AppResult {
    render(build_reel(&state, &m, &ReelForm::default(), FieldErrors::new()).await?)
}

async fn generate_reel(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds(ws): PathIds<WorkspaceId>,
    Form(form): Form<ReelForm>,
) -> AppResult {
    if form.enhance == "script" || form.enhance == "scenes" {
        if !generate_tabs(&state, &m).is_some_and(|t| t.reels) {
            return Err(AppError::NotFound);
        }
        let (state, m) = (&state, &m);
        let page = move |form, errors| async move { build_reel(state, m, &form, errors).await };
        if form.enhance == "script" {
            let draft = (Draft::Script, SCRIPT_LIMIT);
            return enhanced_page(state, m, draft, form, |f| &mut f.script, page).await;
        }
        // With a character, the field says how it moves.
        let draft = if form.character.trim().is_empty() {
            Draft::Scenes
        } else {
            Draft::Motion
        };
        let draft = (draft, generate_video::PROMPT_LIMIT);
        return enhanced_page(state, m, draft, form, |f| &mut f.scenes, page).await;
    }
    let character = match form.character.trim() {
        "" => Some(None),
        raw => raw.parse::<i64>().ok().map(|id| Some(MediaId(id))),
    };
    let Some(character) = character else {
        let mut errors = FieldErrors::new();
        errors.add("character", "Choose a portrait from the list, or none.");
        return rerender(build_reel(&state, &m, &form, errors).await?);
    };
    let asked = match character {
        Some(portrait) => {
            let ask = CharacterAsk {
                portrait,
                script: form.script.clone(),
                voice: form.voice.clone(),
                prompt: form.scenes.clone(),
                shape: VideoShape::Vertical,
            };
            state
                .services
                .request_character_reel(&m.membership, &m.auth.user, &ask)
                .await
        }
        None => {
            let ask = ReelAsk {
                script: form.script.clone(),
                voice: form.voice.clone(),
                scenes: form.scenes.clone(),
                model: form.model.clone(),
            };
            state
                .services
                .request_reel(&m.membership, &m.auth.user, &ask)
                .await
        }
    };
    requested(asked, ws, "script", |errors| {
        build_reel(&state, &m, &form, errors)
    })
    .await
}

#[derive(Template)]
#[template(path = "media/generate_character.html")]
struct CharacterPage {
    layout: Layout,
    errors: FieldErrors,
    /// What Enhance said it did, when it just rewrote a field.
    enhanced: Option<String>,
    ws: i64,
    tabs: Tabs,
    on: bool,
    can_turn_on: bool,
    can_edit: bool,
    provider: String,
    voice_provider: String,
    script: String,
    prompt: String,
    script_max: usize,
    prompt_max: usize,
    default_motion: &'static str,
    voices: Vec<VoiceChoice>,
    portraits: Vec<SourceChoice>,
    shapes: Vec<Choice>,
    recent: Vec<GenerationRow>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct CharacterForm {
    enhance: String,
    portrait: String,
    script: String,
    voice: String,
    prompt: String,
    shape: String,
}

async fn build_character(
    state: &AppState,
    m: &WorkspaceMember,
    form: &CharacterForm,
    mut errors: FieldErrors,
) -> AppResult<CharacterPage> {
    let Some(ai) = state.services.ai.as_ref() else {
        return Err(AppError::NotFound);
    };
    let (Some(characters), Some(speech)) = (ai.characters.as_ref(), ai.speech.as_ref()) else {
        return Err(AppError::NotFound);
    };
    let ws = m.membership.workspace_id();
    let tz = m.auth.user.timezone.as_str();
    let voices = offered_voices(state, m, &form.voice, &mut errors).await;
    let shape = VideoShape::parse(&form.shape).unwrap_or(VideoShape::Vertical);
    let generator = &characters.generator;
    Ok(CharacterPage {
        layout: Layout::for_member(state, m, "Generate a character video"),
        errors,
        enhanced: None,
        ws: ws.0,
        tabs: Tabs::of(ai, ws, "character"),
        on: state.services.ai_state(&m.membership) == AiState::On,
        can_turn_on: m.membership.role.can_manage_members(),
        can_edit: m.membership.role.can_publish(),
        provider: generator.provider().to_owned(),
        voice_provider: speech.provider().to_owned(),
        script: form.script.clone(),
        prompt: form.prompt.clone(),
        script_max: SCRIPT_LIMIT.min(speech.max_characters()),
        prompt_max: generator.max_prompt(),
        default_motion: services::media::generate_character::DEFAULT_MOTION,
        voices,
        portraits: portraits(state, ws, form.portrait.parse().ok()).await?,
        shapes: shape_choices(shape),
        recent: recent(state, ws, tz).await?,
    })
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct CharacterQuery {
    portrait: String,
}

async fn character_page(
    State(state): State<AppState>,
    m: WorkspaceMember,
    Query(query): Query<CharacterQuery>,
) -> AppResult {
    let form = CharacterForm {
        portrait: query.portrait,
        ..Default::default()
    };
    render(build_character(&state, &m, &form, FieldErrors::new()).await?)
}

async fn generate_character(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds(ws): PathIds<WorkspaceId>,
    Form(form): Form<CharacterForm>,
) -> AppResult {
    if form.enhance == "script" || form.enhance == "prompt" {
        if !generate_tabs(&state, &m).is_some_and(|t| t.characters) {
            return Err(AppError::NotFound);
        }
        let (state, m) = (&state, &m);
        let page =
            move |form, errors| async move { build_character(state, m, &form, errors).await };
        if form.enhance == "script" {
            let draft = (Draft::Script, SCRIPT_LIMIT);
            return enhanced_page(state, m, draft, form, |f| &mut f.script, page).await;
        }
        let draft = (Draft::Motion, generate_video::PROMPT_LIMIT);
        return enhanced_page(state, m, draft, form, |f| &mut f.prompt, page).await;
    }
    let portrait = form.portrait.trim().parse::<i64>().ok().map(MediaId);
    let shape = VideoShape::parse(&form.shape);
    let (Some(portrait), Some(shape)) = (portrait, shape) else {
        let mut errors = FieldErrors::new();
        errors.add("portrait", "Choose a portrait and a shape from the lists.");
        return rerender(build_character(&state, &m, &form, errors).await?);
    };
    let ask = CharacterAsk {
        portrait,
        script: form.script.clone(),
        voice: form.voice.clone(),
        prompt: form.prompt.clone(),
        shape,
    };
    let asked = state
        .services
        .request_character(&m.membership, &m.auth.user, &ask)
        .await;
    requested(asked, ws, "script", |errors| {
        build_character(&state, &m, &form, errors)
    })
    .await
}

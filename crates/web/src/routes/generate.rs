//! The media library's Generate tab: a prompt, a style and a shape make an image request; its
//! page shows how far it has got (and refreshes itself, so no script is needed) and, at the
//! end, the file in the library or why there is none. Exists only when the instance has an
//! image model; says so when AI is off in the workspace.

use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::extract::{PathIds, WorkspaceMember};
use crate::forms::FieldErrors;
use crate::page::Layout;
use crate::routes::{fmt_time, render};
use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use domain::WorkspaceId;
use services::ai::AiState;
use services::media::generate::{
    Aspect, GenerationState, ImageAsk, ImageOptions, PROMPT_LIMIT, Style,
};
use store::entities::media_generation;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/w/{wid}/media/generate", get(page).post(generate))
        .route("/w/{wid}/media/generations/{gid}", get(show))
        .route("/w/{wid}/media/generations/{gid}/cancel", post(cancel))
}

/// One generation as listed and shown.
pub struct GenerationRow {
    pub id: i64,
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
    pub when: String,
}

fn row_of(g: &media_generation::Model, tz: &str) -> GenerationRow {
    let state = GenerationState::of(g);
    let options: Option<ImageOptions> = serde_json::from_str(&g.options).ok();
    GenerationRow {
        id: g.id,
        prompt: g.prompt.clone(),
        style: options.map(|o| o.style.label()).unwrap_or_default(),
        aspect: options.map(|o| o.aspect.as_str()).unwrap_or_default(),
        provider: g.provider.clone(),
        model: g.model.clone(),
        state: state.as_str(),
        state_label: state.label(),
        progress: g.progress,
        open: state.is_open(),
        cancellable: state == GenerationState::Queued,
        outcome: g.outcome.clone(),
        media_id: g
            .media_id
            .filter(|_| matches!(state, GenerationState::Done(_))),
        when: fmt_time(&g.created_at, tz),
    }
}

pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
    pub chosen: bool,
}

#[derive(Template)]
#[template(path = "media/generate.html")]
struct GeneratePage {
    layout: Layout,
    errors: FieldErrors,
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
        recent: state
            .services
            .generations_of(ws)
            .await?
            .iter()
            .map(|g| row_of(g, tz))
            .collect(),
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
    let mut errors = FieldErrors::new();
    let (Some(style), Some(aspect)) = (Style::parse(&form.style), Aspect::parse(&form.aspect))
    else {
        errors.add("style", "Choose a style and a shape from the lists.");
        let mut res = render(build(&state, &m, &form, errors).await?)?;
        *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(res);
    };
    let ask = ImageAsk {
        prompt: form.prompt.clone(),
        style,
        aspect,
    };
    match state
        .services
        .request_image(&m.membership, &m.auth.user, &ask)
        .await
    {
        Ok(row) => {
            Ok(Redirect::to(&format!("/w/{ws}/media/generations/{}", row.id)).into_response())
        }
        Err(err) => {
            let status = errors.refuse(err, "prompt")?;
            let mut res = render(build(&state, &m, &form, errors).await?)?;
            *res.status_mut() = status;
            Ok(res)
        }
    }
}

#[derive(Template)]
#[template(path = "media/generation.html")]
struct GenerationPage {
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
    Ok(GenerationPage {
        layout: Layout::for_member(state, m, "Image generation"),
        errors,
        ws: ws.0,
        g: row_of(&row, &m.auth.user.timezone),
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

//! A workspace's AI page: what the configured provider receives (rendered from the
//! configuration), AI on or off (owners and admins), and the brand profile (owners and admins
//! edit it, every member reads it). Without an AI provider the page does not exist.

use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::extract::WorkspaceMember;
use crate::flash::{Flash, redirect_with};
use crate::forms::{FieldErrors, Switch};
use crate::page::Layout;
use crate::routes::{render, rerender};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::IntoResponse;
use services::ServiceError;
use services::ai::brand::{BrandProfile, MAX_EXAMPLES, MAX_FIELD, MAX_NAME};
use services::ai::{AiState, Disclosure};

/// One field of the brand profile form.
pub struct BrandField {
    pub name: &'static str,
    pub label: &'static str,
    pub value: String,
    pub hint: &'static str,
    pub multiline: bool,
    pub max: usize,
}

#[derive(Template)]
#[template(path = "workspaces/ai.html")]
pub struct AiPage {
    layout: Layout,
    errors: FieldErrors,
    id: i64,
    on: bool,
    manage: bool,
    disclosure: Disclosure,
    sent: Vec<String>,
    never: &'static [&'static str],
    brand: Vec<BrandField>,
    brand_empty: bool,
    /// The reader is an owner (who decides what the agent may do unasked).
    owner: bool,
    drafts_free: bool,
}

fn hint(field: &str) -> &'static str {
    match field {
        "about" => "What it sells or does, in a sentence or two.",
        "audience" => "Who the posts are for.",
        "voice" => "How the brand sounds, such as warm and direct, or formal.",
        "words_to_use" => "Words and phrases the AI should use, separated by commas.",
        "words_to_avoid" => "Words and phrases it should never use.",
        "examples" => "A few posts that sound right, separated by blank lines.",
        _ => "",
    }
}

async fn build(
    state: &AppState,
    m: &WorkspaceMember,
    typed: Option<BrandProfile>,
    errors: FieldErrors,
) -> AppResult<AiPage> {
    let ai = state.services.ai.as_ref().ok_or(AppError::NotFound)?;
    let profile = match typed {
        Some(p) => p,
        None => state.services.brand_profile(&m.membership).await?,
    };
    let brand = profile
        .fields()
        .iter()
        .map(|(name, label, value)| BrandField {
            name,
            label,
            value: value.to_string(),
            hint: hint(name),
            multiline: *name != "name",
            max: match *name {
                "name" => MAX_NAME,
                "examples" => MAX_EXAMPLES,
                _ => MAX_FIELD,
            },
        })
        .collect();
    Ok(AiPage {
        layout: Layout::for_member(state, m, "AI"),
        errors,
        id: m.membership.workspace.id,
        on: state.services.ai_state(&m.membership) == AiState::On,
        manage: m.membership.role.can_manage_members(),
        sent: ai.disclosure.what_is_sent(),
        never: Disclosure::never_sent(),
        disclosure: ai.disclosure.clone(),
        brand_empty: profile.is_empty(),
        brand,
        owner: m.membership.role == domain::Role::Owner,
        drafts_free: m.membership.workspace.agent_drafts_free,
    })
}

pub async fn page(State(state): State<AppState>, m: WorkspaceMember) -> AppResult {
    render(build(&state, &m, None, FieldErrors::new()).await?)
}

/// Turns AI on (agreeing to what the page disclosed) or off.
pub async fn switch(
    State(state): State<AppState>,
    m: WorkspaceMember,
    Form(form): Form<Switch>,
) -> AppResult {
    let on = form.on();
    state
        .services
        .set_ai(&m.membership, &m.auth.user, on)
        .await?;
    Ok(redirect_with(
        &format!("/w/{}/ai", m.membership.workspace.id),
        if on {
            Flash::AiTurnedOn
        } else {
            Flash::AiTurnedOff
        },
    ))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct BrandForm {
    name: String,
    about: String,
    audience: String,
    voice: String,
    words_to_use: String,
    words_to_avoid: String,
    examples: String,
}

pub async fn save_brand(
    State(state): State<AppState>,
    m: WorkspaceMember,
    Form(form): Form<BrandForm>,
) -> AppResult {
    if state.services.ai.is_none() {
        return Err(AppError::NotFound);
    }
    let typed = BrandProfile {
        name: form.name,
        about: form.about,
        audience: form.audience,
        voice: form.voice,
        words_to_use: form.words_to_use,
        words_to_avoid: form.words_to_avoid,
        examples: form.examples,
    };
    match state
        .services
        .save_brand_profile(&m.membership, &m.auth.user, &typed)
        .await
    {
        Ok(changed) => Ok(redirect_with(
            &format!("/w/{}/ai", m.membership.workspace.id),
            if changed {
                Flash::BrandSaved
            } else {
                Flash::BrandUnchanged
            },
        )),
        Err(err @ (ServiceError::Fields(_) | ServiceError::Invalid { .. })) => {
            let mut errors = FieldErrors::new();
            errors.absorb(err)?;
            rerender(build(&state, &m, Some(typed), errors).await?)
        }
        Err(err) => Err(err.into()),
    }
}

/// An owner lets the agent create drafts without asking, or not.
pub async fn agent_leash(
    State(state): State<AppState>,
    m: WorkspaceMember,
    Form(form): Form<Switch>,
) -> AppResult {
    if state.services.ai.is_none() {
        return Err(AppError::NotFound);
    }
    state
        .services
        .set_agent_drafts_free(&m.membership, &m.auth.user, form.on())
        .await?;
    Ok(
        axum::response::Redirect::to(&format!("/w/{}/ai#agent", m.membership.workspace.id))
            .into_response(),
    )
}

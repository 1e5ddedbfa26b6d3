//! Profile: name, time zone (with script, the browser's own zone is offered when it differs),
//! language.

use crate::AppState;
use crate::error::AppResult;
use crate::extract::CurrentUser;
use crate::flash::{Flash, redirect_with};
use crate::forms::FieldErrors;
use crate::page::Layout;
use crate::routes::{render, rerender};
use askama::Template;
use axum::Form;
use axum::extract::State;
use domain::{Language, PersonName, Timezone};

#[derive(Template)]
#[template(path = "settings/profile.html")]
struct ProfilePage {
    layout: Layout,
    tab: &'static str,
    errors: FieldErrors,
    name: String,
    timezone: String,
    language: String,
    zones: &'static [&'static str],
    languages: [Language; 3],
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ProfileForm {
    name: String,
    timezone: String,
    language: String,
}

async fn page(
    state: &AppState,
    user: &CurrentUser,
    form: ProfileForm,
    errors: FieldErrors,
) -> AppResult<ProfilePage> {
    Ok(ProfilePage {
        layout: Layout::new(state, &user.ctx, "Settings").await?,
        tab: "profile",
        errors,
        name: form.name,
        timezone: form.timezone,
        language: form.language,
        zones: Timezone::offered(),
        languages: Language::ALL,
    })
}

pub async fn form(State(state): State<AppState>, user: CurrentUser) -> AppResult {
    let u = &user.auth.user;
    let form = ProfileForm {
        name: u.name.clone(),
        timezone: u.timezone.clone(),
        language: u.language.clone(),
    };
    render(page(&state, &user, form, FieldErrors::new()).await?)
}

pub async fn submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<ProfileForm>,
) -> AppResult {
    let mut errors = FieldErrors::new();
    let name = errors.check("name", PersonName::parse(&form.name));
    let timezone = errors.check("timezone", Timezone::choose(&form.timezone));
    let language = errors.check("language", Language::parse(&form.language));
    let (Some(name), Some(timezone), Some(language)) = (name, timezone, language) else {
        return rerender(page(&state, &user, form, errors).await?);
    };
    state
        .services
        .update_profile(user.auth.user_id(), &name, timezone, language)
        .await?;
    Ok(redirect_with("/settings", Flash::ProfileSaved))
}

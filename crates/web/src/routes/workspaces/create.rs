//! Creating a workspace.

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
use domain::WorkspaceName;

#[derive(Template)]
#[template(path = "workspaces/new.html")]
struct NewPage {
    layout: Layout,
    errors: FieldErrors,
    name: String,
    first: bool,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct NewForm {
    name: String,
}

async fn page(
    state: &AppState,
    user: &CurrentUser,
    name: String,
    errors: FieldErrors,
) -> AppResult<NewPage> {
    let layout = Layout::new(state, &user.ctx, "New workspace").await?;
    let first = layout.workspaces.is_empty();
    Ok(NewPage {
        layout,
        errors,
        name,
        first,
    })
}

pub async fn form(State(state): State<AppState>, user: CurrentUser) -> AppResult {
    let mut page = page(&state, &user, String::new(), FieldErrors::new()).await?;
    // Where someone lands whose last workspace was deleted: say what happened.
    page.layout.take_notices(&state, &user.ctx).await?;
    render(page)
}

pub async fn submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<NewForm>,
) -> AppResult {
    let mut errors = FieldErrors::new();
    let Some(name) = errors.check("name", WorkspaceName::parse(&form.name)) else {
        return rerender(page(&state, &user, form.name, errors).await?);
    };
    let ws = state
        .services
        .create_workspace(&user.auth.user, &name)
        .await?;
    Ok(redirect_with(
        &format!("/w/{}", ws.id),
        Flash::WorkspaceCreated,
    ))
}

//! The landing page.

use crate::AppState;
use crate::error::AppResult;
use crate::extract::Ctx;
use crate::page::Layout;
use askama::Template;
use axum::extract::State;

#[derive(Template)]
#[template(path = "landing.html")]
struct Landing {
    layout: Layout,
}

pub async fn landing(State(state): State<AppState>, Ctx(ctx): Ctx) -> AppResult {
    let layout = Layout::new(&state, &ctx, "Social media management you can trust").await?;
    super::render(Landing { layout })
}

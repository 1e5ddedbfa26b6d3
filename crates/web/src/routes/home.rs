//! The landing page.

use crate::AppState;
use crate::error::AppResult;
use crate::extract::Ctx;
use crate::page::Layout;
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::routing::get;

/// The landing page's route.
pub fn router() -> Router<AppState> {
    Router::new().route("/", get(landing))
}

#[derive(Template)]
#[template(path = "landing.html")]
struct Landing {
    layout: Layout,
}

pub async fn landing(State(state): State<AppState>, Ctx(ctx): Ctx) -> AppResult {
    let layout = Layout::new(&state, &ctx, "Social media management you can trust").await?;
    super::render(Landing { layout })
}

//! Help pages.

use crate::AppState;
use crate::error::AppResult;
use crate::extract::Ctx;
use crate::page::Layout;
use crate::routes::{fmt_time, render};
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use domain::{Platform, UserId};

/// The help pages' routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/help/revoke-access", get(revoke_access))
}

struct PlatformSteps {
    name: &'static str,
    steps: String,
}

struct Done {
    at: String,
    summary: String,
}

#[derive(Template)]
#[template(path = "help/revoke_access.html")]
struct RevokeAccess {
    layout: Layout,
    platforms: Vec<PlatformSteps>,
    signed_in: bool,
    done: Vec<Done>,
}

/// How to remove Socializioz from each platform, and, for a signed-in person, what
/// Socializioz already revoked when they disconnected accounts.
pub async fn revoke_access(State(state): State<AppState>, Ctx(ctx): Ctx) -> AppResult {
    let platforms = Platform::ALL
        .iter()
        .map(|p| PlatformSteps {
            name: p.label(),
            steps: p.revoke_steps().join(" › "),
        })
        .collect();
    let mut done = Vec::new();
    if let Some(auth) = &ctx.auth {
        let tz = auth.user.timezone.clone();
        for entry in state
            .services
            .disconnections_by(UserId(auth.user.id))
            .await?
        {
            done.push(Done {
                at: fmt_time(&entry.created_at, &tz),
                summary: entry.summary,
            });
        }
    }
    let layout = Layout::new(&state, &ctx, "Removing Socializioz from a platform").await?;
    render(RevokeAccess {
        layout,
        platforms,
        signed_in: ctx.auth.is_some(),
        done,
    })
}

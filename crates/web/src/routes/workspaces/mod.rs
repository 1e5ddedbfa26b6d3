//! Workspaces: open and switch, create, members and invitations, activity, plan and usage.

pub mod activity;
pub mod ai;
pub mod billing;
pub mod create;
pub mod invitations;
pub mod members;
pub mod open;
pub mod settings;
use crate::AppState;
use axum::Router;
use axum::routing::{get, post};

/// The routes of the dashboard, workspaces, their members, invitations and activity.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/dashboard", get(open::dashboard))
        .route("/workspaces/new", get(create::form).post(create::submit))
        .route("/w/{wid}", get(open::show))
        .route("/w/{wid}/settings", get(settings::page))
        .route("/w/{wid}/rename", post(settings::rename))
        .route("/w/{wid}/settings/approvals", post(settings::approvals))
        .route("/w/{wid}/invitations", post(invitations::create))
        .route(
            "/w/{wid}/invitations/{iid}/revoke",
            post(invitations::revoke),
        )
        .route("/w/{wid}/members/{mid}/role", post(members::change_role))
        .route("/w/{wid}/members/{mid}/remove", post(members::remove))
        .route("/w/{wid}/leave", post(members::leave))
        .route("/w/{wid}/activity", get(activity::page))
        .route("/w/{wid}/ai", get(ai::page))
        .route("/w/{wid}/ai/switch", post(ai::switch))
        .route("/w/{wid}/ai/brand", post(ai::save_brand))
        .route("/w/{wid}/ai/agent", post(ai::agent_leash))
        .route("/w/{wid}/billing", get(billing::page))
        .route("/w/{wid}/billing/checkout", post(billing::checkout))
        .route("/w/{wid}/billing/return", get(billing::returned))
        .route("/w/{wid}/billing/cancelled", get(billing::cancelled))
        .route("/w/{wid}/billing/change", post(billing::change))
        .route("/w/{wid}/billing/cancel", post(billing::cancel))
        .route("/w/{wid}/billing/reactivate", post(billing::reactivate))
        .route("/w/{wid}/billing/details", post(billing::details))
        .route("/w/{wid}/billing/invoices/{iid}", get(billing::invoice))
        .route(
            "/invitations/{token}",
            get(invitations::show).post(invitations::accept),
        )
}

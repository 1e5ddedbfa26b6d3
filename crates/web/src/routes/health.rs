//! Liveness and readiness for load balancers and orchestrators.

use crate::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;

/// The probes' routes. They sit outside the request context: no session, no cookies.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(alive))
        .route("/readyz", get(ready))
}

/// The process is up.
pub async fn alive() -> &'static str {
    "ok"
}

/// The process can serve: its database answers.
pub async fn ready(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match state.services.ready().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(err) => {
            tracing::warn!(error = ?err, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

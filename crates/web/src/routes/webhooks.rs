//! Webhooks from outside services, outside the pages' context (no session, no CSRF token: the
//! sender proves itself by its signature). PayPal's at `/webhooks/paypal`: 200 once handled (or
//! when it is about nothing this instance acts on, so PayPal stops sending it), 400 for a
//! delivery that fails verification or cannot be read (nothing is changed), 503 when it cannot
//! be checked or handled now (PayPal delivers it again later), 404 without PayPal billing.

use crate::AppState;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use services::billing::WebhookFailure;

/// PayPal's events are a few kilobytes; this leaves ample room.
const MAX_BODY: usize = 256 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/webhooks/paypal", post(paypal))
        .layer(DefaultBodyLimit::max(MAX_BODY))
}

async fn paypal(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    match state.services.paypal_webhook(&headers, &body).await {
        Ok(handled) => {
            tracing::debug!(?handled, "PayPal webhook answered");
            (StatusCode::OK, "ok").into_response()
        }
        Err(WebhookFailure::Refused(why)) => {
            tracing::warn!(reason = %why, "a PayPal webhook was refused");
            (StatusCode::BAD_REQUEST, "refused").into_response()
        }
        Err(WebhookFailure::Later(why)) => {
            tracing::warn!(reason = %why, "a PayPal webhook could not be handled now");
            (StatusCode::SERVICE_UNAVAILABLE, "try again later").into_response()
        }
        Err(WebhookFailure::NotFound) => StatusCode::NOT_FOUND.into_response(),
    }
}

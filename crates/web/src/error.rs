//! The one place where failures become responses. Full error chains go to the log; the page
//! says what happened in words and never shows internals.

use crate::page::Layout;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use services::ServiceError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Forbidden(String),
    #[error("csrf")]
    Csrf,
    #[error("too large")]
    TooLarge,
    #[error("{0}")]
    RateLimited(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<ServiceError> for AppError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::NotFound => Self::NotFound,
            ServiceError::Forbidden(msg) => Self::Forbidden(msg),
            e @ ServiceError::RateLimited { .. } => Self::RateLimited(e.to_string()),
            ServiceError::Invalid { message, .. } => Self::Invalid(message),
            e @ ServiceError::Fields(_) => Self::Invalid(e.to_string()),
            ServiceError::TooLarge(_) => Self::TooLarge,
            ServiceError::Unexpected(e) => Self::Unexpected(e),
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    status: u16,
    heading: &'static str,
    message: String,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, heading, message) = match self {
            Self::NotFound => (
                StatusCode::NOT_FOUND,
                "Page not found",
                "There is nothing here, or you do not have access to it.".to_owned(),
            ),
            Self::Forbidden(msg) => (StatusCode::FORBIDDEN, "Not allowed", msg),
            Self::Csrf => (
                StatusCode::FORBIDDEN,
                "This form has expired",
                "For your safety the form could not be sent. Go back, reload the page and try again."
                    .to_owned(),
            ),
            Self::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "Too much data",
                "What you sent is larger than this form accepts.".to_owned(),
            ),
            Self::RateLimited(msg) => (StatusCode::TOO_MANY_REQUESTS, "Slow down", msg),
            Self::Invalid(msg) => (StatusCode::UNPROCESSABLE_ENTITY, "That did not work", msg),
            Self::Unexpected(err) => {
                tracing::error!(error = ?err, "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "We could not finish this request. Nothing you typed was lost on our side; \
                     try again in a moment."
                        .to_owned(),
                )
            }
        };
        let page = ErrorPage {
            layout: Layout::bare(heading),
            status: status.as_u16(),
            heading,
            message,
        };
        match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(err) => {
                tracing::error!(error = %err, "the error page could not be rendered");
                (status, heading).into_response()
            }
        }
    }
}

pub type AppResult<T = Response> = Result<T, AppError>;

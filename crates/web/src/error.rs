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
    /// The workspace's plan does not allow it: the message names the limit and the plan that
    /// lifts it, and the page links to the workspace's billing page.
    #[error("{message}")]
    PlanLimit { message: String, billing: String },
    #[error("csrf")]
    Csrf,
    #[error("too large")]
    TooLarge,
    #[error("{0}")]
    RateLimited(String),
    #[error("{0}")]
    Invalid(String),
    /// A service the product depends on could not be reached; nothing was done.
    #[error("{0}")]
    Unavailable(String),
    /// The request itself cannot be taken (a control character in a field or the address).
    #[error("{0}")]
    BadRequest(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<ServiceError> for AppError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::NotFound => Self::NotFound,
            ServiceError::Forbidden(msg) => Self::Forbidden(msg),
            ServiceError::PlanLimit { workspace, refusal } => Self::PlanLimit {
                message: refusal.to_string(),
                billing: format!("/w/{workspace}/billing"),
            },
            e @ ServiceError::RateLimited { .. } => Self::RateLimited(e.to_string()),
            ServiceError::Invalid { message, .. } => Self::Invalid(message),
            e @ ServiceError::Fields(_) => Self::Invalid(e.to_string()),
            ServiceError::TooLarge(_) => Self::TooLarge,
            ServiceError::Unavailable(msg) => Self::Unavailable(msg),
            ServiceError::Unexpected(e) => Self::Unexpected(e),
        }
    }
}

/// A database error caused by the values a request sent rather than by a fault here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DbRefusal {
    /// A character the database cannot store (PostgreSQL refuses NUL in text).
    Character,
    /// A value too long for its column, its index, or SQLite's LIKE pattern limit.
    TooLong,
    /// A number outside its column's range.
    OutOfRange,
}

impl DbRefusal {
    fn message(self) -> String {
        match self {
            Self::Character => "What you sent contains a character that cannot be stored (such as \
                                a NUL byte). Remove it and try again."
                .to_owned(),
            Self::TooLong => {
                "A value you sent is far too long. Shorten it and try again.".to_owned()
            }
            Self::OutOfRange => {
                "A number you sent is out of range. Check it and try again.".to_owned()
            }
        }
    }

    /// PostgreSQL's SQLSTATE codes and SQLite's result codes and messages that name the
    /// request's values.
    fn of(code: Option<&str>, message: &str) -> Option<Self> {
        match code {
            // character_not_in_repertoire ("invalid byte sequence", NUL in text), and
            // untranslatable_character (`\u0000` in JSON).
            Some("22021" | "22P05") => Some(Self::Character),
            // string_data_right_truncation, and program_limit_exceeded (an index entry too
            // large); SQLITE_TOOBIG.
            Some("22001" | "54000" | "18") => Some(Self::TooLong),
            // numeric_value_out_of_range.
            Some("22003") => Some(Self::OutOfRange),
            _ if message.contains("pattern too complex") => Some(Self::TooLong),
            _ if message.contains("string or blob too big") => Some(Self::TooLong),
            _ => None,
        }
    }
}

/// Finds a database refusal of the request's values in an error chain.
fn client_caused(err: &anyhow::Error) -> Option<DbRefusal> {
    use store::sea_orm::{DbErr, RuntimeErr};
    err.chain().find_map(|cause| {
        let runtime = cause.downcast_ref::<RuntimeErr>().or_else(|| {
            match cause.downcast_ref::<DbErr>()? {
                DbErr::Conn(e) | DbErr::Exec(e) | DbErr::Query(e) => Some(e),
                _ => None,
            }
        })?;
        match runtime {
            RuntimeErr::SqlxError(sqlx) => {
                let db = sqlx.as_database_error()?;
                DbRefusal::of(db.code().as_deref(), db.message())
            }
            RuntimeErr::Internal(message) => DbRefusal::of(None, message),
        }
    })
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    status: u16,
    heading: &'static str,
    message: String,
    /// Where to go about it (the billing page, for a plan's limit).
    link: Option<String>,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut link = None;
        let (status, heading, message) = match self {
            Self::PlanLimit { message, billing } => {
                link = Some(billing);
                (StatusCode::PAYMENT_REQUIRED, "Not on this plan", message)
            }
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
            Self::BadRequest(msg) => (StatusCode::BAD_REQUEST, "That could not be read", msg),
            Self::Unavailable(msg) => (StatusCode::SERVICE_UNAVAILABLE, "Try again later", msg),
            Self::Unexpected(err) => match client_caused(&err) {
                Some(refusal) => {
                    // The request's values, not a fault here: one line, no backtrace.
                    let chain = format!("{err:#}").replace(['\n', '\r'], " ");
                    tracing::warn!(error = %chain, "the database refused a value the request sent");
                    (
                        StatusCode::BAD_REQUEST,
                        "That could not be saved",
                        refusal.message(),
                    )
                }
                None => {
                    tracing::error!(error = ?err, "request failed");
                    (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "Something went wrong",
                        "We could not finish this request. Nothing you typed was lost on our \
                         side; try again in a moment."
                            .to_owned(),
                    )
                }
            },
        };
        let page = ErrorPage {
            layout: Layout::bare(heading),
            status: status.as_u16(),
            heading,
            message,
            link,
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

/// axum answers input its extractors cannot read (a query value of the wrong kind or given
/// twice, a form body that does not parse) with plain text naming the parser's complaint. This
/// turns such an answer into the product's error page, with the same status and without the
/// complaint; handlers never answer in plain text themselves.
pub fn page_for_rejection(res: Response) -> Response {
    let plain = res
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/plain"));
    let status = res.status();
    if !(plain && status.is_client_error()) {
        return res;
    }
    tracing::info!(
        status = status.as_u16(),
        "a request's address or form could not be read"
    );
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return AppError::TooLarge.into_response();
    }
    let page = ErrorPage {
        layout: Layout::bare("That did not work"),
        status: status.as_u16(),
        heading: "That did not work",
        message: "Something in the address or the form could not be read: a value is missing, \
                  given twice, or not of the kind this page takes. Go back and try again."
            .to_owned(),
        link: None,
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "the error page could not be rendered");
            res
        }
    }
}

#[cfg(test)]
mod db_refusal_tests {
    use super::{AppError, DbRefusal, client_caused};
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    use store::sea_orm::{ConnectionTrait, Database, DbBackend, Statement};

    /// SQLite's own refusal of a LIKE pattern over its 50,000-byte limit.
    async fn sqlite_error(pattern_len: usize) -> Option<anyhow::Error> {
        let db = Database::connect("sqlite::memory:").await.ok()?;
        let pattern = format!("%{}%", "x".repeat(pattern_len));
        let stmt = Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "SELECT 'x' LIKE ? AS found",
            [pattern.into()],
        );
        let err = db.query_one_raw(stmt).await.err()?;
        Some(anyhow::Error::new(err).context("database error"))
    }

    #[tokio::test]
    async fn a_database_refusal_of_the_requests_values_is_a_400_page() {
        let err = sqlite_error(50_001)
            .await
            .expect("SQLite refuses the pattern");
        assert_eq!(client_caused(&err), Some(DbRefusal::TooLong), "{err:#}");
        let res = AppError::Unexpected(err).into_response();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        // Any other database failure is still ours.
        let other = anyhow::Error::new(store::sea_orm::DbErr::Custom("disk full".into()));
        assert_eq!(client_caused(&other), None);
        let res = AppError::Unexpected(other).into_response();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn postgres_codes_for_the_requests_values_are_recognised() {
        assert_eq!(DbRefusal::of(Some("22021"), ""), Some(DbRefusal::Character));
        assert_eq!(DbRefusal::of(Some("22P05"), ""), Some(DbRefusal::Character));
        assert_eq!(DbRefusal::of(Some("22001"), ""), Some(DbRefusal::TooLong));
        assert_eq!(DbRefusal::of(Some("54000"), ""), Some(DbRefusal::TooLong));
        assert_eq!(
            DbRefusal::of(Some("22003"), ""),
            Some(DbRefusal::OutOfRange)
        );
        // A broken constraint or a lost connection is not the request's doing.
        assert_eq!(DbRefusal::of(Some("23505"), "duplicate key"), None);
        assert_eq!(DbRefusal::of(Some("08006"), "connection failure"), None);
    }
}

//! PayPal's answers: its error shape (`{name, message, debug_id, details}`), the OAuth-style
//! 401 for a bad token, reading a JSON body the way PayPal refuses one, the answers to injected
//! faults, and the bearer check every API call makes.

use super::{PayPalOp, hex_id, lock, store};
use crate::{Fault, Simulator};
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// PayPal's error: `{name, message, debug_id, details:[{issue, description}]}`.
pub(super) fn error(
    status: StatusCode,
    name: &str,
    message: &str,
    details: Vec<Value>,
) -> Response {
    let mut body = json!({"name": name, "message": message, "debug_id": hex_id(13)});
    if !details.is_empty() {
        body["details"] = Value::Array(details);
    }
    (status, Json(body)).into_response()
}

/// One entry of an error's `details`, with the field it is about when there is one.
pub(super) fn detail(field: Option<&str>, issue: &str, description: &str) -> Value {
    let mut detail = json!({"issue": issue, "description": description});
    if let Some(field) = field {
        detail["field"] = json!(field);
        detail["location"] = json!("body");
    }
    detail
}

/// 400 `INVALID_REQUEST`.
pub(super) fn invalid_request(detail: Value) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "INVALID_REQUEST",
        "Request is not well-formed, syntactically incorrect, or violates schema.",
        vec![detail],
    )
}

/// 400: a required body field is missing.
pub(super) fn missing(field: &str) -> Response {
    invalid_request(detail(
        Some(field),
        "MISSING_REQUIRED_PARAMETER",
        "A required field / parameter is missing.",
    ))
}

/// 400: a body field has a value PayPal does not take.
pub(super) fn invalid_value(field: &str, description: &str) -> Response {
    invalid_request(detail(Some(field), "INVALID_PARAMETER_VALUE", description))
}

/// 404 `RESOURCE_NOT_FOUND`.
pub(super) fn not_found(field: Option<&str>) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "RESOURCE_NOT_FOUND",
        "The specified resource does not exist.",
        vec![detail(
            field,
            "INVALID_RESOURCE_ID",
            "Requested resource ID was not found.",
        )],
    )
}

/// 422 `UNPROCESSABLE_ENTITY`.
pub(super) fn unprocessable(issue: &str, description: &str) -> Response {
    error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "UNPROCESSABLE_ENTITY",
        "The requested action could not be performed, semantically incorrect, or failed business validation.",
        vec![detail(None, issue, description)],
    )
}

/// The OAuth answer to a missing, unknown or expired bearer token.
pub(super) fn invalid_token() -> Response {
    crate::oauth::oauth_error(
        StatusCode::UNAUTHORIZED,
        "invalid_token",
        "Access Token not found in cache",
    )
}

/// A JSON body, or PayPal's 400 when it is not one; an empty body reads as `{}`.
pub(super) fn read_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Response> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|_| {
        invalid_request(detail(
            None,
            "MALFORMED_REQUEST_JSON",
            "The request JSON is not well formed.",
        ))
    })
}

/// The answer to an injected fault.
pub(super) async fn fault_response(fault: Fault) -> Response {
    match fault {
        Fault::ExpiredToken | Fault::RevokedToken => invalid_token(),
        Fault::RateLimited { retry_after } => {
            let mut res = error(
                StatusCode::TOO_MANY_REQUESTS,
                "RATE_LIMIT_REACHED",
                "Too many requests. Blocked due to rate limiting.",
                vec![],
            );
            if let Ok(value) = retry_after.as_secs().to_string().parse() {
                res.headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, value);
            }
            res
        }
        Fault::ServerError | Fault::ProcessingFailed | Fault::SlowProcessing(_) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_SERVER_ERROR",
            "An internal server error has occurred.",
            vec![],
        ),
        Fault::Slow(wait) => {
            tokio::time::sleep(wait).await;
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "SERVICE_UNAVAILABLE",
                "Service Unavailable.",
                vec![],
            )
        }
    }
}

/// The fault injected into `op`, answered; `None` when there is none.
pub(super) async fn fault(sim: &Simulator, op: PayPalOp) -> Option<Response> {
    let fault = lock(&store(sim)).take_fault(op)?;
    Some(fault_response(fault).await)
}

/// The client id behind the request's bearer token, or the 401.
pub(super) fn authorised(
    sim: &Simulator,
    headers: &axum::http::HeaderMap,
) -> Result<String, Response> {
    let token = crate::oauth::bearer(headers).ok_or_else(invalid_token)?;
    lock(&store(sim))
        .client_of_token(token)
        .map(str::to_owned)
        .ok_or_else(invalid_token)
}

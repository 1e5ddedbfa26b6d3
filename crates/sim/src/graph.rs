//! The Graph API's common ground, shared by the Facebook and Instagram simulators: a call's
//! parameters (query and body), Graph's error shape, the access token of a call and its checks
//! (expiry, revocation, permissions), the `vNN.N` version segment, `fields` selection, the
//! answers to injected faults, the token answer both token hosts give, and what the insights
//! edges of both read alike (the `metric` list, the `since`/`until` window and its days, and the
//! `end_time` that closes a day).

use crate::oauth::{Issued, Params, bearer};
use crate::{AccessToken, Fault, Grant, Simulator};
use axum::Json;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc, Weekday};
use domain::Platform;
use serde_json::{Value, json};
use std::time::Duration;

/// A long-lived user token lives 60 days.
pub(crate) const LONG_TTL: Duration = Duration::from_secs(5_184_000);

/// A handler step's result: the answer, or the error answer that ends the call.
pub(crate) type Answer = Result<Response, Response>;

/// A Graph error as whatever the caller returns (a response, or the error itself).
pub(crate) fn err<E: From<GraphError>>(e: GraphError) -> E {
    E::from(e)
}

/// The answer of both token hosts to a token just issued.
pub(crate) fn token_answer(issued: &Issued) -> Response {
    Json(json!({
        "access_token": issued.access,
        "token_type": "bearer",
        "expires_in": issued.expires_in,
    }))
    .into_response()
}

/// An error in Graph's shape: `{"error":{message, type, code, error_subcode, fbtrace_id}}`.
pub(crate) struct GraphError {
    status: StatusCode,
    code: u32,
    subcode: Option<u32>,
    kind: &'static str,
    message: String,
    transient: bool,
    headers: Vec<(&'static str, String)>,
}

impl GraphError {
    /// An error with `code`, answered with HTTP 400 as Graph mostly does.
    pub fn new(code: u32, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code,
            subcode: None,
            kind: "OAuthException",
            message: message.into(),
            transient: false,
            headers: Vec::new(),
        }
    }

    pub fn subcode(mut self, subcode: u32) -> Self {
        self.subcode = Some(subcode);
        self
    }

    pub fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    pub fn kind(mut self, kind: &'static str) -> Self {
        self.kind = kind;
        self
    }

    pub(crate) fn transient(mut self) -> Self {
        self.transient = true;
        self
    }

    fn header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }

    /// Code 100: a missing or invalid parameter.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(100, message).kind("GraphMethodException")
    }

    /// The answer for an id that does not exist or that the token may not see.
    pub fn unknown_object(id: &str) -> Self {
        Self::invalid(format!(
            "Unsupported request: object '{id}' does not exist, cannot be loaded with this \
             token, or does not support this operation."
        ))
        .subcode(33)
    }
}

impl From<GraphError> for Response {
    fn from(e: GraphError) -> Self {
        e.into_response()
    }
}

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        let mut error = json!({
            "message": self.message,
            "type": self.kind,
            "code": self.code,
            "fbtrace_id": crate::random_token("A"),
        });
        if let Some(subcode) = self.subcode {
            error["error_subcode"] = json!(subcode);
        }
        if self.transient {
            error["is_transient"] = json!(true);
        }
        let mut response = (self.status, Json(json!({ "error": error }))).into_response();
        for (name, value) in self.headers {
            if let Ok(value) = header::HeaderValue::from_str(&value) {
                response.headers_mut().insert(name, value);
            }
        }
        response
    }
}

/// A Graph call's parameters: the query, with the body's (form or JSON) on top. JSON values
/// that are not strings are kept as JSON text (`attached_media`, `published`).
pub(crate) fn graph_params(query: Params, headers: &HeaderMap, body: &[u8]) -> Params {
    let mut params = query;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type.starts_with("application/json") {
        if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) {
            for (name, value) in map {
                let text = match value {
                    Value::String(text) => text,
                    other => other.to_string(),
                };
                params.insert(name, text);
            }
        }
    } else if !body.is_empty() {
        for (name, value) in form_urlencoded::parse(body) {
            params.insert(name.into_owned(), value.into_owned());
        }
    }
    params
}

/// The token of a Graph call: the `access_token` parameter or `Authorization: Bearer`.
pub(crate) fn token_of<'a>(params: &'a Params, headers: &'a HeaderMap) -> Option<&'a str> {
    params
        .get("access_token")
        .map(String::as_str)
        .or_else(|| bearer(headers))
        .filter(|t| !t.is_empty())
}

/// The token record behind `token` on `platform`, or the error Graph gives.
pub(crate) fn graph_token(
    sim: &Simulator,
    platform: Platform,
    token: Option<&str>,
) -> Result<AccessToken, GraphError> {
    let Some(token) = token else {
        return Err(GraphError::new(
            104,
            "An access token is required for this request.",
        ));
    };
    let state = sim.state();
    let Some(found) = state
        .access
        .get(token)
        .filter(|t| t.grant.platform == platform)
    else {
        return Err(GraphError::new(
            190,
            "Invalid OAuth access token: the token could not be read.",
        ));
    };
    if found.revoked {
        return Err(GraphError::new(
            190,
            "Error validating access token: the person has not authorised this application.",
        )
        .subcode(458));
    }
    if found.expires_at <= chrono::Utc::now() {
        return Err(GraphError::new(
            190,
            "Error validating access token: the session has expired.",
        )
        .subcode(463));
    }
    Ok(found.clone())
}

/// Refuses a token whose grant lacks `scope`, with the permission error `code` (Facebook 200,
/// Instagram 10).
pub(crate) fn require_scope(grant: &Grant, scope: &str, code: u32) -> Result<(), GraphError> {
    if grant.scopes.iter().any(|s| s == scope) {
        Ok(())
    } else {
        Err(GraphError::new(
            code,
            format!("(#{code}) This call needs the {scope} permission, which was not granted."),
        ))
    }
}

/// Checks a `vNN.N` version segment.
pub(crate) fn check_version(version: &str) -> Result<(), GraphError> {
    let valid = version.strip_prefix('v').is_some_and(|rest| {
        rest.split_once('.').is_some_and(|(major, minor)| {
            !major.is_empty()
                && !minor.is_empty()
                && major.bytes().all(|b| b.is_ascii_digit())
                && minor.bytes().all(|b| b.is_ascii_digit())
        })
    });
    if valid {
        Ok(())
    } else {
        Err(GraphError::invalid(format!(
            "Unknown path components: '{version}' is not an API version."
        )))
    }
}

/// The names in a `fields` parameter (`picture{url},name` gives `picture`, `name`); `None`
/// when the parameter is absent.
pub(crate) fn fields(params: &Params) -> Option<Vec<String>> {
    let raw = params.get("fields")?;
    let mut names = Vec::new();
    let mut depth = 0usize;
    let mut current = String::new();
    for c in raw.chars() {
        match c {
            '{' | '(' => depth += 1,
            '}' | ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => names.push(std::mem::take(&mut current)),
            _ if depth == 0 => current.push(c),
            _ => {}
        }
    }
    names.push(current);
    Some(
        names
            .into_iter()
            .map(|n| n.split('.').next().unwrap_or_default().trim().to_owned())
            .filter(|n| !n.is_empty())
            .collect(),
    )
}

/// Keeps the asked-for `fields` of `all` (every field Graph knows for this node), plus `id`;
/// an unknown field is Graph's code 100.
pub(crate) fn pick(
    all: &serde_json::Map<String, Value>,
    asked: Option<Vec<String>>,
    default: &[&str],
    node_type: &str,
) -> Result<Value, GraphError> {
    let asked = asked.unwrap_or_else(|| default.iter().map(|s| (*s).to_owned()).collect());
    let mut out = serde_json::Map::new();
    for name in asked {
        let Some(value) = all.get(&name) else {
            return Err(GraphError::invalid(format!(
                "(#100) Tried accessing nonexisting field ({name}) on node type ({node_type})"
            )));
        };
        out.insert(name, value.clone());
    }
    if let Some(id) = all.get("id") {
        out.insert("id".into(), id.clone());
    }
    Ok(Value::Object(out))
}

/// The answer to an injected fault, in Graph's shape. A rate limit carries
/// `X-Business-Use-Case-Usage` for `usage_id` with the minutes until access comes back.
pub(crate) async fn graph_fault(fault: Fault, platform: Platform, usage_id: &str) -> Response {
    match fault {
        Fault::ExpiredToken => GraphError::new(
            190,
            "Error validating access token: the session has expired.",
        )
        .subcode(463)
        .into_response(),
        Fault::RevokedToken => GraphError::new(
            190,
            "Error validating access token: the person has not authorised this application.",
        )
        .subcode(458)
        .into_response(),
        Fault::RateLimited { retry_after } => {
            let minutes = retry_after.as_secs().div_ceil(60);
            let (code, kind, message) = match platform {
                Platform::Instagram => (4, "instagram", "(#4) Application request limit reached"),
                _ => (32, "pages", "(#32) Page request limit reached"),
            };
            let usage = json!({ usage_id: [{
                "type": kind,
                "call_count": 100,
                "total_cputime": 25,
                "total_time": 30,
                "estimated_time_to_regain_access": minutes,
            }]});
            GraphError::new(code, message)
                .header("x-business-use-case-usage", usage.to_string())
                .into_response()
        }
        Fault::ServerError | Fault::ProcessingFailed | Fault::SlowProcessing(_) => GraphError::new(
            2,
            "An unexpected error happened. Please retry your request later.",
        )
        .status(StatusCode::INTERNAL_SERVER_ERROR)
        .transient()
        .into_response(),
        Fault::Slow(wait) => {
            tokio::time::sleep(wait).await;
            GraphError::new(2, "Service temporarily unavailable")
                .status(StatusCode::SERVICE_UNAVAILABLE)
                .transient()
                .into_response()
        }
    }
}

/// Whether a token was issued to live longer than a day (a long-lived token).
pub(crate) fn long_lived(token: &AccessToken) -> bool {
    token.expires_at - token.issued_at > chrono::Duration::days(1)
}

// ---------------------------------------------------------------------------------------------
// Insights.

/// The names in an insights call's `metric` parameter, in order; Graph's error when there are
/// none.
pub(crate) fn metric_names(params: &Params) -> Result<Vec<String>, GraphError> {
    let names: Vec<String> = params
        .get("metric")
        .map(|raw| {
            raw.split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if names.is_empty() {
        return Err(GraphError::new(3001, "Invalid query").subcode(1_504_028));
    }
    Ok(names)
}

/// One moment of `since` or `until`: Unix seconds, or a date (its midnight, UTC).
fn moment(name: &str, raw: &str) -> Result<DateTime<Utc>, GraphError> {
    let parsed = match raw.parse::<i64>() {
        Ok(seconds) => DateTime::from_timestamp(seconds, 0),
        Err(_) => NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .ok()
            .map(|d| d.and_time(NaiveTime::MIN).and_utc()),
    };
    parsed.ok_or_else(|| {
        GraphError::invalid(format!(
            "(#100) {name} must be a Unix time or a date (YYYY-MM-DD); got '{raw}'."
        ))
    })
}

/// An insights call's window, `since` to `until` (either may be absent: the window then ends at
/// the start of `today` and spans `default_days`), refused when it is backwards or longer than
/// `max_days`.
pub(crate) fn insight_window(
    params: &Params,
    today: NaiveDate,
    default_days: i64,
    max_days: i64,
) -> Result<(DateTime<Utc>, DateTime<Utc>), GraphError> {
    let until = match params.get("until").filter(|v| !v.is_empty()) {
        Some(raw) => moment("until", raw)?,
        None => today.and_time(NaiveTime::MIN).and_utc(),
    };
    let since = match params.get("since").filter(|v| !v.is_empty()) {
        Some(raw) => moment("since", raw)?,
        None => until - chrono::Duration::days(default_days),
    };
    if since > until {
        return Err(GraphError::invalid(
            "(#100) The since time must be before the until time.",
        ));
    }
    let span = until - since;
    if span > chrono::Duration::days(max_days) {
        return Err(GraphError::invalid(format!(
            "(#100) There cannot be more than {max_days} days ({} s) between since and until",
            max_days * 86_400
        )));
    }
    Ok((since, until))
}

/// The whole days inside `since..until` that are over by `today` (the day in progress and later
/// ones have no figures yet), oldest first.
pub(crate) fn insight_days(
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    today: NaiveDate,
) -> Vec<NaiveDate> {
    let start = |day: NaiveDate| day.and_time(NaiveTime::MIN).and_utc();
    let mut days = Vec::new();
    let mut day = since.date_naive();
    while start(day) < until && day < today {
        let next = day + chrono::Duration::days(1);
        if start(day) >= since && start(next) <= until {
            days.push(day);
        }
        day = next;
    }
    days
}

/// The `end_time` Graph gives a day's value: the midnight that ends the day in Pacific time,
/// written in UTC (`2026-10-06T07:00:00+0000` ends October 5th, in summer time).
pub(crate) fn end_time(day: NaiveDate) -> String {
    let midnight = day + chrono::Duration::days(1);
    let sunday =
        |month, n| NaiveDate::from_weekday_of_month_opt(midnight.year(), month, Weekday::Sun, n);
    // Summer time runs from the second Sunday of March to the first Sunday of November (both
    // changes at 2 a.m., so the midnight of either day is still on the old time).
    let summer = match (sunday(3, 2), sunday(11, 1)) {
        (Some(begins), Some(ends)) => midnight > begins && midnight <= ends,
        _ => false,
    };
    let hour = if summer { 7 } else { 8 };
    format!("{midnight}T{hour:02}:00:00+0000")
}

/// Graph's answer to a metric that is not (or no longer) one: the removed ones (`page_fans`,
/// every `*impressions*` metric) are answered so.
pub(crate) fn invalid_metric() -> GraphError {
    GraphError::invalid("(#100) The value must be a valid insights metric")
}

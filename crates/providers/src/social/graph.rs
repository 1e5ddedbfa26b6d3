//! Meta's Graph API as the Facebook and Instagram adapters both call it: error bodies (Graph's
//! `{"error":{...}}` and Instagram's older flat shape), their mapping into the four publishing
//! kinds, into connection failures and into metrics failures, rate-limit hints from the usage
//! headers, and one call that sends a request and reads its JSON answer (or, for metrics, keeps
//! the answer's text as it came).

use super::metrics::MetricsError;
use super::{
    ConnectError, PublishError, retry_after_header, send_failed, unavailable, without_url,
};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::time::Duration;

/// Graph's error body, `{"error":{message, code, error_subcode, ...}}`, or Instagram's older
/// `{error_type, code, error_message}`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct ErrorBody {
    error: Option<ErrorDetail>,
    error_message: Option<String>,
    code: Option<i64>,
}

#[derive(Deserialize, Default, Debug, Clone)]
#[serde(default)]
pub(super) struct ErrorDetail {
    pub message: String,
    pub code: i64,
    pub error_subcode: Option<i64>,
    /// A message meant for the person, when Graph has one.
    pub error_user_msg: Option<String>,
    pub is_transient: bool,
}

/// A Graph call that was answered with an error.
#[derive(Debug)]
pub(super) struct GraphFailure {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub error: ErrorDetail,
}

/// Graph's subcode for an id that does not exist or that the token may not see (with code 100).
const UNKNOWN_OBJECT_SUBCODE: i64 = 33;
/// The publishing limit of Instagram's content API (50 posts a day).
const PUBLISHING_LIMIT_SUBCODE: i64 = 2_207_042;
/// Instagram's "the media is not ready for publishing yet".
const NOT_READY_SUBCODE: i64 = 2_207_027;

impl GraphFailure {
    async fn read(res: reqwest::Response) -> Self {
        let status = res.status();
        let headers = res.headers().clone();
        let body: ErrorBody = res.json().await.unwrap_or_default();
        let error = match body.error {
            Some(error) => error,
            None => ErrorDetail {
                message: body.error_message.unwrap_or_default(),
                code: body.code.unwrap_or_default(),
                ..ErrorDetail::default()
            },
        };
        Self {
            status,
            headers,
            error,
        }
    }

    /// The token is invalid, expired or revoked (190), or missing (102, 104).
    pub fn token_refused(&self) -> bool {
        matches!(self.error.code, 102 | 104 | 190) || self.status == StatusCode::UNAUTHORIZED
    }

    /// The token lacks a permission the call needs (10, 200–299).
    pub fn permission_missing(&self) -> bool {
        self.error.code == 10 || (200..=299).contains(&self.error.code)
    }

    /// The object asked about does not exist (any more) or cannot be seen with this token.
    pub fn unknown_object(&self) -> bool {
        self.error.code == 100 && self.error.error_subcode == Some(UNKNOWN_OBJECT_SUBCODE)
    }

    pub fn rate_limited(&self) -> bool {
        self.status == StatusCode::TOO_MANY_REQUESTS
            || matches!(self.error.code, 4 | 9 | 17 | 32 | 613)
            || (80_001..=80_014).contains(&self.error.code)
    }

    /// Graph's own failures, worth retrying.
    pub fn transient(&self) -> bool {
        self.status.is_server_error() || self.error.is_transient || self.error.code == 2
    }

    pub fn reason(&self) -> String {
        self.error
            .error_user_msg
            .clone()
            .filter(|m| !m.trim().is_empty())
            .or_else(|| Some(self.error.message.clone()).filter(|m| !m.trim().is_empty()))
            .unwrap_or_else(|| format!("no reason given (HTTP {})", self.status))
    }

    /// How long to wait: the usage headers' `estimated_time_to_regain_access` (minutes), a
    /// `Retry-After`, or five minutes (an hour for Instagram's daily publishing limit).
    pub fn retry_after(&self) -> Duration {
        if let Some(wait) = regain_access(&self.headers) {
            return wait;
        }
        if let Some(wait) = retry_after_header(&self.headers) {
            return wait;
        }
        if self.error.error_subcode == Some(PUBLISHING_LIMIT_SUBCODE) {
            Duration::from_secs(3600)
        } else {
            Duration::from_secs(300)
        }
    }
}

/// The longest `estimated_time_to_regain_access` (minutes) in Graph's usage headers.
fn regain_access(headers: &HeaderMap) -> Option<Duration> {
    fn longest(value: &Value) -> Option<u64> {
        match value {
            Value::Object(map) => map
                .iter()
                .filter_map(|(k, v)| {
                    if k == "estimated_time_to_regain_access" {
                        v.as_u64()
                    } else {
                        longest(v)
                    }
                })
                .max(),
            Value::Array(items) => items.iter().filter_map(longest).max(),
            _ => None,
        }
    }
    [
        "x-business-use-case-usage",
        "x-app-usage",
        "x-ad-account-usage",
    ]
    .iter()
    .filter_map(|name| headers.get(*name)?.to_str().ok())
    .filter_map(|raw| serde_json::from_str::<Value>(raw).ok())
    .filter_map(|usage| longest(&usage))
    .max()
    .filter(|minutes| *minutes > 0)
    .map(|minutes| Duration::from_secs(minutes.saturating_mul(60)))
}

/// A time as Graph writes it (`2026-12-01T10:00:00+0000`), or in RFC 3339.
pub(super) fn graph_time(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%z")
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(text))
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

/// Why a Graph call failed.
#[derive(Debug)]
pub(super) enum CallError {
    /// No answer (never connected, timed out, dropped).
    Send(reqwest::Error),
    /// An error answer.
    Graph(GraphFailure),
    /// A success whose body could not be read.
    Body(String),
}

/// Sends a Graph call and reads its JSON answer.
pub(super) async fn call<T: DeserializeOwned>(
    request: reqwest::RequestBuilder,
) -> Result<T, CallError> {
    let res = request.send().await.map_err(CallError::Send)?;
    if !res.status().is_success() {
        return Err(CallError::Graph(GraphFailure::read(res).await));
    }
    res.json::<T>()
        .await
        .map_err(|e| CallError::Body(without_url(&e)))
}

/// Sends a Graph call and keeps its answer's text as it came (metrics keep the platform's
/// answers beside the figures read from them); an error answer is read as [`call`] reads it.
pub(super) async fn call_text(request: reqwest::RequestBuilder) -> Result<String, CallError> {
    let res = request.send().await.map_err(CallError::Send)?;
    if !res.status().is_success() {
        return Err(CallError::Graph(GraphFailure::read(res).await));
    }
    res.text()
        .await
        .map_err(|e| CallError::Body(without_url(&e)))
}

/// Where in publishing a call comes, which decides whether a failure may hide a post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stage {
    /// Nothing that could become a post exists yet, and this call does not make one.
    Before,
    /// This call makes the post; an error answer means it did not.
    Creating,
    /// This call makes the post, and even a server error may hide a made post (Instagram's
    /// `media_publish` is known to publish and still answer 500).
    CreatingUnsure,
    /// The post may exist already (a video being processed).
    After,
}

/// How strictly connect-side calls treat a client error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusing {
    /// Any client error (other than a rate limit) is the grant being refused.
    AnyClientError,
    /// Only token errors are; the rest (our client credentials, a bad request) is ours to fix
    /// and must not send accounts to "reconnect".
    OnlyTokenErrors,
}

impl CallError {
    pub fn publish(self, platform: &str, stage: Stage) -> PublishError {
        let may_exist = matches!(stage, Stage::After);
        match self {
            CallError::Send(e) => match stage {
                Stage::Creating | Stage::CreatingUnsure => send_failed(&e),
                Stage::Before | Stage::After => PublishError::Transient {
                    reason: without_url(&e),
                    maybe_published: may_exist,
                },
            },
            CallError::Body(why) => PublishError::Transient {
                reason: format!("{platform}'s answer could not be read: {why}"),
                maybe_published: stage != Stage::Before,
            },
            // Once the post may exist (a video being processed), any failure leaves it unknown:
            // retrying could post twice, so the scheduler reconciles or asks instead.
            CallError::Graph(f) if may_exist => PublishError::Transient {
                reason: format!("{platform} answered {}: {}", f.status, f.reason()),
                maybe_published: true,
            },
            CallError::Graph(f) => {
                if f.token_refused() || f.permission_missing() {
                    PublishError::TokenExpired
                } else if f.rate_limited() {
                    PublishError::RateLimited {
                        retry_after: f.retry_after(),
                    }
                } else if f.transient() {
                    PublishError::Transient {
                        reason: format!("{platform} answered {}: {}", f.status, f.reason()),
                        maybe_published: matches!(stage, Stage::After | Stage::CreatingUnsure),
                    }
                } else if f.error.error_subcode == Some(NOT_READY_SUBCODE) {
                    PublishError::Transient {
                        reason: format!("{platform} was not ready: {}", f.reason()),
                        maybe_published: may_exist,
                    }
                } else {
                    PublishError::InvalidContent { reason: f.reason() }
                }
            }
        }
    }

    /// A failure to look up the post an attempt may have made: an expired token and a rate
    /// limit as for publishing; anything else leaves the question open (the post may exist).
    pub fn lookup(self, platform: &str) -> PublishError {
        let open = |reason: String| PublishError::Transient {
            reason,
            maybe_published: true,
        };
        match self {
            CallError::Send(e) => open(without_url(&e)),
            CallError::Body(why) => open(format!("{platform}'s answer could not be read: {why}")),
            CallError::Graph(f) if f.token_refused() || f.permission_missing() => {
                PublishError::TokenExpired
            }
            CallError::Graph(f) if f.rate_limited() => PublishError::RateLimited {
                retry_after: f.retry_after(),
            },
            CallError::Graph(f) => open(format!(
                "{platform} answered {} to the lookup: {}",
                f.status,
                f.reason()
            )),
        }
    }

    pub fn connect(self, platform: &str, refusing: Refusing) -> ConnectError {
        match self {
            CallError::Send(e) => unavailable(e),
            CallError::Body(why) => {
                ConnectError::Unavailable(format!("{platform}'s answer could not be read: {why}"))
            }
            CallError::Graph(f) => {
                let why = format!("{platform} answered {}: {}", f.status, f.reason());
                let refused = match refusing {
                    _ if f.rate_limited() || f.transient() => false,
                    Refusing::AnyClientError => true,
                    // A lost permission (the person's role on the page) needs them too.
                    Refusing::OnlyTokenErrors => f.token_refused() || f.permission_missing(),
                };
                if refused {
                    ConnectError::Refused(why)
                } else {
                    ConnectError::Unavailable(why)
                }
            }
        }
    }

    /// A metrics read's failure. `scope` is the permission the call needs, named when Graph
    /// refuses for want of a permission (the account must then be connected again with it).
    /// An unknown object is a post deleted at the platform; a refused metric or parameter is
    /// ours to fix, not the account's, so it stays a passing failure rather than a reconnection.
    pub fn metrics(self, platform: &str, scope: &str) -> MetricsError {
        match self {
            CallError::Send(e) => MetricsError::Unavailable(without_url(&e)),
            CallError::Body(why) => {
                MetricsError::Unavailable(format!("{platform}'s answer could not be read: {why}"))
            }
            CallError::Graph(f) => {
                if f.token_refused() {
                    MetricsError::TokenExpired
                } else if f.rate_limited() {
                    MetricsError::RateLimited {
                        retry_after: f.retry_after(),
                    }
                } else if f.permission_missing() {
                    MetricsError::MissingPermission(format!(
                        "{platform} needs the {scope} permission ({})",
                        f.reason()
                    ))
                } else if f.unknown_object() {
                    MetricsError::Gone
                } else {
                    MetricsError::Unavailable(format!(
                        "{platform} answered {}: {}",
                        f.status,
                        f.reason()
                    ))
                }
            }
        }
    }

    /// Whether Graph refused a field the node does not have (code 100).
    pub fn invalid_parameter(&self) -> bool {
        matches!(self, CallError::Graph(f) if f.error.code == 100)
    }
}

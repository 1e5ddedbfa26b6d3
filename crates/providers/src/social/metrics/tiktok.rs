//! A TikTok creator's figures, read with the creator's token through the Display API.
//!
//! Posts: `POST /v2/video/query/?fields=id,like_count,comment_count,share_count,view_count` with
//! `{filters:{video_ids:[…]}}` (at most 20 a call, scope `video.list`) gives each of the
//! creator's own videos among those named; a video TikTok no longer has, or that is not the
//! creator's, is simply absent from the answer, and so left out here. Every count is a lifetime
//! total: likes are reactions, and views, comments and shares are themselves.
//!
//! The ids are those publishing stored: the video id TikTok made public
//! (`publicaly_available_post_id`). A private (`SELF_ONLY`) post has no public id, so publishing
//! stored its publish id instead, which no query can look up: such ids are never sent.
//!
//! The account: `GET /v2/user/info/?fields=follower_count,following_count,likes_count,video_count`
//! (scope `user.info.stats`) gives totals as of now: followers, and the likes of all the
//! creator's videos (kept as `tiktok.likes_total`). TikTok has no daily series of an account's
//! figures, so there are no day values.
//!
//! Every answer comes in TikTok's envelope, `{data, error:{code, message, log_id}}`, with
//! `code` "ok" on success.

use super::super::tiktok::TikTok;
use super::super::{AccountRef, retry_after_header, without_url};
use super::{Metrics, MetricsError, MetricsReader, RawAnswer, Reading};
use async_trait::async_trait;
use chrono::{NaiveDate, Utc};
use domain::Platform;
use domain::metrics::{Metric, platform_key};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::time::Duration;

/// What reading videos' counts needs.
const VIDEO_SCOPE: &str = "video.list";
/// What reading the account's totals needs.
const STATS_SCOPE: &str = "user.info.stats";
/// The most videos one query may name.
const BATCH: usize = 20;
/// A video's fields: its id and its counts.
const VIDEO_FIELDS: &str = "id,like_count,comment_count,share_count,view_count";
/// The account's totals.
const USER_FIELDS: &str = "follower_count,following_count,likes_count,video_count";

/// TikTok's envelope. `data` is read only once `error.code` says "ok".
#[derive(Deserialize, Default)]
#[serde(default)]
struct Envelope {
    data: Value,
    error: EnvelopeError,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct EnvelopeError {
    code: String,
    message: String,
}

#[derive(Deserialize)]
struct Videos {
    #[serde(default)]
    videos: Vec<Video>,
}

#[derive(Deserialize)]
struct Video {
    /// A string (TikTok's ids exceed what JavaScript numbers hold); a number is taken too.
    id: Value,
    #[serde(default)]
    like_count: Option<i64>,
    #[serde(default)]
    comment_count: Option<i64>,
    #[serde(default)]
    share_count: Option<i64>,
    #[serde(default)]
    view_count: Option<i64>,
}

#[derive(Deserialize)]
struct UserData {
    user: UserStats,
}

#[derive(Deserialize)]
struct UserStats {
    #[serde(default)]
    follower_count: Option<i64>,
    #[serde(default)]
    likes_count: Option<i64>,
}

/// An id as TikTok wrote it, string or number.
fn id_text(id: &Value) -> Option<String> {
    match id {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// How long to wait after a 429: `Retry-After`, else `x-ratelimit-reset` (a Unix time, or
/// seconds when small), else the minute TikTok's per-minute limits run over.
fn rate_limit_wait(headers: &reqwest::header::HeaderMap) -> Duration {
    if let Some(wait) = retry_after_header(headers) {
        return wait;
    }
    let reset = headers
        .get("x-ratelimit-reset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    let secs = match reset {
        Some(at) if at > 1_000_000_000 => at - Utc::now().timestamp(),
        Some(secs) => secs,
        None => 60,
    };
    Duration::from_secs(u64::try_from(secs.max(1)).unwrap_or(1))
}

/// TikTok's refusal of a metrics call. `scope` is the permission the call needs.
fn refusal(
    status: reqwest::StatusCode,
    error: &EnvelopeError,
    headers: &reqwest::header::HeaderMap,
    scope: &str,
) -> MetricsError {
    match error.code.as_str() {
        "access_token_invalid" => MetricsError::TokenExpired,
        "scope_not_authorized" => MetricsError::MissingPermission(format!(
            "TikTok needs the {scope} permission ({})",
            error.message
        )),
        "rate_limit_exceeded" => MetricsError::RateLimited {
            retry_after: rate_limit_wait(headers),
        },
        _ if status == reqwest::StatusCode::UNAUTHORIZED => MetricsError::TokenExpired,
        _ if status == reqwest::StatusCode::TOO_MANY_REQUESTS => MetricsError::RateLimited {
            retry_after: rate_limit_wait(headers),
        },
        code => MetricsError::Unavailable(format!(
            "TikTok answered {status} {code}: {}",
            error.message
        )),
    }
}

impl TikTok {
    /// One enveloped call with the bearer token, described for its raw answer as `call`:
    /// counted, its answer's text kept in `metrics`, and its `data` read as `T`.
    async fn metrics_call<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
        call: String,
        token: &SecretString,
        scope: &str,
        metrics: &mut Metrics,
    ) -> Result<T, MetricsError> {
        metrics.calls += 1;
        let res = request
            .bearer_auth(token.expose_secret())
            .send()
            .await
            .map_err(|e| MetricsError::Unavailable(without_url(&e)))?;
        let status = res.status();
        let headers = res.headers().clone();
        let body = res
            .text()
            .await
            .map_err(|e| MetricsError::Unavailable(without_url(&e)))?;
        let envelope = serde_json::from_str::<Envelope>(&body);
        metrics.raw.push(RawAnswer { call, body });
        let envelope = match envelope {
            Ok(envelope) => envelope,
            Err(e) if status.is_success() => {
                return Err(MetricsError::Unavailable(format!(
                    "TikTok's answer could not be read: {e}"
                )));
            }
            // An error page rather than an envelope: its status says enough.
            Err(_) => Envelope::default(),
        };
        if !status.is_success() || envelope.error.code != "ok" {
            return Err(refusal(status, &envelope.error, &headers, scope));
        }
        serde_json::from_value(envelope.data).map_err(|e| {
            MetricsError::Unavailable(format!("TikTok's answer could not be read: {e}"))
        })
    }

    /// Up to [`BATCH`] videos' counts, added to `metrics`; the ids TikTok answered for.
    async fn videos(
        &self,
        token: &SecretString,
        ids: &[&str],
        today: NaiveDate,
        metrics: &mut Metrics,
    ) -> Result<HashSet<String>, MetricsError> {
        let path = format!("/v2/video/query/?fields={VIDEO_FIELDS}");
        let request = self
            .http
            .post(format!("{}{path}", self.config.api_base))
            .json(&json!({"filters": {"video_ids": ids}}));
        let answer: Videos = self
            .metrics_call(request, format!("POST {path}"), token, VIDEO_SCOPE, metrics)
            .await?;
        let mut found = HashSet::new();
        for video in answer.videos {
            let Some(id) = id_text(&video.id) else {
                continue;
            };
            // Only what was asked for, and each video once.
            if !ids.contains(&id.as_str()) || found.contains(&id) {
                continue;
            }
            let counts = [
                (Metric::Reactions, video.like_count),
                (Metric::Comments, video.comment_count),
                (Metric::Shares, video.share_count),
                (Metric::Views, video.view_count),
            ];
            for (metric, value) in counts {
                if let Some(value) = value {
                    metrics
                        .readings
                        .push(Reading::lifetime(Some(&id), metric.key(), today, value));
                }
            }
            found.insert(id);
        }
        Ok(found)
    }
}

#[async_trait]
impl MetricsReader for TikTok {
    fn insight_scopes(&self) -> &'static [&'static str] {
        &[STATS_SCOPE, VIDEO_SCOPE]
    }

    fn batch_size(&self) -> usize {
        BATCH
    }

    /// One call: the totals as of now (TikTok keeps no days), whatever the window.
    async fn account(
        &self,
        _account: &AccountRef,
        token: &SecretString,
        _since: NaiveDate,
        _until: NaiveDate,
    ) -> Result<Metrics, MetricsError> {
        let today = Utc::now().date_naive();
        let mut metrics = Metrics::default();
        let path = format!("/v2/user/info/?fields={USER_FIELDS}");
        let request = self.http.get(format!("{}{path}", self.config.api_base));
        let data: UserData = self
            .metrics_call(
                request,
                format!("GET {path}"),
                token,
                STATS_SCOPE,
                &mut metrics,
            )
            .await?;
        if let Some(n) = data.user.follower_count {
            metrics
                .readings
                .push(Reading::lifetime(None, Metric::Followers.key(), today, n));
        }
        if let Some(n) = data.user.likes_count {
            metrics.readings.push(Reading::lifetime(
                None,
                platform_key(Platform::TikTok, "likes_total"),
                today,
                n,
            ));
        }
        Ok(metrics)
    }

    /// One call per [`BATCH`] videos. A video TikTok did not answer for is left out; when none
    /// of those asked about came back, they are all gone.
    async fn posts(
        &self,
        _account: &AccountRef,
        token: &SecretString,
        ids: &[String],
    ) -> Result<Metrics, MetricsError> {
        let today = Utc::now().date_naive();
        let asked = super::numeric_ids(ids);
        let mut metrics = Metrics::default();
        let mut found = 0;
        for batch in asked.chunks(BATCH) {
            found += self.videos(token, batch, today, &mut metrics).await?.len();
        }
        if found == 0 && !asked.is_empty() {
            return Err(MetricsError::Gone);
        }
        Ok(metrics)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_numbers_are_video_ids() {
        assert!(crate::social::metrics::numeric_id("7345678901234567890"));
        assert!(!crate::social::metrics::numeric_id(
            "v_pub_file~v2-1.1000005"
        ));
        assert!(!crate::social::metrics::numeric_id(""));
        assert_eq!(id_text(&json!("73")), Some("73".into()));
        assert_eq!(id_text(&json!(73)), Some("73".into()));
        assert_eq!(id_text(&json!(null)), None);
    }
}

//! A LinkedIn member's figures, read with the member's token and `r_member_postAnalytics`.
//!
//! A post's analytics come one metric per call: `GET /rest/memberCreatorPostAnalytics?q=entity&
//! entity=(share:{urn})&queryType=…&aggregation=TOTAL` (`(ugc:{urn})` for a `ugcPost`, the URN
//! encoded inside the Rest.li union), with the `LinkedIn-Version` and
//! `X-Restli-Protocol-Version: 2.0.0` headers every `/rest` call carries. Five calls per post:
//! `IMPRESSION` (views), `MEMBERS_REACHED` (reach), `RESHARE` (shares), `REACTION` (reactions)
//! and `COMMENT` (comments), each a lifetime total. The answer is a collection,
//! `{elements:[{count, metricType:{"…MetricTypeV1": "IMPRESSION"}}]}`; an empty one gives no
//! figure (LinkedIn does not say that it means zero).
//!
//! The member's account gives nothing: see [`MetricsReader::account`] below.
//!
//! LinkedIn's limits are calls per day, reset at midnight UTC, and its 429 names no wait: unless a
//! `Retry-After` says otherwise, a rate-limited read waits for midnight UTC.

use super::super::linkedin::LinkedIn;
use super::super::{AccountRef, retry_after_header, without_url};
use super::{Metrics, MetricsError, MetricsReader, RawAnswer, Reading};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use domain::metrics::{Metric, Span};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;
use std::time::Duration;

/// What reading a member's post analytics needs.
const ANALYTICS_SCOPE: &str = "r_member_postAnalytics";
/// LinkedIn's query types, each read in its own call, and what each is here.
const QUERIES: [(&str, Metric); 5] = [
    ("IMPRESSION", Metric::Views),
    ("MEMBERS_REACHED", Metric::Reach),
    ("RESHARE", Metric::Shares),
    ("REACTION", Metric::Reactions),
    ("COMMENT", Metric::Comments),
];

#[derive(Deserialize, Default)]
#[serde(default)]
struct Analytics {
    elements: Vec<Element>,
}

#[derive(Deserialize)]
struct Element {
    #[serde(default)]
    count: Option<i64>,
    /// A union, `{"…CreatorPostAnalyticsMetricTypeV1": "IMPRESSION"}` (a plain string taken too).
    #[serde(default, rename = "metricType")]
    metric_type: Value,
}

impl Element {
    fn metric_type(&self) -> Option<&str> {
        match &self.metric_type {
            Value::String(s) => Some(s),
            Value::Object(union) => union.values().find_map(Value::as_str),
            _ => None,
        }
    }
}

/// LinkedIn's error body: `{status, serviceErrorCode, code, message}`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct ErrorBody {
    code: String,
    message: String,
}

/// A post as the `entity` parameter names it: a Rest.li union of its kind and its URN.
struct Entity<'a> {
    /// `share` or `ugc`.
    kind: &'static str,
    urn: &'a str,
}

impl<'a> Entity<'a> {
    /// The post `urn`; none for a URN that is not a post (a share or a ugcPost).
    fn of(urn: &'a str) -> Option<Self> {
        let kind = if urn.starts_with("urn:li:share:") {
            "share"
        } else if urn.starts_with("urn:li:ugcPost:") {
            "ugc"
        } else {
            return None;
        };
        Some(Self { kind, urn })
    }

    /// As sent: the union's parentheses and colon are Rest.li syntax, left as they are, while
    /// the URN inside it is encoded.
    fn param(&self) -> String {
        let encoded: String = form_urlencoded::byte_serialize(self.urn.as_bytes()).collect();
        format!("({}:{encoded})", self.kind)
    }

    /// As a person reads it, for the description of a call.
    fn readable(&self) -> String {
        format!("({}:{})", self.kind, self.urn)
    }
}

/// The next midnight UTC after `now`, when LinkedIn's daily limits start again.
fn until_midnight(now: DateTime<Utc>) -> Duration {
    let tomorrow = now.date_naive().succ_opt().unwrap_or(now.date_naive());
    let midnight = tomorrow.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let secs = (midnight - now).num_seconds().max(1);
    Duration::from_secs(u64::try_from(secs).unwrap_or(1))
}

/// LinkedIn's refusal of an analytics call. A post it does not have (any more) is gone.
fn refusal(
    status: reqwest::StatusCode,
    headers: &reqwest::header::HeaderMap,
    body: &str,
    version: &str,
) -> MetricsError {
    let error: ErrorBody = serde_json::from_str(body).unwrap_or_default();
    let message = if error.message.is_empty() {
        error.code.clone()
    } else {
        error.message
    };
    match status.as_u16() {
        401 => MetricsError::TokenExpired,
        403 => MetricsError::MissingPermission(format!(
            "LinkedIn needs the {ANALYTICS_SCOPE} permission ({message})"
        )),
        404 => MetricsError::Gone,
        429 => MetricsError::RateLimited {
            retry_after: retry_after_header(headers).unwrap_or_else(|| until_midnight(Utc::now())),
        },
        426 => MetricsError::Unavailable(format!(
            "LinkedIn no longer serves API version {version} ({message}); set the LinkedIn API \
             version setting (LinkedIn-Version) to a current month"
        )),
        _ => MetricsError::Unavailable(format!("LinkedIn answered {status}: {message}")),
    }
}

impl LinkedIn {
    /// One metric of the post `entity`: its count, if LinkedIn gave one. The call is counted
    /// and its answer kept in `metrics`.
    async fn post_metric(
        &self,
        token: &SecretString,
        entity: &Entity<'_>,
        query_type: &str,
        metrics: &mut Metrics,
    ) -> Result<Option<i64>, MetricsError> {
        metrics.calls += 1;
        let query = |entity: String| {
            format!("q=entity&entity={entity}&queryType={query_type}&aggregation=TOTAL")
        };
        let res = self
            .http
            .get(format!(
                "{}/rest/memberCreatorPostAnalytics?{}",
                self.config.api_base,
                query(entity.param())
            ))
            .bearer_auth(token.expose_secret())
            .header("LinkedIn-Version", &self.config.version)
            .header("X-Restli-Protocol-Version", "2.0.0")
            .send()
            .await
            .map_err(|e| MetricsError::Unavailable(without_url(&e)))?;
        let status = res.status();
        let headers = res.headers().clone();
        let body = res
            .text()
            .await
            .map_err(|e| MetricsError::Unavailable(without_url(&e)))?;
        let read = if status.is_success() {
            serde_json::from_str::<Analytics>(&body).map_err(|e| {
                MetricsError::Unavailable(format!("LinkedIn's answer could not be read: {e}"))
            })
        } else {
            Err(refusal(status, &headers, &body, &self.config.version))
        };
        metrics.raw.push(RawAnswer {
            call: format!(
                "GET /rest/memberCreatorPostAnalytics?{}",
                query(entity.readable())
            ),
            body,
        });
        // A TOTAL is one element; one of another metric type is not this one.
        Ok(read?
            .elements
            .iter()
            .find(|e| e.metric_type().is_none_or(|t| t == query_type))
            .and_then(|e| e.count))
    }
}

#[async_trait]
impl MetricsReader for LinkedIn {
    fn insight_scopes(&self) -> &'static [&'static str] {
        &[ANALYTICS_SCOPE]
    }

    /// Nothing, and no call. A member's follower count is not offered under
    /// `r_member_postAnalytics`: LinkedIn's `memberFollowersCount` needs a further restricted
    /// permission (`r_member_profileAnalytics`) that the product does not ask for, and the
    /// member's profile (`openid profile`) carries no figures. What the permission does give
    /// for the whole account, the `me` finder's day totals of all the member's posts, is the
    /// sum of the posts' own figures (read post by post above), at five calls a read.
    async fn account(
        &self,
        _account: &AccountRef,
        _token: &SecretString,
        _since: NaiveDate,
        _until: NaiveDate,
    ) -> Result<Metrics, MetricsError> {
        Ok(Metrics::default())
    }

    /// Five calls per post (one per metric). A post LinkedIn does not have is left out after
    /// its first call; when none of those asked about is there, they are all gone.
    async fn posts(
        &self,
        _account: &AccountRef,
        token: &SecretString,
        ids: &[String],
    ) -> Result<Metrics, MetricsError> {
        let today = Utc::now().date_naive();
        let mut metrics = Metrics::default();
        let mut asked = 0;
        let mut read = 0;
        for urn in ids {
            let Some(entity) = Entity::of(urn) else {
                continue;
            };
            asked += 1;
            let mut readings = Vec::with_capacity(QUERIES.len());
            let mut gone = false;
            for (query_type, metric) in QUERIES {
                match self
                    .post_metric(token, &entity, query_type, &mut metrics)
                    .await
                {
                    Ok(Some(value)) => readings.push(Reading {
                        post_id: Some(urn.clone()),
                        metric: metric.key().to_owned(),
                        span: Span::Lifetime,
                        day: today,
                        value,
                    }),
                    Ok(None) => {}
                    Err(MetricsError::Gone) => {
                        gone = true;
                        break;
                    }
                    Err(e) => return Err(e),
                }
            }
            if !gone {
                read += 1;
                metrics.readings.extend(readings);
            }
        }
        if read == 0 && asked > 0 {
            return Err(MetricsError::Gone);
        }
        Ok(metrics)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_post_is_named_by_a_union_of_its_kind() {
        let param = |urn| Entity::of(urn).map(|e| e.param());
        assert_eq!(
            param("urn:li:share:7").as_deref(),
            Some("(share:urn%3Ali%3Ashare%3A7)")
        );
        assert_eq!(
            param("urn:li:ugcPost:7").as_deref(),
            Some("(ugc:urn%3Ali%3AugcPost%3A7)")
        );
        assert!(param("urn:li:person:7").is_none());
        assert_eq!(
            Entity::of("urn:li:share:7")
                .map(|e| e.readable())
                .as_deref(),
            Some("(share:urn:li:share:7)")
        );
    }

    #[test]
    fn a_rate_limit_lasts_until_midnight_utc() {
        let at = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&Utc))
                .ok()
        };
        let Some(evening) = at("2026-12-01T23:00:00Z") else {
            panic!("a time");
        };
        assert_eq!(until_midnight(evening), Duration::from_secs(3600));
    }
}

//! A Facebook Page's metrics, read with the page's token and `read_insights`.
//!
//! The page's days come from `GET /{page-id}/insights?period=day&since&until&metric=…`: reach
//! (`page_total_media_view_unique`), views (`page_media_view`), engagement
//! (`page_post_engagements`) and new followers (`page_daily_follows`). Graph gives each day's
//! value with the `end_time` that closes the day (midnight of the next day, Pacific time), so a
//! value belongs to the day before the date written in its `end_time`. `since` and `until` are
//! dates and `until` is not part of the window, so a read of days `a..=b` asks `since=a` and
//! `until=b+1`; a window holds at most 90 days, and longer reads are cut into several. Views may
//! come split into paid and organic entries (`is_from_ads`): entries of one metric with the same
//! `end_time` are added. The page's followers now come from the page's `followers_count`.
//!
//! A post takes two calls: `GET /{post-id}/insights` for its reach, its reactions by type and
//! its clicks, and `GET /{post-id}?fields=…` for its comment and share counts (a post never
//! shared has no `shares`: none). Its reactions are the sum of the by-type object, each type also
//! kept as `facebook.reactions.<type>`; the node's own reaction count is used only when the
//! insight is missing, never as well. Every post figure is a lifetime total.
//!
//! Metrics Meta removed (`page_fans`, every `*impressions*` metric) are never asked for: Graph
//! refuses the whole call when one of them is in it.
//!
//! The insights answer's shape is shared with Instagram's reader, which reads it from here.

use super::super::AccountRef;
use super::super::facebook::Facebook;
use super::super::graph::{CallError, call_text};
use super::{Metrics, MetricsError, MetricsReader, RawAnswer, Reading};
use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::Platform;
use domain::metrics::{Metric, platform_key};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::BTreeMap;

/// What reading a page's insights needs beyond publishing.
const INSIGHTS_SCOPE: &str = "read_insights";
/// What reading a post's comment and share counts needs (a publishing permission).
const COUNTS_SCOPE: &str = "pages_read_engagement";
/// The page's daily metrics, in one call.
const PAGE_METRICS: &str =
    "page_total_media_view_unique,page_media_view,page_post_engagements,page_daily_follows";
/// A post's lifetime insights, in one call.
const POST_METRICS: &str = "post_total_media_view_unique,post_reactions_by_type_total,post_clicks";
/// A post's counts: the summaries alone (`limit(0)` leaves the reactions and comments out).
const POST_COUNTS: &str =
    "reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0),shares";
/// The most days one page insights call may span.
const WINDOW_DAYS: i64 = 90;

// ---------------------------------------------------------------------------------------------
// Graph's insights answer, as Facebook and Instagram both give it.

/// `{data: [...], paging}`: one entry per metric asked for that has figures.
#[derive(Deserialize)]
pub(super) struct Insights {
    #[serde(default)]
    pub data: Vec<Insight>,
}

/// One metric: a series of `values` (a day's each, or a lifetime total's one), or, asked with
/// `metric_type=total_value`, one `total_value` over the whole window.
#[derive(Deserialize)]
pub(super) struct Insight {
    pub name: String,
    #[serde(default)]
    pub period: Option<String>,
    #[serde(default)]
    pub values: Vec<InsightValue>,
    #[serde(default)]
    pub total_value: Option<TotalValue>,
}

#[derive(Deserialize)]
pub(super) struct InsightValue {
    /// A number, or an object for metrics given by type (reactions).
    #[serde(default)]
    pub value: Value,
    /// For a day's value, the end of that day.
    #[serde(default)]
    pub end_time: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct TotalValue {
    #[serde(default)]
    pub value: Value,
}

impl Insight {
    /// The metric's lifetime total: `total_value` in newer answers, else its (last) value.
    pub fn lifetime_value(&self) -> Option<&Value> {
        match &self.total_value {
            Some(total) => Some(&total.value),
            None => self.values.last().map(|v| &v.value),
        }
    }
}

/// A count as Graph writes it: a number (sometimes with a fraction), or a number in a string.
pub(super) fn count(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f.round() as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The day a daily value with this `end_time` belongs to: the day before the date written in it
/// (`2026-10-06T07:00:00+0000` closes October 5th, Pacific time).
pub(super) fn day_ended_by(end_time: &str) -> Option<NaiveDate> {
    let at = DateTime::parse_from_str(end_time, "%Y-%m-%dT%H:%M:%S%z")
        .or_else(|_| DateTime::parse_from_rfc3339(end_time))
        .ok()?;
    at.date_naive().pred_opt()
}

/// A call's description for its raw answer: the path and its query, unencoded for a reader
/// (there is never a token in it: tokens go in the `Authorization` header).
fn call_label(path: &str, query: &[(&str, &str)]) -> String {
    let query: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    if query.is_empty() {
        format!("GET {path}")
    } else {
        format!("GET {path}?{}", query.join("&"))
    }
}

/// A Graph `GET` of `path` under `base` (`{graph host}/{version}`) with the bearer `token`:
/// counted, its answer's text kept in `metrics`, and read as `T`.
pub(super) async fn graph_read<T: DeserializeOwned>(
    http: &reqwest::Client,
    base: &str,
    token: &SecretString,
    path: &str,
    query: &[(&str, &str)],
    metrics: &mut Metrics,
) -> Result<T, CallError> {
    metrics.calls += 1;
    let url = super::super::with_query(&format!("{base}{path}"), query);
    let body = call_text(http.get(url).bearer_auth(token.expose_secret())).await?;
    let read = serde_json::from_str(&body).map_err(|e| CallError::Body(e.to_string()));
    metrics.raw.push(RawAnswer {
        call: call_label(path, query),
        body,
    });
    read
}

/// A node's `followers_count`.
#[derive(Deserialize)]
struct Followers {
    #[serde(default)]
    followers_count: Option<Value>,
}

/// Reads the `followers_count` of the page or account `node` into `metrics` as today's lifetime
/// followers (Facebook Pages and Instagram accounts answer it alike).
pub(super) async fn read_followers(
    http: &reqwest::Client,
    base: &str,
    token: &SecretString,
    node: &str,
    today: NaiveDate,
    metrics: &mut Metrics,
) -> Result<(), CallError> {
    let read: Followers = graph_read(
        http,
        base,
        token,
        &format!("/{node}"),
        &[("fields", "followers_count")],
        metrics,
    )
    .await?;
    if let Some(n) = read.followers_count.as_ref().and_then(count) {
        metrics
            .readings
            .push(Reading::lifetime(None, Metric::Followers.key(), today, n));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Facebook's own answers.

/// A post's node with its counts.
#[derive(Deserialize)]
struct PostCounts {
    #[serde(default)]
    reactions: Option<Summarised>,
    #[serde(default)]
    comments: Option<Summarised>,
    /// Absent for a post nobody shared.
    #[serde(default)]
    shares: Option<Shares>,
}

#[derive(Deserialize)]
struct Summarised {
    #[serde(default)]
    summary: Option<Summary>,
}

impl Summarised {
    fn total(&self) -> Option<i64> {
        self.summary.as_ref()?.total_count.as_ref().and_then(count)
    }
}

#[derive(Deserialize)]
struct Summary {
    #[serde(default)]
    total_count: Option<Value>,
}

#[derive(Deserialize)]
struct Shares {
    #[serde(default)]
    count: Option<Value>,
}

/// The normalised metric of a page's daily insight.
fn page_metric(name: &str) -> Option<Metric> {
    match name {
        "page_total_media_view_unique" => Some(Metric::Reach),
        "page_media_view" => Some(Metric::Views),
        "page_post_engagements" => Some(Metric::Engagement),
        "page_daily_follows" => Some(Metric::Follows),
        _ => None,
    }
}

impl Facebook {
    fn insights_base(&self) -> String {
        format!("{}/{}", self.config.graph_base, self.config.version)
    }

    /// The page's daily values for the days `first..=last` (at most [`WINDOW_DAYS`]), in one
    /// call.
    async fn page_window(
        &self,
        page: &str,
        token: &SecretString,
        first: NaiveDate,
        last: NaiveDate,
        metrics: &mut Metrics,
    ) -> Result<(), MetricsError> {
        let since = first.to_string();
        let until = (last + Duration::days(1)).to_string();
        let insights: Insights = graph_read(
            &self.http,
            &self.insights_base(),
            token,
            &format!("/{page}/insights"),
            &[
                ("period", "day"),
                ("since", &since),
                ("until", &until),
                ("metric", PAGE_METRICS),
            ],
            metrics,
        )
        .await
        .map_err(|e| e.metrics("Facebook", INSIGHTS_SCOPE))?;
        // Entries of one metric for one day are parts of it (paid and organic views): added.
        let mut days: BTreeMap<(Metric, NaiveDate), i64> = BTreeMap::new();
        for insight in &insights.data {
            if insight.period.as_deref().is_some_and(|p| p != "day") {
                continue;
            }
            let Some(metric) = page_metric(&insight.name) else {
                continue;
            };
            for entry in &insight.values {
                let day = entry.end_time.as_deref().and_then(day_ended_by);
                let (Some(day), Some(value)) = (day, count(&entry.value)) else {
                    continue;
                };
                if (first..=last).contains(&day) {
                    *days.entry((metric, day)).or_default() += value;
                }
            }
        }
        metrics.readings.extend(
            days.into_iter()
                .map(|((metric, day), value)| Reading::day(metric.key(), day, value)),
        );
        Ok(())
    }

    /// One post's lifetime figures, added to `metrics`.
    async fn post(
        &self,
        token: &SecretString,
        id: &str,
        today: NaiveDate,
        metrics: &mut Metrics,
    ) -> Result<(), MetricsError> {
        let base = self.insights_base();
        let insights: Insights = graph_read(
            &self.http,
            &base,
            token,
            &format!("/{id}/insights"),
            &[("metric", POST_METRICS)],
            metrics,
        )
        .await
        .map_err(|e| e.metrics("Facebook", INSIGHTS_SCOPE))?;
        let counts: PostCounts = graph_read(
            &self.http,
            &base,
            token,
            &format!("/{id}"),
            &[("fields", POST_COUNTS)],
            metrics,
        )
        .await
        .map_err(|e| e.metrics("Facebook", COUNTS_SCOPE))?;

        let read = |metric: &str, value: i64| Reading::lifetime(Some(id), metric, today, value);
        let mut reactions = None;
        for insight in &insights.data {
            let Some(value) = insight.lifetime_value() else {
                continue;
            };
            match insight.name.as_str() {
                "post_total_media_view_unique" => {
                    if let Some(n) = count(value) {
                        metrics.readings.push(read(Metric::Reach.key(), n));
                    }
                }
                "post_clicks" => {
                    if let Some(n) = count(value) {
                        metrics.readings.push(read(Metric::Clicks.key(), n));
                    }
                }
                "post_reactions_by_type_total" => {
                    // `{like: 3, love: 1}`; a type nobody used is left out by Graph.
                    let mut sum = 0;
                    if let Value::Object(types) = value {
                        for (kind, n) in types {
                            let Some(n) = count(n) else { continue };
                            sum += n;
                            let key =
                                platform_key(Platform::Facebook, &format!("reactions.{kind}"));
                            metrics.readings.push(read(&key, n));
                        }
                    }
                    reactions = Some(sum);
                }
                _ => {}
            }
        }
        let reactions = reactions.or_else(|| counts.reactions.as_ref().and_then(Summarised::total));
        if let Some(n) = reactions {
            metrics.readings.push(read(Metric::Reactions.key(), n));
        }
        if let Some(n) = counts.comments.as_ref().and_then(Summarised::total) {
            metrics.readings.push(read(Metric::Comments.key(), n));
        }
        let shares = counts
            .shares
            .and_then(|s| s.count.as_ref().and_then(count))
            .unwrap_or(0);
        metrics.readings.push(read(Metric::Shares.key(), shares));
        Ok(())
    }
}

#[async_trait]
impl MetricsReader for Facebook {
    fn insight_scopes(&self) -> &'static [&'static str] {
        &[INSIGHTS_SCOPE]
    }

    async fn account(
        &self,
        account: &AccountRef,
        token: &SecretString,
        since: NaiveDate,
        until: NaiveDate,
    ) -> Result<Metrics, MetricsError> {
        let page = account.external_id.as_str();
        let mut metrics = Metrics::default();
        let mut first = since;
        while first <= until {
            let last = (first + Duration::days(WINDOW_DAYS - 1)).min(until);
            self.page_window(page, token, first, last, &mut metrics)
                .await?;
            first = last + Duration::days(1);
        }
        let today = Utc::now().date_naive();
        read_followers(
            &self.http,
            &self.insights_base(),
            token,
            page,
            today,
            &mut metrics,
        )
        .await
        .map_err(|e| e.metrics("Facebook", INSIGHTS_SCOPE))?;
        Ok(metrics)
    }

    /// Each post on its own (two calls each); a post Facebook no longer has is left out.
    async fn posts(
        &self,
        _account: &AccountRef,
        token: &SecretString,
        ids: &[String],
    ) -> Result<Metrics, MetricsError> {
        let today = Utc::now().date_naive();
        super::each_alone(ids, |id| async move {
            let mut one = Metrics::default();
            let ended = self.post(token, id, today, &mut one).await;
            (one, ended)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_daily_value_belongs_to_the_day_its_end_time_closes() {
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        assert_eq!(day_ended_by("2026-10-06T07:00:00+0000"), day("2026-10-05"));
        assert_eq!(day_ended_by("2026-12-02T08:00:00+0000"), day("2026-12-01"));
        assert_eq!(day_ended_by("2026-12-02T00:00:00-08:00"), day("2026-12-01"));
        assert_eq!(day_ended_by("yesterday"), None);
    }

    #[test]
    fn counts_come_as_numbers_or_text() {
        assert_eq!(count(&serde_json::json!(12)), Some(12));
        assert_eq!(count(&serde_json::json!(12.6)), Some(13));
        assert_eq!(count(&serde_json::json!("7")), Some(7));
        assert_eq!(count(&serde_json::json!({"like": 1})), None);
    }
}

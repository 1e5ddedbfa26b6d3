//! An Instagram professional account's metrics, read with its token and
//! `instagram_business_manage_insights`.
//!
//! Instagram gives most account metrics only as a `total_value` over a window
//! (`metric_type=total_value`), never day by day. So each day is read on its own: one call per
//! day with `since` and `until` at that day's midnights (UTC), whose totals are that day's
//! values. A total over several days is never split, nor added to daily values: that would
//! count the same interactions twice. Views, reach, total interactions (engagement), likes
//! (reactions), comments, shares and saves are mapped into the normalised set; accounts engaged,
//! replies and profile link taps are kept as Instagram's own.
//!
//! New followers come as a daily series (`follower_count`, `period=day`, its `end_time` closing
//! each day), only for the last 30 days and only for accounts with at least 100 followers:
//! below that Instagram leaves the metric out, and there is nothing to read. The followers now
//! come from the account's `followers_count`.
//!
//! A post's figures are lifetime totals from `GET /{media-id}/insights` (each as `values` or, in
//! newer answers, `total_value`). `impressions` and `plays` are gone from the API and are never
//! asked for.

use super::super::AccountRef;
use super::super::instagram::Instagram;
use super::facebook::{Insights, count, day_ended_by, graph_read, read_followers};
use super::{Metrics, MetricsError, MetricsReader, Reading};
use async_trait::async_trait;
use chrono::{Duration, NaiveDate, Utc};
use domain::Platform;
use domain::metrics::{Metric, platform_key};
use secrecy::SecretString;

/// What reading insights needs beyond publishing (Instagram Login's name for it).
const INSIGHTS_SCOPE: &str = "instagram_business_manage_insights";
/// The account's metrics of one day, each answered as a total over that day.
const DAY_METRICS: &str = "views,reach,accounts_engaged,total_interactions,likes,comments,shares,\
                           saves,replies,profile_links_taps";
/// A post's lifetime metrics.
const MEDIA_METRICS: &str = "views,reach,saved,likes,comments,shares,total_interactions";
/// How far back new followers are asked for: Instagram keeps them 30 days, counted by its own
/// clock and excluding the current day; two days less stays clear of that edge.
const FOLLOWER_DAYS: i64 = 28;

/// Where an account metric goes: a normalised key, or Instagram's own.
fn account_key(name: &str) -> Option<String> {
    let metric = match name {
        "views" => Metric::Views,
        "reach" => Metric::Reach,
        "total_interactions" => Metric::Engagement,
        "likes" => Metric::Reactions,
        "comments" => Metric::Comments,
        "shares" => Metric::Shares,
        "saves" => Metric::Saves,
        "accounts_engaged" | "replies" | "profile_links_taps" => {
            return Some(platform_key(Platform::Instagram, name));
        }
        _ => return None,
    };
    Some(metric.key().to_owned())
}

/// Where a post's metric goes.
fn media_metric(name: &str) -> Option<Metric> {
    match name {
        "views" => Some(Metric::Views),
        "reach" => Some(Metric::Reach),
        "saved" => Some(Metric::Saves),
        "likes" => Some(Metric::Reactions),
        "comments" => Some(Metric::Comments),
        "shares" => Some(Metric::Shares),
        "total_interactions" => Some(Metric::Engagement),
        _ => None,
    }
}

/// Midnight (UTC) at the start of `day`, in Unix seconds, as Instagram takes `since`/`until`.
fn midnight(day: NaiveDate) -> String {
    day.and_time(chrono::NaiveTime::MIN)
        .and_utc()
        .timestamp()
        .to_string()
}

impl Instagram {
    fn insights_base(&self) -> String {
        format!("{}/{}", self.config.graph_base, self.config.version)
    }

    /// The account's totals over `day`: that day's values.
    async fn day(
        &self,
        user: &str,
        token: &SecretString,
        day: NaiveDate,
        metrics: &mut Metrics,
    ) -> Result<(), MetricsError> {
        let since = midnight(day);
        let until = midnight(day + Duration::days(1));
        let insights: Insights = graph_read(
            &self.http,
            &self.insights_base(),
            token,
            &format!("/{user}/insights"),
            &[
                ("period", "day"),
                ("metric_type", "total_value"),
                ("since", &since),
                ("until", &until),
                ("metric", DAY_METRICS),
            ],
            metrics,
        )
        .await
        .map_err(|e| e.metrics("Instagram", INSIGHTS_SCOPE))?;
        for insight in &insights.data {
            // Only a total over the one day asked for is that day's value.
            let Some(total) = &insight.total_value else {
                continue;
            };
            let (Some(key), Some(value)) = (account_key(&insight.name), count(&total.value)) else {
                continue;
            };
            metrics.readings.push(Reading::day(key, day, value));
        }
        Ok(())
    }

    /// New followers on each day of `first..=last`, where Instagram gives them.
    async fn follows(
        &self,
        user: &str,
        token: &SecretString,
        first: NaiveDate,
        last: NaiveDate,
        metrics: &mut Metrics,
    ) -> Result<(), MetricsError> {
        let since = midnight(first);
        let until = midnight(last + Duration::days(1));
        let insights: Insights = graph_read(
            &self.http,
            &self.insights_base(),
            token,
            &format!("/{user}/insights"),
            &[
                ("period", "day"),
                ("since", &since),
                ("until", &until),
                ("metric", "follower_count"),
            ],
            metrics,
        )
        .await
        .map_err(|e| e.metrics("Instagram", INSIGHTS_SCOPE))?;
        let series = insights
            .data
            .iter()
            .filter(|i| i.name == "follower_count")
            .flat_map(|i| &i.values);
        for entry in series {
            let day = entry.end_time.as_deref().and_then(day_ended_by);
            let (Some(day), Some(value)) = (day, count(&entry.value)) else {
                continue;
            };
            if (first..=last).contains(&day) {
                metrics
                    .readings
                    .push(Reading::day(Metric::Follows.key(), day, value));
            }
        }
        Ok(())
    }

    /// One post's lifetime figures, added to `metrics`.
    async fn media(
        &self,
        token: &SecretString,
        id: &str,
        today: NaiveDate,
        metrics: &mut Metrics,
    ) -> Result<(), MetricsError> {
        let insights: Insights = graph_read(
            &self.http,
            &self.insights_base(),
            token,
            &format!("/{id}/insights"),
            &[("metric", MEDIA_METRICS)],
            metrics,
        )
        .await
        .map_err(|e| e.metrics("Instagram", INSIGHTS_SCOPE))?;
        for insight in &insights.data {
            let Some(metric) = media_metric(&insight.name) else {
                continue;
            };
            if let Some(value) = insight.lifetime_value().and_then(count) {
                metrics
                    .readings
                    .push(Reading::lifetime(Some(id), metric.key(), today, value));
            }
        }
        Ok(())
    }
}

#[async_trait]
impl MetricsReader for Instagram {
    fn insight_scopes(&self) -> &'static [&'static str] {
        &[INSIGHTS_SCOPE]
    }

    /// One call per day up to today (a day not yet begun has nothing), one for the new
    /// followers of the days Instagram keeps them, and one for the followers now.
    async fn account(
        &self,
        account: &AccountRef,
        token: &SecretString,
        since: NaiveDate,
        until: NaiveDate,
    ) -> Result<Metrics, MetricsError> {
        let user = account.external_id.as_str();
        let today = Utc::now().date_naive();
        let last = until.min(today);
        let mut metrics = Metrics::default();
        let mut day = since;
        while day <= last {
            self.day(user, token, day, &mut metrics).await?;
            day += Duration::days(1);
        }
        let first = since.max(today - Duration::days(FOLLOWER_DAYS - 1));
        if first <= last {
            self.follows(user, token, first, last, &mut metrics).await?;
        }
        read_followers(
            &self.http,
            &self.insights_base(),
            token,
            user,
            today,
            &mut metrics,
        )
        .await
        .map_err(|e| e.metrics("Instagram", INSIGHTS_SCOPE))?;
        Ok(metrics)
    }

    /// Each post on its own; a post Instagram no longer has is left out.
    async fn posts(
        &self,
        _account: &AccountRef,
        token: &SecretString,
        ids: &[String],
    ) -> Result<Metrics, MetricsError> {
        let today = Utc::now().date_naive();
        super::each_alone(ids, |id| async move {
            let mut one = Metrics::default();
            let ended = self.media(token, id, today, &mut one).await;
            (one, ended)
        })
        .await
    }
}

//! Reading metrics back from the platforms: one trait each platform's adapter implements, what
//! it answers (values mapped into the normalised set of [`domain::metrics::Metric`] or kept as
//! the platform's own, each a day's value or a lifetime total, and the raw answers), and the
//! failures it maps into.
//!
//! Each platform's implementation is in its own file here; the calls themselves (Graph's error
//! mapping, OAuth bearer headers) are the publishing side's.

mod facebook;
mod instagram;
mod linkedin;
mod tiktok;
mod x;

use super::{AccountRef, Registry};
use async_trait::async_trait;
use chrono::NaiveDate;
use domain::metrics::Span;
use secrecy::SecretString;
use std::time::Duration;

/// One figure read from a platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    /// The post at the platform, or none for a figure of the account.
    pub post_id: Option<String>,
    /// A normalised key (`views`) or the platform's own (`x.quotes`).
    pub metric: String,
    pub span: Span,
    /// For a day's value, its day (in UTC, as the platforms report them); for a lifetime total,
    /// the day it was read.
    pub day: NaiveDate,
    pub value: i64,
}

impl Reading {
    /// An account's value of `metric` for `day`.
    pub fn day(metric: impl Into<String>, day: NaiveDate, value: i64) -> Self {
        Self {
            post_id: None,
            metric: metric.into(),
            span: Span::Day,
            day,
            value,
        }
    }

    /// A lifetime total of the post `post_id` (or of the account), read on `day`.
    pub fn lifetime(
        post_id: Option<&str>,
        metric: impl Into<String>,
        day: NaiveDate,
        value: i64,
    ) -> Self {
        Self {
            post_id: post_id.map(str::to_owned),
            metric: metric.into(),
            span: Span::Lifetime,
            day,
            value,
        }
    }
}

/// Whether `id` can be a post id on a platform whose ids are numbers (X, TikTok): anything else
/// is not sent, since one bad id refuses a whole batched look-up.
pub(super) fn numeric_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())
}

/// Reads each of `ids` on its own with `read_one` (what it read, with the calls it made, and how
/// it ended); a post the platform no longer has is left out (its calls still count), and when
/// none of them is left, they are all gone.
pub(super) async fn each_alone<'a, F, Fut>(
    ids: &'a [String],
    read_one: F,
) -> Result<Metrics, MetricsError>
where
    F: Fn(&'a str) -> Fut,
    Fut: std::future::Future<Output = (Metrics, Result<(), MetricsError>)>,
{
    let mut metrics = Metrics::default();
    let mut read = 0;
    for id in ids {
        let (one, ended) = read_one(id).await;
        match ended {
            Ok(()) => {
                metrics.extend(one);
                read += 1;
            }
            Err(MetricsError::Gone) => metrics.calls += one.calls,
            Err(e) => return Err(e),
        }
    }
    if read == 0 && !ids.is_empty() {
        return Err(MetricsError::Gone);
    }
    Ok(metrics)
}

/// The ids of `ids` that can be post ids on a platform whose ids are numbers.
pub(super) fn numeric_ids(ids: &[String]) -> Vec<&str> {
    ids.iter()
        .map(String::as_str)
        .filter(|id| numeric_id(id))
        .collect()
}

/// An answer as the platform gave it, kept beside the figures read from it (tokens are never
/// part of it: they travel in headers, or are removed from the address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawAnswer {
    /// Which call: `GET /{page}/insights`.
    pub call: String,
    pub body: String,
}

/// What one read gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metrics {
    pub readings: Vec<Reading>,
    pub raw: Vec<RawAnswer>,
    /// Calls made (for a read budget such as X's, and the ingestion benchmark).
    pub calls: u32,
}

impl Metrics {
    pub fn extend(&mut self, other: Metrics) {
        self.readings.extend(other.readings);
        self.raw.extend(other.raw);
        self.calls += other.calls;
    }
}

/// Why metrics could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetricsError {
    /// The token is no longer accepted: renew it or ask for a reconnection.
    #[error("the platform no longer accepts this account's authorisation")]
    TokenExpired,
    /// The account was connected without the permission reading metrics needs: it must be
    /// connected again (the reason says which permission).
    #[error("the account must be connected again to read its metrics: {0}")]
    MissingPermission(String),
    #[error("the platform's rate limit was reached")]
    RateLimited { retry_after: Duration },
    /// A post the platform no longer has (deleted there).
    #[error("the post is gone at the platform")]
    Gone,
    /// A failure that may pass.
    #[error("the platform could not be read: {0}")]
    Unavailable(String),
}

/// Reads an account's and its posts' figures from one platform.
#[async_trait]
pub trait MetricsReader: Send + Sync {
    /// The permissions reading metrics needs beyond publishing's; asked only when a workspace
    /// turns analytics on.
    fn insight_scopes(&self) -> &'static [&'static str];

    /// How many posts one call can look up (X 100, TikTok 20; one elsewhere).
    fn batch_size(&self) -> usize {
        1
    }

    /// The account's figures: its daily values for each day from `since` to `until`
    /// (inclusive) where the platform has them, and its lifetime totals now (followers).
    async fn account(
        &self,
        account: &AccountRef,
        token: &SecretString,
        since: NaiveDate,
        until: NaiveDate,
    ) -> Result<Metrics, MetricsError>;

    /// The lifetime totals of the posts `ids` (at most [`MetricsReader::batch_size`]) as of now.
    /// A post the platform no longer has is left out (or, alone, [`MetricsError::Gone`]).
    async fn posts(
        &self,
        account: &AccountRef,
        token: &SecretString,
        ids: &[String],
    ) -> Result<Metrics, MetricsError>;
}

/// The metrics reader of each platform that is configured.
pub type MetricsReaders = Registry<dyn MetricsReader>;

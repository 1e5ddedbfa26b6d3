//! An X account's figures, read with the user's token and the scopes publishing already has
//! (`tweet.read users.read`).
//!
//! X bills every read (a post read, and a read of the account's own data, each cost money), so
//! the reads are as few as X allows: posts are looked up up to 100 at a time in one call,
//! `GET /2/tweets?ids=…&tweet.fields=public_metrics`, and the account in one,
//! `GET /2/users/me?user.fields=public_metrics`.
//!
//! A lookup answers 200 even when some posts are missing: those it has in `data`, each missing
//! one (deleted, or of a suspended or protected account) as an entry of `errors`; with none
//! found, `errors` alone. A missing post is left out. Each post's `public_metrics` are lifetime
//! totals: impressions are views, likes reactions, replies comments, reposts shares, bookmarks
//! saves, and quotes are kept as X's own `x.quotes`.
//!
//! The account's `public_metrics.followers_count` is its followers now; X keeps no daily
//! series of an account's figures.

use super::super::x::X;
use super::super::{AccountRef, with_query, without_url};
use super::{Metrics, MetricsError, MetricsReader, RawAnswer, Reading};
use async_trait::async_trait;
use chrono::{NaiveDate, Utc};
use domain::Platform;
use domain::metrics::{Metric, platform_key};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::collections::HashSet;
use std::time::Duration;

/// The most posts one lookup may name.
const BATCH: usize = 100;
/// What the reads need (both already asked for publishing).
const READ_SCOPES: &str = "tweet.read and users.read";

/// A lookup's answer: `data` may be absent (nothing found), `errors` too (everything found).
#[derive(Deserialize, Default)]
#[serde(default)]
struct Lookup {
    data: Vec<Tweet>,
}

#[derive(Deserialize)]
struct Tweet {
    id: String,
    #[serde(default)]
    public_metrics: Option<PublicMetrics>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PublicMetrics {
    retweet_count: Option<i64>,
    reply_count: Option<i64>,
    like_count: Option<i64>,
    quote_count: Option<i64>,
    bookmark_count: Option<i64>,
    impression_count: Option<i64>,
}

#[derive(Deserialize)]
struct Me {
    data: MeData,
}

#[derive(Deserialize)]
struct MeData {
    #[serde(default)]
    public_metrics: Option<UserMetrics>,
}

#[derive(Deserialize)]
struct UserMetrics {
    #[serde(default)]
    followers_count: Option<i64>,
}

/// X's problem body (`{title, detail, type}`), for the reason of a refusal.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Problem {
    title: Option<String>,
    detail: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

impl Problem {
    fn reason(&self) -> String {
        self.detail
            .clone()
            .or_else(|| self.title.clone())
            .unwrap_or_else(|| "no reason given".into())
    }
}

/// X sends `x-rate-limit-reset` (Unix seconds) and no `Retry-After`; a minute without it.
fn rate_limit_wait(headers: &reqwest::header::HeaderMap) -> Duration {
    let reset = headers
        .get("x-rate-limit-reset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    let secs = match reset {
        Some(reset) => reset - Utc::now().timestamp(),
        None => 60,
    };
    Duration::from_secs(u64::try_from(secs.max(1)).unwrap_or(1))
}

/// X's refusal of a read.
fn refusal(
    status: reqwest::StatusCode,
    headers: &reqwest::header::HeaderMap,
    body: &str,
) -> MetricsError {
    let problem: Problem = serde_json::from_str(body).unwrap_or_default();
    match status.as_u16() {
        401 => MetricsError::TokenExpired,
        429 => MetricsError::RateLimited {
            retry_after: rate_limit_wait(headers),
        },
        // A forbidden client (the app's own access to the API) is ours to fix, not the
        // account's; anything else forbidden is a permission the token lacks.
        403 if problem
            .kind
            .as_deref()
            .is_some_and(|k| k.ends_with("/client-forbidden")) =>
        {
            MetricsError::Unavailable(format!("X refused the app: {}", problem.reason()))
        }
        403 => MetricsError::MissingPermission(format!(
            "X needs the {READ_SCOPES} permissions ({})",
            problem.reason()
        )),
        _ => MetricsError::Unavailable(format!("X answered {status}: {}", problem.reason())),
    }
}

impl X {
    /// A `GET` of `path` with `query` and the bearer token: counted, its answer's text kept in
    /// `metrics` (described by the path and its query, unencoded; there is no token in it), and
    /// read as `T`.
    async fn read<T: DeserializeOwned>(
        &self,
        token: &SecretString,
        path: &str,
        query: &[(&str, &str)],
        metrics: &mut Metrics,
    ) -> Result<T, MetricsError> {
        metrics.calls += 1;
        let url = with_query(&format!("{}{path}", self.config.api_base), query);
        let res = self
            .http
            .get(url)
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
        let read = if status.is_success() {
            serde_json::from_str(&body).map_err(|e| {
                MetricsError::Unavailable(format!("X's answer could not be read: {e}"))
            })
        } else {
            Err(refusal(status, &headers, &body))
        };
        let query: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        metrics.raw.push(RawAnswer {
            call: format!("GET {path}?{}", query.join("&")),
            body,
        });
        read
    }
}

#[async_trait]
impl MetricsReader for X {
    /// Nothing beyond publishing's: `tweet.read` and `users.read` read public metrics.
    fn insight_scopes(&self) -> &'static [&'static str] {
        &[]
    }

    fn batch_size(&self) -> usize {
        BATCH
    }

    /// One call: the followers now, whatever the window.
    async fn account(
        &self,
        _account: &AccountRef,
        token: &SecretString,
        _since: NaiveDate,
        _until: NaiveDate,
    ) -> Result<Metrics, MetricsError> {
        let today = Utc::now().date_naive();
        let mut metrics = Metrics::default();
        let me: Me = self
            .read(
                token,
                "/2/users/me",
                &[("user.fields", "public_metrics")],
                &mut metrics,
            )
            .await?;
        if let Some(n) = me.data.public_metrics.and_then(|m| m.followers_count) {
            metrics
                .readings
                .push(Reading::lifetime(None, Metric::Followers.key(), today, n));
        }
        Ok(metrics)
    }

    /// One call per [`BATCH`] posts. A post X did not answer for is left out; when none of
    /// those asked about came back, they are all gone.
    async fn posts(
        &self,
        _account: &AccountRef,
        token: &SecretString,
        ids: &[String],
    ) -> Result<Metrics, MetricsError> {
        let today = Utc::now().date_naive();
        let asked = super::numeric_ids(ids);
        let mut metrics = Metrics::default();
        let mut found: HashSet<String> = HashSet::new();
        for batch in asked.chunks(BATCH) {
            let joined = batch.join(",");
            let lookup: Lookup = self
                .read(
                    token,
                    "/2/tweets",
                    &[("ids", &joined), ("tweet.fields", "public_metrics")],
                    &mut metrics,
                )
                .await?;
            for tweet in lookup.data {
                if !batch.contains(&tweet.id.as_str()) || found.contains(&tweet.id) {
                    continue;
                }
                let m = tweet.public_metrics.unwrap_or_default();
                let counts = [
                    (Metric::Views.key().to_owned(), m.impression_count),
                    (Metric::Reactions.key().to_owned(), m.like_count),
                    (Metric::Comments.key().to_owned(), m.reply_count),
                    (Metric::Shares.key().to_owned(), m.retweet_count),
                    (Metric::Saves.key().to_owned(), m.bookmark_count),
                    (platform_key(Platform::X, "quotes"), m.quote_count),
                ];
                for (metric, value) in counts {
                    if let Some(value) = value {
                        metrics.readings.push(Reading::lifetime(
                            Some(&tweet.id),
                            metric,
                            today,
                            value,
                        ));
                    }
                }
                found.insert(tweet.id);
            }
        }
        if found.is_empty() && !asked.is_empty() {
            return Err(MetricsError::Gone);
        }
        Ok(metrics)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forbidden_client_is_not_a_missing_permission() {
        let headers = reqwest::header::HeaderMap::new();
        let forbidden = reqwest::StatusCode::FORBIDDEN;
        let client = serde_json::json!({
            "title": "Client Forbidden",
            "type": "https://api.twitter.com/2/problems/client-forbidden",
            "detail": "attach the app to a project",
        });
        assert!(matches!(
            refusal(forbidden, &headers, &client.to_string()),
            MetricsError::Unavailable(_)
        ));
        let scope = r#"{"title":"Forbidden","status":403,"detail":"missing scope tweet.read"}"#;
        assert!(matches!(
            refusal(forbidden, &headers, scope),
            MetricsError::MissingPermission(why) if why.contains("tweet.read")
        ));
        assert_eq!(
            refusal(reqwest::StatusCode::UNAUTHORIZED, &headers, ""),
            MetricsError::TokenExpired
        );
        assert!(
            crate::social::metrics::numeric_id("1460323737035677698")
                && !crate::social::metrics::numeric_id("abc")
        );
    }
}

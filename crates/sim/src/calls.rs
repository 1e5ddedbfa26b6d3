//! The calls the simulator answered, counted by the platform they went to (the first part of
//! the path: `x`, `facebook`, `instagram`, `tiktok`, `linkedin`, `paypal`, …), and how many of
//! them a rate limit refused: what a benchmark compares with the fewest calls a job needed
//! (see [`crate::Simulator::calls`]). The simulator's own routes (`/_sim/…`) are not counted.
//!
//! A refusal by a rate limit is an answer with status 429 (X, TikTok, LinkedIn) or a Graph
//! error that carries `X-Business-Use-Case-Usage` (Facebook's and Instagram's limits answer
//! with codes 4, 17 or 32 and that header, not with 429).

use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

/// The calls answered on one platform.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Calls {
    pub calls: u64,
    /// Of those, the ones refused by a rate limit.
    pub rate_limited: u64,
}

impl Calls {
    /// The calls answered since the reading `earlier`.
    pub fn since(self, earlier: Calls) -> Calls {
        Calls {
            calls: self.calls.saturating_sub(earlier.calls),
            rate_limited: self.rate_limited.saturating_sub(earlier.rate_limited),
        }
    }
}

/// The counts, by platform.
#[derive(Default)]
pub(crate) struct Counter(Mutex<BTreeMap<String, Calls>>);

impl Counter {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, Calls>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts a call under `prefix`, answered with `response`.
    pub(crate) fn count(&self, prefix: &str, response: &Response) {
        let refused = response.status() == StatusCode::TOO_MANY_REQUESTS
            || (!response.status().is_success()
                && response.headers().contains_key("x-business-use-case-usage"));
        let mut all = self.lock();
        let calls = match all.get_mut(prefix) {
            Some(calls) => calls,
            None => all.entry(prefix.to_owned()).or_default(),
        };
        calls.calls += 1;
        calls.rate_limited += u64::from(refused);
    }

    pub(crate) fn get(&self, prefix: &str) -> Calls {
        self.lock().get(prefix).copied().unwrap_or_default()
    }

    pub(crate) fn all(&self) -> BTreeMap<String, Calls> {
        self.lock().clone()
    }
}

/// The first part of `path` (`/x/2/tweets` → `x`).
pub(crate) fn prefix(path: &str) -> &str {
    let path = path.trim_start_matches('/');
    path.split('/').next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::response::IntoResponse;

    #[test]
    fn calls_are_counted_by_platform_with_their_rate_limits() {
        assert_eq!(prefix("/x/2/tweets"), "x");
        assert_eq!(prefix("/facebook"), "facebook");
        let counter = Counter::default();
        counter.count("x", &StatusCode::OK.into_response());
        counter.count("x", &StatusCode::TOO_MANY_REQUESTS.into_response());
        let mut graph = StatusCode::BAD_REQUEST.into_response();
        graph.headers_mut().insert(
            "x-business-use-case-usage",
            axum::http::HeaderValue::from_static("{}"),
        );
        counter.count("facebook", &graph);
        counter.count("facebook", &StatusCode::BAD_REQUEST.into_response());
        assert_eq!(
            counter.get("x"),
            Calls {
                calls: 2,
                rate_limited: 1
            }
        );
        assert_eq!(
            counter.get("facebook").since(Calls {
                calls: 1,
                rate_limited: 0
            }),
            Calls {
                calls: 1,
                rate_limited: 1
            }
        );
        assert_eq!(counter.get("tiktok"), Calls::default());
        assert_eq!(counter.all().len(), 2);
    }
}

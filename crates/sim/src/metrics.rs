//! The figures the simulated platforms report: deterministic functions of a post's id and age,
//! or of an account's id and a day, so that ingestion, charts and exports are tested offline and
//! the sandbox shows analytics that move. Time is the simulator's clock
//! ([`Simulator::now`], moved ahead by [`Simulator::advance_clock`]).
//!
//! Every figure an endpoint answers is also noted ([`Simulator::reported`]), so a test compares
//! what was stored with what the platform said, not with a copy of these formulas.

use crate::Simulator;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::Platform;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// A stable number from `parts` (FNV-1a), the same on every run.
pub(crate) fn seed(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain([0xff]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

/// How large a post's lifetime `metric` grows, relative to its views; by the kind of figure
/// its name says (each platform's own names: `impression_count`, `post_reactions_by_type_total`,
/// `IMPRESSION`).
fn weight(metric: &str) -> f64 {
    let name = metric.to_ascii_lowercase();
    let has = |parts: &[&str]| parts.iter().any(|p| name.contains(p));
    if has(&["reach", "unique"]) {
        0.7
    } else if has(&["view", "impression", "play"]) {
        1.0
    } else if has(&["engag", "interaction"]) {
        0.1
    } else if has(&["reaction", "like"]) {
        0.06
    } else if has(&["click"]) {
        0.03
    } else if has(&["share", "save", "bookmark", "retweet", "reshare", "quote"]) {
        0.01
    } else if has(&["comment", "repl"]) {
        0.008
    } else {
        0.005
    }
}

/// A post's lifetime total of `metric` at `age`: nothing before it is published, most of it in
/// its first two days, settling after a week; it never goes down.
pub fn post_total(post_id: &str, metric: &str, age: Duration) -> i64 {
    let hours = (age.num_minutes().max(0) as f64) / 60.0;
    let audience = 200.0 + (seed(&[post_id]) % 4_800) as f64;
    let grown = 1.0 - (-hours / 24.0).exp();
    let jitter = 0.8 + (seed(&[post_id, metric]) % 40) as f64 / 100.0;
    (audience * weight(metric) * jitter * grown).floor() as i64
}

/// An account's value of a daily `metric` on `day` (views, reach, engagement, new followers).
pub fn daily(account: &str, metric: &str, day: NaiveDate) -> i64 {
    let base = 50 + seed(&[account, metric]) % 950;
    let wobble = seed(&[account, metric, &day.to_string()]) % (base / 2 + 1);
    let scale = match metric {
        "follows" | "follower_count" | "page_daily_follows" => 0.02,
        "engagement" | "total_interactions" | "page_post_engagements" | "accounts_engaged" => 0.1,
        _ => 1.0,
    };
    (((base + wobble) as f64) * scale).round() as i64
}

/// An account's followers on `day`: the number it connected with, and a few more each day.
pub fn followers_on(user_id: &str, day: NaiveDate) -> i64 {
    let start = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default();
    let days = (day - start).num_days().max(0);
    crate::followers(user_id) as i64 + days * (1 + (seed(&[user_id]) % 5) as i64)
}

/// Figures answered, by (platform, post or account id, metric): the last value given.
#[derive(Default)]
struct Reported(HashMap<(Platform, String, String), i64>);

fn reported(sim: &Simulator) -> Arc<Mutex<Reported>> {
    sim.extension::<Reported>()
}

fn lock(store: &Mutex<Reported>) -> MutexGuard<'_, Reported> {
    store.lock().unwrap_or_else(|p| p.into_inner())
}

impl Simulator {
    /// Notes a figure an endpoint answered.
    pub(crate) fn report(&self, platform: Platform, id: &str, metric: &str, value: i64) {
        lock(&reported(self))
            .0
            .insert((platform, id.to_owned(), metric.to_owned()), value);
    }

    /// The last value of `metric` (the platform's own name) the simulator answered for the post
    /// or account `id` on `platform`.
    pub fn reported(&self, platform: Platform, id: &str, metric: &str) -> Option<i64> {
        lock(&reported(self))
            .0
            .get(&(platform, id.to_owned(), metric.to_owned()))
            .copied()
    }

    /// How long ago (by the simulator's clock) the post `id` was published; none for a post
    /// the simulator does not have.
    pub fn age_of(&self, platform: Platform, id: &str) -> Option<Duration> {
        let at: DateTime<Utc> = self.published_at(platform, id)?;
        Some(self.now() - at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_grow_and_settle_and_repeat() {
        let early = post_total("123", "views", Duration::hours(1));
        let later = post_total("123", "views", Duration::hours(30));
        let settled = post_total("123", "views", Duration::days(8));
        assert!(
            0 < early && early < later && later <= settled,
            "{early} {later} {settled}"
        );
        assert_eq!(post_total("123", "views", Duration::days(8)), settled);
        assert_eq!(post_total("123", "views", Duration::hours(-2)), 0);
        assert!(post_total("123", "comments", Duration::days(8)) < settled);
        let day = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        assert_eq!(daily("a", "views", day), daily("a", "views", day));
        assert!(followers_on("a", day) < followers_on("a", day + Duration::days(10)));
    }
}

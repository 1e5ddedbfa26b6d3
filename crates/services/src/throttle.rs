//! Limits on failed log-in attempts, per client address and per account.
//!
//! Failures are counted in a sliding window in this process's memory. Keys are hashed with the
//! server key, so the table never holds an address or an e-mail in the clear.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub per_account: usize,
    pub per_client: usize,
    pub window: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            per_account: 5,
            per_client: 20,
            window: Duration::from_secs(15 * 60),
        }
    }
}

/// Which limit is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Account,
    Client,
}

pub struct LoginThrottle {
    limits: Limits,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

/// Beyond this many tracked keys, expired ones are swept before a new one is added.
const SWEEP_AT: usize = 10_000;

impl LoginThrottle {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn keys(account: &str, client: &str) -> [(Scope, String); 2] {
        [
            (Scope::Account, format!("a:{account}")),
            (Scope::Client, format!("c:{client}")),
        ]
    }

    fn limit(&self, scope: Scope) -> usize {
        match scope {
            Scope::Account => self.limits.per_account,
            Scope::Client => self.limits.per_client,
        }
    }

    /// Whether another attempt is allowed now. When it is not, says for how long it is not.
    pub fn check(
        &self,
        account: &str,
        client: &str,
        now: Instant,
    ) -> Result<(), (Scope, Duration)> {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        for (scope, key) in Self::keys(account, client) {
            if let Some(times) = map.get_mut(&key) {
                prune(times, now, self.limits.window);
                if times.len() >= self.limit(scope)
                    && let Some(oldest) = times.front()
                {
                    let wait = self
                        .limits
                        .window
                        .saturating_sub(now.duration_since(*oldest));
                    return Err((scope, wait.max(Duration::from_secs(1))));
                }
            }
        }
        Ok(())
    }

    pub fn record_failure(&self, account: &str, client: &str, now: Instant) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= SWEEP_AT {
            let window = self.limits.window;
            map.retain(|_, times| {
                prune(times, now, window);
                !times.is_empty()
            });
        }
        for (_, key) in Self::keys(account, client) {
            map.entry(key).or_default().push_back(now);
        }
    }

    /// A successful log-in clears the account's failures (not the client's).
    pub fn record_success(&self, account: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&format!("a:{account}"));
    }
}

fn prune(times: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while times
        .front()
        .is_some_and(|t| now.duration_since(*t) >= window)
    {
        times.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle() -> LoginThrottle {
        LoginThrottle::new(Limits {
            per_account: 3,
            per_client: 5,
            window: Duration::from_secs(60),
        })
    }

    #[test]
    fn an_account_locks_after_its_limit_and_unlocks_when_the_window_passes() {
        let t = throttle();
        let start = Instant::now();
        for i in 0..3 {
            assert!(t.check("acct", "ip1", start).is_ok(), "attempt {i}");
            t.record_failure("acct", "ip1", start);
        }
        let (scope, wait) = t
            .check("acct", "ip2", start + Duration::from_secs(10))
            .unwrap_err();
        assert_eq!(scope, Scope::Account);
        assert_eq!(wait, Duration::from_secs(50));
        assert!(
            t.check("acct", "ip2", start + Duration::from_secs(60))
                .is_ok()
        );
        assert!(t.check("other", "ip3", start).is_ok());
    }

    #[test]
    fn a_client_locks_across_accounts() {
        let t = throttle();
        let now = Instant::now();
        for i in 0..5 {
            t.record_failure(&format!("acct{i}"), "ip", now);
        }
        assert_eq!(t.check("fresh", "ip", now).unwrap_err().0, Scope::Client);
        assert!(t.check("fresh", "other-ip", now).is_ok());
    }

    #[test]
    fn success_clears_the_account() {
        let t = throttle();
        let now = Instant::now();
        for _ in 0..3 {
            t.record_failure("acct", "ip", now);
        }
        t.record_success("acct");
        assert!(t.check("acct", "ip2", now).is_ok());
    }
}

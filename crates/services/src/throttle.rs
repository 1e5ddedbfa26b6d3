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

    /// Starts an attempt if both limits allow one, and counts it as a failure at once, so that
    /// attempts made in parallel cannot all pass before the first failure is recorded. When an
    /// attempt is refused, says which limit was reached and for how long.
    pub fn begin(
        &self,
        account: &str,
        client: &str,
        now: Instant,
    ) -> Result<Attempt, (Scope, Duration)> {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let keys = Self::keys(account, client);
        for (scope, key) in &keys {
            if let Some(times) = map.get_mut(key) {
                prune(times, now, self.limits.window);
                if times.len() >= self.limit(*scope)
                    && let Some(oldest) = times.front()
                {
                    let wait = self
                        .limits
                        .window
                        .saturating_sub(now.duration_since(*oldest));
                    return Err((*scope, wait.max(Duration::from_secs(1))));
                }
            }
        }
        if map.len() >= SWEEP_AT {
            let window = self.limits.window;
            map.retain(|_, times| {
                prune(times, now, window);
                !times.is_empty()
            });
        }
        for (_, key) in &keys {
            map.entry(key.clone()).or_default().push_back(now);
        }
        let [(_, account), (_, client)] = keys;
        Ok(Attempt {
            account,
            client,
            at: now,
        })
    }

    /// The attempt succeeded: the account's failures are forgotten, and the attempt no longer
    /// counts against the client.
    pub fn succeeded(&self, attempt: Attempt) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&attempt.account);
        if let Some(times) = map.get_mut(&attempt.client)
            && let Some(pos) = times.iter().position(|t| *t == attempt.at)
        {
            times.remove(pos);
        }
    }
}

/// An attempt in progress; dropped as is, it stays counted as a failure.
#[must_use]
pub struct Attempt {
    account: String,
    client: String,
    at: Instant,
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
            assert!(
                t.begin("acct", &format!("ip{i}"), start).is_ok(),
                "attempt {i}"
            );
        }
        let (scope, wait) = t
            .begin("acct", "ip9", start + Duration::from_secs(10))
            .err()
            .unwrap();
        assert_eq!(scope, Scope::Account);
        assert_eq!(wait, Duration::from_secs(50));
        assert!(
            t.begin("acct", "ip9", start + Duration::from_secs(60))
                .is_ok()
        );
        assert!(t.begin("other", "ip3", start).is_ok());
    }

    #[test]
    fn a_client_locks_across_accounts() {
        let t = throttle();
        let now = Instant::now();
        for i in 0..5 {
            let _ = t.begin(&format!("acct{i}"), "ip", now);
        }
        assert_eq!(t.begin("fresh", "ip", now).err().unwrap().0, Scope::Client);
        assert!(t.begin("fresh", "other-ip", now).is_ok());
    }

    #[test]
    fn success_clears_the_account_and_does_not_count_against_the_client() {
        let t = throttle();
        let now = Instant::now();
        for _ in 0..2 {
            let _ = t.begin("acct", "ip", now);
        }
        let ok = t.begin("acct", "ip", now).unwrap();
        t.succeeded(ok);
        assert!(t.begin("acct", "ip2", now).is_ok());
        // Many successful log-ins from one address (an office) never lock it.
        for i in 0..20 {
            let attempt = t.begin(&format!("person{i}"), "office", now).unwrap();
            t.succeeded(attempt);
        }
        assert!(t.begin("someone", "office", now).is_ok());
    }
}

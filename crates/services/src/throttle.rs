//! Limits on password attempts and on sign-ups, counted in this process's memory.
//!
//! Password attempts are limited three ways, and none of them lets a stranger lock the owner
//! out of their account:
//!
//! - **Per account and client.** After `per_pair` failures in the window, that client may not
//!   try that account again until its oldest failure leaves the window. A browser the account
//!   signed in with before (a known device) is a client of its own, so a guesser behind the
//!   same network address does not block it.
//! - **Per client**, across accounts: after `per_client` failures one address guessing many
//!   accounts is stopped.
//! - **Per account**, across clients: after `slow_after` failures in the window the account is
//!   slowed down, not locked. Each client that is not a known device gets one attempt per
//!   wait; the wait starts at `first_wait` and doubles with each further failure, up to
//!   `max_wait`. A client's first attempt under the slowdown is told how long to wait, and its
//!   turn comes then whatever other clients do, so the owner on a new device waits at most
//!   `max_wait` and is never kept out; known devices are not slowed at all. The failure that
//!   reaches `slow_after` is reported once, so that the owner is e-mailed once per run of
//!   failures.
//!
//! Sign-ups are limited per client and overall in a sliding hour.
//!
//! Callers pass keys hashed with the server key, so these tables never hold an address or an
//! e-mail in the clear. Refusals check nothing and count nothing: only a password that was
//! actually checked counts as a failure.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The limits on password attempts.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Failures of one client on one account before that pair is refused.
    pub per_pair: usize,
    /// Failures of one client across accounts before it is refused.
    pub per_client: usize,
    /// Failures on one account, from anywhere, before new devices are slowed down.
    pub slow_after: usize,
    /// The wait between attempts when the slowdown starts.
    pub first_wait: Duration,
    /// The longest wait between attempts.
    pub max_wait: Duration,
    pub window: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            per_pair: 10,
            per_client: 20,
            slow_after: 10,
            first_wait: Duration::from_secs(5),
            max_wait: Duration::from_secs(60),
            window: Duration::from_secs(15 * 60),
        }
    }
}

impl Limits {
    /// The wait between a new device's attempts when the account has `failures` in the window.
    fn slowdown(&self, failures: usize) -> Option<Duration> {
        let beyond = failures.checked_sub(self.slow_after)?;
        let factor = 1u32 << beyond.min(16);
        Some(self.first_wait.saturating_mul(factor).min(self.max_wait))
    }
}

/// Where a password attempt comes from.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// A client address (keyed) that is not known to the account.
    Client(&'a str),
    /// A browser known to the account (the key of its device cookie), or a session of it.
    Known(&'a str),
}

/// Why an attempt was refused, and how long until it may be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// This client failed too often on this account.
    Pair(Duration),
    /// This client failed too often across accounts.
    Client(Duration),
    /// The account had many failures: new devices take turns.
    Slowed(Duration),
}

impl Refusal {
    pub fn wait(&self) -> Duration {
        match self {
            Self::Pair(w) | Self::Client(w) | Self::Slowed(w) => *w,
        }
    }
}

/// A clock that tests can move forward, so that waits can be seen to end without sleeping.
#[derive(Default)]
struct Clock {
    skew: Mutex<Duration>,
}

impl Clock {
    fn now(&self) -> Instant {
        Instant::now() + *self.skew.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn advance(&self, by: Duration) {
        let mut skew = self.skew.lock().unwrap_or_else(|p| p.into_inner());
        *skew = skew.saturating_add(by);
    }
}

/// One account's failures, from every client.
#[derive(Default)]
struct AccountState {
    /// Failures in the window, each with the pair key it came from.
    failures: VecDeque<(Instant, String)>,
    /// The run of failures reached `slow_after` and was reported.
    reported: bool,
    /// Under the slowdown: when each client may try next.
    turns: HashMap<String, Instant>,
}

#[derive(Default)]
struct State {
    /// Failures by pair (`p:…`) and client (`c:…`) key.
    failures: HashMap<String, VecDeque<Instant>>,
    accounts: HashMap<String, AccountState>,
}

pub struct LoginThrottle {
    limits: Limits,
    state: Mutex<State>,
    clock: Clock,
}

/// Beyond this many tracked keys, expired ones are swept before a new one is added.
const SWEEP_AT: usize = 10_000;

impl LoginThrottle {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            state: Mutex::new(State::default()),
            clock: Clock::default(),
        }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Moves this throttle's clock forward (tests see a wait end without sleeping).
    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// Starts an attempt on `account` from `source` if the limits allow one, and counts it as a
    /// failure at once, so that attempts made in parallel cannot all pass before the first
    /// failure is recorded. A refusal says which limit and for how long.
    pub fn begin(&self, account: &str, source: Source<'_>) -> Result<Attempt, Refusal> {
        self.begin_at(account, source, self.clock.now())
    }

    fn begin_at(
        &self,
        account: &str,
        source: Source<'_>,
        now: Instant,
    ) -> Result<Attempt, Refusal> {
        let limits = self.limits;
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let state = &mut *guard;
        let (pair, client) = match source {
            Source::Client(c) => (format!("p:{account}:c{c}"), Some(format!("c:{c}"))),
            Source::Known(d) => (format!("p:{account}:d{d}"), None),
        };
        if let Some(wait) = full(
            &mut state.failures,
            &pair,
            limits.per_pair,
            now,
            limits.window,
        ) {
            return Err(Refusal::Pair(wait));
        }
        if let Some(client) = &client
            && let Some(wait) = full(
                &mut state.failures,
                client,
                limits.per_client,
                now,
                limits.window,
            )
        {
            return Err(Refusal::Client(wait));
        }
        if let (Source::Client(c), Some(acct)) = (source, state.accounts.get_mut(account)) {
            acct.prune(now, limits.window);
            if let Some(wait) = limits.slowdown(acct.failures.len()) {
                match acct.turns.get(c).copied() {
                    Some(turn) if turn <= now => {
                        acct.turns.insert(c.to_owned(), now + wait);
                    }
                    Some(turn) => return Err(Refusal::Slowed(turn - now)),
                    None => {
                        acct.turns.insert(c.to_owned(), now + wait);
                        return Err(Refusal::Slowed(wait));
                    }
                }
            }
        }
        if state.failures.len() + state.accounts.len() >= SWEEP_AT {
            state.sweep(now, limits.window);
        }
        state
            .failures
            .entry(pair.clone())
            .or_default()
            .push_back(now);
        if let Some(client) = &client {
            state
                .failures
                .entry(client.clone())
                .or_default()
                .push_back(now);
        }
        state
            .accounts
            .entry(account.to_owned())
            .or_default()
            .failures
            .push_back((now, pair.clone()));
        Ok(Attempt {
            account: account.to_owned(),
            pair,
            client,
            at: now,
        })
    }

    /// The attempt succeeded: the failures of this client (or device) on this account are
    /// forgotten, and the attempt no longer counts against the client. Other clients'
    /// failures on the account stay: they are someone else's.
    pub fn succeeded(&self, attempt: Attempt) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.failures.remove(&attempt.pair);
        if let Some(client) = &attempt.client
            && let Some(times) = state.failures.get_mut(client)
            && let Some(pos) = times.iter().position(|t| *t == attempt.at)
        {
            times.remove(pos);
        }
        if let Some(acct) = state.accounts.get_mut(&attempt.account) {
            acct.failures.retain(|(_, pair)| *pair != attempt.pair);
            if acct.failures.is_empty() {
                state.accounts.remove(&attempt.account);
            }
        }
    }

    /// The attempt failed (it stays counted). Returns true once per run of failures: when
    /// the account has just reached the slowdown, so that its owner is told.
    pub fn failed(&self, attempt: Attempt) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let Some(acct) = state.accounts.get_mut(&attempt.account) else {
            return false;
        };
        if acct.failures.len() >= self.limits.slow_after && !acct.reported {
            acct.reported = true;
            return true;
        }
        false
    }
}

impl AccountState {
    fn prune(&mut self, now: Instant, window: Duration) {
        while self
            .failures
            .front()
            .is_some_and(|(t, _)| now.duration_since(*t) >= window)
        {
            self.failures.pop_front();
        }
        if self.failures.is_empty() {
            // The run of failures is over: the next one that reaches the slowdown is told.
            self.reported = false;
        }
        self.turns
            .retain(|_, turn| now.saturating_duration_since(*turn) < window);
    }
}

impl State {
    fn sweep(&mut self, now: Instant, window: Duration) {
        self.failures.retain(|_, times| {
            prune(times, now, window);
            !times.is_empty()
        });
        self.accounts.retain(|_, acct| {
            acct.prune(now, window);
            !acct.failures.is_empty()
        });
    }
}

/// When `key` has `limit` failures in the window: how long until the oldest leaves it.
fn full(
    failures: &mut HashMap<String, VecDeque<Instant>>,
    key: &str,
    limit: usize,
    now: Instant,
    window: Duration,
) -> Option<Duration> {
    let times = failures.get_mut(key)?;
    prune(times, now, window);
    if times.len() < limit {
        return None;
    }
    let oldest = times.front()?;
    let wait = window.saturating_sub(now.duration_since(*oldest));
    Some(wait.max(Duration::from_secs(1)))
}

/// An attempt in progress; dropped as is, it stays counted as a failure.
#[must_use]
pub struct Attempt {
    account: String,
    pair: String,
    client: Option<String>,
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

/// The limits on sign-ups.
#[derive(Debug, Clone, Copy)]
pub struct SignupLimits {
    /// Sign-ups from one client in the window.
    pub per_client: usize,
    /// Sign-ups from everyone in the window.
    pub overall: usize,
    pub window: Duration,
}

impl Default for SignupLimits {
    fn default() -> Self {
        Self {
            per_client: 5,
            overall: 100,
            window: Duration::from_secs(3600),
        }
    }
}

/// Why a sign-up was refused, and how long until one may be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignupRefusal {
    Client(Duration),
    Overall(Duration),
}

#[derive(Default)]
struct SignupState {
    by_client: HashMap<String, VecDeque<Instant>>,
    all: VecDeque<Instant>,
}

pub struct SignupThrottle {
    limits: SignupLimits,
    state: Mutex<SignupState>,
    clock: Clock,
}

impl SignupThrottle {
    pub fn new(limits: SignupLimits) -> Self {
        Self {
            limits,
            state: Mutex::new(SignupState::default()),
            clock: Clock::default(),
        }
    }

    /// Moves this throttle's clock forward (tests see a wait end without sleeping).
    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// Counts a sign-up from `client` if both limits allow one.
    pub fn admit(&self, client: &str) -> Result<(), SignupRefusal> {
        self.admit_at(client, self.clock.now())
    }

    fn admit_at(&self, client: &str, now: Instant) -> Result<(), SignupRefusal> {
        let SignupLimits {
            per_client,
            overall,
            window,
        } = self.limits;
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let state = &mut *guard;
        let wait = |times: &VecDeque<Instant>| {
            times
                .front()
                .map(|t| window.saturating_sub(now.duration_since(*t)))
                .unwrap_or(window)
                .max(Duration::from_secs(1))
        };
        if let Some(times) = state.by_client.get_mut(client) {
            prune(times, now, window);
            if times.len() >= per_client {
                return Err(SignupRefusal::Client(wait(times)));
            }
        }
        prune(&mut state.all, now, window);
        if state.all.len() >= overall {
            return Err(SignupRefusal::Overall(wait(&state.all)));
        }
        if state.by_client.len() >= SWEEP_AT {
            state.by_client.retain(|_, times| {
                prune(times, now, window);
                !times.is_empty()
            });
        }
        state
            .by_client
            .entry(client.to_owned())
            .or_default()
            .push_back(now);
        state.all.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle() -> LoginThrottle {
        LoginThrottle::new(Limits {
            per_pair: 3,
            per_client: 5,
            slow_after: 4,
            first_wait: Duration::from_secs(2),
            max_wait: Duration::from_secs(10),
            window: Duration::from_secs(60),
        })
    }

    fn fail(t: &LoginThrottle, account: &str, source: Source<'_>, now: Instant) -> bool {
        let attempt = t.begin_at(account, source, now).expect("allowed");
        t.failed(attempt)
    }

    #[test]
    fn a_pair_is_blocked_after_its_limit_and_unblocked_when_the_window_passes() {
        let t = throttle();
        let start = Instant::now();
        for _ in 0..3 {
            fail(&t, "acct", Source::Client("x"), start);
        }
        let refusal = t
            .begin_at("acct", Source::Client("x"), start + Duration::from_secs(10))
            .err()
            .unwrap();
        assert_eq!(refusal, Refusal::Pair(Duration::from_secs(50)));
        // Another client is not blocked (the account is below its slowdown).
        assert!(t.begin_at("acct", Source::Client("y"), start).is_ok());
        assert!(
            t.begin_at("acct", Source::Client("x"), start + Duration::from_secs(60))
                .is_ok()
        );
    }

    #[test]
    fn a_client_is_blocked_across_accounts() {
        let t = throttle();
        let now = Instant::now();
        for i in 0..5 {
            fail(&t, &format!("acct{i}"), Source::Client("ip"), now);
        }
        assert!(matches!(
            t.begin_at("fresh", Source::Client("ip"), now),
            Err(Refusal::Client(_))
        ));
        assert!(t.begin_at("fresh", Source::Client("other-ip"), now).is_ok());
    }

    #[test]
    fn each_run_of_failures_is_reported_once() {
        let t = throttle();
        let start = Instant::now();
        let run = |at: Instant| -> Vec<bool> {
            ["a", "b", "c", "d"]
                .iter()
                .map(|c| fail(&t, "acct", Source::Client(c), at))
                .collect()
        };
        assert_eq!(run(start), [false, false, false, true]);
        // A later attack, after the first one's failures left the window, is told again.
        assert_eq!(
            run(start + Duration::from_secs(61)),
            [false, false, false, true]
        );
    }

    #[test]
    fn an_account_under_attack_slows_new_devices_but_never_keeps_them_out() {
        let t = throttle();
        let start = Instant::now();
        // Four clients fail once each (below every per-client limit): the fourth failure
        // reaches the slowdown and is reported, once.
        let reported: Vec<bool> = ["a", "b", "c", "d"]
            .iter()
            .map(|c| fail(&t, "acct", Source::Client(c), start))
            .collect();
        assert_eq!(reported, [false, false, false, true]);
        // A new client is told to wait 2 s (the first wait), and then gets its turn.
        let refused = t.begin_at("acct", Source::Client("owner"), start).err();
        assert_eq!(refused, Some(Refusal::Slowed(Duration::from_secs(2))));
        let one_second = start + Duration::from_secs(1);
        assert_eq!(
            t.begin_at("acct", Source::Client("owner"), one_second)
                .err(),
            Some(Refusal::Slowed(Duration::from_secs(1)))
        );
        // Other clients asking meanwhile do not push the owner's turn back.
        let at_turn = start + Duration::from_secs(2);
        for c in ["a", "b", "c"] {
            let _ = t.begin_at("acct", Source::Client(c), start);
        }
        let attempt = t
            .begin_at("acct", Source::Client("owner"), at_turn)
            .expect("the owner's turn came");
        t.succeeded(attempt);
        // The failures of the others stay, and are not reported again.
        assert!(matches!(
            t.begin_at("acct", Source::Client("late"), at_turn),
            Err(Refusal::Slowed(_))
        ));
        let attempt = t.begin_at(
            "acct",
            Source::Client("a"),
            at_turn + Duration::from_secs(60),
        );
        assert!(attempt.is_ok(), "the window passed");
    }

    #[test]
    fn the_wait_doubles_up_to_its_cap() {
        let limits = throttle().limits;
        assert_eq!(limits.slowdown(3), None);
        assert_eq!(limits.slowdown(4), Some(Duration::from_secs(2)));
        assert_eq!(limits.slowdown(5), Some(Duration::from_secs(4)));
        assert_eq!(limits.slowdown(6), Some(Duration::from_secs(8)));
        assert_eq!(limits.slowdown(7), Some(Duration::from_secs(10)));
        assert_eq!(limits.slowdown(1_000), Some(Duration::from_secs(10)));
    }

    #[test]
    fn a_known_device_is_neither_slowed_nor_blocked_by_its_network() {
        let t = throttle();
        let now = Instant::now();
        for _ in 0..3 {
            fail(&t, "acct", Source::Client("x"), now);
        }
        fail(&t, "acct", Source::Client("y"), now);
        assert!(matches!(
            t.begin_at("acct", Source::Client("x"), now),
            Err(Refusal::Pair(_))
        ));
        assert!(matches!(
            t.begin_at("acct", Source::Client("z"), now),
            Err(Refusal::Slowed(_))
        ));
        let attempt = t
            .begin_at("acct", Source::Known("laptop"), now)
            .expect("a known device passes");
        t.succeeded(attempt);
        // A stolen device cookie still gets only the pair's few guesses.
        for _ in 0..3 {
            fail(&t, "acct", Source::Known("stolen"), now);
        }
        assert!(matches!(
            t.begin_at("acct", Source::Known("stolen"), now),
            Err(Refusal::Pair(_))
        ));
    }

    #[test]
    fn success_forgets_only_the_own_failures() {
        let t = throttle();
        let now = Instant::now();
        for _ in 0..2 {
            fail(&t, "acct", Source::Client("ip"), now);
        }
        let ok = t.begin_at("acct", Source::Client("ip"), now).unwrap();
        t.succeeded(ok);
        for _ in 0..3 {
            assert!(!fail(&t, "acct", Source::Client("ip"), now));
        }
        // Many successful log-ins from one address (an office) never block it.
        for i in 0..20 {
            let attempt = t
                .begin_at(&format!("person{i}"), Source::Client("office"), now)
                .unwrap();
            t.succeeded(attempt);
        }
        assert!(t.begin_at("someone", Source::Client("office"), now).is_ok());
    }

    #[test]
    fn sign_ups_are_limited_per_client_and_overall() {
        let t = SignupThrottle::new(SignupLimits {
            per_client: 2,
            overall: 3,
            window: Duration::from_secs(3600),
        });
        let start = Instant::now();
        assert!(t.admit_at("a", start).is_ok());
        assert!(t.admit_at("a", start).is_ok());
        let later = start + Duration::from_secs(600);
        assert_eq!(
            t.admit_at("a", later),
            Err(SignupRefusal::Client(Duration::from_secs(3000)))
        );
        assert!(t.admit_at("b", later).is_ok());
        assert_eq!(
            t.admit_at("c", later),
            Err(SignupRefusal::Overall(Duration::from_secs(3000)))
        );
        assert!(t.admit_at("c", start + Duration::from_secs(3600)).is_ok());
    }
}

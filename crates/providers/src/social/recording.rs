//! A test double: a publisher that records every request and answers after a set latency.
//! It exists for tests and benchmarks (feature `testing`) and is never offered as a platform.

use super::{AccountRef, FindRequest, Lookup, PublishError, PublishRequest, Published, Publisher};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// One request the double received, with when it arrived.
#[derive(Debug, Clone)]
pub struct Received {
    pub request: PublishRequest,
    pub at: Instant,
    pub wall: DateTime<Utc>,
    /// Whether the double kept it as a published post.
    pub published: bool,
}

#[derive(Default)]
pub struct RecordingPublisher {
    latency: Duration,
    received: Mutex<Vec<Received>>,
    failures: Mutex<VecDeque<PublishError>>,
    lookups: bool,
    /// Record the post, then never answer: the caller's process "crashes" mid-call.
    hang: AtomicBool,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    /// Per account: calls in flight now, and the most at once.
    accounts: Mutex<std::collections::HashMap<i64, (usize, usize)>>,
    /// Calls for this account wait, once received, until this many calls for other accounts
    /// have been received.
    held_account: Mutex<Option<(i64, usize)>>,
    /// Every call waits, once received, until this many calls have been in flight at once.
    held_until_in_flight: AtomicUsize,
    /// Wakes held calls whenever a call arrives.
    arrived: tokio::sync::Notify,
}

impl RecordingPublisher {
    pub fn new(latency: Duration) -> Self {
        Self {
            latency,
            ..Default::default()
        }
    }

    /// Lets `find` answer from what was recorded (a platform whose API can look posts up).
    pub fn with_lookups(mut self) -> Self {
        self.lookups = true;
        self
    }

    /// The next calls fail with these errors, in order (no post is recorded for them, except
    /// for a `Transient` error with `maybe_published`, which records the post and then fails).
    pub fn fail_next(&self, errors: impl IntoIterator<Item = PublishError>) {
        lock(&self.failures).extend(errors);
    }

    /// From now on, record each post and then never answer.
    pub fn hang(&self, hang: bool) {
        self.hang.store(hang, Ordering::SeqCst);
    }

    /// Calls for `account` wait (in flight, holding whatever the caller holds) until `others`
    /// calls for other accounts have been received: a test can then show those calls got
    /// through while this account's were outstanding, whatever the machine's speed.
    pub fn hold_account_until_others(&self, account: i64, others: usize) {
        *lock(&self.held_account) = Some((account, others));
    }

    /// Every call waits until `calls` calls have been in flight at the same moment.
    pub fn hold_until_in_flight(&self, calls: usize) {
        self.held_until_in_flight.store(calls, Ordering::SeqCst);
    }

    fn may_go(&self, account: i64) -> bool {
        let held = *lock(&self.held_account);
        if let Some((held, others)) = held
            && held == account
        {
            let arrived = lock(&self.received)
                .iter()
                .filter(|r| r.request.account.id != held)
                .count();
            if arrived < others {
                return false;
            }
        }
        self.max_in_flight.load(Ordering::SeqCst)
            >= self.held_until_in_flight.load(Ordering::SeqCst)
    }

    async fn wait_until_it_may_go(&self, account: i64) {
        loop {
            let arrived = self.arrived.notified();
            tokio::pin!(arrived);
            arrived.as_mut().enable();
            if self.may_go(account) {
                return;
            }
            arrived.await;
        }
    }

    /// Every request received, in order.
    pub fn received(&self) -> Vec<Received> {
        lock(&self.received).clone()
    }

    /// How many posts were published, in all.
    pub fn published_count(&self) -> usize {
        lock(&self.received).iter().filter(|r| r.published).count()
    }

    /// The calls in flight now (a call whose caller stopped waiting is no longer in flight).
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// The most calls that were in flight at the same moment.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }

    /// The most calls for `account` that were in flight at the same moment.
    pub fn max_in_flight_of(&self, account: i64) -> usize {
        lock(&self.accounts)
            .get(&account)
            .map_or(0, |(_, most)| *most)
    }

    fn post_id(key: &str) -> String {
        format!("rec-{key}")
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

struct InFlight<'a>(&'a RecordingPublisher, i64);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
        if let Some((now, _)) = lock(&self.0.accounts).get_mut(&self.1) {
            *now -= 1;
        }
    }
}

#[async_trait]
impl Publisher for RecordingPublisher {
    async fn publish(&self, request: &PublishRequest) -> Result<Published, PublishError> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        {
            let mut accounts = lock(&self.accounts);
            let (now, most) = accounts.entry(request.account.id).or_default();
            *now += 1;
            *most = (*most).max(*now);
        }
        let _guard = InFlight(self, request.account.id);
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        let failure = lock(&self.failures).pop_front();
        let published = match &failure {
            None => true,
            Some(PublishError::Transient {
                maybe_published, ..
            }) => *maybe_published,
            Some(_) => false,
        };
        lock(&self.received).push(Received {
            request: request.clone(),
            at: Instant::now(),
            wall: Utc::now(),
            published,
        });
        self.arrived.notify_waiters();
        self.wait_until_it_may_go(request.account.id).await;
        if self.hang.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(self.latency).await;
        match failure {
            Some(err) => Err(err),
            None => Ok(Published {
                platform_post_id: Self::post_id(&request.idempotency_key),
                permalink: Some(format!(
                    "https://example.test/{}/{}",
                    request.account.username,
                    Self::post_id(&request.idempotency_key)
                )),
            }),
        }
    }

    async fn find(
        &self,
        account: &AccountRef,
        attempt: &FindRequest<'_>,
    ) -> Result<Lookup, PublishError> {
        let idempotency_key = attempt.idempotency_key;
        if !self.lookups {
            return Ok(Lookup::Unsupported);
        }
        let found = lock(&self.received).iter().any(|r| {
            r.published
                && r.request.account.id == account.id
                && r.request.idempotency_key == idempotency_key
        });
        Ok(if found {
            Lookup::Found(Published {
                platform_post_id: Self::post_id(idempotency_key),
                permalink: None,
            })
        } else {
            Lookup::NotFound
        })
    }
}

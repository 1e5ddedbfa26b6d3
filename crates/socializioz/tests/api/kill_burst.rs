//! `kill -9` of workers at random moments during a publishing burst, on both databases: real
//! `worker` processes of the binary (three at a time) publish a burst of posts, each to an X
//! account and a Facebook Page connected through OAuth, through the real adapters to the
//! simulator in this test process, which takes a while to answer every call. At pseudo-random
//! moments (seeded; the seed is printed, and `SOCIALIZIOZ_KILL_BURST_SEED` replays it) a
//! worker that is running jobs is killed with SIGKILL and a replacement started, which hands
//! back at once what the killed one held. When the queue has drained:
//!
//! - no post was published twice at the simulator;
//! - no target is left scheduled or publishing (and no publish job queued or running);
//! - every target is published, or left for a person ("unconfirmed"), and there are no more
//!   of those than kills: an interrupted call is looked up at the platform (X's timeline, the
//!   Page's posts) and settled by what it says, so a kill leaves at most one target to check
//!   (in practice none).
//!
//! The size is chosen by environment variables, so that the same test is the benchmark:
//! `SOCIALIZIOZ_KILL_BURST_POSTS` (default 200) and `SOCIALIZIOZ_KILL_BURST_KILLS` (default
//! 20); the full size is 1,000 posts and at least 20 kills (see the README). The time allowed
//! grows with the size; the figures (kills, duplicates, unconfirmed, time) are printed.

use crate::both_backends;
use crate::connect::connect_through_oauth;
use crate::fixtures::owner_with_workspace;
use crate::helpers::{Backend, TestApp, post_input, skip, spawn_app_with, until};
use crate::platform::binary_for;
use crate::processes::Process;
use domain::Platform;
use sea_orm::ConnectionTrait;
use services::posts::Intent;
use std::collections::HashMap;
use std::time::{Duration, Instant};

both_backends!(a_burst_survives_workers_killed_at_random_moments);

const AUTHOR: &str = "ada@example.com";
/// Worker processes running at any moment.
const WORKERS: usize = 3;
/// How long the simulator takes to answer each call: calls are always in flight.
const LATENCY: Duration = Duration::from_millis(100);

/// The burst's size, from the environment.
struct Size {
    posts: usize,
    kills: usize,
    seed: u64,
}

impl Size {
    fn from_env() -> Self {
        let number = |name: &str, default: u64| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(default)
        };
        let clock = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        Self {
            posts: number("SOCIALIZIOZ_KILL_BURST_POSTS", 200).max(10) as usize,
            kills: number("SOCIALIZIOZ_KILL_BURST_KILLS", 20).max(1) as usize,
            seed: number("SOCIALIZIOZ_KILL_BURST_SEED", clock),
        }
    }

    /// The most the whole test may take: far above what the product needs, so that a busy
    /// two-core machine does not fail it, and bounded all the same.
    fn patience(&self) -> Duration {
        Duration::from_secs(150) + Duration::from_millis(400) * (self.posts as u32)
    }
}

/// SplitMix64: a small seeded generator, so a run's kill moments can be replayed.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

async fn a_burst_survives_workers_killed_at_random_moments(backend: Backend) {
    let size = Size::from_env();
    let patience = size.patience();
    let started = Instant::now();
    let sim = sim::Simulator::new().with_chaos(sim::Chaos {
        latency: LATENCY,
        publish_error_rate: 0.0,
    });
    let running = sim
        .start(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let base = running.base_url.clone();
    let Some(app) = spawn_app_with(backend, |s| s.platforms.simulator = Some(base.clone())).await
    else {
        return;
    };
    let (client, ws) = owner_with_workspace(&app, AUTHOR).await;
    let x = connect_through_oauth(&app, &client, ws, "x").await;
    let facebook = crate::lost_answers::connect_page(&app, &client, ws).await;
    for i in 0..size.posts {
        app.save_post(
            AUTHOR,
            ws,
            post_input(
                &format!("Burst post {i} of run {}", size.seed),
                &[x, facebook],
                Vec::new(),
                Intent::PublishNow,
            ),
        )
        .await;
    }
    let targets = size.posts * 2;
    skip(&format!(
        "kill burst ({backend:?}): {} posts ({targets} targets), {} kills, seed {} \
         (SOCIALIZIOZ_KILL_BURST_SEED replays it)",
        size.posts, size.kills, size.seed
    ));

    // The moments: when so many posts have reached the simulator, spread over the first three
    // quarters of the burst, each at a worker that is running jobs.
    let mut rng = Seeded(size.seed);
    let mut moments: Vec<usize> = (0..size.kills)
        .map(|_| 1 + rng.below(targets * 3 / 4))
        .collect();
    moments.sort_unstable();
    let burst = Instant::now();
    let mut workers: Vec<Process> = (0..WORKERS).map(|_| worker(&app, &base)).collect();
    let mut kills = 0;
    for (n, moment) in moments.iter().enumerate() {
        // The workers running jobs once the moment has come (a worker may finish its last job
        // between two looks: then wait for the next that runs one).
        let candidates = loop {
            let left = patience.saturating_sub(started.elapsed());
            until(
                &format!(
                    "kill {}: {moment} posts made and a worker running jobs",
                    n + 1
                ),
                left,
                || async {
                    sim.posts().len() >= *moment && busy(&app, &workers).await.iter().any(|b| *b)
                },
            )
            .await;
            let busy = busy(&app, &workers).await;
            let candidates: Vec<usize> = (0..workers.len()).filter(|i| busy[*i]).collect();
            if !candidates.is_empty() {
                break candidates;
            }
        };
        let victim = candidates[rng.below(candidates.len())];
        let pid = workers[victim].id();
        let held = held_by(&app, pid).await;
        workers[victim].kill();
        kills += 1;
        skip(&format!(
            "kill burst ({backend:?}): kill {kills} at {:.1?}: worker {pid} holding {held} jobs, \
             {} posts made",
            burst.elapsed(),
            sim.posts().len()
        ));
        workers[victim] = worker(&app, &base);
    }
    let left = patience.saturating_sub(started.elapsed());
    until("the queue drains", left, || async {
        open_targets(&app).await == 0
    })
    .await;
    let took = burst.elapsed();
    for child in &workers {
        child.kill();
    }

    // No post twice at the simulator, and each published target is one of its posts.
    let posts = sim.posts();
    let mut made: HashMap<(Platform, &str), usize> = HashMap::new();
    for post in &posts {
        *made.entry((post.platform, post.text.as_str())).or_default() += 1;
    }
    let duplicates: usize = made.values().map(|n| n - 1).sum();
    let published = app
        .count("SELECT COUNT(*) FROM post_targets WHERE state = 'published'")
        .await;
    let unconfirmed = app
        .count("SELECT COUNT(*) FROM post_targets WHERE state = 'unconfirmed'")
        .await;
    let reconciled = app
        .count("SELECT COUNT(*) FROM publish_attempts WHERE outcome = 'reconciled'")
        .await;
    let retried = app
        .count(
            "SELECT COUNT(*) FROM publish_attempts \
             WHERE error LIKE '%confirmed nothing was posted%'",
        )
        .await;
    if unconfirmed > 0 {
        skip(&format!(
            "kill burst ({backend:?}): left to check: {}",
            app.text(
                "SELECT COALESCE(MAX(last_error), '') FROM post_targets \
                 WHERE state = 'unconfirmed'"
            )
            .await
        ));
    }
    skip(&format!(
        "kill burst ({backend:?}): {kills} kills, {duplicates} duplicates, {unconfirmed} \
         unconfirmed, {published} of {targets} targets published ({reconciled} found again \
         after a kill, {retried} published again after the platform said it had nothing), \
         in {took:.1?}"
    ));
    assert_eq!(duplicates, 0, "a post was published twice at the simulator");
    assert_eq!(
        open_targets(&app).await,
        0,
        "targets left scheduled or publishing"
    );
    assert!(kills >= size.kills, "{kills} kills of {}", size.kills);
    assert!(
        usize::try_from(unconfirmed).unwrap() <= kills,
        "{unconfirmed} targets need a check after {kills} kills: more than one per kill"
    );
    assert_eq!(
        usize::try_from(published + unconfirmed).unwrap(),
        targets,
        "every target is published or left for a person: {}",
        app.text("SELECT COALESCE(MAX(last_error), '') FROM post_targets WHERE state = 'failed'")
            .await
    );
    let recorded = published_ids(&app).await;
    assert_eq!(recorded.len(), usize::try_from(published).unwrap());
    for (platform, id) in &recorded {
        assert!(
            sim.post(*platform, id).is_some(),
            "{platform} {id} is recorded as published but the simulator has no such post"
        );
    }
    let distinct: std::collections::HashSet<_> = recorded.iter().collect();
    assert_eq!(distinct.len(), recorded.len(), "two targets share a post");
    assert!(posts.len() >= recorded.len());
}

/// Starts a `worker` process of the binary against the app's database and the simulator.
fn worker(app: &TestApp, simulator: &str) -> Process {
    let mut cmd = binary_for(app);
    cmd.arg("worker")
        .env("SOCIALIZIOZ__PLATFORMS__SIMULATOR", simulator)
        .env("SOCIALIZIOZ__WORKER__POLL_INTERVAL_MS", "100")
        .env("SOCIALIZIOZ_LOG", "warn");
    Process::start("worker", cmd, |_| None)
}

/// The jobs the worker process `pid` is running.
async fn held_by(app: &TestApp, pid: u32) -> i64 {
    app.count(&format!(
        "SELECT COUNT(*) FROM jobs WHERE state = 'running' AND locked_by LIKE '%/{pid}.%'"
    ))
    .await
}

/// Whether each worker is running jobs.
async fn busy(app: &TestApp, workers: &[Process]) -> Vec<bool> {
    let mut busy = Vec::with_capacity(workers.len());
    for child in workers {
        busy.push(held_by(app, child.id()).await > 0);
    }
    busy
}

/// Targets still waiting or publishing, and publish jobs not finished.
async fn open_targets(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM post_targets WHERE state IN ('scheduled', 'publishing')")
        .await
        + app
            .count(
                "SELECT COUNT(*) FROM jobs WHERE kind = 'publish' AND state IN ('queued', 'running')",
            )
            .await
}

/// The platform and the platform's id of every published target.
async fn published_ids(app: &TestApp) -> Vec<(Platform, String)> {
    let db = &app.services.db;
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT a.platform, t.platform_post_id FROM post_targets t \
             JOIN social_accounts a ON a.id = t.account_id WHERE t.state = 'published'",
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|row| {
            let platform: String = row.try_get_by_index(0).unwrap();
            let id: String = row.try_get_by_index(1).unwrap();
            (Platform::parse(&platform).unwrap(), id)
        })
        .collect()
}

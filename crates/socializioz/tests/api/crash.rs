//! Workers that die or freeze during a publishing burst, on both databases: real `worker`
//! processes of the binary, publishing through the real X adapter to a simulator in this test
//! process that takes a while to answer each call, so a worker always has calls in flight.
//!
//! A worker holds at most one lease of anything: the survivors take over a killed worker's jobs
//! and platform slots once its lease (15 seconds by default, renewed while a worker lives)
//! runs out, and a worker restarted on the same machine takes back at once what its killed run
//! left. Publishing never repeats a post: a target whose call was in flight is looked up at X
//! (the account's own posts since the attempt started), and is recorded as published when X
//! has the post, or published once more when X certainly has not; none is left for a person
//! to check ("Needs a check").

use crate::both_backends;
use crate::connect::connect_through_oauth;
use crate::fixtures::owner_with_workspace;
use crate::helpers::{Backend, TestApp, post_input, spawn_app_with};
use crate::platform::binary_for;
use crate::processes::Process;
use services::posts::Intent;
use std::time::Duration;

both_backends!(
    a_restarted_worker_takes_back_at_once_what_its_killed_run_left,
    a_killed_workers_jobs_go_to_the_other_within_one_lease,
    a_job_longer_than_its_lease_stays_with_its_live_worker,
);

const AUTHOR: &str = "ada@example.com";
/// Posts in the burst; each has one X target. With X's 16 slots and the latency below, a
/// burst lasts several seconds at full speed, so the kills land mid-burst however fast the
/// machine.
const POSTS: usize = 160;
/// How long the simulator takes to answer each call.
const LATENCY: Duration = Duration::from_millis(600);
/// The longest the test waits for anything; far above what a working product needs (a few
/// seconds), far below the 300-second leases that used to stall publishing.
const PATIENCE: Duration = Duration::from_secs(90);

struct Burst {
    app: TestApp,
    sim: sim::Simulator,
    base: String,
    _running: sim::Running,
}

/// A simulator that answers after [`LATENCY`], the application pointed at it, an X account
/// connected through OAuth, and [`POSTS`] posts due now (no worker has run yet).
async fn burst(backend: Backend) -> Option<Burst> {
    let sim = sim::Simulator::new().with_chaos(sim::Chaos {
        latency: LATENCY,
        publish_error_rate: 0.0,
    });
    let running = sim
        .start(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let base = running.base_url.clone();
    let app = spawn_app_with(backend, |s| s.platforms.simulator = Some(base.clone())).await?;
    let (client, ws) = owner_with_workspace(&app, AUTHOR).await;
    let account = connect_through_oauth(&app, &client, ws, "x").await;
    for i in 0..POSTS {
        app.save_post(
            AUTHOR,
            ws,
            post_input(
                &format!("Burst post number {i}"),
                &[account],
                Vec::new(),
                Intent::PublishNow,
            ),
        )
        .await;
    }
    Some(Burst {
        app,
        sim,
        base,
        _running: running,
    })
}

/// Starts a `worker` process of the binary against the burst's database and simulator.
fn worker(burst: &Burst, extra: &[(&str, &str)]) -> Process {
    let mut cmd = binary_for(&burst.app);
    cmd.arg("worker")
        .env("SOCIALIZIOZ__PLATFORMS__SIMULATOR", &burst.base)
        .env("SOCIALIZIOZ__WORKER__POLL_INTERVAL_MS", "100")
        .env("SOCIALIZIOZ_LOG", "warn");
    for (key, value) in extra {
        cmd.env(key, value);
    }
    Process::start("worker", cmd, |_| None)
}

/// Waits until `done` holds, failing after [`PATIENCE`] with `what`.
async fn until<F, Fut>(what: &str, done: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    crate::helpers::until(what, PATIENCE, done).await
}

/// The jobs the worker process `child` is running.
async fn held_by(app: &TestApp, child: &Process) -> i64 {
    app.count(&format!(
        "SELECT COUNT(*) FROM jobs WHERE state = 'running' AND locked_by LIKE '%/{}.%'",
        child.id()
    ))
    .await
}

/// Targets still waiting or publishing, and publish jobs not finished (a killed worker's job
/// whose target it had already settled still holds its slot until it is taken again).
async fn open_targets(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM post_targets WHERE state IN ('scheduled', 'publishing')")
        .await
        + app
            .count("SELECT COUNT(*) FROM jobs WHERE kind = 'publish' AND state IN ('queued', 'running')")
            .await
}

/// What the burst ended with: no post twice at the simulator, every target settled, at most
/// `left_to_check` of them left for a person to check, every other one published.
async fn assert_settled_once(burst: &Burst, left_to_check: usize) {
    let posts = burst.sim.posts();
    let mut texts: Vec<&str> = posts.iter().map(|p| p.text.as_str()).collect();
    texts.sort_unstable();
    let before = texts.len();
    texts.dedup();
    assert_eq!(before, texts.len(), "a post was published twice");
    assert_eq!(open_targets(&burst.app).await, 0);
    let unconfirmed = burst
        .app
        .count("SELECT COUNT(*) FROM post_targets WHERE state = 'unconfirmed'")
        .await;
    let published = burst
        .app
        .count("SELECT COUNT(*) FROM post_targets WHERE state = 'published'")
        .await;
    assert!(
        usize::try_from(unconfirmed).unwrap() <= left_to_check,
        "{unconfirmed} targets need a check, more than {left_to_check}"
    );
    assert_eq!(
        usize::try_from(published + unconfirmed).unwrap(),
        POSTS,
        "every target is published or left for a person"
    );
    assert!(
        usize::try_from(published).unwrap() <= posts.len(),
        "a target is marked published that the platform never received"
    );
}

/// Targets a killed worker's calls in flight (up to X's 16 slots) may leave for a person to
/// check: none, as X is asked whether each interrupted call made its post.
const LEFT_TO_CHECK: usize = 0;

async fn a_restarted_worker_takes_back_at_once_what_its_killed_run_left(backend: Backend) {
    let Some(burst) = burst(backend).await else {
        return;
    };
    // Leases far longer than the test's patience: only the hand-back can end them in time.
    let long_lease = [("SOCIALIZIOZ__WORKER__LEASE_SECONDS", "3600")];
    let first = worker(&burst, &long_lease);
    until("the first worker publishes", || async {
        burst.sim.posts().len() >= 20
    })
    .await;
    // Killed with calls in flight, holding the X slots of the jobs it had claimed.
    until("the first worker holds jobs", || async {
        held_by(&burst.app, &first).await > 0
    })
    .await;
    first.kill();
    let at_kill = burst.sim.posts().len();
    assert!(at_kill < POSTS, "the burst ended before the kill");
    assert!(
        held_by(&burst.app, &first).await > 0,
        "the killed worker held jobs"
    );

    let second = worker(&burst, &long_lease);
    let took = until("the restarted worker publishes the rest", || async {
        open_targets(&burst.app).await == 0
    })
    .await;
    second.kill();
    crate::helpers::skip(&format!(
        "crash test ({backend:?}): a restarted worker published the remaining {} posts in {took:.1?}",
        POSTS - at_kill
    ));
    assert_settled_once(&burst, LEFT_TO_CHECK).await;
}

async fn a_killed_workers_jobs_go_to_the_other_within_one_lease(backend: Backend) {
    let Some(burst) = burst(backend).await else {
        return;
    };
    // The default lease: what an operator gets without configuring anything.
    let doomed = worker(&burst, &[]);
    until("the first worker publishes", || async {
        burst.sim.posts().len() >= 10
    })
    .await;
    // The other worker is already running when the first dies, so it does not hand anything
    // back at its start: the killed worker's jobs and slots come back when their leases, no
    // longer renewed, run out.
    let other = worker(&burst, &[]);
    until("both workers publish", || async {
        burst.sim.posts().len() >= 30
    })
    .await;
    // Killed while it holds jobs (and their X slots) with calls in flight.
    until("the first worker holds jobs", || async {
        held_by(&burst.app, &doomed).await > 0
    })
    .await;
    doomed.kill();
    let at_kill = burst.sim.posts().len();
    assert!(
        held_by(&burst.app, &doomed).await > 0,
        "the killed worker held jobs"
    );
    assert!(at_kill < POSTS, "the burst ended before the kill");
    // What is bounded is the wait for the killed worker's jobs to be taken again, not the
    // publishing of the rest, which a busy machine may slow down as much as it likes.
    let reclaimed = until("the killed worker's jobs are taken again", || async {
        held_by(&burst.app, &doomed).await == 0
    })
    .await;
    let took = until("the other worker publishes the rest", || async {
        open_targets(&burst.app).await == 0
    })
    .await;
    other.kill();
    crate::helpers::skip(&format!(
        "crash test ({backend:?}): after a worker was killed, its jobs were taken again in \
         {reclaimed:.1?} and the other settled the remaining {} posts in {took:.1?}",
        POSTS - at_kill
    ));
    assert!(
        reclaimed < services::jobs::worker::DEFAULT_LEASE + Duration::from_secs(30),
        "the killed worker's jobs were taken again {reclaimed:?} after the kill"
    );
    assert_settled_once(&burst, LEFT_TO_CHECK).await;
}

/// A call that takes longer than the lease (a slow platform, a large video) stays with the
/// worker making it: its heartbeat renews the lease, so a second worker never takes the job
/// and finds its attempt open (which it would then have to reconcile with X).
async fn a_job_longer_than_its_lease_stays_with_its_live_worker(backend: Backend) {
    let Some(burst) = burst(backend).await else {
        return;
    };
    // Renewed every 1.8 s: a renewal may wait seconds for a busy database and still arrive
    // before the worker's half-lease fence.
    let short_lease = [("SOCIALIZIOZ__WORKER__LEASE_SECONDS", "9")];
    // The first post is kept at once, but answered only after two leases.
    burst
        .sim
        .publish_then_hang(domain::Platform::X, Duration::from_secs(18));
    let one = worker(&burst, &short_lease);
    until("the first call reaches the platform", || async {
        !burst.sim.posts().is_empty()
    })
    .await;
    let two = worker(&burst, &short_lease);
    until("every post is settled", || async {
        open_targets(&burst.app).await == 0
    })
    .await;
    for child in [&one, &two] {
        child.kill();
    }
    assert_settled_once(&burst, 0).await;
    assert_eq!(
        burst
            .app
            .count("SELECT COUNT(*) FROM publish_attempts WHERE outcome IS NULL OR outcome <> 'published'")
            .await,
        0,
        "no attempt was found open by another worker"
    );
}

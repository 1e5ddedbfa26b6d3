//! Publishing on time and once, under load.
//!
//! `cargo bench -p socializioz --bench scheduler` schedules `BENCH_POSTS` posts (default
//! 10,000), each with one target, due spread evenly over `BENCH_SPREAD_S` seconds (default 60:
//! "10,000 posts due in the same minute"; 0 makes them all due at the same instant), and runs
//! two worker processes (this program, started again as children) against the database, with
//! the recording publisher answering after `BENCH_LATENCY_MS` (default 50). It does this on
//! SQLite and on PostgreSQL (`BENCH_POSTGRES`, default the local test server; skipped when it
//! cannot be reached; `BENCH_BACKENDS=sqlite` or `postgres` runs one), then runs a bare loop
//! that makes the same calls at the same due times with nothing in between, and prints for
//! each: lateness after the due time (p50, p99, max), posts per second, duplicates, lost posts,
//! each worker's peak memory, and the ratios to the bare loop; and each worker's time per stage
//! (see `services::jobs::stages`).
//!
//! By default the workers publish through the real adapters (X, Facebook and LinkedIn, in
//! turn) against the platform simulator, which adds `BENCH_LATENCY_MS` to every call and
//! answers `BENCH_ERROR_PERMILLE` (default 10, i.e. 1%) of publishing calls with a 500; the
//! accounts are connected through the adapters' OAuth first. Lateness is then read from the
//! product's own record (when the successful attempt started), and duplicates and lost posts
//! from what the simulator published. `BENCH_THROUGH=recording` uses the recording publisher
//! instead (the content issue's figures).
//!
//! The posts, targets and jobs are written straight into the tables (in the shape the composer
//! writes them) so that setting up 10,000 posts takes seconds; everything from claiming the job
//! to recording the result is the product's code.

// A benchmark program: when its setup fails, stopping with the reason is the right answer.
#![allow(clippy::expect_used)]

mod common;

// The workers here are this program started again: they allocate as `socializioz worker` does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use chrono::{DateTime, Utc};
use common::{drop_pg, env_or, peak_rss_mib};
use domain::{Platform, SocialAccountId, TargetId};
use providers::social::recording::RecordingPublisher;
use providers::social::{
    AccountRef, Candidate, Connector, Connectors, PublishRequest, Publisher, Publishers,
};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set, TransactionTrait};
use services::queue::{self, NewJob};
use socializioz::config::Settings;
use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::entities::states::PostState;
use store::entities::{post, post_target, social_account};

fn settings(data: &std::path::Path, url: &str) -> Settings {
    let mut s = common::settings(data, url, 16);
    // Each simulated platform may take as many calls at once as both workers can make, as the
    // five recording platforms together could (the default, 16 per platform, is for real
    // platforms' rate limits; here it would measure the limit rather than the scheduler).
    for p in SIMULATED {
        s.worker
            .limits
            .insert(services::publishing::concurrency_key(p.slug()), 64);
        // The benchmark's one account per platform stands for many.
        s.worker
            .limits
            .insert(services::publishing::per_account_limit_key(p.slug()), 64);
    }
    s
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    if std::env::var("SCHED_BENCH_ROLE").as_deref() == Ok("worker") {
        runtime.block_on(worker_process());
    } else if std::env::args().any(|a| a == "--bench") || std::env::var("SCHED_BENCH_RUN").is_ok() {
        runtime.block_on(bench());
    }
}

/// A child: one worker process. Runs until its stdin closes, then prints what its publisher
/// received (`R <target id> <received at, µs since the epoch> <published>`) and its peak memory.
async fn worker_process() {
    let url = std::env::var("SCHED_BENCH_DB").expect("SCHED_BENCH_DB");
    let data = std::path::PathBuf::from(std::env::var("SCHED_BENCH_DATA").expect("data dir"));
    let latency = Duration::from_millis(env_or("BENCH_LATENCY_MS", 50));
    let settings = settings(&data, &url);
    let mut services = socializioz::app::services(&settings, "http://127.0.0.1".into())
        .await
        .expect("services");
    let publisher = Arc::new(RecordingPublisher::new(latency));
    match std::env::var("SCHED_BENCH_SIM") {
        Ok(base) => {
            let (publishers, connectors) = simulated_adapters(&base);
            services.publishers = publishers;
            services.connectors = connectors;
        }
        Err(_) => {
            services.publishers = Platform::ALL.iter().fold(Publishers::default(), |all, p| {
                all.with(*p, publisher.clone())
            });
        }
    }
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let batches = Arc::clone(&services.publish_batches);
    let worker = services::jobs::worker::Worker::new(services, settings.worker.options());
    let task = tokio::spawn(worker.run(stopped));
    println!("READY");
    let _ = std::io::stdout().flush();
    tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        while std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map(|n| n > 0)
            .unwrap_or(false)
        {
            line.clear();
        }
    })
    .await
    .expect("stdin");
    let _ = stop.send(true);
    let _ = task.await;
    let mut out = std::io::stdout().lock();
    for r in publisher.received() {
        let target = target_of(&r.request.idempotency_key);
        let _ = writeln!(
            out,
            "R {target} {} {}",
            r.wall.timestamp_micros(),
            u8::from(r.published)
        );
    }
    // Where this worker's time went, stage by stage.
    for line in services::jobs::stages::report().lines() {
        let _ = writeln!(out, "S\t{line}");
    }
    // How the publishing writes were grouped across jobs (`services::publishing::batch`).
    let (begins, begun, closes, closed) = batches.counts();
    let _ = writeln!(
        out,
        "S\tgroups: {begun} attempts written in {begins} transactions ({:.1} a group), {closed} answers in {closes} ({:.1} a group)",
        begun as f64 / begins.max(1) as f64,
        closed as f64 / closes.max(1) as f64
    );
    let _ = writeln!(out, "MEM {:.1}", peak_rss_mib());
    let _ = writeln!(out, "CPU {:.3}", cpu_seconds("self"));
}

/// The platforms the simulated run publishes to, in turn (those without per-day posting limits
/// in the simulator, as at the platforms).
const SIMULATED: [Platform; 3] = [Platform::X, Platform::Facebook, Platform::LinkedIn];

/// The real adapters of [`SIMULATED`], pointed at the simulator at `base`.
fn simulated_adapters(base: &str) -> (Publishers, Connectors) {
    use providers::social::facebook::{Facebook, FacebookConfig};
    use providers::social::linkedin::{LinkedIn, LinkedInConfig};
    use providers::social::x::{X, XConfig};
    let x = Arc::new(X::new(XConfig::simulated(base)));
    let facebook = Arc::new(Facebook::new(FacebookConfig::simulated(base)));
    let linkedin = Arc::new(LinkedIn::new(LinkedInConfig::simulated(base)));
    (
        Publishers::default()
            .with(Platform::X, x.clone())
            .with(Platform::Facebook, facebook.clone())
            .with(Platform::LinkedIn, linkedin.clone()),
        Connectors::default()
            .with(Platform::X, x)
            .with(Platform::Facebook, facebook)
            .with(Platform::LinkedIn, linkedin),
    )
}

/// Connects an account through the adapter's own OAuth calls, pressing Allow on the
/// simulator's authorize page; the account it offers first.
async fn connect_through(connector: &dyn Connector, username: &str) -> Candidate {
    use base64::Engine;
    use sha2::Digest;
    let verifier = "scheduler-benchmark-verifier-0123456789-abcdef";
    let challenge = connector.uses_pkce().then(|| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier))
    });
    let redirect = "http://127.0.0.1:9/oauth/bench/callback";
    let url = connector.authorize_url(
        "bench-state",
        challenge.as_deref(),
        redirect,
        connector.publishing_scopes(),
    );
    let (action, query) = url.split_once('?').expect("an authorize URL");
    let mut form: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    form.push(("decision".into(), "allow".into()));
    form.push(("username".into(), username.into()));
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client")
        .post(action)
        .form(&form)
        .send()
        .await
        .expect("the authorize page");
    let location = res
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("a redirect back")
        .to_owned();
    let code = form_urlencoded::parse(location.split_once('?').expect("a query").1.as_bytes())
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("a code");
    let grant = connector
        .exchange(&code, challenge.is_some().then_some(verifier), redirect)
        .await
        .expect("tokens");
    connector
        .accounts(&grant)
        .await
        .expect("accounts")
        .into_iter()
        .next()
        .expect("an account")
}

/// The target id inside an idempotency key `sz-<target>-<attempt>-<random>`.
fn target_of(key: &str) -> i64 {
    key.split('-')
        .nth(1)
        .and_then(|t| t.parse().ok())
        .unwrap_or(-1)
}

struct Figures {
    label: String,
    p50: Duration,
    p99: Duration,
    max: Duration,
    per_second: f64,
    duplicates: usize,
    lost: usize,
    memory: Vec<f64>,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Lateness and throughput from (target, received at) pairs and the due times.
fn figures(
    label: &str,
    due: &HashMap<i64, DateTime<Utc>>,
    received: &[(i64, DateTime<Utc>)],
    memory: Vec<f64>,
) -> Figures {
    let mut counts: HashMap<i64, usize> = HashMap::new();
    for (target, _) in received {
        *counts.entry(*target).or_default() += 1;
    }
    let duplicates = counts.values().filter(|n| **n > 1).map(|n| n - 1).sum();
    let lost = due.keys().filter(|t| !counts.contains_key(t)).count();
    let mut lateness: Vec<Duration> = received
        .iter()
        .filter_map(|(t, at)| {
            due.get(t)
                .map(|d| (*at - *d).to_std().unwrap_or(Duration::ZERO))
        })
        .collect();
    lateness.sort();
    let first_due = due.values().min().copied().unwrap_or_else(Utc::now);
    let last = received
        .iter()
        .map(|(_, at)| *at)
        .max()
        .unwrap_or(first_due);
    let span = (last - first_due)
        .to_std()
        .unwrap_or(Duration::from_millis(1));
    Figures {
        label: label.to_owned(),
        p50: percentile(&lateness, 0.5),
        p99: percentile(&lateness, 0.99),
        max: lateness.last().copied().unwrap_or_default(),
        per_second: received.len() as f64 / span.as_secs_f64().max(0.001),
        duplicates,
        lost,
        memory,
    }
}

async fn bench() {
    let posts = env_or("BENCH_POSTS", 10_000) as usize;
    let spread = Duration::from_secs(env_or("BENCH_SPREAD_S", 60));
    let latency = Duration::from_millis(env_or("BENCH_LATENCY_MS", 50));
    println!(
        "scheduler benchmark: {posts} posts due over {}s, provider latency {} ms, 2 worker processes",
        spread.as_secs(),
        latency.as_millis()
    );
    let mut results = Vec::new();
    let through_sim = std::env::var("BENCH_THROUGH").as_deref() != Ok("recording");
    let error_rate = env_or("BENCH_ERROR_PERMILLE", 10) as f64 / 1000.0;
    let simulator = if through_sim {
        let simulator = sim::Simulator::new().with_chaos(sim::Chaos {
            latency,
            publish_error_rate: error_rate,
        });
        let running = simulator
            .start(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("the simulator");
        println!(
            "through the real adapters (X, Facebook, LinkedIn) against the simulator: {} ms per call, {:.1}% of publishing calls answered 500",
            latency.as_millis(),
            error_rate * 100.0
        );
        let base = running.base_url.clone();
        std::mem::forget(running);
        Some((simulator, base))
    } else {
        println!("through the recording publisher");
        None
    };

    let dir = std::env::temp_dir().join(format!("sz-sched-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    let backends = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    if backends.contains("sqlite") {
        let sqlite = format!("sqlite://{}", dir.join("bench.db").display());
        results.push(run_backend("SQLite", &sqlite, &dir, posts, spread, simulator.as_ref()).await);
    }

    if backends.contains("postgres") {
        let pg_base = common::pg_base();
        match common::create_pg(&pg_base, "sz_sched_bench").await {
            Some((url, name)) => {
                results.push(
                    run_backend("PostgreSQL", &url, &dir, posts, spread, simulator.as_ref()).await,
                );
                drop_pg(&pg_base, &name).await;
            }
            None => println!("PostgreSQL not reachable at {pg_base}: skipped"),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);

    let bare = bare_loop(posts, spread, latency).await;
    println!();
    println!(
        "{:<12} {:>9} {:>9} {:>9} {:>10} {:>5} {:>5} {:>18}",
        "run", "p50", "p99", "max", "posts/s", "dup", "lost", "peak MiB/worker"
    );
    for f in results.iter().chain(std::iter::once(&bare)) {
        println!(
            "{:<12} {:>7.1}ms {:>7.1}ms {:>7.1}ms {:>10.1} {:>5} {:>5} {:>18}",
            f.label,
            f.p50.as_secs_f64() * 1e3,
            f.p99.as_secs_f64() * 1e3,
            f.max.as_secs_f64() * 1e3,
            f.per_second,
            f.duplicates,
            f.lost,
            f.memory
                .iter()
                .map(|m| format!("{m:.0}"))
                .collect::<Vec<_>>()
                .join(" + ")
        );
    }
    println!();
    for f in &results {
        println!(
            "{}: p99 lateness {:.1} ms = {:.2}× the bare loop's ({:.1} ms); posts/s {:.2}× the bare loop's; goal p99 ≤ 1 s: {}; duplicates {}; lost {}",
            f.label,
            f.p99.as_secs_f64() * 1e3,
            f.p99.as_secs_f64() / bare.p99.as_secs_f64().max(1e-6),
            bare.p99.as_secs_f64() * 1e3,
            f.per_second / bare.per_second.max(1e-6),
            if f.p99 <= Duration::from_secs(1) {
                "met"
            } else {
                "MISSED"
            },
            f.duplicates,
            f.lost
        );
    }
}

/// The due time of post `i` of `n`, spread over `spread` from `start`.
fn due_at(start: DateTime<Utc>, spread: Duration, i: usize, n: usize) -> DateTime<Utc> {
    let offset = spread.mul_f64(i as f64 / n.max(1) as f64);
    start + chrono::Duration::from_std(offset).unwrap_or_default()
}

async fn run_backend(
    label: &str,
    url: &str,
    dir: &std::path::Path,
    posts: usize,
    spread: Duration,
    simulator: Option<&(sim::Simulator, String)>,
) -> Figures {
    let settings = settings(dir, url);
    let services = socializioz::app::services(&settings, "http://127.0.0.1".into())
        .await
        .expect("services");
    let db = &services.db;
    let setup = Instant::now();
    // Leave enough time to write everything before the first post is due.
    let start = Utc::now() + chrono::Duration::seconds(20 + posts as i64 / 1000);
    let now = services::now();
    let (author, ws) = common::person_with_workspace(
        &services,
        "Bench",
        &format!("bench-{}@example.com", std::process::id()),
    )
    .await;
    let mut accounts = Vec::new();
    let platforms: &[Platform] = if simulator.is_some() {
        &SIMULATED
    } else {
        &Platform::ALL
    };
    for p in platforms {
        let connected = match simulator {
            Some((_, base)) => {
                let (_, connectors) = simulated_adapters(base);
                let connector = connectors.get(*p).expect("an adapter");
                Some(connect_through(connector.as_ref(), &format!("bench_{}", p.slug())).await)
            }
            None => None,
        };
        let a = social_account::ActiveModel {
            workspace_id: Set(ws.id),
            platform: Set(p.slug().into()),
            external_id: Set(connected
                .as_ref()
                .map(|c| c.identity.external_id.clone())
                .unwrap_or_else(|| format!("bench-{}", p.slug()))),
            username: Set(format!("bench_{}", p.slug())),
            display_name: Set("Bench".into()),
            avatar_url: Set(None),
            status: Set(store::entities::states::AccountStatus::Connected),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("an account");
        if let Some(c) = connected {
            let seconds = |s: Option<u64>| {
                s.map(|s| now + chrono::Duration::seconds(i64::try_from(s).unwrap_or(0)))
            };
            services
                .store_tokens(
                    db,
                    SocialAccountId(a.id),
                    &services::account_tokens::TokenSet {
                        access: c.grant.access,
                        refresh: c.grant.refresh,
                        expires_at: seconds(c.grant.expires_in),
                        refresh_expires_at: seconds(c.grant.refresh_expires_in),
                        scopes: c.grant.scopes,
                    },
                )
                .await
                .expect("sealed tokens");
        }
        accounts.push(a);
    }
    let mut text_of_target = HashMap::new();
    let mut due = HashMap::new();
    for chunk in (0..posts).collect::<Vec<_>>().chunks(500) {
        let txn = db.begin().await.expect("a transaction");
        for &i in chunk {
            let at = due_at(start, spread, i, posts);
            let account = &accounts[i % accounts.len()];
            let p = post::ActiveModel {
                workspace_id: Set(ws.id),
                author_id: Set(Some(author.id)),
                body: Set(format!("Benchmark post {label} {i}")),
                state: Set(PostState::Scheduled),
                scheduled_at: Set(Some(at)),
                schedule_tz: Set(Some("UTC".into())),
                revision: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await
            .expect("a post");
            let t = post_target::ActiveModel {
                post_id: Set(p.id),
                account_id: Set(account.id),
                options: Set("{}".into()),
                state: Set(PostState::Scheduled),
                attempts: Set(0),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await
            .expect("a target");
            let mut job = NewJob::of(&services::publishing::PublishTarget {
                target: t.id,
                revision: 1,
            })
            .expect("a payload");
            job.run_at = at;
            job.max_attempts = services::publishing::MAX_ATTEMPTS;
            job.workspace_id = Some(ws.id);
            job.concurrency_key = Some(services::publishing::account_key(
                &account.platform,
                account.id,
            ));
            job.subject = Some(services::publishing::subject(TargetId(t.id)));
            queue::enqueue(&txn, job).await.expect("a job");
            due.insert(t.id, at);
            text_of_target.insert(format!("Benchmark post {label} {i}"), t.id);
        }
        txn.commit().await.expect("commit");
    }
    let setup_took = setup.elapsed();
    if Utc::now() > start {
        println!(
            "{label}: setup took {setup_took:?} and overran the first due time; figures include that"
        );
    }

    // The CPU time spent from here on: this process (the simulator), the database server.
    let cpu_before = (cpu_seconds("self"), postgres_cpu_seconds());
    // Two worker processes.
    let exe = std::env::current_exe().expect("this program");
    let mut children = Vec::new();
    for _ in 0..2 {
        let mut command = Command::new(&exe);
        if let Some((_, base)) = simulator {
            command.env("SCHED_BENCH_SIM", base);
        }
        let mut child = command
            .env("SCHED_BENCH_ROLE", "worker")
            .env("SCHED_BENCH_DB", url)
            .env("SCHED_BENCH_DATA", dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("a worker process");
        let mut out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        let _ = out.read_line(&mut line);
        children.push((child, out));
    }
    // Wait until every target is settled (or far past the last due time).
    let deadline = Instant::now()
        + spread
        + Duration::from_secs(120)
        + (start - Utc::now()).to_std().unwrap_or_default();
    loop {
        let open = count(
            db,
            "SELECT COUNT(*) FROM post_targets WHERE state IN ('scheduled', 'publishing')",
        )
        .await;
        if open == 0 || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let mut received = Vec::new();
    let mut memory = Vec::new();
    let mut stages = String::new();
    let mut workers_cpu = 0.0;
    for (n, (mut child, mut out)) in children.into_iter().enumerate() {
        drop(child.stdin.take());
        let mut line = String::new();
        while out.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
            if let Some(stage) = line.strip_prefix("S\t") {
                stages.push_str(&stage_line(n + 1, stage));
                line.clear();
                continue;
            }
            let parts: Vec<&str> = line.split_whitespace().collect();
            match parts.as_slice() {
                ["R", target, at, published] if *published == "1" => {
                    if let (Ok(t), Ok(us)) = (target.parse::<i64>(), at.parse::<i64>())
                        && let Some(at) = DateTime::from_timestamp_micros(us)
                    {
                        received.push((t, at));
                    }
                }
                ["MEM", mib] => memory.push(mib.parse().unwrap_or(f64::NAN)),
                ["CPU", secs] => workers_cpu += secs.parse::<f64>().unwrap_or(f64::NAN),
                _ => {}
            }
            line.clear();
        }
        let _ = child.wait();
    }
    println!(
        "{label}: setup {setup_took:.1?}, {} publications received",
        received.len()
    );
    let per_post = |secs: f64| secs * 1000.0 / posts as f64;
    println!(
        "{label}: CPU time per post: workers {:.2} ms, simulator {:.2} ms, {} {:.2} ms",
        per_post(workers_cpu),
        per_post(cpu_seconds("self") - cpu_before.0),
        if url.starts_with("postgres") {
            "PostgreSQL server"
        } else {
            "(SQLite is in the workers)"
        },
        per_post(postgres_cpu_seconds() - cpu_before.1),
    );
    println!(
        "{label}: where the workers' time went (ms)\n{:<8} {:<16} {:>7} {:>8} {:>8} {:>8} {:>8}\n{stages}",
        "worker", "stage", "count", "mean", "p50", "p99", "max"
    );
    let published = count(
        db,
        "SELECT COUNT(*) FROM post_targets WHERE state = 'published'",
    )
    .await;
    if published != posts as i64 {
        println!("{label}: only {published} of {posts} targets are marked published");
    }
    let Some((simulator, _)) = simulator else {
        return figures(label, &due, &received, memory);
    };
    // Through the simulator: the call that published, as the product recorded it; and what the
    // platforms really received.
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    // The successful attempt of each target, and whether an earlier one failed (the 1% the
    // simulator answers with an error wait for their retry's backoff: reported apart).
    let published: Vec<(i64, DateTime<Utc>, bool)> =
        store::entities::publish_attempt::Entity::find()
            .filter(
                store::entities::publish_attempt::Column::Outcome
                    .eq(services::publishing::AttemptOutcome::Published),
            )
            .all(db)
            .await
            .expect("attempts")
            .into_iter()
            .filter(|a| due.contains_key(&a.target_id))
            .map(|a| (a.target_id, a.started_at, a.number > 1))
            .collect();
    let started: Vec<(i64, DateTime<Utc>)> = published.iter().map(|(t, at, _)| (*t, *at)).collect();
    let first_try: Vec<(i64, DateTime<Utc>)> = published
        .iter()
        .filter(|(_, _, retried)| !retried)
        .map(|(t, at, _)| (*t, *at))
        .collect();
    let retried: Vec<(i64, DateTime<Utc>)> = published
        .iter()
        .filter(|(_, _, retried)| *retried)
        .map(|(t, at, _)| (*t, *at))
        .collect();
    let mut at_platforms: HashMap<i64, usize> = HashMap::new();
    for post in simulator.posts() {
        if let Some(target) = text_of_target.get(&post.text) {
            *at_platforms.entry(*target).or_default() += 1;
        }
    }
    let after_retry = figures(label, &due, &retried, Vec::new());
    println!(
        "{label}: {} posts at the platforms; {} published after an error and a retry (lateness p50 {:.0} ms, max {:.0} ms), left out of the lateness figures below",
        at_platforms.values().sum::<usize>(),
        retried.len(),
        after_retry.p50.as_secs_f64() * 1e3,
        after_retry.max.as_secs_f64() * 1e3,
    );
    let all = figures(label, &due, &started, Vec::new());
    let mut f = figures(label, &due, &first_try, memory);
    f.per_second = all.per_second;
    f.duplicates = at_platforms.values().map(|n| n.saturating_sub(1)).sum();
    f.lost = due.keys().filter(|t| !at_platforms.contains_key(t)).count();
    f
}

/// User and system CPU seconds of process `pid` (or `self`) so far, from `/proc` (Linux; the
/// kernel counts in hundredths of a second).
fn cpu_seconds(pid: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            // Fields after the command name, which is in parentheses and may hold spaces.
            let rest = stat.rsplit_once(')')?.1;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let user: f64 = fields.get(11)?.parse().ok()?;
            let system: f64 = fields.get(12)?.parse().ok()?;
            Some((user + system) / 100.0)
        })
        .unwrap_or(0.0)
}

/// The CPU seconds of every PostgreSQL server process on this machine so far (those that
/// ended meanwhile are not counted; the workers' connections live through the run).
fn postgres_cpu_seconds() -> f64 {
    std::fs::read_dir("/proc")
        .map(|dir| {
            dir.filter_map(Result::ok)
                .filter(|e| {
                    std::fs::read_to_string(e.path().join("comm"))
                        .is_ok_and(|c| c.trim() == "postgres")
                })
                .map(|e| cpu_seconds(&e.file_name().to_string_lossy()))
                .sum()
        })
        .unwrap_or(0.0)
}

/// One line of the stage table from a worker's `stage, count, mean, p50, p99, max (µs)`.
fn stage_line(worker: usize, line: &str) -> String {
    let cells: Vec<&str> = line.trim_end().split('\t').collect();
    let ms = |i: usize| {
        cells
            .get(i)
            .and_then(|c| c.parse::<f64>().ok())
            .map_or_else(|| "?".to_owned(), |us| format!("{:.1}", us / 1000.0))
    };
    format!(
        "{:<8} {:<16} {:>7} {:>8} {:>8} {:>8} {:>8}\n",
        worker,
        cells.first().unwrap_or(&"?"),
        cells.get(1).unwrap_or(&"?"),
        ms(2),
        ms(3),
        ms(4),
        ms(5)
    )
}

async fn count(db: &store::Db, sql: &str) -> i64 {
    db.query_one_raw(sea_orm::Statement::from_string(
        db.get_database_backend(),
        sql,
    ))
    .await
    .ok()
    .flatten()
    .and_then(|r| r.try_get_by_index::<i64>(0).ok())
    .unwrap_or(-1)
}

/// The same provider calls at the same due times, made by a loop that sleeps until each is due
/// and makes at most as many calls at once as the two workers may: the floor any scheduler is
/// measured against.
async fn bare_loop(posts: usize, spread: Duration, latency: Duration) -> Figures {
    let publisher = Arc::new(RecordingPublisher::new(latency));
    // As many calls at once as the two worker processes may make.
    let in_flight = Arc::new(tokio::sync::Semaphore::new(
        2 * usize::try_from(socializioz::config::WorkerSettings::default().concurrency)
            .unwrap_or(32),
    ));
    let start = Utc::now() + chrono::Duration::seconds(1);
    let mut due = HashMap::new();
    let mut tasks = Vec::new();
    for i in 0..posts {
        let at = due_at(start, spread, i, posts);
        due.insert(i as i64, at);
        let publisher = publisher.clone();
        let in_flight = in_flight.clone();
        tasks.push(tokio::spawn(async move {
            let wait = (at - Utc::now()).to_std().unwrap_or_default();
            tokio::time::sleep(wait).await;
            let _permit = in_flight.acquire().await;
            let request = PublishRequest {
                access_token: None,
                account: AccountRef {
                    id: 1,
                    platform: Platform::X,
                    external_id: "bare".into(),
                    username: "bare".into(),
                },
                text: format!("Benchmark post {i}"),
                media: Vec::new(),
                first_comment: None,
                options: serde_json::Value::Null,
                idempotency_key: format!("sz-{i}-1-bare"),
            };
            let _ = publisher.publish(&request).await;
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let received: Vec<(i64, DateTime<Utc>)> = publisher
        .received()
        .iter()
        .map(|r| (target_of(&r.request.idempotency_key), r.wall))
        .collect();
    figures("bare loop", &due, &received, vec![peak_rss_mib()])
}

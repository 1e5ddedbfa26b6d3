//! Reading back the figures of 1,000 accounts × 100 posts from the platform simulator: how long
//! the product's own ingestion takes, and how many calls it makes against the fewest the
//! platforms' APIs allow (issue 19).
//!
//! `cargo bench -p socializioz --bench analytics_ingest` starts the platform simulator (crate
//! `sim`) on a free port and, on SQLite (a fresh file in a temporary folder) and then on
//! PostgreSQL (`BENCH_POSTGRES`, default the local test server; a database is created and
//! dropped; skipped with a message when it cannot be reached), with a `Services` whose
//! platforms all point at the simulator:
//!
//! - makes `BENCH_WORKSPACES` workspaces (default 10) on the Professional plan (billing on, so
//!   the plan check that analytics runs is the real one), and `BENCH_ACCOUNTS` accounts
//!   (default 1,000) spread over them and over the five platforms in turn (Facebook pages,
//!   Instagram professional accounts, TikTok, X and LinkedIn members), each connected through
//!   the adapter's own OAuth against the simulator with the permissions a workspace with
//!   analytics asks for, its tokens sealed and stored as the product stores them;
//! - gives each account `BENCH_POSTS_PER_ACCOUNT` published posts (default 100), published
//!   evenly over the last 80 days: kept in the simulator as that account's posts of that age
//!   (`Simulator::seed_post`: the simulator answers figures only for posts it has, and
//!   publishing 100,000 posts through its API would meet Instagram's and TikTok's posting
//!   limits), and written straight into the tables (a post and its published target with the
//!   platform's id) in the shape publishing leaves them;
//! - turns analytics on in each workspace (`Services::set_analytics`, which plans a read of
//!   every connected account now) and runs the product's worker (`Worker::run`, the worker
//!   process's concurrency and limits) until no read is running or due: every account's first
//!   read (30 days of its daily values and its followers) and every post's first look, in as
//!   few calls per post as the adapter makes;
//! - prints, per platform and in total: accounts, posts, the time until the last call, the
//!   calls the simulator answered (it counts them by platform, `Simulator::calls`), the
//!   minimum calls, their ratio, the answers refused by a rate limit (429, or Graph's
//!   rate-limit error), and the most calls in any one minute; then what was read (posts and
//!   accounts with figures, runs that failed).
//!
//! The minimum calls for one full read of an account with `n` posts, from the APIs as
//! `API_FACTS.md` describes them and the figures ingestion keeps (a first read covers the last
//! `D` = 30 whole days of the account's daily values):
//!
//! - Facebook page: `⌈D / 90⌉ + 1 + 2n`. One page insights call spans up to 90 days; the
//!   page's follower count is a field of its node (another call); a post's reach, reactions
//!   and clicks come from `GET /{post}/insights` and its comment and share counts from
//!   `GET /{post}?fields=…` (no insight gives them): two calls per post. (Graph's field
//!   expansion, `fields=insights.metric(…),comments.summary(…)`, could make it one; neither
//!   `API_FACTS.md` nor the simulator has it, so it is not counted.)
//! - Instagram: `D + 1 + 1 + n`. Most account metrics come only as a `total_value` over the
//!   window asked for, so a day's values take a call of their own; new followers are one
//!   daily series over the window; the follower count is a field of the node; a post's figures
//!   are one `GET /{media}/insights`.
//! - TikTok: `1 + ⌈n / 20⌉`. `GET /v2/user/info/` for the account's totals (TikTok keeps no
//!   daily series); `POST /v2/video/query/` names up to 20 videos.
//! - X: `1 + ⌈n / 100⌉`. `GET /2/users/me` for the followers; `GET /2/tweets?ids=` looks up
//!   to 100 posts.
//! - LinkedIn member: `5n`. `memberCreatorPostAnalytics` answers one `queryType` per call
//!   (impressions, members reached, reshares, reactions, comments) for one post; the member's
//!   account gives no figure under the permission the product asks for, so no call.
//!
//! The simulator enforces no rate limit on these reads (only TikTok's publishing inits, and
//! the faults a test injects), so a refusal would mean an injected one; the most calls in a
//! minute are printed to be held against the limits the platforms document (TikTok: 600 a
//! minute per endpoint; the others' limits are per app and per day, or by usage).
//!
//! Setup (connecting, seeding, writing the tables) is not timed. The simulator, the product and
//! the database share the process and the machine: compare calls and ratios across runs, and
//! times only on the same machine. `BENCH_LATENCY_MS` (default 0) adds that much to every call
//! the simulator answers, as a real platform's distance would.
//!
//! Under `cargo test` this program does nothing unless `INGEST_BENCH_RUN` is set, so that a
//! small run checks it in a debug build:
//! `INGEST_BENCH_RUN=1 BENCH_ACCOUNTS=20 BENCH_POSTS_PER_ACCOUNT=10 cargo test -p socializioz
//! --bench analytics_ingest`.

// A benchmark program: when its setup fails, stopping with the reason is the right answer.
#![allow(clippy::expect_used)]

mod common;

use chrono::TimeDelta;
use common::{create_pg, drop_pg, env_or, pg_base};
use domain::plans::PlanId;
use domain::{Platform, SocialAccountId, UserId, WorkspaceId};
use futures_util::StreamExt;
use providers::social::{Candidate, Connector};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};
use services::Services;
use services::account_tokens::TokenSet;
use socializioz::config::Settings;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use store::entities::states::{AccountStatus, JobState, PostState};
use store::entities::{job, post, post_target, social_account, user, workspace};

/// Days of an account's daily values its first read covers (the ingestion's own, whole days).
const FIRST_DAYS: u64 = 30;
/// Posts are published evenly over this many days before now (all younger than the 90 days
/// after which ingestion stops reading a post).
const SPREAD_DAYS: i64 = 80;
/// Rows per `INSERT`.
const BATCH: usize = 500;
/// OAuth flows at once while connecting.
const CONNECTING: usize = 16;
/// The longest a run may take before the figures are printed as they are.
const DEADLINE: Duration = Duration::from_secs(3600);

#[derive(Clone, Copy)]
struct Size {
    accounts: u64,
    posts: u64,
    workspaces: u64,
}

impl Size {
    /// The platform of account `i`: the five in turn.
    fn platform(i: u64) -> Platform {
        Platform::ALL[(i % 5) as usize]
    }

    /// The workspace (its index) of account `i`: each workspace has every platform.
    fn workspace(self, i: u64) -> u64 {
        (i / 5) % self.workspaces
    }

    /// The most X reads one workspace makes in a full read: its X accounts and their posts (X
    /// bills each, and the product stops at `x_reads_per_month`).
    fn x_reads_per_workspace(self) -> u64 {
        let mut per: HashMap<u64, u64> = HashMap::new();
        for i in (0..self.accounts).filter(|i| Self::platform(*i) == Platform::X) {
            *per.entry(self.workspace(i)).or_default() += 1 + self.posts;
        }
        per.values().copied().max().unwrap_or(0)
    }
}

/// The fewest calls one full read of an account of `platform` with `posts` posts takes (see
/// the formulas at the top).
fn minimum(platform: Platform, posts: u64) -> u64 {
    match platform {
        Platform::Facebook => FIRST_DAYS.div_ceil(90) + 1 + 2 * posts,
        Platform::Instagram => FIRST_DAYS + 1 + 1 + posts,
        Platform::TikTok => 1 + posts.div_ceil(20),
        Platform::X => 1 + posts.div_ceil(100),
        Platform::LinkedIn => 5 * posts,
    }
}

fn main() {
    if !(std::env::args().skip(1).any(|a| a == "--bench")
        || std::env::var("INGEST_BENCH_RUN").is_ok())
    {
        return;
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(bench());
}

async fn bench() {
    let accounts = env_or("BENCH_ACCOUNTS", 1_000).max(1);
    let size = Size {
        accounts,
        posts: env_or("BENCH_POSTS_PER_ACCOUNT", 100),
        // Each workspace has five accounts or more.
        workspaces: env_or("BENCH_WORKSPACES", 10).clamp(1, accounts.div_ceil(5)),
    };
    let latency = Duration::from_millis(env_or("BENCH_LATENCY_MS", 0));
    let simulator = sim::Simulator::new().with_chaos(sim::Chaos {
        latency,
        publish_error_rate: 0.0,
    });
    let running = simulator
        .start(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("the simulator");
    println!(
        "analytics ingestion benchmark: {} accounts in {} workspaces, {} posts each ({} posts), \
         simulator at {} with {} ms per call",
        size.accounts,
        size.workspaces,
        size.posts,
        size.accounts * size.posts,
        running.base_url,
        latency.as_millis()
    );

    let dir = std::env::temp_dir().join(format!("sz-ingest-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("sqlite")).expect("a temporary folder");
    let sqlite = format!(
        "sqlite://{}/bench.db?mode=rwc",
        dir.join("sqlite").display()
    );
    run_backend(
        "SQLite",
        &sqlite,
        &dir.join("sqlite"),
        size,
        &simulator,
        &running.base_url,
    )
    .await;
    let base = pg_base();
    match create_pg(&base, "sz_ingest_bench").await {
        Some((url, name)) => {
            run_backend(
                "PostgreSQL",
                &url,
                &dir.join("pg"),
                size,
                &simulator,
                &running.base_url,
            )
            .await;
            drop_pg(&base, &name).await;
        }
        None => println!("\n== PostgreSQL: skipped (no server at {base})"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn settings(data: &std::path::Path, url: &str, sim_base: &str, size: Size) -> Settings {
    let mut s = common::settings(data, url, 16);
    s.platforms.simulator = Some(sim_base.to_owned());
    // Plans on (billing without PayPal): analytics is checked against the workspace's plan.
    s.billing = Some(Default::default());
    // X bills every read and the product stops at the month's budget: enough for one full read.
    let needed = size.x_reads_per_workspace();
    if needed > s.analytics.x_reads_per_month {
        println!(
            "X reads per workspace and month raised from {} to {needed}, enough for one full read",
            s.analytics.x_reads_per_month
        );
        s.analytics.x_reads_per_month = needed;
    }
    s
}

/// One connected account of the bench.
struct Account {
    id: i64,
    platform: Platform,
    external_id: String,
    workspace: i64,
}

async fn run_backend(
    label: &str,
    url: &str,
    data: &std::path::Path,
    size: Size,
    simulator: &sim::Simulator,
    sim_base: &str,
) {
    println!("\n== {label}");
    let settings = settings(data, url, sim_base, size);
    let services = socializioz::app::services(&settings, "http://127.0.0.1".into())
        .await
        .expect("services");
    let setup = Instant::now();
    let (people, accounts) = connect_accounts(&services, label, size).await;
    let posts = publish_posts(&services, simulator, &accounts, size).await;
    println!(
        "set up {} accounts (connected through OAuth) and {posts} published posts in {:.1} s",
        accounts.len(),
        setup.elapsed().as_secs_f64()
    );

    // The calls before the run: the run's are those counted after it, less these.
    let before: BTreeMap<Platform, sim::Calls> = Platform::ALL
        .iter()
        .map(|p| (*p, simulator.calls(p.slug())))
        .collect();
    for (person, ws) in &people {
        let membership = services
            .memberships_of(UserId(person.id))
            .await
            .expect("memberships")
            .into_iter()
            .find(|m| m.workspace.id == ws.id)
            .expect("the owner's membership");
        services
            .set_analytics(&membership, person, true)
            .await
            .expect("analytics on");
    }
    let sampler = Sampler::start(simulator.clone());
    let started = Instant::now();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = services::jobs::worker::Worker::new(services.clone(), settings.worker.options());
    let worker = tokio::spawn(worker.run(stopped));
    let finished = loop {
        if open_reads(&services.db).await == 0 {
            break true;
        }
        if started.elapsed() > DEADLINE {
            break false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let took = started.elapsed();
    let samples = sampler.stop().await;
    let _ = stop.send(true);
    let _ = worker.await;
    if !finished {
        println!(
            "the reads were not done after {} s: the figures are those so far",
            DEADLINE.as_secs()
        );
    }
    println!(
        "ingestion: {:.2} s until no read was running or due (worker concurrency {})",
        took.as_secs_f64(),
        settings.worker.concurrency
    );
    report(simulator, &before, &accounts, size, &samples, took);
    read_back(&services, &accounts, size).await;
}

/// Connects the bench's accounts: (each workspace's owner and workspace, the accounts).
async fn connect_accounts(
    services: &Services,
    label: &str,
    size: Size,
) -> (Vec<(user::Model, workspace::Model)>, Vec<Account>) {
    let tag = label.to_ascii_lowercase();
    let mut people = Vec::new();
    for w in 0..size.workspaces {
        let (person, ws) = common::person_with_workspace(
            services,
            &format!("Bench {w}"),
            &format!("ingest-{tag}-{w}-{}@example.com", std::process::id()),
        )
        .await;
        services
            .set_plan(WorkspaceId(ws.id), PlanId::Professional)
            .await
            .expect("the Professional plan");
        people.push((person, ws));
    }
    // Every account connected through its platform's OAuth, a few at once.
    let tag = tag.as_str();
    let connected: Vec<(u64, Candidate, Vec<String>)> =
        futures_util::stream::iter(0..size.accounts)
            .map(|i| async move {
                let platform = Size::platform(i);
                let connector = services.connectors.get(platform).expect("an adapter");
                let wants = services::analytics::Wants {
                    analytics: true,
                    comments: false,
                    inbox: false,
                };
                let scopes = services.scopes_for(platform, wants);
                let candidate =
                    connect_through(connector.as_ref(), &format!("bench{tag}{i}"), &scopes).await;
                let scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
                (i, candidate, scopes)
            })
            .buffer_unordered(CONNECTING)
            .collect()
            .await;
    let now = services::now();
    let mut accounts = Vec::with_capacity(connected.len());
    for (i, candidate, asked) in connected {
        let platform = Size::platform(i);
        let ws = &people[size.workspace(i) as usize].1;
        let identity = &candidate.identity;
        let row = social_account::ActiveModel {
            workspace_id: Set(ws.id),
            platform: Set(platform.slug().into()),
            external_id: Set(identity.external_id.clone()),
            username: Set(identity.username.clone()),
            display_name: Set(identity.display_name.clone()),
            avatar_url: Set(identity.avatar_url.clone()),
            status: Set(AccountStatus::Connected),
            created_at: Set(now),
            updated_at: Set(now),
            authorized_by: Set(identity.authorized_by.clone()),
            ..Default::default()
        }
        .insert(&services.db)
        .await
        .expect("an account");
        let seconds =
            |s: Option<u64>| s.map(|s| now + TimeDelta::seconds(i64::try_from(s).unwrap_or(0)));
        let grant = candidate.grant;
        // The scopes the platform said it granted, else those asked for (as connecting keeps).
        let scopes = if grant.scopes.is_empty() {
            asked
        } else {
            grant.scopes
        };
        services
            .store_tokens(
                &services.db,
                SocialAccountId(row.id),
                &TokenSet {
                    access: grant.access,
                    refresh: grant.refresh,
                    expires_at: seconds(grant.expires_in),
                    refresh_expires_at: seconds(grant.refresh_expires_in),
                    scopes,
                },
            )
            .await
            .expect("sealed tokens");
        accounts.push(Account {
            id: row.id,
            platform,
            external_id: identity.external_id.clone(),
            workspace: ws.id,
        });
    }
    (people, accounts)
}

/// Connects an account through the adapter's own OAuth calls with `scopes`, pressing Allow on
/// the simulator's authorize page as `username`; the account it offers first.
async fn connect_through(connector: &dyn Connector, username: &str, scopes: &[&str]) -> Candidate {
    use base64::Engine;
    use sha2::Digest;
    let verifier = "ingestion-benchmark-verifier-0123456789-abcdef";
    let challenge = connector.uses_pkce().then(|| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier))
    });
    let redirect = "http://127.0.0.1:9/oauth/bench/callback";
    let url = connector.authorize_url("bench-state", challenge.as_deref(), redirect, scopes);
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

/// Gives every account its published posts, in the simulator and in the tables; how many.
async fn publish_posts(
    services: &Services,
    simulator: &sim::Simulator,
    accounts: &[Account],
    size: Size,
) -> u64 {
    let now = services::now();
    let spread = TimeDelta::days(SPREAD_DAYS).num_seconds();
    // (account, platform id, published at, text), every account's posts in turn.
    let mut all = Vec::with_capacity(accounts.len() * size.posts as usize);
    for (a, account) in accounts.iter().enumerate() {
        for k in 0..size.posts as i64 {
            // Evenly over the spread, each account a little apart from the others.
            let back = (spread * (2 * k + 1) / (2 * size.posts as i64) + (a as i64 * 617) % 3_600)
                .min(spread);
            let at = now - TimeDelta::seconds(back);
            let text = format!("Bench post {} of account {}", k, account.id);
            let id = simulator.seed_post(account.platform, &account.external_id, &text, at);
            all.push((account, id, at, text));
        }
    }
    for chunk in all.chunks(BATCH) {
        let rows = chunk
            .iter()
            .map(|(account, _, at, text)| post::ActiveModel {
                workspace_id: Set(account.workspace),
                author_id: Set(None),
                body: Set(text.clone()),
                state: Set(PostState::Published),
                revision: Set(1),
                published_at: Set(Some(*at)),
                created_at: Set(*at),
                updated_at: Set(*at),
                ..Default::default()
            });
        let made = post::Entity::insert_many(rows)
            .exec_with_returning(&services.db)
            .await
            .expect("posts");
        let post_of: HashMap<&str, i64> = made.iter().map(|p| (p.body.as_str(), p.id)).collect();
        let targets = chunk
            .iter()
            .map(|(account, id, at, text)| post_target::ActiveModel {
                post_id: Set(*post_of.get(text.as_str()).expect("the post of a target")),
                account_id: Set(account.id),
                options: Set("{}".into()),
                state: Set(PostState::Published),
                attempts: Set(1),
                platform_post_id: Set(Some(id.clone())),
                published_at: Set(Some(*at)),
                updated_at: Set(*at),
                ..Default::default()
            });
        post_target::Entity::insert_many(targets)
            .exec_without_returning(&services.db)
            .await
            .expect("targets");
    }
    if store::backend(&services.db) == store::Backend::Postgres {
        services
            .db
            .execute_unprepared("ANALYZE")
            .await
            .expect("analyze");
    }
    all.len() as u64
}

/// Each sample: when it was taken (since the reads began), and every platform's calls so far.
type Samples = Vec<(Duration, BTreeMap<Platform, u64>)>;

/// Every platform's calls answered so far, read every 100 ms while the reads run.
struct Sampler {
    samples: Arc<Mutex<Samples>>,
    task: tokio::task::JoinHandle<()>,
    stop: tokio::sync::oneshot::Sender<()>,
}

impl Sampler {
    /// Starts sampling, with a first sample taken now.
    fn start(simulator: sim::Simulator) -> Self {
        let started = Instant::now();
        let take = move |simulator: &sim::Simulator| {
            let calls: BTreeMap<Platform, u64> = Platform::ALL
                .iter()
                .map(|p| (*p, simulator.calls(p.slug()).calls))
                .collect();
            (started.elapsed(), calls)
        };
        let samples: Arc<Mutex<Samples>> = Arc::new(Mutex::new(vec![take(&simulator)]));
        let (stop, mut stopped) = tokio::sync::oneshot::channel();
        let kept = samples.clone();
        let task = tokio::spawn(async move {
            loop {
                let stopping = tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(100)) => false,
                    _ = &mut stopped => true,
                };
                let sample = take(&simulator);
                kept.lock().unwrap_or_else(|p| p.into_inner()).push(sample);
                if stopping {
                    break;
                }
            }
        });
        Self {
            samples,
            task,
            stop,
        }
    }

    /// Stops sampling, with a last sample taken now; the samples.
    async fn stop(self) -> Samples {
        let _ = self.stop.send(());
        let _ = self.task.await;
        std::mem::take(&mut *self.samples.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// The most calls to `platform` in any minute of `samples`, and when its last call was answered
/// (the sample at which its count last grew).
fn peak_and_end(samples: &Samples, platform: Platform) -> (u64, Duration) {
    let at = |i: usize| samples[i].1.get(&platform).copied().unwrap_or(0);
    let mut peak = 0;
    let mut first = 0;
    let mut end = Duration::ZERO;
    for i in 0..samples.len() {
        while samples[i].0 - samples[first].0 > Duration::from_secs(60) {
            first += 1;
        }
        peak = peak.max(at(i) - at(first));
        if i > 0 && at(i) > at(i - 1) {
            end = samples[i].0;
        }
    }
    (peak, end)
}

fn report(
    simulator: &sim::Simulator,
    before: &BTreeMap<Platform, sim::Calls>,
    accounts: &[Account],
    size: Size,
    samples: &Samples,
    took: Duration,
) {
    println!(
        "{:<10} {:>8} {:>8} {:>9} {:>10} {:>10} {:>6} {:>6} {:>12}",
        "platform",
        "accounts",
        "posts",
        "last call",
        "calls",
        "minimum",
        "ratio",
        "429s",
        "peak/minute"
    );
    let mut total = (0u64, 0u64, 0u64, 0u64, 0u64);
    let mut overall_peak = 0;
    for platform in Platform::ALL {
        let n = accounts.iter().filter(|a| a.platform == platform).count() as u64;
        let calls = simulator
            .calls(platform.slug())
            .since(before.get(&platform).copied().unwrap_or_default());
        let least = n * minimum(platform, size.posts);
        let (peak, end) = peak_and_end(samples, platform);
        overall_peak += peak;
        println!(
            "{:<10} {:>8} {:>8} {:>8.2}s {:>10} {:>10} {:>6} {:>6} {:>12}",
            platform.slug(),
            n,
            n * size.posts,
            end.as_secs_f64(),
            calls.calls,
            least,
            ratio(calls.calls, least),
            calls.rate_limited,
            peak
        );
        total.0 += n;
        total.1 += n * size.posts;
        total.2 += calls.calls;
        total.3 += least;
        total.4 += calls.rate_limited;
    }
    println!(
        "{:<10} {:>8} {:>8} {:>8.2}s {:>10} {:>10} {:>6} {:>6} {:>12}",
        "total",
        total.0,
        total.1,
        took.as_secs_f64(),
        total.2,
        total.3,
        ratio(total.2, total.3),
        total.4,
        format!("≤ {overall_peak}")
    );
    println!(
        "{:.0} calls/s over the run; rate-limit answers met: {}",
        total.2 as f64 / took.as_secs_f64().max(1e-9),
        if total.4 == 0 { "none" } else { "SOME" }
    );
}

fn ratio(made: u64, least: u64) -> String {
    if least == 0 {
        if made == 0 { "-".into() } else { "∞".into() }
    } else {
        format!("{:.2}", made as f64 / least as f64)
    }
}

/// What was read: posts with a first look, accounts with figures, runs that failed.
async fn read_back(services: &Services, accounts: &[Account], size: Size) {
    let db = &services.db;
    let posts = accounts.len() as u64 * size.posts;
    let looked = count(
        db,
        "SELECT COUNT(*) FROM post_targets WHERE metrics_read_at IS NOT NULL",
    )
    .await;
    let troubled = count(
        db,
        "SELECT COUNT(*) FROM post_targets WHERE metrics_error IS NOT NULL",
    )
    .await;
    let with_figures = count(db, "SELECT COUNT(DISTINCT account_id) FROM account_metrics").await;
    // LinkedIn members give no account figure (see the formulas above).
    let expected = accounts
        .iter()
        .filter(|a| a.platform != Platform::LinkedIn)
        .count();
    let figures = count(db, "SELECT COUNT(*) FROM post_metrics").await;
    let failed = count(
        db,
        "SELECT COUNT(*) FROM jobs WHERE kind = 'read_metrics' AND (attempts > 1 OR state = \
         'dead' OR last_error IS NOT NULL)",
    )
    .await;
    let runs = count(
        db,
        "SELECT COUNT(*) FROM jobs WHERE kind = 'read_metrics' AND state = 'done'",
    )
    .await;
    println!(
        "read: {looked} of {posts} posts looked at ({troubled} with an error), {figures} post \
         figures kept; {with_figures} of {expected} accounts with figures (LinkedIn members \
         have none); {runs} reads run, {failed} failed or retried"
    );
}

/// The reads running, or queued and due.
async fn open_reads(db: &store::Db) -> u64 {
    use sea_orm::{ColumnTrait, Condition, PaginatorTrait, QueryFilter};
    job::Entity::find()
        .filter(
            job::Column::Kind
                .eq(<services::analytics::ingest::MetricsOf as services::queue::Payload>::KIND),
        )
        .filter(
            Condition::any()
                .add(job::Column::State.eq(JobState::Running))
                .add(
                    Condition::all()
                        .add(job::Column::State.eq(JobState::Queued))
                        .add(job::Column::RunAt.lte(services::now())),
                ),
        )
        .count(db)
        .await
        .expect("the queue")
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

//! HTTP throughput and tail latency of the release binary.
//!
//! `cargo bench -p socializioz --bench http` starts the release build of `socializioz serve` on
//! a free port with a fresh data folder, on SQLite and then on PostgreSQL (`BENCH_DATABASE_URL`,
//! else a fresh database on `BENCH_POSTGRES`, default the local test server; skipped with a
//! message when it cannot be reached), and on each:
//!
//! - signs a user up through the forms (confirmed by the link the server's worker mails to the
//!   outbox), creates a workspace, and loads two pages with the same closed-loop generator:
//!   `/healthz` (no database, no template: the floor of the stack) and the signed-in workspace
//!   dashboard (the signed-in frame, the next posts, the accounts, a template);
//! - then fills that workspace straight through the tables (as `scheduler` does): `BENCH_POSTS`
//!   posts (default 10,000) a few hours apart over a year around today on five connected
//!   accounts (published before today, scheduled after, with some failed and waiting for
//!   approval, and one in twenty a draft, half of those without a time), and loads the
//!   dashboard again, the month calendar of this month, and the posts list's first page and
//!   its fourth (reached by its "Next page" links).
//!
//! For each page it prints requests per second, p50/p99 latency and the page's size, and the
//! ratio of its throughput (and p99) to the floor's on the same server. Load generator and server
//! share the machine, so compare ratios across runs, not absolute figures across machines. On
//! PostgreSQL the tables are `ANALYZE`d after they are filled, as autovacuum does shortly after
//! that many rows arrive.
//!
//! Settings: `BENCH_SECONDS` (default 10), `BENCH_CONCURRENCY` (default 16), `BENCH_POSTS`.

// A benchmark program: when its setup fails, stopping with the reason is the right answer.
#![allow(clippy::expect_used)]

mod common;

use chrono::{TimeDelta, Utc};
use common::{Stats, create_pg, csrf_in, drop_pg, env_or, load, pg_base, report};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use store::entities::states::{AccountStatus, PostState};
use store::entities::{post, social_account};

type Error = Box<dyn std::error::Error>;

const EMAIL: &str = "load.tester@example.com";
/// One connected account on each.
const PLATFORMS: [&str; 5] = ["facebook", "instagram", "tiktok", "x", "linkedin"];
/// Posts per `INSERT`.
const BATCH: usize = 500;

struct Server {
    child: Child,
    dir: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(18080)
}

/// The confirmation link of the first message the outbox holds, once the server's worker has
/// written it (the sign-up is carried out by a job).
async fn confirmation_link(outbox: &std::path::Path, base: &str) -> Result<String, Error> {
    let prefix = format!("{base}/verify/");
    let give_up = Instant::now() + Duration::from_secs(30);
    loop {
        let files = std::fs::read_dir(outbox)
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.path())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        for file in files
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        {
            let message = providers::mail::read_message(&std::fs::read(file)?);
            if let Some(at) = message.body.find(&prefix) {
                let link = message.body[at..]
                    .split_whitespace()
                    .next()
                    .unwrap_or_default();
                return Ok(link.to_owned());
            }
        }
        if Instant::now() > give_up {
            return Err("no confirmation e-mail in the outbox".into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Signs a user up in `client` (a browser with a cookie store) and confirms the address from
/// the outbox, then creates a workspace; returns its path (`/w/{id}`).
async fn sign_up_with_workspace(
    client: &reqwest::Client,
    base: &str,
    outbox: &std::path::Path,
) -> Result<String, Error> {
    let page = client
        .get(format!("{base}/signup"))
        .send()
        .await?
        .text()
        .await?;
    let csrf = csrf_in(&page).ok_or("no CSRF token on the sign-up page")?;
    let res = client
        .post(format!("{base}/signup"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "Bench Mark"),
            ("email", EMAIL),
            ("password", "a long bench passphrase"),
            ("timezone", "UTC"),
            ("language", "en"),
            ("accept_policies", "yes"),
        ])
        .send()
        .await?;
    if res.status() != reqwest::StatusCode::SEE_OTHER {
        return Err(format!("sign-up failed: {}", res.status()).into());
    }
    // The server's worker carries the sign-up out and writes the confirmation e-mail to the
    // outbox; its link, opened in this client (the browser that signed up), signs it in.
    let link = confirmation_link(outbox, base).await?;
    let page = client.get(&link).send().await?.text().await?;
    let csrf = csrf_in(&page).ok_or("no CSRF token on the confirmation page")?;
    let res = client
        .post(&link)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await?;
    if res.status() != reqwest::StatusCode::SEE_OTHER {
        return Err(format!("confirming the address failed: {}", res.status()).into());
    }
    let page = client
        .get(format!("{base}/workspaces/new"))
        .send()
        .await?
        .text()
        .await?;
    let csrf = csrf_in(&page).ok_or("no CSRF token on the workspace page")?;
    let res = client
        .post(format!("{base}/workspaces/new"))
        .form(&[("csrf", csrf.as_str()), ("name", "Bench")])
        .send()
        .await?;
    Ok(res
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .ok_or("no workspace created")?
        .to_owned())
}

/// Fills workspace `ws` of the bench's user with `posts` posts on five connected accounts (see
/// the module's comment), straight through the tables.
async fn populate(url: &str, ws: i64, posts: u64) -> Result<(), Error> {
    let db = store::connect(url, 2).await?;
    let now = services::now();
    let author: i64 = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            format!("SELECT id FROM users WHERE email = '{EMAIL}'"),
        ))
        .await?
        .ok_or("the bench's user is missing")?
        .try_get_by_index(0)?;
    let mut accounts = Vec::new();
    for platform in PLATFORMS {
        let account = social_account::ActiveModel {
            workspace_id: Set(ws),
            platform: Set(platform.into()),
            external_id: Set(format!("bench-http-{platform}")),
            username: Set(format!("bench_{platform}")),
            display_name: Set(format!("Bench on {platform}")),
            status: Set(AccountStatus::Connected),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&db)
        .await?;
        accounts.push(account.id);
    }
    // A year around today: post i at `start` + i × `step`.
    let start = now - TimeDelta::days(182);
    let step = TimeDelta::seconds(365 * 86_400 / i64::try_from(posts.max(1))?);
    let rows: Vec<post::ActiveModel> = (0..posts)
        .map(|i| {
            let i = i64::try_from(i).unwrap_or(i64::MAX);
            let at = start + step * i32::try_from(i).unwrap_or(i32::MAX);
            let past = at < now;
            let (state, due) = match i % 100 {
                0..=2 => (PostState::Draft, None),
                3 | 4 => (PostState::Draft, Some(at)),
                5 if past => (PostState::Failed, Some(at)),
                6 if !past => (PostState::PendingApproval, Some(at)),
                _ if past => (PostState::Published, Some(at)),
                _ => (PostState::Scheduled, Some(at)),
            };
            post::ActiveModel {
                workspace_id: Set(ws),
                author_id: Set(Some(author)),
                body: Set(format!(
                    "Post {i} of the bench, for {}, with a link https://example.com/{i}",
                    at.format("%Y-%m-%d %H:%M")
                )),
                state: Set(state),
                scheduled_at: Set(due),
                schedule_tz: Set(due.map(|_| "UTC".to_owned())),
                revision: Set(1),
                published_at: Set((state == PostState::Published).then_some(at)),
                created_at: Set(at.min(now)),
                updated_at: Set(at.min(now)),
                ..Default::default()
            }
        })
        .collect();
    for chunk in rows.chunks(BATCH) {
        post::Entity::insert_many(chunk.iter().cloned())
            .exec_without_returning(&db)
            .await?;
    }
    // One target each, on the accounts in turn.
    let account = accounts
        .iter()
        .enumerate()
        .map(|(i, a)| format!("WHEN {i} THEN {a}"))
        .collect::<Vec<_>>()
        .join(" ");
    db.execute_unprepared(&format!(
        "INSERT INTO post_targets (post_id, account_id, options, state, attempts, published_at, \
         updated_at) SELECT id, CASE id % {n} {account} END, '{{}}', state, 0, published_at, \
         updated_at FROM posts WHERE workspace_id = {ws}",
        n = accounts.len()
    ))
    .await?;
    if store::backend(&db) == store::Backend::Postgres {
        db.execute_unprepared("ANALYZE").await?;
    }
    db.close().await?;
    Ok(())
}

/// Loads `path` once (it must answer 200) and returns the page.
async fn page_of(client: &reqwest::Client, base: &str, path: &str) -> Result<String, Error> {
    let res = client.get(format!("{base}{path}")).send().await?;
    if res.status() != reqwest::StatusCode::OK {
        return Err(format!("{path} answered {}", res.status()).into());
    }
    Ok(res.text().await?)
}

/// The "Next page" link of a page of the posts list.
fn next_page(html: &str) -> Option<String> {
    let at = html.find("id=\"next-page\"")?;
    let start = html[..at].rfind("href=\"")? + "href=\"".len();
    let end = start + html[start..].find('"')?;
    Some(html[start..end].replace("&#38;", "&").replace("&amp;", "&"))
}

/// Measures `path` and prints it next to the floor.
async fn measure(
    client: &reqwest::Client,
    base: &str,
    name: &str,
    path: &str,
    floor: &Stats,
) -> Result<(), Error> {
    let (seconds, concurrency) = (env_or("BENCH_SECONDS", 10), env_or("BENCH_CONCURRENCY", 16));
    let size = page_of(client, base, path).await?.len();
    let stats = load(client, &format!("{base}{path}"), seconds, concurrency).await;
    report(name, &stats);
    println!(
        "{:<28} {:>9.3}x the floor's throughput, p99 {:.2}x, page {:.1} KB",
        "",
        stats.rps() / floor.rps(),
        stats.p99.as_secs_f64() / floor.p99.as_secs_f64().max(1e-9),
        size as f64 / 1024.0
    );
    Ok(())
}

async fn run_backend(name: &str, url: &str) -> Result<(), Error> {
    let seconds = env_or("BENCH_SECONDS", 10);
    let concurrency = env_or("BENCH_CONCURRENCY", 16);
    let posts = env_or("BENCH_POSTS", 10_000);
    let port = free_port();
    let dir = std::env::temp_dir().join(format!(
        "socializioz-bench-{}-{}",
        std::process::id(),
        name.to_lowercase()
    ));
    std::fs::create_dir_all(&dir)?;
    let url = match url {
        "" => format!("sqlite://{}/bench.db?mode=rwc", dir.join("data").display()),
        url => url.to_owned(),
    };
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_socializioz"));
    cmd.arg("serve")
        .current_dir(&dir)
        .env("SOCIALIZIOZ__SERVER__LISTEN", format!("127.0.0.1:{port}"))
        .env("SOCIALIZIOZ__DATA__DIR", dir.join("data"))
        .env("SOCIALIZIOZ__DATABASE__URL", &url)
        .env("SOCIALIZIOZ_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    let server = Server {
        child: cmd.spawn()?,
        dir,
    };
    let base = format!("http://127.0.0.1:{port}");

    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(concurrency as usize)
        .build()?;
    let ready_by = Instant::now() + Duration::from_secs(30);
    while client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .map(|r| r.status().is_success())
        .ok()
        != Some(true)
    {
        if Instant::now() > ready_by {
            return Err("the server did not become ready".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let outbox = server.dir.join("data").join("outbox");
    let dashboard = sign_up_with_workspace(&client, &base, &outbox).await?;
    page_of(&client, &base, &dashboard).await?;
    let ws: i64 = dashboard
        .rsplit('/')
        .next()
        .and_then(|id| id.parse().ok())
        .ok_or("no workspace id in the dashboard's path")?;

    println!(
        "\n== {name}: {concurrency} connections, {seconds} s per page, release build \
         (socializioz HTTP benchmark)"
    );
    let floor = load(&client, &format!("{base}/healthz"), seconds, concurrency).await;
    report("GET /healthz (floor)", &floor);
    measure(
        &client,
        &base,
        "GET /w/{id} (signed in)",
        &dashboard,
        &floor,
    )
    .await?;

    let started = Instant::now();
    populate(&url, ws, posts).await?;
    println!(
        "\nset up {posts} posts on 5 accounts in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let month = Utc::now().format("%Y-%m-%d");
    let list = format!("/w/{ws}/posts");
    let mut fourth = list.clone();
    for _ in 0..3 {
        let html = page_of(&client, &base, &fourth).await?;
        fourth = next_page(&html).ok_or("the posts list has fewer than four pages")?;
    }
    let floor = load(&client, &format!("{base}/healthz"), seconds, concurrency).await;
    report("GET /healthz (floor)", &floor);
    for (label, path) in [
        ("GET /w/{id} (busy)", dashboard.clone()),
        (
            "GET calendar (month)",
            format!("/w/{ws}/calendar?date={month}"),
        ),
        ("GET posts (first page)", list),
        ("GET posts (fourth page)", fourth),
    ] {
        measure(&client, &base, label, &path, &floor).await?;
    }
    drop(server);
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    // `cargo bench` passes `--bench`; any other argument (a test filter from `cargo test
    // --benches`) means "do not run".
    if std::env::args().skip(1).any(|a| a != "--bench") {
        return Ok(());
    }
    run_backend("SQLite", "").await?;
    match std::env::var("BENCH_DATABASE_URL") {
        Ok(url) => run_backend("PostgreSQL", &url).await,
        Err(_) => {
            let base = pg_base();
            match create_pg(&base, "sz_http_bench").await {
                Some((url, name)) => {
                    let done = run_backend("PostgreSQL", &url).await;
                    drop_pg(&base, &name).await;
                    done
                }
                None => {
                    println!("\n== PostgreSQL: skipped (no server at {base})");
                    Ok(())
                }
            }
        }
    }
}

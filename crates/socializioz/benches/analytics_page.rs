//! The analytics page of a busy workspace against the floor of the stack.
//!
//! `cargo bench -p socializioz --bench analytics_page` builds the product's server in this
//! process (no worker) on a free port, on SQLite (a fresh file in a temporary folder) and then
//! on PostgreSQL (`BENCH_POSTGRES`, default the local test server; skipped with a message when
//! it cannot be reached), and for each:
//!
//! - writes straight into the tables one person (with a real password hash) and their
//!   workspace with analytics on, five connected accounts (one per platform), `BENCH_POSTS`
//!   published posts (default 10,000) each with one published target on the accounts in turn,
//!   published evenly over the last 89 days and with their interactions kept, `BENCH_FIGURES`
//!   post figures (default 1,000,000: ten metrics on ten days of the last 90 for each target)
//!   and 120 days of each account's own figures (views, reach, engagement and new followers by
//!   day, and the follower count);
//! - logs in as a browser does (the log-in form, its CSRF token, a session cookie) and checks
//!   that the page of the last 90 days answers with its key figures and charts;
//! - prints one request's time alone (median of 20) with the view kept (`analytics::kept`: the
//!   figures unchanged since the last look) and after the figures changed (the workspace's
//!   figures version raised before each, so the view is computed again), with the steps;
//! - loads `/healthz` (no database, no template: the floor) and then
//!   `/w/{id}/analytics?days=90` with the same closed-loop generator, and prints requests per
//!   second and p50/p99 latency of each and the ratio of the page to the floor (the aim: at
//!   least 0.1× the floor's throughput). No figure changes during the load, so it measures
//!   looks at a kept view, as people look at the page between two reads of the figures.
//!
//! - then puts the posts in 20 campaigns (each with a spend) and loads the page again, and
//!   prints the time of reading the campaigns' results alone (three statements whatever their
//!   number; kept with the view after the first look).
//!
//! On PostgreSQL the tables are `ANALYZE`d after the set-up, as autovacuum does shortly after
//! that many rows arrive; SQLite is left as the product leaves it. Load generator and server
//! share the process and the machine, so compare ratios across runs, not absolute figures
//! across machines.
//!
//! Settings: `BENCH_SECONDS` (default 10) and `BENCH_CONCURRENCY` (default 16) per page,
//! `BENCH_POSTS` (default 10,000), `BENCH_FIGURES` (default 1,000,000; at most 100 per post).

// A benchmark program: when its setup fails, stopping with the reason is the right answer.
#![allow(clippy::expect_used)]

mod common;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use common::{create_pg, drop_pg, env_or, insert_series, load, pg_base, report};
use domain::metrics::{Metric, Span};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, IntoActiveModel, Set, Statement};
use services::Services;
use std::time::{Duration, Instant};
use store::entities::states::{AccountStatus, PostState};
use store::entities::{account_metric, post, post_target, social_account};

const EMAIL: &str = "analytics.page@example.com";
const PASSWORD: &str = "a long bench passphrase";
/// One connected account on each.
const PLATFORMS: [&str; 5] = ["facebook", "instagram", "tiktok", "x", "linkedin"];
/// Figures per target: ten metrics on ten days.
const PER_TARGET: u64 = 100;
/// Rows per `INSERT` of the posts, targets and account figures.
const BATCH: usize = 500;
/// When the post figures were read (not compared by the page).
const TS: &str = "'2026-01-01 00:00:00+00:00'";

type Error = Box<dyn std::error::Error>;

/// The ten metrics of a post's figures: the normalised ones a post has, and one of X's own.
fn post_metrics() -> Vec<&'static str> {
    Metric::ALL
        .into_iter()
        .filter(|m| !matches!(m, Metric::Followers | Metric::Follows))
        .map(Metric::key)
        .chain(["x.quotes"])
        .take(10)
        .collect()
}

/// The workspace the page shows, filled: (workspace id, posts, figures).
async fn populate(services: &Services, posts: u64, figures: u64) -> Result<(i64, u64), Error> {
    let db = &services.db;
    let now = services::now();
    let today = now.date_naive();
    let hash = services::passwords::hash(&domain::Password::parse(PASSWORD, None)?).await?;
    let (person, ws) = common::person_with_password(services, "Bench", EMAIL, &hash).await;
    // The policies in effect, accepted as at sign-up (else workspace pages ask for them first).
    let shown: Vec<_> = services
        .pending_policies(domain::UserId(person.id))
        .await?
        .into_iter()
        .map(|p| (p.kind, p.current))
        .collect();
    let acceptor = services::policies::Acceptor {
        user_id: person.id,
        consent_id: None,
        locale: "en".into(),
        client: "127.0.0.1".into(),
        browser: "analytics page bench".into(),
    };
    services.accept_pending(&acceptor, &shown).await?;
    let mut on = ws.clone().into_active_model();
    on.analytics_on_at = Set(Some(now));
    on.updated_at = Set(now);
    on.update(db).await?;

    let mut accounts = Vec::new();
    for platform in PLATFORMS {
        let account = social_account::ActiveModel {
            workspace_id: Set(ws.id),
            platform: Set(platform.into()),
            external_id: Set(format!("bench-page-{platform}")),
            username: Set(format!("bench_{platform}")),
            display_name: Set(format!("Bench on {platform}")),
            status: Set(AccountStatus::Connected),
            metrics_read_at: Set(Some(now)),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await?;
        accounts.push(account.id);
    }

    // Posts published evenly over the last 89 days (so at every hour of the day), newest first.
    let spread = TimeDelta::days(89).num_seconds();
    let posts_at: Vec<DateTime<Utc>> = (0..posts as i64)
        .map(|i| now - TimeDelta::seconds(spread * i / posts as i64))
        .collect();
    let mut published = Vec::with_capacity(posts_at.len());
    for chunk in posts_at.chunks(BATCH) {
        let models = chunk.iter().map(|at| post::ActiveModel {
            workspace_id: Set(ws.id),
            author_id: Set(Some(person.id)),
            body: Set(format!(
                "A post of the bench, published {}, with a link https://example.com/",
                at.format("%Y-%m-%d %H:%M")
            )),
            state: Set(PostState::Published),
            revision: Set(1),
            published_at: Set(Some(*at)),
            created_at: Set(*at),
            updated_at: Set(*at),
            ..Default::default()
        });
        published.extend(
            post::Entity::insert_many(models)
                .exec_with_returning(db)
                .await?,
        );
    }
    published.sort_by_key(|p| p.id);
    // One target each, on the accounts in turn; target k (in id order) is on account k % 5.
    for (c, chunk) in published.chunks(BATCH).enumerate() {
        let models = chunk.iter().enumerate().map(|(i, p)| {
            let account = accounts[(c * BATCH + i) % accounts.len()];
            post_target::ActiveModel {
                post_id: Set(p.id),
                account_id: Set(account),
                options: Set("{}".into()),
                state: Set(PostState::Published),
                attempts: Set(1),
                platform_post_id: Set(Some(format!("bench-{}", p.id))),
                permalink: Set(Some(format!("https://example.com/posts/{}", p.id))),
                published_at: Set(p.published_at),
                updated_at: Set(p.updated_at),
                metrics_read_at: Set(Some(now)),
                interactions: Set(Some((p.id * 7919) % 1000)),
                ..Default::default()
            }
        });
        post_target::Entity::insert_many(models)
            .exec_without_returning(db)
            .await?;
    }

    // The targets' ids run without a gap, so that figure n belongs to the (n - 1) / 100th.
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!(
                "SELECT MIN(t.id) AS first, MAX(t.id) AS last, COUNT(*) AS targets FROM \
                 post_targets t JOIN posts p ON p.id = t.post_id WHERE p.workspace_id = {}",
                ws.id
            ),
        ))
        .await?
        .ok_or("no targets")?;
    let (first, last, targets): (i64, i64, i64) = (
        row.try_get("", "first")?,
        row.try_get("", "last")?,
        row.try_get("", "targets")?,
    );
    if last - first + 1 != targets || targets as u64 != posts {
        return Err(
            format!("the targets' ids are not contiguous: {first}..={last}, {targets}").into(),
        );
    }
    let figures = figures.min(posts * PER_TARGET);
    let metric = post_metrics()
        .iter()
        .enumerate()
        .map(|(i, m)| format!("WHEN {i} THEN '{m}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let account = accounts
        .iter()
        .enumerate()
        .map(|(i, a)| format!("WHEN {i} THEN {a}"))
        .collect::<Vec<_>>()
        .join(" ");
    // Figure n is metric (n - 1) % 10 of the target (n - 1) / 100, on its day (n - 1) / 10 % 10:
    // ten distinct days of the last 90, nine apart, starting from a day that moves with the
    // target.
    let ago = "(((n - 1) / 100 + ((n - 1) / 10 % 10) * 9) % 90)";
    let day = match store::backend(db) {
        store::Backend::Postgres => format!("CAST('{today}' AS DATE) - CAST({ago} AS INTEGER)"),
        store::Backend::Sqlite => format!("date('{today}', '-' || {ago} || ' days')"),
    };
    insert_series(
        db,
        figures,
        "INSERT INTO post_metrics (workspace_id, account_id, target_id, metric, day, value, \
         read_at)",
        &format!(
            "{ws}, CASE ((n - 1) / {PER_TARGET}) % {count} {account} END, {first} + (n - 1) / \
             {PER_TARGET}, CASE (n - 1) % 10 {metric} END, {day}, (CAST(n AS BIGINT) * 7919) % \
             100003, {TS}",
            ws = ws.id,
            count = accounts.len(),
        ),
    )
    .await;

    // Each account's own figures, the last 120 days.
    let mut rows = Vec::new();
    for (a, account) in accounts.iter().enumerate() {
        let a = a as i64;
        for back in 0..120i64 {
            let day: NaiveDate = today - TimeDelta::days(back);
            let wave = (back * 37 + a * 11) % 500;
            for (metric, span, value) in [
                (Metric::Views, Span::Day, 2_000 + wave * 3),
                (Metric::Reach, Span::Day, 1_500 + wave * 2),
                (Metric::Engagement, Span::Day, 100 + wave),
                (Metric::Follows, Span::Day, 5 + wave % 20),
                (
                    Metric::Followers,
                    Span::Lifetime,
                    10_000 + a * 1_000 + (120 - back) * 7,
                ),
            ] {
                rows.push(account_metric::ActiveModel {
                    workspace_id: Set(ws.id),
                    account_id: Set(*account),
                    metric: Set(metric.key().to_owned()),
                    span: Set(span.key().to_owned()),
                    day: Set(day),
                    value: Set(value),
                    read_at: Set(now),
                    ..Default::default()
                });
            }
        }
    }
    for chunk in rows.chunks(BATCH) {
        account_metric::Entity::insert_many(chunk.iter().cloned())
            .exec_without_returning(db)
            .await?;
    }
    if store::backend(db) == store::Backend::Postgres {
        db.execute_unprepared("ANALYZE").await?;
    }
    Ok((ws.id, figures))
}

/// Logs `client` in through the log-in form, as a browser does.
async fn log_in(client: &reqwest::Client, base: &str) -> Result<(), Error> {
    let page = client
        .get(format!("{base}/login"))
        .send()
        .await?
        .text()
        .await?;
    let csrf = common::csrf_in(&page).ok_or("no CSRF token on the log-in page")?;
    let res = client
        .post(format!("{base}/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", EMAIL),
            ("password", PASSWORD),
        ])
        .send()
        .await?;
    if res.status() != reqwest::StatusCode::SEE_OTHER {
        return Err(format!("the log-in failed: {}", describe(res).await).into());
    }
    Ok(())
}

/// An answer, for a message: its status, where it redirects to, and the start of its page.
async fn describe(res: reqwest::Response) -> String {
    let status = res.status();
    let location = res
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(|l| format!(" to {l}"))
        .unwrap_or_default();
    let body = res.text().await.unwrap_or_default();
    format!(
        "{status}{location}: {}",
        body.chars().take(600).collect::<String>()
    )
}

async fn run_backend(name: &str, url: &str, data: &std::path::Path) -> Result<(), Error> {
    let seconds = env_or("BENCH_SECONDS", 10);
    let concurrency = env_or("BENCH_CONCURRENCY", 16);
    let posts = env_or("BENCH_POSTS", 10_000).max(1);
    let figures = env_or("BENCH_FIGURES", 1_000_000);

    let mut settings = common::settings(data, url, 16);
    settings.server.listen = "127.0.0.1:0".to_owned();
    let app = socializioz::app::Application::build(settings, false).await?;
    let services = app.services().clone();
    let port = app.port();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = stop_rx.await;
    }));
    let base = format!("http://127.0.0.1:{port}");

    println!("\n== {name}");
    let started = Instant::now();
    let (ws, figures) = populate(&services, posts, figures).await?;
    println!(
        "set up {posts} published posts, {figures} post figures and 120 days of 5 accounts' \
         figures in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(concurrency as usize)
        .build()?;
    log_in(&client, &base).await?;
    let page = format!("{base}/w/{ws}/analytics?days=90");
    let res = client.get(&page).send().await?;
    if res.status() != reqwest::StatusCode::OK {
        return Err(format!("the analytics page answered {}", describe(res).await).into());
    }
    let body = res.text().await?;
    if !body.contains("id=\"key-figures\"") || !body.contains("<svg") {
        let at = body.find("<main").unwrap_or(0);
        return Err(format!(
            "the analytics page has no key figures or no chart: {}",
            body[at..].chars().take(1200).collect::<String>()
        )
        .into());
    }

    stages(&services, ws, &client, &page).await?;
    println!(
        "socializioz analytics page benchmark: {name}, {concurrency} connections, {seconds} s \
         per page"
    );
    let floor = load(&client, &format!("{base}/healthz"), seconds, concurrency).await;
    report("GET /healthz (floor)", &floor);
    let shown = load(&client, &page, seconds, concurrency).await;
    report("GET /w/{id}/analytics (90 d)", &shown);
    println!(
        "analytics page / healthz: throughput {:.3}x, p99 latency {:.2}x",
        shown.rps() / floor.rps(),
        shown.p99.as_secs_f64() / floor.p99.as_secs_f64().max(1e-9)
    );

    // The same page once the posts are in campaigns: their results (all time) are read at the
    // first look and kept with the view.
    let started = Instant::now();
    let first = put_in_campaigns(&services, ws).await?;
    let w = domain::WorkspaceId(ws);
    let campaigns = services.campaigns_of(w).await?;
    let results = median_ms(20, || async {
        Ok::<_, Error>(services.results_of_campaigns(w, &campaigns).await?)
    })
    .await?;
    let whole = median_ms(20, || async {
        Ok::<_, Error>(client.get(&page).send().await?.bytes().await?)
    })
    .await?;
    println!(
        "the posts put in {CAMPAIGNS} campaigns (from id {first}) in {:.1} s; one request alone \
         (median of 20): whole page {whole:.2} ms with its view kept (the campaigns' results \
         read alone: {results:.2} ms)",
        started.elapsed().as_secs_f64()
    );
    let floor = load(&client, &format!("{base}/healthz"), seconds, concurrency).await;
    report("GET /healthz (floor)", &floor);
    let shown = load(&client, &page, seconds, concurrency).await;
    report("GET /w/{id}/analytics, campaigns", &shown);
    println!(
        "analytics page with {CAMPAIGNS} campaigns / healthz: throughput {:.3}x, p99 latency \
         {:.2}x",
        shown.rps() / floor.rps(),
        shown.p99.as_secs_f64() / floor.p99.as_secs_f64().max(1e-9)
    );

    drop(client);
    drop(services);
    let _ = stop_tx.send(());
    match tokio::time::timeout(Duration::from_secs(30), server).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(e))) => println!("the server stopped with an error: {e:#}"),
        Ok(Err(e)) => println!("the server task failed: {e}"),
        Err(_) => println!("the server did not stop within 30 s"),
    }
    Ok(())
}

/// How many campaigns the posts are put in for the page's second load.
const CAMPAIGNS: i64 = 20;

/// Makes [`CAMPAIGNS`] campaigns, each with a spend, and puts the workspace's posts in them in
/// turn, raising the figures version as saving a campaign does; the first campaign's id.
async fn put_in_campaigns(services: &Services, ws: i64) -> Result<i64, Error> {
    let now = Utc::now();
    let mut first = None;
    for n in 0..CAMPAIGNS {
        let made = store::entities::campaign::ActiveModel {
            workspace_id: Set(ws),
            name: Set(format!("Campaign {n:02}")),
            description: Set(String::new()),
            colour: Set(services::campaigns::COLOURS[(n % 8) as usize].0.to_owned()),
            spend_cents: Set(Some(10_000 + n * 500)),
            click_value_cents: Set(Some(50)),
            currency: Set("EUR".to_owned()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&services.db)
        .await?;
        first.get_or_insert(made.id);
    }
    let first = first.ok_or("no campaign was made")?;
    for sql in [
        format!(
            "UPDATE posts SET campaign_id = {first} + (id % {CAMPAIGNS}) WHERE workspace_id = {ws}"
        ),
        format!("UPDATE workspaces SET figures_version = figures_version + 1 WHERE id = {ws}"),
    ] {
        services
            .db
            .execute_raw(Statement::from_string(
                services.db.get_database_backend(),
                sql,
            ))
            .await?;
    }
    Ok(first)
}

/// The median time of `runs` runs of `f`, in milliseconds.
async fn median_ms<F, Fut, T>(runs: usize, mut f: F) -> Result<f64, Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, Error>>,
{
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        f().await?;
        times.push(started.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

/// Where one request's time goes: each step of the page on its own, one at a time (median of
/// 20), and the whole page requested alone.
async fn stages(
    services: &services::Services,
    ws: i64,
    client: &reqwest::Client,
    page: &str,
) -> Result<(), Error> {
    use services::analytics::{Days, Scope, shown};
    let w = domain::WorkspaceId(ws);
    let days = Days::last(90, services::now().date_naive());
    let zone = domain::Timezone::utc();
    let accounts = median_ms(20, || async {
        Ok::<_, Error>(services.read_analytics_accounts(w).await?)
    })
    .await?;
    let overview = median_ms(20, || async {
        Ok::<_, Error>(
            services
                .analytics_overview(w, days, Scope::default(), &zone)
                .await?,
        )
    })
    .await?;
    let o = services
        .analytics_overview(w, days, Scope::default(), &zone)
        .await?;
    let drawing = median_ms(20, || async {
        let s = shown::shown(&o, &zone, None);
        Ok::<_, Error>(
            s.charts
                .iter()
                .map(|c| c.drawing.svg().len())
                .sum::<usize>(),
        )
    })
    .await?;
    let whole = median_ms(20, || async {
        Ok::<_, Error>(client.get(page).send().await?.bytes().await?)
    })
    .await?;
    // The first look after the figures changed: the view is computed again.
    let bump =
        format!("UPDATE workspaces SET figures_version = figures_version + 1 WHERE id = {ws}");
    let fresh = median_ms(20, || async {
        services
            .db
            .execute_raw(Statement::from_string(
                services.db.get_database_backend(),
                bump.clone(),
            ))
            .await?;
        Ok::<_, Error>(client.get(page).send().await?.bytes().await?)
    })
    .await?;
    println!(
        "one request alone (median of 20): whole page {whole:.2} ms with its view and the \
         accounts' state kept (the accounts read alone: {accounts:.2} ms; what is left is the \
         session, the template and the plan checks; no campaign, so no campaign \
         results to read); {fresh:.2} ms after the figures changed (the view computed again: \
         figures {overview:.2} ms + drawing {drawing:.2} ms)"
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    // `cargo bench` passes `--bench`; without it (`cargo test --benches`) there is nothing to do.
    if !std::env::args().skip(1).any(|a| a == "--bench") {
        return Ok(());
    }
    let dir = std::env::temp_dir().join(format!("sz-page-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let sqlite_data = dir.join("sqlite");
    let sqlite = format!("sqlite://{}/bench.db?mode=rwc", sqlite_data.display());
    let outcome = run_backend("SQLite", &sqlite, &sqlite_data).await;
    let outcome = match outcome {
        Ok(()) => {
            let base = pg_base();
            match create_pg(&base, "bench_page").await {
                Some((url, name)) => {
                    let done = run_backend("PostgreSQL", &url, &dir.join("pg")).await;
                    drop_pg(&base, &name).await;
                    done
                }
                None => {
                    println!("\n== PostgreSQL: skipped (no server at {base})");
                    Ok(())
                }
            }
        }
        Err(e) => Err(e),
    };
    let _ = std::fs::remove_dir_all(&dir);
    outcome
}

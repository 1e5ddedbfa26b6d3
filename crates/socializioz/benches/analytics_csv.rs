//! The analytics CSV export against the databases' own CSV writers, and its memory as the rows
//! grow.
//!
//! `cargo bench -p socializioz --bench analytics_csv` fills one workspace with `BENCH_ROWS`
//! post figures (default 1,000,000: 10,000 published posts with 100 figures each), then on
//! SQLite and on PostgreSQL (`BENCH_POSTGRES`, default the local test server; skipped when it
//! cannot be reached):
//!
//! - times the product's posts export (`Services::analytics_csv`, streamed and counted, nothing
//!   kept) against `sqlite3 -csv` and `psql \copy … TO STDOUT CSV` of the same rows joined the
//!   same way (both written to /dev/null), and prints rows per second and the ratio;
//! - runs the export in a fresh child process (this program again) and reads its peak resident
//!   memory, then adds nine times as many rows and does it again, and prints both peaks and
//!   their ratio (`BENCH_MEMORY=0` skips this part, which writes ten times the rows).
//!
//! Needs the `sqlite3` and `psql` programs (Debian's `sqlite3` and `postgresql-client`); a
//! missing one skips its comparison with a message. Linux only (it reads `/proc`).

// A benchmark program: when its setup fails, stopping with the reason is the right answer.
#![allow(clippy::expect_used)]

mod common;

use common::{create_pg, drop_pg, env_or, insert_series, peak_rss_mib, pg_base};
use futures_util::StreamExt;
use sea_orm::{ActiveModelTrait, Set};
use services::Services;
use services::analytics::Days;
use services::analytics::csv::Export;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use store::entities::social_account;

const CHILD: &str = "ANALYTICS_CSV_CHILD";
const TS: &str = "'2026-01-01 00:00:00+00:00'";
/// Figures per post: ten metrics on ten days.
const PER_POST: u64 = 100;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    if let Ok(spec) = std::env::var(CHILD) {
        runtime.block_on(child(&spec));
    } else if std::env::args().any(|a| a == "--bench") || std::env::var("CSV_BENCH_RUN").is_ok() {
        runtime.block_on(bench());
    }
}

/// The days every figure of the bench falls in.
fn days() -> Days {
    Days::last(30, services::now().date_naive())
}

async fn services_for(url: &str, dir: &std::path::Path) -> Services {
    socializioz::app::services(&common::settings(dir, url, 4), "http://127.0.0.1".into())
        .await
        .expect("services")
}

/// The product's export of workspace `ws`, consumed: (rows, bytes, time).
async fn export(services: &Services, ws: i64) -> (u64, u64, Duration) {
    let started = Instant::now();
    let mut stream = Box::pin(
        services
            .analytics_csv(
                domain::WorkspaceId(ws),
                Export::Posts,
                days(),
                Default::default(),
            )
            .await
            .expect("an export"),
    );
    let (mut bytes, mut lines) = (0u64, 0u64);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.expect("a chunk");
        bytes += chunk.len() as u64;
        lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
    }
    // The header is a line too.
    (lines.saturating_sub(1), bytes, started.elapsed())
}

/// In the child: the export of the workspace named in `spec` (`url|data dir|workspace`); prints
/// `rows peak_mib`.
async fn child(spec: &str) {
    let mut parts = spec.split('|');
    let (url, dir, ws) = (
        parts.next().expect("url"),
        parts.next().expect("dir"),
        parts
            .next()
            .and_then(|w| w.parse().ok())
            .expect("workspace"),
    );
    let services = services_for(url, std::path::Path::new(dir)).await;
    let (rows, _, _) = export(&services, ws).await;
    println!("{rows} {:.1}", peak_rss_mib());
}

/// Runs the export in a fresh child process: (rows, its peak memory in MiB).
fn measured_child(url: &str, dir: &std::path::Path, ws: i64) -> (u64, f64) {
    let out = Command::new(std::env::current_exe().expect("this program"))
        .env(CHILD, format!("{url}|{}|{ws}", dir.display()))
        .stderr(Stdio::inherit())
        .output()
        .expect("the child");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text.split_whitespace();
    (
        it.next().and_then(|r| r.parse().ok()).unwrap_or(0),
        it.next().and_then(|m| m.parse().ok()).unwrap_or(f64::NAN),
    )
}

/// The same rows, joined the same way, as the database's CSV writer gives them.
fn baseline_query(ws: i64) -> String {
    format!(
        "SELECT m.day, t.post_id, t.published_at, a.platform, a.username, t.permalink, \
         COALESCE(t.body, p.body), m.metric, m.value FROM post_metrics m JOIN post_targets t ON \
         t.id = m.target_id JOIN posts p ON p.id = t.post_id JOIN social_accounts a ON a.id = \
         m.account_id WHERE m.workspace_id = {ws} ORDER BY m.day, m.id"
    )
}

/// Times `program` with `args`, its output to /dev/null; none when it is not installed or fails.
fn timed(program: &str, args: &[&str]) -> Option<Duration> {
    let started = Instant::now();
    let status = Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .status()
        .ok()?;
    status.success().then(|| started.elapsed())
}

/// A workspace with an X account, `posts` published posts and `PER_POST` figures each.
async fn populate(services: &Services, posts: u64, tag: &str) -> (i64, i64) {
    let db = &services.db;
    let now = services::now();
    let (person, ws) =
        common::person_with_workspace(services, "Bench", &format!("bench-csv-{tag}@example.com"))
            .await;
    let account = social_account::ActiveModel {
        workspace_id: Set(ws.id),
        platform: Set("x".into()),
        external_id: Set(format!("bench-csv-{tag}")),
        username: Set("bench_csv".into()),
        display_name: Set("Bench".into()),
        status: Set(store::entities::states::AccountStatus::Connected),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("an account")
    .id;
    insert_series(
        db,
        posts,
        "INSERT INTO posts (workspace_id, author_id, body, state, revision, created_at, updated_at)",
        &format!(
            "{}, {}, 'Post ' || n || ', with a comma, a \"quote\" and accents: café', \
             'published', 1, {TS}, {TS}",
            ws.id, person.id
        ),
    )
    .await;
    use sea_orm::ConnectionTrait;
    db.execute_unprepared(&format!(
        "INSERT INTO post_targets (post_id, account_id, options, state, attempts, \
         platform_post_id, permalink, published_at, updated_at) SELECT id, {account}, '{{}}', \
         'published', 1, CAST(id AS TEXT), 'https://x.com/bench/status/' || id, {TS}, {TS} \
         FROM posts WHERE workspace_id = {}",
        ws.id
    ))
    .await
    .expect("targets");
    (ws.id, account)
}

/// Adds `rows` figures to the targets of `ws`: ten metrics on ten days each.
async fn add_figures(services: &Services, ws: i64, account: i64, rows: u64) {
    let db = &services.db;
    let first: i64 = {
        use sea_orm::{ConnectionTrait, Statement};
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                format!(
                    "SELECT MIN(t.id) AS first FROM post_targets t JOIN posts p ON p.id = \
                     t.post_id WHERE p.workspace_id = {ws}"
                ),
            ))
            .await
            .expect("the first target")
            .expect("a row");
        row.try_get("", "first").expect("an id")
    };
    let today = services::now().date_naive();
    let day = match store::backend(db) {
        store::Backend::Postgres => {
            format!("CAST('{today}' AS DATE) - CAST(((n - 1) / 10) % 10 AS INTEGER)")
        }
        store::Backend::Sqlite => {
            format!("date('{today}', '-' || (((n - 1) / 10) % 10) || ' days')")
        }
    };
    // n runs from 1: figure n is metric (n - 1) % 10 of day ((n - 1) / 10) % 10 of the
    // (n - 1) / 100th post.
    insert_series(
        db,
        rows,
        "INSERT INTO post_metrics (workspace_id, account_id, target_id, metric, day, value, \
         read_at)",
        &format!(
            "{ws}, {account}, {first} + (n - 1) / {PER_POST}, 'metric_' || ((n - 1) % 10), \
             {day}, (CAST(n AS BIGINT) * 7919) % 100003, {TS}",
        ),
    )
    .await;
}

async fn run_backend(name: &str, url: &str, dir: &std::path::Path, rows: u64) {
    let services = services_for(url, dir).await;
    println!("\n== {name}");
    let posts = rows.div_ceil(PER_POST);
    let started = Instant::now();
    let (ws, account) = populate(&services, posts, "small").await;
    add_figures(&services, ws, account, rows).await;
    println!(
        "set up {posts} posts and {rows} figures in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let (exported, bytes, ours) = export(&services, ws).await;
    assert_eq!(exported, rows, "every figure exported");
    let rate = |d: Duration| rows as f64 / d.as_secs_f64();
    println!(
        "product export: {exported} rows, {:.1} MB in {:.2} s ({:.0} rows/s)",
        bytes as f64 / 1e6,
        ours.as_secs_f64(),
        rate(ours)
    );
    let query = baseline_query(ws);
    let baseline = match store::backend(&services.db) {
        store::Backend::Sqlite => {
            let file = url
                .trim_start_matches("sqlite://")
                .split('?')
                .next()
                .unwrap_or_default()
                .to_owned();
            ("sqlite3 -csv", timed("sqlite3", &["-csv", &file, &query]))
        }
        store::Backend::Postgres => (
            "psql \\copy",
            timed(
                "psql",
                &[
                    url,
                    "-q",
                    "-c",
                    &format!("\\copy ({query}) TO STDOUT WITH CSV"),
                ],
            ),
        ),
    };
    match baseline {
        (tool, Some(theirs)) => println!(
            "{tool}: {:.2} s ({:.0} rows/s); the product at {:.2}× its speed",
            theirs.as_secs_f64(),
            rate(theirs),
            theirs.as_secs_f64() / ours.as_secs_f64()
        ),
        (tool, None) => println!("{tool}: skipped (the program is missing or failed)"),
    }

    if env_or("BENCH_MEMORY", 1) == 0 {
        return;
    }
    let (small_rows, small) = measured_child(url, dir, ws);
    // Ten times the rows, in a workspace of their own.
    let (big_ws, big_account) = populate(&services, posts * 10, "big").await;
    add_figures(&services, big_ws, big_account, rows * 10).await;
    let (big_rows, big) = measured_child(url, dir, big_ws);
    println!(
        "peak memory of the export: {small:.1} MiB for {small_rows} rows, {big:.1} MiB for \
         {big_rows} rows ({:.2}×)",
        big / small
    );
}

async fn bench() {
    let rows = env_or("BENCH_ROWS", 1_000_000);
    let dir = std::env::temp_dir().join(format!("sz-csv-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a data folder");
    let sqlite = format!("sqlite://{}/bench.db?mode=rwc", dir.display());
    run_backend("SQLite", &sqlite, &dir, rows).await;
    let base = pg_base();
    match create_pg(&base, "sz_csv_bench").await {
        Some((url, name)) => {
            run_backend("PostgreSQL", &url, &dir.join("pg"), rows).await;
            drop_pg(&base, &name).await;
        }
        None => println!("PostgreSQL: skipped (no server at {base})"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}

//! What the benchmark programs share: settings from the environment, peak memory, a
//! throw-away PostgreSQL database, and a closed-loop HTTP load generator.

// Not every program uses all of it; set-up that fails stops the program with the reason.
#![allow(dead_code, clippy::expect_used)]

use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use socializioz::config::Settings;
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::entities::{user, workspace};

pub fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn status_kib(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .unwrap_or(f64::NAN)
}

/// Peak resident memory of this process, in MiB (Linux).
pub fn peak_rss_mib() -> f64 {
    status_kib("VmHWM:") / 1024.0
}

/// Resident memory now, in MiB (Linux).
pub fn rss_mib() -> f64 {
    status_kib("VmRSS:") / 1024.0
}

/// Starts measuring a new peak from the memory resident now (Linux: `clear_refs` 5).
pub fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// A fresh database on the PostgreSQL server at `base`: (its URL, its name).
pub async fn create_pg(base: &str, prefix: &str) -> Option<(String, String)> {
    let admin = sea_orm::Database::connect(base).await.ok()?;
    let name = format!("{prefix}_{}", std::process::id());
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .ok()?;
    let url = match base.rsplit_once('/') {
        Some((head, _)) => format!("{head}/{name}"),
        None => return None,
    };
    Some((url, name))
}

pub async fn drop_pg(base: &str, name: &str) {
    if let Ok(admin) = sea_orm::Database::connect(base).await {
        let _ = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await;
    }
}

/// Settings for a benchmark's instance: its data in `data`, its database at `url`.
pub fn settings(data: &std::path::Path, url: &str, max_connections: u32) -> Settings {
    let mut s = Settings::default();
    s.data.dir = data.to_path_buf();
    s.database.url = Some(url.to_owned().into());
    s.database.max_connections = max_connections;
    s.security.secret_key = Some(
        "bench-secret-key-bench-secret-key-0123456789"
            .to_owned()
            .into(),
    );
    s
}

/// The PostgreSQL server the benchmarks use (`BENCH_POSTGRES`, else the local test server).
pub fn pg_base() -> String {
    std::env::var("BENCH_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A confirmed person named `name` with one workspace of their own (who cannot log in).
pub async fn person_with_workspace(
    services: &services::Services,
    name: &str,
    email: &str,
) -> (user::Model, workspace::Model) {
    person_with_password(services, name, email, "!").await
}

/// A confirmed person named `name` whose password has the hash `password_hash` (from
/// `services::passwords::hash`; `!` matches no password), with one workspace of their own.
pub async fn person_with_password(
    services: &services::Services,
    name: &str,
    email: &str,
    password_hash: &str,
) -> (user::Model, workspace::Model) {
    let now = services::now();
    let person = user::ActiveModel {
        name: Set(name.to_owned()),
        email: Set(email.to_owned()),
        email_verified_at: Set(Some(now)),
        password_hash: Set(password_hash.to_owned()),
        timezone: Set("UTC".into()),
        language: Set("en".into()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&services.db)
    .await
    .expect("a user");
    let ws = services
        .create_workspace(
            &person,
            &domain::WorkspaceName::parse("Bench").expect("a name"),
        )
        .await
        .expect("a workspace");
    (person, ws)
}

/// `INSERT INTO … SELECT …` over the numbers 1..=n (`n` in the select list).
pub async fn insert_series(db: &store::Db, n: u64, insert: &str, select: &str) {
    let sql = match store::backend(db) {
        store::Backend::Postgres => {
            format!("{insert} SELECT {select} FROM generate_series(1, {n}) AS s(n)")
        }
        store::Backend::Sqlite => format!(
            "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {n}) \
             {insert} SELECT {select} FROM s"
        ),
    };
    db.execute_unprepared(&sql).await.expect("insert rows");
}

/// The CSRF token of a page's form.
pub fn csrf_in(html: &str) -> Option<String> {
    let marker = "name=\"csrf\" value=\"";
    let at = html.find(marker)? + marker.len();
    let end = html[at..].find('"')?;
    Some(html[at..at + end].to_owned())
}

/// What a run of [`load`] measured: the successful requests and their latencies.
pub struct Stats {
    pub requests: usize,
    pub errors: usize,
    pub elapsed: Duration,
    pub p50: Duration,
    pub p99: Duration,
}

impl Stats {
    /// Successful requests per second.
    pub fn rps(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }
}

/// Loads `url` for `seconds` with `concurrency` closed loops (each sends its next request once
/// the previous answer is read), after a two-second warm-up; only successful answers count.
pub async fn load(client: &reqwest::Client, url: &str, seconds: u64, concurrency: u64) -> Stats {
    // Warm-up: connections, caches, the SQLite page cache.
    let warm_until = Instant::now() + Duration::from_secs(2);
    while Instant::now() < warm_until {
        let _ = client.get(url).send().await.map(|r| r.bytes());
    }
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let url: Arc<str> = Arc::from(url);
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let client = client.clone();
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(50_000);
            let mut errors = 0usize;
            while Instant::now() < deadline {
                let t = Instant::now();
                match client.get(&*url).send().await {
                    Ok(res) if res.status().is_success() => {
                        let _ = res.bytes().await;
                        latencies.push(t.elapsed());
                    }
                    _ => errors += 1,
                }
            }
            (latencies, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for task in tasks {
        if let Ok((latencies, e)) = task.await {
            all.extend(latencies);
            errors += e;
        }
    }
    let elapsed = start.elapsed();
    all.sort_unstable();
    let pick = |q: f64| {
        all.get(((all.len() as f64 * q) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    Stats {
        requests: all.len(),
        errors,
        elapsed,
        p50: pick(0.50),
        p99: pick(0.99),
    }
}

/// Prints one line of [`Stats`] under `name`.
pub fn report(name: &str, s: &Stats) {
    println!(
        "{name:<28} {:>9.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms   ({} requests, {} errors, {:.1} s)",
        s.rps(),
        s.p50.as_secs_f64() * 1e3,
        s.p99.as_secs_f64() * 1e3,
        s.requests,
        s.errors,
        s.elapsed.as_secs_f64()
    );
}

//! What the benchmark programs share: settings from the environment, peak memory, and a
//! throw-away PostgreSQL database.

#![allow(dead_code)]

use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use socializioz::config::Settings;
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

/// A confirmed person named `name` with one workspace of their own.
pub async fn person_with_workspace(
    services: &services::Services,
    name: &str,
    email: &str,
) -> (user::Model, workspace::Model) {
    let now = services::now();
    let person = user::ActiveModel {
        name: Set(name.to_owned()),
        email: Set(email.to_owned()),
        email_verified_at: Set(Some(now)),
        password_hash: Set("!".into()),
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

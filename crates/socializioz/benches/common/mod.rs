//! What the benchmark programs share: settings from the environment, peak memory, and a
//! throw-away PostgreSQL database.

#![allow(dead_code)]

use sea_orm::ConnectionTrait;

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

//! Memory of an idle server.
//!
//! `cargo bench -p socializioz --bench serve_memory` starts the built binary's `serve` (the web
//! server with its worker, as one machine runs it) and `serve --no-worker`, on SQLite and on
//! PostgreSQL (`BENCH_POSTGRES`, default the local test server; skipped when it cannot be
//! reached), waits until `/healthz` answers, asks for a few pages (the landing page, the sign-in
//! page, `/healthz`), leaves it idle for `BENCH_IDLE_S` seconds (default 10), and prints its
//! resident memory now (`VmRSS`) and at its peak (`VmHWM`, which includes starting up and
//! migrating the database), against the goal of 64 MiB. Linux only (it reads `/proc`).

#![allow(clippy::expect_used)]

mod common;

use common::{drop_pg, env_or};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A server process, stopped when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `field` of `/proc/<pid>/status`, in MiB.
fn status_mib(pid: u32, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Starts `serve` (with `args`) on `url`, waits for it to answer, asks for a few pages, lets it
/// idle, and answers (resident MiB, peak MiB).
async fn measure(url: &str, data: &std::path::Path, args: &[&str], idle: Duration) -> (f64, f64) {
    let port = free_port();
    let server = Server(
        Command::new(env!("CARGO_BIN_EXE_socializioz"))
            .arg("serve")
            .args(args)
            .current_dir(data)
            .env("SOCIALIZIOZ__DATA__DIR", data)
            .env("SOCIALIZIOZ__DATABASE__URL", url)
            .env("SOCIALIZIOZ__SERVER__LISTEN", format!("127.0.0.1:{port}"))
            .env(
                "SOCIALIZIOZ__SECURITY__SECRET_KEY",
                "serve-memory-bench-key-0123456789abcdef",
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server"),
    );
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let up = client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if up {
            break;
        }
        assert!(Instant::now() < deadline, "the server did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for path in ["/", "/login", "/healthz"] {
        let _ = client.get(format!("{base}{path}")).send().await;
    }
    tokio::time::sleep(idle).await;
    let pid = server.0.id();
    (status_mib(pid, "VmRSS:"), status_mib(pid, "VmHWM:"))
}

#[tokio::main]
async fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let idle = Duration::from_secs(env_or("BENCH_IDLE_S", 10));
    let dir = std::env::temp_dir().join(format!("sz-serve-memory-{}", std::process::id()));
    let mut rows = Vec::new();
    for (label, args) in [
        ("serve", &[][..]),
        ("serve --no-worker", &["--no-worker"][..]),
    ] {
        let data = dir.join(label.replace(' ', "_"));
        std::fs::create_dir_all(&data).expect("a data folder");
        let sqlite = format!("sqlite://{}", data.join("memory.db").display());
        rows.push((label, "SQLite", measure(&sqlite, &data, args, idle).await));
        let pg_base = common::pg_base();
        match common::create_pg(&pg_base, "sz_serve_memory").await {
            Some((url, name)) => {
                rows.push((label, "PostgreSQL", measure(&url, &data, args, idle).await));
                drop_pg(&pg_base, &name).await;
            }
            None => println!("PostgreSQL not reachable at {pg_base}: skipped"),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "idle server memory after {}s (goal: 64 MiB)",
        idle.as_secs()
    );
    println!(
        "{:<20} {:<12} {:>12} {:>12} {:>8}",
        "process", "database", "resident MiB", "peak MiB", "goal"
    );
    for (label, db, (rss, peak)) in rows {
        println!(
            "{label:<20} {db:<12} {rss:>12.1} {peak:>12.1} {:>8}",
            if rss <= 64.0 { "met" } else { "MISSED" }
        );
    }
}

//! HTTP throughput and tail latency of the release binary.
//!
//! `cargo bench -p socializioz --bench http` starts the release build of `socializioz serve` on
//! a free port with a fresh data folder (embedded SQLite, or `BENCH_DATABASE_URL`), signs a user
//! up, creates a workspace, and then loads two pages with the same closed-loop generator:
//! `/healthz` (no database, no template: the floor of the stack) and the signed-in workspace
//! dashboard (session lookup, membership, members, the switcher's workspaces, a template). It
//! prints requests per second and p50/p99 latency of each and the ratio of the dashboard to the
//! floor. Load generator and server share the machine, so compare ratios across runs, not
//! absolute figures across machines.
//!
//! Settings: `BENCH_SECONDS` (default 10), `BENCH_CONCURRENCY` (default 16).

mod common;

use common::{csrf_in, env_or, load, report};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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
async fn confirmation_link(
    outbox: &std::path::Path,
    base: &str,
) -> Result<String, Box<dyn std::error::Error>> {
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

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `cargo bench` passes `--bench`; any other argument (a test filter from `cargo test
    // --benches`) means "do not run".
    if std::env::args().skip(1).any(|a| a != "--bench") {
        return Ok(());
    }
    let seconds = env_or("BENCH_SECONDS", 10);
    let concurrency = env_or("BENCH_CONCURRENCY", 16);
    let port = free_port();
    let dir = std::env::temp_dir().join(format!("socializioz-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_socializioz"));
    cmd.arg("serve")
        .current_dir(&dir)
        .env("SOCIALIZIOZ__SERVER__LISTEN", format!("127.0.0.1:{port}"))
        .env("SOCIALIZIOZ__DATA__DIR", dir.join("data"))
        .env("SOCIALIZIOZ_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    let backend = match std::env::var("BENCH_DATABASE_URL") {
        Ok(url) => {
            cmd.env("SOCIALIZIOZ__DATABASE__URL", url);
            "PostgreSQL"
        }
        Err(_) => "SQLite",
    };
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
            ("email", "load.tester@example.com"),
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
    let link = confirmation_link(&server.dir.join("data").join("outbox"), &base).await?;
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
    let dashboard = res
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .ok_or("no workspace created")?
        .to_owned();
    let check = client.get(format!("{base}{dashboard}")).send().await?;
    if check.status() != reqwest::StatusCode::OK {
        return Err(format!("the dashboard answered {}", check.status()).into());
    }

    println!(
        "socializioz HTTP benchmark: {backend}, {concurrency} connections, {seconds} s per page, release build"
    );
    let floor = load(&client, &format!("{base}/healthz"), seconds, concurrency).await;
    report("GET /healthz (floor)", &floor);
    let dash = load(&client, &format!("{base}{dashboard}"), seconds, concurrency).await;
    report("GET /w/{id} (signed in)", &dash);
    println!(
        "dashboard / floor: throughput {:.3}x, p99 latency {:.2}x",
        dash.rps() / floor.rps(),
        dash.p99.as_secs_f64() / floor.p99.as_secs_f64().max(1e-9)
    );
    drop(server);
    Ok(())
}

//! One post followed through the logs: the request that publishes it answers with its request
//! id (`X-Request-Id`), the publish job it enqueues stores that id, and a real `worker` process
//! writing JSON logs runs the job in spans that carry it, down to the platform call and its
//! result. The lines name ids only: not the post's text, the author's address or a token.

use crate::both_backends;
use crate::connect::connect_through_oauth;
use crate::fixtures::owner_with_workspace;
use crate::helpers::{Backend, spawn_app_with};
use crate::platform::binary_for;
use reqwest::StatusCode;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

both_backends!(one_post_can_be_followed_from_the_request_to_the_platform_call);

const AUTHOR: &str = "ada@example.com";
const TEXT: &str = "A post to follow through the logs";
/// The longest the test waits for the worker to publish; far above what it needs.
const PATIENCE: Duration = Duration::from_secs(90);

/// The request id of a JSON log line: of the innermost span that has one.
fn request_id_of(line: &serde_json::Value) -> Option<&str> {
    let spans = line["spans"].as_array()?;
    spans
        .iter()
        .rev()
        .find_map(|span| span["request_id"].as_str())
}

fn message_of(line: &serde_json::Value) -> &str {
    line["fields"]["message"].as_str().unwrap_or_default()
}

async fn one_post_can_be_followed_from_the_request_to_the_platform_call(backend: Backend) {
    let sim = sim::Simulator::new();
    let running = sim
        .start(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let base = running.base_url.clone();
    let Some(app) = spawn_app_with(backend, |s| s.platforms.simulator = Some(base.clone())).await
    else {
        return;
    };
    let (client, ws) = owner_with_workspace(&app, AUTHOR).await;
    let account = connect_through_oauth(&app, &client, ws, "x").await;

    // The composer's "Publish now": the answer names its request id...
    let res = client
        .submit(
            &format!("/w/{ws}/posts"),
            &[
                ("body", TEXT),
                ("account", &account.to_string()),
                ("action", "now"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let request_id = res
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("every answer names its request id")
        .to_owned();
    assert_eq!(request_id.len(), 16, "{request_id}");
    assert!(request_id.bytes().all(|b| b.is_ascii_hexdigit()));

    // ...and the publish job it enqueued keeps it.
    assert_eq!(
        app.text("SELECT request_id FROM jobs WHERE kind = 'publish'")
            .await,
        request_id
    );

    // A worker process with JSON logs publishes it.
    let mut cmd = binary_for(&app);
    let mut worker = cmd
        .arg("worker")
        .env("SOCIALIZIOZ__PLATFORMS__SIMULATOR", &base)
        .env("SOCIALIZIOZ__WORKER__POLL_INTERVAL_MS", "100")
        // Info shows a post's path; the worker's "job done" (debug) says when it is settled.
        .env("SOCIALIZIOZ_LOG", "info,services::jobs::worker=debug")
        .env("SOCIALIZIOZ_LOG_FORMAT", "json")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start a worker process");
    let stderr = worker.stderr.take().expect("the worker's log");
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // Read the log until the job of this request is done (its result written).
    let mut lines: Vec<serde_json::Value> = Vec::new();
    let mut raw = String::new();
    let started = Instant::now();
    let done = loop {
        let left = PATIENCE.saturating_sub(started.elapsed());
        match rx.recv_timeout(left) {
            Ok(text) => {
                raw.push_str(&text);
                raw.push('\n');
                let Ok(line) = serde_json::from_str::<serde_json::Value>(&text) else {
                    continue;
                };
                let finished = message_of(&line) == "job done"
                    && request_id_of(&line) == Some(request_id.as_str());
                lines.push(line);
                if finished {
                    break true;
                }
            }
            Err(_) => break false,
        }
    };
    let _ = worker.kill();
    let _ = worker.wait();
    let _ = reader.join();
    assert!(done, "the worker did not finish the job in time:\n{raw}");

    // The job's lines carry the request id, from its span down to the platform's answer.
    let ours: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| request_id_of(l) == Some(request_id.as_str()))
        .collect();
    let messages: Vec<&str> = ours.iter().map(|l| message_of(l)).collect();
    for expected in [
        "calling the platform",
        "the platform published it",
        "job done",
    ] {
        assert!(
            messages.contains(&expected),
            "no {expected:?} line with the request id: {messages:?}\n{raw}"
        );
    }
    let call = ours
        .iter()
        .find(|l| message_of(l) == "calling the platform")
        .unwrap();
    let span_names: Vec<&str> = call["spans"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(span_names, ["job", "publish"], "{call}");
    assert_eq!(call["spans"][0]["kind"], "publish");
    assert_eq!(call["fields"]["platform"], "x");
    assert_eq!(
        app.text("SELECT state FROM posts").await,
        "published",
        "the post went out"
    );

    // Ids only: no text, address or token in any line.
    let tokens = app.tokens_of(account).await;
    let token = secrecy::ExposeSecret::expose_secret(&tokens.access).to_owned();
    for secret in [TEXT, AUTHOR, token.as_str()] {
        assert!(!raw.contains(secret), "the log names {secret:?}:\n{raw}");
    }
}

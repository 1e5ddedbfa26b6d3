//! Scale-out, for real: two `serve --no-worker` processes and three `worker` processes of the
//! binary against one PostgreSQL database and a real S3 server (`s3s-fs`, which `.ci/run`
//! installs), each process with a data folder of its own and only the settings the README's
//! scale-out section says to share. Images (one larger than a part of a multipart upload) and a
//! short video (when ffmpeg is here) are uploaded through one web process, posts are made through
//! both, and the workers publish them to the simulator in this test process: Instagram fetches
//! each file from the store's signed URL, X is sent each in chunks by a worker. The simulator
//! gets every post exactly once, with the bytes that were uploaded.
//!
//! Without `s3s-fs` on the `PATH` the test is skipped with a printed reason, unless
//! `SOCIALIZIOZ_REQUIRE_S3=1` (CI sets it); without PostgreSQL, as every PostgreSQL test.

use crate::connect::connect_through_oauth;
use crate::fixtures::owner_with_workspace;
use crate::helpers::{
    Backend, Client, PASSWORD, TempDir, TestApp, required, skip, spawn_app_with, until,
};
use crate::platform::binary_for;
use crate::processes::Process;
use domain::Platform;
use reqwest::StatusCode;
use sha2::Digest;
use std::process::Command;
use std::time::Duration;

const AUTHOR: &str = "ada@example.com";
/// The longest the test waits for anything: far above what the topology needs (seconds), so a
/// busy machine does not fail it.
const PATIENCE: Duration = Duration::from_secs(240);
const BUCKET: &str = "socializioz-media";
const REGION: &str = "us-east-1";
const S3_ACCESS_KEY: &str = "socializioz-test";
const S3_SECRET_KEY: &str = "socializioz-test-secret-key";
/// The master keys every process is given: the accounts' tokens are sealed by the process
/// that connects them and opened by the workers.
const MASTER_KEYS: &str = "k1:404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f";
const WEB_PROCESSES: usize = 2;
const WORKER_PROCESSES: usize = 3;
/// Posts to Instagram and X, each with an image of its own; one more goes to Instagram alone
/// with an image larger than one part of a multipart upload (5 MiB; X takes at most 5 MB).
const POSTS: usize = 6;
/// The size of one part of the store's multipart uploads.
const PART: usize = 5 * 1024 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_web_and_three_worker_processes_publish_uploaded_media_once_through_s3() {
    let Some(s3) = S3Server::start().await else {
        return;
    };
    let sim = sim::Simulator::new();
    let running = sim
        .start(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let sim_base = running.base_url.clone();
    // The accounts are connected through this in-process instance (the OAuth flow comes back
    // to its address); it shares the database, the keys and the bucket with the processes,
    // and runs no worker.
    let Some(app) = spawn_app_with(Backend::Postgres, |s| {
        s.platforms.simulator = Some(sim_base.clone());
        s.security.master_keys = Some(MASTER_KEYS.to_owned().into());
        s.media.s3 = Some(socializioz::config::S3Settings {
            bucket: BUCKET.to_owned(),
            region: REGION.to_owned(),
            endpoint: Some(s3.url.clone()),
            access_key_id: S3_ACCESS_KEY.to_owned(),
            secret_access_key: S3_SECRET_KEY.to_owned().into(),
        });
    })
    .await
    else {
        return;
    };
    let (setup, ws) = owner_with_workspace(&app, AUTHOR).await;
    let instagram = connect_through_oauth(&app, &setup, ws, "instagram").await;
    let x = connect_through_oauth(&app, &setup, ws, "x").await;

    let topology = Topology::start(&app, &s3, &sim_base).await;
    let (web1, web2) = (&topology.web[0], &topology.web[1]);

    // Signed in at one web process, the same browser is signed in at the other: the session
    // lives in the shared database, and both check it with the shared secret key.
    let browser1 = Client::new(web1);
    let res = browser1.log_in(AUTHOR, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "signing in at {web1}");
    let browser2 = Client {
        http: browser1.http.clone(),
        address: web2.clone(),
    };

    // Every image is uploaded through the first web process.
    let mut expected = Vec::new();
    for n in 0..POSTS {
        let bytes = noisy_jpeg(800, 600, n as u32 + 1);
        let name = format!("picture-{n}.jpg");
        let media = app.upload_media(&browser1, ws, &name, bytes.clone()).await;
        expected.push(Expected {
            text: format!("Scale-out post number {n}"),
            media,
            bytes,
            kind: "image",
            accounts: vec![instagram, x],
        });
    }
    let large = noisy_jpeg(2400, 1800, 99);
    assert!(
        large.len() > PART && large.len() < 10 * 1024 * 1024,
        "the large image is {} bytes: more than one part, within the 10 MB limit",
        large.len()
    );
    let media = app
        .upload_media(&browser1, ws, "large.jpg", large.clone())
        .await;
    expected.push(Expected {
        text: "Scale-out post with a large picture".to_owned(),
        media,
        bytes: large,
        kind: "image",
        accounts: vec![instagram],
    });
    // A video, which the web process copies from the store to read its facts with ffmpeg.
    if crate::video::ffmpeg_here() {
        let clip = crate::video::video(4, "320x240", 10);
        let media = app
            .upload_media(&browser1, ws, "clip.mp4", clip.clone())
            .await;
        assert_eq!(
            app.text(&format!(
                "SELECT CAST(duration_ms AS TEXT) || ' ' || CAST(thumb_key IS NOT NULL AS TEXT) \
                 FROM media_items WHERE id = {media}"
            ))
            .await,
            "4000 true",
            "the video's length and poster were read from the bucket"
        );
        expected.push(Expected {
            text: "Scale-out post with a video".to_owned(),
            media,
            bytes: clip,
            kind: "video",
            accounts: vec![instagram, x],
        });
    }

    // Nothing is in the processes' own folders: the files are in the bucket, as uploaded.
    for item in &expected {
        let key = app
            .text(&format!(
                "SELECT object_key FROM media_items WHERE id = {}",
                item.media
            ))
            .await;
        let stored = std::fs::read(s3.root.0.join(BUCKET).join(&key))
            .unwrap_or_else(|e| panic!("{key} is not in the bucket: {e}"));
        assert!(stored == item.bytes, "{key} in the bucket differs");
    }
    topology.assert_no_local_media();

    // Posts due now, made through both web processes in turn; the second is sent the form as
    // the first served it (a load balancer may send the page and its form to different ones).
    let token = browser1.csrf().await;
    for (n, item) in expected.iter().enumerate() {
        let media = item.media.to_string();
        let accounts: Vec<String> = item.accounts.iter().map(i64::to_string).collect();
        let mut fields = vec![
            ("csrf", token.as_str()),
            ("body", item.text.as_str()),
            ("media", media.as_str()),
            ("action", "now"),
        ];
        fields.extend(accounts.iter().map(|a| ("account", a.as_str())));
        let browser = if n % 2 == 0 { &browser2 } else { &browser1 };
        let res = browser.post_raw(&format!("/w/{ws}/posts"), &fields).await;
        assert_eq!(
            res.status(),
            StatusCode::SEE_OTHER,
            "posting {:?} through {}",
            item.text,
            browser.address
        );
    }
    let targets: usize = expected.iter().map(|e| e.accounts.len()).sum();
    assert_eq!(
        app.count("SELECT COUNT(*) FROM post_targets").await,
        i64::try_from(targets).unwrap()
    );

    let took = until("the workers settle every target", PATIENCE, || async {
        topology.assert_running();
        open_targets(&app).await == 0
    })
    .await;
    let unpublished = app
        .text(
            "SELECT COALESCE(string_agg(state || ': ' || COALESCE(last_error, ''), ' | '), '') \
             FROM post_targets WHERE state <> 'published'",
        )
        .await;
    assert!(
        unpublished.is_empty(),
        "targets not published: {unpublished}\n{}",
        topology.logs()
    );
    topology.assert_running();

    // At the platforms: each post once, with the uploaded image (Instagram fetched it whole
    // from the store's signed URL; X counts the bytes it was sent).
    let posts = sim.posts();
    assert_eq!(posts.len(), targets, "{posts:#?}");
    for item in &expected {
        let digest = hex::encode(sha2::Sha256::digest(&item.bytes));
        for platform in [Platform::Instagram, Platform::X] {
            let got: Vec<_> = posts
                .iter()
                .filter(|p| p.platform == platform && p.text == item.text)
                .collect();
            let wanted = item.accounts.contains(if platform == Platform::Instagram {
                &instagram
            } else {
                &x
            });
            assert_eq!(
                got.len(),
                usize::from(wanted),
                "{platform:?} got {:?} {} times",
                item.text,
                got.len()
            );
            let Some(post) = got.first() else {
                continue;
            };
            assert_eq!(post.media.len(), 1, "{post:?}");
            let media = &post.media[0];
            assert_eq!(
                (media.kind.as_str(), media.bytes),
                (item.kind, item.bytes.len() as u64),
                "{platform:?}: {:?}",
                item.text
            );
            if platform == Platform::Instagram {
                assert_eq!(
                    media.sha256.as_deref(),
                    Some(digest.as_str()),
                    "Instagram fetched other bytes for {:?}",
                    item.text
                );
            }
        }
    }
    let workers = app
        .count(
            "SELECT COUNT(DISTINCT locked_by) FROM jobs WHERE kind = 'publish' AND state = 'done'",
        )
        .await;
    skip(&format!(
        "scale-out test: {targets} targets published in {took:.1?}, by {workers} of the \
         {WORKER_PROCESSES} workers"
    ));
}

/// A post the test makes, and what the platforms should get.
struct Expected {
    text: String,
    media: i64,
    bytes: Vec<u8>,
    /// "image" or "video".
    kind: &'static str,
    accounts: Vec<i64>,
}

/// Targets still waiting or publishing, and publish jobs not finished.
async fn open_targets(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM post_targets WHERE state IN ('scheduled', 'publishing')")
        .await
        + app
            .count(
                "SELECT COUNT(*) FROM jobs WHERE kind = 'publish' AND state IN ('queued', 'running')",
            )
            .await
}

/// A JPEG of noise (which compresses badly), different for each `seed` (not 0).
fn noisy_jpeg(width: u32, height: u32, seed: u32) -> Vec<u8> {
    let mut state = seed;
    let img = image::RgbImage::from_fn(width, height, |_, _| {
        // xorshift32
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let [r, g, b, _] = state.to_le_bytes();
        image::Rgb([r, g, b])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg)
        .expect("encode an image");
    out.into_inner()
}

/// `s3s-fs` serving a temporary folder on a free port of 127.0.0.1, with the bucket made.
struct S3Server {
    url: String,
    root: TempDir,
    _process: Process,
}

impl S3Server {
    /// `None` (with a printed reason) when `s3s-fs` is not installed and not required.
    async fn start() -> Option<Self> {
        let installed = Command::new("s3s-fs")
            .arg("--version")
            .output()
            .is_ok_and(|out| out.status.success());
        if !installed {
            let reason = "s3s-fs is not on the PATH \
                          (cargo install --locked s3s-fs@0.14.1 --features binary)";
            assert!(
                !required("SOCIALIZIOZ_REQUIRE_S3"),
                "an S3 server is required (SOCIALIZIOZ_REQUIRE_S3=1) but {reason}"
            );
            skip(&format!("SKIPPED (S3): {reason}"));
            return None;
        }
        let root = TempDir::new();
        // Each folder under its root is a bucket.
        std::fs::create_dir(root.0.join(BUCKET)).expect("make the bucket");
        let mut cmd = Command::new("s3s-fs");
        cmd.args([
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--access-key",
            S3_ACCESS_KEY,
            "--secret-key",
            S3_SECRET_KEY,
        ])
        .arg(&root.0)
        .env("RUST_LOG", "info");
        let process = Process::start("s3s-fs", cmd, |line| {
            line.split_once("server is running at ")
                .map(|(_, url)| url.trim().to_owned())
        });
        let url = process.announced().await;
        Some(Self {
            url,
            root,
            _process: process,
        })
    }
}

/// The web and worker processes, each with its own data folder.
struct Topology {
    /// The web processes' addresses.
    web: Vec<String>,
    processes: Vec<Process>,
    folders: TempDir,
}

impl Topology {
    /// Starts the web processes, waits until they listen, then starts the workers.
    async fn start(app: &TestApp, s3: &S3Server, sim: &str) -> Self {
        let folders = TempDir::new();
        // The store's secret as the README suggests: in a file only the server reads.
        let secret = folders.0.join("s3-secret-access-key");
        std::fs::write(&secret, format!("{S3_SECRET_KEY}\n")).unwrap();
        let command = |name: &str| {
            let data = folders.0.join(name);
            std::fs::create_dir(&data).unwrap();
            // The database URL and the server's secret key from the test instance.
            let mut cmd = binary_for(app);
            cmd.current_dir(&data)
                .env("SOCIALIZIOZ__DATA__DIR", &data)
                .env("SOCIALIZIOZ__DATABASE__MAX_CONNECTIONS", "4")
                .env("SOCIALIZIOZ__SECURITY__MASTER_KEYS", MASTER_KEYS)
                .env("SOCIALIZIOZ__MEDIA__S3__BUCKET", BUCKET)
                .env("SOCIALIZIOZ__MEDIA__S3__REGION", REGION)
                .env("SOCIALIZIOZ__MEDIA__S3__ENDPOINT", &s3.url)
                .env("SOCIALIZIOZ__MEDIA__S3__ACCESS_KEY_ID", S3_ACCESS_KEY)
                .env("SOCIALIZIOZ__MEDIA__S3__SECRET_ACCESS_KEY_FILE", &secret)
                .env("SOCIALIZIOZ__PLATFORMS__SIMULATOR", sim)
                .env("SOCIALIZIOZ_LOG", "warn,socializioz::app=info")
                .env("SOCIALIZIOZ_LOG_FORMAT", "json");
            cmd
        };
        let mut processes = Vec::new();
        for n in 1..=WEB_PROCESSES {
            let name = format!("web-{n}");
            let mut cmd = command(&name);
            cmd.args(["serve", "--no-worker"])
                .env("SOCIALIZIOZ__SERVER__LISTEN", "127.0.0.1:0");
            processes.push(Process::start(&name, cmd, serving_address));
        }
        let mut web = Vec::new();
        for process in &processes {
            web.push(process.announced().await);
        }
        for n in 1..=WORKER_PROCESSES {
            let name = format!("worker-{n}");
            let mut cmd = command(&name);
            cmd.arg("worker")
                // Links in what the workers write lead to the site (here, a web process).
                .env("SOCIALIZIOZ__SERVER__PUBLIC_URL", &web[0])
                .env("SOCIALIZIOZ__WORKER__POLL_INTERVAL_MS", "100");
            processes.push(Process::start(&name, cmd, |_| None));
        }
        Self {
            web,
            processes,
            folders,
        }
    }

    /// Fails, with its log, when a process has stopped.
    fn assert_running(&self) {
        for process in &self.processes {
            process.assert_running();
        }
    }

    /// No process wrote a media file to its own folder.
    fn assert_no_local_media(&self) {
        for process in &self.processes {
            let media = self.folders.0.join(&process.name).join("media");
            assert!(!media.exists(), "{} has a media folder", process.name);
        }
    }

    /// The last lines every process wrote.
    fn logs(&self) -> String {
        self.processes.iter().map(Process::log).collect()
    }
}

/// The address a `serve` process announces in its JSON log line "Socializioz is serving".
fn serving_address(line: &str) -> Option<String> {
    let event: serde_json::Value = serde_json::from_str(line).ok()?;
    let fields = event.get("fields")?;
    (fields.get("message")?.as_str()? == "Socializioz is serving")
        .then(|| fields.get("address")?.as_str().map(str::to_owned))
        .flatten()
}

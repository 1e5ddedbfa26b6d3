//! What the simulator's tests share: a running simulator, an HTTP client that does not follow
//! redirects, reading the redirect back, a media store (served by `sim::media::serve`) and
//! Graph-style JSON calls.
//!
//! Each test file compiles this module on its own, so a helper one of them does not use is not
//! dead code.

#![allow(dead_code)]

use reqwest::StatusCode;
use serde_json::Value;
use sim::Simulator;

/// A simulator listening on a free port.
pub async fn start() -> (Simulator, sim::Running) {
    let sim = Simulator::new();
    let running = sim.start("127.0.0.1:0".parse().unwrap()).await.unwrap();
    (sim, running)
}

/// A client that shows redirects instead of following them.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The query parameter `name` of a redirect's `location`, decoded; empty when missing.
pub fn param(location: &str, name: &str) -> String {
    let query = location.split_once('?').unwrap().1;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// The S256 PKCE challenge of `verifier`.
pub fn pkce_challenge(verifier: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier))
}

/// A GET of `url` with `query`; the status and the JSON answer.
pub async fn get_json(
    http: &reqwest::Client,
    url: &str,
    query: &[(&str, &str)],
) -> (StatusCode, Value) {
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(query)
        .finish();
    let res = http.get(format!("{url}?{query}")).send().await.unwrap();
    (res.status(), res.json().await.unwrap())
}

/// A JPEG (`/photo.jpg`), a PNG (`/photo.png`) and a video (`/clip.mp4`, 300 KB of `video`).
pub async fn media_server(video: u8) -> String {
    sim::media::serve(vec![
        ("/photo.jpg", "image/jpeg", vec![0xFF; 2048]),
        ("/photo.png", "image/png", vec![0x89; 1024]),
        ("/clip.mp4", "video/mp4", vec![video; 300_000]),
    ])
    .await
    .unwrap()
}

/// The simulator's OpenAI-compatible API, with a client.
pub struct OpenAiApi {
    pub sim: sim::Simulator,
    pub _running: sim::Running,
    /// `<simulator>/openai/v1`.
    pub base: String,
    pub http: reqwest::Client,
}

impl OpenAiApi {
    pub async fn start() -> Self {
        let (sim, running) = start().await;
        let base = format!("{}/openai/v1", running.base_url);
        Self {
            sim,
            _running: running,
            base,
            http: client(),
        }
    }

    /// A POST of `body` to `path` with `key`: the status, the headers and the raw answer.
    pub async fn post(
        &self,
        path: &str,
        key: &str,
        body: &serde_json::Value,
    ) -> (StatusCode, reqwest::header::HeaderMap, String) {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(key)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        (status, headers, res.text().await.unwrap())
    }
}

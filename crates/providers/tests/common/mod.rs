//! What the adapter tests share: a running simulator, the person pressing Allow, a media store,
//! the requests to publish, and Graph's error bodies for wiremock.
//!
//! Each test file compiles this module on its own, so a helper one of them does not use is not
//! dead code.

#![allow(dead_code)]

use domain::Platform;
use domain::media::MediaKind;
use providers::social::{AccountRef, MediaRef, PublishRequest};
use secrecy::SecretString;
use sim::Simulator;

/// A simulator listening on a free port.
pub async fn simulator() -> (Simulator, sim::Running) {
    let simulator = Simulator::new();
    let running = simulator
        .start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    (simulator, running)
}

/// The S256 PKCE challenge of `verifier`.
pub fn pkce_challenge(verifier: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier))
}

/// Plays the person: opens the authorize URL's form, presses Allow (as `user`, where the page
/// asks who) and reads the code from the redirect back.
pub async fn press_allow(authorize_url: &str, user: Option<&str>) -> String {
    let (action, query) = authorize_url.split_once('?').unwrap();
    let mut form: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    form.push(("decision".into(), "allow".into()));
    if let Some(user) = user {
        form.push(("username".into(), user.into()));
    }
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(action)
        .form(&form)
        .send()
        .await
        .unwrap();
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    form_urlencoded::parse(location.split_once('?').unwrap().1.as_bytes())
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("a code")
}

/// Serves each `(path, content type, bytes)` the way signed media URLs would; the base URL
/// (the simulator's file server, `sim::media::serve`).
pub async fn serve_files(files: Vec<(&'static str, &'static str, Vec<u8>)>) -> String {
    sim::media::serve(files).await.unwrap()
}

/// Serves `bytes` at any path without announcing their length (a chunked body, as a store that
/// streams would), so the size the platform is told comes from the `MediaRef`; the base URL.
pub async fn serve_unsized(content_type: &'static str, bytes: Vec<u8>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let bytes = bytes.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = socket.read(&mut buffer).await.unwrap();
                    if n == 0 {
                        return;
                    }
                    request.extend_from_slice(&buffer[..n]);
                }
                let mut answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
                )
                .into_bytes();
                for chunk in bytes.chunks(10_000) {
                    answer.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                    answer.extend_from_slice(chunk);
                    answer.extend_from_slice(b"\r\n");
                }
                answer.extend_from_slice(b"0\r\n\r\n");
                let _ = socket.write_all(&answer).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    format!("http://{address}")
}

/// A JPEG (`/photo.jpg`, 2 KB), a PNG (`/photo.png`, 1 KB) and a video (`/clip.mp4`, 300 KB).
pub async fn media_server() -> String {
    serve_files(vec![
        ("/photo.jpg", "image/jpeg", vec![0xFF; 2048]),
        ("/photo.png", "image/png", vec![0x89; 1024]),
        ("/clip.mp4", "video/mp4", vec![0; 300_000]),
    ])
    .await
}

/// The media file `{base}/{file}`: a video when `mime` is `video/…`, an image otherwise.
pub fn media_file(base: &str, file: &str, mime: &str, size_bytes: u64) -> MediaRef {
    MediaRef {
        url: format!("{base}/{file}"),
        mime: mime.into(),
        kind: if mime.starts_with("video/") {
            MediaKind::Video
        } else {
            MediaKind::Image
        },
        size_bytes,
        width: None,
        height: None,
        ai_generated: false,
    }
}

/// The connected account with row id 1.
pub fn account(platform: Platform, external_id: &str, username: &str) -> AccountRef {
    AccountRef {
        id: 1,
        platform,
        external_id: external_id.into(),
        username: username.into(),
    }
}

/// A first attempt at publishing `text` with `media` to `account`.
pub fn publish_request(
    account: AccountRef,
    token: &SecretString,
    text: &str,
    media: Vec<MediaRef>,
) -> PublishRequest {
    PublishRequest {
        account,
        access_token: Some(token.clone()),
        text: text.into(),
        media,
        first_comment: None,
        options: serde_json::Value::Null,
        idempotency_key: "sz-1-1-abc".into(),
    }
}

/// Graph's error body: `{"error": {message, type, code, error_subcode, fbtrace_id}}`.
pub fn graph_error(code: i64, subcode: Option<i64>, message: &str) -> serde_json::Value {
    let mut error = serde_json::json!({
        "message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbC"
    });
    if let Some(subcode) = subcode {
        error["error_subcode"] = subcode.into();
    }
    serde_json::json!({ "error": error })
}

//! Media files on both ends of a post: fetching a public URL the way a platform pulls the media
//! it was given, and [`serve`], a small file server on 127.0.0.1 that stands in for a media
//! store's signed URLs (for the simulator's tests, the adapters' tests and trying the sandbox).

use axum::body::Bytes;
use axum::routing::get;
use std::time::Duration;

/// A downloaded media file.
pub(crate) struct Fetched {
    pub mime: String,
    /// "image" or "video", from the content type.
    pub kind: String,
    pub body: Vec<u8>,
}

impl Fetched {
    pub fn posted(&self) -> crate::PostedMedia {
        use sha2::Digest;
        crate::PostedMedia {
            kind: self.kind.clone(),
            bytes: self.body.len() as u64,
            sha256: Some(hex_of(&sha2::Sha256::digest(&self.body))),
        }
    }
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Downloads a media file the way a platform fetches a public URL it was given; the reason
/// (in the platform's words chosen by the caller) when it cannot.
pub(crate) async fn fetch(url: &str) -> Result<Fetched, String> {
    let res = reqwest::Client::new()
        .get(url)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .map_err(|_| "the media URL could not be reached".to_owned())?;
    if !res.status().is_success() {
        return Err(format!("the media URL answered {}", res.status()));
    }
    let mime = res
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = res
        .bytes()
        .await
        .map_err(|_| "the media download broke off".to_owned())?;
    Ok(Fetched {
        kind: if mime.starts_with("video/") {
            "video"
        } else {
            "image"
        }
        .to_owned(),
        mime,
        body: body.to_vec(),
    })
}

/// Serves each `(path, content type, bytes)` on a free port of 127.0.0.1, the way a store's
/// signed media URLs would; the base URL (`http://127.0.0.1:<port>`). It serves until the Tokio
/// runtime it was started on stops (a test's runtime ends with the test).
pub async fn serve(files: Vec<(&'static str, &'static str, Vec<u8>)>) -> anyhow::Result<String> {
    let mut app = axum::Router::new();
    for (path, content_type, bytes) in files {
        let bytes = Bytes::from(bytes);
        app = app.route(
            path,
            get(move || {
                let bytes = bytes.clone();
                async move { ([("content-type", content_type)], bytes) }
            }),
        );
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, app).await {
            tracing::error!(error = ?err, "the media file server stopped");
        }
    });
    Ok(format!("http://{address}"))
}

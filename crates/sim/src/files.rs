//! A web host for the media library's Import from URL: `/files/…` serves a real PNG (at a
//! name with an extension, and at one without), a page that is not media, a file of any size
//! (with or without its length announced, so a limit must hold while it streams), and a
//! redirect to any address (so each hop's checks can be tested).

use axum::Router;
use axum::body::Body;
use axum::extract::Query;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use std::collections::HashMap;

pub(crate) fn router() -> Router {
    Router::new()
        .route("/files/picture.png", get(picture))
        .route("/files/picture", get(picture))
        .route("/files/page.html", get(page))
        .route("/files/large.jpg", get(large))
        .route("/files/redirect", get(redirect))
}

/// A 64 × 48 PNG of two colours.
pub fn picture_png() -> Vec<u8> {
    let img = image::RgbImage::from_fn(64, 48, |x, _| {
        if x < 32 {
            image::Rgb([200, 40, 40])
        } else {
            image::Rgb([40, 40, 200])
        }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    // Encoding a small image in memory does not fail.
    let _ = img.write_to(&mut out, image::ImageFormat::Png);
    out.into_inner()
}

async fn picture() -> Response {
    ([(header::CONTENT_TYPE, "image/png")], picture_png()).into_response()
}

async fn page() -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        "<!doctype html><title>Not a picture</title>",
    )
        .into_response()
}

/// `?mb=N`: a JPEG's first bytes and then N MB of filler, in 64 KB pieces; `&length=0` leaves
/// the length unannounced.
async fn large(Query(q): Query<HashMap<String, String>>) -> Response {
    let mb: usize = q
        .get("mb")
        .and_then(|m| m.parse().ok())
        .unwrap_or(1)
        .min(200);
    let announce = q.get("length").map(String::as_str) != Some("0");
    let head = Bytes::from_static(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F', 0]);
    let piece = Bytes::from(vec![0u8; 64 * 1024]);
    let total = head.len() + mb * 1024 * 1024;
    let pieces = std::iter::once(head)
        .chain(std::iter::repeat_n(piece, mb * 16))
        .map(Ok::<_, std::io::Error>);
    let body = Body::from_stream(futures_util::stream::iter(pieces));
    let mut res = (StatusCode::OK, [(header::CONTENT_TYPE, "image/jpeg")], body).into_response();
    if announce && let Ok(value) = header::HeaderValue::from_str(&total.to_string()) {
        res.headers_mut().insert(header::CONTENT_LENGTH, value);
    }
    res
}

/// `?to=ADDRESS`: a 302 to it.
async fn redirect(Query(q): Query<HashMap<String, String>>) -> Response {
    match q.get("to") {
        Some(to) => (StatusCode::FOUND, [(header::LOCATION, to.clone())]).into_response(),
        None => StatusCode::BAD_REQUEST.into_response(),
    }
}

//! The stylesheet, the scripts and the icon, compiled into the binary.

use crate::AppState;
use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

/// The files' routes. They sit outside the request context: no session, no cookies.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/static/app.css", get(css))
        .route("/static/app.js", get(js))
        .route("/static/composer.js", get(composer_js))
        .route("/static/assist.js", get(assist_js))
        .route("/static/export.js", get(export_js))
        .route("/static/post.js", get(post_js))
        .route("/favicon.svg", get(favicon_svg))
        .route("/favicon.ico", get(favicon_ico))
}

const CSS: &str = include_str!("../../static/app.css");
const JS: &str = include_str!("../../static/app.js");
const COMPOSER_JS: &str = include_str!("../../static/composer.js");
const ASSIST_JS: &str = include_str!("../../static/assist.js");
const EXPORT_JS: &str = include_str!("../../static/export.js");
const POST_JS: &str = include_str!("../../static/post.js");
const FAVICON_SVG: &str = include_str!("../../static/favicon.svg");
/// The same icon drawn at 16 and 32 pixels, for browsers that ask for `/favicon.ico` whatever
/// the page links.
const FAVICON_ICO: &[u8] = include_bytes!("../../static/favicon.ico");

pub async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CSS,
    )
}

pub async fn js() -> impl IntoResponse {
    script(JS)
}

pub async fn composer_js() -> impl IntoResponse {
    script(COMPOSER_JS)
}

pub async fn assist_js() -> impl IntoResponse {
    script(ASSIST_JS)
}

pub async fn export_js() -> impl IntoResponse {
    script(EXPORT_JS)
}

pub async fn post_js() -> impl IntoResponse {
    script(POST_JS)
}

fn script(body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
}

pub async fn favicon_svg() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        FAVICON_SVG,
    )
}

pub async fn favicon_ico() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "image/x-icon"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        FAVICON_ICO,
    )
}

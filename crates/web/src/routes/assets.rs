//! The stylesheet and the script, compiled into the binary.

use axum::http::header;
use axum::response::IntoResponse;

const CSS: &str = include_str!("../../static/app.css");
const JS: &str = include_str!("../../static/app.js");
const COMPOSER_JS: &str = include_str!("../../static/composer.js");
const EXPORT_JS: &str = include_str!("../../static/export.js");

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

pub async fn export_js() -> impl IntoResponse {
    script(EXPORT_JS)
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

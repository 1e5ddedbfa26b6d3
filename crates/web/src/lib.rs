//! The web application: routes, extractors, pages, and the security middleware that wraps them.
//!
//! A request gets its id and its span (`trace`), passes the security headers, then `hygiene`
//! (no control character in its address or form), then `context::load` (who is signed in, the
//! CSRF token, the flash message, consent and policies, and the CSRF check on every unsafe
//! method), then the extractors of its handler (`CurrentUser`, `WorkspaceMember` with its
//! role), then the handler, which parses its form into domain types and calls one service.

mod confirm;
mod consent;
mod context;
mod error;
mod extract;
mod flash;
mod forms;
mod hygiene;
mod i18n;
mod markdown;
mod page;
mod routes;
mod security;
#[cfg(test)]
mod stylesheet_check;
mod trace;

use axum::Router;
use services::Services;

pub use context::{CSRF_COOKIE, FLASH_COOKIE, SESSION_COOKIE};

/// What the web layer needs to know about how it is deployed.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Reached over HTTPS (TLS served here, or a public URL that starts with https://):
    /// cookies get `Secure` and responses carry HSTS.
    pub https: bool,
    /// Where e-mail goes when no SMTP server is configured, to tell people on the pages that
    /// mention an e-mail they should receive.
    pub outbox: Option<String>,
    /// Peers whose `X-Forwarded-For` names the real client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The operator's analytics tag (a script URL), rendered only for browsers that allow
    /// analytics.
    pub analytics_script: Option<String>,
    /// The operator's marketing tag, rendered only for browsers that allow marketing.
    pub marketing_script: Option<String>,
    /// The third parties this instance sends personal data to, as configured: (name, purpose).
    /// The Privacy Policy lists exactly these.
    pub processors: Vec<(String, String)>,
}

#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    pub config: WebConfig,
}

/// The whole application as one router.
pub fn app(services: Services, config: WebConfig) -> Router {
    let state = AppState { services, config };
    routes::router(state)
}

//! Headers every response carries.

use axum::http::{HeaderName, HeaderValue, header};
use tower_http::set_header::SetResponseHeaderLayer;

/// No inline script or style anywhere: every script and stylesheet is a file of our own, or the
/// operator's configured tag (whose origin is added to `script-src` and `connect-src`). Forms
/// post to this site only, except that a form's redirect may lead to a configured platform's
/// authorisation page (`form_origins`), which browsers check against `form-action` too.
pub fn csp(tag_origins: &[String], form_origins: &[String]) -> String {
    let extra: String = tag_origins.iter().map(|o| format!(" {o}")).collect();
    let forms: String = form_origins.iter().map(|o| format!(" {o}")).collect();
    format!(
        "default-src 'self'; script-src 'self'{extra}; style-src 'self'; img-src 'self' data:; \
         font-src 'self'; connect-src 'self'{extra}; form-action 'self'{forms}; \
         frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    )
}

/// The origin (`scheme://host[:port]`) of an absolute URL, for the CSP.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    (!host.is_empty() && matches!(scheme, "http" | "https")).then(|| format!("{scheme}://{host}"))
}

/// The security headers as layers; HSTS only when the site is reached over HTTPS.
pub fn layers(
    https: bool,
    tag_origins: &[String],
    form_origins: &[String],
) -> Vec<SetResponseHeaderLayer<HeaderValue>> {
    let csp = HeaderValue::from_str(&csp(tag_origins, form_origins))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"));
    let mut list = vec![
        (header::CONTENT_SECURITY_POLICY, csp),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ),
        (
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static(
                "camera=(), microphone=(), geolocation=(), interest-cohort=()",
            ),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
    ];
    if https {
        list.push((
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        ));
    }
    list.into_iter()
        .map(|(name, value)| SetResponseHeaderLayer::if_not_present(name, value))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_origins_extend_script_and_connect_sources_only() {
        assert_eq!(
            origin_of("https://stats.example.com/js/script.js"),
            Some("https://stats.example.com".to_owned())
        );
        assert_eq!(
            origin_of("http://localhost:8000/a.js?x"),
            Some("http://localhost:8000".to_owned())
        );
        assert_eq!(origin_of("javascript:alert(1)"), None);
        let policy = csp(
            &["https://stats.example.com".to_owned()],
            &["https://x.com".to_owned()],
        );
        assert!(
            policy.contains("form-action 'self' https://x.com;"),
            "{policy}"
        );
        assert!(policy.contains("script-src 'self' https://stats.example.com;"));
        assert!(policy.contains("connect-src 'self' https://stats.example.com;"));
        assert!(!policy.contains("unsafe-inline"));
        assert_eq!(csp(&[], &[]).matches("https://").count(), 0);
    }
}

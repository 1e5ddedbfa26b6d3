//! Headers every response carries, and the browser's own word on where a request comes from.

use crate::error::AppError;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, header};
use tower_http::set_header::SetResponseHeaderLayer;

/// A second layer against cross-site request forgery, beside the CSRF token: a request that
/// changes something (any method but GET, HEAD, OPTIONS and TRACE) and that the browser marks
/// `Sec-Fetch-Site: cross-site` was started by a page of another site. Same-origin and
/// same-site requests, requests a person started themselves (`none`: a typed address or a
/// bookmark) and requests without the header (older browsers, other programs) pass to the
/// token check. Platform callbacks are GETs and are not affected.
pub fn refused_cross_site(method: &Method, headers: &HeaderMap) -> Option<AppError> {
    if method.is_safe() {
        return None;
    }
    let cross_site = headers
        .get_all("sec-fetch-site")
        .iter()
        .any(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"));
    cross_site.then(|| {
        AppError::Forbidden(
            "This form was sent from another website, so it was not accepted. If you meant to \
             do this, open Socializioz directly and do it there."
                .to_owned(),
        )
    })
}

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
    fn only_cross_site_changes_are_refused() {
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert("sec-fetch-site", HeaderValue::from_str(value).unwrap());
            headers
        };
        assert!(refused_cross_site(&Method::POST, &with("cross-site")).is_some());
        assert!(refused_cross_site(&Method::DELETE, &with("Cross-Site")).is_some());
        assert!(refused_cross_site(&Method::PUT, &with("cross-site")).is_some());
        assert!(refused_cross_site(&Method::PATCH, &with("cross-site")).is_some());
        for ok in ["same-origin", "same-site", "none"] {
            assert!(
                refused_cross_site(&Method::POST, &with(ok)).is_none(),
                "{ok}"
            );
        }
        assert!(refused_cross_site(&Method::POST, &HeaderMap::new()).is_none());
        assert!(refused_cross_site(&Method::GET, &with("cross-site")).is_none());
        assert!(refused_cross_site(&Method::HEAD, &with("cross-site")).is_none());
    }

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

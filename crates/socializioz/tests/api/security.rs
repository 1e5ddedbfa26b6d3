//! Security on every response: CSRF, cookie flags, headers, redirects, TLS.

use crate::both_backends;
use crate::helpers::{Backend, PASSWORD, TempDir, expect_page, location, spawn_app, test_settings};
use reqwest::StatusCode;
use socializioz::app::Application;

both_backends!(unsafe_methods_need_the_csrf_token_of_this_browser);

async fn unsafe_methods_need_the_csrf_token_of_this_browser(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let browser = app.client();
    let fields = [
        ("name", "Ada"),
        ("email", "ada@example.com"),
        ("password", PASSWORD),
        ("timezone", "UTC"),
        ("language", "en"),
        ("accept_policies", "yes"),
    ];
    let res = browser.post_raw("/signup", &fields).await;
    expect_page(res, StatusCode::FORBIDDEN, "This form has expired").await;
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0);

    // A token minted for another browser does not work either.
    let other = app.client();
    let foreign = other.csrf().await;
    let mut with_foreign = vec![("csrf", foreign.as_str())];
    with_foreign.extend_from_slice(&fields);
    assert_eq!(
        browser.post_raw("/signup", &with_foreign).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0);

    // Signed in: the token is bound to the session; a JSON-ish request without it is refused.
    let ada = app.verified_user("Ada", "ada@example.com").await;
    let ws = {
        let res = ada.submit("/workspaces/new", &[("name", "Acme")]).await;
        crate::helpers::id_from_location(res.headers())
    };
    let res = ada
        .post_raw(&format!("/w/{ws}/rename"), &[("name", "Hijacked")])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = ada
        .http
        .post(ada.url(&format!("/w/{ws}/rename")))
        .header("content-type", "application/json")
        .body(r#"{"name":"Hijacked"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // The header works as well as the form field.
    let token = ada.csrf().await;
    let res = ada
        .http
        .post(ada.url(&format!("/w/{ws}/rename")))
        .header("x-csrf-token", token)
        .form(&[("name", "Renamed")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM workspaces WHERE name = 'Renamed'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM workspaces WHERE name = 'Hijacked'")
            .await,
        0
    );
    // Logging out needs the token too, so another site cannot sign people out.
    assert_eq!(
        ada.post_raw("/logout", &[]).await.status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn cookies_are_http_only_same_site_lax_and_not_secure_over_http() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let browser = app.client();
    let res = browser.get("/login").await;
    let csrf_cookie = cookie_named(&res, "sz_csrf");
    assert!(
        csrf_cookie.contains("HttpOnly")
            && csrf_cookie.contains("SameSite=Lax")
            && csrf_cookie.contains("Path=/")
    );
    assert!(!csrf_cookie.contains("Secure"));
    let res = browser.sign_up("Ada", "ada@example.com", PASSWORD).await;
    let signup = cookie_named(&res, "sz_signup");
    assert!(signup.contains("HttpOnly") && signup.contains("SameSite=Lax"));
    assert!(!signup.contains("Secure"), "{signup}");
    // The confirmation link, opened in this browser, starts the session.
    let link = app
        .last_mail_to("ada@example.com")
        .await
        .link(&app.address, "/verify/");
    let res = browser.submit(&link, &[]).await;
    let session = cookie_named(&res, "sz_session");
    assert!(session.contains("HttpOnly"), "{session}");
    assert!(session.contains("SameSite=Lax"), "{session}");
    assert!(session.contains("Max-Age=2592000"), "{session}");
    assert!(!session.contains("Secure"), "{session}");
    // The database keeps a hash, not the cookie's token.
    let token = session
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("sz_session=")
        .to_owned();
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM sessions WHERE token_hash = '{token}'"
        ))
        .await,
        0
    );
    let res = browser.log_out().await;
    assert!(cookie_named(&res, "sz_session").contains("Max-Age=0"));
}

fn cookie_named(res: &reqwest::Response, name: &str) -> String {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie set"))
        .to_owned()
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let browser = app.client();
    for path in [
        "/",
        "/login",
        "/signup",
        "/healthz",
        "/no/such/page",
        "/static/app.css",
        "/w/1",
    ] {
        let res = browser.get(path).await;
        let h = res.headers();
        let csp = h
            .get("content-security-policy")
            .unwrap_or_else(|| panic!("no CSP on {path}"))
            .to_str()
            .unwrap();
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "same-origin", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert!(
            h.get("strict-transport-security").is_none(),
            "HSTS over plain HTTP on {path}"
        );
    }
    let res = browser.get("/no/such/page").await;
    expect_page(res, StatusCode::NOT_FOUND, "Page not found").await;
    // No page carries inline script or style.
    for path in ["/", "/login", "/signup", "/password/forgot"] {
        let html = browser.get_text(path).await;
        assert!(
            !html.contains("<script>") && !html.contains(" style="),
            "{path} has inline code"
        );
    }
}

#[tokio::test]
async fn redirects_after_log_in_stay_on_this_site() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    app.verified_user("Ada", "ada@example.com").await;
    for (next, expected) in [
        ("//evil.example/x", "/dashboard"),
        ("https://evil.example", "/dashboard"),
        ("/\\evil.example", "/dashboard"),
        ("/settings", "/settings"),
    ] {
        let browser = app.client();
        let res = browser
            .submit(
                "/login",
                &[
                    ("email", "ada@example.com"),
                    ("password", PASSWORD),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(location(res.headers()), expected, "next={next}");
    }
}

#[tokio::test]
async fn tls_is_served_with_hsts_and_secure_cookies() {
    let data = TempDir::new();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert_path = data.0.join("cert.pem");
    let key_path = data.0.join("key.pem");
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    let mut settings = test_settings(
        &data,
        &format!("sqlite://{}", data.0.join("tls.db").display()),
    );
    settings.tls.cert = Some(cert_path);
    settings.tls.key = Some(key_path);
    let app = Application::build(settings, false).await.unwrap();
    let port = app.port();
    tokio::spawn(app.run_until_stopped(std::future::pending()));

    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap())
        .resolve(
            "localhost",
            std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        )
        .build()
        .unwrap();
    let res = client
        .get(format!("https://localhost:{port}/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .starts_with("max-age=")
    );
    let csrf = cookie_named(&res, "sz_csrf");
    assert!(csrf.contains("Secure"), "{csrf}");
    // Plain HTTP on the TLS port gets no page.
    let plain = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .send()
        .await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());
}

#[tokio::test]
async fn behind_an_https_proxy_cookies_are_secure_and_hsts_is_sent() {
    let data = TempDir::new();
    let mut settings = test_settings(
        &data,
        &format!("sqlite://{}", data.0.join("proxy.db").display()),
    );
    settings.server.public_url = Some("https://social.example.com/".to_owned());
    let app = Application::build(settings, false).await.unwrap();
    let port = app.port();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    let res = reqwest::get(format!("http://127.0.0.1:{port}/login"))
        .await
        .unwrap();
    assert!(cookie_named(&res, "sz_csrf").contains("Secure"));
    assert!(res.headers().contains_key("strict-transport-security"));
}

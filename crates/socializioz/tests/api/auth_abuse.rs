//! Log-in and sign-up under attack: a guesser cannot lock the owner out (blocked per account
//! and network, slowed per account, known browsers pass, the owner is told once), sign-up does
//! not reveal who has an account, and sign-ups are limited per network and overall. Each test
//! client comes from its own address through `X-Forwarded-For` (the test server trusts
//! loopback as a proxy, as the default settings do).

use crate::both_backends;
use crate::helpers::{
    Backend, Client, Mail, PASSWORD, TestApp, location, spawn_app, spawn_app_with,
};
use reqwest::StatusCode;
use std::io::Read;
use std::time::Duration;

both_backends!(
    a_guesser_cannot_lock_the_owner_out,
    sign_up_answers_the_same_for_a_taken_address,
    sign_ups_are_limited_per_network_and_overall,
    a_confirmation_link_signs_in_only_the_browser_that_signed_up,
    known_devices_are_exported_forgotten_and_deleted,
);

const ADA: &str = "ada@example.com";
const WARNING: &str = "Wrong passwords were tried on your Socializioz account";
const NOTICE: &str = "Someone tried to sign up with your address on Socializioz";

/// A browser whose requests come from `ip` (as a trusted proxy reports it).
fn browser_at(app: &TestApp, ip: &str) -> Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "x-forwarded-for",
        reqwest::header::HeaderValue::from_str(ip).unwrap(),
    );
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0")
        .default_headers(headers)
        .build()
        .unwrap();
    Client {
        http,
        address: app.address.clone(),
    }
}

fn sets_cookie(res: &reqwest::Response, name: &str) -> bool {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.starts_with(&format!("{name}=")) && !v.contains("Max-Age=0"))
}

fn retry_after(res: &reqwest::Response) -> u64 {
    res.headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After header")
}

async fn mails_to(app: &TestApp, to: &str, subject: &str) -> Vec<Mail> {
    app.mails()
        .await
        .into_iter()
        .filter(|m| m.to == to && m.subject == subject)
        .collect()
}

async fn a_guesser_cannot_lock_the_owner_out(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    const X: &str = "203.0.113.66";
    app.verified_user("Ada", ADA).await;
    // Ada's laptop signed in before, from the very network the guesser will use.
    let laptop = browser_at(&app, X);
    let res = laptop.log_in(ADA, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(sets_cookie(&res, "sz_device"), "no known-device cookie");
    assert_eq!(laptop.log_out().await.status(), StatusCode::SEE_OTHER);

    // 20 wrong passwords from X: 10 are checked, then X is blocked for this account.
    let guesser = browser_at(&app, X);
    let mut statuses = Vec::new();
    for i in 0..20 {
        let res = guesser
            .log_in(ADA, &format!("wrong guess number {i}"))
            .await;
        statuses.push(res.status());
    }
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNPROCESSABLE_ENTITY)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((checked, refused), (10, 10), "{statuses:?}");
    let res = guesser.log_in(ADA, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("Too many wrong passwords for this account from your network"),
        "{page}"
    );

    // The owner's known browser signs in with the right password, from X even.
    let res = laptop.log_in(ADA, PASSWORD).await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "the known device is kept out"
    );
    assert_eq!(laptop.get("/settings").await.status(), StatusCode::OK);

    // From a new network Y the owner is slowed down, told so, and gets in after the wait: the
    // block on X does nothing more to Y.
    let phone = browser_at(&app, "192.0.2.44");
    let res = phone.log_in(ADA, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait = retry_after(&res);
    assert!((1..=60).contains(&wait), "waits {wait} s");
    let page = res.text().await.unwrap();
    assert!(
        page.contains("log-ins from browsers that have not signed in to it before are slowed down")
            && page.contains(&format!("Try again in {wait} seconds")),
        "{page}"
    );
    // Another network keeps guessing meanwhile; the owner's turn still comes after the wait.
    let other = browser_at(&app, "198.51.100.9");
    assert_eq!(
        other.log_in(ADA, "yet another guess").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    app.services
        .login_throttle
        .advance(Duration::from_secs(wait));
    assert_eq!(
        other.log_in(ADA, "yet another guess").await.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "its turn came and it failed"
    );
    let res = phone.log_in(ADA, PASSWORD).await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "the owner is locked out"
    );
    assert_eq!(phone.get("/settings").await.status(), StatusCode::OK);
    // X stays blocked.
    assert_eq!(
        guesser.log_in(ADA, PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );

    // The owner was told once, without the guesses or where they came from.
    let warnings = mails_to(&app, ADA, WARNING).await;
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let body = &warnings[0].body;
    assert!(body.contains("10 wrong passwords"), "{body}");
    assert!(body.contains("/password/forgot"), "{body}");
    assert!(!body.contains(X) && !body.contains("wrong guess"), "{body}");
}

async fn sign_up_answers_the_same_for_a_taken_address(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    app.verified_user("Ada", ADA).await;
    let sent_before = app.mails().await.len();

    let newcomer = app.client();
    let new = newcomer
        .sign_up("Newcomer", "newcomer@example.com", PASSWORD)
        .await;
    let impostor = app.client();
    let taken = impostor
        .sign_up(
            "Impostor",
            " ADA@example.com ",
            "the impostor's own passphrase",
        )
        .await;
    // The same answer: status, destination, cookies, body.
    assert_eq!(new.status(), StatusCode::SEE_OTHER);
    assert_eq!(taken.status(), new.status());
    assert_eq!(location(new.headers()), "/signup/sent");
    assert_eq!(location(taken.headers()), location(new.headers()));
    for res in [&new, &taken] {
        assert!(sets_cookie(res, "sz_signup"));
        assert!(
            !sets_cookie(res, "sz_session"),
            "signed in before confirming"
        );
    }
    let cookie_names = |res: &reqwest::Response| -> Vec<String> {
        let mut names: Vec<String> = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok()?.split('=').next().map(str::to_owned))
            .collect();
        names.sort();
        names
    };
    assert_eq!(cookie_names(&new), cookie_names(&taken));
    assert_eq!(new.text().await.unwrap(), taken.text().await.unwrap());
    for browser in [&newcomer, &impostor] {
        let page = browser.get_text("/signup/sent").await;
        assert!(page.contains("Check your inbox"), "{page}");
    }
    // The requests only queued the work: no account was made by either yet.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'sign_up' AND state = 'queued'")
            .await,
        2
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 1);

    // The queue: the newcomer gets a confirmation link, Ada a notice with a way in, and no
    // second account exists for her address.
    let mails = app.mails().await;
    let fresh: Vec<&Mail> = mails[sent_before..].iter().collect();
    assert_eq!(fresh.len(), 2, "{fresh:?}");
    assert!(fresh.iter().any(|m| m.to == "newcomer@example.com"
        && m.subject == "Confirm your e-mail address for Socializioz"));
    let notice = fresh
        .iter()
        .find(|m| m.to == ADA)
        .expect("a notice to the owner");
    assert_eq!(notice.subject, NOTICE);
    assert!(notice.body.contains(&format!("{}/login", app.address)));
    assert!(!notice.body.contains("Impostor"), "{}", notice.body);
    let reset = notice.link(&app.address, "/password/reset/");
    assert_eq!(app.client().get(&reset).await.status(), StatusCode::OK);
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 2);
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM users WHERE email = '{ADA}'"))
            .await,
        1
    );
    // Ada's password is hers; the impostor's opens nothing.
    assert_eq!(
        app.client().log_in(ADA, PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.client()
            .log_in(ADA, "the impostor's own passphrase")
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // The jobs kept nothing of the sign-ups (no password hash, no address).
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM jobs WHERE kind = 'sign_up' AND (payload <> '{}' OR recipient IS NOT NULL)"
        )
        .await,
        0
    );
}

async fn sign_ups_are_limited_per_network_and_overall(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |s| {
        s.signup = Default::default();
        s.signup.per_hour = 8;
    })
    .await
    else {
        return;
    };
    assert_eq!(
        socializioz::config::SignupSettings::default().per_client_per_hour,
        5
    );
    let office = browser_at(&app, "203.0.113.9");
    for i in 0..5 {
        let res = office
            .sign_up("Someone", &format!("person{i}@example.com"), PASSWORD)
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "sign-up {i}");
    }
    let res = office
        .sign_up("Someone", "person5@example.com", PASSWORD)
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait = retry_after(&res);
    assert!((1..=3600).contains(&wait), "{wait}");
    let page = res.text().await.unwrap();
    assert!(
        page.contains("Too many accounts were signed up from your network in the last hour."),
        "{page}"
    );
    // Another network may still sign up, until the overall limit.
    let home = browser_at(&app, "198.51.100.20");
    for i in 0..3 {
        let res = home
            .sign_up("Someone", &format!("home{i}@example.com"), PASSWORD)
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "home sign-up {i}");
    }
    let cafe = browser_at(&app, "192.0.2.80");
    let res = cafe.sign_up("Someone", "cafe@example.com", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("We are receiving too many sign-ups right now."),
        "{page}"
    );
    // Refused sign-ups queued nothing.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'sign_up'")
            .await,
        8
    );
    // An hour later the limits are free again.
    app.services
        .signup_throttle
        .advance(Duration::from_secs(3600));
    let res = office
        .sign_up("Someone", "person5@example.com", PASSWORD)
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

async fn a_confirmation_link_signs_in_only_the_browser_that_signed_up(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    // Someone signs up with Ada's address before she has an account; the link goes to Ada.
    let stranger = app.client();
    let res = stranger.sign_up("Not Ada", ADA, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let link = app.last_mail_to(ADA).await.link(&app.address, "/verify/");
    let ada = app.client();
    let res = ada.submit(&link, &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(res.headers()), "/login");
    assert!(
        !sets_cookie(&res, "sz_session"),
        "a stranger's account was signed in"
    );
    assert_eq!(ada.get("/settings").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE email_verified_at IS NOT NULL")
            .await,
        1
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 0);

    // The browser that signed up is signed in by its own link, and sent where it was going.
    let bob = app.client();
    let res = bob
        .submit(
            "/signup",
            &[
                ("name", "Bob"),
                ("email", "bob@example.com"),
                ("password", PASSWORD),
                ("timezone", "UTC"),
                ("language", "en"),
                ("accept_policies", "yes"),
                ("next", "/settings/privacy"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let link = app
        .last_mail_to("bob@example.com")
        .await
        .link(&app.address, "/verify/");
    assert!(link.contains("?next=%2Fsettings%2Fprivacy"), "{link}");
    let res = bob.submit(&link, &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(res.headers()), "/settings/privacy");
    assert!(sets_cookie(&res, "sz_session"));
    assert_eq!(bob.get("/settings").await.status(), StatusCode::OK);
}

async fn known_devices_are_exported_forgotten_and_deleted(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ada = app.verified_user("Ada", ADA).await;
    let phone = app.client();
    let res = phone.log_in(ADA, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("sz_device="))
        .expect("a known-device cookie")
        .to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("Max-Age=31536000"));
    let token = cookie["sz_device=".len()..].split(';').next().unwrap();
    let id = app.user_id(ADA).await;
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM known_devices WHERE user_id = {id}"
        ))
        .await,
        1
    );
    // Only a hash of the cookie is stored; logging in again keeps the one row.
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM known_devices WHERE token_hash = '{token}'"
        ))
        .await,
        0
    );
    phone.log_out().await;
    assert_eq!(
        phone.log_in(ADA, PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM known_devices").await, 1);

    // The export lists it, without the hash.
    let res = ada.submit("/settings/privacy/export", &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    app.worker().run_until_empty().await.unwrap();
    let export = app.count("SELECT MAX(id) FROM data_exports").await;
    let state = app
        .text(&format!(
            "SELECT state FROM data_exports WHERE id = {export}"
        ))
        .await;
    let err = app
        .text("SELECT COALESCE(MAX(last_error), '-') FROM jobs")
        .await;
    assert_eq!(state, "ready", "{err}");
    let res = ada
        .get(&format!("/settings/privacy/export/{export}/download"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let raw = res.bytes().await.unwrap().to_vec();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(raw)).unwrap();
    let mut profile = String::new();
    zip.by_name("profile.json")
        .unwrap()
        .read_to_string(&mut profile)
        .unwrap();
    let profile: serde_json::Value = serde_json::from_str(&profile).unwrap();
    let devices = profile["known_devices"].as_array().expect("known devices");
    assert_eq!(devices.len(), 1, "{profile}");
    assert_eq!(devices[0]["device"], "Firefox on Linux");
    assert!(devices[0].get("token_hash").is_none());

    // A password change forgets them; deleting the account deletes them.
    let res = ada.change_password("a brand new passphrase").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.count("SELECT COUNT(*) FROM known_devices").await, 0);
    assert_eq!(
        phone.log_in(ADA, "a brand new passphrase").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM known_devices").await, 1);
    app.delete_account(id).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM known_devices").await, 0);
}

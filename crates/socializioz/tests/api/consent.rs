//! Cookie consent over HTTP: the banner, the signed choice, the gating of optional cookies and
//! tags, Global Privacy Control, the cookie policy page, and the tamper-evident ledger.

use crate::both_backends;
use crate::helpers::{
    ANALYTICS_TAG, Backend, Client, MARKETING_TAG, TestApp, expect_page, location,
    spawn_app_with_tags,
};
use reqwest::StatusCode;

both_backends!(
    a_person_sees_and_downloads_their_own_consent_history,
    the_banner_asks_until_a_choice_and_optional_cookies_and_tags_follow_it,
    global_privacy_control_rejects_unless_chosen_after_the_signal,
    the_ledger_chain_finds_edited_and_deleted_rows,
);

fn set_cookies(res: &reqwest::Response) -> Vec<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_owned)
        .collect()
}

fn sets(res: &reqwest::Response, name: &str) -> Option<String> {
    set_cookies(res)
        .into_iter()
        .find(|c| c.starts_with(&format!("{name}=")))
}

async fn choose(browser: &Client, fields: &[(&str, &str)]) -> reqwest::Response {
    browser.submit("/consent", fields).await
}

async fn ledger(app: &TestApp, filter: &str) -> i64 {
    app.count(&format!(
        "SELECT COUNT(*) FROM consent_ledger WHERE {filter}"
    ))
    .await
}

async fn the_banner_asks_until_a_choice_and_optional_cookies_and_tags_follow_it(backend: Backend) {
    let Some(app) = spawn_app_with_tags(backend).await else {
        return;
    };
    let browser = app.client();
    // First visit: the banner, no optional cookie, no optional tag.
    let res = browser.get("/").await;
    assert!(sets(&res, "sz_analytics").is_none() && sets(&res, "sz_marketing").is_none());
    assert!(
        res.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("https://stats.example.test")
    );
    let html = res.text().await.unwrap();
    assert!(html.contains("data-consent-banner") && html.contains("role=\"dialog\""));
    assert!(
        html.contains("Accept all")
            && html.contains("Reject non-essential")
            && html.contains("Customize")
    );
    assert!(!html.contains(ANALYTICS_TAG) && !html.contains(MARKETING_TAG));
    // On every page, signed in or not, until a choice is made.
    assert!(
        browser
            .get_text("/login")
            .await
            .contains("data-consent-banner")
    );

    // Accept all from the banner: back to the page it was on, both cookies set on that response.
    let res = choose(&browser, &[("choice", "accept"), ("back", "/signup")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(res.headers()), "/signup");
    let consent = sets(&res, "sz_consent").expect("the consent cookie");
    assert!(consent.contains("HttpOnly") && consent.contains("SameSite=Lax"));
    assert!(sets(&res, "sz_analytics").is_some() && sets(&res, "sz_marketing").is_some());
    let html = browser.get_text("/signup").await;
    assert!(!html.contains("data-consent-banner"));
    assert!(html.contains(&format!("<script src=\"{ANALYTICS_TAG}\" defer>")));
    assert!(html.contains(&format!("<script src=\"{MARKETING_TAG}\" defer>")));

    // Withdraw marketing on the cookie page: its cookie expires on the same response, its tag stops.
    let res = choose(
        &browser,
        &[
            ("choice", "custom"),
            ("category", "analytics"),
            ("source", "page"),
            ("back", "/legal/cookies"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(sets(&res, "sz_marketing").unwrap().contains("Max-Age=0"));
    assert!(
        sets(&res, "sz_analytics").is_none(),
        "the analytics cookie stays as it is"
    );
    let page = browser.get_text("/legal/cookies").await;
    assert!(page.contains(ANALYTICS_TAG) && !page.contains(MARKETING_TAG));
    // The consent receipt: the id, what is allowed, when.
    let id = app
        .text("SELECT consent_id FROM consent_ledger ORDER BY id DESC LIMIT 1")
        .await;
    assert!(page.contains(&id), "the receipt lacks the consent id");
    assert!(page.contains("Essential, Analytics"));
    // Reject everything: the analytics cookie goes too.
    let res = choose(&browser, &[("choice", "reject"), ("back", "/")]).await;
    assert!(sets(&res, "sz_analytics").unwrap().contains("Max-Age=0"));
    assert!(!browser.get_text("/").await.contains(ANALYTICS_TAG));

    // The ledger holds each decision with its source, categories and policy version.
    assert_eq!(ledger(&app, "event = 'grant' AND source = 'cookie_banner' AND categories = 'essential,analytics,marketing'").await, 1);
    assert_eq!(ledger(&app, "event = 'withdraw' AND source = 'cookie_policy_page' AND categories = 'essential,analytics'").await, 1);
    assert_eq!(
        ledger(&app, "event = 'withdraw' AND categories = 'essential'").await,
        1
    );
    assert_eq!(
        ledger(
            &app,
            "policies LIKE '%\"cookies\"%\"version\":\"1.0\"%' AND policies LIKE '%sha256%' AND banner_version <> ''"
        )
        .await,
        3
    );
    assert_eq!(
        ledger(
            &app,
            "ip_hash LIKE '%127.0.0.1%' OR browser LIKE '%Mozilla%'"
        )
        .await,
        0,
        "raw address or user agent stored"
    );
    assert_eq!(ledger(&app, &format!("consent_id = '{id}'")).await, 3);

    // A new Cookie Policy in effect asks every browser again.
    let body = app
        .text("SELECT body FROM policy_versions WHERE kind = 'cookies'")
        .await;
    let browser2 = app.client();
    choose(&browser2, &[("choice", "accept"), ("back", "/")]).await;
    assert!(!browser2.get_text("/").await.contains("data-consent-banner"));
    app.services
        .publish_policy(
            domain::policy::PolicyKind::Cookies,
            &domain::policy::PolicyVersion::parse("1.1").unwrap(),
            chrono::Utc::now(),
            &format!("{body}\n\nOne more line."),
            "One more line.",
        )
        .await
        .unwrap();
    let html = browser2.get_text("/").await;
    assert!(
        html.contains("data-consent-banner") && !html.contains(ANALYTICS_TAG),
        "the choice under 1.0 still applies"
    );
    choose(&browser2, &[("choice", "reject"), ("back", "/")]).await;
    assert_eq!(
        ledger(&app, "policies LIKE '%\"version\":\"1.1\"%'").await,
        1
    );
    assert!(
        browser2
            .get_text("/legal/cookies")
            .await
            .contains("Version 1.1.")
    );

    // A forged cookie is ignored: the banner asks again and nothing optional appears.
    let forged = app.client();
    let value = consent
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("sz_consent=");
    let (payload, _) = value.split_once('.').unwrap();
    let forgery = format!("sz_consent={payload}.{}", "0".repeat(64));
    let res = forged.get_with_header("/", ("cookie", &forgery)).await;
    let html = res.text().await.unwrap();
    assert!(html.contains("data-consent-banner") && !html.contains(ANALYTICS_TAG));

    // An unknown category is refused and nothing is recorded.
    let before = ledger(&app, "1 = 1").await;
    let res = choose(&forged, &[("choice", "custom"), ("category", "tracking")]).await;
    expect_page(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "is not a cookie category",
    )
    .await;
    assert_eq!(ledger(&app, "1 = 1").await, before);

    // The banner speaks the browser's language.
    let german = forged
        .get_with_header("/", ("accept-language", "de-DE,de;q=0.9"))
        .await;
    assert!(german.text().await.unwrap().contains("Alle akzeptieren"));
}

async fn global_privacy_control_rejects_unless_chosen_after_the_signal(backend: Backend) {
    let Some(app) = spawn_app_with_tags(backend).await else {
        return;
    };
    /// Opens `path` as `client` with the Global Privacy Control signal.
    async fn gpc(client: &Client, path: &str) -> reqwest::Response {
        client.get_with_header(path, ("sec-gpc", "1")).await
    }
    let browser = app.client();
    let res = gpc(&browser, "/").await;
    assert!(sets(&res, "sz_consent").is_some() && sets(&res, "sz_analytics").is_none());
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Global Privacy Control signal"),
        "the banner does not say the signal was honoured"
    );
    assert!(!html.contains(ANALYTICS_TAG));
    // The decision is recorded once the browser shows it keeps the cookie, so a client that
    // keeps none (a script) cannot fill the ledger.
    assert_eq!(ledger(&app, "event = 'gpc'").await, 0);
    for _ in 0..3 {
        gpc(&app.client(), "/").await;
    }
    assert_eq!(ledger(&app, "event = 'gpc'").await, 0);
    gpc(&browser, "/login").await;
    assert_eq!(
        ledger(
            &app,
            "event = 'gpc' AND source = 'gpc' AND categories = 'essential'"
        )
        .await,
        1
    );
    // Later requests with the signal record nothing new.
    gpc(&browser, "/signup").await;
    assert_eq!(ledger(&app, "event = 'gpc'").await, 1);
    let page = gpc(&browser, "/legal/cookies").await.text().await.unwrap();
    assert!(page.contains("Global Privacy Control signal, which we honour"));

    // A choice made after the signal was first seen stands while the signal is sent.
    let res = browser
        .submit_with_header(
            "/consent",
            ("sec-gpc", "1"),
            &[("choice", "accept"), ("back", "/")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = gpc(&browser, "/").await.text().await.unwrap();
    assert!(html.contains(ANALYTICS_TAG) && !html.contains("data-consent-banner"));
    assert_eq!(ledger(&app, "event = 'gpc'").await, 1);

    // A choice made before any signal gives way to it when the signal appears.
    let other = app.client();
    choose(&other, &[("choice", "accept"), ("back", "/")]).await;
    assert!(other.get_text("/").await.contains(ANALYTICS_TAG));
    let res = gpc(&other, "/").await;
    assert!(sets(&res, "sz_analytics").unwrap().contains("Max-Age=0"));
    assert!(!res.text().await.unwrap().contains(ANALYTICS_TAG));
    gpc(&other, "/").await;
    assert_eq!(ledger(&app, "event = 'gpc'").await, 2);

    let res = app.client().get("/.well-known/gpc.json").await;
    assert_eq!(res.status(), StatusCode::OK);
    let json: serde_json::Value = res.json().await.unwrap();
    assert_eq!(json["gpc"], true);
}

async fn the_ledger_chain_finds_edited_and_deleted_rows(backend: Backend) {
    use sea_orm::ConnectionTrait;
    use services::consent::ChainReport;
    let Some(app) = spawn_app_with_tags(backend).await else {
        return;
    };
    for choice in ["accept", "reject", "accept", "reject"] {
        choose(&app.client(), &[("choice", choice), ("back", "/")]).await;
    }
    assert_eq!(
        app.services.verify_consent_chain().await.unwrap(),
        ChainReport::Intact { rows: 4 }
    );
    let (ok, out, _) = crate::platform::run_admin(&app, &["admin", "consent", "verify"]);
    assert!(ok && out.contains("intact: 4 rows"), "{out}");

    let second = app.count("SELECT MIN(id) + 1 FROM consent_ledger").await;
    app.services
        .db
        .execute_unprepared(&format!("UPDATE consent_ledger SET categories = 'essential,analytics,marketing' WHERE id = {second}"))
        .await
        .unwrap();
    match app.services.verify_consent_chain().await.unwrap() {
        ChainReport::Broken { row, reason } => {
            assert_eq!(row, Some(second));
            assert!(reason.contains("edited"), "{reason}");
        }
        intact => panic!("an edited row went unnoticed: {intact:?}"),
    }
    let (ok, _, err) = crate::platform::run_admin(&app, &["admin", "consent", "verify"]);
    assert!(!ok && err.contains(&format!("at row {second}")), "{err}");

    // Put it back, then delete a row in the middle.
    app.services
        .db
        .execute_unprepared(&format!(
            "UPDATE consent_ledger SET categories = 'essential' WHERE id = {second}"
        ))
        .await
        .unwrap();
    assert_eq!(
        app.services.verify_consent_chain().await.unwrap(),
        ChainReport::Intact { rows: 4 }
    );
    app.services
        .db
        .execute_unprepared(&format!("DELETE FROM consent_ledger WHERE id = {second}"))
        .await
        .unwrap();
    match app.services.verify_consent_chain().await.unwrap() {
        ChainReport::Broken { row, reason } => {
            assert_eq!(row, Some(second + 1));
            assert!(reason.contains("does not link"), "{reason}");
        }
        intact => panic!("a deleted row went unnoticed: {intact:?}"),
    }
}

async fn a_person_sees_and_downloads_their_own_consent_history(backend: Backend) {
    let Some(app) = spawn_app_with_tags(backend).await else {
        return;
    };
    // A choice made before signing up belongs to this browser, and so to the person.
    let ada = app.client();
    choose(&ada, &[("choice", "reject"), ("back", "/")]).await;
    let ada = {
        let res = ada
            .sign_up("Ada", "ada@example.com", crate::helpers::PASSWORD)
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        app.confirm_sign_up(&ada, "ada@example.com").await;
        ada
    };
    choose(
        &ada,
        &[
            ("choice", "custom"),
            ("category", "analytics"),
            ("source", "page"),
            ("back", "/"),
        ],
    )
    .await;
    // Preferences are stored per browser: the same person on another browser is asked again,
    // and nothing optional applies there until they choose.
    let laptop = app.client();
    assert_eq!(
        laptop
            .log_in("ada@example.com", crate::helpers::PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let there = laptop.get_text("/settings").await;
    assert!(there.contains("data-consent-banner") && !there.contains(ANALYTICS_TAG));
    assert!(
        !ada.get_text("/settings")
            .await
            .contains("data-consent-banner")
    );
    let bob = app.verified_user("Bob", "bob@example.com").await;
    choose(&bob, &[("choice", "accept"), ("back", "/")]).await;
    // Two sign-ups (their policy acceptances) and two cookie choices name a person.
    assert_eq!(ledger(&app, "user_id IS NOT NULL").await, 4);

    let page = ada.get_text("/settings/privacy").await;
    assert_eq!(page.matches("<tr><td><time").count(), 3, "{page}");
    assert!(
        page.contains("from the cookie policy page")
            && page.contains("from the cookie banner")
            && page.contains("at sign-up"),
        "{page}"
    );
    let res = ada.get("/settings/privacy/consent.json").await;
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let json: serde_json::Value = res.json().await.unwrap();
    let history = json["consent_history"].as_array().unwrap();
    assert_eq!(history.len(), 3);
    assert_eq!(history[1]["event"], "policy_accept");
    let recorded = history[1]["recorded_at"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(recorded).is_ok(),
        "{recorded}"
    );
    assert_eq!(history[1]["policies"]["terms"]["version"], "1.0");
    assert_eq!(
        history[1]["policies"]["data-deletion"]["sha256"]
            .as_str()
            .unwrap()
            .len(),
        64
    );
    assert_eq!(
        history[2]["categories"],
        serde_json::json!(["essential", "analytics"])
    );
    assert_eq!(history[1]["previous_row_hash"], history[0]["row_hash"]);
    // On a shared browser, the next person to sign in does not see Ada's history.
    ada.log_out().await;
    assert_eq!(
        ada.log_in("bob@example.com", crate::helpers::PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let bobs: serde_json::Value = ada
        .get("/settings/privacy/consent.json")
        .await
        .json()
        .await
        .unwrap();
    let bobs = bobs["consent_history"].as_array().unwrap();
    assert!(
        !bobs
            .iter()
            .any(|r| r["event"] == "policy_accept" && r["row_hash"] == history[1]["row_hash"]),
        "Ada's sign-up shows in Bob's history"
    );
    assert!(
        !bobs.iter().any(|r| r["row_hash"] == history[2]["row_hash"]),
        "Ada's choice shows in Bob's history"
    );
    // Bob's decision is not in Ada's history.
    assert!(
        !history
            .iter()
            .any(|r| r["categories"] == serde_json::json!(["essential", "analytics", "marketing"]))
    );
}

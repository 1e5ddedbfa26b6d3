//! What the pages look like, in a real browser: the media library is a grid of small cards
//! with separate tags, the posts list fits a phone with its State column in view, and the
//! footer stays at the bottom of a short page. Screenshots of each go to the test artifacts.

use crate::browser::{Browser, run_in};
use crate::helpers::{Backend, TestApp, png, post_input, spawn_app};
use anyhow::{Result, ensure};
use services::posts::Intent;

/// Logs `email` in and opens the workspace `ws`.
async fn log_in(b: &Browser, app: &TestApp, email: &str, ws: i64) -> Result<()> {
    b.log_in(&app.address, email, "Acme").await?;
    b.goto(&format!("{}/w/{ws}", app.address)).await
}

/// A number the page's script returns.
async fn number(b: &Browser, script: &str) -> Result<f64> {
    let value = b.eval(script).await?;
    value
        .as_f64()
        .ok_or_else(|| anyhow::anyhow!("{script} gave {value}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_media_library_and_the_posts_list_fit_their_screens() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let email = "ada@example.com";
    let client = app.verified_user("Ada Lovelace", email).await;
    let ws = client.new_workspace("Acme").await;
    let x = app.connect_account(ws, domain::Platform::X, "acme").await;
    for (i, name) in [
        "hero.png",
        "team.png",
        "a-very-long-file-name-of-a-launch-photo.png",
    ]
    .iter()
    .enumerate()
    {
        let res = client
            .upload(
                &format!("/w/{ws}/media/upload"),
                &[("tags", "launch, hero")],
                vec![(name, png(900, 600, u8::try_from(i).unwrap()))],
                true,
            )
            .await;
        assert_eq!(res.status(), reqwest::StatusCode::SEE_OTHER);
    }
    let when = (chrono::Utc::now() + chrono::Duration::days(2)).naive_utc();
    let long = "A long announcement that would push a table wider than a phone ".repeat(3);
    app.save_post(
        email,
        ws,
        post_input(&long, &[x], Vec::new(), Intent::Schedule(when)),
    )
    .await;
    app.save_post(
        email,
        ws,
        post_input("A draft", &[x], Vec::new(), Intent::Draft),
    )
    .await;

    run_in(app, "layout", true, async |b, app| {
        log_in(b, app, email, ws).await?;

        // The library: a grid of cards with thumbnails far smaller than the images, tags
        // apart.
        b.goto(&format!("{}/w/{ws}/media", app.address)).await?;
        b.wait_for_heading("Media").await?;
        let display = b
            .eval("return getComputedStyle(document.querySelector('.media-grid')).display")
            .await?;
        ensure!(display == "grid", "the library is laid out as {display}");
        let width = number(
            b,
            "return document.querySelector('.media-grid img').getBoundingClientRect().width",
        )
        .await?;
        ensure!(width > 40.0 && width < 260.0, "a thumbnail is {width}px wide");
        let tags = b
            .eval("return Array.from(document.querySelector('.media-card .tags').querySelectorAll('.tag')).map(t => t.textContent.trim())")
            .await?;
        ensure!(tags == serde_json::json!(["launch", "hero"]), "tags: {tags}");
        let text = b.text(".media-card .tags").await?;
        ensure!(!text.contains("launchhero"), "tags run together: {text}");
        b.screenshot("library-desktop").await?;

        // On a phone: the posts list has no sideways scroll and shows each post's state.
        b.resize(390, 844).await?;
        b.goto(&format!("{}/w/{ws}/posts", app.address)).await?;
        b.wait_for_heading("Posts").await?;
        let overflow = number(
            b,
            "return document.documentElement.scrollWidth - window.innerWidth",
        )
        .await?;
        ensure!(overflow <= 0.0, "the page scrolls sideways by {overflow}px");
        let states = b
            .eval(
                "return Array.from(document.querySelectorAll('td[data-label=State] .badge')).map(s => { \
                   const r = s.getBoundingClientRect(); \
                   return r.width > 0 && r.left >= 0 && r.right <= window.innerWidth; })",
            )
            .await?;
        ensure!(
            states == serde_json::json!([true, true]),
            "each post's state is in view: {states}"
        );
        b.screenshot("posts-phone").await?;
        b.goto(&format!("{}/w/{ws}/media", app.address)).await?;
        b.wait_for_heading("Media").await?;
        b.screenshot("library-phone").await?;

        // A short page keeps its footer at the bottom of the window.
        b.resize(1280, 900).await?;
        b.goto(&format!("{}/legal", app.address)).await?;
        let gap = number(
            b,
            "return window.innerHeight - document.querySelector('footer').getBoundingClientRect().bottom",
        )
        .await?;
        ensure!(gap <= 1.0, "the footer floats {gap}px above the bottom");
        b.screenshot("footer").await?;
        Ok(())
    })
    .await;
}

/// On a phone, the cookie banner (shown until a choice is made) never hides the log-in
/// page's actions: at some scroll position "Log in" and "Forgot your password?" are in view
/// and are what a tap at their centre reaches, with and without JavaScript.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cookie_banner_leaves_the_log_in_actions_reachable_on_a_phone() {
    for javascript in [true, false] {
        let Some(app) = spawn_app(Backend::Sqlite).await else {
            return;
        };
        let name = if javascript {
            "banner-phone"
        } else {
            "banner-phone-nojs"
        };
        run_in(app, name, javascript, async |b, app| {
            b.resize(390, 480).await?;
            b.goto(&format!("{}/login", app.address)).await?;
            b.wait_for_heading("Log in").await?;
            ensure!(b.exists("[data-consent-banner]").await?, "the banner shows");
            for target in [
                "main form button[type=submit]",
                "main a[href='/password/forgot']",
            ] {
                let reachable = b
                    .eval(&format!(
                        "const el = document.querySelector(\"{target}\"); \
                         const end = document.documentElement.scrollHeight; \
                         for (let y = 0; y <= end; y += 10) {{ \
                           window.scrollTo(0, y); \
                           const r = el.getBoundingClientRect(); \
                           if (r.top < 0 || r.bottom > window.innerHeight) continue; \
                           const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2); \
                           if (hit !== null && (hit === el || el.contains(hit))) return true; \
                         }} \
                         return false;"
                    ))
                    .await?;
                b.screenshot("login").await?;
                ensure!(reachable == true, "{target} is covered");
            }
            Ok(())
        })
        .await;
    }
}

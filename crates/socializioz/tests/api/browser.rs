//! A small WebDriver client driving headless Chromium (Debian's `chromium` and
//! `chromium-driver`), and the browser tests. Every failure keeps a screenshot under
//! `target/test-artifacts/`, and every step of a passing run is kept there too.
//!
//! Without Chromium the tests are skipped with a printed reason, unless
//! `SOCIALIZIOZ_REQUIRE_BROWSER=1`, which makes a missing browser a failure (CI sets it).

use crate::helpers::{
    ANALYTICS_TAG, Backend, MARKETING_TAG, PASSWORD, TestApp, required, spawn_app_with_tags,
};
use anyhow::{Result, bail, ensure};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn find_program(candidates: &[&str]) -> Option<PathBuf> {
    candidates.iter().map(PathBuf::from).find(|p| p.is_file())
}

pub struct Browser {
    driver: Child,
    http: reqwest::Client,
    base: String,
    session: String,
    name: String,
    step: usize,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session; `None` when they are not installed.
    pub async fn start(name: &str, javascript: bool) -> Option<Self> {
        let driver_path =
            find_program(&["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]);
        let chrome_path = find_program(&["/usr/bin/chromium", "/usr/bin/chromium-browser"]);
        let (Some(driver_path), Some(chrome_path)) = (driver_path, chrome_path) else {
            if required("SOCIALIZIOZ_REQUIRE_BROWSER") {
                panic!(
                    "a browser is required (SOCIALIZIOZ_REQUIRE_BROWSER=1) but chromium or chromedriver is missing; install Debian's chromium and chromium-driver"
                );
            }
            crate::helpers::skip("SKIPPED (browser): chromium and chromedriver are not installed");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let driver = Command::new(driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = http.get(format!("{base}/status")).send().await.ok();
            if let Some(res) = ready
                && let Ok(body) = res.json::<Value>().await
                && body["value"]["ready"] == true
            {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = std::env::temp_dir().join(crate::helpers::unique("chromium-profile"));
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chrome_path,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--no-first-run", "--window-size=1280,900", format!("--user-data-dir={}", profile.display())],
                "prefs": {"profile.managed_default_content_settings.javascript": if javascript { 1 } else { 2 }}
            }
        }}});
        let res: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .expect("create a browser session")
            .json()
            .await
            .expect("session answer");
        let session = res["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {res}"))
            .to_owned();
        Some(Self {
            driver,
            http,
            base,
            session,
            name: name.to_owned(),
            step: 0,
        })
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value> {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut req = self.http.request(method, url);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res: Value = req.send().await?.json().await?;
        if let Some(error) = res["value"].get("error") {
            bail!("webdriver {path}: {error} {}", res["value"]["message"]);
        }
        Ok(res["value"].clone())
    }

    pub async fn goto(&self, url: &str) -> Result<()> {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await
            .map(|_| ())
    }

    pub async fn url(&self) -> Result<String> {
        Ok(self
            .call(reqwest::Method::GET, "/url", None)
            .await?
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    async fn find(&self, css: &str) -> Result<String> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match self
                .call(
                    reqwest::Method::POST,
                    "/element",
                    Some(json!({"using": "css selector", "value": css})),
                )
                .await
            {
                Ok(v) => return Ok(v[ELEMENT].as_str().unwrap_or_default().to_owned()),
                Err(e) if Instant::now() > deadline => {
                    return Err(e.context(format!("finding {css}")));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    pub async fn fill(&self, css: &str, text: &str) -> Result<()> {
        let id = self.find(css).await?;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/clear"),
            Some(json!({})),
        )
        .await?;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            Some(json!({"text": text})),
        )
        .await?;
        Ok(())
    }

    pub async fn click(&self, css: &str) -> Result<()> {
        let id = self.find(css).await?;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/click"),
            Some(json!({})),
        )
        .await?;
        Ok(())
    }

    pub async fn text(&self, css: &str) -> Result<String> {
        let id = self.find(css).await?;
        Ok(self
            .call(reqwest::Method::GET, &format!("/element/{id}/text"), None)
            .await?
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    /// Runs a script in the page and returns its value (for reading computed styles).
    pub async fn eval(&self, script: &str) -> Result<Value> {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    /// The names of the cookies the browser holds for the current page (HttpOnly included).
    pub async fn cookie_names(&self) -> Result<Vec<String>> {
        let list = self.call(reqwest::Method::GET, "/cookie", None).await?;
        Ok(list
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|c| c["name"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default())
    }

    pub async fn delete_cookies(&self) -> Result<()> {
        self.call(reqwest::Method::DELETE, "/cookie", None)
            .await
            .map(|_| ())
    }

    /// Whether an element matching `css` is in the page now (no waiting).
    pub async fn exists(&self, css: &str) -> Result<bool> {
        let script = format!(
            "return document.querySelector({}) !== null",
            serde_json::to_string(css)?
        );
        Ok(self.eval(&script).await?.as_bool().unwrap_or(false))
    }

    /// Sends `name: value` with every request from now on (through the DevTools protocol, which
    /// chromedriver exposes), to test request headers such as `Sec-GPC`.
    pub async fn set_header(&self, name: &str, value: &str) -> Result<()> {
        self.call(
            reqwest::Method::POST,
            "/goog/cdp/execute",
            Some(json!({"cmd": "Network.enable", "params": {}})),
        )
        .await?;
        self.call(
            reqwest::Method::POST,
            "/goog/cdp/execute",
            Some(
                json!({"cmd": "Network.setExtraHTTPHeaders", "params": {"headers": {name: value}}}),
            ),
        )
        .await
        .map(|_| ())
    }

    /// Makes pages see `zone` as the device's time zone (through the DevTools protocol), as
    /// `Intl.DateTimeFormat().resolvedOptions().timeZone` reports it.
    pub async fn set_timezone(&self, zone: &str) -> Result<()> {
        self.call(
            reqwest::Method::POST,
            "/goog/cdp/execute",
            Some(json!({"cmd": "Emulation.setTimezoneOverride", "params": {"timezoneId": zone}})),
        )
        .await
        .map(|_| ())
    }

    /// Resizes the window (to check the layout at phone width).
    pub async fn resize(&self, width: u32, height: u32) -> Result<()> {
        self.call(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        )
        .await
        .map(|_| ())
    }

    /// Waits until the page's main heading contains `text`.
    pub async fn wait_for_heading(&self, text: &str) -> Result<()> {
        self.wait_for_in("h1", "a heading", text).await
    }

    /// Waits until the page's text contains `text`: after a form is sent to a page with the
    /// same heading, the heading alone cannot tell the new page from the old one.
    pub async fn wait_for_text(&self, text: &str) -> Result<()> {
        self.wait_for_in("body", "a page", text).await
    }

    /// Waits until the text of the element at `css` (`what`) contains `text`; an element of a
    /// page being replaced reads as empty, and the next look finds the new page's.
    async fn wait_for_in(&self, css: &str, what: &str, text: &str) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let found = self.text(css).await.unwrap_or_default();
            if found.contains(text) {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "expected {what} with {text:?}, found {found:?} at {}",
                    self.url().await.unwrap_or_default()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn body_text(&self) -> Result<String> {
        self.text("body").await
    }

    /// Logs `email` in with the test password through the log-in form of the site at `base`,
    /// the cookie banner declined first, and waits for a page whose heading holds `heading`.
    pub async fn log_in(&self, base: &str, email: &str, heading: &str) -> Result<()> {
        self.goto(&format!("{base}/login")).await?;
        self.wait_for_heading("Log in").await?;
        self.click("[data-consent-banner] button[value=reject]")
            .await?;
        self.wait_for_heading("Log in").await?;
        self.fill("#f-email", email).await?;
        self.fill("#f-password", PASSWORD).await?;
        self.click("main form button[type=submit]").await?;
        self.wait_for_heading(heading).await
    }

    /// Saves a PNG of the page under `target/test-artifacts/<test>-<n>-<label>.png`.
    pub async fn screenshot(&mut self, label: &str) -> Result<PathBuf> {
        use base64::Engine;
        self.step += 1;
        let data = self.call(reqwest::Method::GET, "/screenshot", None).await?;
        let png =
            base64::engine::general_purpose::STANDARD.decode(data.as_str().unwrap_or_default())?;
        let dir = artifacts_dir();
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{}-{:02}-{label}.png", self.name, self.step));
        std::fs::write(&path, png)?;
        Ok(path)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn artifacts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/test-artifacts")
}

/// Waits until `script` returns true.
pub(crate) async fn wait_until(b: &Browser, script: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if b.eval(script).await?.as_bool() == Some(true) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("timed out waiting for: {script}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Sets the composer's time to tomorrow at 10:00 in `email`'s time zone; that day's date.
pub(crate) async fn schedule_tomorrow_at_ten(
    b: &Browser,
    app: &TestApp,
    email: &str,
    ws: i64,
) -> Result<String> {
    let (user, _) = app.member(email, ws).await;
    let tz = domain::Timezone::parse(&user.timezone)?;
    let date = domain::schedule::to_local(chrono::Utc::now() + chrono::Duration::days(1), tz)
        .date()
        .format("%Y-%m-%d")
        .to_string();
    b.eval(&format!(
        "document.querySelector('#f-scheduled_at').value = '{date}T10:00'; return 1"
    ))
    .await?;
    Ok(date)
}

/// Runs a browser scenario; on failure keeps a screenshot and fails the test with its path.
async fn scenario<F>(name: &str, javascript: bool, body: F)
where
    F: AsyncFnOnce(&mut Browser, &TestApp) -> Result<()>,
{
    let Some(app) = spawn_app_with_tags(Backend::Sqlite).await else {
        return;
    };
    run_in(app, name, javascript, body).await;
}

/// Runs `body` in a fresh browser against `app`; a failure keeps a screenshot.
pub(crate) async fn run_in<F>(app: TestApp, name: &str, javascript: bool, body: F)
where
    F: AsyncFnOnce(&mut Browser, &TestApp) -> Result<()>,
{
    let Some(mut browser) = Browser::start(name, javascript).await else {
        return;
    };
    let outcome = body(&mut browser, &app).await;
    if let Err(err) = outcome {
        let shot = browser.screenshot("FAILED").await;
        let _ = browser.call(reqwest::Method::DELETE, "", None).await;
        panic!("{err:#}\nscreenshot: {shot:?}");
    }
    let _ = browser.call(reqwest::Method::DELETE, "", None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_forms_in_the_browser() {
    scenario("team", true, async |b, app| {
        let base = &app.address;
        b.goto(&format!("{base}/")).await?;
        b.wait_for_heading("Plan, publish and measure").await?;
        // The stylesheet is applied (the page is not unstyled HTML).
        let font = b.eval("return getComputedStyle(document.body).fontFamily").await?;
        ensure!(font.as_str().is_some_and(|f| !f.contains("Times")), "the stylesheet did not load: {font}");
        b.screenshot("landing").await?;
        // The banner takes focus; rejecting closes it without a reload.
        let focus_in_banner = b.eval("return !!document.activeElement.closest('[data-consent-banner]')").await?;
        ensure!(focus_in_banner == true, "focus did not move into the banner");
        b.eval("window.notReloaded = true; return 1").await?;
        b.click("[data-consent-banner] button[value=reject]").await?;
        wait_until(b, "return document.querySelector('[data-consent-banner]') === null").await?;
        ensure!(b.eval("return window.notReloaded === true").await? == true, "the page reloaded");
        ensure!(b.cookie_names().await?.contains(&"sz_consent".to_owned()), "no consent cookie");

        b.click("a.button[href='/signup']").await?;
        b.wait_for_heading("Create your account").await?;
        // A mistake first: the form comes back with a message next to the field.
        b.fill("#f-name", "Alice Example").await?;
        b.fill("#f-email", "alice@example").await?;
        b.fill("#f-password", PASSWORD).await?;
        b.click("form[action='/signup'] button[type=submit]").await?;
        b.wait_for_heading("Create your account").await?;
        let error = b.text("#f-email-error").await?;
        ensure!(error.contains("name@example.com"), "no e-mail error shown: {error}");
        ensure!(b.eval("return document.activeElement.className").await? == "error-summary", "the error summary did not take focus");
        b.screenshot("signup-error").await?;
        b.fill("#f-email", "alice@example.com").await?;
        b.fill("#f-password", PASSWORD).await?;
        b.click("#f-accept_policies").await?;
        b.click("form[action='/signup'] button[type=submit]").await?;
        b.wait_for_heading("Check your inbox").await?;

        // Confirm the address with the link from the outbox: in this browser it signs in.
        let link = app.last_mail_to("alice@example.com").await.link(base, "/verify/");
        b.goto(&format!("{base}{link}")).await?;
        b.wait_for_heading("Confirm your e-mail address").await?;
        b.click("main form button[type=submit]").await?;
        b.wait_for_heading("Create your first workspace").await?;
        ensure!(b.body_text().await?.contains("Your e-mail address is confirmed."), "no confirmation message");

        b.fill("#f-name", "Acme Social").await?;
        b.click("form[action='/workspaces/new'] button[type=submit]").await?;
        b.wait_for_heading("Acme Social").await?;
        b.screenshot("workspace").await?;

        // Invite Bob as an editor.
        b.click("nav.subnav a[href$='/settings']").await?;
        b.wait_for_heading("Members and settings").await?;
        b.fill("#f-email", "bob@example.com").await?;
        b.click("#f-role option[value=editor]").await?;
        b.click("form[action$='/invitations'] button[type=submit]").await?;
        b.wait_for_heading("Members and settings").await?;
        ensure!(b.body_text().await?.contains("bob@example.com as Editor"), "the invitation is not listed");

        // Bob joins through his own browser (HTTP).
        let invitation = app.last_mail_to("bob@example.com").await.link(base, "/invitations/");
        let bob = app.verified_user("Bob", "bob@example.com").await;
        let res = bob.submit(&invitation, &[]).await;
        ensure!(res.status() == reqwest::StatusCode::SEE_OTHER, "Bob could not accept: {}", res.status());

        // Alice makes Bob an admin, then removes him.
        let url = b.url().await?;
        b.goto(&url).await?;
        b.wait_for_heading("Members and settings").await?;
        b.click("select[id^=role-] option[value=admin]").await?;
        b.click("form.role-form button[type=submit]").await?;
        b.wait_for_heading("Members and settings").await?;
        ensure!(b.body_text().await?.contains("The role is changed."), "no confirmation of the role change");
        let bob_role = app.count("SELECT COUNT(*) FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = 'bob@example.com' AND m.role = 'admin'").await;
        ensure!(bob_role == 1, "Bob is not an admin");
        b.screenshot("members").await?;
        b.click("button[aria-label='Remove Bob']").await?;
        b.wait_for_heading("Members and settings").await?;
        ensure!(b.body_text().await?.contains("The member is removed from the workspace."), "no confirmation of the removal");
        ensure!(!b.body_text().await?.contains("bob@example.com"), "Bob is still listed");

        // The workspace switcher works without JavaScript (a details menu of links).
        b.click("nav.switcher summary").await?;
        b.click("nav.switcher a[href='/workspaces/new']").await?;
        b.wait_for_heading("New workspace").await?;
        b.fill("#f-name", "Second Brand").await?;
        b.click("form[action='/workspaces/new'] button[type=submit]").await?;
        b.wait_for_heading("Second Brand").await?;
        b.click("nav.switcher summary").await?;
        b.click("nav.switcher li:first-child a").await?;
        b.wait_for_heading("Acme Social").await?;
        b.screenshot("switched").await?;

        // At phone width nothing overflows sideways except the tables, which scroll in their card.
        b.resize(390, 844).await?;
        b.click("nav.subnav a[href$='/settings']").await?;
        b.wait_for_heading("Members and settings").await?;
        let overflow = b.eval("return document.documentElement.scrollWidth - document.documentElement.clientWidth").await?;
        if overflow.as_i64() != Some(0) {
            let wide = b
                .eval("return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1 && e.parentElement.getBoundingClientRect().right <= document.documentElement.clientWidth + 1).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).slice(0, 8).join(', ')")
                .await?;
            bail!("the page scrolls sideways at phone width by {overflow}px; too wide: {wide}");
        }
        b.screenshot("phone").await?;
        b.resize(1280, 900).await?;

        // Activity log and log-out.
        b.click("nav.subnav a[href$='/activity']").await?;
        b.wait_for_heading("Activity").await?;
        let log = b.body_text().await?;
        ensure!(log.contains("removed Bob (Admin)") && log.contains("invited bob@example.com as Editor"), "activity log incomplete: {log}");
        b.click("nav.account button.link").await?;
        b.wait_for_heading("Log in").await?;
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_work_with_javascript_turned_off() {
    scenario("nojs", false, async |b, app| {
        let base = &app.address;
        b.goto(&format!("{base}/signup")).await?;
        b.wait_for_heading("Create your account").await?;
        // The banner's plain form: a post, then back to the same page, banner gone.
        b.click("[data-consent-banner] button[value=accept]")
            .await?;
        b.wait_for_heading("Create your account").await?;
        ensure!(
            b.url().await?.ends_with("/signup"),
            "not back on the same page"
        );
        ensure!(
            !b.body_text().await?.contains("Accept all"),
            "the banner is still there"
        );
        let jar = b.cookie_names().await?;
        ensure!(
            jar.contains(&"sz_consent".to_owned()) && jar.contains(&"sz_analytics".to_owned()),
            "cookies after accepting: {jar:?}"
        );
        b.fill("#f-name", "No Script").await?;
        b.fill("#f-email", "noscript@example.com").await?;
        b.fill("#f-password", PASSWORD).await?;
        b.click("#f-accept_policies").await?;
        b.fill("#f-timezone", "America/New_York").await?;
        b.click("form[action='/signup'] button[type=submit]")
            .await?;
        b.wait_for_heading("Check your inbox").await?;
        let link = app
            .last_mail_to("noscript@example.com")
            .await
            .link(base, "/verify/");
        b.goto(&format!("{base}{link}")).await?;
        b.wait_for_heading("Confirm your e-mail address").await?;
        b.click("main form button[type=submit]").await?;
        b.wait_for_heading("Create your first workspace").await?;
        b.fill("#f-name", "Plain HTML").await?;
        b.click("form[action='/workspaces/new'] button[type=submit]")
            .await?;
        b.wait_for_heading("Plain HTML").await?;
        // The switcher opens without script.
        b.click("nav.switcher summary").await?;
        b.click("nav.switcher a[href='/workspaces/new']").await?;
        b.wait_for_heading("New workspace").await?;
        b.screenshot("switcher").await?;
        b.click("a[href='/settings']").await?;
        b.wait_for_heading("Settings").await?;
        let zone = app
            .count("SELECT COUNT(*) FROM users WHERE timezone = 'America/New_York'")
            .await;
        ensure!(
            zone == 1,
            "the time zone chosen without script was not saved"
        );
        b.click("nav.account button.link").await?;
        b.wait_for_heading("Log in").await?;
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookie_choices_in_the_browser() {
    scenario("consent", true, async |b, app| {
        let base = &app.address;
        let tag_loaded = |tag: &str| format!("return document.querySelector('script[src=\"{tag}\"]') !== null");
        b.goto(&format!("{base}/")).await?;
        ensure!(b.exists("[data-consent-banner]").await?, "no banner on the first visit");
        let gap = b
            .eval("const r = document.querySelector('[data-consent-banner]').getBoundingClientRect(); return window.innerHeight - r.bottom")
            .await?;
        ensure!(gap.as_f64().is_some_and(|g| (0.0..=24.0).contains(&g)), "the banner is not at the bottom of the screen ({gap}px above it)");
        let jar = b.cookie_names().await?;
        ensure!(!jar.iter().any(|c| c == "sz_analytics" || c == "sz_marketing"), "optional cookies before consent: {jar:?}");
        ensure!(!b.eval(&tag_loaded(ANALYTICS_TAG)).await?.as_bool().unwrap_or(true), "analytics tag before consent");

        // Focus moves to the banner's heading, not to a button a stray key could press.
        ensure!(b.eval("return document.activeElement.id").await? == "consent-title", "focus is not on the banner heading");
        // Customize: analytics only. Essential is shown on and locked.
        b.click("[data-consent-banner] summary").await?;
        let locked = b.eval("const e = document.querySelector('[data-consent-banner] input[value=essential]'); return e.checked && e.disabled").await?;
        ensure!(locked == true, "essential is not shown on and locked");
        b.screenshot("customize").await?;
        b.click("[data-consent-banner] input[value=analytics]").await?;
        b.click("[data-consent-banner] details button[type=submit]").await?;
        wait_until(b, "return document.querySelector('[data-consent-banner]') === null").await?;
        ensure!(b.eval(&tag_loaded(ANALYTICS_TAG)).await?.as_bool() == Some(true), "the analytics tag did not load");
        ensure!(b.eval(&tag_loaded(MARKETING_TAG)).await?.as_bool() == Some(false), "the marketing tag loaded");
        let said = b.eval("return document.getElementById('consent-status').textContent").await?;
        ensure!(said == "Your cookie choice is saved.", "the saved choice was not announced: {said}");
        let jar = b.cookie_names().await?;
        ensure!(jar.contains(&"sz_analytics".to_owned()) && !jar.contains(&"sz_marketing".to_owned()), "cookies after customizing: {jar:?}");

        // A later change on the cookie page: everything off.
        b.goto(&format!("{base}/legal/cookies")).await?;
        b.wait_for_heading("Cookie policy").await?;
        ensure!(b.body_text().await?.contains("Essential, Analytics"), "the receipt does not show the choice");
        b.screenshot("receipt").await?;
        b.click("main input[value=analytics]").await?;
        b.click("main form[action='/consent'] button[type=submit]").await?;
        b.wait_for_heading("Cookie policy").await?;
        let jar = b.cookie_names().await?;
        ensure!(!jar.contains(&"sz_analytics".to_owned()), "the analytics cookie survived its withdrawal: {jar:?}");
        ensure!(b.eval(&tag_loaded(ANALYTICS_TAG)).await?.as_bool() == Some(false), "the analytics tag is still rendered");

        // A fresh browser accepting everything.
        b.delete_cookies().await?;
        b.goto(&format!("{base}/login")).await?;
        b.click("[data-consent-banner] button[value=accept]").await?;
        wait_until(b, "return document.querySelector('[data-consent-banner]') === null").await?;
        let jar = b.cookie_names().await?;
        ensure!(jar.contains(&"sz_analytics".to_owned()) && jar.contains(&"sz_marketing".to_owned()), "cookies after accepting all: {jar:?}");
        let grants = app.count("SELECT COUNT(*) FROM consent_ledger WHERE event = 'grant'").await;
        ensure!(grants == 2, "expected two grants in the ledger, found {grants}");
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updated_policies_are_accepted_in_the_browser() {
    scenario("policies", true, async |b, app| {
        use domain::policy::{PolicyKind, PolicyVersion};
        let base = &app.address;
        let ada = app.verified_user("Ada", "ada@example.com").await;
        ada.submit("/workspaces/new", &[("name", "Acme")]).await;
        b.goto(&format!("{base}/login")).await?;
        b.click("[data-consent-banner] button[value=reject]")
            .await?;
        wait_until(
            b,
            "return document.querySelector('[data-consent-banner]') === null",
        )
        .await?;
        b.fill("#f-email", "ada@example.com").await?;
        b.fill("#f-password", PASSWORD).await?;
        b.click("form[action='/login'] button[type=submit]").await?;
        b.wait_for_heading("Acme").await?;

        let body = app
            .text("SELECT body FROM policy_versions WHERE kind = 'terms'")
            .await;
        app.services
            .publish_policy(
                PolicyKind::Terms,
                &PolicyVersion::parse("2.0").map_err(|e| anyhow::anyhow!(e.0))?,
                chrono::Utc::now(),
                &body.replace(
                    "# Terms of Service",
                    "# Terms of Service\n\nWe changed the first lines.",
                ),
                "New opening lines.",
            )
            .await?;
        b.goto(&format!("{base}/dashboard")).await?;
        b.wait_for_heading("Updated policies").await?;
        ensure!(
            b.body_text().await?.contains("New opening lines."),
            "the summary is missing"
        );
        b.screenshot("interstitial").await?;
        b.click("a[href^='/legal/terms/diff']").await?;
        b.wait_for_heading("changes from 1.0 to 2.0").await?;
        ensure!(
            b.text(".diff-added")
                .await?
                .contains("We changed the first lines."),
            "the diff does not show the change"
        );
        b.screenshot("diff").await?;
        b.goto(&format!("{base}/policies/review?next=/dashboard"))
            .await?;
        b.wait_for_heading("Updated policies").await?;
        b.click("form[action='/policies/accept'] button[type=submit]")
            .await?;
        b.wait_for_heading("Acme").await?;
        let accepted = app
            .count(
                "SELECT COUNT(*) FROM policy_acceptances WHERE kind = 'terms' AND version = '2.0'",
            )
            .await;
        ensure!(accepted == 1, "the acceptance was not recorded");
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn global_privacy_control_in_the_browser() {
    scenario("gpc", true, async |b, app| {
        let base = &app.address;
        b.set_header("Sec-GPC", "1").await?;
        b.goto(&format!("{base}/")).await?;
        b.wait_for_heading("Plan, publish and measure").await?;
        let banner = b.text("[data-consent-banner]").await?;
        ensure!(
            banner.contains("Global Privacy Control"),
            "the banner does not say the signal was honoured: {banner}"
        );
        let jar = b.cookie_names().await?;
        ensure!(
            jar.contains(&"sz_consent".to_owned()),
            "no consent cookie after the signal: {jar:?}"
        );
        ensure!(
            !jar.iter()
                .any(|c| c == "sz_analytics" || c == "sz_marketing"),
            "optional cookies despite the signal: {jar:?}"
        );
        b.screenshot("banner").await?;
        b.goto(&format!("{base}/legal/cookies")).await?;
        b.wait_for_heading("Cookie policy").await?;
        ensure!(
            b.body_text().await?.contains("which we honour"),
            "the cookie page does not say the signal was honoured"
        );
        let recorded = app
            .count("SELECT COUNT(*) FROM consent_ledger WHERE event = 'gpc' AND source = 'gpc'")
            .await;
        ensure!(recorded == 1, "expected one gpc record, found {recorded}");
        // Choosing after the signal was first seen wins while the signal is still sent.
        b.click("[data-consent-banner] button[value=accept]")
            .await?;
        wait_until(
            b,
            "return document.querySelector('[data-consent-banner]') === null",
        )
        .await?;
        b.goto(&format!("{base}/")).await?;
        b.wait_for_heading("Plan, publish and measure").await?;
        ensure!(
            !b.exists("[data-consent-banner]").await?,
            "the banner came back although the person chose"
        );
        ensure!(
            b.cookie_names().await?.contains(&"sz_analytics".to_owned()),
            "the explicit choice did not stand"
        );
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn composing_and_scheduling_in_the_browser() {
    scenario("compose", true, async |b, app| {
        let base = &app.address;
        let client = app.verified_user("Ada Lovelace", "ada@example.com").await;
        let res = client.submit("/workspaces/new", &[("name", "Acme")]).await;
        let ws = crate::helpers::id_from_location(res.headers());
        let x = app.connect_account(ws, domain::Platform::X, "acme").await;

        b.log_in(base, "ada@example.com", "Acme").await?;

        b.click(&format!("nav.subnav a[href='/w/{ws}/calendar']")).await?;
        b.wait_for_heading("Calendar").await?;
        b.click("a.button[href$='/posts/new']").await?;
        b.wait_for_heading("New post").await?;
        // The live count follows X's rules: a link counts 23 however long it is.
        let text = format!("Spring sale https://example.com/{}", "p".repeat(100));
        b.fill("#f-body", &text).await?;
        let counter = format!("[data-counter-for='f-target-{x}']");
        wait_until(
            b,
            &format!("return document.querySelector(\"{counter}\").textContent.trim().startsWith('35 / 280')"),
        )
        .await?;
        b.click(&format!("input[name=account][value='{x}']")).await?;
        b.screenshot("composer").await?;

        let date = schedule_tomorrow_at_ten(b, app, "ada@example.com", ws).await?;
        b.click("button[name=action][value=schedule]").await?;
        b.wait_for_heading("Post").await?;
        ensure!(
            b.body_text().await?.contains("The post is scheduled."),
            "no confirmation"
        );

        b.goto(&format!("{base}/w/{ws}/calendar?date={date}")).await?;
        b.wait_for_heading("Calendar").await?;
        let day = b.text(&format!("[data-date='{date}']")).await?;
        ensure!(
            day.contains("10:00") && day.contains("Spring sale"),
            "the post is not on its day: {day:?}"
        );
        b.screenshot("calendar-month").await?;
        b.goto(&format!("{base}/w/{ws}/calendar?view=week&date={date}"))
            .await?;
        b.wait_for_heading("Calendar").await?;
        ensure!(
            b.text(&format!("[data-date='{date}']")).await?.contains("Spring sale"),
            "not in the week view"
        );
        b.screenshot("calendar-week").await?;
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connecting_all_five_platforms_in_the_browser() {
    let Some(app) =
        crate::helpers::spawn_app_with(Backend::Sqlite, |s| s.platforms.sandbox = true).await
    else {
        return;
    };
    run_in(app, "connect-five", true, async |b, app| {
        let base = &app.address;
        let client = app.verified_user("Ada Lovelace", "ada@example.com").await;
        let res = client.submit("/workspaces/new", &[("name", "Acme")]).await;
        let ws = crate::helpers::id_from_location(res.headers());

        b.log_in(base, "ada@example.com", "Acme").await?;
        ensure!(
            b.text(".sandbox-banner").await?.contains("simulated"),
            "the sandbox is not announced"
        );
        b.click(&format!("nav.subnav a[href='/w/{ws}/accounts']"))
            .await?;
        b.wait_for_heading("Connected accounts").await?;
        let page = b.body_text().await?;
        for scope in [
            "pages_manage_posts",
            "instagram_business_content_publish",
            "video.publish",
            "tweet.write",
            "w_member_social",
        ] {
            ensure!(
                page.contains(scope),
                "the scope {scope} is not shown before leaving"
            );
        }
        b.screenshot("accounts").await?;
        for (n, platform) in domain::Platform::ALL.into_iter().enumerate() {
            let slug = platform.slug();
            b.click(&format!(
                "form[action='/w/{ws}/accounts/connect/{slug}'] button"
            ))
            .await?;
            b.wait_for_heading("Authorize").await?;
            let at = b.url().await?;
            ensure!(
                at.starts_with(&format!("{base}/_sandbox/{slug}/")),
                "the authorisation page is not on the server's own address: {at}"
            );
            b.screenshot(&format!("authorize-{slug}")).await?;
            b.fill("#username", &format!("acme_{slug}")).await?;
            b.click("#allow").await?;
            if platform == domain::Platform::Facebook {
                b.wait_for_heading("Choose the Facebook Pages").await?;
                b.screenshot("choose-page").await?;
                // Sent with nothing ticked, the chooser comes back and says what to do.
                b.click("form.choose-accounts button[type=submit]").await?;
                let deadline = Instant::now() + Duration::from_secs(30);
                while !b.exists("#f-account").await? && Instant::now() < deadline {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                b.wait_for_heading("Choose the Facebook Pages").await?;
                let page = b.body_text().await?;
                ensure!(
                    page.contains("Choose at least one Page to connect."),
                    "no word on the empty choice: {page}"
                );
                b.screenshot("choose-page-empty").await?;
                b.click("form.choose-accounts input[type=checkbox]").await?;
                b.click("form.choose-accounts button[type=submit]").await?;
            }
            b.wait_for_heading("Connected accounts").await?;
            let page = b.body_text().await?;
            ensure!(
                page.contains("The account is connected."),
                "{platform} not connected: {page}"
            );
            let connected = app
                .count("SELECT COUNT(*) FROM social_accounts WHERE status = 'connected'")
                .await;
            ensure!(
                connected == i64::try_from(n + 1)?,
                "{connected} accounts after connecting {platform}"
            );
        }
        b.screenshot("connected").await?;
        Ok(())
    })
    .await;
}

/// The sandbox sells plans through its simulated PayPal: an owner subscribes from the billing
/// page, approves on PayPal's page, comes back to the plan in effect; PayPal's webhooks arrive
/// on their own, signed under the simulator's authority.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribing_through_paypal_in_the_sandbox() {
    let Some(app) = crate::helpers::spawn_app_with(Backend::Sqlite, |s| {
        s.platforms.sandbox = true;
        s.billing = Some(toml::from_str("").expect("an empty [billing]"));
    })
    .await
    else {
        return;
    };
    run_in(app, "paypal-checkout", true, async |b, app| {
        let base = &app.address;
        let client = app.verified_user("Ada Lovelace", "ada@example.com").await;
        let ws = client.new_workspace("Acme").await;
        b.log_in(base, "ada@example.com", "Acme").await?;
        b.click(&format!("a[href='/w/{ws}/billing']")).await?;
        b.wait_for_heading("Plan and billing").await?;
        b.screenshot("billing").await?;
        b.click("input[name=plan][value=professional]").await?;
        b.click("#accept").await?;
        b.click("#subscribe-button").await?;
        b.wait_for_heading("Subscribe to").await?;
        let at = b.url().await?;
        ensure!(
            at.starts_with(&format!("{base}/_sandbox/paypal/")),
            "PayPal's page is not the sandbox's: {at}"
        );
        ensure!(
            b.text("#price").await?.contains("69.00"),
            "the price at PayPal is not the Professional plan's"
        );
        b.screenshot("paypal").await?;
        b.click("#approve").await?;
        b.wait_for_heading("Back from PayPal").await?;
        wait_until(
            b,
            "return document.getElementById('return-status').textContent.includes('PayPal confirmed')",
        )
        .await?;
        b.screenshot("confirmed").await?;
        ensure!(
            app.text(&format!("SELECT plan FROM workspaces WHERE id = {ws}")).await
                == "professional",
            "the plan did not change"
        );
        // PayPal's own events reach the webhook and pass its checks.
        let deadline = Instant::now() + Duration::from_secs(60);
        while app.count("SELECT COUNT(*) FROM billing_events").await < 2 {
            ensure!(Instant::now() < deadline, "PayPal's events did not arrive");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        b.click(&format!("a[href='/w/{ws}/billing']")).await?;
        b.wait_for_heading("Plan and billing").await?;
        ensure!(
            b.text("#current-plan").await? == "Professional",
            "the billing page does not show the new plan"
        );
        ensure!(
            b.text("#subscription-status").await? == "active",
            "the subscription is not shown active"
        );
        Ok(())
    })
    .await;
}

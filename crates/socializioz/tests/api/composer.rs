//! What the composer counts, what a post's page says while it is published, and where posts
//! sit in the list and on the calendar: over HTTP on both databases, and in the browser for the
//! scripts (`composer.js` counting the same strings as the server, `post.js` following a post
//! until it is published).
//!
//! The strings and their counts are shared with the domain's own test:
//! `crates/domain/fixtures/text_counts.json`.

use crate::both_backends;
use crate::browser::{Browser, run_in, wait_until};
use crate::helpers::{Backend, Client, TestApp, id_from_location, location, spawn_app};
use anyhow::{bail, ensure};
use domain::{Platform, PostId, Timezone, schedule};
use reqwest::StatusCode;
use serde_json::Value;
use std::time::{Duration, Instant};

both_backends!(
    the_server_counts_the_shared_strings_as_listed,
    publish_now_shows_publishing_and_the_status_follows,
    drafts_have_no_time_and_stay_off_the_calendar_grid,
    the_list_sorts_each_state_by_its_own_time,
);

const EMAIL: &str = "ada@example.com";

/// One string of the shared fixture with its counts as the server makes them.
struct Shared {
    text: String,
    x: usize,
    chars: usize,
    hashtags: usize,
    why: String,
}

fn shared() -> Vec<Shared> {
    let cases: Value =
        serde_json::from_str(include_str!("../../../domain/fixtures/text_counts.json")).unwrap();
    let count = |case: &Value, key: &str| usize::try_from(case[key].as_u64().unwrap()).unwrap();
    cases
        .as_array()
        .unwrap()
        .iter()
        .map(|case| Shared {
            text: case["text"].as_str().unwrap().to_owned(),
            x: count(case, "x"),
            chars: count(case, "chars"),
            hashtags: count(case, "hashtags"),
            why: case["why"].as_str().unwrap().to_owned(),
        })
        .collect()
}

struct Setup {
    client: Client,
    ws: i64,
    x: i64,
    instagram: i64,
    tz: Timezone,
}

/// Ada, her workspace with an X and an Instagram account.
async fn setup(app: &TestApp) -> Setup {
    let client = app.verified_user("Ada Lovelace", EMAIL).await;
    let ws = client.new_workspace("Acme").await;
    let x = app.connect_account(ws, Platform::X, "acme").await;
    let instagram = app
        .connect_account(ws, Platform::Instagram, "acme.gram")
        .await;
    let (user, _) = app.member(EMAIL, ws).await;
    let tz = Timezone::parse(&user.timezone).unwrap();
    Setup {
        client,
        ws,
        x,
        instagram,
        tz,
    }
}

/// The wall-clock value of an `<input type=datetime-local>` `days` from today at `time`.
fn local_day(s: &Setup, days: i64, time: &str) -> String {
    let date = schedule::to_local(chrono::Utc::now() + chrono::Duration::days(days), s.tz).date();
    format!("{}T{time}", date.format("%Y-%m-%d"))
}

/// Today's date in Ada's time zone.
fn today(s: &Setup) -> String {
    schedule::to_local(chrono::Utc::now(), s.tz)
        .date()
        .format("%Y-%m-%d")
        .to_string()
}

async fn compose(s: &Setup, fields: &[(&str, &str)]) -> reqwest::Response {
    s.client.submit(&format!("/w/{}/posts", s.ws), fields).await
}

/// Schedules `body` for the X account at `at`, as the composer sends it.
async fn schedule_on_x(s: &Setup, body: &str, at: &str) -> reqwest::Response {
    let x = s.x.to_string();
    compose(
        s,
        &[
            ("body", body),
            ("account", &x),
            ("scheduled_at", at),
            ("action", "schedule"),
        ],
    )
    .await
}

/// Saves a post as the composer does; returns its id.
async fn post(s: &Setup, text: &str, action: &str, at: Option<&str>) -> i64 {
    let x = s.x.to_string();
    let mut fields = vec![("body", text), ("account", x.as_str()), ("action", action)];
    if let Some(at) = at {
        fields.push(("scheduled_at", at));
    }
    let res = compose(s, &fields).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "saving {text:?}");
    id_from_location(res.headers())
}

/// The text of the composer's counter for `account`.
fn counter(page: &str, account: i64) -> String {
    let anchor = format!("data-counter-for=\"f-target-{account}\"");
    let at = page
        .find(&anchor)
        .unwrap_or_else(|| panic!("no counter for {account}"));
    let rest = &page[at..];
    let start = rest.find('>').unwrap() + 1;
    let end = rest.find("</span>").unwrap();
    rest[start..end].trim().to_owned()
}

// 11. The server's counts, as the composer shows them without script and as saving checks them.
async fn the_server_counts_the_shared_strings_as_listed(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let s = setup(&app).await;
    let x = s.x.to_string();
    let instagram = s.instagram.to_string();
    let tomorrow = local_day(&s, 1, "10:00");
    let mut saved = 0;
    for case in shared() {
        // "Count again" (the composer without JavaScript) shows the server's count of what
        // was typed and saves nothing.
        let res = compose(
            &s,
            &[
                ("body", &case.text),
                ("account", &x),
                ("account", &instagram),
                ("action", "count"),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK, "counting {:?}", case.text);
        let page = res.text().await.unwrap();
        assert_eq!(
            counter(&page, s.x),
            format!("{} / 280", case.x),
            "X count of {:?} ({})",
            case.text,
            case.why
        );
        assert_eq!(
            counter(&page, s.instagram),
            format!("{} / 2200 · hashtags {} / 30", case.chars, case.hashtags),
            "Instagram count of {:?} ({})",
            case.text,
            case.why
        );
        assert_eq!(app.count("SELECT COUNT(*) FROM posts").await, saved);

        // Saving checks the same count: padded in front to one over X's limit it is refused
        // as 281, and one shorter it is scheduled. ('!' leaves links, hashtags and emoji that
        // follow it as they were at the start of the text.)
        if case.x > 280 {
            continue;
        }
        let over = format!("{}!{}", "a".repeat(280 - case.x), case.text);
        let res = schedule_on_x(&s, &over, &tomorrow).await;
        assert_eq!(
            res.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{:?} ({})",
            case.text,
            case.why
        );
        let page = res.text().await.unwrap();
        assert!(
            page.contains("X allows 280 characters; this text has 281. Remove 1."),
            "{:?} ({}) padded to 281 was not counted 281",
            case.text,
            case.why
        );
        if case.x == 280 {
            continue;
        }
        let fits = format!("{}!{}", "a".repeat(279 - case.x), case.text);
        let res = schedule_on_x(&s, &fits, &tomorrow).await;
        assert_eq!(
            res.status(),
            StatusCode::SEE_OTHER,
            "{:?} ({}) padded to 280 was refused",
            case.text,
            case.why
        );
        saved += 1;
    }
    assert!(saved > 40);
}

// 12. "Publish now" lands on a page that says "Publishing…", and the status route follows.
async fn publish_now_shows_publishing_and_the_status_follows(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let s = setup(&app).await;
    // (Signing Eve up delivers e-mail, which runs the queue: before anything is due.)
    let eve = app.verified_user("Eve", "eve@example.com").await;
    let id = post(&s, "Out right now", "now", None).await;
    let page_path = format!("/w/{}/posts/{id}", s.ws);
    let status_path = format!("{page_path}/status");

    let page = s.client.get_text(&page_path).await;
    assert!(
        page.contains("data-post-state>Publishing…</span>"),
        "the post does not say it is publishing: {page}"
    );
    assert!(!page.contains(">Scheduled</span>"), "{page}");
    assert!(
        page.contains(&format!("<a href=\"{page_path}\">Refresh</a>")),
        "no Refresh link for browsers without script"
    );
    assert!(page.contains("data-status-url=\"") && page.contains("/static/post.js"));
    // Nothing offers to edit or move a post that is going out.
    assert!(!page.contains(&format!("{page_path}/edit")) && !page.contains("/reschedule"));

    let res = s.client.get(&status_path).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let status: Value = res.json().await.unwrap();
    assert_eq!(status["state"], "publishing", "{status}");
    assert_eq!(status["label"], "Publishing…");
    assert_eq!(status["publishing"], true);
    let targets = status["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 1);
    assert_eq!(targets[0]["state"], "publishing");
    assert_eq!(targets[0]["attempts"], 0);
    assert!(targets[0]["permalink"].is_null());

    // Only members see it: another workspace's member gets 404, a stranger is sent to log in.
    assert_eq!(eve.get(&status_path).await.status(), StatusCode::NOT_FOUND);
    let anonymous = app.client();
    let res = anonymous.get(&status_path).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(location(res.headers()).starts_with("/login"));
    assert_eq!(
        s.client
            .get(&format!("/w/{}/posts/{}/status", s.ws, id + 1000))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // The worker publishes it; the status says so, with the link, and stops asking for more.
    assert_eq!(app.worker().run_until_empty().await.unwrap(), 1);
    let status: Value = s.client.get(&status_path).await.json().await.unwrap();
    assert_eq!(status["state"], "published", "{status}");
    assert_eq!(status["label"], "Published");
    assert_eq!(status["class"], "ok");
    assert_eq!(status["publishing"], false);
    assert_eq!(status["targets"][0]["state"], "published");
    assert_eq!(status["targets"][0]["attempts"], 1);
    assert!(status["targets"][0]["permalink"].is_string(), "{status}");
    let page = s.client.get_text(&page_path).await;
    assert!(page.contains("data-post-state>Published</span>"), "{page}");
    assert!(!page.contains("/static/post.js") && !page.contains(">Refresh</a>"));

    // A post scheduled for later is "Scheduled", and nothing polls.
    let later = post(
        &s,
        "Tomorrow's news",
        "schedule",
        Some(&local_day(&s, 1, "10:00")),
    )
    .await;
    let later_path = format!("/w/{}/posts/{later}", s.ws);
    let page = s.client.get_text(&later_path).await;
    assert!(page.contains("data-post-state>Scheduled</span>"), "{page}");
    assert!(!page.contains("/static/post.js"));
    let status: Value = s
        .client
        .get(&format!("{later_path}/status"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["state"], "scheduled");
    assert_eq!(status["publishing"], false);
}

/// The HTML of the calendar cell of `date` (up to the next cell or the end of the grid).
fn cell<'a>(page: &'a str, date: &str) -> &'a str {
    let start = page
        .find(&format!("data-date=\"{date}\""))
        .unwrap_or_else(|| panic!("no cell for {date}"));
    let rest = &page[start..];
    let end = rest[1..]
        .find("data-date=\"")
        .or_else(|| rest.find("id=\"undated\""))
        .unwrap_or(rest.len());
    &rest[..end]
}

/// The HTML of the list's section with heading anchor `anchor` ("" when there is none).
fn section<'a>(page: &'a str, anchor: &str) -> &'a str {
    let Some(start) = page.find(&format!("id=\"{anchor}\"")) else {
        return "";
    };
    let rest = &page[start..];
    let end = rest.find("</table>").unwrap_or(rest.len());
    &rest[..end]
}

/// Whether `words` appear in `html` in this order.
fn in_order(html: &str, words: &[&str]) -> bool {
    let places: Vec<Option<usize>> = words.iter().map(|w| html.find(w)).collect();
    places.iter().all(Option::is_some) && places.windows(2).all(|w| w[0] < w[1])
}

// 13. A draft has no time unless it is given one: not its creation time in the list, not on
// the calendar's grid, but listed under it.
async fn drafts_have_no_time_and_stay_off_the_calendar_grid(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let s = setup(&app).await;
    let today = today(&s);
    let tomorrow = local_day(&s, 1, "10:00");
    let draft = post(&s, "Undated idea", "draft", None).await;
    post(&s, "Planned launch", "schedule", Some(&tomorrow)).await;

    let list = s.client.get_text(&format!("/w/{}/posts", s.ws)).await;
    let drafts = section(&list, "drafts");
    let row = &drafts[drafts.find(&format!("data-post=\"{draft}\"")).unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(
        row.contains("Undated idea") && row.contains("No time set"),
        "{row}"
    );
    let created_local = schedule::to_local(
        app.services
            .post_view(domain::WorkspaceId(s.ws), PostId(draft))
            .await
            .unwrap()
            .post
            .created_at,
        s.tz,
    );
    let when_cell = &row[..row.find("<br>").unwrap()];
    assert!(
        when_cell.ends_with("\"Time\">No time set"),
        "the draft's time is not \"No time set\": {row}"
    );
    let created = created_local.format("%a %-d %b %Y, %H:%M").to_string();
    assert!(
        !row.replace(&format!("Edited {created}"), "")
            .contains(&created),
        "the draft's creation is shown as its time: {row}"
    );

    for view in ["month", "week"] {
        let page = s
            .client
            .get_text(&format!("/w/{}/calendar?view={view}&date={today}", s.ws))
            .await;
        assert!(
            !cell(&page, &today).contains("Undated idea"),
            "the draft sits on today's {view} grid"
        );
        let undated = &page[page.find("id=\"undated\"").expect("no undated drafts list")..];
        assert!(undated.contains("Drafts without a time") && undated.contains("Undated idea"));
        assert!(undated.contains(&format!("/w/{}/posts/{draft}", s.ws)));
    }
    let page = s
        .client
        .get_text(&format!(
            "/w/{}/calendar?view=week&date={}",
            s.ws,
            &tomorrow[..10]
        ))
        .await;
    let day = cell(&page, &tomorrow[..10]);
    assert!(
        day.contains("Planned launch") && day.contains("10:00"),
        "{day}"
    );
    assert!(!day.contains("Undated idea"));
    // The calendar's filters apply to the list under it too.
    let scheduled_only = s
        .client
        .get_text(&format!(
            "/w/{}/calendar?date={today}&state=scheduled",
            s.ws
        ))
        .await;
    assert!(!scheduled_only.contains("Undated idea"));

    // Scheduled and taken back, a post is a draft without a time again.
    let (user, member) = app.member(EMAIL, s.ws).await;
    let back = post(&s, "Changed my mind", "schedule", Some(&tomorrow)).await;
    app.services
        .unschedule_post(&member, &user, PostId(back))
        .await
        .unwrap();
    let page = s
        .client
        .get_text(&format!(
            "/w/{}/calendar?view=week&date={}",
            s.ws,
            &tomorrow[..10]
        ))
        .await;
    assert!(!cell(&page, &tomorrow[..10]).contains("Changed my mind"));
    assert!(page[page.find("id=\"undated\"").unwrap()..].contains("Changed my mind"));
}

// 13. The list is in sections, each sorted by the time that matters for its posts.
async fn the_list_sorts_each_state_by_its_own_time(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let s = setup(&app).await;
    // Published: the first published is listed last.
    post(&s, "Published first", "now", None).await;
    assert_eq!(app.worker().run_until_empty().await.unwrap(), 1);
    post(&s, "Published second", "now", None).await;
    assert_eq!(app.worker().run_until_empty().await.unwrap(), 1);
    // Scheduled: the soonest first, whatever the order they were written in.
    post(
        &s,
        "Due in three days",
        "schedule",
        Some(&local_day(&s, 3, "09:00")),
    )
    .await;
    post(
        &s,
        "Due tomorrow",
        "schedule",
        Some(&local_day(&s, 1, "09:00")),
    )
    .await;
    post(
        &s,
        "Due in two days",
        "schedule",
        Some(&local_day(&s, 2, "09:00")),
    )
    .await;
    // Drafts: the last edited first.
    post(&s, "Draft A", "draft", None).await;
    let b = post(&s, "Draft B", "draft", None).await;
    post(&s, "Draft C", "draft", None).await;
    let x = s.x.to_string();
    let res = s
        .client
        .submit(
            &format!("/w/{}/posts/{b}", s.ws),
            &[
                ("body", "Draft B, edited"),
                ("account", &x),
                ("action", "draft"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    let list = s.client.get_text(&format!("/w/{}/posts", s.ws)).await;
    assert!(
        in_order(
            &list,
            &["id=\"scheduled\"", "id=\"drafts\"", "id=\"published\""]
        ),
        "the sections are missing or out of order: {list}"
    );
    assert!(
        !list.contains("id=\"attention\""),
        "an empty section is shown"
    );
    let scheduled = section(&list, "scheduled");
    assert!(
        in_order(
            scheduled,
            &["Due tomorrow", "Due in two days", "Due in three days"]
        ),
        "scheduled posts are not soonest first: {scheduled}"
    );
    assert!(!scheduled.contains("Draft") && !scheduled.contains("Published "));
    let drafts = section(&list, "drafts");
    assert!(
        in_order(drafts, &["Draft B, edited", "Draft C", "Draft A"]),
        "drafts are not last edited first: {drafts}"
    );
    assert_eq!(drafts.matches("No time set").count(), 3, "{drafts}");
    let published = section(&list, "published");
    assert!(
        in_order(published, &["Published second", "Published first"]),
        "published posts are not newest first: {published}"
    );

    // A post needing attention comes first; a state filter shows its section only.
    app.exec("UPDATE posts SET state = 'failed' WHERE body = 'Due in two days'")
        .await;
    let list = s.client.get_text(&format!("/w/{}/posts", s.ws)).await;
    assert!(in_order(&list, &["id=\"attention\"", "id=\"scheduled\""]));
    assert!(section(&list, "attention").contains("Due in two days"));
    let only = s
        .client
        .get_text(&format!("/w/{}/posts?state=published", s.ws))
        .await;
    assert!(only.contains("id=\"published\"") && !only.contains("id=\"drafts\""));
    assert!(in_order(&only, &["Published second", "Published first"]));
}

/// Logs Ada in through the browser's log-in form and opens the composer of workspace `ws`.
async fn open_composer(b: &Browser, app: &TestApp, ws: i64) -> anyhow::Result<()> {
    b.log_in(&app.address, EMAIL, "Acme").await?;
    b.goto(&format!("{}/w/{ws}/posts/new", app.address)).await?;
    b.wait_for_heading("New post").await
}

/// Both counters of the composer, as the page shows them now.
async fn counters(b: &Browser, s: &Setup) -> anyhow::Result<(String, String)> {
    let read = |account: i64| {
        format!(
            "document.querySelector(\"[data-counter-for='f-target-{account}']\").textContent.trim()"
        )
    };
    let both = b
        .eval(&format!("return [{}, {}]", read(s.x), read(s.instagram)))
        .await?;
    Ok((
        both[0].as_str().unwrap_or_default().to_owned(),
        both[1].as_str().unwrap_or_default().to_owned(),
    ))
}

/// Puts `text` into the text area `#id` as typing would, and lets the composer count it.
async fn type_into(b: &Browser, id: &str, text: &str) -> anyhow::Result<()> {
    b.eval(&format!(
        "const area = document.getElementById('{id}'); area.value = {}; \
         area.dispatchEvent(new Event('input', {{bubbles: true}})); return 1",
        serde_json::to_string(text)?
    ))
    .await?;
    Ok(())
}

// 11. The composer's script counts every shared string as the server does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_composer_counts_the_shared_strings_as_the_server_does() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let s = setup(&app).await;
    run_in(app, "composer-counts", true, async |b, app| {
        open_composer(b, app, s.ws).await?;

        // Typed with the keyboard: the trailing space is not counted (the 360 vs 359).
        b.fill("#f-body", &format!("{} ", "a".repeat(279))).await?;
        let x_counter = format!("[data-counter-for='f-target-{}']", s.x);
        wait_until(
            b,
            &format!("return document.querySelector(\"{x_counter}\").textContent.trim() === '279 / 280'"),
        )
        .await?;
        b.screenshot("typed").await?;

        let mut wrong = Vec::new();
        for case in shared() {
            type_into(b, "f-body", &case.text).await?;
            let (on_x, on_instagram) = counters(b, &s).await?;
            let want_x = format!("{} / 280", case.x);
            let want_instagram =
                format!("{} / 2200 · hashtags {} / 30", case.chars, case.hashtags);
            if on_x != want_x || on_instagram != want_instagram {
                wrong.push(format!(
                    "{:?} ({}): X {on_x:?}, want {want_x:?}; Instagram {on_instagram:?}, want {want_instagram:?}",
                    case.text, case.why
                ));
            }
            let over = b
                .eval(&format!(
                    "return document.querySelector(\"{x_counter}\").classList.contains('over')"
                ))
                .await?;
            if over.as_bool() != Some(case.x > 280) {
                wrong.push(format!("{:?}: X counter marked over: {over}", case.text));
            }
        }
        if !wrong.is_empty() {
            bail!("the composer counts differently from the server:\n{}", wrong.join("\n"));
        }

        // A variant of only whitespace means the base text, as on the server.
        type_into(b, "f-body", "Base text").await?;
        type_into(b, &format!("f-target-{}", s.x), "  \n ").await?;
        ensure!(counters(b, &s).await?.0 == "9 / 280", "a blank variant is not the base text");
        type_into(b, &format!("f-target-{}", s.x), "Own 東京 ").await?;
        ensure!(counters(b, &s).await?.0 == "8 / 280", "the variant is not counted as sent");
        b.screenshot("variant").await?;
        Ok(())
    })
    .await;
}

// 11. Without JavaScript the counters are the server's, for what was typed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_javascript_the_composer_counts_on_the_server() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let s = setup(&app).await;
    run_in(app, "composer-nojs", false, async |b, app| {
        open_composer(b, app, s.ws).await?;
        let x_counter = format!("[data-counter-for='f-target-{}']", s.x);
        ensure!(b.text(&x_counter).await? == "0 / 280");
        b.fill("#f-body", "Spring sale  東京 ").await?;
        b.click("button[name=action][value=count]").await?;
        b.wait_for_heading("New post").await?;
        let counted = b.text(&x_counter).await?;
        ensure!(
            counted == "17 / 280",
            "the X counter says {counted:?} after Count again"
        );
        let counted = b
            .text(&format!("[data-counter-for='f-target-{}']", s.instagram))
            .await?;
        ensure!(
            counted == "15 / 2200 · hashtags 0 / 30",
            "the Instagram counter says {counted:?}"
        );
        let kept = b.text("#f-body").await?;
        ensure!(
            kept.starts_with("Spring sale"),
            "the text was lost: {kept:?}"
        );
        ensure!(
            app.count("SELECT COUNT(*) FROM posts").await == 0,
            "counting saved a post"
        );
        b.screenshot("counted").await?;
        Ok(())
    })
    .await;
}

// 12. After "Publish now" the page says "Publishing…" and turns to "Published" by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_post_page_follows_publishing_until_published() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let s = setup(&app).await;
    run_in(app, "publish-now", true, async |b, app| {
        open_composer(b, app, s.ws).await?;
        b.fill("#f-body", "Live from the launch").await?;
        b.click(&format!("input[name=account][value='{}']", s.x))
            .await?;
        b.click("button[name=action][value=now]").await?;
        b.wait_for_heading("Post").await?;
        let badge = b.text("[data-post-state]").await?;
        ensure!(
            badge == "Publishing…",
            "right after Publish now the post says {badge:?}"
        );
        ensure!(
            b.text("#main [data-target-state]").await? == "Publishing…",
            "the account's state is not Publishing…"
        );
        b.screenshot("publishing").await?;

        assert_eq!(app.worker().run_until_empty().await.unwrap(), 1);
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let badge = b.text("[data-post-state]").await.unwrap_or_default();
            let target = b.text("[data-target-state]").await.unwrap_or_default();
            if badge == "Published" && target == "Published" {
                break;
            }
            if Instant::now() > deadline {
                bail!("the page still says {badge:?} / {target:?} after the worker published");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        ensure!(
            b.body_text().await?.contains("View on X"),
            "no link to the published post"
        );
        b.screenshot("published").await?;
        Ok(())
    })
    .await;
}

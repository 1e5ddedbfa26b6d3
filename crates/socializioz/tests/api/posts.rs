//! The composer, the post page, the list, the calendar and campaigns, over HTTP on both
//! databases: what people type is checked, refused input loses nothing and saves nothing; the
//! list is read a page at a time and the month a few posts a day.

use crate::both_backends;
use crate::helpers::{
    Backend, Client, TestApp, expect_page, id_from_location, location, spawn_app,
};
use domain::{Platform, Timezone, schedule};
use reqwest::StatusCode;

both_backends!(
    a_post_is_composed_scheduled_and_shown_on_the_calendar,
    text_over_a_platforms_limit_cannot_be_scheduled,
    past_times_and_daylight_saving_gaps_are_refused,
    a_scheduled_post_is_moved_duplicated_and_deleted,
    viewers_read_but_cannot_write,
    campaigns_group_posts,
    the_list_pages_walk_every_post_once_with_the_filters_kept,
    a_damaged_page_link_is_refused_in_words,
    a_month_day_shows_its_count_and_first_posts_and_links_to_the_day,
);

const EMAIL: &str = "ada@example.com";

struct Setup {
    client: Client,
    ws: i64,
    x: i64,
    tz: Timezone,
}

async fn setup(app: &TestApp) -> Setup {
    let client = app.verified_user("Ada Lovelace", EMAIL).await;
    let res = client.submit("/workspaces/new", &[("name", "Acme")]).await;
    let ws = id_from_location(res.headers());
    let x = app.connect_account(ws, Platform::X, "acme").await;
    let (user, _) = app.member(EMAIL, ws).await;
    let tz = Timezone::parse(&user.timezone).unwrap();
    Setup { client, ws, x, tz }
}

/// The wall-clock value of an `<input type=datetime-local>` `days` from now at 10:00.
fn local_day(s: &Setup, days: i64) -> String {
    let date = schedule::to_local(chrono::Utc::now() + chrono::Duration::days(days), s.tz).date();
    format!("{}T10:00", date.format("%Y-%m-%d"))
}

async fn compose(s: &Setup, fields: &[(&str, &str)]) -> reqwest::Response {
    s.client.submit(&format!("/w/{}/posts", s.ws), fields).await
}

async fn a_post_is_composed_scheduled_and_shown_on_the_calendar(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let s = setup(&app).await;
    let linkedin = app
        .connect_account(s.ws, Platform::LinkedIn, "acme-co")
        .await;
    let form = s.client.get_text(&format!("/w/{}/posts/new", s.ws)).await;
    assert!(
        form.contains("@acme") && form.contains("@acme-co"),
        "{form}"
    );
    assert!(form.contains("data-limit=\"280\"") && form.contains("data-limit=\"3000\""));

    let when = local_day(&s, 1);
    let x = s.x.to_string();
    let li = linkedin.to_string();
    let variant = format!("variant-{li}");
    let res = compose(
        &s,
        &[
            ("body", "Spring is here\r\nSee you soon"),
            ("account", &x),
            ("account", &li),
            (&variant, "Spring is here, on LinkedIn"),
            ("scheduled_at", &when),
            ("action", "schedule"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let post = location(res.headers());
    let page = s.client.get_text(&post).await;
    assert!(page.contains("Scheduled"), "{page}");
    assert!(page.contains("Spring is here, on LinkedIn"));
    assert_eq!(
        app.text("SELECT body FROM posts").await,
        "Spring is here\nSee you soon",
        "stored with plain line breaks"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'publish'")
            .await,
        2
    );

    // On the calendar (month and week) of that day, and in the filtered list.
    let date = &when[..10];
    let month = s
        .client
        .get_text(&format!("/w/{}/calendar?date={date}", s.ws))
        .await;
    assert!(month.contains("Spring is here"), "{month}");
    assert!(month.contains(&format!("data-date=\"{date}\"")));
    let week = s
        .client
        .get_text(&format!("/w/{}/calendar?view=week&date={date}", s.ws))
        .await;
    assert!(week.contains("Spring is here") && week.contains("10:00"));
    for far in ["262143-12-31", "-262000-01-01", "0000-01-01"] {
        let res = s
            .client
            .get(&format!("/w/{}/calendar?view=week&date={far}", s.ws))
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{far}");
    }
    let other_month = s
        .client
        .get_text(&format!("/w/{}/calendar?date=2020-01-01", s.ws))
        .await;
    assert!(!other_month.contains("Spring is here"));
    let scheduled = s
        .client
        .get_text(&format!("/w/{}/posts?state=scheduled", s.ws))
        .await;
    assert!(scheduled.contains("Spring is here"));
    let drafts = s
        .client
        .get_text(&format!("/w/{}/posts?state=draft", s.ws))
        .await;
    assert!(!drafts.contains("Spring is here"));
    let by_account = s
        .client
        .get_text(&format!("/w/{}/posts?account={li}", s.ws))
        .await;
    assert!(by_account.contains("Spring is here"));

    // The dashboard lists it under the next posts.
    let dashboard = s.client.get_text(&format!("/w/{}", s.ws)).await;
    assert!(
        dashboard.contains("Next posts") && dashboard.contains("Spring is here"),
        "{dashboard}"
    );
    assert!(dashboard.contains("X @acme"), "connected accounts listed");

    // Every change is in the activity log.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM activity_log WHERE action = 'post.scheduled'")
            .await,
        1
    );

    // Another workspace's member cannot see it.
    let eve = app.verified_user("Eve", "eve@example.com").await;
    assert_eq!(eve.get(&post).await.status(), StatusCode::NOT_FOUND);
}

async fn text_over_a_platforms_limit_cannot_be_scheduled(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let s = setup(&app).await;
    let long = "a".repeat(291);
    let when = local_day(&s, 1);
    let x = s.x.to_string();
    let res = compose(
        &s,
        &[
            ("body", &long),
            ("account", &x),
            ("scheduled_at", &when),
            ("action", "schedule"),
        ],
    )
    .await;
    let page = expect_page(res, StatusCode::UNPROCESSABLE_ENTITY, "Remove 11").await;
    assert!(
        page.contains("X allows 280 characters; this text has 291"),
        "{page}"
    );
    assert!(page.contains(&long), "what was typed is kept");
    assert_eq!(app.count("SELECT COUNT(*) FROM posts").await, 0);

    // A URL counts 23 on X, so a long link fits.
    let link = format!("Read https://example.com/{}", "p".repeat(300));
    let res = compose(
        &s,
        &[
            ("body", &link),
            ("account", &x),
            ("scheduled_at", &when),
            ("action", "schedule"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    // Instagram: at most 30 hashtags.
    let ig = app
        .connect_account(s.ws, Platform::Instagram, "acme.ig")
        .await;
    let tags: String = (0..31).map(|n| format!("#tag{n} ")).collect();
    let ig = ig.to_string();
    let res = compose(
        &s,
        &[
            ("body", &tags),
            ("account", &ig),
            ("scheduled_at", &when),
            ("action", "schedule"),
        ],
    )
    .await;
    expect_page(res, StatusCode::UNPROCESSABLE_ENTITY, "at most 30 hashtags").await;

    // The same over-long text may be kept as a draft while it is being worked on.
    let res = compose(&s, &[("body", &long), ("account", &x), ("action", "draft")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM posts WHERE state = 'draft'")
            .await,
        1
    );

    // Scheduling needs an account and some text.
    let res = compose(
        &s,
        &[
            ("body", "Hi"),
            ("scheduled_at", &when),
            ("action", "schedule"),
        ],
    )
    .await;
    expect_page(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Choose at least one account",
    )
    .await;
    let res = compose(&s, &[("body", " "), ("account", &x), ("action", "now")]).await;
    expect_page(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Write the text to publish",
    )
    .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM posts").await, 2);
}

async fn past_times_and_daylight_saving_gaps_are_refused(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let s = setup(&app).await;
    let x = s.x.to_string();
    let yesterday = local_day(&s, -1);
    let res = compose(
        &s,
        &[
            ("body", "Too late"),
            ("account", &x),
            ("scheduled_at", &yesterday),
            ("action", "schedule"),
        ],
    )
    .await;
    expect_page(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "That time has passed",
    )
    .await;

    // Move the author to Berlin and pick the hour that does not exist in spring 2027.
    app.exec("UPDATE users SET timezone = 'Europe/Berlin'")
        .await;
    let res = compose(
        &s,
        &[
            ("body", "In the gap"),
            ("account", &x),
            ("scheduled_at", "2027-03-28T02:30"),
            ("action", "schedule"),
        ],
    )
    .await;
    let page = expect_page(res, StatusCode::UNPROCESSABLE_ENTITY, "does not exist").await;
    assert!(page.contains("Europe/Berlin"), "{page}");
    let res = compose(
        &s,
        &[
            ("body", "Badly typed"),
            ("account", &x),
            ("scheduled_at", "next tuesday"),
            ("action", "schedule"),
        ],
    )
    .await;
    expect_page(res, StatusCode::UNPROCESSABLE_ENTITY, "YYYY-MM-DD").await;
    assert_eq!(app.count("SELECT COUNT(*) FROM posts").await, 0);

    // The hour that happens twice in autumn is the first one, stored in UTC.
    let res = compose(
        &s,
        &[
            ("body", "Twice"),
            ("account", &x),
            ("scheduled_at", "2027-10-31T02:30"),
            ("action", "schedule"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let stored = {
        use sea_orm::EntityTrait;
        store::entities::post::Entity::find()
            .one(&app.services.db)
            .await
            .unwrap()
            .unwrap()
    };
    assert_eq!(
        stored.scheduled_at.unwrap().to_rfc3339(),
        "2027-10-31T00:30:00+00:00"
    );
    assert_eq!(stored.schedule_tz.as_deref(), Some("Europe/Berlin"));
}

async fn a_scheduled_post_is_moved_duplicated_and_deleted(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let s = setup(&app).await;
    let x = s.x.to_string();
    let when = local_day(&s, 1);
    let res = compose(
        &s,
        &[
            ("body", "Moving"),
            ("account", &x),
            ("scheduled_at", &when),
            ("action", "schedule"),
        ],
    )
    .await;
    let post = location(res.headers());

    let later = local_day(&s, 3);
    let back = format!("/w/{}/calendar?view=week&date={}", s.ws, &later[..10]);
    let res = s
        .client
        .submit(
            &format!("{post}/reschedule"),
            &[("scheduled_at", &later), ("next", &back)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(res.headers()), back);
    let week = s.client.get_text(&back).await;
    assert!(week.contains("Moving"), "{week}");
    let res = s
        .client
        .submit(
            &format!("{post}/reschedule"),
            &[("scheduled_at", "2001-01-01T10:00")],
        )
        .await;
    expect_page(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "That time has passed",
    )
    .await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'publish' AND state = 'queued'")
            .await,
        1
    );

    // Editing keeps it scheduled; a duplicate is a new draft.
    let edit = s.client.get_text(&format!("{post}/edit")).await;
    assert!(edit.contains("Moving") && edit.contains(&later));
    let res = s.client.submit(&format!("{post}/duplicate"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM posts WHERE state = 'draft' AND body = 'Moving'")
            .await,
        1
    );

    let res = s.client.submit(&format!("{post}/unschedule"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'publish' AND state = 'queued'")
            .await,
        0
    );
    let res = s
        .client
        .submit(&format!("{post}/delete"), &[("confirm", "yes")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(s.client.get(&post).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.count("SELECT COUNT(*) FROM posts").await, 1);
}

async fn viewers_read_but_cannot_write(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let s = setup(&app).await;
    let x = s.x.to_string();
    let res = compose(
        &s,
        &[("body", "Draft"), ("account", &x), ("action", "draft")],
    )
    .await;
    let post = location(res.headers());
    app.exec("UPDATE memberships SET role = 'viewer'").await;

    let page = s.client.get_text(&post).await;
    assert!(
        page.contains("Draft") && !page.contains("/duplicate"),
        "{page}"
    );
    let form = s.client.get_text(&format!("/w/{}/posts/new", s.ws)).await;
    assert!(form.contains("You are a viewer"));
    let res = compose(
        &s,
        &[("body", "Sneaky"), ("account", &x), ("action", "now")],
    )
    .await;
    expect_page(res, StatusCode::FORBIDDEN, "Viewers can read posts").await;
    let res = s
        .client
        .submit(&format!("{post}/delete"), &[("confirm", "yes")])
        .await;
    expect_page(res, StatusCode::FORBIDDEN, "Viewers can read posts").await;
    assert_eq!(app.count("SELECT COUNT(*) FROM posts").await, 1);
}

async fn campaigns_group_posts(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let s = setup(&app).await;
    let path = format!("/w/{}/campaigns", s.ws);
    let res = s
        .client
        .submit(
            &path,
            &[
                ("name", " "),
                ("starts_on", "2027-03-31"),
                ("ends_on", "2027-03-01"),
                ("colour", "#2563eb"),
            ],
        )
        .await;
    let page = expect_page(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Give the campaign a name",
    )
    .await;
    assert!(page.contains("cannot end before it starts"));
    assert_eq!(app.count("SELECT COUNT(*) FROM campaigns").await, 0);

    let res = s
        .client
        .submit(
            &path,
            &[
                ("name", "Spring launch"),
                ("description", "Everything for March"),
                ("starts_on", "2027-03-01"),
                ("ends_on", "2027-03-31"),
                ("colour", "#16a34a"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let campaign = location(res.headers());
    let cid = id_from_location(res.headers()).to_string();
    let res = s
        .client
        .submit(&path, &[("name", "Spring launch"), ("colour", "#16a34a")])
        .await;
    expect_page(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "already has a campaign",
    )
    .await;

    let x = s.x.to_string();
    let res = compose(
        &s,
        &[
            ("body", "Launch day"),
            ("account", &x),
            ("campaign", &cid),
            ("action", "draft"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = s.client.get_text(&campaign).await;
    assert!(
        page.contains("Launch day") && page.contains("c-16a34a"),
        "{page}"
    );
    let list = s
        .client
        .get_text(&format!("/w/{}/posts?campaign={cid}", s.ws))
        .await;
    assert!(list.contains("Launch day"));

    let res = s.client.submit(&format!("{campaign}/delete"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM posts WHERE campaign_id IS NULL")
            .await,
        1,
        "the post stays, without a campaign"
    );
}

/// A time as the product stores it (and as the list's links carry it, to the microsecond).
fn stored(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
}

/// The posts of a page of the list, in order (their `data-post` ids).
fn listed(html: &str) -> Vec<i64> {
    html.split("data-post=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].parse().unwrap())
        .collect()
}

/// The address of a page's link with `id` (an escaped `&` read back), if it has one.
fn link(html: &str, id: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let start = html[..at].rfind("href=\"")? + "href=\"".len();
    let end = start + html[start..].find('"')?;
    Some(html[start..end].replace("&#38;", "&").replace("&amp;", "&"))
}

/// Writes posts straight into the tables, each `(state, scheduled_at, published_at,
/// updated_at)`, with one target each: on `accounts.0` for even ids, `accounts.1` for odd ones.
async fn insert_posts(
    app: &TestApp,
    ws: i64,
    accounts: (i64, i64),
    rows: &[(&str, Option<String>, Option<String>, String)],
) {
    let quoted = |t: &Option<String>| t.as_ref().map_or("NULL".to_owned(), |t| format!("'{t}'"));
    let values: Vec<String> = rows
        .iter()
        .enumerate()
        .map(|(i, (state, due, published, edited))| {
            format!(
                "({ws}, 'Post {i} in {state}', '{state}', {}, {}, 1, '{edited}', '{edited}')",
                quoted(due),
                quoted(published)
            )
        })
        .collect();
    app.exec(&format!(
        "INSERT INTO posts (workspace_id, body, state, scheduled_at, published_at, revision, \
         created_at, updated_at) VALUES {}",
        values.join(", ")
    ))
    .await;
    app.exec(&format!(
        "INSERT INTO post_targets (post_id, account_id, options, state, attempts, updated_at) \
         SELECT id, CASE WHEN id % 2 = 0 THEN {} ELSE {} END, '{{}}', state, 0, updated_at FROM \
         posts WHERE workspace_id = {ws}",
        accounts.0, accounts.1
    ))
    .await;
}

/// Walks the list from `first` by its "Next page" links; returns the posts of each page, and
/// checks that every link keeps `kept` (the filters).
async fn walk(client: &Client, first: &str, kept: &str) -> Vec<Vec<i64>> {
    let mut pages = Vec::new();
    let mut next = Some(first.to_owned());
    while let Some(path) = next {
        assert!(path.contains(kept), "{path} lost the filter {kept}");
        let html = client.get_text(&path).await;
        pages.push(listed(&html));
        next = link(&html, "next-page");
        assert!(pages.len() < 20, "the pages do not end");
        if pages.len() > 1 {
            let first = link(&html, "first-page");
            assert!(
                first.as_ref().is_some_and(|l| l.contains(kept)),
                "{first:?} on {path}: {}",
                &html[html.find("class=\"pager\"").unwrap_or(0)..]
            );
        }
    }
    pages
}

// The list is read a page at a time, each starting after the last post of the one before: every
// post is listed exactly once, in the list's order (sections; the time that matters for each;
// then the newer post first, which decides between equal times), with the filters kept.
async fn the_list_pages_walk_every_post_once_with_the_filters_kept(backend: Backend) {
    use sea_orm::EntityTrait;
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let s = setup(&app).await;
    let li = app
        .connect_account(s.ws, Platform::LinkedIn, "acme-co")
        .await;
    let base = chrono::Utc::now() + chrono::Duration::days(3);
    let at = |hours: i64| Some(stored(base + chrono::Duration::hours(hours)));
    let past =
        |hours: i64| stored(base - chrono::Duration::days(30) + chrono::Duration::hours(hours));
    let mut rows: Vec<(&str, Option<String>, Option<String>, String)> = Vec::new();
    for i in 0..20 {
        // Needing attention, changed in pairs at the same moment.
        rows.push(("failed", at(i / 2), None, past(i / 2)));
    }
    for _ in 0..10 {
        rows.push(("pending_approval", at(5), None, past(0)));
    }
    for i in 0..60 {
        // Six times, ten posts each.
        rows.push(("scheduled", at(i % 6), None, past(0)));
    }
    for i in 0..4 {
        rows.push(("publishing", at(i % 6), None, past(0)));
    }
    rows.push(("scheduled", None, None, past(1)));
    rows.push(("scheduled", None, None, past(2)));
    for _ in 0..80 {
        // All changed at the same moment: only the tie-breaker orders them.
        rows.push(("draft", None, None, past(3)));
    }
    for i in 0..40 {
        // Published, most at their own time, one in four only with the time it was due.
        let published = Some(past(i % 8)).filter(|_| i % 4 != 0);
        rows.push(("published", at(-10), published, past(0)));
    }
    for _ in 0..42 {
        // Published with no time at all: after the others, the newer first.
        rows.push(("published", None, None, past(0)));
    }
    insert_posts(&app, s.ws, (s.x, li), &rows).await;

    // The order the list must follow, worked out here from the rows.
    let posts = store::entities::post::Entity::find()
        .all(&app.services.db)
        .await
        .unwrap();
    let section = |state: &str| match state {
        "failed" => 0,
        "pending_approval" => 1,
        "scheduled" | "publishing" => 2,
        "draft" => 3,
        _ => 4,
    };
    let mut expected: Vec<(i64, (i64, bool, i64, i64))> = posts
        .iter()
        .map(|p| {
            let group = section(p.state.as_str());
            let time = match group {
                1 | 2 => p.scheduled_at.map(|t| t.timestamp_micros()),
                4 => p
                    .published_at
                    .or(p.scheduled_at)
                    .map(|t| -t.timestamp_micros()),
                _ => Some(-p.updated_at.timestamp_micros()),
            };
            (p.id, (group, time.is_none(), time.unwrap_or(0), -p.id))
        })
        .collect();
    expected.sort_by_key(|(_, key)| *key);
    let order = |keep: &dyn Fn(i64) -> bool| -> Vec<i64> {
        expected
            .iter()
            .map(|(id, _)| *id)
            .filter(|id| keep(*id))
            .collect()
    };

    // Filtered by account: half the posts, over three pages of 50, 50 and the rest.
    let kept = format!("account={}", s.x);
    let pages = walk(&s.client, &format!("/w/{}/posts?{kept}", s.ws), &kept).await;
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes.len(), 3, "{sizes:?}");
    assert!(
        sizes[..2].iter().all(|n| *n == 50) && sizes[2] <= 50,
        "{sizes:?}"
    );
    let walked: Vec<i64> = pages.concat();
    assert_eq!(
        walked,
        order(&|id| id % 2 == 0),
        "every post once, in order"
    );

    // Filtered by state: the drafts, all edited at the same moment, newer first.
    let pages = walk(
        &s.client,
        &format!("/w/{}/posts?state=draft", s.ws),
        "state=draft",
    )
    .await;
    let walked: Vec<i64> = pages.concat();
    let drafts = order(&|id| {
        posts
            .iter()
            .any(|p| p.id == id && p.state.as_str() == "draft")
    });
    assert_eq!(drafts.len(), 80);
    assert_eq!(walked, drafts);
    assert!(walked.windows(2).all(|w| w[0] > w[1]));

    // Published: the first page ends among those without a time, and the next goes on there.
    let first = s
        .client
        .get_text(&format!("/w/{}/posts?state=published", s.ws))
        .await;
    assert!(link(&first, "next-page").is_some_and(|l| l.contains(".n.")));
    let pages = walk(
        &s.client,
        &format!("/w/{}/posts?state=published", s.ws),
        "state=published",
    )
    .await;
    let published = order(&|id| {
        posts
            .iter()
            .any(|p| p.id == id && p.state.as_str() == "published")
    });
    assert_eq!((pages.len(), pages.concat()), (2, published));

    // Unfiltered, all of them.
    let pages = walk(&s.client, &format!("/w/{}/posts", s.ws), "/posts").await;
    assert_eq!(pages.len(), 6);
    assert_eq!(pages.concat(), order(&|_| true));
    // The second page picks up its section where the first left off.
    let second = s
        .client
        .get_text(
            &link(
                &s.client.get_text(&format!("/w/{}/posts", s.ws)).await,
                "next-page",
            )
            .unwrap(),
        )
        .await;
    assert!(second.contains("id=\"scheduled\"") && !second.contains("id=\"attention\""));
}

// A page link whose place in the list cannot be read says so, as a page, never a failure.
async fn a_damaged_page_link_is_refused_in_words(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let s = setup(&app).await;
    for bad in [
        "garbage",
        "2.n.0",
        "9.1767261400000000.12",
        "2.99999999999999999999999.1",
        "2.9223372036854775807.1",
        "2.1767261400000000.12.4",
        // A time chrono can hold but PostgreSQL cannot (year -93,000).
        "2.-3000000000000000000.1",
    ] {
        let res = s
            .client
            .get(&format!("/w/{}/posts?state=draft&after={bad}", s.ws))
            .await;
        expect_page(
            res,
            StatusCode::BAD_REQUEST,
            "This link to a page of the list is damaged",
        )
        .await;
    }
    // Well formed, but after a post that does not exist: the list from that place.
    let page = s
        .client
        .get_text(&format!(
            "/w/{}/posts?after=2.1767261400000000.999999",
            s.ws
        ))
        .await;
    assert!(page.contains("No more posts match."), "{page}");
    // Empty: the first page.
    s.client
        .get_text(&format!("/w/{}/posts?after=", s.ws))
        .await;
}

/// The HTML of the month's cell of `date` (up to the next cell, or the end of the grid).
fn day_cell<'a>(page: &'a str, date: &str) -> &'a str {
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

// Each day of the month says how many posts it has and shows the first three by time, with a
// link to the day, which shows them all; days are the person's (Europe/Berlin), not UTC's.
async fn a_month_day_shows_its_count_and_first_posts_and_links_to_the_day(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let s = setup(&app).await;
    let li = app
        .connect_account(s.ws, Platform::LinkedIn, "acme-co")
        .await;
    use chrono::Datelike;
    // The 10th of a month to come, and the 11th.
    let later = schedule::to_local(chrono::Utc::now() + chrono::Duration::days(40), s.tz).date();
    let day = later.with_day(10).unwrap();
    let next_day = day + chrono::Duration::days(1);
    let local = |date: chrono::NaiveDate, h: i64, m: i64| {
        Some(stored(
            schedule::start_of_day(date, s.tz) + chrono::Duration::minutes(h * 60 + m),
        ))
    };
    let now = stored(chrono::Utc::now());
    // Written out of order; the day shows them by time.
    let mut rows = vec![
        ("scheduled", local(day, 13, 0), None, now.clone()),
        ("scheduled", local(day, 9, 0), None, now.clone()),
        ("scheduled", local(day, 11, 0), None, now.clone()),
        ("scheduled", local(day, 10, 0), None, now.clone()),
        ("scheduled", local(day, 12, 0), None, now.clone()),
        // Just after midnight in Berlin: the day before in UTC.
        ("scheduled", local(next_day, 0, 30), None, now.clone()),
    ];
    for _ in 0..21 {
        rows.push(("draft", None, None, now.clone()));
    }
    insert_posts(&app, s.ws, (s.x, li), &rows).await;
    let body_at = |h: i64| {
        let at = schedule::start_of_day(day, s.tz) + chrono::Duration::hours(h);
        let sql = format!(
            "SELECT body FROM posts WHERE scheduled_at = '{}'",
            stored(at)
        );
        let app = &app;
        async move { app.text(&sql).await }
    };
    let (nine, ten, eleven, twelve, one) = (
        body_at(9).await,
        body_at(10).await,
        body_at(11).await,
        body_at(12).await,
        body_at(13).await,
    );

    let date = day.format("%Y-%m-%d").to_string();
    let month = s
        .client
        .get_text(&format!("/w/{}/calendar?date={date}", s.ws))
        .await;
    let cell = day_cell(&month, &date);
    assert!(cell.contains("5 posts"), "{cell}");
    assert_eq!(cell.matches("class=\"cal-post ").count(), 3, "{cell}");
    let (a, b, c) = (
        cell.find(&format!("{nine}<")).expect("09:00 shown"),
        cell.find(&format!("{ten}<")).expect("10:00 shown"),
        cell.find(&format!("{eleven}<")).expect("11:00 shown"),
    );
    assert!(a < b && b < c, "by time: {cell}");
    assert!(!cell.contains(&twelve) && !cell.contains(&one), "{cell}");
    let day_link = format!("/w/{}/calendar?view=day&date={date}", s.ws);
    assert!(
        cell.contains(&format!("href=\"{day_link}\">+2 more")),
        "{cell}"
    );
    let next_date = next_day.format("%Y-%m-%d").to_string();
    let next_cell = day_cell(&month, &next_date);
    assert!(
        next_cell.contains("1 post<") && !next_cell.contains("more"),
        "{next_cell}"
    );
    // Twenty drafts without a time are listed, and the list has the rest.
    let undated = &month[month.find("id=\"undated\"").unwrap()..];
    assert_eq!(undated.matches("data-post=").count(), 20);
    assert_eq!(
        link(undated, "more-undated").as_deref(),
        Some(format!("/w/{}/posts?state=draft", s.ws).as_str())
    );

    // The same month for one account: its counts, and links that keep the filter.
    let filtered = s
        .client
        .get_text(&format!("/w/{}/calendar?date={date}&account={li}", s.ws))
        .await;
    let cell = day_cell(&filtered, &date);
    let odd = app
        .count(&format!(
            "SELECT COUNT(*) FROM post_targets t JOIN posts p ON p.id = t.post_id WHERE \
             t.account_id = {li} AND p.scheduled_at >= '{}' AND p.scheduled_at < '{}'",
            local(day, 0, 0).unwrap(),
            local(next_day, 0, 0).unwrap()
        ))
        .await;
    assert!(cell.contains(&format!(">{odd} post")), "{cell}");
    assert!(
        cell.contains(&format!("href=\"{day_link}&#38;account={li}\"")),
        "the link to the day keeps the filter: {cell}"
    );

    // The day: every post, by time, with its Move form; and the days around it.
    let page = s
        .client
        .get_text(&format!("/w/{}/calendar?view=day&date={date}", s.ws))
        .await;
    let whole = day_cell(&page, &date);
    let places: Vec<usize> = [&nine, &ten, &eleven, &twelve, &one]
        .iter()
        .map(|b| whole.find(&format!("{b}<")).expect("every post of the day"))
        .collect();
    assert!(places.windows(2).all(|w| w[0] < w[1]), "{whole}");
    assert_eq!(whole.matches("name=\"scheduled_at\"").count(), 5);
    assert!(!page.contains(&format!("data-date=\"{next_date}\"")));
    assert!(page.contains(&format!(
        "view=day&date={}",
        (day - chrono::Duration::days(1)).format("%Y-%m-%d")
    )));
    assert!(page.contains(&format!("view=day&date={next_date}")));
    assert!(page.contains(&day.format("%A %-d %B %Y").to_string()));
}

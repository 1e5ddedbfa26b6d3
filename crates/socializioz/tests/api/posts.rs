//! The composer, the post page, the list, the calendar and campaigns, over HTTP on both
//! databases: what people type is checked, refused input loses nothing and saves nothing.

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

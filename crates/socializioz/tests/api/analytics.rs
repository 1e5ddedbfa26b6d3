//! Analytics through the real adapters against a simulator of the test's own, on both
//! databases: turning it on (owners and admins, on a plan with analytics) asks new connections
//! for the insight permissions and lists the accounts connected without them; each published
//! post's figures and each account's are read back by the planned job and kept as a time
//! series (read again the same day, a figure is corrected, not added); the page shows key
//! figures, charts drawn on the server and the top posts, and each post's page its figures.

use crate::both_backends;
use crate::connect::{at_platform, callback_path, start_platform};
use crate::fixtures::owner_with_workspace;
use crate::helpers::{Backend, Client, TestApp, expect_page, location, spawn_app_with};
use domain::plans::PlanId;
use domain::{Platform, WorkspaceId};
use reqwest::StatusCode;

both_backends!(
    figures_are_read_back_kept_by_day_and_shown,
    analytics_is_a_plan_feature_and_an_owners_switch,
    lifetime_totals_and_day_values_are_never_added,
    x_reads_stop_at_the_monthly_budget,
    the_page_shows_new_figures_and_a_removed_post_goes_at_once,
    each_change_to_an_accounts_state_shows_at_the_next_look,
);

/// An app on a simulator of the test's own, with plans when `plans`.
pub(crate) async fn with_simulator(
    backend: Backend,
    plans: bool,
) -> Option<(TestApp, sim::Simulator, sim::Running)> {
    with_simulator_and(backend, plans, |_| {}).await
}

/// [`with_simulator`], with the settings adjusted.
pub(crate) async fn with_simulator_and(
    backend: Backend,
    plans: bool,
    adjust: impl FnOnce(&mut socializioz::config::Settings),
) -> Option<(TestApp, sim::Simulator, sim::Running)> {
    let simulator = sim::Simulator::new();
    let running = simulator
        .start(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let base = running.base_url.clone();
    let app = spawn_app_with(backend, |s| {
        s.platforms.simulator = Some(base);
        if plans {
            s.billing = Some(Default::default());
        }
        adjust(s);
    })
    .await?;
    Some((app, simulator, running))
}

/// Connects `slug` through its OAuth flow; the scopes asked and the account's id.
pub(crate) async fn connect(app: &TestApp, client: &Client, ws: i64, slug: &str) -> (String, i64) {
    let authorize = start_platform(client, ws, slug).await;
    let scope: String = form_urlencoded::parse(authorize.split_once('?').unwrap().1.as_bytes())
        .find(|(k, _)| k == "scope")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let back = at_platform(&authorize, "allow").await;
    assert_eq!(
        client.get(&callback_path(app, &back)).await.status(),
        StatusCode::SEE_OTHER
    );
    let id = app
        .count(&format!(
            "SELECT id FROM social_accounts WHERE platform = '{slug}' AND workspace_id = {ws}"
        ))
        .await;
    (scope, id)
}

pub(crate) async fn switch(client: &Client, ws: i64, on: bool) -> reqwest::Response {
    client
        .submit(
            &format!("/w/{ws}/analytics/switch"),
            &[("on", if on { "1" } else { "0" })],
        )
        .await
}

/// The stored figure of the post at `target` for `metric`, read on the newest day.
pub(crate) async fn post_figure(app: &TestApp, target: i64, metric: &str) -> i64 {
    app.count(&format!(
        "SELECT value FROM post_metrics WHERE target_id = {target} AND metric = '{metric}' \
         ORDER BY day DESC LIMIT 1"
    ))
    .await
}

/// Makes the post at `target` due again and runs the planned read now.
pub(crate) async fn read_again(app: &TestApp, target: i64) {
    app.exec(&format!(
        "UPDATE post_targets SET metrics_read_at = NULL WHERE id = {target}"
    ))
    .await;
    app.exec(
        "UPDATE jobs SET run_at = created_at WHERE kind = 'read_metrics' AND state = 'queued'",
    )
    .await;
    app.worker().run_until_empty().await.unwrap();
}

/// Publishes `body` now to the account `account` (its only post) and runs the worker until the
/// queue is empty (the publishing, then the first read of its figures): the post's address,
/// its target and the platform's id of it.
async fn publish_and_read(
    app: &TestApp,
    client: &Client,
    ws: i64,
    account: i64,
    body: &str,
) -> (String, i64, String) {
    let res = client
        .submit(
            &format!("/w/{ws}/posts"),
            &[
                ("body", body),
                ("account", &account.to_string()),
                ("action", "now"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let post = location(res.headers());
    app.worker().run_until_empty().await.unwrap();
    let target = app
        .count(&format!(
            "SELECT id FROM post_targets WHERE account_id = {account}"
        ))
        .await;
    let id = app
        .text(&format!(
            "SELECT platform_post_id FROM post_targets WHERE id = {target}"
        ))
        .await;
    (post, target, id)
}

async fn figures_are_read_back_kept_by_day_and_shown(backend: Backend) {
    let Some((app, sim, _running)) = with_simulator(backend, false).await else {
        return;
    };
    let (client, ws) = owner_with_workspace(&app, "ada@example.com").await;
    // Connected before analytics: Instagram's insight permission was not asked.
    let (scope, instagram) = connect(&app, &client, ws, "instagram").await;
    assert!(!scope.contains("insights"), "{scope}");
    let (_, x) = connect(&app, &client, ws, "x").await;

    let off = client.get_text(&format!("/w/{ws}/analytics")).await;
    assert!(off.contains("Analytics is off"), "{off}");
    assert!(off.contains("instagram_business_manage_insights"), "{off}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'read_metrics'")
            .await,
        0
    );
    let res = switch(&client, ws, true).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM activity_log WHERE action = 'analytics.turned_on'")
            .await,
        1
    );
    // Connected now: TikTok is asked for its insight permissions too.
    let (scope, _tiktok) = connect(&app, &client, ws, "tiktok").await;
    assert!(
        scope.contains("user.info.stats") && scope.contains("video.list"),
        "{scope}"
    );
    let page = client.get_text(&format!("/w/{ws}/analytics")).await;
    assert!(page.contains("Connect these accounts again"), "{page}");
    assert!(
        page.contains(
            "Instagram @acme: connected without the permissions reading figures needs; asks for \
             instagram_business_manage_insights"
        ),
        "{page}"
    );

    // A post to X, published; the reads run. Its first look is at once (and finds it new);
    // three hours on, again.
    let (post, target, tweet) =
        publish_and_read(&app, &client, ws, x, "Our spring collection is out").await;
    let reported = |metric: &str| sim.reported(Platform::X, &tweet, metric).unwrap();
    assert_eq!(
        post_figure(&app, target, "views").await,
        reported("impression_count")
    );
    sim.advance_clock(chrono::Duration::hours(3));
    read_again(&app, target).await;
    let views = post_figure(&app, target, "views").await;
    assert_eq!(views, reported("impression_count"));
    assert!(views > 0, "three hours on, the post has been seen");
    assert_eq!(
        post_figure(&app, target, "reactions").await,
        reported("like_count")
    );
    assert_eq!(
        post_figure(&app, target, "x.quotes").await,
        reported("quote_count")
    );
    let x_user = app
        .text(&format!(
            "SELECT external_id FROM social_accounts WHERE id = {x}"
        ))
        .await;
    assert_eq!(
        app.count(&format!(
            "SELECT value FROM account_metrics WHERE account_id = {x} AND metric = 'followers' \
             AND span = 'lifetime'"
        ))
        .await,
        sim.reported(Platform::X, &x_user, "followers_count")
            .unwrap()
    );
    // Nothing is read for the account without the permission.
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM account_metrics WHERE account_id = {instagram}"
        ))
        .await,
        0
    );
    assert!(app.count("SELECT COUNT(*) FROM metric_answers").await > 0);
    // No answer kept holds a token.
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM metric_answers WHERE (body LIKE '%access_token=%' AND body \
             NOT LIKE '%access_token=REDACTED%') OR body LIKE '%Bearer%'"
        )
        .await,
        0
    );

    // Read again (the simulator's clock a day on; the app's still today): the day's row is
    // corrected, never a second one.
    sim.advance_clock(chrono::Duration::hours(27));
    read_again(&app, target).await;
    let later = post_figure(&app, target, "views").await;
    assert_eq!(later, reported("impression_count"));
    assert!(later > views, "{later} after {views}");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM post_metrics WHERE target_id = {target} AND metric = 'views' \
             AND day = (SELECT MAX(day) FROM post_metrics WHERE target_id = {target})"
        ))
        .await,
        1,
        "read again on one day: one row"
    );

    // The page: key figures, charts drawn here, the post among the top posts.
    let page = client.get_text(&format!("/w/{ws}/analytics")).await;
    assert!(page.contains("id=\"key-figures\""), "{page}");
    assert_eq!(
        page.matches("<svg").count(),
        5,
        "followers, engagement, views, by platform, best hours"
    );
    assert!(
        !page.contains("<script src=\"http"),
        "nothing loaded from elsewhere"
    );
    assert!(page.contains("Our spring collection is out"), "{page}");
    assert!(
        page.contains(&domain::plans::thousands(later as u64)),
        "{page}"
    );
    let only_x = client
        .get_text(&format!("/w/{ws}/analytics?days=7&platform=x"))
        .await;
    assert!(
        only_x.contains("aria-current=\"true\">Last 7 days"),
        "{only_x}"
    );
    assert!(only_x.contains("<option value=\"x\" selected>"), "{only_x}");
    // A post whose last read failed is said so, with the reason (written here as such a read
    // writes it, raising the figures version).
    let raise =
        format!("UPDATE workspaces SET figures_version = figures_version + 1 WHERE id = {ws}");
    app.exec(&format!(
        "UPDATE post_targets SET metrics_error = 'X answered 503' WHERE id = {target}"
    ))
    .await;
    app.exec(&raise).await;
    let page = client.get_text(&format!("/w/{ws}/analytics")).await;
    assert!(
        page.contains("1 post could not be read the last time (X answered 503)"),
        "{page}"
    );
    app.exec(&format!(
        "UPDATE post_targets SET metrics_error = NULL WHERE id = {target}"
    ))
    .await;
    app.exec(&raise).await;
    // The post's page.
    let shown = client.get_text(&post).await;
    assert!(shown.contains("Performance"), "{shown}");
    assert!(shown.contains(&domain::plans::thousands(later as u64)));

    // The exports: streamed CSV with a byte order mark, one row per figure; a text a
    // spreadsheet would run as a formula is kept as text.
    let res = client
        .submit(
            &format!("/w/{ws}/posts"),
            &[
                ("body", "=1+2, and a \"quote\""),
                ("account", &x.to_string()),
                ("action", "now"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    app.worker().run_until_empty().await.unwrap();
    let res = client
        .get(&format!("/w/{ws}/analytics/posts.csv?days=7"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["content-type"].to_str().unwrap(),
        "text/csv; charset=utf-8"
    );
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"analytics-posts-")
    );
    let csv = res.text().await.unwrap();
    assert!(csv.starts_with(
        "\u{feff}read_on,post_id,published_at,platform,account,link,text,metric,value\r\n"
    ));
    assert!(
        csv.lines()
            .any(|l| l.contains(",X,acme,") && l.ends_with(&format!(",views,{later}"))),
        "{csv}"
    );
    assert!(
        csv.contains(",\"'=1+2, and a \"\"quote\"\"\",views,"),
        "{csv}"
    );
    // Every row in the same shape on both databases: the day, the post, its publishing time in
    // UTC to the second.
    let stamp = |cell: &str| {
        cell.len() == 20
            && cell.as_bytes()[10] == b'T'
            && cell.ends_with('Z')
            && chrono::DateTime::parse_from_rfc3339(cell).is_ok()
    };
    for line in csv.lines().skip(1) {
        let cells: Vec<&str> = line.splitn(4, ',').collect();
        assert!(
            chrono::NaiveDate::parse_from_str(cells[0], "%Y-%m-%d").is_ok()
                && cells[1].parse::<i64>().is_ok()
                && stamp(cells[2]),
            "{line}"
        );
    }
    let accounts_csv = client
        .get_text(&format!("/w/{ws}/analytics/accounts.csv"))
        .await;
    assert!(accounts_csv.starts_with("\u{feff}day,platform,account,metric,kind,value,read_at\r\n"));
    assert!(
        accounts_csv.contains(",X,acme,followers,lifetime,"),
        "{accounts_csv}"
    );
    for line in accounts_csv.lines().skip(1) {
        assert!(stamp(line.rsplit(',').next().unwrap_or_default()), "{line}");
    }

    // Off: the reads are withdrawn, the figures kept.
    let res = switch(&client, ws, false).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'read_metrics' AND state = 'queued'")
            .await,
        0
    );
    assert!(app.count("SELECT COUNT(*) FROM post_metrics").await > 0);
}

async fn analytics_is_a_plan_feature_and_an_owners_switch(backend: Backend) {
    let Some((app, _sim, _running)) = with_simulator(backend, true).await else {
        return;
    };
    let owner = app.verified_user("Ada Lovelace", "ada@example.com").await;
    let member = app.verified_user("Grace Hopper", "grace@example.com").await;
    let ws = owner.new_workspace("Acme").await;
    // The Free plan: the page names the plan that has analytics, and nothing can turn it on.
    let res = owner.get(&format!("/w/{ws}/analytics")).await;
    let refused = expect_page(res, StatusCode::PAYMENT_REQUIRED, "Analytics").await;
    assert!(refused.contains("Professional"), "{refused}");
    let res = owner.get(&format!("/w/{ws}/analytics/posts.csv")).await;
    expect_page(res, StatusCode::PAYMENT_REQUIRED, "Professional").await;
    let res = owner.get(&format!("/w/{ws}/analytics/report.pdf")).await;
    expect_page(res, StatusCode::PAYMENT_REQUIRED, "Professional").await;
    let res = owner
        .submit(&format!("/w/{ws}/analytics/weekly"), &[("on", "1")])
        .await;
    expect_page(res, StatusCode::PAYMENT_REQUIRED, "Professional").await;
    let res = switch(&owner, ws, true).await;
    assert_ne!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.text(&format!(
            "SELECT COALESCE(CAST(analytics_on_at AS TEXT), 'off') FROM workspaces WHERE id = {ws}"
        ))
        .await,
        "off"
    );
    app.services
        .set_plan(WorkspaceId(ws), PlanId::Professional)
        .await
        .unwrap();
    // A member reads the page but does not switch it.
    let res = owner
        .submit(
            &format!("/w/{ws}/invitations"),
            &[("email", "grace@example.com"), ("role", "editor")],
        )
        .await;
    let status = res.status();
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "{}",
        res.text().await.unwrap()
    );
    let link = app
        .last_mail_to("grace@example.com")
        .await
        .link(&app.address, "/invitations/");
    member.accept(&link).await;
    let page = member.get_text(&format!("/w/{ws}/analytics")).await;
    assert!(page.contains("An owner or admin of this workspace can turn it on"));
    let res = switch(&member, ws, true).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = switch(&owner, ws, true).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = member.get_text(&format!("/w/{ws}/analytics")).await;
    assert!(page.contains("id=\"key-figures\""), "{page}");
}

/// Figures stored by hand: followers (a lifetime count) and new followers and views (day
/// values) of one account, and the old follower count of an account no longer read.
async fn lifetime_totals_and_day_values_are_never_added(backend: Backend) {
    let Some(app) = crate::helpers::spawn_app(backend).await else {
        return;
    };
    let (client, ws) = owner_with_workspace(&app, "ada@example.com").await;
    let shop = app.connect_account(ws, Platform::Instagram, "shop").await;
    let old = app.connect_account(ws, Platform::X, "old").await;
    assert_eq!(
        switch(&client, ws, true).await.status(),
        StatusCode::SEE_OTHER
    );
    let today = chrono::Utc::now().date_naive();
    let day = |n: i64| today - chrono::Duration::days(n);
    let put = |account: i64, metric: &str, span: &str, on: chrono::NaiveDate, value: i64| {
        format!(
            "INSERT INTO account_metrics (workspace_id, account_id, metric, span, day, value, \
             read_at) VALUES ({ws}, {account}, '{metric}', '{span}', '{on}', {value}, \
             CURRENT_TIMESTAMP)"
        )
    };
    for sql in [
        put(shop, "followers", "lifetime", day(2), 1000),
        put(shop, "follows", "day", day(2), 5),
        put(shop, "follows", "day", day(1), 7),
        put(shop, "views", "day", day(2), 100),
        put(shop, "views", "day", day(1), 150),
        // Read three weeks ago and not since: no longer counted.
        put(old, "followers", "lifetime", day(21), 400),
    ] {
        app.exec(&sql).await;
    }
    let page = client.get_text(&format!("/w/{ws}/analytics?days=7")).await;
    let figure = |label: &str| {
        let marker =
            format!("<span class=\"figure-label\">{label}</span> <strong class=\"figure-value\">");
        let at = page
            .find(&marker)
            .unwrap_or_else(|| panic!("{label}: {page}"))
            + marker.len();
        page[at..at + page[at..].find('<').unwrap()].to_owned()
    };
    assert_eq!(
        figure("Followers"),
        "1,000",
        "the last count, not added to new followers"
    );
    assert_eq!(figure("New followers"), "12");
    assert_eq!(figure("Views"), "250");
}

/// X bills every read: a workspace reads no more X posts and profiles a month than the budget.
async fn x_reads_stop_at_the_monthly_budget(backend: Backend) {
    let Some((app, sim, _running)) =
        with_simulator_and(backend, false, |s| s.analytics.x_reads_per_month = 2).await
    else {
        return;
    };
    let (client, ws) = owner_with_workspace(&app, "ada@example.com").await;
    let (_, x) = connect(&app, &client, ws, "x").await;
    assert_eq!(
        switch(&client, ws, true).await.status(),
        StatusCode::SEE_OTHER
    );
    for body in ["First", "Second", "Third"] {
        let res = client
            .submit(
                &format!("/w/{ws}/posts"),
                &[
                    ("body", body),
                    ("account", &x.to_string()),
                    ("action", "now"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
    app.worker().run_until_empty().await.unwrap();
    assert_eq!(sim.posts().len(), 3);
    // The profile and one post: two reads, then nothing more this month.
    let read: Vec<String> = sim
        .posts()
        .iter()
        .filter(|p| {
            sim.reported(Platform::X, &p.id, "impression_count")
                .is_some()
        })
        .map(|p| p.text.clone())
        .collect();
    assert_eq!(read.len(), 1, "{read:?}");
    assert_eq!(
        app.count("SELECT CAST(SUM(count) AS BIGINT) FROM plan_usage WHERE counter = 'x_reads'")
            .await,
        2
    );
    app.exec("UPDATE post_targets SET metrics_read_at = NULL")
        .await;
    app.exec(
        "UPDATE jobs SET run_at = created_at WHERE kind = 'read_metrics' AND state = 'queued'",
    )
    .await;
    app.worker().run_until_empty().await.unwrap();
    assert_eq!(
        app.count("SELECT CAST(SUM(count) AS BIGINT) FROM plan_usage WHERE counter = 'x_reads'")
            .await,
        2,
        "nothing more is read"
    );
    let page = client.get_text(&format!("/w/{ws}/analytics")).await;
    assert!(page.contains("X reads this month: 2 of 2"), "{page}");
}

/// The page's figures are kept between looks (`services::analytics::kept`); new figures read,
/// and a post removed, show at the next look all the same.
async fn the_page_shows_new_figures_and_a_removed_post_goes_at_once(backend: Backend) {
    let Some((app, sim, _running)) = with_simulator(backend, false).await else {
        return;
    };
    let (client, ws) = owner_with_workspace(&app, "ada@example.com").await;
    assert_eq!(
        switch(&client, ws, true).await.status(),
        StatusCode::SEE_OTHER
    );
    let (_, x) = connect(&app, &client, ws, "x").await;
    let (post, target, tweet) =
        publish_and_read(&app, &client, ws, x, "A post soon taken down").await;
    let first = client.get_text(&format!("/w/{ws}/analytics")).await;
    assert!(first.contains("A post soon taken down"), "{first}");

    // A campaign made: in the filter at the next look.
    let res = client
        .submit(
            &format!("/w/{ws}/campaigns"),
            &[
                ("name", "Autumn"),
                ("colour", services::campaigns::COLOURS[0].0),
                ("currency", "EUR"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(!first.contains(">Autumn</option>"), "{first}");
    let page = client.get_text(&format!("/w/{ws}/analytics")).await;
    assert!(page.contains(">Autumn</option>"), "{page}");
    let first = page;
    let version = format!("SELECT figures_version FROM workspaces WHERE id = {ws}");
    let before = app.count(&version).await;

    // Read again later: the page shows the new figures at once.
    sim.advance_clock(chrono::Duration::hours(30));
    read_again(&app, target).await;
    assert!(
        app.count(&version).await > before,
        "the read raised the version"
    );
    let views = post_figure(&app, target, "views").await;
    assert_eq!(
        views,
        sim.reported(Platform::X, &tweet, "impression_count")
            .unwrap()
    );
    let page = client.get_text(&format!("/w/{ws}/analytics")).await;
    let cell = format!("<td>{}</td>", domain::plans::thousands(views as u64));
    assert!(!first.contains(&cell), "new figures: {cell} in {first}");
    assert!(page.contains(&cell), "{cell} in {page}");

    // Deleted: gone from the page at the next look.
    let ask = format!("{post}/delete");
    let res = client.submit(&ask, &[("confirm", "yes")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM post_targets WHERE id = {target}"
        ))
        .await,
        0
    );
    let page = client.get_text(&format!("/w/{ws}/analytics")).await;
    assert!(!page.contains("A post soon taken down"), "{page}");

    // The owner deletes their account, and the workspace with it: its analytics go at once,
    // the views this process kept of it too.
    assert!(app.services.kept_views.holds(ws), "the last look was kept");
    let res = client.delete_own_account("ada@example.com").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM workspaces WHERE id = {ws}"))
            .await,
        0
    );
    assert!(
        !app.services.kept_views.holds(ws),
        "a deleted workspace's views are kept"
    );
}

/// Makes the queued job `kind` of account `account` due now.
pub(crate) async fn due_now(app: &TestApp, kind: &str, account: i64) {
    let ran = app
        .count(&format!(
            "SELECT COUNT(*) FROM jobs WHERE kind = '{kind}' AND state = 'queued' AND payload = \
             '{{\"account\":{account}}}'"
        ))
        .await;
    assert_eq!(ran, 1, "one {kind} job of account {account} is queued");
    app.exec(&format!(
        "UPDATE jobs SET run_at = created_at WHERE kind = '{kind}' AND state = 'queued' AND \
         payload = '{{\"account\":{account}}}'"
    ))
    .await;
}

/// The accounts' state is kept between looks with the figures (`services::analytics::kept`):
/// each kind of change to it shows at the next look all the same. Each step runs only the job
/// it is about, so no other change raises the version for it.
async fn each_change_to_an_accounts_state_shows_at_the_next_look(backend: Backend) {
    let Some((app, sim, _running)) = with_simulator(backend, false).await else {
        return;
    };
    let (client, ws) = owner_with_workspace(&app, "ada@example.com").await;
    // Instagram connected before analytics: without the insight permission.
    let (_, instagram) = connect(&app, &client, ws, "instagram").await;
    let (_, x) = connect(&app, &client, ws, "x").await;
    assert_eq!(
        switch(&client, ws, true).await.status(),
        StatusCode::SEE_OTHER
    );
    app.worker().run_until_empty().await.unwrap();
    let analytics = format!("/w/{ws}/analytics");
    let look = || client.get_text(&analytics);
    let without = "Instagram @acme: connected without the permissions";
    let page = look().await;
    assert!(page.contains(without), "{page}");
    let row = {
        use sea_orm::EntityTrait;
        store::entities::workspace::Entity::find_by_id(ws)
            .one(&app.services.db)
            .await
            .unwrap()
            .unwrap()
    };
    let key = services::analytics::kept::FiguresKey::of(&row);
    assert!(
        app.services.kept_views.accounts.get(&key).is_some(),
        "the accounts' state is kept"
    );

    // Connected again with the permission (its tokens stored anew).
    connect(&app, &client, ws, "instagram").await;
    let page = look().await;
    assert!(!page.contains(without), "{page}");
    assert!(page.contains("Instagram @acme"), "{page}");
    // Its first read with the permission, and a look after it.
    app.worker().run_until_empty().await.unwrap();
    let page = look().await;
    assert!(!page.contains("X @acme_studio"), "{page}");

    // X's profile read again: the person took another name there.
    sim.rename(Platform::X, "acme", "acme_studio");
    due_now(&app, "refresh_profile", x).await;
    app.worker().run_until_empty().await.unwrap();
    let page = look().await;
    assert!(page.contains("X @acme_studio"), "{page}");

    // A read of Instagram's figures stops at a rate limit (its days last read long ago, so
    // that this read asks for them).
    app.exec(&format!(
        "UPDATE social_accounts SET metrics_read_at = '2000-01-01 00:00:00+00:00' WHERE id = \
         {instagram}"
    ))
    .await;
    sim.inject(
        Platform::Instagram,
        sim::Op::Metrics,
        sim::Fault::RateLimited {
            retry_after: std::time::Duration::from_secs(600),
        },
    );
    due_now(&app, "read_metrics", instagram).await;
    app.worker().run_until_empty().await.unwrap();
    let page = look().await;
    assert!(page.contains("the last read stopped"), "{page}");

    // X's authorisation is withdrawn there: the next refresh is refused.
    sim.withdraw_all(Platform::X);
    due_now(&app, "refresh_tokens", x).await;
    app.worker().run_until_empty().await.unwrap();
    assert_eq!(
        app.text(&format!(
            "SELECT status FROM social_accounts WHERE id = {x}"
        ))
        .await,
        "reconnect_needed"
    );
    let page = look().await;
    assert!(
        page.contains("its authorisation lapsed or was withdrawn at X"),
        "{page}"
    );

    // Instagram disconnected: no longer among the accounts read.
    assert_eq!(
        client.disconnect(ws, instagram).await.status(),
        StatusCode::SEE_OTHER
    );
    let page = look().await;
    assert!(!page.contains("Instagram @acme"), "{page}");
    assert!(page.contains("X @acme_studio"), "{page}");
}

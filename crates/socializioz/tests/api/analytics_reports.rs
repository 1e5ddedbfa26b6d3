//! What analytics makes of its figures, on both databases: periods a person picks (and the
//! message for one that cannot be shown), filters by account, the PDF report that says what
//! the page says, a campaign's returns from what was measured and what was entered, the UTM
//! parameters its links are published with, and the weekly report by e-mail.

use crate::analytics::{
    connect, due_now, post_figure, read_again, switch, with_simulator, with_simulator_and,
};
use crate::both_backends;
use crate::connect::{at_platform, callback_path, start_platform};
use crate::fixtures::owner_with_workspace;
use crate::helpers::{Backend, Client, TestApp, location};
use domain::plans::PlanId;
use domain::{Platform, WorkspaceId};
use reqwest::StatusCode;

both_backends!(
    periods_filters_and_a_pdf_report_that_says_what_the_page_says,
    a_campaign_reports_its_returns_and_tags_its_links,
    the_weekly_report_goes_once_a_week_to_those_who_asked,
    a_long_export_comes_whole_and_in_order,
    an_account_that_cannot_be_read_is_said_so,
);

/// An app on a simulator of its own (no plans) and a workspace of Ada's with analytics on.
async fn on(backend: Backend) -> Option<(TestApp, sim::Simulator, sim::Running, Client, i64)> {
    let (app, sim, running) = with_simulator(backend, false).await?;
    let (client, ws) = owner_with_workspace(&app, "ada@example.com").await;
    assert_eq!(
        switch(&client, ws, true).await.status(),
        StatusCode::SEE_OTHER
    );
    Some((app, sim, running, client, ws))
}

/// The key figures of an analytics page, as shown.
fn key_figures(page: &str) -> Vec<String> {
    page.split("<strong class=\"figure-value\">")
        .skip(1)
        .filter_map(|rest| rest.split_once("</strong>").map(|(v, _)| v.to_owned()))
        .collect()
}

/// Publishes `body` to `account` now and runs the queue (the post's first read included).
async fn publish(
    app: &TestApp,
    client: &Client,
    ws: i64,
    account: i64,
    body: &str,
    extra: &[(&str, &str)],
) -> String {
    let account = account.to_string();
    let mut fields = vec![
        ("body", body),
        ("account", account.as_str()),
        ("action", "now"),
    ];
    fields.extend_from_slice(extra);
    let res = client.submit(&format!("/w/{ws}/posts"), &fields).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    app.worker().run_until_empty().await.unwrap();
    location(res.headers())
}

async fn periods_filters_and_a_pdf_report_that_says_what_the_page_says(backend: Backend) {
    let Some((app, sim, _running, client, ws)) = on(backend).await else {
        return;
    };
    let (_, x) = connect(&app, &client, ws, "x").await;
    let (_, tiktok) = connect(&app, &client, ws, "tiktok").await;
    publish(
        &app,
        &client,
        ws,
        x,
        "Ζωή's reading list for the winter",
        &[],
    )
    .await;
    let target = app
        .count(&format!(
            "SELECT id FROM post_targets WHERE account_id = {x}"
        ))
        .await;
    sim.advance_clock(chrono::Duration::hours(5));
    read_again(&app, target).await;
    let views = post_figure(&app, target, "views").await;
    assert!(views > 0);

    // Periods that cannot be shown get a message, and no figures.
    let today = services::now().date_naive();
    let day = |n: i64| (today - chrono::Duration::days(n)).to_string();
    let tomorrow = (today + chrono::Duration::days(1)).to_string();
    for (from, to, message) in [
        (day(1), day(5), "The period ends before it starts"),
        (
            day(400),
            day(0),
            "A period can be at most 366 days long; this one has 401.",
        ),
        (day(3), String::new(), "Give the end of the period too"),
        (
            "2026-02-30".to_owned(),
            day(0),
            "The start of the period is not a date",
        ),
        (
            tomorrow.clone(),
            tomorrow.clone(),
            "The period starts after today",
        ),
        (
            "1999-12-31".to_owned(),
            "2000-01-05".to_owned(),
            "The period starts before 1 January 2000",
        ),
        (
            "-262143-01-01".to_owned(),
            "-262143-01-02".to_owned(),
            "The period starts before 1 January 2000",
        ),
    ] {
        let res = client
            .get(&format!("/w/{ws}/analytics?from={from}&to={to}"))
            .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{from}..{to}");
        let page = res.text().await.unwrap();
        assert!(page.contains(message), "{message}: {page}");
        assert!(!page.contains("id=\"key-figures\""), "{page}");
        let csv = client
            .get(&format!("/w/{ws}/analytics/posts.csv?from={from}&to={to}"))
            .await;
        assert_eq!(csv.status(), StatusCode::BAD_REQUEST);
        let pdf = client
            .get(&format!("/w/{ws}/analytics/report.pdf?from={from}&to={to}"))
            .await;
        assert_eq!(pdf.status(), StatusCode::BAD_REQUEST);
    }

    // A period picked by its dates.
    let (from, to) = (day(6), day(0));
    let page = client
        .get_text(&format!("/w/{ws}/analytics?from={from}&to={to}"))
        .await;
    assert!(page.contains("aria-current=\"true\">Last 7 days"), "{page}");
    assert!(page.contains("s reading list for the winter"), "{page}");
    // One account: the other's has no posts.
    let only_tiktok = client
        .get_text(&format!(
            "/w/{ws}/analytics?from={from}&to={to}&account={tiktok}"
        ))
        .await;
    assert!(
        only_tiktok.contains("No post published in this period has figures yet."),
        "{only_tiktok}"
    );

    // Best hours are the viewer's (Europe/Berlin): a post published at 06:10 UTC counts for
    // 07:00 in winter, 08:00 in summer.
    {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let at = today.and_hms_opt(6, 10, 0).unwrap().and_utc();
        store::entities::post_target::Entity::update_many()
            .col_expr(
                store::entities::post_target::Column::PublishedAt,
                sea_orm::sea_query::Expr::value(at),
            )
            .filter(store::entities::post_target::Column::Id.eq(target))
            .exec(&app.services.db)
            .await
            .unwrap();
    }
    // No path of the product moves a published time; the change is announced as the product's
    // own changes to the figures are (the page keeps its views until then).
    app.exec(&format!(
        "UPDATE workspaces SET figures_version = figures_version + 1 WHERE id = {ws}"
    ))
    .await;
    let hours = client
        .get_text(&format!("/w/{ws}/analytics?from={from}&to={to}"))
        .await;
    let table = hours.split("id=\"chart-hours\"").nth(1).unwrap_or_default();
    let local = {
        use chrono::Timelike;
        today
            .and_hms_opt(6, 10, 0)
            .unwrap()
            .and_utc()
            .with_timezone(&domain::Timezone::stored("Europe/Berlin").tz())
            .hour()
    };
    assert!(
        table.contains(&format!("<td>{local:02}:00</td><td>"))
            && table.matches("(1 post)").count() == 1,
        "{table}"
    );
    assert!(table.contains("Europe/Berlin"), "{table}");

    // The PDF report of the same view says what the page says.
    let figures = key_figures(&page);
    assert_eq!(figures.len(), 5, "{page}");
    assert!(
        figures.contains(&domain::plans::thousands(views as u64))
            || page.contains(&domain::plans::thousands(views as u64))
    );
    let res = client
        .get(&format!("/w/{ws}/analytics/report.pdf?from={from}&to={to}"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with(&format!(
                "attachment; filename=\"analytics-report-{from}-to-{to}.pdf"
            ))
    );
    let pdf = res.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let Some(text) = crate::billing::pdf_text(&pdf) else {
        return;
    };
    let name = app
        .text(&format!("SELECT name FROM workspaces WHERE id = {ws}"))
        .await;
    assert!(text.contains(&name), "{text}");
    for figure in &figures {
        assert!(
            text.contains(figure.as_str()),
            "{figure} is on the page but not in: {text}"
        );
    }
    let period = page
        .split("<section class=\"card\" id=\"key-figures\">\n  <h2>")
        .nth(1)
        .and_then(|r| r.split_once("</h2>"))
        .map(|(p, _)| p.to_owned())
        .unwrap();
    assert!(text.contains(&period), "{period}: {text}");
    assert!(text.contains("reading list for the winter"), "{text}");
    assert!(
        text.contains(&domain::plans::thousands(views as u64)),
        "{text}"
    );
    assert!(text.contains("Page 1 of"), "{text}");
}

/// Connects the first Facebook Page the simulator's login offers; its account id.
async fn connect_page(app: &TestApp, client: &Client, ws: i64) -> i64 {
    let authorize = start_platform(client, ws, "facebook").await;
    let back = at_platform(&authorize, "allow").await;
    let page = client
        .get(&callback_path(app, &back))
        .await
        .text()
        .await
        .unwrap();
    let choice = crate::sandbox::input_values(&page, "choice_state");
    let pages = crate::sandbox::input_values(&page, "account");
    let res = crate::sandbox::choose(client, &choice[0], &pages[..1]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    app.count(&format!(
        "SELECT id FROM social_accounts WHERE workspace_id = {ws} AND platform = 'facebook'"
    ))
    .await
}

async fn a_campaign_reports_its_returns_and_tags_its_links(backend: Backend) {
    let Some((app, sim, _running)) = with_simulator(backend, true).await else {
        return;
    };
    let (client, ws) = owner_with_workspace(&app, "ada@example.com").await;
    app.services
        .set_plan(WorkspaceId(ws), PlanId::Professional)
        .await
        .unwrap();
    assert_eq!(
        switch(&client, ws, true).await.status(),
        StatusCode::SEE_OTHER
    );
    let page_account = connect_page(&app, &client, ws).await;

    let form = |spend: &'static str| {
        vec![
            ("name", "Spring"),
            ("colour", services::campaigns::COLOURS[0].0),
            ("spend", spend),
            ("currency", "EUR"),
            ("click_value", "0.50"),
            ("conversions", "3"),
            ("conversion_value", "20"),
            ("utm_campaign", "Spring Sale"),
        ]
    };
    // An amount that could be read two ways is refused, nothing is saved.
    let res = client
        .submit(&format!("/w/{ws}/campaigns"), &form("19,99"))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Enter an amount such as 1250")
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM campaigns").await, 0);
    let res = client
        .submit(&format!("/w/{ws}/campaigns"), &form("1,000"))
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let campaign_page = location(res.headers());
    let campaign = app.count("SELECT id FROM campaigns").await;
    assert_eq!(
        app.count("SELECT spend_cents FROM campaigns").await,
        100_000
    );

    // Its post's link goes out tagged with the platform and the campaign.
    let campaign_field = campaign.to_string();
    publish(
        &app,
        &client,
        ws,
        page_account,
        "Spring is here: https://shop.example/spring.",
        &[("campaign", campaign_field.as_str())],
    )
    .await;
    let published: Vec<String> = sim
        .posts()
        .into_iter()
        .filter(|p| p.platform == Platform::Facebook)
        .map(|p| p.text)
        .collect();
    assert_eq!(
        published,
        [
            "Spring is here: https://shop.example/spring?utm_source=facebook&utm_medium=social&utm_campaign=spring-sale."
        ]
    );
    // Stored as written: the tags are added for each platform as it is published.
    assert_eq!(
        app.text("SELECT body FROM posts").await,
        "Spring is here: https://shop.example/spring."
    );

    // Read a day on: the campaign's page sets what was measured against what was entered.
    let target = app.count("SELECT id FROM post_targets").await;
    sim.advance_clock(chrono::Duration::hours(26));
    read_again(&app, target).await;
    let clicks = post_figure(&app, target, "clicks").await;
    assert!(clicks > 0, "a day on, the link has been clicked");
    let shown = client.get_text(&campaign_page).await;
    assert!(shown.contains("id=\"campaign-results\""), "{shown}");
    let thousands = |n: i64| domain::plans::thousands(n as u64);
    assert!(
        shown.contains(&format!(
            "<th scope=\"row\">Link clicks</th><td>{}</td>",
            thousands(clicks)
        )),
        "{shown}"
    );
    assert!(
        shown.contains("<th scope=\"row\">Spend</th><td>€1,000.00</td>"),
        "{shown}"
    );
    let per_click = domain::campaign::money((100_000.0 / clicks as f64).round() as i64, "EUR");
    assert!(
        shown.contains(&format!(
            "<th scope=\"row\">Cost per click</th><td>{per_click}</td>"
        )),
        "{shown}"
    );
    let value = clicks * 50 + 3 * 2_000;
    assert!(
        shown.contains(&format!(
            "<th scope=\"row\">Value</th><td>{}</td>",
            domain::campaign::money(value, "EUR")
        )),
        "{shown}"
    );
    assert!(
        shown.contains(&format!("{:.2}×", value as f64 / 100_000.0)),
        "{shown}"
    );
    assert!(
        shown.contains("Link clicks as reported by Facebook."),
        "{shown}"
    );
    assert!(
        shown.contains("https://example.com/page?utm_source=instagram&")
            && shown.contains("utm_campaign=spring-sale</code>"),
        "{shown}"
    );
    // The posts' CSV of the campaign holds its post; of another campaign, nothing.
    let csv = client
        .get_text(&format!("/w/{ws}/analytics/posts.csv?campaign={campaign}"))
        .await;
    assert!(csv.contains(",clicks,"), "{csv}");
    let none = client
        .get_text(&format!(
            "/w/{ws}/analytics/posts.csv?campaign={}",
            campaign + 1
        ))
        .await;
    assert_eq!(none.lines().count(), 1, "only the header: {none}");
    // A second campaign with two posts of its own (read at once, so still without clicks),
    // after a look that kept the campaigns' results: they show at the next look.
    let before = client.get_text(&format!("/w/{ws}/analytics")).await;
    assert!(
        before.contains("<th scope=\"row\">Spring</th><td>1</td>"),
        "{before}"
    );
    assert!(
        !before.contains("<th scope=\"row\">Autumn</th>"),
        "{before}"
    );
    let res = client
        .submit(
            &format!("/w/{ws}/campaigns"),
            &[
                ("name", "Autumn"),
                ("colour", services::campaigns::COLOURS[1].0),
                ("currency", "EUR"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let autumn = app
        .count("SELECT id FROM campaigns WHERE name = 'Autumn'")
        .await
        .to_string();
    for body in ["Autumn is here.", "Autumn is still here."] {
        publish(
            &app,
            &client,
            ws,
            page_account,
            body,
            &[("campaign", &autumn)],
        )
        .await;
    }
    // The analytics page's campaign table says the same, each campaign with its own posts.
    let analytics = client.get_text(&format!("/w/{ws}/analytics")).await;
    assert!(analytics.contains("id=\"campaign-table\""), "{analytics}");
    assert!(analytics.contains(&per_click), "{analytics}");
    assert!(
        analytics.contains("<th scope=\"row\">Autumn</th><td>2</td>"),
        "{analytics}"
    );
    assert!(
        analytics.contains("<th scope=\"row\">Spring</th><td>1</td>"),
        "{analytics}"
    );

    // On a plan without ROI reporting, the page says which plan has it.
    app.services
        .set_plan(WorkspaceId(ws), PlanId::Starter)
        .await
        .unwrap();
    let shown = client.get_text(&campaign_page).await;
    assert!(!shown.contains("Cost per click"), "{shown}");
    assert!(shown.contains("Professional"), "{shown}");
}

async fn the_weekly_report_goes_once_a_week_to_those_who_asked(backend: Backend) {
    // Plans are sold, and Starter has analytics without its exports.
    let Some((app, _sim, _running)) = with_simulator_and(backend, true, |s| {
        let starter = socializioz::config::billing::PlanOverride {
            features: Some(vec!["scheduling".into(), "analytics".into()]),
            ..Default::default()
        };
        if let Some(billing) = s.billing.as_mut() {
            billing.plans.insert("starter".into(), starter);
        }
    })
    .await
    else {
        return;
    };
    let (client, ws) = owner_with_workspace(&app, "ada@example.com").await;
    app.services
        .set_plan(WorkspaceId(ws), PlanId::Professional)
        .await
        .unwrap();
    let other = app.verified_user("Grace", "grace@example.com").await;
    app.join(&client, ws, "grace@example.com", "viewer", &other)
        .await;
    assert_eq!(
        switch(&client, ws, true).await.status(),
        StatusCode::SEE_OTHER
    );
    let (_, x) = connect(&app, &client, ws, "x").await;
    publish(&app, &client, ws, x, "A week of baking", &[]).await;

    let res = client
        .submit(&format!("/w/{ws}/analytics/weekly"), &[("on", "1")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = client.get_text(&format!("/w/{ws}/analytics")).await;
    assert!(page.contains("id=\"weekly-report-off\""), "{page}");
    let now = services::now() + chrono::Duration::days(1);
    assert_eq!(app.services.send_weekly_reports(now).await.unwrap(), 1);
    // The queued e-mail holds the PDF until it is sent, and not after.
    let holding = "SELECT COUNT(*) FROM jobs WHERE kind = 'send_email' \
                   AND payload LIKE '%\"attachments\"%'";
    assert_eq!(app.count(holding).await, 1);
    let mail = app.last_mail_to("ada@example.com").await;
    assert_eq!(app.count(holding).await, 0);
    let today = now.date_naive();
    let (from, to) = (
        today - chrono::Duration::days(7),
        today - chrono::Duration::days(1),
    );
    let period = format!("{} to {}", from.format("%-d %b"), to.format("%-d %b %Y"));
    assert_eq!(mail.subject, format!("Acme: analytics for {period}"));
    assert!(mail.body.contains("Followers: "), "{}", mail.body);
    assert!(mail.body.contains("A week of baking"), "{}", mail.body);
    assert!(
        mail.body.contains(&format!(
            "is attached as a PDF, and here:\n{}/w/{ws}/analytics/report.pdf?from={from}&to={to}\n",
            app.address
        )),
        "{}",
        mail.body
    );
    // On Professional the report goes along as a PDF of the same week.
    assert_eq!(mail.attachments.len(), 1, "{:?}", mail.attachments);
    let pdf = &mail.attachments[0];
    assert_eq!(pdf.name, format!("analytics-{ws}-{from}-{to}.pdf"));
    assert_eq!(pdf.content_type, "application/pdf");
    assert!(pdf.bytes.starts_with(b"%PDF-"), "{pdf:?}");
    if let Some(text) = crate::billing::pdf_text(&pdf.bytes) {
        assert!(text.contains("Analytics report"), "{text}");
        assert!(text.contains("Acme"), "{text}");
        assert!(text.contains(&period), "{text}");
        assert!(text.contains("A week of baking"), "{text}");
    }
    assert!(
        !app.mails()
            .await
            .iter()
            .any(|m| m.to == "grace@example.com" && m.subject.contains("analytics for")),
        "only who asked"
    );
    // Not again within the week; again a week on.
    assert_eq!(app.services.send_weekly_reports(now).await.unwrap(), 0);
    assert_eq!(
        app.services
            .send_weekly_reports(now + chrono::Duration::days(6))
            .await
            .unwrap(),
        0
    );
    // A week on, on a plan with analytics but without its exports: the figures, no PDF.
    app.services
        .set_plan(WorkspaceId(ws), PlanId::Starter)
        .await
        .unwrap();
    assert_eq!(
        app.services
            .send_weekly_reports(now + chrono::Duration::days(7))
            .await
            .unwrap(),
        1
    );
    let mail = app.last_mail_to("ada@example.com").await;
    assert!(mail.subject.contains("analytics for"), "{}", mail.subject);
    assert!(mail.body.contains("Followers: "), "{}", mail.body);
    assert!(mail.attachments.is_empty(), "{:?}", mail.attachments);
    assert!(!mail.body.contains("report.pdf"), "{}", mail.body);
    // Stopped: none.
    let res = client
        .submit(&format!("/w/{ws}/analytics/weekly"), &[("on", "0")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.services
            .send_weekly_reports(now + chrono::Duration::days(30))
            .await
            .unwrap(),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_and_its_charts_in_the_browser() {
    let Some((app, sim, _running, client, ws)) = on(Backend::Sqlite).await else {
        return;
    };
    let (_, x) = connect(&app, &client, ws, "x").await;
    let (_, linkedin) = connect(&app, &client, ws, "linkedin").await;
    publish(&app, &client, ws, x, "Bread, baked at dawn", &[]).await;
    publish(&app, &client, ws, linkedin, "Watch the dough rise", &[]).await;
    sim.advance_clock(chrono::Duration::hours(5));
    for target in [
        app.count(&format!(
            "SELECT id FROM post_targets WHERE account_id = {x}"
        ))
        .await,
        app.count(&format!(
            "SELECT id FROM post_targets WHERE account_id = {linkedin}"
        ))
        .await,
    ] {
        read_again(&app, target).await;
    }
    crate::browser::run_in(app, "analytics", true, async |b, app| {
        let base = &app.address;
        b.log_in(base, "ada@example.com", "Acme").await?;
        b.click(&format!("a[href='/w/{ws}/analytics']")).await?;
        b.wait_for_heading("Analytics").await?;
        // Each chart is drawn on the page, at a size one can read.
        for id in ["followers", "engagement", "views", "platforms", "hours"] {
            let drawn = b
                .eval(&format!(
                    "const svg = document.querySelector('#chart-{id} svg'); \
                     return svg !== null && svg.getBoundingClientRect().width > 200 \
                     && svg.querySelectorAll('line, polyline, circle, rect').length > 0"
                ))
                .await?;
            anyhow::ensure!(drawn.as_bool() == Some(true), "the {id} chart is not drawn");
        }
        let followers = b.text("#key-figures").await?;
        anyhow::ensure!(followers.contains("Followers"), "{followers}");
        let top = b.text("#top-posts").await?;
        anyhow::ensure!(
            top.contains("Bread, baked at dawn") && top.contains("Watch the dough rise"),
            "{top}"
        );
        b.screenshot("analytics-dashboard").await?;

        // A quick period, then one platform through the filters.
        b.click("#analytics-filters .quick-ranges a:first-child").await?;
        crate::browser::wait_until(b, "return location.search.includes('from=')").await?;
        b.wait_for_heading("Analytics").await?;
        b.eval("document.getElementById('f-platform').value = 'x'; return true")
            .await?;
        b.click("#analytics-filters button[type=submit]").await?;
        crate::browser::wait_until(b, "return location.search.includes('platform=x')").await?;
        b.wait_for_heading("Analytics").await?;
        let top = b.text("#top-posts").await?;
        anyhow::ensure!(
            top.contains("Bread, baked at dawn") && !top.contains("Watch the dough rise"),
            "{top}"
        );
        anyhow::ensure!(
            !b.exists("#chart-platforms").await?,
            "one platform: nothing to compare"
        );
        // A period that cannot be shown says why.
        b.eval("document.getElementById('f-from').value = '2099-01-02'; document.getElementById('f-to').value = '2099-01-01'; return true")
            .await?;
        b.click("#analytics-filters button[type=submit]").await?;
        crate::browser::wait_until(b, "return document.getElementById('range-error') !== null")
            .await?;
        let message = b.text("#range-error").await?;
        anyhow::ensure!(message.contains("ends before it starts"), "{message}");
        b.screenshot("analytics-range-refused").await?;
        Ok(())
    })
    .await;
}

async fn a_long_export_comes_whole_and_in_order(backend: Backend) {
    let Some((app, _sim, _running, client, ws)) = on(backend).await else {
        return;
    };
    let (_, x) = connect(&app, &client, ws, "x").await;
    publish(&app, &client, ws, x, "=SUM(A1), said the post", &[]).await;
    let target = app.count("SELECT id FROM post_targets").await;
    let before = app
        .count(&format!(
            "SELECT COUNT(*) FROM post_metrics WHERE target_id = {target}"
        ))
        .await;
    // More figures than several of the export's pages hold, all read today.
    let today = services::now().date_naive();
    for batch in 0..25 {
        let rows: Vec<String> = (0..100)
            .map(|i| {
                let n = batch * 100 + i;
                format!(
                    "({ws}, {x}, {target}, 'bench.m{n:04}', '{today}', {n}, '2026-12-01 00:00:00+00:00')"
                )
            })
            .collect();
        app.exec(&format!(
            "INSERT INTO post_metrics (workspace_id, account_id, target_id, metric, day, value, \
             read_at) VALUES {}",
            rows.join(", ")
        ))
        .await;
    }
    let csv = client
        .get_text(&format!("/w/{ws}/analytics/posts.csv?days=7"))
        .await;
    let lines: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(lines.len() as i64, before + 2_500);
    let ours: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.split(",bench.m").nth(1))
        .collect();
    assert_eq!(ours.len(), 2_500, "each once");
    for (n, rest) in ours.iter().enumerate() {
        assert_eq!(*rest, format!("{n:04},{n}"), "in the order they were read");
    }
    assert!(
        lines
            .iter()
            .all(|l| l.contains(",X,acme,,") || l.contains(",X,acme,http")),
        "{}",
        lines[0]
    );
    assert!(
        lines
            .iter()
            .all(|l| l.contains(",\"'=SUM(A1), said the post\",")),
        "{}",
        lines[0]
    );
}

/// A read that stops (a rate limit) is said on the page with its reason until a read goes
/// through; an account whose authorisation lapsed is shown as such, its figures kept; a period
/// that ends today says that its last day is not over.
async fn an_account_that_cannot_be_read_is_said_so(backend: Backend) {
    let Some((app, sim, _running, client, ws)) = on(backend).await else {
        return;
    };
    let (_, x) = connect(&app, &client, ws, "x").await;
    publish(&app, &client, ws, x, "Read when X lets us", &[]).await;
    let target = app
        .count(&format!(
            "SELECT id FROM post_targets WHERE account_id = {x}"
        ))
        .await;
    sim.inject(
        Platform::X,
        sim::Op::Metrics,
        sim::Fault::RateLimited {
            retry_after: std::time::Duration::from_secs(600),
        },
    );
    read_again(&app, target).await;
    let stopped = client.get_text(&format!("/w/{ws}/analytics")).await;
    assert!(stopped.contains("the last read stopped"), "{stopped}");
    assert!(stopped.contains("rate limit was reached"), "{stopped}");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM social_accounts WHERE id = {x} AND metrics_error IS NOT NULL"
        ))
        .await,
        1
    );

    // The next read goes through: the figures come and the message goes.
    sim.advance_clock(chrono::Duration::hours(3));
    read_again(&app, target).await;
    let tweet = app
        .text(&format!(
            "SELECT platform_post_id FROM post_targets WHERE id = {target}"
        ))
        .await;
    let views = post_figure(&app, target, "views").await;
    assert!(views > 0, "three hours on, the post has been seen");
    assert_eq!(
        Some(views),
        sim.reported(Platform::X, &tweet, "impression_count")
    );
    let read = client.get_text(&format!("/w/{ws}/analytics")).await;
    assert!(!read.contains("the last read stopped"), "{read}");
    assert!(read.contains("last read "), "{read}");
    // The default period ends today: its last day is said to be partial; one that ended
    // yesterday is not.
    assert!(
        read.contains("The period ends today, which is not over"),
        "{read}"
    );
    let yesterday = services::now().date_naive() - chrono::Duration::days(1);
    let ended = client
        .get_text(&format!(
            "/w/{ws}/analytics?from={}&to={yesterday}",
            yesterday - chrono::Duration::days(6)
        ))
        .await;
    assert!(!ended.contains("The period ends today"), "{ended}");

    // Its authorisation is withdrawn at X (the next refresh is refused): shown as lapsed,
    // with the figures read before.
    sim.withdraw_all(Platform::X);
    due_now(&app, "refresh_tokens", x).await;
    app.worker().run_until_empty().await.unwrap();
    let lapsed = client.get_text(&format!("/w/{ws}/analytics")).await;
    assert!(lapsed.contains("id=\"analytics-reconnect\""), "{lapsed}");
    assert!(
        lapsed.contains("its authorisation lapsed or was withdrawn at X"),
        "{lapsed}"
    );
    assert!(
        lapsed.contains("its authorisation lapsed: not read since"),
        "{lapsed}"
    );
    assert!(lapsed.contains("Read when X lets us"), "{lapsed}");
}

//! Approvals before publishing, on both databases: the owner's rules (who approves, whether
//! their own posts), a post that waits and is not published, a decision on a version the
//! reviewer did not see refused, a change to an approved post sending it back, a request for
//! changes with its note, Auto-approve only for those allowed, e-mails to approvers and
//! authors, and the plan that has approvals.

use crate::analytics::{connect, with_simulator};
use crate::both_backends;
use crate::fixtures::owner_with_workspace;
use crate::helpers::{Client, TestApp, expect_page, location};
use domain::plans::PlanId;
use domain::{Platform, WorkspaceId};
use reqwest::StatusCode;

both_backends!(
    posts_wait_for_an_approver_and_go_out_once_approved,
    approvals_are_a_plan_feature_that_only_owners_set,
    a_client_preview_shows_its_posts_and_nothing_else_while_it_works,
);

/// Sets the workspace's approval rules from the settings page.
async fn set_rules(
    client: &Client,
    ws: i64,
    approvers: &str,
    own_posts: bool,
    named: &[i64],
) -> reqwest::Response {
    let named: Vec<String> = named.iter().map(|id| id.to_string()).collect();
    let mut fields = vec![("required", "1"), ("approvers", approvers)];
    if own_posts {
        fields.push(("own_posts", "1"));
    }
    for id in &named {
        fields.push(("approver", id));
    }
    client
        .submit(&format!("/w/{ws}/settings/approvals"), &fields)
        .await
}

/// A post to `account`, `days` ahead at 10:00 on `email`'s clock (or now).
async fn write(
    app: &TestApp,
    client: &Client,
    ws: i64,
    email: &str,
    account: i64,
    body: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let when = app
        .local_in(email, ws, chrono::Duration::days(2))
        .await
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let account = account.to_string();
    let mut fields = vec![
        ("body", body),
        ("account", account.as_str()),
        ("scheduled_at", when.as_str()),
        ("action", "schedule"),
    ];
    fields.extend_from_slice(extra);
    client.submit(&format!("/w/{ws}/posts"), &fields).await
}

/// Saves the post at `path` again with `body`, to `account`, two days ahead on Bob's clock.
async fn edit(
    app: &TestApp,
    client: &Client,
    path: &str,
    account: i64,
    body: &str,
) -> reqwest::Response {
    let when = app
        .local_in("bob@example.com", app_ws(path), chrono::Duration::days(2))
        .await
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let account = account.to_string();
    client
        .submit(
            path,
            &[
                ("body", body),
                ("account", account.as_str()),
                ("scheduled_at", when.as_str()),
                ("action", "schedule"),
            ],
        )
        .await
}

/// Moves the post at `path` (its page) to `days` ahead on `email`'s clock, as the calendar does.
async fn move_to(
    app: &TestApp,
    client: &Client,
    email: &str,
    path: &str,
    days: i64,
) -> reqwest::Response {
    let later = app
        .local_in(email, app_ws(path), chrono::Duration::days(days))
        .await
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    client
        .submit(
            &format!("{path}/reschedule"),
            &[("scheduled_at", later.as_str()), ("next", "")],
        )
        .await
}

/// The workspace id in a post's path (`/w/{ws}/posts/{id}`).
fn app_ws(path: &str) -> i64 {
    path.split('/').nth(2).unwrap().parse().unwrap()
}

/// The id a redirect to a post's page names.
fn id_of(res: &reqwest::Response) -> i64 {
    location(res.headers())
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// Ada's workspace on Professional, Bob an editor in it, and its X account.
struct Team {
    ada: Client,
    bob: Client,
    ws: i64,
    x: i64,
}

async fn team(app: &TestApp) -> Team {
    let (ada, ws) = owner_with_workspace(app, "ada@example.com").await;
    app.services
        .set_plan(WorkspaceId(ws), PlanId::Professional)
        .await
        .unwrap();
    let bob = app.verified_user("Bob Editor", "bob@example.com").await;
    app.join(&ada, ws, "bob@example.com", "editor", &bob).await;
    let (_, x) = connect(app, &ada, ws, "x").await;
    Team { ada, bob, ws, x }
}

/// [`decide`] on the version the post has now (as a reviewer who just opened it).
async fn decide_current(
    app: &TestApp,
    client: &Client,
    ws: i64,
    post: i64,
    decision: &str,
    note: &str,
) -> reqwest::Response {
    decide(
        client,
        ws,
        post,
        revision_of(app, post).await,
        decision,
        note,
    )
    .await
}

async fn decide(
    client: &Client,
    ws: i64,
    post: i64,
    revision: i64,
    decision: &str,
    note: &str,
) -> reqwest::Response {
    client
        .submit(
            &format!("/w/{ws}/posts/{post}/review"),
            &[
                ("revision", &revision.to_string()),
                ("decision", decision),
                ("note", note),
            ],
        )
        .await
}

async fn state_of(app: &TestApp, post: i64) -> String {
    app.text(&format!("SELECT state FROM posts WHERE id = {post}"))
        .await
}

async fn revision_of(app: &TestApp, post: i64) -> i64 {
    app.count(&format!(
        "SELECT CAST(revision AS BIGINT) FROM posts WHERE id = {post}"
    ))
    .await
}

async fn publish_jobs(app: &TestApp, post: i64) -> i64 {
    app.count(&format!(
        "SELECT COUNT(*) FROM jobs WHERE kind = 'publish' AND state = 'queued' AND subject IN \
         (SELECT 'post_target:' || id FROM post_targets WHERE post_id = {post})"
    ))
    .await
}

async fn posts_wait_for_an_approver_and_go_out_once_approved(backend: crate::helpers::Backend) {
    let Some((app, sim, _running)) = with_simulator(backend, true).await else {
        return;
    };
    let Team { ada, bob, ws, x } = team(&app).await;

    // Owners and admins approve, never their own posts.
    let res = set_rules(&ada, ws, "owners_and_admins", false, &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let settings = ada.get_text(&format!("/w/{ws}/settings")).await;
    assert!(
        settings.contains("id=\"approvals-required\" checked"),
        "{settings}"
    );

    // Bob's composer sends for approval; he has no Auto-approve.
    let form = bob.get_text(&format!("/w/{ws}/posts/new")).await;
    assert!(form.contains(">Send for approval</button>"), "{form}");
    assert!(!form.contains("auto-approve"), "{form}");
    let res = write(
        &app,
        &bob,
        ws,
        "bob@example.com",
        x,
        "Autumn menu is out",
        &[],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let post_path = location(res.headers());
    let post = id_of(&res);
    assert_eq!(state_of(&app, post).await, "pending_approval");
    assert_eq!(publish_jobs(&app, post).await, 0, "nothing to publish yet");
    // Disconnecting the account would leave the waiting post without it: the page says so.
    let impact = ada
        .get_text(&format!("/w/{ws}/accounts/{x}/disconnect"))
        .await;
    assert!(
        impact.contains("1 scheduled post for @"),
        "the waiting post is not counted: {impact}"
    );
    let asked = app.last_mail_to("ada@example.com").await;
    assert!(
        asked.subject.contains("waits for your approval"),
        "{asked:?}"
    );
    assert!(asked.body.contains("Autumn menu is out"));
    let link = format!("{}/w/{ws}/posts/{post}#review", app.address);
    assert!(asked.body.contains(&link), "{}", asked.body);
    assert!(
        ada.get_text(link.trim_start_matches(&app.address))
            .await
            .contains("id=\"approve\""),
        "the e-mail's link opens the review"
    );
    assert!(
        !app.mails()
            .await
            .iter()
            .any(|m| m.to == "bob@example.com" && m.subject.contains("waits for your approval")),
        "the author is not asked to approve"
    );

    // Bob may not approve it (an editor, and its author).
    let refused = bob.get_text(&post_path).await;
    assert!(refused.contains("id=\"review-refused\""), "{refused}");
    let rev = revision_of(&app, post).await;
    expect_page(
        decide(&bob, ws, post, rev, "approved", "").await,
        StatusCode::FORBIDDEN,
        "only owners and admins approve",
    )
    .await;
    assert_eq!(state_of(&app, post).await, "pending_approval");

    // The listing: a card with the text, the account and the author.
    let cards = ada.get_text(&format!("/w/{ws}/approvals")).await;
    assert!(
        cards.contains(&format!("id=\"approval-{post}\"")),
        "{cards}"
    );
    assert!(cards.contains("by Bob Editor"), "{cards}");
    let page = ada.get_text(&post_path).await;
    assert!(page.contains("id=\"approve\""), "{page}");
    assert!(page.contains("Pending approval"), "{page}");

    // Moved on the calendar, it keeps waiting.
    let res = move_to(&app, &bob, "bob@example.com", &post_path, 3).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(state_of(&app, post).await, "pending_approval");
    assert_eq!(publish_jobs(&app, post).await, 0);
    let rev = revision_of(&app, post).await;
    let asked_before = app
        .mails()
        .await
        .iter()
        .filter(|m| m.subject.contains("waits for your approval"))
        .count();

    // Bob changes it while Ada looks at the old version: her approval is refused and the
    // page shows the new text.
    let res = edit(&app, &bob, &post_path, x, "Autumn menu is out, with soups").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let stale = expect_page(
        decide(&ada, ws, post, rev, "approved", "").await,
        StatusCode::CONFLICT,
        "changed after you opened it",
    )
    .await;
    assert!(stale.contains("with soups"), "{stale}");
    assert_eq!(state_of(&app, post).await, "pending_approval");
    assert_eq!(
        app.mails()
            .await
            .iter()
            .filter(|m| m.subject.contains("waits for your approval"))
            .count(),
        asked_before,
        "a change while it waits asks nobody again"
    );

    // Approved as it is now: scheduled, its job queued, Bob told.
    let res = decide_current(&app, &ada, ws, post, "approved", "").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(res.headers()), format!("/w/{ws}/approvals"));
    assert_eq!(state_of(&app, post).await, "scheduled");
    assert_eq!(publish_jobs(&app, post).await, 1);
    let told = app.last_mail_to("bob@example.com").await;
    assert!(told.subject.contains("was approved"), "{told:?}");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM activity_log WHERE action = 'post.approved' AND object_id = \
             {post}"
        ))
        .await,
        1
    );

    // A change to the approved post sends it back for approval; its job goes.
    let res = edit(
        &app,
        &bob,
        &post_path,
        x,
        "Autumn menu is out, with soups and pies",
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(state_of(&app, post).await, "pending_approval");
    assert_eq!(publish_jobs(&app, post).await, 0);

    // Asking for changes needs a note; with one, the post is Bob's draft again, with its time
    // and the note on its page and in his mail.
    let rev = revision_of(&app, post).await;
    expect_page(
        decide(&ada, ws, post, rev, "changes_requested", " ").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Say what should change",
    )
    .await;
    let res = decide(&ada, ws, post, rev, "changes_requested", "Name the soups").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(state_of(&app, post).await, "draft");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM posts WHERE id = {post} AND scheduled_at IS NOT NULL"
        ))
        .await,
        1,
        "it keeps its time"
    );
    let back = bob.get_text(&post_path).await;
    assert!(back.contains("id=\"review-note\""), "{back}");
    assert!(back.contains("Name the soups"), "{back}");
    let told = app.last_mail_to("bob@example.com").await;
    assert!(told.subject.contains("Changes were asked"), "{told:?}");
    assert!(told.body.contains("Name the soups"));
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM post_reviews WHERE post_id = {post}"
        ))
        .await,
        2
    );

    // Ada's own post: no Auto-approve for her (own posts are not hers to approve), and she
    // cannot approve it herself.
    let res = write(
        &app,
        &ada,
        ws,
        "ada@example.com",
        x,
        "Owner's note",
        &[("auto_approve", "1")],
    )
    .await;
    expect_page(res, StatusCode::FORBIDDEN, "Auto-approve is for those").await;
    let res = write(&app, &ada, ws, "ada@example.com", x, "Owner's note", &[]).await;
    let own: i64 = id_of(&res);
    assert_eq!(state_of(&app, own).await, "pending_approval");
    // Ada is the only owner or admin and may not approve her own: the card says it would wait
    // for ever; Bob's posts do not.
    let cards = ada.get_text(&format!("/w/{ws}/approvals")).await;
    assert!(cards.contains(&format!("id=\"stuck-{own}\"")), "{cards}");
    assert_eq!(cards.matches("id=\"stuck-").count(), 1, "{cards}");
    expect_page(
        decide_current(&app, &ada, ws, own, "approved", "").await,
        StatusCode::FORBIDDEN,
        "another approver reviews it",
    )
    .await;

    // Named approvers: Bob approves Ada's post; with own posts allowed, Ada's Auto-approve
    // schedules at once.
    let bob_id = app
        .count("SELECT id FROM users WHERE email = 'bob@example.com'")
        .await;
    // An approver who changes someone's post sent it: they may not approve it either.
    let res = set_rules(&ada, ws, "named", false, &[bob_id]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = write(&app, &ada, ws, "ada@example.com", x, "Second note", &[]).await;
    let second = id_of(&res);
    let second_path = format!("/w/{ws}/posts/{second}");
    let res = edit(&app, &bob, &second_path, x, "Second note, as Bob sees it").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    expect_page(
        decide_current(&app, &bob, ws, second, "approved", "").await,
        StatusCode::FORBIDDEN,
        "another approver reviews it",
    )
    .await;
    assert_eq!(state_of(&app, second).await, "pending_approval");

    let res = set_rules(&ada, ws, "named", true, &[bob_id]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = decide_current(&app, &bob, ws, own, "approved", "").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(state_of(&app, own).await, "scheduled");
    // Moved by Ada, who is no approver now, the approved post waits again: nobody approved
    // its new time.
    let res = move_to(
        &app,
        &ada,
        "ada@example.com",
        &format!("/w/{ws}/posts/{own}"),
        4,
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(state_of(&app, own).await, "pending_approval");
    assert_eq!(publish_jobs(&app, own).await, 0);
    let res = decide_current(&app, &bob, ws, own, "approved", "").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(publish_jobs(&app, own).await, 1);
    // Ada is not named: no Auto-approve for her now.
    let res = write(
        &app,
        &ada,
        ws,
        "ada@example.com",
        x,
        "Another note",
        &[("auto_approve", "1")],
    )
    .await;
    expect_page(res, StatusCode::FORBIDDEN, "Auto-approve is for those").await;
    let res = write(
        &app,
        &bob,
        ws,
        "bob@example.com",
        x,
        "Bob's own, auto-approved",
        &[("auto_approve", "1")],
    )
    .await;
    let auto: i64 = id_of(&res);
    assert_eq!(state_of(&app, auto).await, "scheduled");
    assert_eq!(publish_jobs(&app, auto).await, 1);

    // "Publish now" waits too, and nothing goes out until the approval; then it does, once.
    let res = bob
        .submit(
            &format!("/w/{ws}/posts"),
            &[
                ("body", "Doors open now"),
                ("account", &x.to_string()),
                ("action", "now"),
            ],
        )
        .await;
    let now_post: i64 = id_of(&res);
    assert_eq!(state_of(&app, now_post).await, "pending_approval");
    app.worker().run_until_empty().await.unwrap();
    assert!(
        !sim.posts()
            .iter()
            .any(|p| p.text.contains("Doors open now")),
        "not published before it is approved"
    );
    let res = set_rules(&ada, ws, "named", false, &[bob_id]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    expect_page(
        decide_current(&app, &bob, ws, now_post, "approved", "").await,
        StatusCode::FORBIDDEN,
        "another approver reviews it",
    )
    .await;
    let res = set_rules(&ada, ws, "any_member", false, &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = decide_current(&app, &ada, ws, now_post, "approved", "").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    app.worker().run_until_empty().await.unwrap();
    assert_eq!(state_of(&app, now_post).await, "published");
    assert_eq!(
        sim.posts()
            .iter()
            .filter(|p| p.platform == Platform::X && p.text.contains("Doors open now"))
            .count(),
        1
    );
}

async fn approvals_are_a_plan_feature_that_only_owners_set(backend: crate::helpers::Backend) {
    let Some((app, _sim, _running)) = with_simulator(backend, true).await else {
        return;
    };
    let (ada, ws) = owner_with_workspace(&app, "ada@example.com").await;
    app.services
        .set_plan(WorkspaceId(ws), PlanId::Starter)
        .await
        .unwrap();
    let page = ada.get_text(&format!("/w/{ws}/settings")).await;
    assert!(page.contains("id=\"approvals-plan\""), "{page}");
    expect_page(
        set_rules(&ada, ws, "any_member", false, &[]).await,
        StatusCode::PAYMENT_REQUIRED,
        "Professional",
    )
    .await;
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM workspaces WHERE id = {ws} AND approvals_required"
        ))
        .await,
        0
    );

    app.services
        .set_plan(WorkspaceId(ws), PlanId::Professional)
        .await
        .unwrap();
    let admin = app.verified_user("Cy Admin", "cy@example.com").await;
    app.join(&ada, ws, "cy@example.com", "admin", &admin).await;
    expect_page(
        set_rules(&admin, ws, "any_member", false, &[]).await,
        StatusCode::FORBIDDEN,
        "Only owners decide",
    )
    .await;
    // Named approvers must include someone who can publish.
    expect_page(
        set_rules(&ada, ws, "named", false, &[]).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Name at least one approver",
    )
    .await;
    assert_eq!(
        set_rules(&ada, ws, "any_member", false, &[]).await.status(),
        StatusCode::SEE_OTHER
    );

    // Back on Starter, the rule stops applying: posts are scheduled as saved.
    app.services
        .set_plan(WorkspaceId(ws), PlanId::Starter)
        .await
        .unwrap();
    let page_id = app.connect_account(ws, Platform::Facebook, "acme").await;
    let res = write(
        &app,
        &ada,
        ws,
        "ada@example.com",
        page_id,
        "On Starter",
        &[],
    )
    .await;
    let post: i64 = id_of(&res);
    assert_eq!(state_of(&app, post).await, "scheduled");
}

/// An editor sends a post for approval in the browser; the owner finds it under Approvals,
/// sees it whole and approves it; it is published, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_approve_and_publish_in_the_browser() {
    let Some((app, sim, _running)) = with_simulator(crate::helpers::Backend::Sqlite, true).await
    else {
        return;
    };
    let Team { ada, ws, x, .. } = team(&app).await;
    assert_eq!(
        set_rules(&ada, ws, "owners_and_admins", false, &[])
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    crate::browser::run_in(app, "approvals", true, async |b, app| {
        let base = &app.address;
        b.log_in(base, "bob@example.com", "Acme").await?;
        b.goto(&format!("{base}/w/{ws}/posts/new")).await?;
        b.wait_for_heading("New post").await?;
        b.fill("#f-body", "Fresh bread at nine").await?;
        b.click(&format!("input[name=account][value='{x}']"))
            .await?;
        let hint = b.text("#approval-hint").await?;
        anyhow::ensure!(hint.contains("wait for an approver"), "{hint}");
        b.click("button[name=action][value=now]").await?;
        b.wait_for_heading("Post").await?;
        let badge = b.text("[data-post-state]").await?;
        anyhow::ensure!(badge.contains("Pending approval"), "{badge}");
        b.screenshot("sent-for-approval").await?;
        app.worker().run_until_empty().await?;
        anyhow::ensure!(sim.posts().is_empty(), "published before approval");
        // Ada, in a browser of her own.
        b.delete_cookies().await?;

        b.log_in(base, "ada@example.com", "Acme").await?;
        b.click(&format!("a[href='/w/{ws}/approvals']")).await?;
        b.wait_for_heading("Approvals").await?;
        let card = b.text(".approval-card").await?;
        anyhow::ensure!(
            card.contains("Fresh bread at nine") && card.contains("Bob Editor"),
            "{card}"
        );
        b.screenshot("approvals").await?;
        b.click(".approval-card a.button").await?;
        b.wait_for_heading("Post").await?;
        b.click("#approve").await?;
        b.wait_for_heading("Approvals").await?;
        anyhow::ensure!(b.exists("#no-approvals").await?, "the card is still there");
        app.worker().run_until_empty().await?;
        let posted: Vec<_> = sim
            .posts()
            .into_iter()
            .filter(|p| p.text == "Fresh bread at nine")
            .collect();
        anyhow::ensure!(posted.len() == 1, "{posted:?}");
        Ok(())
    })
    .await;
}

/// The preview link's address on a page that shows it once.
fn preview_path(page: &str) -> String {
    let start = page.find("id=\"preview-url\"").expect("the link is shown");
    let before = &page[..start];
    let value = before.rfind("value=\"").expect("its value") + 7;
    let end = before[value..].find('"').unwrap() + value;
    let url = &page[value..end];
    url[url.find("/p/").unwrap()..].to_owned()
}

async fn a_client_preview_shows_its_posts_and_nothing_else_while_it_works(
    backend: crate::helpers::Backend,
) {
    use crate::helpers::{png, post_input};
    use services::posts::Intent;
    let Some((app, _sim, _running)) = with_simulator(backend, true).await else {
        return;
    };
    let Team { ada, bob, ws, x } = team(&app).await;
    let picture = app.upload_media(&ada, ws, "cake.png", png(40, 30, 3)).await;
    let elsewhere = app
        .upload_media(&ada, ws, "plans.png", png(40, 30, 9))
        .await;
    let friday = app
        .local_in("ada@example.com", ws, chrono::Duration::days(2))
        .await;
    let post = app
        .save_post(
            "ada@example.com",
            ws,
            post_input(
                "Cake on Friday",
                &[x],
                vec![picture],
                Intent::Schedule(friday),
            ),
        )
        .await;
    let secret = app
        .save_post(
            "ada@example.com",
            ws,
            post_input("Secret launch", &[x], vec![elsewhere], Intent::Draft),
        )
        .await;

    // Bob makes a link for the post; it is shown once.
    let res = bob
        .submit(
            &format!("/w/{ws}/previews"),
            &[
                ("post_id", post.to_string().as_str()),
                ("days_valid", "7"),
                ("respond", "1"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let path = preview_path(&res.text().await.unwrap());
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM preview_links WHERE token_hash LIKE '%{}%'",
            path.trim_start_matches("/p/")
        ))
        .await,
        0,
        "only the secret's hash is kept"
    );

    // A stranger opens it: the post, its file and account, nothing else of the workspace,
    // and no cookie but the form's.
    let stranger = app.client();
    let res = stranger.get(&path).await;
    assert_eq!(res.status(), StatusCode::OK);
    let cookies: Vec<String> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split('=').next().map(str::to_owned))
        .collect();
    assert!(
        cookies.iter().all(|c| c == "sz_csrf"),
        "only the essential form cookie: {cookies:?}"
    );
    let page = res.text().await.unwrap();
    assert!(page.contains("Cake on Friday"), "{page}");
    assert!(page.contains("@"), "{page}");
    assert!(!page.contains("Secret launch"), "{page}");
    assert!(
        !page.contains(&format!("/w/{ws}")),
        "no way into the workspace: {page}"
    );
    // Opened by a signed-in member, the page is the same: no name, no workspaces, no banner.
    let as_member = ada.get(&path).await;
    assert_eq!(
        as_member.headers()["referrer-policy"].to_str().unwrap(),
        "no-referrer"
    );
    let as_member = as_member.text().await.unwrap();
    assert!(!as_member.contains("Ada Lovelace"), "{as_member}");
    assert!(!as_member.contains(&format!("/w/{ws}")), "{as_member}");
    assert!(!as_member.contains("data-consent-banner"), "{as_member}");
    let file = stranger.get(&format!("{path}/files/{picture}")).await;
    assert_eq!(file.status(), StatusCode::OK);
    assert_eq!(file.bytes().await.unwrap().to_vec(), png(40, 30, 3));
    assert_eq!(
        stranger
            .get(&format!("{path}/files/{elsewhere}"))
            .await
            .status(),
        StatusCode::NOT_FOUND,
        "a file of another post"
    );
    // An altered link finds nothing, and says only that.
    let altered = format!("{}x", path);
    let res = stranger.get(&altered).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(res.text().await.unwrap().contains("no longer available"));

    // The client approves by name; a comment needs its text; the team sees both.
    let respond = format!("{path}/posts/{post}");
    expect_page(
        stranger
            .submit(&respond, &[("name", " "), ("action", "approve")])
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Give your name",
    )
    .await;
    expect_page(
        stranger
            .submit(&respond, &[("name", "Dana"), ("action", "comment")])
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Write the comment first",
    )
    .await;
    let res = stranger
        .submit(
            &respond,
            &[
                ("name", "Dana"),
                ("comment", "Lovely"),
                ("action", "approve"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // Not a post of the link: nothing is recorded.
    let res = stranger
        .submit(
            &format!("{path}/posts/{secret}"),
            &[("name", "Dana"), ("comment", "Hm"), ("action", "comment")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.count("SELECT COUNT(*) FROM preview_feedback").await, 1);
    let seen = ada.get_text(&format!("/w/{ws}/posts/{post}")).await;
    assert!(seen.contains("Dana (client) approved it"), "{seen}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM activity_log WHERE action = 'preview.client_approved'")
            .await,
        1
    );
    assert_eq!(
        state_of(&app, post).await,
        "scheduled",
        "a client's approval is a message, not the workspace's approval"
    );

    // Revoked: the page and the file are gone at once.
    let link = app.count("SELECT MAX(id) FROM preview_links").await;
    let res = bob
        .submit(&format!("/w/{ws}/previews/{link}/revoke"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(stranger.get(&path).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        stranger
            .get(&format!("{path}/files/{picture}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // A range of days: the posts on their way in it, not a draft that keeps a date (one sent
    // back by an approver does); expired, it is gone too.
    app.exec(&format!(
        "UPDATE posts SET scheduled_at = (SELECT scheduled_at FROM posts WHERE id = {post}) \
         WHERE id = {secret}"
    ))
    .await;
    let day = friday.date().to_string();
    let res = ada
        .submit(
            &format!("/w/{ws}/previews"),
            &[
                ("from", day.as_str()),
                ("to", day.as_str()),
                ("days_valid", "3"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let range = preview_path(&res.text().await.unwrap());
    let page = stranger.get_text(&range).await;
    assert!(
        page.contains("Cake on Friday") && !page.contains("Secret launch"),
        "{page}"
    );
    assert!(
        !page.contains("preview-respond"),
        "this one only shows: {page}"
    );
    expect_page(
        ada.submit(
            &format!("/w/{ws}/previews"),
            &[
                ("from", day.as_str()),
                ("to", "2001-01-01"),
                ("days_valid", "3"),
            ],
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "ends before it starts",
    )
    .await;
    app.exec("UPDATE preview_links SET expires_at = created_at")
        .await;
    assert_eq!(stranger.get(&range).await.status(), StatusCode::NOT_FOUND);

    // A member who is removed takes their links with them.
    let res = bob
        .submit(
            &format!("/w/{ws}/previews"),
            &[("post_id", post.to_string().as_str()), ("days_valid", "5")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let bobs = preview_path(&res.text().await.unwrap());
    assert_eq!(stranger.get(&bobs).await.status(), StatusCode::OK);
    let membership = app
        .count(&format!(
            "SELECT m.id FROM memberships m JOIN users u ON u.id = m.user_id WHERE \
             u.email = 'bob@example.com' AND m.workspace_id = {ws}"
        ))
        .await;
    let res = ada
        .submit(&format!("/w/{ws}/members/{membership}/remove"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(stranger.get(&bobs).await.status(), StatusCode::NOT_FOUND);
}

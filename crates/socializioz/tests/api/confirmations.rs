//! What people are told before and after they act: destructive actions ask first and say what
//! they touch (with and without script), a saved cookie choice is confirmed on the page, and
//! sign-up fills in what it can (the invited address, the browser's time zone, chosen from the
//! current names of places). Over HTTP on both databases, and in the browser.

use crate::both_backends;
use crate::browser::{Browser, run_in, wait_until};
use crate::helpers::{
    Backend, Client, PASSWORD, TestApp, csrf_in, expect_page, id_from_location, location, png,
    post_input, spawn_app,
};
use anyhow::{Result, ensure};
use domain::{Platform, Timezone, schedule};
use reqwest::StatusCode;
use services::posts::Intent;

both_backends!(
    disconnecting_asks_first_and_counts_the_accounts_scheduled_posts,
    deleting_a_post_asks_first_and_says_what_happens,
    deleting_a_file_asks_first_and_says_where_it_is_used,
    a_cookie_choice_sent_without_script_is_confirmed_on_the_page,
    sign_up_from_an_invitation_fills_in_the_invited_address,
    time_zones_are_chosen_from_the_current_names_of_places,
    former_members_are_told_once_that_the_workspace_was_deleted,
);

const ADA: &str = "ada@example.com";

struct Setup {
    client: Client,
    ws: i64,
    x: i64,
}

async fn setup(app: &TestApp) -> Setup {
    let client = app.verified_user("Ada Lovelace", ADA).await;
    let ws = client.new_workspace("Acme").await;
    let x = app.connect_account(ws, Platform::X, "acme").await;
    Setup { client, ws, x }
}

/// Tomorrow at this time, on the wall clock of Ada's time zone.
async fn tomorrow(app: &TestApp, ws: i64) -> chrono::NaiveDateTime {
    let (user, _) = app.member(ADA, ws).await;
    let tz = Timezone::parse(&user.timezone).unwrap();
    schedule::to_local(chrono::Utc::now() + chrono::Duration::days(1), tz)
}

async fn schedule_post(app: &TestApp, ws: i64, text: &str, accounts: &[i64]) -> i64 {
    let at = tomorrow(app, ws).await;
    app.save_post(
        ADA,
        ws,
        post_input(text, accounts, Vec::new(), Intent::Schedule(at)),
    )
    .await
}

/// The text of a page with its tags removed and its spaces collapsed, for checking sentences.
fn words(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The page that asks has a real form: this browser's CSRF token, `confirm=yes`, and the
/// destructive route as its action.
fn asks_with_a_form(html: &str, action: &str) {
    assert!(
        html.contains(&format!("action=\"{action}\"")),
        "no form to {action}: {html}"
    );
    assert!(
        html.contains("name=\"confirm\" value=\"yes\""),
        "no confirm field: {html}"
    );
    assert!(csrf_in(html).is_some(), "no CSRF token: {html}");
}

/// The words of the page at `path`, as `client` sees it.
async fn words_at(client: &Client, path: &str) -> String {
    words(&client.get_text(path).await)
}

/// Posting to `ask` without confirming only sends the browser to the page that asks.
async fn sent_to_the_question(client: &Client, ask: &str) {
    let res = client.submit(ask, &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(res.headers()), ask);
}

/// Confirms `ask`; the browser is sent on to `next`.
async fn confirm(client: &Client, ask: &str, next: &str) {
    let res = client.submit(ask, &[("confirm", "yes")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(res.headers()), next);
}

async fn account_status(app: &TestApp, id: i64) -> String {
    app.text(&format!(
        "SELECT status FROM social_accounts WHERE id = {id}"
    ))
    .await
}

async fn disconnecting_asks_first_and_counts_the_accounts_scheduled_posts(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let s = setup(&app).await;
    let ws = s.ws;
    let li = app.connect_account(ws, Platform::LinkedIn, "acme-co").await;
    let quiet = app.connect_account(ws, Platform::TikTok, "quiet").await;
    // @acme: two posts still to go out; one where its part is already published; a draft.
    schedule_post(&app, ws, "Only X", &[s.x]).await;
    schedule_post(&app, ws, "X and LinkedIn", &[s.x, li]).await;
    let partly = schedule_post(&app, ws, "X went out", &[s.x, li]).await;
    app.exec(&format!(
        "UPDATE post_targets SET state = 'published', published_at = updated_at \
         WHERE post_id = {partly} AND account_id = {}",
        s.x
    ))
    .await;
    app.save_post(
        ADA,
        ws,
        post_input("A draft", &[s.x], Vec::new(), Intent::Draft),
    )
    .await;
    schedule_post(&app, ws, "Only LinkedIn", &[li]).await;

    // The list's button posts without confirming: nothing happens, the page that asks opens.
    let ask = format!("/w/{ws}/accounts/{}/disconnect", s.x);
    sent_to_the_question(&s.client, &ask).await;
    assert_eq!(account_status(&app, s.x).await, "connected");

    let page = s.client.get_text(&ask).await;
    let text = words(&page);
    assert!(text.contains("Disconnect X @acme?"), "{text}");
    assert!(
        text.contains(
            "2 scheduled posts for @acme will wait until the account is reconnected or the post is edited."
        ),
        "{text}"
    );
    assert!(text.contains("revoked at X"), "{text}");
    asks_with_a_form(&page, &ask);
    let text = words_at(&s.client, &format!("/w/{ws}/accounts/{li}/disconnect")).await;
    assert!(
        text.contains("3 scheduled posts for @acme-co will wait"),
        "{text}"
    );
    let text = words_at(&s.client, &format!("/w/{ws}/accounts/{quiet}/disconnect")).await;
    assert!(text.contains("No scheduled post goes to @quiet."), "{text}");

    // The confirmed form still needs this browser's CSRF token.
    let res = s.client.post_raw(&ask, &[("confirm", "yes")]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(account_status(&app, s.x).await, "connected");

    confirm(&s.client, &ask, &format!("/w/{ws}/accounts")).await;
    assert_eq!(account_status(&app, s.x).await, "disconnected");
    assert_eq!(account_status(&app, li).await, "connected");

    // Editors may not disconnect: they are not asked either.
    app.exec("UPDATE memberships SET role = 'editor'").await;
    let res = s
        .client
        .get(&format!("/w/{ws}/accounts/{li}/disconnect"))
        .await;
    expect_page(res, StatusCode::FORBIDDEN, "Only owners and admins").await;
}

async fn deleting_a_post_asks_first_and_says_what_happens(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let s = setup(&app).await;
    let ws = s.ws;
    let li = app.connect_account(ws, Platform::LinkedIn, "acme-co").await;
    let scheduled = schedule_post(&app, ws, "Spring sale starts", &[s.x, li]).await;

    let ask = format!("/w/{ws}/posts/{scheduled}/delete");
    sent_to_the_question(&s.client, &ask).await;
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM posts WHERE id = {scheduled}"
        ))
        .await,
        1
    );
    let page = s.client.get_text(&ask).await;
    let text = words(&page);
    assert!(text.contains("Delete this post?"), "{text}");
    assert!(
        text.contains("“Spring sale starts” is scheduled for")
            && text.contains("it is not published to @acme, @acme-co."),
        "{text}"
    );
    assert!(text.contains("This cannot be undone."), "{text}");
    asks_with_a_form(&page, &ask);

    confirm(&s.client, &ask, &format!("/w/{ws}/posts")).await;
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM posts WHERE id = {scheduled}"
        ))
        .await,
        0
    );

    // A published post: what is on the platforms stays there.
    let published = schedule_post(&app, ws, "Hello world", &[s.x]).await;
    app.exec(&format!(
        "UPDATE post_targets SET state = 'published', published_at = updated_at WHERE post_id = {published}"
    ))
    .await;
    app.exec(&format!(
        "UPDATE posts SET state = 'published' WHERE id = {published}"
    ))
    .await;
    let text = words_at(&s.client, &format!("/w/{ws}/posts/{published}/delete")).await;
    assert!(
        text.contains("What was published to 1 account stays on the platforms"),
        "{text}"
    );
    // A draft is just deleted.
    let draft = app
        .save_post(
            ADA,
            ws,
            post_input("Idea", &[s.x], Vec::new(), Intent::Draft),
        )
        .await;
    let text = words_at(&s.client, &format!("/w/{ws}/posts/{draft}/delete")).await;
    assert!(text.contains("The draft “Idea” is deleted."), "{text}");
}

async fn deleting_a_file_asks_first_and_says_where_it_is_used(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let s = setup(&app).await;
    let ws = s.ws;
    let used = app
        .upload_media(&s.client, ws, "hero.png", png(20, 10, 1))
        .await;
    for text in ["First launch", "Second launch"] {
        let post = app
            .save_post(ADA, ws, post_input(text, &[s.x], vec![used], Intent::Draft))
            .await;
        app.exec(&format!(
            "UPDATE posts SET state = 'published' WHERE id = {post}"
        ))
        .await;
    }

    // Delete is no longer right under Save: it is a section of its own that says the usage.
    let show = s.client.get_text(&format!("/w/{ws}/media/{used}")).await;
    let danger = &show[show.find("danger-zone").expect("a section for deleting")..];
    assert!(words(danger).contains("It is used in 2 posts."), "{danger}");

    let ask = format!("/w/{ws}/media/{used}/delete");
    sent_to_the_question(&s.client, &ask).await;
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM media_items WHERE id = {used}"
        ))
        .await,
        1
    );
    let page = s.client.get_text(&ask).await;
    let text = words(&page);
    assert!(text.contains("Delete “hero.png”?"), "{text}");
    assert!(text.contains("“hero.png” is used in 2 posts."), "{text}");
    assert!(text.contains("This cannot be undone."), "{text}");
    asks_with_a_form(&page, &ask);
    confirm(&s.client, &ask, &format!("/w/{ws}/media")).await;
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM media_items WHERE id = {used}"
        ))
        .await,
        0
    );

    // A file a draft still carries cannot go: the page says why and offers no button.
    let held = app
        .upload_media(&s.client, ws, "held.png", png(20, 10, 2))
        .await;
    app.save_post(
        ADA,
        ws,
        post_input("Soon", &[s.x], vec![held], Intent::Draft),
    )
    .await;
    let page = s
        .client
        .get_text(&format!("/w/{ws}/media/{held}/delete"))
        .await;
    let text = words(&page);
    assert!(
        text.contains("“held.png” is used in 1 post.")
            && text.contains("1 of them has not all gone out yet"),
        "{text}"
    );
    assert!(!page.contains("name=\"confirm\""), "{page}");
    let free = app
        .upload_media(&s.client, ws, "spare.png", png(20, 10, 3))
        .await;
    let text = words_at(&s.client, &format!("/w/{ws}/media/{free}/delete")).await;
    assert!(text.contains("No post uses “spare.png”."), "{text}");
}

fn sets_flash(res: &reqwest::Response) -> bool {
    res.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|c| c.starts_with("sz_flash=consent-saved"))
}

async fn a_cookie_choice_sent_without_script_is_confirmed_on_the_page(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let browser = app.client();
    let page = browser.get_text("/legal/cookies").await;
    assert!(!page.contains("class=\"flash\""), "{page}");
    let res = browser
        .submit(
            "/consent",
            &[("choice", "reject"), ("back", "/legal/cookies")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(res.headers()), "/legal/cookies");
    let page = browser.get_text("/legal/cookies").await;
    assert!(
        page.contains("<div class=\"flash\" role=\"status\">Your cookie choice is saved.</div>"),
        "{page}"
    );
    // Once.
    let page = browser.get_text("/legal/cookies").await;
    assert!(!page.contains("class=\"flash\""), "{page}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM consent_ledger WHERE event = 'grant'")
            .await,
        1
    );

    // In the language the banner spoke.
    let german = app.client();
    let res = german
        .submit_with_header(
            "/consent",
            ("Accept-Language", "de"),
            &[("choice", "accept"), ("back", "/")],
        )
        .await;
    assert!(sets_flash(&res));
    let page = german
        .get_with_header("/", ("Accept-Language", "de"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Ihre Cookie-Auswahl ist gespeichert."),
        "{page}"
    );

    // The banner's script gets JSON and says it on the page itself: no flash for a later page.
    let scripted = app.client();
    let res = scripted
        .submit_with_header(
            "/consent",
            ("Accept", "application/json"),
            &[("choice", "reject")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(!sets_flash(&res));
}

async fn sign_up_from_an_invitation_fills_in_the_invited_address(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let s = setup(&app).await;
    let link = app
        .invite(&s.client, s.ws, "bob@example.com", "editor")
        .await;

    // Bob has no account: the invitation leads to sign-up, whose link carries no address.
    let bob = app.client();
    let invitation = bob.get_text(&link).await;
    let signup = format!("/signup?next={link}");
    assert!(
        invitation.contains(&format!("href=\"{signup}\"")),
        "{invitation}"
    );
    assert!(!signup.contains("bob"));
    let res = bob.get(&signup).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()
            .get("referrer-policy")
            .and_then(|v| v.to_str().ok()),
        Some("no-referrer"),
        "the page's address holds the invitation's token"
    );
    let page = res.text().await.unwrap();
    assert!(
        page.contains("name=\"email\" type=\"email\" value=\"bob@example.com\""),
        "{page}"
    );
    assert!(words(&page).contains("You are invited to Acme"), "{page}");
    // Nothing is filled in from a token that is not an open invitation.
    let page = bob
        .get_text("/signup?next=/invitations/not-a-real-token")
        .await;
    assert!(
        page.contains("name=\"email\" type=\"email\" value=\"\""),
        "{page}"
    );
    assert!(!page.contains("You are invited"), "{page}");

    // Signing up with it, then confirming the address, leads back to the invitation, which Bob
    // accepts.
    let res = bob
        .submit(
            "/signup",
            &[
                ("name", "Bob"),
                ("email", "bob@example.com"),
                ("password", PASSWORD),
                ("timezone", "Europe/Berlin"),
                ("language", "en"),
                ("accept_policies", "yes"),
                ("next", &link),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(res.headers()), "/signup/sent");
    let confirm = app
        .last_mail_to("bob@example.com")
        .await
        .link(&app.address, "/verify/");
    let res = bob.submit(&confirm, &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(res.headers()), link);
    let res = bob.submit(&link, &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(id_from_location(res.headers()), s.ws);
}

async fn sign_up_with_zone(app: &TestApp, email: &str, zone: &str) -> reqwest::Response {
    app.client()
        .submit(
            "/signup",
            &[
                ("name", "Zoe"),
                ("email", email),
                ("password", PASSWORD),
                ("timezone", zone),
                ("language", "en"),
                ("accept_policies", "yes"),
            ],
        )
        .await
}

async fn time_zones_are_chosen_from_the_current_names_of_places(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let page = app.client().get_text("/signup").await;
    // A text field searching a list, which works without script.
    assert!(
        page.contains("id=\"f-timezone\" name=\"timezone\" type=\"text\" list=\"f-timezone-list\" value=\"UTC\""),
        "{page}"
    );
    let list = &page[page
        .find("<datalist id=\"f-timezone-list\">")
        .expect("a datalist")..];
    let list = &list[..list.find("</datalist>").unwrap()];
    let offered: Vec<&str> = list
        .split("<option value=\"")
        .skip(1)
        .filter_map(|o| o.split('"').next())
        .collect();
    for zone in [
        "UTC",
        "Europe/Berlin",
        "America/New_York",
        "Asia/Kolkata",
        "Europe/Kyiv",
    ] {
        assert!(offered.contains(&zone), "{zone} is not offered");
    }
    for zone in [
        "US/Eastern",
        "Etc/GMT+1",
        "Etc/UTC",
        "GMT",
        "EST5EDT",
        "Asia/Calcutta",
        "Europe/Kiev",
    ] {
        assert!(!offered.contains(&zone), "{zone} is offered");
    }
    assert!(
        (300..500).contains(&offered.len()),
        "{} names offered",
        offered.len()
    );

    // Checked on the server: a legacy name is read as the current one, a place's own name is
    // found, anything else is refused with a word on what to do.
    for (n, (typed, saved)) in [
        ("Asia/Calcutta", "Asia/Kolkata"),
        ("US/Eastern", "America/New_York"),
        ("berlin", "Europe/Berlin"),
        ("Europe/Lisbon", "Europe/Lisbon"),
    ]
    .into_iter()
    .enumerate()
    {
        let email = format!("zoe{n}@example.com");
        let res = sign_up_with_zone(&app, &email, typed).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{typed}");
        app.mails().await;
        assert_eq!(
            app.text(&format!(
                "SELECT timezone FROM users WHERE email = '{email}'"
            ))
            .await,
            saved
        );
    }
    for refused in ["Etc/GMT+1", "Etc/GMT-3", "Mars/Olympus"] {
        let res = sign_up_with_zone(&app, "nobody@example.com", refused).await;
        let page = expect_page(
            res,
            StatusCode::UNPROCESSABLE_ENTITY,
            "Choose a time zone from the list",
        )
        .await;
        assert!(
            page.contains(&format!("value=\"{refused}\"")),
            "the typed value is kept"
        );
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE email = 'nobody@example.com'")
            .await,
        0
    );

    // The profile offers the same list, and saves what is typed the same way.
    let ada = app.verified_user("Ada Lovelace", ADA).await;
    let page = ada.get_text("/settings").await;
    assert!(
        page.contains("list=\"f-timezone-list\" value=\"Europe/Berlin\"")
            && page.contains("data-detect-timezone=\"offer\""),
        "{page}"
    );
    let res = ada
        .submit(
            "/settings",
            &[
                ("name", "Ada"),
                ("timezone", "new york"),
                ("language", "en"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.text(&format!("SELECT timezone FROM users WHERE email = '{ADA}'"))
            .await,
        "America/New_York"
    );
    let res = ada
        .submit(
            "/settings",
            &[
                ("name", "Ada"),
                ("timezone", "Etc/GMT-3"),
                ("language", "en"),
            ],
        )
        .await;
    expect_page(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Choose a time zone from the list",
    )
    .await;
}

async fn former_members_are_told_once_that_the_workspace_was_deleted(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ada = app.verified_user("Ada Lovelace", ADA).await;
    let acme = ada.new_workspace("Acme Social").await;
    // Bob has a workspace of his own; Carol only Ada's; Dan is an owner with Ada, so Ada's
    // "Studio" is handed over to him, not deleted.
    let bob = app.verified_user("Bob", "bob@example.com").await;
    let shop = bob.new_workspace("Bob Shop").await;
    let carol = app.verified_user("Carol", "carol@example.com").await;
    for (who, email) in [(&bob, "bob@example.com"), (&carol, "carol@example.com")] {
        app.join(&ada, acme, email, "editor", who).await;
    }
    let studio = ada.new_workspace("Studio").await;
    let dan = app.verified_user("Dan", "dan@example.com").await;
    app.join(&ada, studio, "dan@example.com", "owner", &dan)
        .await;
    app.exec("UPDATE users SET timezone = 'Pacific/Auckland' WHERE email = 'carol@example.com'")
        .await;

    app.delete_account(app.user_id(ADA).await).await;
    let notice = |tz: &str| {
        let tz = Timezone::parse(tz).unwrap();
        let started = chrono::Utc::now().with_timezone(&tz.tz());
        format!(
            "The workspace Acme Social was deleted by its owner on {}.",
            started.format("%-d %B %Y")
        )
    };

    // Carol lands on "Create your first workspace", told why; once.
    let res = carol.get("/dashboard").await;
    assert_eq!(location(res.headers()), "/workspaces/new");
    let page = carol.get_text("/workspaces/new").await;
    assert!(page.contains("Create your first workspace"), "{page}");
    assert!(
        page.contains(&notice("Pacific/Auckland")),
        "{}",
        words(&page)
    );
    let again = carol.get_text("/workspaces/new").await;
    assert!(!again.contains("was deleted by its owner"), "shown twice");

    // Bob lands on his own workspace, told the same.
    let res = bob.get("/dashboard").await;
    assert_eq!(location(res.headers()), format!("/w/{shop}"));
    let page = bob.get_text(&format!("/w/{shop}")).await;
    assert!(page.contains(&notice("Europe/Berlin")), "{}", words(&page));
    let again = bob.get_text(&format!("/w/{shop}")).await;
    assert!(!again.contains("was deleted by its owner"), "shown twice");

    // Dan's workspace was handed over, not deleted: no such notice.
    let page = dan.get_text(&format!("/w/{studio}")).await;
    assert!(!page.contains("was deleted by its owner"), "{page}");
    assert_eq!(app.count("SELECT COUNT(*) FROM notices").await, 0);
}

// ---- In the browser --------------------------------------------------------------------

/// A workspace with an account that has a scheduled post, a post and a file: what the browser
/// tests disconnect and delete. Returns (workspace, account, post, file).
async fn things_to_destroy(app: &TestApp) -> (i64, i64, i64, i64) {
    let s = setup(app).await;
    let post = schedule_post(app, s.ws, "Spring sale", &[s.x]).await;
    let file = app
        .upload_media(&s.client, s.ws, "hero.png", png(20, 10, 1))
        .await;
    (s.ws, s.x, post, file)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destructive_actions_ask_in_a_dialog_with_script() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let (ws, x, post, file) = things_to_destroy(&app).await;
    run_in(app, "confirm-js", true, async |b, app| {
        let base = &app.address;
        b.log_in(&app.address, ADA, "Acme").await?;

        // Disconnect: the dialog says what happens; Cancel leaves everything as it was.
        b.goto(&format!("{base}/w/{ws}/accounts")).await?;
        b.wait_for_heading("Connected accounts").await?;
        b.click(&format!("form[action='/w/{ws}/accounts/{x}/disconnect'] button")).await?;
        wait_until(b, "return !!document.querySelector('dialog.confirm-dialog[open]')").await?;
        let said = b.text("dialog.confirm-dialog").await?;
        ensure!(said.contains("Disconnect X @acme?"), "{said}");
        ensure!(
            said.contains("1 scheduled post for @acme will wait until the account is reconnected or the post is edited."),
            "{said}"
        );
        let focused = b.eval("return document.activeElement.hasAttribute('data-confirm-no')").await?;
        ensure!(focused == true, "the focus is not on Cancel");
        b.screenshot("disconnect-dialog").await?;
        b.click("dialog.confirm-dialog [data-confirm-no]").await?;
        wait_until(b, "return !document.querySelector('dialog.confirm-dialog')").await?;
        ensure!(b.url().await?.ends_with(&format!("/w/{ws}/accounts")), "the page changed");
        let status = app.text(&format!("SELECT status FROM social_accounts WHERE id = {x}")).await;
        ensure!(status == "connected", "cancelled, yet {status}");
        // Confirmed: the same form goes, and the account is disconnected.
        b.click(&format!("form[action='/w/{ws}/accounts/{x}/disconnect'] button")).await?;
        wait_until(b, "return !!document.querySelector('dialog.confirm-dialog[open]')").await?;
        b.click("dialog.confirm-dialog [data-confirm-yes]").await?;
        // The page it comes back to has the same heading: its message tells it apart.
        b.wait_for_text("The account is disconnected").await?;
        b.wait_for_heading("Connected accounts").await?;
        let status = app.text(&format!("SELECT status FROM social_accounts WHERE id = {x}")).await;
        ensure!(status == "disconnected", "confirmed, yet {status}");

        // Delete a post, from its page.
        b.goto(&format!("{base}/w/{ws}/posts/{post}")).await?;
        b.wait_for_heading("Post").await?;
        b.click(&format!("form[action='/w/{ws}/posts/{post}/delete'] button")).await?;
        wait_until(b, "return !!document.querySelector('dialog.confirm-dialog[open]')").await?;
        let said = b.text("dialog.confirm-dialog").await?;
        ensure!(said.contains("Delete this post?") && said.contains("This cannot be undone."), "{said}");
        b.screenshot("delete-post-dialog").await?;
        ensure!(app.count(&format!("SELECT COUNT(*) FROM posts WHERE id = {post}")).await == 1, "deleted before confirming");
        b.click("dialog.confirm-dialog [data-confirm-yes]").await?;
        b.wait_for_heading("Posts").await?;
        ensure!(app.count(&format!("SELECT COUNT(*) FROM posts WHERE id = {post}")).await == 0, "the post is still there");

        // Delete a file: its own section, and a dialog that says where it is used.
        b.goto(&format!("{base}/w/{ws}/media/{file}")).await?;
        b.wait_for_heading("hero.png").await?;
        b.click(&format!("form[action='/w/{ws}/media/{file}/delete'] button")).await?;
        wait_until(b, "return !!document.querySelector('dialog.confirm-dialog[open]')").await?;
        let said = b.text("dialog.confirm-dialog").await?;
        ensure!(said.contains("No post uses “hero.png”."), "{said}");
        b.screenshot("delete-file-dialog").await?;
        b.click("dialog.confirm-dialog [data-confirm-yes]").await?;
        b.wait_for_heading("Media library").await?;
        ensure!(app.count(&format!("SELECT COUNT(*) FROM media_items WHERE id = {file}")).await == 0, "the file is still there");
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destructive_actions_ask_on_a_page_without_script() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let (ws, x, post, file) = things_to_destroy(&app).await;
    run_in(app, "confirm-nojs", false, async |b, app| {
        let base = &app.address;
        b.log_in(&app.address, ADA, "Acme").await?;

        b.goto(&format!("{base}/w/{ws}/accounts")).await?;
        b.wait_for_heading("Connected accounts").await?;
        b.click(&format!("form[action='/w/{ws}/accounts/{x}/disconnect'] button")).await?;
        b.wait_for_heading("Disconnect X @acme?").await?;
        let page = b.body_text().await?;
        ensure!(
            page.contains("1 scheduled post for @acme will wait until the account is reconnected or the post is edited."),
            "{page}"
        );
        b.screenshot("disconnect-page").await?;
        let status = app.text(&format!("SELECT status FROM social_accounts WHERE id = {x}")).await;
        ensure!(status == "connected", "disconnected before confirming");
        // Cancel goes back, nothing done.
        b.click("[data-confirm-cancel]").await?;
        b.wait_for_heading("Connected accounts").await?;
        b.click(&format!("form[action='/w/{ws}/accounts/{x}/disconnect'] button")).await?;
        b.wait_for_heading("Disconnect X @acme?").await?;
        b.click("form[data-confirm-form] button[type=submit]").await?;
        b.wait_for_heading("Connected accounts").await?;
        let status = app.text(&format!("SELECT status FROM social_accounts WHERE id = {x}")).await;
        ensure!(status == "disconnected", "confirmed, yet {status}");

        b.goto(&format!("{base}/w/{ws}/posts/{post}")).await?;
        b.wait_for_heading("Post").await?;
        b.click(&format!("form[action='/w/{ws}/posts/{post}/delete'] button")).await?;
        b.wait_for_heading("Delete this post?").await?;
        ensure!(b.body_text().await?.contains("“Spring sale”"), "the post is not named");
        b.screenshot("delete-post-page").await?;
        b.click("form[data-confirm-form] button[type=submit]").await?;
        b.wait_for_heading("Posts").await?;
        ensure!(app.count(&format!("SELECT COUNT(*) FROM posts WHERE id = {post}")).await == 0, "the post is still there");

        b.goto(&format!("{base}/w/{ws}/media/{file}")).await?;
        b.wait_for_heading("hero.png").await?;
        b.click(&format!("form[action='/w/{ws}/media/{file}/delete'] button")).await?;
        b.wait_for_heading("Delete “hero.png”?").await?;
        b.screenshot("delete-file-page").await?;
        b.click("form[data-confirm-form] button[type=submit]").await?;
        b.wait_for_heading("Media library").await?;
        ensure!(app.count(&format!("SELECT COUNT(*) FROM media_items WHERE id = {file}")).await == 0, "the file is still there");
        Ok(())
    })
    .await;
}

/// The visible confirmation a saved cookie choice leaves on the page.
const SAVED: &str = "Your cookie choice is saved.";

async fn saved_is_shown(b: &Browser) -> Result<()> {
    let shown = b
        .eval(
            "return [...document.querySelectorAll('.messages .flash')].filter(e => e.offsetParent !== null && e.getBoundingClientRect().height > 0).map(e => e.textContent.trim()).join('|')",
        )
        .await?;
    ensure!(
        shown.as_str().is_some_and(|s| s.contains(SAVED)),
        "no visible confirmation: {shown}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_cookie_choice_is_shown_with_script() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    run_in(app, "consent-saved-js", true, async |b, app| {
        b.goto(&format!("{}/login", app.address)).await?;
        b.wait_for_heading("Log in").await?;
        b.eval("window.notReloaded = true; return 1").await?;
        b.click("[data-consent-banner] button[value=reject]")
            .await?;
        wait_until(
            b,
            "return document.querySelector('[data-consent-banner]') === null",
        )
        .await?;
        ensure!(
            b.eval("return window.notReloaded === true").await? == true,
            "the page reloaded"
        );
        saved_is_shown(b).await?;
        b.screenshot("saved").await?;
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_cookie_choice_is_shown_without_script() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    run_in(app, "consent-saved-nojs", false, async |b, app| {
        b.goto(&format!("{}/login", app.address)).await?;
        b.wait_for_heading("Log in").await?;
        b.click("[data-consent-banner] button[value=accept]")
            .await?;
        b.wait_for_heading("Log in").await?;
        ensure!(
            !b.exists("[data-consent-banner]").await?,
            "the banner is still there"
        );
        saved_is_shown(b).await?;
        b.screenshot("saved").await?;
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_time_zone_is_searched_and_detected_in_the_browser() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let fixture = {
        let s = setup(&app).await;
        let link = app
            .invite(&s.client, s.ws, "bob@example.com", "editor")
            .await;
        (s.ws, link)
    };
    run_in(app, "timezone", true, async |b, app| {
        let base = &app.address;
        let (ws, link) = &fixture;
        b.set_timezone("Asia/Tokyo").await?;
        // From the invitation to sign-up: the address is filled in, the zone detected.
        b.goto(&format!("{base}{link}")).await?;
        b.wait_for_heading("Join Acme").await?;
        b.click("[data-consent-banner] button[value=reject]")
            .await?;
        wait_until(
            b,
            "return document.querySelector('[data-consent-banner]') === null",
        )
        .await?;
        b.click("main a.button[href^='/signup?next=']").await?;
        b.wait_for_heading("Create your account").await?;
        ensure!(
            !b.url().await?.contains("bob"),
            "the address is in the link"
        );
        let email = b
            .eval("return document.querySelector('#f-email').value")
            .await?;
        ensure!(
            email == "bob@example.com",
            "the invited address is not filled in: {email}"
        );
        wait_until(
            b,
            "return document.querySelector('#f-timezone').value === 'Asia/Tokyo'",
        )
        .await?;
        ensure!(
            b.eval("return document.querySelector('#f-timezone').list.id")
                .await?
                == "f-timezone-list",
            "the field does not search the list"
        );
        b.screenshot("signup-invited").await?;
        b.fill("#f-name", "Bob").await?;
        b.fill("#f-password", PASSWORD).await?;
        b.click("#f-accept_policies").await?;
        b.click("form[action='/signup'] button[type=submit]")
            .await?;
        b.wait_for_heading("Check your inbox").await?;
        // The link in the e-mail confirms the address and leads back to the invitation.
        let confirm = app
            .last_mail_to("bob@example.com")
            .await
            .link(base, "/verify/");
        b.goto(&format!("{base}{confirm}")).await?;
        b.wait_for_heading("Confirm your e-mail address").await?;
        b.click("main form button[type=submit]").await?;
        b.wait_for_heading("Join Acme").await?;
        let zone = app
            .text("SELECT timezone FROM users WHERE email = 'bob@example.com'")
            .await;
        ensure!(zone == "Asia/Tokyo", "saved {zone}");
        b.click("main form button[type=submit]").await?;
        b.wait_for_heading("Acme").await?;
        ensure!(
            b.url().await?.ends_with(&format!("/w/{ws}")),
            "not in the workspace"
        );

        // The profile offers the device's zone without changing the saved one.
        b.goto(&format!("{base}/settings")).await?;
        b.wait_for_heading("Settings").await?;
        ensure!(
            !b.exists("button.detected-zone").await?,
            "offered the zone that is already saved"
        );
        app.exec("UPDATE users SET timezone = 'Europe/Lisbon' WHERE email = 'bob@example.com'")
            .await;
        b.goto(&format!("{base}/settings")).await?;
        b.wait_for_heading("Settings").await?;
        let value = b
            .eval("return document.querySelector('#f-timezone').value")
            .await?;
        ensure!(
            value == "Europe/Lisbon",
            "the saved zone was replaced: {value}"
        );
        let offer = b.text("button.detected-zone").await?;
        ensure!(offer.contains("Asia/Tokyo"), "{offer}");
        b.screenshot("profile-offer").await?;
        b.click("button.detected-zone").await?;
        b.click("form[action='/settings'] button[type=submit]")
            .await?;
        b.wait_for_heading("Settings").await?;
        let zone = app
            .text("SELECT timezone FROM users WHERE email = 'bob@example.com'")
            .await;
        ensure!(zone == "Asia/Tokyo", "saved {zone}");
        Ok(())
    })
    .await;
}

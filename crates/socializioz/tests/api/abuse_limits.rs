//! Limits that hold under attack: invitations are limited per address, inviter and workspace
//! (and their e-mail's subject names no one), and weak passwords are refused wherever a password
//! is set (sign-up, reset, change, `admin user set-password`).

use crate::both_backends;
use crate::helpers::{Backend, Client, TestApp, expect_page, spawn_app, spawn_app_with};
use crate::platform::{binary_for, run};
use reqwest::StatusCode;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use store::entities::invitation;

both_backends!(
    ten_invitations_to_one_address_send_only_the_limit,
    an_inviter_and_a_workspace_are_limited,
    weak_passwords_are_refused_wherever_a_password_is_set,
);

const SUBJECT: &str = "You're invited to a workspace on Socializioz";
const VICTIM: &str = "victim@example.com";

/// `who` invites `email` to `ws` as an editor; returns the response.
async fn invite(who: &Client, ws: i64, email: &str) -> reqwest::Response {
    who.submit(
        &format!("/w/{ws}/invitations"),
        &[("email", email), ("role", "editor")],
    )
    .await
}

async fn mails_to(app: &TestApp, email: &str) -> Vec<crate::helpers::Mail> {
    app.mails()
        .await
        .into_iter()
        .filter(|m| m.to == email)
        .collect()
}

async fn ten_invitations_to_one_address_send_only_the_limit(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let mallory = app
        .verified_user("Security Team", "mallory@example.com")
        .await;
    let bank = mallory.new_workspace("Bank — verify now").await;

    // Ten invitations to one address at once: the default limit, 3 a day, are sent.
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let client = mallory.clone();
        tasks.spawn(async move { invite(&client, bank, VICTIM).await });
    }
    let mut sent = 0;
    let mut refused = Vec::new();
    for res in tasks.join_all().await {
        match res.status() {
            StatusCode::SEE_OTHER => sent += 1,
            StatusCode::TOO_MANY_REQUESTS => refused.push(res.text().await.unwrap()),
            other => panic!("unexpected {other}: {}", res.text().await.unwrap()),
        }
    }
    assert_eq!((sent, refused.len()), (3, 7));
    for page in &refused {
        assert!(
            page.contains("One address can be sent at most 3 invitations in 24 hours"),
            "{page}"
        );
        // When the limit allows more, in the inviter's time zone.
        assert!(
            page.contains("(Europe/Berlin), in about 24 hours"),
            "{page}"
        );
    }
    let mails = mails_to(&app, VICTIM).await;
    assert_eq!(mails.len(), 3, "one e-mail per invitation sent");
    for mail in &mails {
        assert_eq!(mail.subject, SUBJECT);
        assert!(!mail.subject.contains("Bank") && !mail.subject.contains("Security"));
        // In the body the names are quoted and marked as typed by the inviter.
        assert!(mail.body.contains("\"Bank — verify now\""), "{}", mail.body);
        assert!(mail.body.contains("\"Security Team\""), "{}", mail.body);
        assert!(mail.body.contains("typed by the person who invited you"));
    }

    // The limit is per address across workspaces; other addresses are not affected.
    let other = mallory.new_workspace("Another").await;
    let res = invite(&mallory, other, VICTIM).await;
    expect_page(
        res,
        StatusCode::TOO_MANY_REQUESTS,
        "One address can be sent at most 3 invitations",
    )
    .await;
    assert_eq!(
        invite(&mallory, other, "someone@example.com")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );

    // Withdrawing the pending invitation does not give one back.
    let pending = app
        .count(&format!(
            "SELECT MAX(id) FROM invitations WHERE email = '{VICTIM}'"
        ))
        .await;
    let res = mallory
        .submit(&format!("/w/{bank}/invitations/{pending}/revoke"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        invite(&mallory, bank, VICTIM).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(mails_to(&app, VICTIM).await.len(), 3);

    // A day later the address may be invited again.
    invitation::Entity::update_many()
        .col_expr(
            invitation::Column::CreatedAt,
            Expr::value(services::now() - chrono::Duration::hours(25)),
        )
        .filter(invitation::Column::Email.eq(VICTIM))
        .exec(&app.services.db)
        .await
        .unwrap();
    assert_eq!(
        invite(&mallory, bank, VICTIM).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(mails_to(&app, VICTIM).await.len(), 4);
}

async fn an_inviter_and_a_workspace_are_limited(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |s| {
        s.invitations.per_inviter_per_hour = 3;
        s.invitations.per_workspace_per_day = 5;
    })
    .await
    else {
        return;
    };
    let alice = app.verified_user("Alice", "alice@example.com").await;
    let ws = alice.new_workspace("Team").await;
    let link = app.invite(&alice, ws, "bob@example.com", "admin").await;
    let bob = app.verified_user("Bob", "bob@example.com").await;
    bob.accept(&link).await;

    // Alice: 3 an hour, to any addresses.
    for n in 2..=3 {
        let res = invite(&alice, ws, &format!("a{n}@example.com")).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "invitation {n}");
    }
    let res = invite(&alice, ws, "a4@example.com").await;
    let page = expect_page(
        res,
        StatusCode::TOO_MANY_REQUESTS,
        "You can send at most 3 invitations an hour, and you have.",
    )
    .await;
    assert!(page.contains("(Europe/Berlin), in about "), "{page}");
    assert!(page.contains(" minutes."), "{page}");

    // Bob may still invite, until the workspace has sent 5 in a day.
    for n in 1..=2 {
        let res = invite(&bob, ws, &format!("b{n}@example.com")).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "invitation b{n}");
    }
    let res = invite(&bob, ws, "b3@example.com").await;
    let page = expect_page(
        res,
        StatusCode::TOO_MANY_REQUESTS,
        "A workspace can send at most 5 invitations in 24 hours, and this one has.",
    )
    .await;
    assert!(page.contains("in about 24 hours"), "{page}");
    // The form keeps the address typed, with the reason next to it.
    assert!(page.contains("value=\"b3@example.com\""), "{page}");

    // In a workspace of his own Bob has one invitation left of his 3 an hour.
    let own = bob.new_workspace("Bob's").await;
    assert_eq!(
        invite(&bob, own, "b3@example.com").await.status(),
        StatusCode::SEE_OTHER
    );
    expect_page(
        invite(&bob, own, "b4@example.com").await,
        StatusCode::TOO_MANY_REQUESTS,
        "You can send at most 3 invitations an hour",
    )
    .await;

    // Exactly the invitations that were accepted were e-mailed.
    let mails = app.mails().await;
    let invited: Vec<&str> = mails
        .iter()
        .filter(|m| m.subject == SUBJECT)
        .map(|m| m.to.as_str())
        .collect();
    let mut sorted = invited.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        [
            "a2@example.com",
            "a3@example.com",
            "b1@example.com",
            "b2@example.com",
            "b3@example.com",
            "bob@example.com",
        ]
    );
}

async fn weak_passwords_are_refused_wherever_a_password_is_set(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    const LISTED: &str = "This password is on lists of passwords known to attackers";
    const SHORT: &str = "Use at least 12 characters";
    // What each is refused with; the eleven-character one is on no list.
    let weak = [
        ("Summer2024!", LISTED),
        ("P@ssw0rd123456", LISTED),
        ("kq7Vt2mxw9R", SHORT),
    ];
    let strong = "violet kettle orbit mosaic";

    // Sign-up.
    let browser = app.client();
    for (password, reason) in weak {
        let res = browser.sign_up("Ada", "ada@example.com", password).await;
        let page = expect_page(res, StatusCode::UNPROCESSABLE_ENTITY, reason).await;
        assert!(!page.contains(password), "the page repeats {password}");
    }
    // The queue holds no sign-up: running it makes no account and sends nothing.
    assert!(app.mails().await.is_empty());
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0);
    let res = browser.sign_up("Ada", "ada@example.com", strong).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    app.last_mail_to("ada@example.com").await;
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 1);

    // Change, signed in.
    let grace = app.verified_user("Grace", "grace@example.com").await;
    for (password, reason) in weak {
        let res = grace.change_password(password).await;
        let page = expect_page(res, StatusCode::UNPROCESSABLE_ENTITY, reason).await;
        assert!(!page.contains(password), "the page repeats {password}");
    }
    let res = grace.change_password(strong).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    // Reset, through the e-mailed link.
    let stranger = app.client();
    let res = stranger
        .submit("/password/forgot", &[("email", "grace@example.com")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // The notice of the change above may be delivered in the same queue run: the reset is
    // the newest message with a reset link.
    let link = app
        .mails()
        .await
        .into_iter()
        .rev()
        .find(|m| m.to == "grace@example.com" && m.body.contains("/password/reset/"))
        .expect("the reset e-mail")
        .link(&app.address, "/password/reset/");
    for (password, reason) in weak {
        let res = stranger.submit(&link, &[("password", password)]).await;
        expect_page(res, StatusCode::UNPROCESSABLE_ENTITY, reason).await;
    }
    let res = stranger
        .submit(&link, &[("password", "quarry lantern velvet 7")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.client()
            .log_in("grace@example.com", "quarry lantern velvet 7")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );

    // The administrator's command.
    for (password, reason) in weak {
        let (ok, _, err) = set_password(&app, "grace@example.com", password);
        assert!(!ok && err.contains(&reason[..20]), "{password}: {err}");
        assert!(!err.contains(password), "the command repeats {password}");
    }
    let (ok, _, err) = set_password(&app, "grace@example.com", strong);
    assert!(ok, "{err}");
}

/// Runs `admin user set-password --email EMAIL` with `password` on standard input.
fn set_password(app: &TestApp, email: &str, password: &str) -> (bool, String, String) {
    let mut cmd = binary_for(app);
    cmd.args(["admin", "user", "set-password", "--email", email]);
    run(cmd, &format!("{password}\n"))
}

//! Accounts over HTTP: sign-up, verification, log-in, password reset and change, change of
//! address, sessions.

use crate::both_backends;
use crate::helpers::{Backend, PASSWORD, expect_page, location, spawn_app};
use reqwest::StatusCode;

both_backends!(
    a_password_change_voids_pending_links,
    a_form_from_an_ended_session_asks_to_log_in_again,
    sign_up_verify_log_in,
    bad_sign_up_input_is_explained_and_nothing_is_written,
    wrong_password_is_refused_without_a_session,
    log_in_attempts_are_limited_per_account_and_client,
    password_reset_link_works_once_and_expires,
    changing_the_password_signs_out_other_sessions,
    changing_the_address_needs_the_new_inbox,
    sessions_are_listed_and_can_be_signed_out,
);

async fn sign_up_verify_log_in(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let browser = app.client();
    let res = browser
        .sign_up("Ada Lovelace", "Ada@Example.com", PASSWORD)
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(res.headers()), "/signup/sent");
    let page = browser.get_text("/signup/sent").await;
    assert!(page.contains("Check your inbox"), "{page}");
    // Not signed in until the address is confirmed.
    assert_eq!(
        location(browser.get("/dashboard").await.headers()),
        "/login?next=%2Fdashboard"
    );

    // Before confirming, the password works (the account exists once the queue ran).
    let mail = app.last_mail_to("ada@example.com").await;
    let early = app.client();
    assert_eq!(
        early.log_in("ada@example.com", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    let page = early.get_text("/workspaces/new").await;
    assert!(
        page.contains("Please confirm your e-mail address"),
        "unverified notice missing"
    );

    assert_eq!(mail.subject, "Confirm your e-mail address for Socializioz");
    let link = mail.link(&app.address, "/verify/");
    let confirm = browser.get(&link).await;
    assert_eq!(confirm.status(), StatusCode::OK);
    assert_eq!(confirm.headers()["referrer-policy"], "no-referrer");
    assert!(confirm.text().await.unwrap().contains("ada@example.com"));
    // Opening the link alone confirms nothing (mail scanners open links).
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE email_verified_at IS NOT NULL")
            .await,
        0
    );
    let res = browser.submit(&link, &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE email_verified_at IS NOT NULL")
            .await,
        1
    );
    // The browser that signed up is signed in by its link.
    assert_eq!(location(res.headers()), "/dashboard");
    assert_eq!(browser.get("/settings").await.status(), StatusCode::OK);
    assert_eq!(browser.log_out().await.status(), StatusCode::SEE_OTHER);

    let res = browser.log_in("ada@example.com", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(res.headers()), "/dashboard");
    assert_eq!(
        location(browser.get("/dashboard").await.headers()),
        "/workspaces/new"
    );
    let settings = browser.get_text("/settings").await;
    assert!(settings.contains("Ada Lovelace"));
    assert!(settings.contains(
        "name=\"timezone\" type=\"text\" list=\"f-timezone-list\" value=\"Europe/Berlin\""
    ));
    assert!(!settings.contains("Please confirm your e-mail address"));

    // A used link is dead.
    let again = browser.submit(&link, &[]).await;
    expect_page(again, StatusCode::GONE, "expired or has already been used").await;
}

async fn bad_sign_up_input_is_explained_and_nothing_is_written(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let browser = app.client();
    let long_name = "n".repeat(101);
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[
                ("name", "Ada"),
                ("email", "not-an-address"),
                ("password", PASSWORD),
                ("timezone", "UTC"),
                ("language", "en"),
                ("accept_policies", "yes"),
            ],
            "Enter an e-mail address like name@example.com.",
        ),
        (
            &[
                ("name", "Ada"),
                ("email", "ada@example.com"),
                ("password", PASSWORD),
                ("timezone", "Mars/Olympus"),
                ("language", "en"),
                ("accept_policies", "yes"),
            ],
            "Choose a time zone from the list",
        ),
        (
            &[
                ("name", &long_name),
                ("email", "ada@example.com"),
                ("password", PASSWORD),
                ("timezone", "UTC"),
                ("language", "en"),
                ("accept_policies", "yes"),
            ],
            "Name can be at most 100 characters",
        ),
        (
            &[
                ("name", "Ada"),
                ("email", "ada@example.com"),
                ("password", "kq7Vt2mxw9R"),
                ("timezone", "UTC"),
                ("language", "en"),
                ("accept_policies", "yes"),
            ],
            "Use at least 12 characters",
        ),
        (
            &[
                ("name", "Ada"),
                ("email", "ada@example.com"),
                ("password", "password123"),
                ("timezone", "UTC"),
                ("language", "en"),
                ("accept_policies", "yes"),
            ],
            "known to attackers",
        ),
        (
            &[
                ("name", "Ada"),
                ("email", "ada@example.com"),
                ("password", PASSWORD),
                ("timezone", "UTC"),
                ("language", "xx"),
                ("accept_policies", "yes"),
            ],
            "Choose English, Deutsch or Español.",
        ),
    ];
    for (fields, message) in cases {
        let res = browser.submit("/signup", fields).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{message}");
        let html = res.text().await.unwrap();
        assert!(html.contains(message), "expected {message:?} in the page");
        assert!(
            html.contains("aria-invalid=\"true\""),
            "the field is not marked invalid"
        );
        // What was typed is kept, except the password.
        let name = fields
            .iter()
            .find(|(k, _)| *k == "name")
            .map(|(_, v)| *v)
            .unwrap_or_default();
        assert!(
            html.contains(&format!("value=\"{name}\"")),
            "the name was not kept"
        );
        assert!(!html.contains(PASSWORD), "the password was echoed back");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM jobs").await, 0);

    assert_eq!(
        browser
            .sign_up("Ada", "ada@example.com", PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    // A second sign-up with the address is answered like the first (see auth_abuse.rs) and
    // makes no second account: its owner gets a notice, with a reset link.
    let other = app.client();
    let res = other
        .sign_up("Impostor", " ADA@example.com ", PASSWORD)
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(res.headers()), "/signup/sent");
    app.mails().await;
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM email_tokens WHERE purpose = 'verify_email'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM email_tokens WHERE purpose = 'reset_password'")
            .await,
        1
    );
}

async fn wrong_password_is_refused_without_a_session(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    app.verified_user("Ada", "ada@example.com").await;
    let browser = app.client();
    for (email, password) in [
        ("ada@example.com", "wrong horse battery"),
        ("nobody@example.com", PASSWORD),
    ] {
        let res = browser.log_in(email, password).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            res.headers()
                .get_all("set-cookie")
                .iter()
                .all(|c| !c.to_str().unwrap().starts_with("sz_session="))
        );
        let html = res.text().await.unwrap();
        assert!(html.contains("That e-mail address and password do not match an account."));
        assert!(html.contains(&format!("value=\"{email}\"")));
    }
    assert_eq!(
        location(browser.get("/settings").await.headers()),
        "/login?next=%2Fsettings"
    );
}

async fn log_in_attempts_are_limited_per_account_and_client(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    app.verified_user("Ada", "ada@example.com").await;
    let attacker = app.client();
    for _ in 0..10 {
        let res = attacker
            .log_in("ada@example.com", "guess guess guess")
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    let res = attacker.log_in("ada@example.com", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(
            "Too many wrong passwords for this account from your network. Wait 15 minutes"
        ),
        "{html}"
    );
    // Attempts in parallel do not slip past the limit either.
    app.verified_user("Cleo", "cleo@example.com").await;
    let token = attacker.csrf().await;
    let guesses: Vec<_> = (0..15)
        .map(|i| {
            let guess = format!("parallel guess {i}");
            let attacker = attacker.clone();
            let token = token.clone();
            tokio::spawn(async move {
                attacker
                    .post_raw(
                        "/login",
                        &[
                            ("csrf", token.as_str()),
                            ("email", "cleo@example.com"),
                            ("password", guess.as_str()),
                        ],
                    )
                    .await
                    .status()
            })
        })
        .collect();
    let mut checked = 0;
    for g in guesses {
        if g.await.unwrap() == StatusCode::UNPROCESSABLE_ENTITY {
            checked += 1;
        }
    }
    assert_eq!(checked, 10, "exactly the limit of guesses may be checked");
    // The address has now failed 20 times across accounts: it is stopped for every account.
    app.verified_user("Bob", "bob@example.com").await;
    let res = attacker.log_in("bob@example.com", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Too many wrong passwords from your network."),
        "{html}"
    );
}

async fn password_reset_link_works_once_and_expires(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let old_session = app.verified_user("Ada", "ada@example.com").await;
    let browser = app.client();
    // Unknown addresses get the same answer and no e-mail.
    for email in ["nobody@example.com", "ada@example.com"] {
        let res = browser
            .submit("/password/forgot", &[("email", email)])
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(res.headers()), "/login");
    }
    let mails = app.mails().await;
    assert!(mails.iter().all(|m| m.to != "nobody@example.com"));
    let mail = app.last_mail_to("ada@example.com").await;
    assert_eq!(mail.subject, "Reset your Socializioz password");
    let link = mail.link(&app.address, "/password/reset/");

    let page = browser.get(&link).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    let weak = browser.submit(&link, &[("password", "kq7Vt2mxw9R")]).await;
    expect_page(
        weak,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Use at least 12 characters",
    )
    .await;

    let res = browser
        .submit(&link, &[("password", "a brand new passphrase")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // Every session ended, the old password is dead, the new one works.
    assert_eq!(
        location(old_session.get("/settings").await.headers()),
        "/login?next=%2Fsettings"
    );
    assert_eq!(
        browser.log_in("ada@example.com", PASSWORD).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        browser
            .log_in("ada@example.com", "a brand new passphrase")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );

    let reused = app.client();
    let res = reused
        .submit(&link, &[("password", "yet another passphrase")])
        .await;
    expect_page(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "expired or has already been used",
    )
    .await;

    // An expired link is refused too.
    expire_links(&app).await;
    let fresh = app.client();
    fresh
        .submit("/password/forgot", &[("email", "ada@example.com")])
        .await;
    let newest = app
        .last_mail_to("ada@example.com")
        .await
        .link(&app.address, "/password/reset/");
    assert_ne!(newest, link);
    assert_eq!(fresh.get(&newest).await.status(), StatusCode::OK);
    expire_links(&app).await;
    let res = fresh.get(&newest).await;
    expect_page(res, StatusCode::GONE, "expired").await;
}

/// Moves every link's expiry into the past.
async fn expire_links(app: &crate::helpers::TestApp) {
    use sea_orm::{EntityTrait, sea_query::Expr};
    use store::entities::email_token::{Column, Entity};
    let past = chrono::Utc::now() - chrono::Duration::hours(2);
    Entity::update_many()
        .col_expr(Column::ExpiresAt, Expr::value(past))
        .col_expr(Column::CreatedAt, Expr::value(past))
        .exec(&app.services.db)
        .await
        .unwrap();
}

async fn changing_the_password_signs_out_other_sessions(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let laptop = app.verified_user("Ada", "ada@example.com").await;
    let phone = app.client();
    assert_eq!(
        phone.log_in("ada@example.com", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );

    let wrong = laptop
        .submit(
            "/settings/password",
            &[
                ("current_password", "not it at all"),
                ("new_password", "a brand new passphrase"),
            ],
        )
        .await;
    expect_page(
        wrong,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Your password is not right.",
    )
    .await;

    let res = laptop.change_password("a brand new passphrase").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(laptop.get("/settings").await.status(), StatusCode::OK);
    assert_eq!(phone.get("/settings").await.status(), StatusCode::SEE_OTHER);
    let notice = app.last_mail_to("ada@example.com").await;
    assert_eq!(notice.subject, "Your Socializioz password was changed");
}

async fn changing_the_address_needs_the_new_inbox(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let browser = app.verified_user("Ada", "ada@example.com").await;
    app.verified_user("Bob", "bob@example.com").await;

    let taken = browser
        .submit(
            "/settings/email",
            &[("email", "bob@example.com"), ("password", PASSWORD)],
        )
        .await;
    expect_page(
        taken,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Another account uses this address.",
    )
    .await;
    let wrong = browser
        .submit(
            "/settings/email",
            &[("email", "ada@new.example"), ("password", "nope nope nope")],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let res = browser
        .submit(
            "/settings/email",
            &[("email", "Ada@New.Example"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = browser.get_text("/settings/email").await;
    assert!(page.contains("A change to <strong>ada@new.example</strong> is waiting"));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE email = 'ada@example.com'")
            .await,
        1
    );
    let notice = app.last_mail_to("ada@example.com").await;
    assert!(notice.body.contains("ada@new.example"));
    let link = app
        .last_mail_to("ada@new.example")
        .await
        .link(&app.address, "/verify/");
    assert_eq!(
        browser.submit(&link, &[]).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE email = 'ada@new.example' AND email_verified_at IS NOT NULL").await, 1);
    let again = app.client();
    assert_eq!(
        again.log_in("ada@new.example", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
}

async fn sessions_are_listed_and_can_be_signed_out(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let laptop = app.verified_user("Ada", "ada@example.com").await;
    let phone = app.client();
    phone.log_in("ada@example.com", PASSWORD).await;
    let tablet = app.client();
    tablet.log_in("ada@example.com", PASSWORD).await;

    let page = laptop.get_text("/settings/sessions").await;
    assert_eq!(page.matches("Firefox on Linux").count(), 3);
    assert_eq!(page.matches("This browser").count(), 1);

    // Another person's session id is not found.
    let mallory = app.verified_user("Mallory", "mallory@example.com").await;
    let ada_session: i64 = app.count("SELECT MIN(id) FROM sessions").await;
    let res = mallory
        .submit(&format!("/settings/sessions/{ada_session}/end"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    let res = laptop.submit("/settings/sessions/others/end", &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(phone.get("/settings").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        tablet.get("/settings").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(laptop.get("/settings").await.status(), StatusCode::OK);
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 2);
}

async fn a_password_change_voids_pending_links(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let browser = app.verified_user("Ada", "ada@example.com").await;
    // Someone who learned the password asks to move the account to their address...
    let res = browser
        .submit(
            "/settings/email",
            &[("email", "thief@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let stolen = app
        .last_mail_to("thief@example.com")
        .await
        .link(&app.address, "/verify/");
    // ...and the owner, warned by e-mail, changes the password.
    let res = browser.change_password("a brand new passphrase").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let thief = app.client();
    let res = thief.submit(&stolen, &[]).await;
    assert_eq!(res.status(), StatusCode::GONE);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE email = 'ada@example.com'")
            .await,
        1
    );

    // Asking for links again and again sends one a minute at most.
    expire_links(&app).await;
    browser
        .submit(
            "/settings/email",
            &[
                ("email", "ada@new.example"),
                ("password", "a brand new passphrase"),
            ],
        )
        .await;
    browser
        .submit(
            "/settings/email",
            &[
                ("email", "ada@other.example"),
                ("password", "a brand new passphrase"),
            ],
        )
        .await;
    let mails = app.mails().await;
    assert_eq!(
        mails.iter().filter(|m| m.to == "ada@new.example").count(),
        1
    );
    assert_eq!(
        mails.iter().filter(|m| m.to == "ada@other.example").count(),
        0
    );
}

async fn a_form_from_an_ended_session_asks_to_log_in_again(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let laptop = app.verified_user("Ada", "ada@example.com").await;
    let token = laptop.csrf().await;
    let phone = app.client();
    phone.log_in("ada@example.com", PASSWORD).await;
    phone.submit("/settings/sessions/others/end", &[]).await;
    // The laptop's page still holds a form made for its ended session.
    let res = laptop
        .post_raw(
            "/settings",
            &[
                ("csrf", token.as_str()),
                ("name", "Changed"),
                ("timezone", "UTC"),
                ("language", "en"),
                ("accept_policies", "yes"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(res.headers()), "/login");
    let page = laptop.get_text("/login").await;
    assert!(page.contains("Your session has ended, so nothing was changed."));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE name = 'Changed'")
            .await,
        0
    );
}

//! Versioned policies: the pages, publishing from the command line, the diff, and acceptance at
//! sign-up and at the billing checkout.

use crate::both_backends;
use crate::helpers::{Backend, PASSWORD, expect_page, location, spawn_app};
use crate::platform::run_admin;
use domain::UserId;
use reqwest::StatusCode;

both_backends!(
    the_six_policies_are_published_and_new_versions_follow_the_rules,
    accepting_policies_is_recorded_at_sign_up_and_checkout,
    a_diff_shows_the_policies_as_they_read_with_the_changes_marked,
);

/// The text of every `<{tag} class="diff-…">` highlight in `html`, tags inside removed, joined.
fn highlighted(html: &str, tag: &str) -> String {
    let open = format!("<{tag} class=\"diff-");
    let close = format!("</{tag}>");
    html.match_indices(&open)
        .map(|(at, _)| {
            let rest = &html[at..];
            let body = &rest[rest.find('>').unwrap() + 1..rest.find(&close).unwrap()];
            assert!(!body.contains('<'), "a highlight holds no tags: {body}");
            body.to_owned()
        })
        .collect::<Vec<_>>()
        .join("|")
}

/// The shipped Privacy Policy 1.0 and 1.1 compared: filled in and formatted as the policy pages
/// show them (no placeholders, no Markdown), with the paragraph 1.1 adds and the words it
/// changes in a list item marked.
async fn a_diff_shows_the_policies_as_they_read_with_the_changes_marked(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let diff = app
        .client()
        .get_text("/legal/privacy/diff?from=1.0&to=1.1")
        .await;
    assert!(
        diff.contains("<h1>Privacy Policy: changes from 1.0 to 1.1</h1>"),
        "{diff}"
    );
    for raw in ["{{", "}}", "## ", "**", "](/"] {
        assert!(!diff.contains(raw), "{raw:?} left in the diff: {diff}");
    }
    // Formatted: headings, lists and the facts the placeholders stand for.
    assert!(diff.contains("<h2>Who is responsible</h2>"), "{diff}");
    assert!(
        diff.contains("<li><strong>Account profile</strong>:"),
        "{diff}"
    );
    assert!(
        diff.contains("<li><strong>Sign-in sessions</strong>: 30 days"),
        "{diff}"
    );
    // The paragraph 1.1 inserts, highlighted, its link kept.
    let inserted = highlighted(&diff, "ins");
    assert!(
        inserted.contains(
            "repeats these steps and, once you are signed in, shows what we revoked when you \
             disconnected an account."
        ),
        "{inserted}"
    );
    assert!(
        diff.contains("<a href=\"/help/revoke-access\"><ins class=\"diff-added\">Removing Socializioz from a platform</ins></a>"),
        "{diff}"
    );
    // Words changed inside a list item: what goes struck through, what comes highlighted, the
    // rest of the item as it was.
    assert!(
        inserted.contains("builds a ZIP file of everything"),
        "{inserted}"
    );
    let removed = highlighted(&diff, "del");
    assert!(
        removed.contains("the operator sends you a copy of anything else on request."),
        "{removed}"
    );
    assert!(
        diff.contains("<li><strong>See your data</strong> and <strong>take a copy of it</strong>:"),
        "{diff}"
    );
    assert!(!removed.contains("See your data") && !inserted.contains("See your data"));
    // What did not change is not marked.
    assert!(!inserted.contains("Who is responsible") && !removed.contains("Who is responsible"));
}

async fn the_six_policies_are_published_and_new_versions_follow_the_rules(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let visitor = app.client();
    for (slug, title) in [
        ("terms", "Terms of Service"),
        ("privacy", "Privacy Policy"),
        ("refund", "Refund Policy"),
        ("acceptable-use", "Acceptable Use Policy"),
        ("data-deletion", "Data Deletion Policy"),
    ] {
        let html = visitor.get_text(&format!("/legal/{slug}")).await;
        assert!(html.contains(&format!("<h1>{title}</h1>")), "{slug}");
        // The Privacy Policy is at 1.1 since the export shipped; the Data Deletion Policy at
        // 1.2 since posts and files in workspaces others keep are deleted too.
        let version = match slug {
            "privacy" => "version 1.1",
            "data-deletion" => "version 1.2",
            _ => "version 1.0",
        };
        assert!(html.contains(version) && html.contains("SHA-256"), "{slug}");
        assert!(!html.contains("{{"), "{slug} has an unfilled placeholder");
    }
    // The Privacy Policy's facts come from the code and settings.
    let privacy = visitor.get_text("/legal/privacy").await;
    assert!(
        privacy.contains("<strong>Account profile</strong>") && privacy.contains("password hash")
    );
    assert!(privacy.contains("<strong>Consent records</strong>"));
    assert!(privacy.contains("<strong>Sign-in sessions</strong>: 30 days"));
    assert!(privacy.contains("sends your data to no third party"));
    // The cookie policy's text is on the cookie page.
    assert!(
        visitor
            .get_text("/legal/cookies")
            .await
            .contains("Version 1.0, in effect from")
    );
    for missing in [
        "/legal/nonsense",
        "/legal/terms/v/9.9",
        "/legal/terms/diff?from=1.0&to=9.9",
    ] {
        assert_eq!(
            visitor.get(missing).await.status(),
            StatusCode::NOT_FOUND,
            "{missing}"
        );
    }

    // Publishing: the version must grow and the date may not lie in the past.
    let file = app.data.0.join("terms-1.1.md");
    let old = app
        .text("SELECT body FROM policy_versions WHERE kind = 'terms'")
        .await;
    std::fs::write(
        &file,
        old.replace(
            "# Terms of Service",
            "# Terms of Service\n\nA new first paragraph.",
        ),
    )
    .unwrap();
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let publish = |version: &str, effective: &str| {
        run_admin(
            &app,
            &[
                "admin",
                "policy",
                "publish",
                "--kind",
                "terms",
                "--version",
                version,
                "--effective",
                effective,
                "--file",
                file.to_str().unwrap(),
                "--summary",
                "A new first paragraph.",
            ],
        )
    };
    let (ok, _, err) = publish("1.0", &today);
    assert!(
        !ok && err.contains("not greater than the newest one, 1.0"),
        "{err}"
    );
    let (ok, _, err) = publish("1.1", "2020-01-01");
    assert!(!ok && err.contains("lies in the past"), "{err}");
    let (ok, _, err) = publish("one", &today);
    assert!(!ok && err.contains("not a version"), "{err}");
    let (ok, out, err) = publish("1.1", &today);
    assert!(ok, "{err}");
    assert!(
        out.contains("Published the Terms of Service version 1.1"),
        "{out}"
    );

    let current = visitor.get_text("/legal/terms").await;
    assert!(current.contains("version 1.1") && current.contains("A new first paragraph."));
    let versions = visitor.get_text("/legal/terms/versions").await;
    assert!(versions.contains("/legal/terms/diff?from=1.0&amp;to=1.1"));
    let diff = visitor.get_text("/legal/terms/diff?from=1.0&to=1.1").await;
    assert!(
        diff.contains("<p><ins class=\"diff-added\">A new first paragraph.</ins></p>"),
        "{diff}"
    );
    let old_page = visitor.get_text("/legal/terms/v/1.0").await;
    assert!(
        old_page.contains("not the version in effect")
            && !old_page.contains("A new first paragraph.")
    );
}

async fn accepting_policies_is_recorded_at_sign_up_and_checkout(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let browser = app.client();
    let res = browser
        .submit(
            "/signup",
            &[
                ("name", "Ada"),
                ("email", "ada@example.com"),
                ("password", PASSWORD),
                ("timezone", "UTC"),
                ("language", "en"),
            ],
        )
        .await;
    expect_page(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "To create an account, accept the Terms of Service",
    )
    .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM consent_ledger").await, 0);

    assert_eq!(
        browser
            .sign_up("Ada", "ada@example.com", PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    // The queued sign-up records the acceptance with the account.
    app.mails().await;
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM policy_acceptances a JOIN policy_versions v ON v.kind = a.kind AND v.version = a.version \
             WHERE a.source = 'signup' AND v.effective_at = (SELECT MAX(effective_at) FROM policy_versions w WHERE w.kind = a.kind)"
        )
        .await,
        4
    );
    for kind in ["terms", "privacy", "acceptable-use", "data-deletion"] {
        assert_eq!(
            app.count(&format!("SELECT COUNT(*) FROM policy_acceptances a JOIN policy_versions v ON v.kind = a.kind AND v.version = a.version AND v.sha256 = a.sha256 WHERE a.kind = '{kind}'")).await,
            1,
            "{kind}"
        );
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM consent_ledger WHERE event = 'policy_accept' AND source = 'signup' AND user_id IS NOT NULL").await, 1);

    // The call the billing checkout will make: the Terms and the Refund Policy.
    let user_id = app.count("SELECT id FROM users").await;
    let who = services::policies::Acceptor {
        user_id,
        consent_id: None,
        locale: "en".into(),
        client: "203.0.113.5".into(),
        browser: "Firefox on Linux".into(),
    };
    app.services.accept_at_checkout(&who).await.unwrap();
    assert_eq!(
        app.count("SELECT COUNT(*) FROM policy_acceptances WHERE source = 'billing_checkout'")
            .await,
        2
    );
    let policies = app
        .text("SELECT policies FROM consent_ledger WHERE source = 'billing_checkout'")
        .await;
    assert!(
        policies.contains("\"refund\"")
            && policies.contains("\"terms\"")
            && !policies.contains("privacy"),
        "{policies}"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM consent_ledger WHERE ip_hash LIKE '%203.0.113%'")
            .await,
        0
    );
    assert_eq!(
        app.services.verify_consent_chain().await.unwrap(),
        services::consent::ChainReport::Intact { rows: 2 }
    );
}

both_backends!(a_new_version_asks_for_acceptance_and_blocks_workspace_changes_until_then);

async fn a_new_version_asks_for_acceptance_and_blocks_workspace_changes_until_then(
    backend: Backend,
) {
    use domain::policy::{PolicyKind, PolicyVersion};
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ada = app.verified_user("Ada", "ada@example.com").await;
    let res = ada.submit("/workspaces/new", &[("name", "Acme")]).await;
    let ws = crate::helpers::id_from_location(res.headers());
    // Nothing pending: pages open as usual.
    assert_eq!(ada.get(&format!("/w/{ws}")).await.status(), StatusCode::OK);

    let body = app
        .text("SELECT body FROM policy_versions WHERE kind = 'privacy' AND version = '1.1'")
        .await;
    app.services
        .publish_policy(
            PolicyKind::Privacy,
            &PolicyVersion::parse("1.2").unwrap(),
            chrono::Utc::now(),
            &format!("{body}\n\nA new closing line."),
            "A closing line about our address.",
        )
        .await
        .unwrap();

    // The next page is the interstitial, with the summary and a link to the differences.
    let res = ada.get(&format!("/w/{ws}")).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(res.headers()),
        format!("/policies/review?next=%2Fw%2F{ws}")
    );
    let review = ada
        .get_text(&format!("/policies/review?next=/w/{ws}"))
        .await;
    assert!(
        review.contains("Privacy Policy 1.2")
            && review.contains("A closing line about our address.")
    );
    assert!(review.contains("/legal/privacy/diff?from=1.1&amp;to=1.2"));

    // Workspace changes are refused; settings, privacy and the policies stay open.
    let res = ada
        .submit(&format!("/w/{ws}/rename"), &[("name", "Changed")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(location(res.headers()).starts_with("/policies/review"));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM workspaces WHERE name = 'Changed'")
            .await,
        0
    );
    for open in [
        "/settings",
        "/settings/privacy",
        "/settings/privacy/consent.json",
        "/legal/privacy",
    ] {
        assert_eq!(ada.get(open).await.status(), StatusCode::OK, "{open}");
    }

    // Joining another workspace is a workspace change too.
    let res = ada.submit("/invitations/some-token", &[]).await;
    assert!(location(res.headers()).starts_with("/policies/review"));
    // "Later": reading works again, with a notice; changing still does not.
    let res = ada
        .submit("/policies/later", &[("next", &format!("/w/{ws}"))])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = ada.get_text(&format!("/w/{ws}")).await;
    assert!(page.contains("Updated policies are waiting for you"));
    let res = ada
        .submit(&format!("/w/{ws}/rename"), &[("name", "Changed")])
        .await;
    assert!(location(res.headers()).starts_with("/policies/review"));

    // Accepting what the page showed, when something newer has taken effect meanwhile, records
    // nothing and shows the current versions.
    let res = ada
        .submit(
            "/policies/accept",
            &[("policy", "privacy:1.1"), ("next", &format!("/w/{ws}"))],
        )
        .await;
    expect_page(res, StatusCode::CONFLICT, "changed while you were reading").await;
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM policy_acceptances WHERE kind = 'privacy' AND version = '1.2'"
        )
        .await,
        0
    );

    // Accepting records the new version (source policy_update) and lifts the block.
    let res = ada
        .submit(
            "/policies/accept",
            &[("policy", "privacy:1.2"), ("next", &format!("/w/{ws}"))],
        )
        .await;
    assert_eq!(location(res.headers()), format!("/w/{ws}"));
    assert_eq!(app.count("SELECT COUNT(*) FROM policy_acceptances WHERE kind = 'privacy' AND version = '1.2' AND source = 'policy_update'").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM consent_ledger WHERE event = 'policy_accept' AND source = 'policy_update' AND policies LIKE '%1.2%'").await, 1);
    let res = ada
        .submit(&format!("/w/{ws}/rename"), &[("name", "Changed")])
        .await;
    assert_eq!(location(res.headers()), format!("/w/{ws}/settings"));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM workspaces WHERE name = 'Changed'")
            .await,
        1
    );
    assert!(
        !ada.get_text(&format!("/w/{ws}"))
            .await
            .contains("Updated policies are waiting for you")
    );
    // An account made by the administrator has accepted nothing: it is asked for the sign-up
    // policies, and only those.
    let admin_made = app
        .services
        .create_account(services::accounts::NewAccount {
            name: domain::PersonName::parse("Root").unwrap(),
            email: domain::Email::parse("root@example.com").unwrap(),
            password: domain::Password::parse(PASSWORD, None).unwrap(),
            timezone: domain::Timezone::utc(),
            language: domain::Language::English,
        })
        .await
        .unwrap();
    let pending = app
        .services
        .pending_policies(UserId(admin_made.id))
        .await
        .unwrap();
    let kinds: Vec<_> = pending.iter().map(|p| p.kind).collect();
    assert_eq!(
        kinds,
        vec![
            PolicyKind::Terms,
            PolicyKind::Privacy,
            PolicyKind::AcceptableUse,
            PolicyKind::DataDeletion
        ]
    );
    assert!(pending.iter().all(|p| p.accepted.is_none()));
}

both_backends!(the_privacy_policy_describes_only_what_this_instance_does);

/// The published texts describe AI features and billing; this version of the product has
/// neither (no AI provider and no payment processor can be configured), so the rendered
/// policies say so instead: no provider named, no subscription or invoice purpose.
async fn the_privacy_policy_describes_only_what_this_instance_does(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let client = app.client();
    let privacy = client.get_text("/legal/privacy").await;
    assert!(
        privacy.contains("This instance has no AI features"),
        "{privacy}"
    );
    for absent in [
        "OpenAI",
        "Runway",
        "Hedra",
        "ElevenLabs",
        "To bill your subscription",
    ] {
        assert!(!privacy.contains(absent), "{absent} in {privacy}");
    }
    // The rest of the policy is all there.
    for present in [
        "Who processes data for us",
        "Connected social accounts",
        "Your rights",
    ] {
        assert!(privacy.contains(present), "{present}");
    }
    assert!(!privacy.contains("{{"), "{privacy}");
    let deletion = client.get_text("/legal/data-deletion").await;
    assert!(
        !deletion.contains("your billing and subscription data"),
        "{deletion}"
    );
    // An earlier version reads the same way.
    let old = client.get_text("/legal/privacy/v/1.0").await;
    assert!(old.contains("This instance has no AI features") && !old.contains("OpenAI"));
}

/// Every outside service the settings configure is a processor in the Privacy Policy: the
/// S3 store too.
#[test]
fn an_s3_store_is_listed_among_the_processors() {
    let mut settings = socializioz::config::Settings::default();
    assert!(settings.processors().is_empty());
    settings.media.s3 = Some(socializioz::config::S3Settings {
        bucket: "acme-media".into(),
        region: "eu-west-1".into(),
        endpoint: Some("https://minio.example.com:9000/".into()),
        access_key_id: "key".into(),
        secret_access_key: secrecy::SecretString::from("secret"),
    });
    let processors = settings.processors();
    assert_eq!(processors.len(), 1, "{processors:?}");
    assert_eq!(
        processors[0].0,
        "Object store (https://minio.example.com:9000, bucket acme-media)"
    );
    settings.media.s3.as_mut().unwrap().endpoint = None;
    assert_eq!(
        settings.processors()[0].0,
        "Object store (Amazon S3, eu-west-1, bucket acme-media)"
    );
}

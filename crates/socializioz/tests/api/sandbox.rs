//! The newcomer's path in sandbox mode, on both databases: connect all five platforms through
//! their real adapters against the in-process simulator (choosing one of two Facebook pages),
//! then schedule one post with an image to every account and see it go out to each, and open
//! each post's link. The browser meets the simulator only at the server's own public address
//! (`/_sandbox/…`), so the sandbox works on a remote host too.

use crate::both_backends;
use crate::connect::{at_platform, callback_path, sandbox, sim_posts, start_platform};
use crate::fixtures::owner_with_workspace;
use crate::helpers::{
    Backend, Client, PASSWORD, TestApp, id_from_location, jpeg, location, spawn_app_with,
};
use domain::Platform;
use reqwest::StatusCode;

both_backends!(
    all_five_platforms_connect_and_publish_a_scheduled_post,
    pages_of_one_login_keep_its_authorisation_until_the_last_is_disconnected,
    the_sandbox_is_served_at_the_public_address,
);

/// The value of the first `<input name="{name}" value="…">` in `html`.
pub(crate) fn input_values(html: &str, name: &str) -> Vec<String> {
    let marker = format!("name=\"{name}\" value=\"");
    html.match_indices(&marker)
        .map(|(at, _)| {
            let rest = &html[at + marker.len()..];
            rest[..rest.find('"').unwrap()].to_owned()
        })
        .collect()
}

/// Runs the queue; the one post is published (else the targets' last error is shown).
async fn publishes_the_post(app: &TestApp) {
    app.worker().run_until_empty().await.unwrap();
    let failures = app
        .text("SELECT COALESCE(MAX(last_error), '') FROM post_targets")
        .await;
    assert_eq!(
        app.text("SELECT state FROM posts").await,
        "published",
        "{failures}"
    );
}

/// Sends the chooser's form: connect `pages` with the pending `choice`.
pub(crate) async fn choose(client: &Client, choice: &str, pages: &[String]) -> reqwest::Response {
    let mut fields = vec![("choice_state", choice)];
    fields.extend(pages.iter().map(|p| ("account", p.as_str())));
    client.submit("/oauth/choose", &fields).await
}

/// Connects `platform`, choosing the first account offered when the login has several.
/// Returns the simulator's base URL.
pub(crate) async fn connect(app: &TestApp, client: &Client, ws: i64, platform: Platform) -> String {
    connect_at(app, client, ws, platform, &app.address).await
}

/// [`connect`] for an app whose public address is `public`: the browser is sent to the
/// simulator's pages there, and comes back there (the test reaches that address at the app's
/// own, as a proxy in front of it would). Returns the simulator's base URL on the app.
async fn connect_at(
    app: &TestApp,
    client: &Client,
    ws: i64,
    platform: Platform,
    public: &str,
) -> String {
    let seen = start_platform(client, ws, platform.slug()).await;
    assert!(
        seen.starts_with(&format!("{public}/_sandbox/{}/", platform.slug())),
        "{platform}: the authorisation page is on the server's public address: {seen}"
    );
    let authorize = seen.replacen(public, &app.address, 1);
    // Exactly the scopes publishing needs (a first comment included): nothing for insights
    // or for reading comments.
    let scope: String = form_urlencoded::parse(authorize.split_once('?').unwrap().1.as_bytes())
        .find(|(k, _)| k == "scope")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let mut scopes: Vec<&str> = scope.split([' ', ',']).filter(|s| !s.is_empty()).collect();
    scopes.sort_unstable();
    let minimal: &[&str] = match platform {
        // Publishing, and commenting as the page or account for a post's first comment.
        Platform::Facebook => &[
            "pages_manage_engagement",
            "pages_manage_posts",
            "pages_read_engagement",
            "pages_show_list",
        ],
        Platform::Instagram => &[
            "instagram_business_basic",
            "instagram_business_content_publish",
            "instagram_business_manage_comments",
        ],
        Platform::TikTok => &["user.info.basic", "video.publish"],
        Platform::X => &[
            "media.write",
            "offline.access",
            "tweet.read",
            "tweet.write",
            "users.read",
        ],
        Platform::LinkedIn => &["openid", "profile", "w_member_social"],
    };
    assert_eq!(scopes, minimal, "{platform}: {authorize}");
    let back = at_platform(&authorize, "allow")
        .await
        .replacen(public, &app.address, 1);
    let res = client.get(&callback_path(app, &back)).await;
    if platform == Platform::Facebook {
        // Two pages: the person chooses.
        assert_eq!(res.status(), StatusCode::OK);
        let page = res.text().await.unwrap();
        assert!(
            page.contains("acme Bakery") && page.contains("acme Studio"),
            "{page}"
        );
        let choice = input_values(&page, "choice_state");
        let pages = input_values(&page, "account");
        assert_eq!((choice.len(), pages.len()), (1, 2), "{page}");
        assert!(
            !page.contains(&format!("choice={}", choice[0])),
            "the choice travels in the form, not a URL"
        );
        let res = choose(client, &choice[0], &pages[..1]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(res.headers()), format!("/w/{ws}/accounts"));
        // The choice works once.
        let again = choose(client, &choice[0], &pages[1..]).await;
        assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY);
    } else {
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{platform}");
        assert_eq!(location(res.headers()), format!("/w/{ws}/accounts"));
    }
    let prefix = format!("/{}/", platform.slug());
    authorize.split(&prefix).next().unwrap().to_owned()
}

async fn all_five_platforms_connect_and_publish_a_scheduled_post(backend: Backend) {
    let Some(app) = sandbox(backend).await else {
        return;
    };
    let (client, ws) = owner_with_workspace(&app, "ada@example.com").await;
    let mut sim = String::new();
    for platform in Platform::ALL {
        sim = connect(&app, &client, ws, platform).await;
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM social_accounts WHERE status = 'connected'")
            .await,
        5,
        "one account per platform; one Facebook page of two"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM account_tokens").await, 5);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM oauth_states").await,
        0,
        "every state and choice is spent"
    );
    let page = client.get_text(&format!("/w/{ws}/accounts")).await;
    assert!(page.contains("followers"), "follower counts are shown");

    // The platforms' real tokens are nowhere in the database, in whole or in part.
    let bytes = crate::tokens::database_bytes(&app);
    assert!(
        crate::tokens::contains(&bytes, "w_member_social"),
        "the scan sees the tokens table"
    );
    for platform in Platform::ALL {
        let id = app
            .count(&format!(
                "SELECT id FROM social_accounts WHERE platform = '{}'",
                platform.slug()
            ))
            .await;
        let tokens = app.tokens_of(id).await;
        for token in std::iter::once(&tokens.access).chain(tokens.refresh.as_ref()) {
            let token = secrecy::ExposeSecret::expose_secret(token);
            assert!(token.len() > 20, "{platform}: a real token");
            for needle in [token, &token[token.len() - 16..]] {
                assert!(
                    !crate::tokens::contains(&bytes, needle),
                    "{platform}'s token found at rest"
                );
            }
        }
    }

    // One post with an image to all five, scheduled for the day after tomorrow.
    let res = client
        .upload(
            &format!("/w/{ws}/media/upload"),
            &[],
            vec![("spring.jpg", jpeg(64, 48, 99))],
            true,
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let media = app.count("SELECT id FROM media_items").await.to_string();
    let accounts: Vec<String> = {
        let mut ids = Vec::new();
        for platform in Platform::ALL {
            let id = app
                .count(&format!(
                    "SELECT id FROM social_accounts WHERE platform = '{}'",
                    platform.slug()
                ))
                .await;
            ids.push(id.to_string());
        }
        ids
    };
    let when = format!(
        "{}T10:00",
        (chrono::Utc::now() + chrono::Duration::days(2)).format("%Y-%m-%d")
    );
    let mut fields: Vec<(&str, &str)> = vec![
        ("body", "Spring is here #spring"),
        ("media", &media),
        ("scheduled_at", &when),
        ("action", "schedule"),
    ];
    for id in &accounts {
        fields.push(("account", id));
    }
    let res = client.submit(&format!("/w/{ws}/posts"), &fields).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.text("SELECT state FROM posts").await, "scheduled");

    // The time comes.
    app.exec("UPDATE jobs SET run_at = '2000-01-01 00:00:00+00:00' WHERE kind = 'publish'")
        .await;
    publishes_the_post(&app).await;
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM post_targets WHERE state = 'published' AND permalink IS NOT NULL"
        )
        .await,
        5
    );
    let published = sim_posts(&sim).await;
    let mut platforms: Vec<&str> = published
        .iter()
        .map(|p| p["platform"].as_str().unwrap())
        .collect();
    platforms.sort_unstable();
    assert_eq!(
        platforms,
        ["facebook", "instagram", "linkedin", "tiktok", "x"],
        "exactly one post on each platform"
    );
    for post in &published {
        assert!(
            post["text"].as_str().unwrap().starts_with("Spring is here"),
            "{post}"
        );
        assert_eq!(post["media"][0]["kind"], "image", "{post}");
    }
    views_of_the_posts(&app, &app.address, &Platform::ALL, &published).await;
}

/// Every "View on …" link of a published post, as stored for the post's page: it is on the
/// server's `public` address, and opens the simulator's page of that post (reached at the
/// app's own address) with the platform, the account, the text, the media as `published` lists
/// them, and a banner saying nothing was published; the same link with an unknown id is a 404.
async fn views_of_the_posts(
    app: &TestApp,
    public: &str,
    platforms: &[Platform],
    published: &[serde_json::Value],
) {
    for &platform in platforms {
        let of_platform = |column: &str| {
            format!(
                "SELECT t.{column} FROM post_targets t JOIN social_accounts a ON a.id = t.account_id \
                 WHERE a.platform = '{}' AND t.state = 'published'",
                platform.slug()
            )
        };
        let link = app.text(&of_platform("permalink")).await;
        let id = app.text(&of_platform("platform_post_id")).await;
        assert!(
            link.starts_with(&format!("{public}/_sandbox/{}/web/", platform.slug())),
            "{platform}: {link}"
        );
        let link = link.replacen(public, &app.address, 1);
        let res = reqwest::get(&link).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{platform}: {link}");
        let page = res.text().await.unwrap();
        let post = published
            .iter()
            .find(|p| p["platform"] == platform.slug())
            .unwrap();
        let account = match platform {
            Platform::Facebook => "acme Bakery",
            _ => "@acme",
        };
        for expected in [
            "Simulated post — nothing was published",
            &format!("{} post by {account}", platform.label()),
            post["text"].as_str().unwrap(),
        ] {
            assert!(
                page.contains(expected),
                "{platform}: {expected:?} in {page}"
            );
        }
        for media in post["media"].as_array().unwrap() {
            let shown = format!("<li>{} · ", media["kind"].as_str().unwrap());
            let size = format!("({} bytes)", media["bytes"]);
            assert!(
                page.contains(&shown) && page.contains(&size),
                "{platform}: {media} in {page}"
            );
        }
        let unknown = link.replace(&id, &format!("{id}0"));
        assert_ne!(unknown, link);
        let res = reqwest::get(&unknown).await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{platform}: {unknown}");
    }
}

/// `serve --sandbox` on a remote host or in a container, reached from a laptop at its public
/// address: the browser is sent to the simulator's authorisation pages and to the posts' pages
/// there (under `/_sandbox`), never to the simulator's own loopback port, and the whole flow
/// works through them.
async fn the_sandbox_is_served_at_the_public_address(backend: Backend) {
    const PUBLIC: &str = "http://social.example.test";
    let Some(app) = spawn_app_with(backend, |s| {
        s.platforms.sandbox = true;
        s.server.public_url = Some(format!("{PUBLIC}/"));
    })
    .await
    else {
        return;
    };
    // Signing up: the confirmation link is on the public address too.
    let client = app.client();
    let res = client
        .sign_up("Ada Lovelace", "ada@example.com", PASSWORD)
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let link = app
        .last_mail_to("ada@example.com")
        .await
        .link(PUBLIC, "/verify/");
    assert_eq!(
        client.submit(&link, &[]).await.status(),
        StatusCode::SEE_OTHER
    );
    let res = client.submit("/workspaces/new", &[("name", "Acme")]).await;
    let ws = id_from_location(res.headers());
    let mut sim = String::new();
    for platform in Platform::ALL {
        sim = connect_at(&app, &client, ws, platform, PUBLIC).await;
    }
    assert_eq!(sim, format!("{}/_sandbox", app.address));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM social_accounts WHERE status = 'connected'")
            .await,
        5
    );

    // A text post now (Instagram and TikTok would fetch media from the public address, which
    // this test cannot serve) to the three platforms that take text alone.
    let text_only = [Platform::Facebook, Platform::X, Platform::LinkedIn];
    let mut fields: Vec<(&str, &str)> = vec![("body", "Hello from afar"), ("action", "now")];
    let mut accounts = Vec::new();
    for platform in text_only {
        let id = app
            .count(&format!(
                "SELECT id FROM social_accounts WHERE platform = '{}'",
                platform.slug()
            ))
            .await;
        accounts.push(id.to_string());
    }
    fields.extend(accounts.iter().map(|id| ("account", id.as_str())));
    let res = client.submit(&format!("/w/{ws}/posts"), &fields).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    publishes_the_post(&app).await;
    let published = sim_posts(&sim).await;
    assert_eq!(published.len(), 3);
    views_of_the_posts(&app, PUBLIC, &text_only, &published).await;
}

/// Two Facebook pages connected from one login share that person's authorisation: revoking it
/// when the first is disconnected would silently cut off the second. It is revoked with the
/// last.
async fn pages_of_one_login_keep_its_authorisation_until_the_last_is_disconnected(
    backend: Backend,
) {
    let Some(app) = sandbox(backend).await else {
        return;
    };
    let (client, ws) = owner_with_workspace(&app, "ada@example.com").await;
    let authorize = start_platform(&client, ws, "facebook").await;
    let back = at_platform(&authorize, "allow").await;
    let page = client
        .get(&callback_path(&app, &back))
        .await
        .text()
        .await
        .unwrap();
    let choice = input_values(&page, "choice_state");
    let pages = input_values(&page, "account");
    let res = choose(&client, &choice[0], &pages).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.count("SELECT COUNT(DISTINCT authorized_by) FROM social_accounts WHERE status = 'connected' AND authorized_by IS NOT NULL")
            .await,
        1,
        "both pages record the one person who authorised them"
    );
    let ids: Vec<i64> = {
        let mut ids = Vec::new();
        for external in &pages {
            ids.push(
                app.count(&format!(
                    "SELECT id FROM social_accounts WHERE external_id = '{external}'"
                ))
                .await,
            );
        }
        ids
    };
    let sim = authorize.split("/facebook/").next().unwrap().to_owned();
    let second_token = app.tokens_of(ids[1]).await.access;
    let page_answers = |token: secrecy::SecretString| {
        let url = format!("{sim}/facebook/graph/v25.0/me?fields=id");
        async move {
            reqwest::Client::new()
                .get(url)
                .bearer_auth(secrecy::ExposeSecret::expose_secret(&token))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(page_answers(second_token.clone()).await, StatusCode::OK);

    // The first page goes: the authorisation stays for the second.
    let res = client.disconnect(ws, ids[0]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = client.get_text(&format!("/w/{ws}/accounts")).await;
    assert!(page.contains("other connected accounts"), "{page}");
    assert_eq!(page_answers(second_token.clone()).await, StatusCode::OK);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM account_tokens WHERE account_id = {}",
            ids[0]
        ))
        .await,
        0,
        "its tokens are deleted all the same"
    );

    // The last page goes: Facebook revokes the person's authorisation.
    let res = client.disconnect(ws, ids[1]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = client.get_text(&format!("/w/{ws}/accounts")).await;
    assert!(page.contains("its access was revoked"), "{page}");
    assert_ne!(page_answers(second_token).await, StatusCode::OK);
}

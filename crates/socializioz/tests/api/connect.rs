//! Connecting X over OAuth in sandbox mode (the real adapter against the in-process
//! simulator), on both databases: minimal scopes, state bound to the session and used once,
//! PKCE, a cancelled authorisation, publishing for real, and disconnecting with revocation.

use crate::both_backends;
use crate::fixtures::owner_with_workspace;
use crate::helpers::{Backend, Client, TestApp, expect_page, location, spawn_app_with};
use reqwest::StatusCode;
use serde_json::Value;

both_backends!(
    x_connects_publishes_and_disconnects_in_the_sandbox,
    a_state_works_once_and_only_for_its_session,
    tokens_are_refreshed_ahead_and_a_refused_refresh_holds_posts,
    a_crash_after_the_platform_kept_the_post_never_posts_twice,
    profiles_and_follower_counts_are_read_again_daily,
);

pub(crate) async fn sandbox(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |s| s.platforms.sandbox = true).await
}

/// Starts connecting X; returns the authorize URL the browser is sent to.
async fn start(client: &Client, ws: i64) -> String {
    start_platform(client, ws, "x").await
}

/// Starts connecting the platform `slug`; returns the authorize URL.
pub(crate) async fn start_platform(client: &Client, ws: i64, slug: &str) -> String {
    let res = client
        .submit(&format!("/w/{ws}/accounts/connect/{slug}"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    location(res.headers())
}

/// Plays the person at the platform: presses `decision` (allow or deny) on the authorize
/// page; returns where the platform sends the browser back to.
pub(crate) async fn at_platform(authorize_url: &str, decision: &str) -> String {
    let (action, query) = authorize_url.split_once('?').unwrap();
    let mut form: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    form.push(("decision".into(), decision.into()));
    form.push(("username".into(), "acme".into()));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http.get(authorize_url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK, "the authorize page opens");
    let res = http.post(action).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    location(res.headers())
}

/// Connects the platform `slug` to workspace `ws` through its OAuth flow at the simulator, the
/// person allowing it; returns the connected account's id.
pub(crate) async fn connect_through_oauth(
    app: &TestApp,
    client: &Client,
    ws: i64,
    slug: &str,
) -> i64 {
    let authorize = start_platform(client, ws, slug).await;
    let back = at_platform(&authorize, "allow").await;
    assert_eq!(
        client.get(&callback_path(app, &back)).await.status(),
        StatusCode::SEE_OTHER
    );
    app.count(&format!(
        "SELECT id FROM social_accounts WHERE platform = '{slug}' AND workspace_id = {ws}"
    ))
    .await
}

/// What the simulator at `base` published, as its `/_sim/posts` lists it.
pub(crate) async fn sim_posts(base: &str) -> Vec<Value> {
    reqwest::get(format!("{base}/_sim/posts"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The path and query of our callback URL.
pub(crate) fn callback_path(app: &TestApp, url: &str) -> String {
    url.strip_prefix(&app.address)
        .unwrap_or_else(|| panic!("back to {url}, not to the app"))
        .to_owned()
}

async fn x_connects_publishes_and_disconnects_in_the_sandbox(backend: Backend) {
    let Some(app) = sandbox(backend).await else {
        return;
    };
    let (client, ws) = owner_with_workspace(&app, "ada@example.com").await;
    let page = client.get_text(&format!("/w/{ws}/accounts")).await;
    assert!(
        page.contains("Sandbox:"),
        "every page says the platforms are simulated"
    );
    assert!(page.contains("Connect X") && page.contains("<code>tweet.write</code>"));
    assert!(
        !page.contains("tweet.moderate.write") && !page.contains("like.write"),
        "only what publishing needs is asked for"
    );

    let authorize = start(&client, ws).await;
    assert!(
        authorize.contains("code_challenge_method=S256"),
        "{authorize}"
    );
    assert!(
        authorize.contains("scope=tweet.read+tweet.write+users.read+offline.access+media.write&"),
        "{authorize}"
    );
    assert!(!authorize.contains("code_verifier"));
    let back = at_platform(&authorize, "allow").await;
    let res = client.get(&callback_path(&app, &back)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(res.headers()), format!("/w/{ws}/accounts"));
    assert_eq!(res.headers()["referrer-policy"], "no-referrer");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM social_accounts WHERE platform = 'x' AND username = 'acme' AND status = 'connected'").await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM account_tokens WHERE scopes LIKE '%offline.access%'")
            .await,
        1
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM oauth_states").await, 0);
    let account = app.count("SELECT id FROM social_accounts").await;

    // A post to the connected account goes out through the real adapter.
    publish_now(&app, &client, ws, account, "Hello from the sandbox").await;
    assert_eq!(
        app.text("SELECT state FROM posts").await,
        "published",
        "{}",
        app.text("SELECT COALESCE(failure_reason, '') FROM posts")
            .await
    );
    let sim_base = authorize.split("/x/").next().unwrap();
    let published = sim_posts(sim_base).await;
    assert_eq!(published.len(), 1);
    assert_eq!(published[0]["text"], "Hello from the sandbox");
    let permalink = app.text("SELECT permalink FROM post_targets").await;
    assert!(
        permalink.ends_with(&format!(
            "/acme/status/{}",
            published[0]["id"].as_str().unwrap()
        )),
        "{permalink}"
    );

    // A post scheduled for tomorrow to that account...
    let (user, _) = app.member("ada@example.com", ws).await;
    let tz = domain::Timezone::parse(&user.timezone).unwrap();
    let tomorrow = domain::schedule::to_local(chrono::Utc::now() + chrono::Duration::days(1), tz)
        .format("%Y-%m-%dT10:00")
        .to_string();
    let res = client
        .submit(
            &format!("/w/{ws}/posts"),
            &[
                ("body", "Tomorrow"),
                ("account", &account.to_string()),
                ("scheduled_at", &tomorrow),
                ("action", "schedule"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    // Disconnect: revoked at the platform, tokens deleted, the account kept as disconnected.
    let held = app.tokens_of(account).await;
    let res = client.disconnect(ws, account).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // ...stays scheduled and says why (it waits at its time unless the account is back or
    // the post is edited; see disconnect.rs).
    assert_eq!(
        app.count("SELECT COUNT(*) FROM post_targets WHERE state = 'scheduled' AND last_error LIKE '%was disconnected%'").await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'publish' AND state = 'queued'")
            .await,
        1
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM account_tokens").await, 0);
    assert_eq!(
        app.text("SELECT status FROM social_accounts").await,
        "disconnected"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM activity_log WHERE action = 'account.disconnected' AND summary LIKE '%access revoked at the platform%'").await,
        1
    );
    // X no longer accepts the token Socializioz held.
    let sim_base = authorize.split("/x/").next().unwrap();
    let me = reqwest::Client::new()
        .get(format!("{sim_base}/x/2/users/me"))
        .bearer_auth(secrecy::ExposeSecret::expose_secret(&held.access))
        .send()
        .await
        .unwrap();
    assert_eq!(
        me.status(),
        StatusCode::UNAUTHORIZED,
        "revoked at the platform"
    );
    // A disconnected account cannot be scheduled to.
    let res = client
        .submit(
            &format!("/w/{ws}/posts"),
            &[
                ("body", "Nope"),
                ("account", &account.to_string()),
                ("action", "now"),
            ],
        )
        .await;
    expect_page(res, StatusCode::UNPROCESSABLE_ENTITY, "is disconnected").await;
    let page = client.get_text(&format!("/w/{ws}/accounts")).await;
    assert!(
        page.contains("Security and Account Access") && page.contains("Apps and Sessions"),
        "the steps to remove the app at X are shown"
    );

    // Cancelling at the platform stores nothing.
    let authorize = start(&client, ws).await;
    let back = at_platform(&authorize, "deny").await;
    let res = client.get(&callback_path(&app, &back)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.count("SELECT COUNT(*) FROM account_tokens").await, 0);
}

async fn a_state_works_once_and_only_for_its_session(backend: Backend) {
    let Some(app) = sandbox(backend).await else {
        return;
    };
    let (client, ws) = owner_with_workspace(&app, "ada@example.com").await;

    // The callback, replayed, is refused.
    let back = at_platform(&start(&client, ws).await, "allow").await;
    let path = callback_path(&app, &back);
    assert_eq!(client.get(&path).await.status(), StatusCode::SEE_OTHER);
    let res = client.get(&path).await;
    expect_page(res, StatusCode::UNPROCESSABLE_ENTITY, "no longer valid").await;

    // Another person's browser cannot finish someone else's authorisation, nor spend it: the
    // owner's own callback still works (more in pkce.rs).
    let back = at_platform(&start(&client, ws).await, "allow").await;
    let path = callback_path(&app, &back);
    let (mallory, _) = owner_with_workspace(&app, "mallory@example.com").await;
    expect_page(
        mallory.get(&path).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "no longer valid",
    )
    .await;
    assert_eq!(client.get(&path).await.status(), StatusCode::SEE_OTHER);

    // A forged state, or a state with a made-up code, stores nothing.
    expect_page(
        client.get("/oauth/x/callback?state=forged&code=abc").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "no longer valid",
    )
    .await;
    let authorize = start(&client, ws).await;
    let state = form_urlencoded::parse(authorize.split_once('?').unwrap().1.as_bytes())
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let res = client
        .get(&format!("/oauth/x/callback?state={state}&code=made-up"))
        .await;
    expect_page(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "X did not accept the connection",
    )
    .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM social_accounts").await, 1);

    // Viewers and editors cannot start a connection.
    app.exec("UPDATE memberships SET role = 'editor'").await;
    let res = client
        .submit(&format!("/w/{ws}/accounts/connect/x"), &[])
        .await;
    expect_page(res, StatusCode::FORBIDDEN, "Only owners and admins").await;
}

/// Posts `text` to `account` now and runs the queue.
async fn publish_now(app: &TestApp, client: &Client, ws: i64, account: i64, text: &str) {
    let account = account.to_string();
    let res = client
        .submit(
            &format!("/w/{ws}/posts"),
            &[("body", text), ("account", &account), ("action", "now")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    app.worker().run_until_empty().await.unwrap();
}

/// Connects X for `client`'s workspace; returns the simulator's base URL.
async fn connect_x(app: &TestApp, client: &Client, ws: i64) -> String {
    let authorize = start(client, ws).await;
    let back = at_platform(&authorize, "allow").await;
    assert_eq!(
        client.get(&callback_path(app, &back)).await.status(),
        StatusCode::SEE_OTHER
    );
    authorize.split("/x/").next().unwrap().to_owned()
}

async fn refresh_now(app: &TestApp) {
    app.exec("UPDATE jobs SET run_at = '2000-01-01 00:00:00+00:00' WHERE kind = 'refresh_tokens' AND state = 'queued'")
        .await;
    app.worker().run_until_empty().await.unwrap();
}

async fn tokens_are_refreshed_ahead_and_a_refused_refresh_holds_posts(backend: Backend) {
    use secrecy::ExposeSecret;
    let Some(app) = sandbox(backend).await else {
        return;
    };
    let (client, ws) = owner_with_workspace(&app, "ada@example.com").await;
    let sim = connect_x(&app, &client, ws).await;
    let account = app.count("SELECT id FROM social_accounts").await;

    // One refresh is planned, ten minutes before the two-hour token ends.
    let planned = {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        store::entities::job::Entity::find()
            .filter(store::entities::job::Column::Kind.eq("refresh_tokens"))
            .all(&app.services.db)
            .await
            .unwrap()
    };
    assert_eq!(planned.len(), 1);
    let ahead = planned[0].run_at - chrono::Utc::now();
    assert!(
        ahead > chrono::Duration::minutes(105) && ahead <= chrono::Duration::minutes(110),
        "{ahead}"
    );

    // Twice in a row: the second works only if the rotated refresh token was kept.
    for _ in 0..2 {
        let before = app.tokens_of(account).await;
        refresh_now(&app).await;
        let after = app.tokens_of(account).await;
        assert_ne!(after.access.expose_secret(), before.access.expose_secret());
        assert_ne!(
            after.refresh.unwrap().expose_secret(),
            before.refresh.unwrap().expose_secret()
        );
        assert_eq!(
            app.text("SELECT status FROM social_accounts").await,
            "connected"
        );
    }

    // The person revokes the app at X: the next refresh is refused.
    let tokens = app.tokens_of(account).await;
    let revoked = reqwest::Client::new()
        .post(format!("{sim}/x/2/oauth2/revoke"))
        .form(&[
            ("token", tokens.refresh.unwrap().expose_secret()),
            ("client_id", "socializioz-sandbox"),
        ])
        .send()
        .await
        .unwrap();
    assert!(revoked.status().is_success());
    refresh_now(&app).await;
    assert_eq!(
        app.text("SELECT status FROM social_accounts").await,
        "reconnect_needed"
    );
    let mail = app.last_mail_to("ada@example.com").await;
    assert!(
        mail.subject.contains("Reconnect X @acme"),
        "{}",
        mail.subject
    );

    // Its posts wait instead of failing, and nothing reaches the platform.
    publish_now(&app, &client, ws, account, "Held").await;
    assert_eq!(app.text("SELECT state FROM post_targets").await, "waiting");
    assert_eq!(app.text("SELECT state FROM posts").await, "waiting");
    let published = sim_posts(&sim).await;
    assert!(published.is_empty());

    // Reconnecting sends it.
    connect_x(&app, &client, ws).await;
    assert_eq!(
        app.text("SELECT status FROM social_accounts").await,
        "connected"
    );
    app.worker().run_until_empty().await.unwrap();
    assert_eq!(app.text("SELECT state FROM posts").await, "published");
    let published = sim_posts(&sim).await;
    assert_eq!(published.len(), 1);
    assert_eq!(published[0]["text"], "Held");
}

/// The real X adapter against a simulator the test holds: X keeps the post but its answer
/// never arrives, because the worker crashes while waiting. The next worker must not post
/// again (the simulator counts): it finds the post among the account's own and records it as
/// published, with X's id.
async fn a_crash_after_the_platform_kept_the_post_never_posts_twice(backend: Backend) {
    let simulator = sim::Simulator::new();
    let running = simulator
        .start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let base = running.base_url.clone();
    let Some(app) = crate::helpers::spawn_app_with(backend, |s| {
        s.platforms.simulator = Some(base);
    })
    .await
    else {
        return;
    };
    let (client, ws) = owner_with_workspace(&app, "ada@example.com").await;
    connect_x(&app, &client, ws).await;
    let account = app
        .count("SELECT id FROM social_accounts")
        .await
        .to_string();
    let res = client
        .submit(
            &format!("/w/{ws}/posts"),
            &[
                ("body", "Exactly once"),
                ("account", &account),
                ("action", "now"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    simulator.publish_then_hang(domain::Platform::X, std::time::Duration::from_secs(600));
    let worker = app.worker();
    let task = tokio::spawn(async move { worker.run_once().await });
    for _ in 0..500 {
        if !simulator.posts().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(simulator.posts().len(), 1, "X kept the post");
    task.abort();
    let _ = task.await;
    app.exec("UPDATE jobs SET locked_until = '2000-01-01 00:00:00+00:00' WHERE state = 'running'")
        .await;

    app.worker().run_until_empty().await.unwrap();
    assert_eq!(simulator.posts().len(), 1, "no second post");
    assert_eq!(
        app.text("SELECT state FROM post_targets").await,
        "published"
    );
    assert_eq!(
        app.text("SELECT platform_post_id FROM post_targets").await,
        simulator.posts()[0].id
    );
    assert_eq!(
        app.text("SELECT outcome FROM publish_attempts").await,
        "reconciled"
    );
    assert_eq!(app.text("SELECT state FROM posts").await, "published");
}

async fn profiles_and_follower_counts_are_read_again_daily(backend: Backend) {
    let Some(app) = sandbox(backend).await else {
        return;
    };
    let (client, ws) = owner_with_workspace(&app, "ada@example.com").await;
    connect_x(&app, &client, ws).await;
    let followers = app
        .count("SELECT follower_count FROM social_accounts")
        .await;
    assert!(followers > 0, "the follower count is read at connection");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'refresh_profile' AND state = 'queued'")
            .await,
        1,
        "the next reading is planned"
    );

    // A day later the profile is read again (an old count is replaced) and the next planned.
    app.exec("UPDATE social_accounts SET follower_count = 1, followers_updated_at = '2000-01-01 00:00:00+00:00'")
        .await;
    app.exec("UPDATE jobs SET run_at = '2000-01-01 00:00:00+00:00' WHERE kind = 'refresh_profile'")
        .await;
    app.worker().run_until_empty().await.unwrap();
    assert_eq!(
        app.count("SELECT follower_count FROM social_accounts")
            .await,
        followers
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM social_accounts WHERE followers_updated_at > '2001-01-01 00:00:00+00:00'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'refresh_profile' AND state = 'queued'")
            .await,
        1
    );

    // A disconnected account is not read any more.
    let account = app.count("SELECT id FROM social_accounts").await;
    let res = client.disconnect(ws, account).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    app.exec("UPDATE jobs SET run_at = '2000-01-01 00:00:00+00:00' WHERE kind = 'refresh_profile'")
        .await;
    app.worker().run_until_empty().await.unwrap();
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'refresh_profile' AND state = 'queued'")
            .await,
        0
    );
}

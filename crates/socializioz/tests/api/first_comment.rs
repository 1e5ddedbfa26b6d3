//! A post's first comment, on both databases, through the real adapters and the simulator:
//! posted under the post on Facebook, Instagram and LinkedIn and as a reply on X, recorded per
//! account, never making the post "failed" when it fails, shown with its reason and retryable;
//! TikTok, whose API has no comments, is told apart in the composer and on the post.

use crate::both_backends;
use crate::connect::{at_platform, callback_path, start_platform};
use crate::fixtures::owner_with_workspace;
use crate::helpers::{Backend, Client, TestApp, expect_page, jpeg, spawn_app, spawn_app_with};
use domain::Platform;
use reqwest::StatusCode;
use serde_json::Value;

both_backends!(
    the_first_comment_goes_under_the_post_on_every_platform_that_takes_comments,
    a_refused_first_comment_leaves_the_post_published_and_can_be_retried,
    a_comment_interrupted_mid_call_is_not_posted_again_blindly,
    a_first_comment_for_tiktok_alone_is_refused_in_the_composer,
);

const COMMENT: &str = "Tell us what you think below ↓";

async fn comments_at(base: &str) -> Vec<Value> {
    reqwest::get(format!("{base}/_sim/comments"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn account_field(ids: &[i64]) -> Vec<String> {
    ids.iter().map(i64::to_string).collect()
}

/// Sends the composer's form: `body` with `COMMENT` as its first comment to `accounts`, now.
async fn publish_now(
    client: &Client,
    ws: i64,
    accounts: &[i64],
    media: Option<i64>,
) -> reqwest::Response {
    let media = media.map(|m| m.to_string());
    let ids = account_field(accounts);
    let mut fields: Vec<(&str, &str)> = vec![
        ("body", "Our spring collection is out"),
        ("first_comment", COMMENT),
        ("action", "now"),
    ];
    if let Some(media) = &media {
        fields.push(("media", media));
    }
    for id in &ids {
        fields.push(("account", id));
    }
    client.submit(&format!("/w/{ws}/posts"), &fields).await
}

async fn the_first_comment_goes_under_the_post_on_every_platform_that_takes_comments(
    backend: Backend,
) {
    let Some(app) = crate::connect::sandbox(backend).await else {
        return;
    };
    let (client, ws) = owner_with_workspace(&app, "ada@example.com").await;
    let mut sim = String::new();
    for platform in Platform::ALL {
        sim = crate::sandbox::connect(&app, &client, ws, platform).await;
    }
    let media = app
        .upload_media(&client, ws, "spring.jpg", jpeg(64, 48, 7))
        .await;
    let mut accounts = Vec::new();
    for platform in Platform::ALL {
        accounts.push(
            app.count(&format!(
                "SELECT id FROM social_accounts WHERE platform = '{}'",
                platform.slug()
            ))
            .await,
        );
    }
    let res = publish_now(&client, ws, &accounts, Some(media)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    app.worker().run_until_empty().await.unwrap();
    assert_eq!(app.text("SELECT state FROM posts").await, "published");

    // One comment under each post that can take one, with the post's id at the platform.
    let comments = comments_at(&sim).await;
    let mut on: Vec<&str> = comments
        .iter()
        .map(|c| c["platform"].as_str().unwrap())
        .collect();
    on.sort_unstable();
    assert_eq!(
        on,
        ["facebook", "instagram", "linkedin", "x"],
        "{comments:?}"
    );
    for comment in &comments {
        assert_eq!(comment["text"], COMMENT, "{comment}");
        let platform = comment["platform"].as_str().unwrap();
        let post_id = app
            .text(&format!(
                "SELECT t.platform_post_id FROM post_targets t JOIN social_accounts a \
                 ON a.id = t.account_id WHERE a.platform = '{platform}'"
            ))
            .await;
        assert_eq!(comment["post_id"], post_id.as_str(), "{platform}");
    }
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM post_targets WHERE comment_state = 'posted' \
             AND comment_id IS NOT NULL AND state = 'published'"
        )
        .await,
        4
    );
    assert_eq!(
        app.text(
            "SELECT t.comment_state FROM post_targets t JOIN social_accounts a \
             ON a.id = t.account_id WHERE a.platform = 'tiktok'"
        )
        .await,
        "unsupported"
    );
    let post = app.count("SELECT id FROM posts").await;
    let page = client.get_text(&format!("/w/{ws}/posts/{post}")).await;
    assert_eq!(page.matches("First comment: posted.").count(), 4, "{page}");
    assert!(
        page.contains("No first comment: TikTok&#39;s API takes no comments"),
        "{page}"
    );
    // Running the queue again posts nothing more.
    app.worker().run_until_empty().await.unwrap();
    assert_eq!(comments_at(&sim).await.len(), 4);
}

/// An application on a simulator of the test's own (so faults can be injected), with X
/// connected through OAuth. Returns the app, the simulator (kept running), the browser, the
/// workspace and the X account.
async fn with_x(
    backend: Backend,
) -> Option<(TestApp, sim::Simulator, sim::Running, Client, i64, i64)> {
    let simulator = sim::Simulator::new();
    let running = simulator
        .start(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let base = running.base_url.clone();
    let app = spawn_app_with(backend, |s| s.platforms.simulator = Some(base)).await?;
    let (client, ws) = owner_with_workspace(&app, "ada@example.com").await;
    let authorize = start_platform(&client, ws, "x").await;
    let back = at_platform(&authorize, "allow").await;
    assert_eq!(
        client.get(&callback_path(&app, &back)).await.status(),
        StatusCode::SEE_OTHER
    );
    let account = app.count("SELECT id FROM social_accounts").await;
    Some((app, simulator, running, client, ws, account))
}

async fn a_refused_first_comment_leaves_the_post_published_and_can_be_retried(backend: Backend) {
    let Some((app, simulator, _running, client, ws, account)) = with_x(backend).await else {
        return;
    };
    simulator.inject(Platform::X, sim::Op::Comment, sim::Fault::ExpiredToken);
    let res = publish_now(&client, ws, &[account], None).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    app.worker().run_until_empty().await.unwrap();
    assert_eq!(simulator.posts().len(), 1);
    assert!(simulator.comments().is_empty());
    assert_eq!(app.text("SELECT state FROM posts").await, "published");
    assert_eq!(
        app.text("SELECT state FROM post_targets").await,
        "published"
    );
    assert_eq!(
        app.text("SELECT comment_state FROM post_targets").await,
        "failed"
    );

    let post = app.count("SELECT id FROM posts").await;
    let target = app.count("SELECT id FROM post_targets").await;
    let page = client.get_text(&format!("/w/{ws}/posts/{post}")).await;
    assert!(page.contains("First comment failed."), "{page}");
    assert!(
        page.contains("Reconnect the account, then retry the comment"),
        "{page}"
    );
    assert!(page.contains("Post the first comment again"), "{page}");
    let activity = client.get_text(&format!("/w/{ws}/activity")).await;
    assert!(
        activity.contains("the first comment to X @acme failed"),
        "{activity}"
    );

    // Retried by a person: posted once, under the post.
    let retry = format!("/w/{ws}/posts/{post}/targets/{target}/comment/retry");
    let res = client.submit(&retry, &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    app.worker().run_until_empty().await.unwrap();
    let comments = simulator.comments();
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0].text, COMMENT);
    assert_eq!(comments[0].post_id, simulator.posts()[0].id);
    assert_eq!(
        app.text("SELECT comment_state FROM post_targets").await,
        "posted"
    );
    assert_eq!(app.text("SELECT state FROM posts").await, "published");
    // A posted comment is not retried again.
    let res = client.submit(&retry, &[]).await;
    expect_page(
        res,
        StatusCode::FORBIDDEN,
        "Only a first comment that failed",
    )
    .await;
    app.worker().run_until_empty().await.unwrap();
    assert_eq!(simulator.comments().len(), 1);
}

async fn a_comment_interrupted_mid_call_is_not_posted_again_blindly(backend: Backend) {
    let Some((app, simulator, _running, client, ws, account)) = with_x(backend).await else {
        return;
    };
    let res = publish_now(&client, ws, &[account], None).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // Publish the post, leaving its comment's job queued.
    while let Some((kind, _)) = app.worker().run_once().await.unwrap() {
        if kind == "publish" {
            break;
        }
    }
    assert_eq!(simulator.posts().len(), 1);
    assert_eq!(
        app.text("SELECT comment_state FROM post_targets").await,
        "pending"
    );
    // As a worker that wrote "posting" and died before the answer would leave it.
    app.exec("UPDATE post_targets SET comment_state = 'posting'")
        .await;
    app.worker().run_until_empty().await.unwrap();
    assert!(simulator.comments().is_empty(), "not posted blindly");
    assert_eq!(
        app.text("SELECT comment_state FROM post_targets").await,
        "unconfirmed"
    );
    let post = app.count("SELECT id FROM posts").await;
    let page = client.get_text(&format!("/w/{ws}/posts/{post}")).await;
    assert!(page.contains("First comment needs a check."), "{page}");
    assert_eq!(app.text("SELECT state FROM posts").await, "published");
}

async fn a_first_comment_for_tiktok_alone_is_refused_in_the_composer(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let client = app.verified_user("Ada Lovelace", "ada@example.com").await;
    let ws = client.new_workspace("Acme").await;
    let tiktok = app.connect_account(ws, Platform::TikTok, "acme_tt").await;
    let x = app.connect_account(ws, Platform::X, "acme_x").await;
    let form = client.get_text(&format!("/w/{ws}/posts/new")).await;
    assert!(form.contains("TikTok posts go without it"), "{form}");
    let res = publish_now(&client, ws, &[tiktok], None).await;
    expect_page(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a first comment cannot go out with this post",
    )
    .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM posts").await, 0);
    // For a platform that takes comments, the same form goes through.
    let res = publish_now(&client, ws, &[x], None).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

//! Publishing calls whose answer is lost, end to end on both databases: the real X and
//! Facebook adapters against the simulator in this test process, which breaks the connection
//! of one publishing call, after keeping the post or before. The worker then asks the
//! platform (the account's own posts since the attempt started) instead of leaving the post
//! to a person: a post that was made is recorded as published with the platform's id, and
//! one that was not is published once more, exactly once, after the platform's listing has
//! had time to show it.

use crate::both_backends;
use crate::connect::{at_platform, callback_path, connect_through_oauth, start_platform};
use crate::fixtures::owner_with_workspace;
use crate::helpers::{Backend, Client, TestApp, post_input, spawn_app_with};
use domain::Platform;
use reqwest::StatusCode;
use services::posts::Intent;
use sim::LostAnswer;

both_backends!(
    a_post_made_before_its_answer_was_lost_is_found_and_recorded_as_published,
    a_call_lost_before_posting_is_published_once_after_the_platform_says_not_found,
    a_lookup_refused_for_its_token_refreshes_the_token_and_asks_again,
);

const AUTHOR: &str = "ada@example.com";

struct Lost {
    app: TestApp,
    sim: sim::Simulator,
    _running: sim::Running,
    ws: i64,
    x: i64,
    facebook: i64,
}

/// The application pointed at a simulator the test holds, an X account and a Facebook Page
/// connected through OAuth.
async fn lost(backend: Backend) -> Option<Lost> {
    let sim = sim::Simulator::new();
    let running = sim
        .start(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let base = running.base_url.clone();
    let app = spawn_app_with(backend, |s| s.platforms.simulator = Some(base)).await?;
    let (client, ws) = owner_with_workspace(&app, AUTHOR).await;
    let x = connect_through_oauth(&app, &client, ws, "x").await;
    let facebook = connect_page(&app, &client, ws).await;
    Some(Lost {
        app,
        sim,
        _running: running,
        ws,
        x,
        facebook,
    })
}

/// Connects the first Page the simulator's Facebook login offers; the account's id.
pub(crate) async fn connect_page(app: &TestApp, client: &Client, ws: i64) -> i64 {
    let authorize = start_platform(client, ws, "facebook").await;
    let back = at_platform(&authorize, "allow").await;
    let res = client.get(&callback_path(app, &back)).await;
    assert_eq!(res.status(), StatusCode::OK, "the Pages to choose from");
    let page = res.text().await.unwrap();
    let choice = crate::sandbox::input_values(&page, "choice_state");
    let pages = crate::sandbox::input_values(&page, "account");
    let res = crate::sandbox::choose(client, &choice[0], &pages[..1]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    app.count(&format!(
        "SELECT id FROM social_accounts WHERE workspace_id = {ws} AND platform = 'facebook'"
    ))
    .await
}

/// The platform's id recorded for the target of `account`, and its state.
async fn target_of(app: &TestApp, account: i64) -> (String, Option<String>) {
    let state = app
        .text(&format!(
            "SELECT state FROM post_targets WHERE account_id = {account}"
        ))
        .await;
    let id = app
        .text(&format!(
            "SELECT COALESCE(platform_post_id, '') FROM post_targets WHERE account_id = {account}"
        ))
        .await;
    (state, Some(id).filter(|id| !id.is_empty()))
}

/// The outcomes of the attempts at the target of `account`, in order.
async fn outcomes(app: &TestApp, account: i64) -> Vec<String> {
    let count = app
        .count(&format!(
            "SELECT COUNT(*) FROM publish_attempts a JOIN post_targets t ON t.id = a.target_id \
             WHERE t.account_id = {account}"
        ))
        .await;
    let mut all = Vec::new();
    for n in 0..count {
        all.push(
            app.text(&format!(
                "SELECT COALESCE(a.outcome, 'open') FROM publish_attempts a \
                 JOIN post_targets t ON t.id = a.target_id WHERE t.account_id = {account} \
                 ORDER BY a.id LIMIT 1 OFFSET {n}"
            ))
            .await,
        );
    }
    all
}

async fn a_post_made_before_its_answer_was_lost_is_found_and_recorded_as_published(
    backend: Backend,
) {
    let Some(lost) = lost(backend).await else {
        return;
    };
    let app = &lost.app;
    // Each platform keeps the post, then the connection breaks before its answer arrives.
    lost.sim
        .lose_next_answer(Platform::X, LostAnswer::AfterPosting);
    lost.sim
        .lose_next_answer(Platform::Facebook, LostAnswer::AfterPosting);
    app.save_post(
        AUTHOR,
        lost.ws,
        post_input(
            "Fresh bread & coffee from 7: example.com/menu",
            &[lost.x, lost.facebook],
            Vec::new(),
            Intent::PublishNow,
        ),
    )
    .await;
    app.worker().run_until_empty().await.unwrap();

    let posts = lost.sim.posts();
    assert_eq!(posts.len(), 2, "one post on each platform, none twice");
    for (account, platform) in [(lost.x, Platform::X), (lost.facebook, Platform::Facebook)] {
        let kept = posts.iter().find(|p| p.platform == platform).unwrap();
        assert_eq!(
            target_of(app, account).await,
            ("published".to_owned(), Some(kept.id.clone())),
            "{platform}: recorded with the id the platform gave the post it kept"
        );
        assert_eq!(
            outcomes(app, account).await,
            ["reconciled"],
            "{platform}: one attempt, found again"
        );
    }
    assert_eq!(app.text("SELECT state FROM posts").await, "published");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM post_targets WHERE state = 'unconfirmed'")
            .await,
        0,
        "nothing left for a person to check"
    );
}

async fn a_call_lost_before_posting_is_published_once_after_the_platform_says_not_found(
    backend: Backend,
) {
    let Some(lost) = lost(backend).await else {
        return;
    };
    let app = &lost.app;
    // The connection breaks before X keeps anything.
    publish_with_answer_lost_before_posting(&lost, "Closed on Monday").await;

    // X's listing has no such post, but the attempt began a moment ago: too soon to be sure
    // (a request may still be under way there). The attempt stays open and the job waits,
    // without using one of its tries; the post says why.
    assert!(lost.sim.posts().is_empty());
    assert_eq!(target_of(app, lost.x).await.0, "publishing");
    assert_eq!(outcomes(app, lost.x).await, ["open"]);
    let waiting = app.text("SELECT last_error FROM post_targets").await;
    assert!(waiting.contains("too soon to be sure"), "{waiting}");
    assert!(waiting.contains("Socializioz asks again in"), "{waiting}");
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM jobs WHERE kind = 'publish' AND state = 'queued' \
             AND attempts = 0"
        )
        .await,
        1,
        "waiting for the listing is not a try"
    );

    // Later: the attempt began minutes ago, and the job is due again.
    attempts_began_minutes_ago(app).await;
    due_now(app).await;
    app.worker().run_until_empty().await.unwrap();

    let posts = lost.sim.posts();
    assert_eq!(posts.len(), 1, "published exactly once");
    assert_eq!(posts[0].text, "Closed on Monday");
    assert_eq!(
        target_of(app, lost.x).await,
        ("published".to_owned(), Some(posts[0].id.clone()))
    );
    assert_eq!(outcomes(app, lost.x).await, ["retry", "published"]);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM publish_attempts \
             WHERE outcome = 'retry' AND error LIKE '%confirmed nothing was posted%'"
        )
        .await,
        1
    );
}

async fn a_lookup_refused_for_its_token_refreshes_the_token_and_asks_again(backend: Backend) {
    let Some(lost) = lost(backend).await else {
        return;
    };
    let app = &lost.app;
    publish_with_answer_lost_before_posting(&lost, "Open late on Friday").await;
    assert_eq!(outcomes(app, lost.x).await, ["open"]);

    // When the job asks again, X no longer takes the token.
    lost.sim.expire_all_tokens();
    let refreshed =
        || app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'refresh_tokens' AND state = 'done'");
    let refreshed_before = refreshed().await;
    attempts_began_minutes_ago(app).await;
    due_now(app).await;
    app.worker().run_until_empty().await.unwrap();
    assert!(lost.sim.posts().is_empty());
    assert_eq!(
        outcomes(app, lost.x).await,
        ["open"],
        "an unanswered lookup leaves the question open"
    );
    assert_eq!(
        refreshed().await,
        refreshed_before + 1,
        "the token was refreshed"
    );
    let waiting = app
        .text("SELECT last_error FROM jobs WHERE kind = 'publish' AND state = 'queued'")
        .await;
    assert!(
        waiting.contains("for the lookup; refreshing it"),
        "{waiting}"
    );

    // With the new token, X answers: nothing was posted, so the post goes out once.
    due_now(app).await;
    app.worker().run_until_empty().await.unwrap();
    let posts = lost.sim.posts();
    assert_eq!(posts.len(), 1, "published exactly once");
    assert_eq!(posts[0].text, "Open late on Friday");
    assert_eq!(outcomes(app, lost.x).await, ["retry", "published"]);
}

/// Publishes `text` to X now, the call's connection breaking before X keeps anything, and runs
/// the worker until nothing is due.
async fn publish_with_answer_lost_before_posting(lost: &Lost, text: &str) {
    lost.sim
        .lose_next_answer(Platform::X, LostAnswer::BeforePosting);
    lost.app
        .save_post(
            AUTHOR,
            lost.ws,
            post_input(text, &[lost.x], Vec::new(), Intent::PublishNow),
        )
        .await;
    lost.app.worker().run_until_empty().await.unwrap();
}

/// Moves every attempt's start five minutes back: the platform's listing has had time to show
/// what they made.
async fn attempts_began_minutes_ago(app: &TestApp) {
    let began =
        (chrono::Utc::now() - chrono::Duration::minutes(5)).format("%Y-%m-%d %H:%M:%S+00:00");
    app.exec(&format!(
        "UPDATE publish_attempts SET started_at = '{began}'"
    ))
    .await;
}

/// Makes the waiting publish job due now (and nothing else: the accounts' planned token
/// refreshes keep their times).
async fn due_now(app: &TestApp) {
    app.exec(
        "UPDATE jobs SET run_at = '2000-01-01 00:00:00+00:00' \
         WHERE state = 'queued' AND kind = 'publish'",
    )
    .await;
}

//! Disconnecting an account that has posts scheduled days ahead, on both databases, through
//! the real adapters in sandbox mode: the posts stay scheduled (never "Publishing" before their
//! time), their other accounts untouched, and can be edited to leave the account out; the
//! account is not offered for new posts and the dashboard lists it under "Needs reconnecting";
//! when the time comes it waits for a reconnection while the other accounts publish.

use crate::both_backends;
use crate::fixtures::owner_with_workspace;
use crate::helpers::{Backend, TestApp, post_input};
use domain::{Platform, PostId, SocialAccountId};
use services::posts::Intent;

both_backends!(
    a_disconnected_accounts_future_posts_stay_scheduled_and_editable,
    at_its_time_a_disconnected_accounts_post_waits_while_the_others_go_out,
);

const ADA: &str = "ada@example.com";

/// A sandbox workspace with X and LinkedIn connected and one post to both, two days ahead;
/// then X is disconnected. Returns the app, the browser, the workspace, the post and the
/// accounts (X, LinkedIn).
async fn scheduled_then_disconnected(
    backend: Backend,
) -> Option<(TestApp, crate::helpers::Client, i64, i64, i64, i64)> {
    let app = crate::connect::sandbox(backend).await?;
    let (client, ws) = owner_with_workspace(&app, ADA).await;
    let sim = crate::sandbox::connect(&app, &client, ws, Platform::X).await;
    crate::sandbox::connect(&app, &client, ws, Platform::LinkedIn).await;
    let id_of =
        |platform: &str| format!("SELECT id FROM social_accounts WHERE platform = '{platform}'");
    let x = app.count(&id_of("x")).await;
    let linkedin = app.count(&id_of("linkedin")).await;
    let when = (chrono::Utc::now() + chrono::Duration::days(2)).naive_utc();
    let post = app
        .save_post(
            ADA,
            ws,
            post_input(
                "Launch day",
                &[x, linkedin],
                Vec::new(),
                Intent::Schedule(when),
            ),
        )
        .await;
    let (user, member) = app.member(ADA, ws).await;
    app.services
        .disconnect_account(&member, &user, SocialAccountId(x))
        .await
        .unwrap();
    assert!(crate::connect::sim_posts(&sim).await.is_empty());
    Some((app, client, ws, post, x, linkedin))
}

async fn a_disconnected_accounts_future_posts_stay_scheduled_and_editable(backend: Backend) {
    let Some((app, client, ws, post, x, linkedin)) = scheduled_then_disconnected(backend).await
    else {
        return;
    };
    assert_eq!(
        app.text(&format!("SELECT state FROM posts WHERE id = {post}"))
            .await,
        "scheduled",
        "never Publishing before its time"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM post_targets WHERE post_id = {post} AND state = 'scheduled'"
        ))
        .await,
        2
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'publish' AND state = 'queued'")
            .await,
        2,
        "nothing is withdrawn: the post may still go out to both"
    );
    // The post says what will happen and keeps its editing actions.
    let page = client.get_text(&format!("/w/{ws}/posts/{post}")).await;
    assert!(
        page.contains("was disconnected: reconnect it, or edit the post"),
        "{page}"
    );
    assert!(!page.contains(">Publishing<"), "{page}");
    for action in [
        format!("/w/{ws}/posts/{post}/edit"),
        format!("/w/{ws}/posts/{post}/unschedule"),
        format!("/w/{ws}/posts/{post}/reschedule"),
    ] {
        assert!(page.contains(&action), "{action} on {page}");
    }
    // The dashboard still lists the post, and the account under "Needs reconnecting".
    let dashboard = client.get_text(&format!("/w/{ws}")).await;
    assert!(!dashboard.contains("Nothing is scheduled"), "{dashboard}");
    assert!(dashboard.contains("Launch day"), "{dashboard}");
    let (_, needs) = dashboard
        .split_once("Needs reconnecting")
        .expect("the section");
    assert!(needs.contains("X @acme"), "{dashboard}");
    // A new post is not offered the disconnected account; the post that names it shows it.
    let x_box = format!("value=\"{x}\"");
    let new = client.get_text(&format!("/w/{ws}/posts/new")).await;
    assert!(!new.contains(&x_box), "{new}");
    assert!(new.contains(&format!("value=\"{linkedin}\"")), "{new}");
    let edit = client.get_text(&format!("/w/{ws}/posts/{post}/edit")).await;
    assert!(
        edit.contains(&x_box) && edit.contains("(disconnected"),
        "{edit}"
    );

    // Saving with the account is refused with the way out; without it, the post stays
    // scheduled for the other account.
    let (user, member) = app.member(ADA, ws).await;
    let when = (chrono::Utc::now() + chrono::Duration::days(3)).naive_utc();
    let refused = app
        .services
        .save_post(
            &member,
            &user,
            Some(PostId(post)),
            post_input(
                "Launch day",
                &[x, linkedin],
                Vec::new(),
                Intent::Schedule(when),
            ),
        )
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("is disconnected"), "{refused}");
    app.services
        .save_post(
            &member,
            &user,
            Some(PostId(post)),
            post_input(
                "Launch day",
                &[linkedin],
                Vec::new(),
                Intent::Schedule(when),
            ),
        )
        .await
        .unwrap();
    assert_eq!(
        app.text(&format!("SELECT state FROM posts WHERE id = {post}"))
            .await,
        "scheduled"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM post_targets WHERE post_id = {post}"
        ))
        .await,
        1
    );
}

async fn at_its_time_a_disconnected_accounts_post_waits_while_the_others_go_out(backend: Backend) {
    let Some((app, client, ws, post, x, linkedin)) = scheduled_then_disconnected(backend).await
    else {
        return;
    };
    // The time comes.
    app.exec("UPDATE jobs SET run_at = '2000-01-01 00:00:00+00:00' WHERE kind = 'publish'")
        .await;
    app.exec("UPDATE posts SET scheduled_at = '2000-01-01 00:00:00+00:00'")
        .await;
    app.worker().run_until_empty().await.unwrap();
    let state_of = |account: i64| {
        format!("SELECT state FROM post_targets WHERE post_id = {post} AND account_id = {account}")
    };
    assert_eq!(app.text(&state_of(linkedin)).await, "published");
    assert_eq!(app.text(&state_of(x)).await, "waiting");
    assert_eq!(
        app.text(&format!("SELECT state FROM posts WHERE id = {post}"))
            .await,
        "waiting"
    );
    let page = client.get_text(&format!("/w/{ws}/posts/{post}")).await;
    assert!(page.contains("was disconnected: reconnect it"), "{page}");
    // Reconnected: it goes out.
    crate::sandbox::connect(&app, &client, ws, Platform::X).await;
    app.worker().run_until_empty().await.unwrap();
    assert_eq!(app.text(&state_of(x)).await, "published");
    assert_eq!(
        app.text(&format!("SELECT state FROM posts WHERE id = {post}"))
            .await,
        "published"
    );
}

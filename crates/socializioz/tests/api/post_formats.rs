//! Feed, reel and story, chosen per account in the composer where the platform has the choice
//! (Instagram): the media each needs is checked before anything is saved, the choice is kept
//! with the post and sent to the platform's adapter, and a story gets no first comment.

use crate::both_backends;
use crate::fixtures::owner_with_workspace;
use crate::helpers::{Backend, expect_page, jpeg, location, spawn_app};
use domain::Platform;
use reqwest::StatusCode;

both_backends!(an_instagram_account_posts_a_story_or_a_reel_with_the_media_each_needs,);

async fn an_instagram_account_posts_a_story_or_a_reel_with_the_media_each_needs(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (client, ws) = owner_with_workspace(&app, "ada@example.com").await;
    let ig = app
        .connect_account(ws, Platform::Instagram, "acme.ig")
        .await
        .to_string();
    let x = app
        .connect_account(ws, Platform::X, "acme")
        .await
        .to_string();
    let first = app
        .upload_media(&client, ws, "a.jpg", jpeg(64, 48, 1))
        .await
        .to_string();
    let second = app
        .upload_media(&client, ws, "b.jpg", jpeg(64, 48, 2))
        .await
        .to_string();
    let composer = client.get_text(&format!("/w/{ws}/posts/new")).await;
    assert!(
        composer.contains(&format!("name=\"format-{ig}\"")),
        "{composer}"
    );
    assert!(!composer.contains(&format!("name=\"format-{x}\"")));
    let format = format!("format-{ig}");

    // A story is one file; a reel one video: refused before anything is saved.
    let res = client
        .submit(
            &format!("/w/{ws}/posts"),
            &[
                ("body", "Two pictures"),
                ("account", &ig),
                (&format, "story"),
                ("media", &first),
                ("media", &second),
                ("action", "now"),
            ],
        )
        .await;
    expect_page(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "A story on Instagram is one image or one video",
    )
    .await;
    let res = client
        .submit(
            &format!("/w/{ws}/posts"),
            &[
                ("body", "A picture"),
                ("account", &ig),
                (&format, "reel"),
                ("media", &first),
                ("action", "now"),
            ],
        )
        .await;
    expect_page(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "A reel on Instagram is one video",
    )
    .await;
    // A story alone takes no first comment: refused rather than lost after publishing.
    let res = client
        .submit(
            &format!("/w/{ws}/posts"),
            &[
                ("body", "A picture"),
                ("first_comment", "Open at 7"),
                ("account", &ig),
                (&format, "story"),
                ("media", &first),
                ("action", "now"),
            ],
        )
        .await;
    expect_page(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "nor a story takes comments",
    )
    .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM posts").await, 0);

    // A story to Instagram and a post to X, with a first comment.
    let res = client
        .submit(
            &format!("/w/{ws}/posts"),
            &[
                ("body", "Fresh bread"),
                ("first_comment", "Open at 7"),
                ("account", &ig),
                ("account", &x),
                (&format, "story"),
                ("media", &first),
                ("action", "now"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let post = location(res.headers());
    let shown = client.get_text(&post).await;
    assert!(shown.contains("data-target-format>Story</span>"), "{shown}");
    let edit = client.get_text(&format!("{post}/edit")).await;
    assert!(
        edit.contains("<option value=\"story\" selected>Story</option>"),
        "{edit}"
    );
    app.worker().run_until_empty().await.unwrap();
    let received = app.publisher.received();
    let to = |platform: Platform| {
        received
            .iter()
            .find(|r| r.request.account.platform == platform)
            .unwrap()
            .request
            .options
            .clone()
    };
    assert_eq!(to(Platform::Instagram)["format"], "story");
    assert!(to(Platform::X).get("format").is_none());
    let comments = app
        .text(&format!(
            "SELECT COALESCE(t.comment_error, '') FROM post_targets t JOIN social_accounts a ON \
             a.id = t.account_id WHERE a.id = {ig}"
        ))
        .await;
    assert_eq!(comments, "A story takes no comments.");
}

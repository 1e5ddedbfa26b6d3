//! Feed, reel and story, chosen per account in the composer where the platform has the choice
//! (Instagram and Facebook): the media each needs is checked before anything is saved, the choice is kept
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

both_backends!(a_facebook_page_posts_a_reel_or_a_story_within_facebooks_limits,);

/// Facebook offers the same three formats, with its own limits: a reel of at most a minute and
/// a half, a story photo of at most 4 MB.
async fn a_facebook_page_posts_a_reel_or_a_story_within_facebooks_limits(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (client, ws) = owner_with_workspace(&app, "ada@example.com").await;
    let fb = app
        .connect_account(ws, Platform::Facebook, "Acme Bakery")
        .await
        .to_string();
    let mut clip = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom".to_vec();
    clip.resize(4096, 0);
    let video = app.upload_media(&client, ws, "clip.mp4", clip).await;
    let photo = app
        .upload_media(&client, ws, "a.jpg", jpeg(64, 48, 1))
        .await;
    let composer = client.get_text(&format!("/w/{ws}/posts/new")).await;
    assert!(
        composer.contains(&format!("name=\"format-{fb}\"")),
        "{composer}"
    );
    assert!(composer.contains("A reel is one vertical video of up to 1:30"));
    let format = format!("format-{fb}");
    let post_as = |body: &'static str, kind: &'static str, media: i64| {
        let (client, fb, format) = (&client, fb.clone(), format.clone());
        async move {
            let media = media.to_string();
            client
                .submit(
                    &format!("/w/{ws}/posts"),
                    &[
                        ("body", body),
                        ("account", &fb),
                        (&format, kind),
                        ("media", &media),
                        ("action", "now"),
                    ],
                )
                .await
        }
    };

    // Longer than a Facebook reel, larger than a Facebook story photo: refused, nothing saved.
    app.exec(&format!(
        "UPDATE media_items SET duration_ms = 91000 WHERE id = {video}"
    ))
    .await;
    expect_page(
        post_as("Too long", "reel", video).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "A reel on Facebook is at most 1:30; this one is 1:31",
    )
    .await;
    app.exec(&format!(
        "UPDATE media_items SET size_bytes = {} WHERE id = {photo}",
        4 * 1024 * 1024 + 1
    ))
    .await;
    expect_page(
        post_as("Too big", "story", photo).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "takes a photo of at most 4 MB",
    )
    .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM posts").await, 0);

    // Within the limits, each goes out with its format.
    app.exec(&format!(
        "UPDATE media_items SET duration_ms = 45000 WHERE id = {video}"
    ))
    .await;
    app.exec(&format!(
        "UPDATE media_items SET size_bytes = 1024 WHERE id = {photo}"
    ))
    .await;
    for (body, kind, media) in [("A reel", "reel", video), ("A story", "story", photo)] {
        let res = post_as(body, kind, media).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{kind}");
    }
    app.worker().run_until_empty().await.unwrap();
    let received = app.publisher.received();
    let mut formats: Vec<(String, String)> = received
        .iter()
        .map(|r| {
            (
                r.request.text.clone(),
                r.request.options["format"]
                    .as_str()
                    .unwrap_or("feed")
                    .to_owned(),
            )
        })
        .collect();
    formats.sort();
    assert_eq!(
        formats,
        [
            ("A reel".to_owned(), "reel".to_owned()),
            ("A story".to_owned(), "story".to_owned())
        ]
    );
}

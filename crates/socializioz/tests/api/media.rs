//! The media library over HTTP on both databases: uploads judged by their bytes and held to
//! their size limit while streaming, thumbnails, search, use in posts, and the signed addresses
//! platforms fetch files from.

use crate::both_backends;
use crate::fixtures::owner_with_workspace;
use crate::helpers::{Backend, expect_page, jpeg, location, png, spawn_app, spawn_app_with};
use domain::Platform;
use reqwest::StatusCode;

both_backends!(
    an_image_gets_dimensions_a_thumbnail_and_a_place_in_the_library,
    files_are_judged_by_their_bytes_not_their_names,
    an_oversize_upload_is_stopped_and_leaves_nothing_behind,
    a_posts_media_reaches_the_platform_through_a_signed_address,
    the_picker_warns_of_a_file_a_platform_does_not_take,
);

const EMAIL: &str = "ada@example.com";

async fn an_image_gets_dimensions_a_thumbnail_and_a_place_in_the_library(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (client, ws) = owner_with_workspace(&app, EMAIL).await;
    let path = format!("/w/{ws}/media/upload");
    let res = client
        .upload(
            &path,
            &[("folder", "Spring"), ("tags", "Launch, Hero")],
            vec![("hero.png", png(640, 480, 128))],
            true,
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM media_items WHERE width = 640 AND height = 480 AND mime = 'image/png' AND folder = 'Spring' AND tags = ',launch,hero,' AND provenance = 'uploaded'").await,
        1
    );
    assert_eq!(app.media_files().len(), 2, "the original and its thumbnail");
    let id = app.count("SELECT id FROM media_items").await;
    let thumb = client.get(&format!("/w/{ws}/media/{id}/thumb")).await;
    assert_eq!(thumb.status(), StatusCode::OK);
    assert_eq!(thumb.headers()["content-type"], "image/jpeg");
    let bytes = thumb.bytes().await.unwrap();
    let small = image::load_from_memory(&bytes).unwrap();
    assert_eq!((small.width(), small.height()), (320, 240));

    // Search by tag, folder and name; the page says where the file is used.
    for q in ["launch", "spring", "HERO.png"] {
        let page = client.get_text(&format!("/w/{ws}/media?q={q}")).await;
        assert!(page.contains("hero.png"), "search {q}");
    }
    let page = client.get_text(&format!("/w/{ws}/media?q=autumn")).await;
    assert!(!page.contains("hero.png"));
    let page = client.get_text(&format!("/w/{ws}/media/{id}")).await;
    assert!(page.contains("640 × 480") && page.contains("No post uses this file"));

    // Another workspace cannot reach it.
    let eve = app.verified_user("Eve", "eve@example.com").await;
    assert_eq!(
        eve.get(&format!("/w/{ws}/media/{id}/file")).await.status(),
        StatusCode::NOT_FOUND
    );
    // An upload without the form's token is refused, and stores nothing.
    let res = client
        .upload(&path, &[], vec![("other.png", png(10, 10, 128))], false)
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count("SELECT COUNT(*) FROM media_items").await, 1);

    let res = client
        .submit(&format!("/w/{ws}/media/{id}/delete"), &[("confirm", "yes")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(app.media_files().is_empty(), "files deleted with the row");
}

async fn files_are_judged_by_their_bytes_not_their_names(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (client, ws) = owner_with_workspace(&app, EMAIL).await;
    let path = format!("/w/{ws}/media/upload");
    // A PNG named like a JPEG.
    let res = client
        .upload(&path, &[], vec![("photo.jpg", png(20, 20, 128))], true)
        .await;
    expect_page(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "named like a JPEG file, but its contents are a PNG",
    )
    .await;
    // A PDF named like a video.
    let res = client
        .upload(
            &path,
            &[],
            vec![(
                "clip.mp4",
                b"%PDF-1.7\n%\xe2\xe3\xcf\xd3 not a video".to_vec(),
            )],
            true,
        )
        .await;
    expect_page(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "named like a MP4 file, but its contents are not one",
    )
    .await;
    // PNG's signature, then rubbish: not an image after all.
    let mut broken = png(20, 20, 128)[..16].to_vec();
    broken.extend_from_slice(&[7u8; 4000]);
    let res = client
        .upload(&path, &[], vec![("broken.png", broken)], true)
        .await;
    expect_page(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "could not be read as a PNG image",
    )
    .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM media_items").await, 0);
    assert!(app.media_files().is_empty(), "{:?}", app.media_files());

    // A video is recognised from its ISO media header whatever the name's case.
    let mut mov = b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  ".to_vec();
    mov.extend_from_slice(&[0u8; 2048]);
    let res = client
        .upload(&path, &[], vec![("Clip.MOV", mov)], true)
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM media_items WHERE kind = 'video' AND mime = 'video/quicktime' AND thumb_key IS NULL").await,
        1
    );
}

/// A refused upload's file is gone when the refusal is answered, not some time after. The
/// service is called on a single-threaded runtime, so a clean-up left to a spawned task could
/// not have run yet when the folder is looked at (the race behind a flaky test).
mod a_refused_upload_leaves_nothing_when_it_is_answered {
    #[tokio::test(flavor = "current_thread")]
    async fn sqlite() {
        super::a_refused_upload_leaves_nothing_when_it_is_answered(crate::helpers::Backend::Sqlite)
            .await
    }
    #[tokio::test(flavor = "current_thread")]
    async fn postgres() {
        super::a_refused_upload_leaves_nothing_when_it_is_answered(
            crate::helpers::Backend::Postgres,
        )
        .await
    }
}

async fn a_refused_upload_leaves_nothing_when_it_is_answered(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (_client, ws) = owner_with_workspace(&app, EMAIL).await;
    let (actor, membership) = app.member(EMAIL, ws).await;
    let mut broken = png(20, 20, 128)[..16].to_vec();
    broken.extend_from_slice(&[7u8; 4000]);
    let body = futures_util::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from(broken))]);
    let refused = app
        .services
        .upload_media(
            &membership,
            &actor,
            "broken.png",
            &services::media::UploadMeta::default(),
            body,
        )
        .await;
    // No await between the answer and the look: nothing else can run on this thread.
    let left = app.media_files();
    assert!(
        refused.is_err_and(|e| e.to_string().contains("could not be read as a PNG image")),
        "the broken image is refused"
    );
    assert!(left.is_empty(), "left behind at the answer: {left:?}");
}

async fn an_oversize_upload_is_stopped_and_leaves_nothing_behind(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |s| {
        s.media.image_max_mb = 1;
        s.media.video_max_mb = 2;
    })
    .await
    else {
        return;
    };
    let (client, ws) = owner_with_workspace(&app, EMAIL).await;
    let path = format!("/w/{ws}/media/upload");
    let mut big_image = png(20, 20, 128)[..16].to_vec();
    big_image.resize(1024 * 1024 + 1, 0);
    let res = client
        .upload(
            &path,
            &[("folder", "Big")],
            vec![("big.png", big_image)],
            true,
        )
        .await;
    let page = expect_page(
        res,
        StatusCode::PAYLOAD_TOO_LARGE,
        "larger than 1 MB, the limit for images",
    )
    .await;
    assert!(page.contains("Nothing was saved"));
    assert!(page.contains("value=\"Big\""), "the folder typed is kept");

    let mut big_video = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom".to_vec();
    big_video.resize(3 * 1024 * 1024, 1);
    let res = client
        .upload(&path, &[], vec![("long.mp4", big_video)], true)
        .await;
    expect_page(
        res,
        StatusCode::PAYLOAD_TOO_LARGE,
        "larger than 2 MB, the limit for videos",
    )
    .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM media_items").await, 0);
    assert!(app.media_files().is_empty(), "{:?}", app.media_files());

    // Just under the limit is fine.
    let mut fits = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom".to_vec();
    fits.resize(2 * 1024 * 1024, 1);
    let res = client
        .upload(&path, &[], vec![("fits.mp4", fits)], true)
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.count("SELECT size_bytes FROM media_items").await,
        2 * 1024 * 1024
    );
}

async fn a_posts_media_reaches_the_platform_through_a_signed_address(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (client, ws) = owner_with_workspace(&app, EMAIL).await;
    let ig = app
        .connect_account(ws, Platform::Instagram, "acme.ig")
        .await
        .to_string();
    let image = jpeg(64, 48, 64);
    let res = client
        .upload(
            &format!("/w/{ws}/media/upload"),
            &[],
            vec![("a.jpg", image.clone())],
            true,
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let media = app
        .count("SELECT MIN(id) FROM media_items")
        .await
        .to_string();

    // Instagram needs an image or a video.
    let res = client
        .submit(
            &format!("/w/{ws}/posts"),
            &[("body", "No picture"), ("account", &ig), ("action", "now")],
        )
        .await;
    expect_page(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Instagram posts need an image or a video",
    )
    .await;

    // Instagram's API takes JPEG images only: a PNG is refused before anything is saved.
    let res = client
        .upload(
            &format!("/w/{ws}/media/upload"),
            &[],
            vec![("b.png", png(64, 48, 128))],
            true,
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let png_file = app
        .count("SELECT MAX(id) FROM media_items")
        .await
        .to_string();
    let res = client
        .submit(
            &format!("/w/{ws}/posts"),
            &[
                ("body", "A PNG"),
                ("account", &ig),
                ("media", &png_file),
                ("action", "now"),
            ],
        )
        .await;
    expect_page(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Instagram does not take PNG files; it takes JPEG.",
    )
    .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM posts").await, 0);

    // X gets a file of its own; Instagram the post's.
    let x = app
        .connect_account(ws, Platform::X, "acme")
        .await
        .to_string();
    let res = client
        .upload(
            &format!("/w/{ws}/media/upload"),
            &[],
            vec![("wide.png", png(120, 40, 128))],
            true,
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let wide = app
        .count("SELECT MAX(id) FROM media_items")
        .await
        .to_string();
    let x_files = format!("media-{x}");
    let res = client
        .submit(
            &format!("/w/{ws}/posts"),
            &[
                ("body", "With a picture"),
                ("account", &ig),
                ("account", &x),
                ("media", &media),
                (&x_files, &wide),
                ("action", "now"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let post = location(res.headers());
    assert!(
        client
            .get_text(&post)
            .await
            .contains("Its own files: wide.png")
    );
    app.worker().run_until_empty().await.unwrap();
    let received = app.publisher.received();
    assert_eq!(received.len(), 2);
    let to_x = received
        .iter()
        .find(|r| r.request.account.platform == Platform::X)
        .unwrap();
    assert_eq!(to_x.request.media.len(), 1);
    assert_eq!(to_x.request.media[0].width, Some(120));
    let received: Vec<_> = received
        .into_iter()
        .filter(|r| r.request.account.platform == Platform::Instagram)
        .collect();
    let sent = &received[0].request.media;
    assert_eq!(sent.len(), 1);
    assert_eq!(
        (sent[0].mime.as_str(), sent[0].width, sent[0].height),
        ("image/jpeg", Some(64), Some(48))
    );

    // The platform fetches the file without a session; the address works only as signed.
    let anonymous = reqwest::Client::new();
    let got = anonymous.get(&sent[0].url).send().await.unwrap();
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(got.headers()["content-type"], "image/jpeg");
    assert_eq!(got.bytes().await.unwrap().to_vec(), image);
    let tampered = format!("{}x", sent[0].url);
    assert_eq!(
        anonymous.get(&tampered).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let expired = chrono::Utc::now().timestamp() - 60;
    let sig = app
        .services
        .keys
        .mac("media", format!("{media}:{expired}").as_bytes());
    let old = format!("{}/media/{media}/{expired}/{sig}", app.address);
    assert_eq!(
        anonymous.get(&old).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );

    // Used by a published post: the page lists it; the post page shows it.
    let page = client.get_text(&format!("/w/{ws}/media/{media}")).await;
    assert!(page.contains("With a picture"), "{page}");
    assert!(
        client
            .get_text(&post)
            .await
            .contains(&format!("/media/{media}/thumb"))
    );

    // A draft that carries the file keeps it from being deleted.
    let res = client
        .submit(
            &format!("/w/{ws}/posts"),
            &[("body", "Draft"), ("media", &media), ("action", "draft")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = client
        .submit(
            &format!("/w/{ws}/media/{media}/delete"),
            &[("confirm", "yes")],
        )
        .await;
    expect_page(res, StatusCode::FORBIDDEN, "have not all gone out yet").await;
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM media_items WHERE id = {media}"
        ))
        .await,
        1
    );
}

/// A PNG offered to a workspace with Instagram and TikTok says, in the composer's picker,
/// that those two do not take it (and what to do), before anyone submits; a JPEG says nothing.
async fn the_picker_warns_of_a_file_a_platform_does_not_take(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (client, ws) = owner_with_workspace(&app, EMAIL).await;
    app.connect_account(ws, Platform::Instagram, "acme_ig")
        .await;
    app.connect_account(ws, Platform::TikTok, "acme_tt").await;
    app.connect_account(ws, Platform::X, "acme_x").await;
    app.upload_media(&client, ws, "chart.png", png(40, 30, 5))
        .await;
    app.upload_media(&client, ws, "photo.jpg", jpeg(40, 30, 6))
        .await;
    let page = client.get_text(&format!("/w/{ws}/posts/new")).await;
    let warning = "Not for Instagram or TikTok: they do not take PNG files. Save it as JPEG and \
                   upload that for them.";
    assert_eq!(page.matches(warning).count(), 1, "{page}");
    let (_, after_png) = page.split_once("chart.png").unwrap();
    assert!(after_png.trim_start().contains(warning), "next to the PNG");
    let (_, after_jpeg) = page.split_once("photo.jpg").unwrap();
    let jpeg_tile = after_jpeg.split("</li>").next().unwrap();
    assert!(!jpeg_tile.contains("Not for"), "{jpeg_tile}");
}

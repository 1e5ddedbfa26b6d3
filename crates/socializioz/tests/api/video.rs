//! Videos read with ffmpeg, on both databases: an uploaded video gets its length, picture size
//! and a poster frame as its thumbnail; a video longer than a platform takes cannot be scheduled
//! there; a file the tools cannot read is kept without its facts, and a server without ffmpeg
//! says what that leaves out. The videos are made by ffmpeg itself, so they are real files.

use crate::both_backends;
use crate::fixtures::owner_with_workspace;
use crate::helpers::{Backend, TestApp, post_input, spawn_app, spawn_app_with};
use domain::Platform;
use reqwest::StatusCode;
use services::posts::Intent;
use std::path::PathBuf;
use std::process::Command;

both_backends!(
    an_uploaded_video_gets_its_length_size_and_poster,
    without_ffmpeg_a_video_is_kept_and_the_page_says_so,
);

const ADA: &str = "ada@example.com";

/// Whether ffmpeg is here; when it must be (CI), its absence fails the test.
pub(crate) fn ffmpeg_here() -> bool {
    let here = ["ffmpeg", "ffprobe"].iter().all(|tool| {
        Command::new(tool)
            .arg("-version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if !here {
        assert!(
            !crate::helpers::required("SOCIALIZIOZ_REQUIRE_FFMPEG"),
            "ffmpeg and ffprobe are required (Debian's ffmpeg package)"
        );
        crate::helpers::skip("SKIPPED: ffmpeg is not installed");
    }
    here
}

/// An MP4 that ffmpeg makes from a test pattern: `seconds` long at `size` ("320x240").
pub(crate) fn video(seconds: u32, size: &str, rate: u32) -> Vec<u8> {
    let out: PathBuf = std::env::temp_dir().join(format!(
        "{}.mp4",
        crate::helpers::unique("socializioz-test-video")
    ));
    let made = Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i"])
        .arg(format!("testsrc=size={size}:rate={rate}"))
        .args(["-t", &seconds.to_string(), "-c:v", "mpeg4", "-q:v", "8"])
        .args(["-movflags", "+faststart"])
        .arg(&out)
        .output()
        .expect("ffmpeg runs");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let bytes = std::fs::read(&out).unwrap();
    std::fs::remove_file(&out).unwrap();
    bytes
}

async fn facts(app: &TestApp, media: i64) -> String {
    app.text(&format!(
        "SELECT COALESCE(CAST(width AS TEXT), '-') || 'x' || COALESCE(CAST(height AS TEXT), '-') \
         || '|' || COALESCE(CAST(duration_ms AS TEXT), '-') || '|' \
         || CASE WHEN thumb_key IS NULL THEN 'no thumb' ELSE 'thumb' END \
         FROM media_items WHERE id = {media}"
    ))
    .await
}

async fn an_uploaded_video_gets_its_length_size_and_poster(backend: Backend) {
    if !ffmpeg_here() {
        return;
    }
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ada, ws) = owner_with_workspace(&app, ADA).await;
    let clip = app
        .upload_media(&ada, ws, "clip.mp4", video(2, "320x240", 10))
        .await;
    assert_eq!(facts(&app, clip).await, "320x240|2000|thumb");
    let poster = ada.get(&format!("/w/{ws}/media/{clip}/thumb")).await;
    assert_eq!(poster.status(), StatusCode::OK);
    let poster = image::load_from_memory_with_format(
        &poster.bytes().await.unwrap(),
        image::ImageFormat::Jpeg,
    )
    .unwrap();
    assert_eq!((poster.width(), poster.height()), (320, 240));
    let page = ada.get_text(&format!("/w/{ws}/media/{clip}")).await;
    assert!(page.contains("<dd id=\"video-length\">0:02</dd>"), "{page}");
    assert!(page.contains("320 × 240"));
    assert!(!page.contains("id=\"video-note\""));
    let library = ada.get_text(&format!("/w/{ws}/media")).await;
    assert!(library.contains("320 × 240 · 0:02"));

    // Two and a half minutes: longer than X takes, within what Facebook takes.
    let long = app
        .upload_media(&ada, ws, "long.mp4", video(150, "64x64", 1))
        .await;
    assert_eq!(facts(&app, long).await, "64x64|150000|thumb");
    let x = app.connect_account(ws, Platform::X, "shop").await;
    let facebook = app.connect_account(ws, Platform::Facebook, "shop-fb").await;
    let (user, member) = app.member(ADA, ws).await;
    let at = app.local_in(ADA, ws, chrono::Duration::days(1)).await;
    let refused = app
        .services
        .save_post(
            &member,
            &user,
            None,
            post_input("Long one", &[x, facebook], vec![long], Intent::Schedule(at)),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("“long.mp4”: X takes videos of at most 2:20; this one is 2:30."),
        "{refused}"
    );
    app.services
        .save_post(
            &member,
            &user,
            None,
            post_input("Long one", &[facebook], vec![long], Intent::Schedule(at)),
        )
        .await
        .expect("Facebook takes it");

    // A file that looks like an MP4 but is not one: kept, without facts, and the page says so.
    let mut broken = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom".to_vec();
    broken.extend(std::iter::repeat_n(7u8, 4096));
    let broken = app.upload_media(&ada, ws, "broken.mp4", broken).await;
    assert_eq!(facts(&app, broken).await, "-x-|-|no thumb");
    let page = ada.get_text(&format!("/w/{ws}/media/{broken}")).await;
    assert!(page.contains("ffmpeg could not read it"), "{page}");
}

async fn without_ffmpeg_a_video_is_kept_and_the_page_says_so(backend: Backend) {
    if !ffmpeg_here() {
        return;
    }
    let Some(app) = spawn_app_with(backend, |s| s.media.ffmpeg = String::new()).await else {
        return;
    };
    let (ada, ws) = owner_with_workspace(&app, ADA).await;
    let long = app
        .upload_media(&ada, ws, "long.mp4", video(150, "64x64", 1))
        .await;
    assert_eq!(facts(&app, long).await, "-x-|-|no thumb");
    let page = ada.get_text(&format!("/w/{ws}/media/{long}")).await;
    assert!(page.contains("This server has no ffmpeg"), "{page}");
    // Its length is unknown, so X is left to judge it.
    let x = app.connect_account(ws, Platform::X, "shop").await;
    let at = app.local_in(ADA, ws, chrono::Duration::days(1)).await;
    app.save_post(
        ADA,
        ws,
        post_input("Long one", &[x], vec![long], Intent::Schedule(at)),
    )
    .await;
}

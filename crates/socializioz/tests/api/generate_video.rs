//! AI videos in the media library, against the simulator's Runway API, over HTTP on both
//! databases: a video from a prompt or from a library picture (handed over as an ephemeral
//! upload) is a task the job follows to its end and stores with its provenance and its facts;
//! what a model does not take is refused with nothing recorded; failures, cancels and the time
//! limit give the monthly count back and stop the task; an expired output address is asked
//! again; a worker killed while it follows a task leaves a job the next worker finishes with
//! the same task, once; the plan's monthly AI videos hold.

use crate::ai::{Studio, studio_with, with_ai_on};
use crate::both_backends;
use crate::helpers::{Backend, Client, TestApp, location, png};
use domain::plans::PlanId;
use reqwest::StatusCode;
use sim::Fault;
use sim::runway::RunwayOp;
use socializioz::config::ai::{ElevenLabsSettings, RunwaySettings};
use std::time::{Duration, Instant};

both_backends!(
    without_runway_there_is_no_video_tab,
    a_video_from_a_prompt_is_followed_to_the_library,
    a_video_from_a_picture_hands_the_picture_over_as_an_upload,
    what_a_model_does_not_take_is_refused_with_nothing_recorded,
    failures_cancels_and_the_time_limit_give_the_count_back,
    an_expired_output_address_is_asked_again,
    an_output_larger_than_the_limit_is_not_kept,
    a_video_outlives_a_killed_worker_with_the_same_task,
    the_plan_counts_ai_videos,
    a_reel_lays_the_voice_over_under_the_scenes,
    what_a_reel_cannot_be_made_of_is_refused,
    a_refused_voice_over_gives_the_reel_back,
    without_ffmpeg_the_reel_tab_says_so,
    a_failed_or_cancelled_reel_leaves_nothing_in_storage,
    a_reel_in_the_making_goes_with_its_authors_account,
);

/// An app whose AI makes videos with the simulator's Runway and reels' voice-overs with its
/// ElevenLabs (and sells plans when `billing`).
async fn director(backend: Backend, billing: bool) -> Option<Studio> {
    director_with(backend, billing, |_| {}).await
}

pub(crate) async fn director_with(
    backend: Backend,
    billing: bool,
    adjust: impl FnOnce(&mut socializioz::config::Settings),
) -> Option<Studio> {
    studio_with(backend, |s| {
        if let Some(ai) = s.ai.as_mut() {
            // The same simulator as the text API.
            let base = ai.base_url.trim_end_matches("/openai/v1").to_owned();
            ai.runway = Some(RunwaySettings {
                api_key: Some("key_test_runway".to_owned().into()),
                base_url: format!("{base}/runway"),
                // The simulator moves a task on at each look, whatever the time between: the
                // job looks again at once, and the worker runs it until it ends.
                poll_milliseconds: 0,
                ..RunwaySettings::default()
            });
            ai.elevenlabs = Some(ElevenLabsSettings {
                api_key: Some("sk_test_voice".to_owned().into()),
                base_url: format!("{base}/elevenlabs"),
                ..ElevenLabsSettings::default()
            });
        }
        if billing {
            s.billing = Some(Default::default());
        }
        adjust(s);
    })
    .await
}

fn runway(s: &Studio) -> &sim::Simulator {
    &s.sim
}

/// Asks for a video; the response.
async fn ask(client: &Client, ws: i64, fields: &[(&str, &str)]) -> reqwest::Response {
    client
        .submit(&format!("/w/{ws}/media/generate/video"), fields)
        .await
}

/// Asks for a video that is accepted; the generation's id.
async fn asked(client: &Client, ws: i64, fields: &[(&str, &str)]) -> i64 {
    let res = ask(client, ws, fields).await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "{}",
        res.text().await.unwrap()
    );
    let to = location(res.headers());
    let prefix = format!("/w/{ws}/media/generations/");
    assert!(to.starts_with(&prefix), "{to}");
    to[prefix.len()..].parse().unwrap()
}

const WAVES: &[(&str, &str)] = &[
    ("model", "gen4.5"),
    (
        "prompt",
        "Waves rolling onto a beach at dusk, slow dolly forward",
    ),
    ("source", ""),
    ("shape", "9:16"),
    ("seconds", "5"),
];

pub(crate) async fn state_of(app: &TestApp, generation: i64) -> String {
    app.text(&format!(
        "SELECT state FROM media_generations WHERE id = {generation}"
    ))
    .await
}

pub(crate) async fn videos_counted(app: &TestApp, ws: i64) -> i64 {
    app.count(&format!(
        "SELECT CAST(COALESCE(SUM(count), 0) AS BIGINT) FROM plan_usage WHERE workspace_id = {ws} \
         AND counter = 'ai_videos_per_month'"
    ))
    .await
}

async fn without_runway_there_is_no_video_tab(backend: Backend) {
    let Some(s) = studio_with(backend, |s| {
        if let Some(ai) = s.ai.as_mut() {
            ai.image_model = Some("gpt-image-1".to_owned());
        }
    })
    .await
    else {
        return;
    };
    let (ada, ws, _, _) = with_ai_on(&s).await;
    let page = ada.get_text(&format!("/w/{ws}/media/generate")).await;
    assert!(!page.contains("/media/generate/video"));
    assert_eq!(
        ada.get(&format!("/w/{ws}/media/generate/video"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(ask(&ada, ws, WAVES).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        s.app.count("SELECT COUNT(*) FROM media_generations").await,
        0
    );
    let policy = ada.get_text("/legal/privacy").await;
    assert!(policy.contains("This instance does not generate videos."));
}

async fn a_video_from_a_prompt_is_followed_to_the_library(backend: Backend) {
    let Some(s) = director(backend, false).await else {
        return;
    };
    let (ada, ws, _, _) = with_ai_on(&s).await;
    // The workspace agreed to a disclosure that names Runway, and the policy says so.
    let ai_page = ada.get_text(&format!("/w/{ws}/ai")).await;
    assert!(
        ai_page.contains("For videos made in the media library"),
        "{ai_page}"
    );
    let policy = ada.get_text("/legal/privacy").await;
    assert!(policy.contains("Videos can be generated too"), "{policy}");
    assert!(policy.contains("**Runway**") || policy.contains("<strong>Runway</strong>"));
    let library = ada.get_text(&format!("/w/{ws}/media")).await;
    assert!(library.contains("id=\"generate-link\""));
    let form = ada.get_text(&format!("/w/{ws}/media/generate/video")).await;
    assert!(form.contains("Gen-4.5 — from a prompt; 5, 10 s"), "{form}");
    let generation = asked(&ada, ws, WAVES).await;
    assert_eq!(state_of(&s.app, generation).await, "queued");
    assert_eq!(videos_counted(&s.app, ws).await, 1);
    let page = ada
        .get_text(&format!("/w/{ws}/media/generations/{generation}"))
        .await;
    assert!(page.contains("Video generation"));
    assert!(page.contains("http-equiv=\"refresh\""));
    s.app.worker().run_until_empty().await.unwrap();
    assert_eq!(state_of(&s.app, generation).await, "done");
    assert_eq!(runway(&s).runway_counts(), (1, 0, 1));
    let sent = runway(&s).runway_requests();
    let start = sent.iter().find(|r| r.get("ratio").is_some()).unwrap();
    assert_eq!(start["model"], "gen4.5");
    assert_eq!(start["ratio"], "720:1280");
    assert_eq!(start["duration"], 5);
    assert_eq!(
        start["promptText"],
        "Waves rolling onto a beach at dusk, slow dolly forward"
    );
    let row = s
        .app
        .text(&format!(
            "SELECT kind || '|' || mime || '|' || provenance || '|' || ai_provider || '|' || \
             ai_model || '|' || CASE WHEN reviewed_at IS NULL THEN 'unreviewed' ELSE 'reviewed' \
             END FROM media_items WHERE workspace_id = {ws}"
        ))
        .await;
    assert_eq!(row, "video|video/mp4|ai|Runway|gen4.5|unreviewed");
    let media = s
        .app
        .count(&format!(
            "SELECT media_id FROM media_generations WHERE id = {generation}"
        ))
        .await;
    if s.app.services.media_limits.video.is_some() {
        let facts = s
            .app
            .text(&format!(
                "SELECT CAST(width AS TEXT) || 'x' || CAST(height AS TEXT) || '|' || \
                 CAST(duration_ms AS TEXT) || '|' || COALESCE(thumb_key, 'none') FROM \
                 media_items WHERE id = {media}"
            ))
            .await;
        assert!(facts.starts_with("720x1280|5000|"), "{facts}");
        assert!(facts.ends_with(".thumb.jpg"), "{facts}");
    } else {
        assert!(!crate::helpers::required("SOCIALIZIOZ_REQUIRE_FFMPEG"));
    }
    let file = ada
        .get(&format!("/w/{ws}/media/{media}/file"))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(&file[4..8], b"ftyp");
    let item = ada.get_text(&format!("/w/{ws}/media/{media}")).await;
    assert!(item.contains("Generated by AI: Runway (gen4.5)"), "{item}");
    assert!(item.contains("id=\"video-player\""));
    assert!(item.contains("AI-generated — review before publishing"));
    let done = ada
        .get_text(&format!("/w/{ws}/media/generations/{generation}"))
        .await;
    assert!(done.contains("id=\"generated-file\""));
    assert!(!done.contains("http-equiv=\"refresh\""));
    let recent = ada.get_text(&format!("/w/{ws}/media/generate/video")).await;
    assert!(recent.contains("Video · 5 s · 9:16"), "{recent}");
}

async fn a_video_from_a_picture_hands_the_picture_over_as_an_upload(backend: Backend) {
    let Some(s) = director(backend, false).await else {
        return;
    };
    let (ada, ws, _, _) = with_ai_on(&s).await;
    let picture = s
        .app
        .upload_media(&ada, ws, "harbour.png", png(96, 96, 7))
        .await;
    let item = ada.get_text(&format!("/w/{ws}/media/{picture}")).await;
    assert!(item.contains(&format!("/media/generate/video?source={picture}")));
    let form = ada
        .get_text(&format!("/w/{ws}/media/generate/video?source={picture}"))
        .await;
    assert!(form.contains(&format!("<option value=\"{picture}\" selected>")));
    let source = picture.to_string();
    let generation = asked(
        &ada,
        ws,
        &[
            ("model", "gen4_turbo"),
            ("prompt", ""),
            ("source", &source),
            ("shape", "1:1"),
            ("seconds", "10"),
        ],
    )
    .await;
    s.app.worker().run_until_empty().await.unwrap();
    assert_eq!(state_of(&s.app, generation).await, "done");
    let sent = runway(&s).runway_requests();
    let slot = sent.iter().find(|r| r["type"] == "ephemeral").unwrap();
    // A name of its own, not the person's file name.
    assert_eq!(slot["filename"], "picture.png");
    assert!(!serde_json::to_string(&sent).unwrap().contains("harbour"));
    let start = sent
        .iter()
        .find(|r| r.get("promptImage").is_some())
        .unwrap();
    let reference = start["promptImage"][0]["uri"].as_str().unwrap();
    assert!(reference.starts_with("runway://"), "{reference}");
    assert_eq!(start["ratio"], "960:960");
    assert_eq!(start["duration"], 10);
    // No address of this server, signed or not, went to the provider.
    let everything = serde_json::to_string(&sent).unwrap();
    assert!(!everything.contains(&s.app.address), "{everything}");
    assert!(!everything.contains("/media/"), "{everything}");
    if s.app.services.media_limits.video.is_some() {
        let size = s
            .app
            .text(&format!(
                "SELECT CAST(width AS TEXT) || 'x' || CAST(height AS TEXT) FROM media_items \
                 WHERE id = (SELECT media_id FROM media_generations WHERE id = {generation})"
            ))
            .await;
        assert_eq!(size, "960x960");
    }
}

async fn what_a_model_does_not_take_is_refused_with_nothing_recorded(backend: Backend) {
    let Some(s) = director(backend, false).await else {
        return;
    };
    let (ada, ws, _, _) = with_ai_on(&s).await;
    let picture = s
        .app
        .upload_media(&ada, ws, "still.png", png(64, 64, 3))
        .await;
    let picture = picture.to_string();
    let long = "a".repeat(1001);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![
                ("model", "gen4_turbo"),
                ("prompt", "Waves"),
                ("source", ""),
                ("shape", "9:16"),
                ("seconds", "5"),
            ],
            "makes videos from a picture",
        ),
        (
            vec![
                ("model", "gen4.5"),
                ("prompt", "Waves"),
                ("source", &picture),
                ("shape", "9:16"),
                ("seconds", "5"),
            ],
            "makes videos from a prompt only",
        ),
        (
            vec![
                ("model", "gen4.5"),
                ("prompt", "Waves"),
                ("source", ""),
                ("shape", "1:1"),
                ("seconds", "5"),
            ],
            "Gen-4.5 makes 9:16 or 16:9 videos.",
        ),
        (
            vec![
                ("model", "gen4.5"),
                ("prompt", "Waves"),
                ("source", ""),
                ("shape", "9:16"),
                ("seconds", "7"),
            ],
            "Gen-4.5 makes videos of 5 s, 10 s.",
        ),
        (
            vec![
                ("model", "gen4.5"),
                ("prompt", "   "),
                ("source", ""),
                ("shape", "9:16"),
                ("seconds", "5"),
            ],
            "Describe the video you want",
        ),
        (
            vec![
                ("model", "gen4.5"),
                ("prompt", &long),
                ("source", ""),
                ("shape", "9:16"),
                ("seconds", "5"),
            ],
            "Write at most 1000 characters; this prompt has 1001.",
        ),
        (
            vec![
                ("model", "gen9"),
                ("prompt", "Waves"),
                ("source", ""),
                ("shape", "9:16"),
                ("seconds", "5"),
            ],
            "Choose one of the models in the list.",
        ),
        (
            vec![
                ("model", "gen4_turbo"),
                ("prompt", ""),
                ("source", "999999"),
                ("shape", "9:16"),
                ("seconds", "5"),
            ],
            "That picture is not in this library.",
        ),
        (
            vec![
                ("model", "gen4.5"),
                ("prompt", "Waves"),
                ("source", "x"),
                ("shape", "9:16"),
                ("seconds", "5"),
            ],
            "Choose a shape, a length and a picture",
        ),
    ];
    for (fields, message) in cases {
        let res = ask(&ada, ws, &fields).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
        let html = res.text().await.unwrap();
        assert!(html.contains(message), "{message}: {html}");
    }
    assert_eq!(
        s.app.count("SELECT COUNT(*) FROM media_generations").await,
        0
    );
    assert_eq!(videos_counted(&s.app, ws).await, 0);
    assert_eq!(runway(&s).runway_requests().len(), 0);
}

async fn failures_cancels_and_the_time_limit_give_the_count_back(backend: Backend) {
    let Some(s) = director(backend, false).await else {
        return;
    };
    let (ada, ws, _, _) = with_ai_on(&s).await;
    // The provider's moderation refuses it once the task has run.
    let mut blocked = WAVES.to_vec();
    blocked[1] = ("prompt", "A street fight [[block]]");
    let generation = asked(&ada, ws, &blocked).await;
    s.app.worker().run_until_empty().await.unwrap();
    assert_eq!(state_of(&s.app, generation).await, "failed");
    let page = ada
        .get_text(&format!("/w/{ws}/media/generations/{generation}"))
        .await;
    assert!(page.contains("Runway refused this request"), "{page}");
    assert!(page.contains("your monthly count was given back"));
    assert_eq!(videos_counted(&s.app, ws).await, 0);

    // Cancelled while Runway makes it: the task is stopped there.
    let generation = asked(&ada, ws, WAVES).await;
    runway(&s).runway_fail_next(RunwayOp::Task, Fault::ServerError);
    s.app.worker().run_once().await.unwrap();
    assert_eq!(state_of(&s.app, generation).await, "running");
    let page = ada
        .get_text(&format!("/w/{ws}/media/generations/{generation}"))
        .await;
    assert!(page.contains("id=\"cancel-generation\""));
    let res = ada
        .submit(
            &format!("/w/{ws}/media/generations/{generation}/cancel"),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(state_of(&s.app, generation).await, "cancelled");
    assert_eq!(runway(&s).runway_counts().1, 1);
    assert_eq!(videos_counted(&s.app, ws).await, 0);

    // A task still running past the time limit is stopped and the generation fails.
    let generation = asked(&ada, ws, WAVES).await;
    runway(&s).runway_fail_next(RunwayOp::Task, Fault::ServerError);
    s.app.worker().run_once().await.unwrap();
    assert_eq!(state_of(&s.app, generation).await, "running");
    s.app
        .exec(&format!(
            "UPDATE media_generations SET sent_at = '2020-01-01T00:00:00Z' WHERE id = {generation}"
        ))
        .await;
    s.app
        .exec("UPDATE jobs SET run_at = created_at WHERE kind = 'generate_media' AND state = 'queued'")
        .await;
    s.app.worker().run_until_empty().await.unwrap();
    assert_eq!(state_of(&s.app, generation).await, "failed");
    let page = ada
        .get_text(&format!("/w/{ws}/media/generations/{generation}"))
        .await;
    assert!(
        page.contains("did not finish this video within 20 minutes"),
        "{page}"
    );
    assert_eq!(runway(&s).runway_counts().1, 2);
    assert_eq!(videos_counted(&s.app, ws).await, 0);
    // Nothing of the three is in the library or in storage.
    assert_eq!(s.app.count("SELECT COUNT(*) FROM media_items").await, 0);
    let prefix = store::objects::workspace_prefix(ws);
    assert!(
        s.app
            .services
            .objects
            .keys(&prefix)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn an_expired_output_address_is_asked_again(backend: Backend) {
    let Some(s) = director(backend, false).await else {
        return;
    };
    let (ada, ws, _, _) = with_ai_on(&s).await;
    runway(&s).runway_fail_next(RunwayOp::Output, Fault::ExpiredToken);
    let generation = asked(&ada, ws, WAVES).await;
    s.app.worker().run_until_empty().await.unwrap();
    assert_eq!(state_of(&s.app, generation).await, "done");
    // One task; the expired address was refused and a fresh one downloaded.
    assert_eq!(runway(&s).runway_counts(), (1, 0, 1));
    assert_eq!(s.app.count("SELECT COUNT(*) FROM media_items").await, 1);
}

async fn an_output_larger_than_the_limit_is_not_kept(backend: Backend) {
    let Some(s) = director(backend, false).await else {
        return;
    };
    let (ada, ws, _, _) = with_ai_on(&s).await;
    let generation = asked(&ada, ws, WAVES).await;
    // The simulator's videos are about 35 KB; a 16 KB limit (the setting's unit is the
    // megabyte, so it is set on a worker's own services) holds while the file streams.
    let mut services = s.app.services.clone();
    services.media_limits.video_bytes = 16 * 1024;
    let options = services::jobs::worker::WorkerOptions::new(Duration::from_millis(10));
    services::jobs::worker::Worker::new(services, options)
        .run_until_empty()
        .await
        .unwrap();
    assert_eq!(state_of(&s.app, generation).await, "failed");
    let page = ada
        .get_text(&format!("/w/{ws}/media/generations/{generation}"))
        .await;
    assert!(page.contains("larger than 16 KB"), "{page}");
    // Runway made it: the count stays; nothing is in the library or in storage.
    assert_eq!(videos_counted(&s.app, ws).await, 1);
    assert_eq!(s.app.count("SELECT COUNT(*) FROM media_items").await, 0);
    let prefix = store::objects::workspace_prefix(ws);
    assert!(
        s.app
            .services
            .objects
            .keys(&prefix)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_video_outlives_a_killed_worker_with_the_same_task(backend: Backend) {
    let Some(s) = director(backend, false).await else {
        return;
    };
    let (ada, ws, _, _) = with_ai_on(&s).await;
    // The first look at the task never answers: the worker is killed while it waits.
    runway(&s).runway_fail_next(RunwayOp::Task, Fault::Slow(Duration::from_secs(600)));
    let generation = asked(&ada, ws, WAVES).await;
    let doomed = s.app.worker();
    let running = tokio::spawn(async move { doomed.run_once().await });
    let deadline = Instant::now() + Duration::from_secs(60);
    let recorded = format!(
        "SELECT COUNT(*) FROM media_generations WHERE id = {generation} AND provider_task IS NOT \
         NULL"
    );
    while s.app.count(&recorded).await == 0 {
        assert!(Instant::now() < deadline, "the task was never recorded");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    running.abort();
    assert!(running.await.unwrap_err().is_cancelled());
    assert_eq!(state_of(&s.app, generation).await, "running");
    s.app
        .exec(
            "UPDATE jobs SET locked_by = 'a-killed-worker', locked_until = created_at \
             WHERE kind = 'generate_media'",
        )
        .await;
    s.app.worker().run_until_empty().await.unwrap();
    assert_eq!(state_of(&s.app, generation).await, "done");
    // The same task, followed to its end: one started, one downloaded, one file (and its
    // poster, with ffmpeg) in storage.
    assert_eq!(runway(&s).runway_counts(), (1, 0, 1));
    assert_eq!(s.app.count("SELECT COUNT(*) FROM media_items").await, 1);
    let prefix = store::objects::workspace_prefix(ws);
    let keys = s.app.services.objects.keys(&prefix).await.unwrap();
    let expected = if s.app.services.media_limits.video.is_some() {
        2
    } else {
        1
    };
    assert_eq!(keys.len(), expected, "{keys:?}");
    assert_eq!(videos_counted(&s.app, ws).await, 1);
}

async fn the_plan_counts_ai_videos(backend: Backend) {
    let Some(s) = director(backend, true).await else {
        return;
    };
    let (ada, ws, _, _) = with_ai_on(&s).await;
    // Free allows 1 a month.
    asked(&ada, ws, WAVES).await;
    let res = ask(&ada, ws, WAVES).await;
    assert_eq!(res.status(), StatusCode::PAYMENT_REQUIRED);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("This workspace has used 1 of 1 AI videos this month"),
        "{html}"
    );
    assert!(html.contains("The Starter plan lifts this."));
    assert_eq!(
        s.app.count("SELECT COUNT(*) FROM media_generations").await,
        1
    );
    s.app
        .services
        .set_plan(domain::WorkspaceId(ws), PlanId::Starter)
        .await
        .unwrap();
    asked(&ada, ws, WAVES).await;
    assert_eq!(videos_counted(&s.app, ws).await, 2);
}

pub(crate) const RACHEL: &str = "21m00Tcm4TlvDq8ikWAM";
pub(crate) const SCRIPT: &str = "Fresh bread every morning, baked by hand since 1952. Come early!";

fn reel_fields<'a>(
    script: &'a str,
    voice: &'a str,
    scenes: &'a str,
    model: &'a str,
) -> Vec<(&'static str, &'a str)> {
    vec![
        ("script", script),
        ("voice", voice),
        ("scenes", scenes),
        ("model", model),
    ]
}

/// A director whose server has ffmpeg (reels need it; CI requires it), with Ada's workspace
/// and AI on.
async fn reel_studio(backend: Backend) -> Option<(Studio, Client, i64)> {
    let s = director(backend, false).await?;
    if s.app.services.media_limits.video.is_none() {
        assert!(!crate::helpers::required("SOCIALIZIOZ_REQUIRE_FFMPEG"));
        return None;
    }
    let (ada, ws, _, _) = with_ai_on(&s).await;
    Some((s, ada, ws))
}

/// Asks for a reel of `scenes` that is accepted; the generation's id.
async fn ask_reel(client: &Client, ws: i64, scenes: &str) -> i64 {
    let res = client
        .submit(
            &format!("/w/{ws}/media/generate/reel"),
            &reel_fields(SCRIPT, RACHEL, scenes, "gen4.5"),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "{}",
        res.text().await.unwrap()
    );
    location(res.headers())
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

pub(crate) async fn reels_counted(app: &TestApp, ws: i64) -> i64 {
    app.count(&format!(
        "SELECT CAST(COALESCE(SUM(count), 0) AS BIGINT) FROM plan_usage WHERE workspace_id = {ws} \
         AND counter = 'ai_reels_per_month'"
    ))
    .await
}

/// The streams ffprobe finds in a stored file: (kind, width, height) each.
async fn streams(app: &TestApp, key: &str) -> Vec<(String, i64, i64)> {
    let bytes = app.services.objects.get(key).await.unwrap();
    let file = std::env::temp_dir().join(format!(
        "{}.mp4",
        crate::helpers::unique("socializioz-test-reel")
    ));
    std::fs::write(&file, &bytes).unwrap();
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_type,width,height",
            "-of",
            "json",
        ])
        .arg(&file)
        .output()
        .unwrap();
    std::fs::remove_file(&file).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    json["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["codec_type"].as_str().unwrap_or_default().to_owned(),
                s["width"].as_i64().unwrap_or(0),
                s["height"].as_i64().unwrap_or(0),
            )
        })
        .collect()
}

async fn a_reel_lays_the_voice_over_under_the_scenes(backend: Backend) {
    let Some((s, ada, ws)) = reel_studio(backend).await else {
        return;
    };
    let ai_page = ada.get_text(&format!("/w/{ws}/ai")).await;
    assert!(ai_page.contains("For reels: the voice-over"), "{ai_page}");
    let policy = ada.get_text("/legal/privacy").await;
    assert!(
        policy.contains("Reels are made with a voice-over"),
        "{policy}"
    );
    let form = ada.get_text(&format!("/w/{ws}/media/generate/reel")).await;
    assert!(
        form.contains(&format!("<option value=\"{RACHEL}\" selected>Rachel")),
        "{form}"
    );
    // Only models that make vertical videos from a prompt are offered.
    assert!(form.contains("Gen-4.5 — scenes of 10 s"));
    assert!(!form.contains("Gen-4 Turbo"));
    let scenes = "A baker pulls loaves from a wood oven, warm light, slow push in";
    let generation = ask_reel(&ada, ws, scenes).await;
    assert_eq!(reels_counted(&s.app, ws).await, 1);
    assert_eq!(videos_counted(&s.app, ws).await, 0);
    s.app.worker().run_until_empty().await.unwrap();
    assert_eq!(state_of(&s.app, generation).await, "done");
    // The script went to ElevenLabs only, the scenes to Runway only.
    let spoken = s.sim.elevenlabs_requests();
    assert_eq!(spoken.len(), 1);
    assert_eq!(spoken[0]["text"], SCRIPT);
    let start = runway(&s)
        .runway_requests()
        .into_iter()
        .find(|r| r.get("ratio").is_some())
        .unwrap();
    assert_eq!(start["promptText"], scenes);
    assert_eq!(start["ratio"], "720:1280");
    assert_eq!(start["duration"], 10);
    let media = s
        .app
        .count(&format!(
            "SELECT media_id FROM media_generations WHERE id = {generation}"
        ))
        .await;
    let key = s
        .app
        .text(&format!(
            "SELECT object_key FROM media_items WHERE id = {media}"
        ))
        .await;
    let found = streams(&s.app, &key).await;
    assert!(
        found.contains(&("video".to_owned(), 720, 1280)),
        "{found:?}"
    );
    assert!(found.iter().any(|(kind, ..)| kind == "audio"), "{found:?}");
    let row = s
        .app
        .text(&format!(
            "SELECT ai_provider || '|' || CAST(duration_ms AS TEXT) FROM media_items WHERE id = {media}"
        ))
        .await;
    // As long as the voice-over (3 s), not the scene (5 s).
    let (provider, length) = row.split_once('|').unwrap();
    assert_eq!(provider, "Runway and ElevenLabs");
    let length: i64 = length.parse().unwrap();
    assert!((2_900..=3_400).contains(&length), "{length}");
    let item = ada.get_text(&format!("/w/{ws}/media/{media}")).await;
    assert!(
        item.contains("Voice-over (Rachel, eleven_multilingual_v2)"),
        "{item}"
    );
    // Only the reel and its poster are left in storage: the voice-over and the scenes went.
    let prefix = store::objects::workspace_prefix(ws);
    let mut keys = s.app.services.objects.keys(&prefix).await.unwrap();
    keys.sort();
    assert_eq!(keys, vec![key.clone(), format!("{key}.thumb.jpg")]);
}

async fn what_a_reel_cannot_be_made_of_is_refused(backend: Backend) {
    let Some((s, ada, ws)) = reel_studio(backend).await else {
        return;
    };
    let long = "a".repeat(1501);
    for (fields, message) in [
        (
            reel_fields("  ", RACHEL, "Bread", "gen4.5"),
            "Write what the voice-over says",
        ),
        (
            reel_fields(&long, RACHEL, "Bread", "gen4.5"),
            "Write at most 1500 characters; this script has 1501.",
        ),
        (
            reel_fields(SCRIPT, "NotAVoice", "Bread", "gen4.5"),
            "Choose one of the voices in the list.",
        ),
        (
            reel_fields(SCRIPT, RACHEL, " ", "gen4.5"),
            "Describe what the scenes show",
        ),
        (
            reel_fields(SCRIPT, RACHEL, "Bread", "gen4_turbo"),
            "Choose one of the models in the list.",
        ),
    ] {
        let res = ada
            .submit(&format!("/w/{ws}/media/generate/reel"), &fields)
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{message}");
        let html = res.text().await.unwrap();
        assert!(html.contains(message), "{message}: {html}");
    }
    assert_eq!(
        s.app.count("SELECT COUNT(*) FROM media_generations").await,
        0
    );
    assert_eq!(reels_counted(&s.app, ws).await, 0);
    assert_eq!(s.sim.elevenlabs_spoken(), 0);
}

async fn a_refused_voice_over_gives_the_reel_back(backend: Backend) {
    let Some((s, ada, ws)) = reel_studio(backend).await else {
        return;
    };
    // The form reads the voices first; the key is refused when the script is read aloud.
    ada.get_text(&format!("/w/{ws}/media/generate/reel")).await;
    let generation = ask_reel(&ada, ws, "Bread on a table").await;
    s.sim.elevenlabs_fail_next(sim::Fault::RevokedToken);
    s.app.worker().run_until_empty().await.unwrap();
    assert_eq!(state_of(&s.app, generation).await, "failed");
    let page = ada
        .get_text(&format!("/w/{ws}/media/generations/{generation}"))
        .await;
    assert!(page.contains("refused this instance"), "{page}");
    assert_eq!(reels_counted(&s.app, ws).await, 0);
    // The scenes' task, started first, was stopped; nothing is in storage.
    assert_eq!(runway(&s).runway_counts().0, 1);
    assert_eq!(runway(&s).runway_counts().1, 1);
    let prefix = store::objects::workspace_prefix(ws);
    assert!(
        s.app
            .services
            .objects
            .keys(&prefix)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn without_ffmpeg_the_reel_tab_says_so(backend: Backend) {
    let Some(s) = director_with(backend, false, |s| s.media.ffmpeg = String::new()).await else {
        return;
    };
    let (ada, ws, _, _) = with_ai_on(&s).await;
    let page = ada.get_text(&format!("/w/{ws}/media/generate/reel")).await;
    assert!(page.contains("Reels need ffmpeg on this server"), "{page}");
    assert!(!page.contains("id=\"generate-reel\""));
    let res = ada
        .submit(
            &format!("/w/{ws}/media/generate/reel"),
            &reel_fields(SCRIPT, RACHEL, "Bread", "gen4.5"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        s.app.count("SELECT COUNT(*) FROM media_generations").await,
        0
    );
}

async fn a_failed_or_cancelled_reel_leaves_nothing_in_storage(backend: Backend) {
    let Some((s, ada, ws)) = reel_studio(backend).await else {
        return;
    };
    let prefix = store::objects::workspace_prefix(ws);
    // The scenes' task fails after the voice-over was made (it is made while they render).
    let generation = ask_reel(&ada, ws, "A bakery in flames [[block]]").await;
    s.app.worker().run_until_empty().await.unwrap();
    assert_eq!(state_of(&s.app, generation).await, "failed");
    assert_eq!(s.sim.elevenlabs_spoken(), 1);
    assert!(
        s.app
            .services
            .objects
            .keys(&prefix)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(reels_counted(&s.app, ws).await, 0);
    // Cancelled while Runway renders, the voice-over already stored: it goes.
    let generation = ask_reel(&ada, ws, "Loaves cooling on a rack").await;
    s.app.worker().run_once().await.unwrap();
    assert_eq!(state_of(&s.app, generation).await, "running");
    assert_eq!(s.sim.elevenlabs_spoken(), 2);
    assert_eq!(s.app.services.objects.keys(&prefix).await.unwrap().len(), 1);
    let res = ada
        .submit(
            &format!("/w/{ws}/media/generations/{generation}/cancel"),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(state_of(&s.app, generation).await, "cancelled");
    assert!(
        s.app
            .services
            .objects
            .keys(&prefix)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(reels_counted(&s.app, ws).await, 0);
    // A later run of its job finds it ended and stores nothing.
    s.app
        .exec("UPDATE jobs SET run_at = created_at WHERE kind = 'generate_media' AND state = 'queued'")
        .await;
    s.app.worker().run_until_empty().await.unwrap();
    assert!(
        s.app
            .services
            .objects
            .keys(&prefix)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(s.sim.elevenlabs_spoken(), 2);
}

async fn a_reel_in_the_making_goes_with_its_authors_account(backend: Backend) {
    let Some(s) = director(backend, false).await else {
        return;
    };
    if s.app.services.media_limits.video.is_none() {
        assert!(!crate::helpers::required("SOCIALIZIOZ_REQUIRE_FFMPEG"));
        return;
    }
    // Grace, an editor of Ada's workspace (which stays), asks for a reel; its voice-over is
    // stored while Runway renders the scenes.
    let team = crate::ai::team_with_ai(&s.app, "editor").await;
    let ws = team.ws;
    let generation = ask_reel(&team.member, ws, "Loaves cooling on a rack").await;
    s.app.worker().run_once().await.unwrap();
    assert_eq!(state_of(&s.app, generation).await, "running");
    let prefix = store::objects::workspace_prefix(ws);
    let voice = format!("{prefix}ai-{generation}.voice.mp3");
    assert_eq!(
        s.app.services.objects.keys(&prefix).await.unwrap(),
        vec![voice.clone()]
    );
    // She deletes her account, her work with it: the request and its voice-over (her script,
    // read aloud) go.
    let res = team.member.delete_own_account("grace@example.com").await;
    assert!(
        res.status().is_redirection() || res.status().is_success(),
        "{}",
        res.status()
    );
    assert_eq!(
        s.app
            .count(&format!(
                "SELECT COUNT(*) FROM media_generations WHERE id = {generation}"
            ))
            .await,
        0
    );
    assert!(!s.app.services.objects.exists(&voice).await);
    assert!(
        s.app
            .services
            .objects
            .keys(&prefix)
            .await
            .unwrap()
            .is_empty()
    );
}

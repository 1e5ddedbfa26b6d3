//! AI images in the media library, against the simulator's OpenAI image API, over HTTP on both
//! databases: a generation is a durable job that frames the picture to the chosen shape and
//! stores it with its provenance; an AI-made file blocks scheduling until a person has reviewed
//! it (recorded); the plan's monthly AI images are counted and given back on failure or
//! cancellation; a worker killed mid-call leaves a job the next worker finishes, once.

use crate::ai::{ADA, Studio, studio, studio_with, team_with_ai, with_ai_on};
use crate::both_backends;
use crate::helpers::{Backend, Client, TestApp, location, post_input};
use domain::Platform;
use domain::plans::PlanId;
use reqwest::StatusCode;
use services::posts::Intent;
use sim::Fault;
use sim::openai::OpenAiOp;
use std::time::{Duration, Instant};

both_backends!(
    without_an_image_model_there_is_no_generate_tab,
    a_waiting_request_is_not_sent_once_ai_is_turned_off,
    an_image_is_made_into_the_library_with_its_provenance,
    a_post_with_an_unreviewed_ai_image_cannot_be_scheduled,
    refusals_failures_and_cancels_give_the_count_back,
    the_plan_counts_ai_images,
    a_generation_outlives_a_killed_worker,
);

/// An app whose AI makes images with the simulator's `gpt-image-1` (and sells plans when
/// `billing`).
async fn painter(backend: Backend, billing: bool) -> Option<Studio> {
    studio_with(backend, |s| {
        if let Some(ai) = s.ai.as_mut() {
            ai.image_model = Some("gpt-image-1".to_owned());
        }
        if billing {
            s.billing = Some(Default::default());
        }
    })
    .await
}

async fn without_an_image_model_there_is_no_generate_tab(backend: Backend) {
    let Some(s) = studio(backend).await else {
        return;
    };
    let (ada, ws, _, _) = with_ai_on(&s).await;
    let library = ada.get_text(&format!("/w/{ws}/media")).await;
    assert!(!library.contains("/media/generate"));
    assert_eq!(
        ada.get(&format!("/w/{ws}/media/generate")).await.status(),
        StatusCode::NOT_FOUND
    );
    let res = ada
        .submit(
            &format!("/w/{ws}/media/generate"),
            &[
                ("prompt", "A cat"),
                ("style", "realistic"),
                ("aspect", "1:1"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        s.app.count("SELECT COUNT(*) FROM media_generations").await,
        0
    );
    let policy = ada.get_text("/legal/privacy").await;
    assert!(policy.contains("This instance does not generate images."));
    assert!(policy.contains("This instance does not generate videos."));
}

/// Asks for an image; the generation's id.
async fn ask(client: &Client, ws: i64, prompt: &str, style: &str, aspect: &str) -> i64 {
    let res = client
        .submit(
            &format!("/w/{ws}/media/generate"),
            &[("prompt", prompt), ("style", style), ("aspect", aspect)],
        )
        .await;
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

async fn state_of(app: &TestApp, generation: i64) -> String {
    app.text(&format!(
        "SELECT state FROM media_generations WHERE id = {generation}"
    ))
    .await
}

async fn images_counted(app: &TestApp, ws: i64) -> i64 {
    app.count(&format!(
        "SELECT CAST(COALESCE(SUM(count), 0) AS BIGINT) FROM plan_usage WHERE workspace_id = {ws} \
         AND counter = 'ai_images_per_month'"
    ))
    .await
}

fn image_calls(s: &Studio) -> usize {
    s.sim
        .openai_requests()
        .iter()
        .filter(|r| r.get("size").is_some())
        .count()
}

/// Generates one image and runs the worker; the new file's id.
async fn generated(s: &Studio, client: &Client, ws: i64, prompt: &str) -> i64 {
    let generation = ask(client, ws, prompt, "realistic", "1:1").await;
    s.app.worker().run_until_empty().await.unwrap();
    assert_eq!(state_of(&s.app, generation).await, "done");
    s.app
        .count(&format!(
            "SELECT media_id FROM media_generations WHERE id = {generation}"
        ))
        .await
}

async fn an_image_is_made_into_the_library_with_its_provenance(backend: Backend) {
    let Some(s) = painter(backend, false).await else {
        return;
    };
    let (ada, ws, _, _) = with_ai_on(&s).await;
    let library = ada.get_text(&format!("/w/{ws}/media")).await;
    assert!(library.contains(&format!("href=\"/w/{ws}/media/generate\"")));
    let form = ada.get_text(&format!("/w/{ws}/media/generate")).await;
    assert!(
        form.contains("Test AI (gpt-image-1)"),
        "the page names the provider"
    );
    for option in [
        "Realistic",
        "Illustration",
        "Minimal",
        "Cinematic",
        "9:16",
        "4:5",
    ] {
        assert!(form.contains(option), "{option}");
    }

    let generation = ask(&ada, ws, "A red bicycle by the sea", "cinematic", "9:16").await;
    let waiting = ada
        .get_text(&format!("/w/{ws}/media/generations/{generation}"))
        .await;
    assert!(waiting.contains("Waiting to start"));
    assert!(
        waiting.contains("<meta http-equiv=\"refresh\""),
        "an open generation's page refreshes itself"
    );
    assert_eq!(
        image_calls(&s),
        0,
        "the page does not wait for the provider"
    );

    s.app.worker().run_until_empty().await.unwrap();
    assert_eq!(state_of(&s.app, generation).await, "done");
    let sent = s
        .sim
        .openai_requests()
        .into_iter()
        .find(|r| r.get("size").is_some())
        .unwrap();
    assert_eq!(sent["model"], "gpt-image-1");
    assert_eq!(
        sent["size"], "1024x1536",
        "a tall shape is cut from the tall size"
    );
    let prompt = sent["prompt"].as_str().unwrap();
    assert!(prompt.starts_with("A red bicycle by the sea"), "{prompt}");
    assert!(prompt.contains("cinematic"), "{prompt}");
    assert!(!prompt.contains(ADA) && !prompt.contains("Ada"), "{prompt}");

    let media = s
        .app
        .count(&format!(
            "SELECT media_id FROM media_generations WHERE id = {generation}"
        ))
        .await;
    let row = s
        .app
        .text(&format!(
            "SELECT provenance || '|' || ai_provider || '|' || ai_model || '|' || ai_prompt \
             || '|' || CAST(width AS TEXT) || 'x' || CAST(height AS TEXT) || '|' || mime \
             FROM media_items WHERE id = {media}"
        ))
        .await;
    assert_eq!(
        row,
        "ai|Test AI|gpt-image-1|A red bicycle by the sea|864x1536|image/jpeg"
    );
    assert_eq!(
        s.app
            .count(&format!(
                "SELECT COUNT(*) FROM media_items WHERE id = {media} AND uploaded_by = {} \
                 AND reviewed_at IS NULL",
                s.app.user_id(ADA).await
            ))
            .await,
        1
    );
    // The stored file is the framed picture, a real JPEG of 9:16 (the one image type every
    // platform takes).
    let file = ada.get(&format!("/w/{ws}/media/{media}/file")).await;
    assert_eq!(file.status(), StatusCode::OK);
    let bytes = file.bytes().await.unwrap();
    let picture = image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg).unwrap();
    assert_eq!((picture.width(), picture.height()), (864, 1536));
    let thumb = ada.get(&format!("/w/{ws}/media/{media}/thumb")).await;
    assert_eq!(thumb.status(), StatusCode::OK);

    let done = ada
        .get_text(&format!("/w/{ws}/media/generations/{generation}"))
        .await;
    assert!(done.contains(&format!("href=\"/w/{ws}/media/{media}\"")));
    assert!(done.contains("AI-generated — review before publishing"));
    assert!(
        !done.contains("http-equiv=\"refresh\""),
        "a finished page stays still"
    );
    let page = ada.get_text(&format!("/w/{ws}/media/{media}")).await;
    assert!(page.contains("Generated by AI: Test AI (gpt-image-1), asked by Ada Lovelace"));
    assert!(page.contains("Not reviewed yet"));
    assert!(page.contains("id=\"mark-reviewed\""));
    let library = ada.get_text(&format!("/w/{ws}/media")).await;
    assert!(library.contains("AI-generated — review before publishing"));
    let gallery = ada.get_text(&format!("/w/{ws}/media/generate")).await;
    assert!(gallery.contains(&format!("/w/{ws}/media/{media}/thumb")));
    assert_eq!(
        s.app
            .count(&format!(
                "SELECT COUNT(*) FROM activity_log WHERE workspace_id = {ws} \
                 AND action IN ('media.generation_requested', 'media.generated')"
            ))
            .await,
        2
    );
    assert_eq!(images_counted(&s.app, ws).await, 1);
    // The policy names the image model.
    let policy = ada.get_text("/legal/privacy").await;
    assert!(
        policy.contains("image model (gpt-image-1)"),
        "the policy tells"
    );
    assert!(!policy.contains("does not generate images"));
}

async fn a_post_with_an_unreviewed_ai_image_cannot_be_scheduled(backend: Backend) {
    let Some(s) = painter(backend, false).await else {
        return;
    };
    let team = team_with_ai(&s.app, "viewer").await;
    let ws = team.ws;
    let x = s.app.connect_account(ws, domain::Platform::X, "shop").await;
    let media = generated(&s, &team.owner, ws, "A lighthouse at night").await;
    let (user, member) = s.app.member(ADA, ws).await;
    let at = s.app.local_in(ADA, ws, chrono::Duration::days(1)).await;
    let schedule = || post_input("Night shift", &[x], vec![media], Intent::Schedule(at));
    let refused = s
        .app
        .services
        .save_post(&member, &user, None, schedule())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("was generated by AI and nobody has reviewed it yet"),
        "{refused}"
    );
    assert_eq!(s.app.count("SELECT COUNT(*) FROM posts").await, 0);
    // A draft with it is fine.
    s.app
        .save_post(
            ADA,
            ws,
            post_input("Night shift", &[x], vec![media], Intent::Draft),
        )
        .await;

    // A viewer cannot review it.
    let res = team
        .member
        .submit(&format!("/w/{ws}/media/{media}/review"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        s.app
            .count(&format!(
                "SELECT COUNT(*) FROM media_items WHERE id = {media} AND reviewed_at IS NULL"
            ))
            .await,
        1
    );
    let res = team
        .owner
        .submit(&format!("/w/{ws}/media/{media}/review"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        s.app
            .count(&format!(
                "SELECT reviewed_by FROM media_items WHERE id = {media} \
                 AND reviewed_at IS NOT NULL"
            ))
            .await,
        s.app.user_id(ADA).await
    );
    assert_eq!(
        s.app
            .count(&format!(
                "SELECT COUNT(*) FROM activity_log WHERE action = 'media.reviewed' \
                 AND object_id = {media}"
            ))
            .await,
        1
    );
    let page = team.owner.get_text(&format!("/w/{ws}/media/{media}")).await;
    assert!(page.contains("Reviewed by Ada Lovelace on"));
    assert!(!page.contains("id=\"mark-reviewed\""));
    s.app
        .services
        .save_post(&member, &user, None, schedule())
        .await
        .expect("a reviewed image can be scheduled");
    // Published, it goes out labelled as AI-made (TikTok's `is_aigc` comes from this).
    let tiktok = s
        .app
        .connect_account(ws, domain::Platform::TikTok, "shop-tt")
        .await;
    s.app
        .save_post(
            ADA,
            ws,
            post_input("Now", &[tiktok], vec![media], Intent::PublishNow),
        )
        .await;
    s.app.worker().run_until_empty().await.unwrap();
    let sent = s.app.publisher.received();
    let sent = sent
        .iter()
        .find(|r| r.request.text == "Now")
        .expect("published");
    assert!(sent.request.media.iter().all(|m| m.ai_generated));
    // An uploaded file needs no review.
    let upload = s
        .app
        .upload_media(&team.owner, ws, "photo.png", crate::helpers::png(40, 30, 1))
        .await;
    let res = team
        .owner
        .submit(&format!("/w/{ws}/media/{upload}/review"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

async fn refusals_failures_and_cancels_give_the_count_back(backend: Backend) {
    let Some(s) = painter(backend, false).await else {
        return;
    };
    let (ada, ws, _, _) = with_ai_on(&s).await;
    // Bad input: told, nothing recorded, nothing counted.
    for (prompt, style, aspect, says) in [
        ("   ", "realistic", "1:1", "Describe the image you want"),
        ("A cat", "watercolour", "1:1", "Choose a style and a shape"),
        ("A cat", "realistic", "2:1", "Choose a style and a shape"),
        (
            &"x".repeat(4_001),
            "realistic",
            "1:1",
            "Write at most 4000 characters",
        ),
        (
            &"x".repeat(50_001),
            "realistic",
            "1:1",
            "Write at most 4000 characters",
        ),
    ] {
        let res = ada
            .submit(
                &format!("/w/{ws}/media/generate"),
                &[("prompt", prompt), ("style", style), ("aspect", aspect)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.text().await.unwrap().contains(says), "{says}");
    }
    // A NUL byte is refused before it reaches anything.
    let res = ada
        .submit(
            &format!("/w/{ws}/media/generate"),
            &[
                ("prompt", "A cat\0"),
                ("style", "realistic"),
                ("aspect", "1:1"),
            ],
        )
        .await;
    assert!(res.status().is_client_error(), "{}", res.status());
    assert_eq!(
        s.app.count("SELECT COUNT(*) FROM media_generations").await,
        0
    );

    // The provider's safety system refuses: the person reads why; no file; count given back.
    let blocked = ask(&ada, ws, "Something [[block]] here", "realistic", "1:1").await;
    assert_eq!(images_counted(&s.app, ws).await, 1);
    s.app.worker().run_until_empty().await.unwrap();
    assert_eq!(state_of(&s.app, blocked).await, "failed");
    let page = ada
        .get_text(&format!("/w/{ws}/media/generations/{blocked}"))
        .await;
    assert!(page.contains("Test AI refused this prompt"), "{page}");
    assert!(page.contains("your monthly count was given back"));
    assert_eq!(images_counted(&s.app, ws).await, 0);
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

    // A server error is tried again, and makes one file.
    s.sim.openai_fail_next(OpenAiOp::Image, Fault::ServerError);
    let retried = ask(&ada, ws, "A bakery at dawn", "minimal", "4:5").await;
    let worker = s.app.worker();
    let first = worker.run_once().await.unwrap().unwrap();
    assert!(
        matches!(first.1, services::jobs::Outcome::Retry(_)),
        "{first:?}"
    );
    assert_eq!(state_of(&s.app, retried).await, "running");
    s.app
        .exec("UPDATE jobs SET run_at = created_at WHERE kind = 'generate_media'")
        .await;
    worker.run_until_empty().await.unwrap();
    assert_eq!(state_of(&s.app, retried).await, "done");
    assert_eq!(
        s.app
            .text("SELECT CAST(width AS TEXT) || 'x' || CAST(height AS TEXT) FROM media_items")
            .await,
        "1024x1280"
    );
    assert_eq!(images_counted(&s.app, ws).await, 1);

    // Cancelled before it starts: no call, count given back, the job withdrawn.
    let calls = image_calls(&s);
    let cancelled = ask(&ada, ws, "A quiet harbour", "realistic", "16:9").await;
    assert_eq!(images_counted(&s.app, ws).await, 2);
    let page = ada
        .get_text(&format!("/w/{ws}/media/generations/{cancelled}"))
        .await;
    assert!(page.contains("id=\"cancel-generation\""));
    let res = ada
        .submit(
            &format!("/w/{ws}/media/generations/{cancelled}/cancel"),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(state_of(&s.app, cancelled).await, "cancelled");
    assert_eq!(images_counted(&s.app, ws).await, 1);
    s.app.worker().run_until_empty().await.unwrap();
    assert_eq!(image_calls(&s), calls);
    // Once ended, a cancel is refused with the reason.
    let res = ada
        .submit(
            &format!("/w/{ws}/media/generations/{cancelled}/cancel"),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.unwrap().contains("already ended"));
    // Another workspace's generation is not found.
    let (grace, other) = crate::fixtures::owner_with_workspace(&s.app, "grace@example.com").await;
    assert_eq!(
        grace
            .get(&format!("/w/{other}/media/generations/{retried}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

async fn the_plan_counts_ai_images(backend: Backend) {
    let Some(s) = painter(backend, true).await else {
        return;
    };
    let (ada, ws, _, _) = with_ai_on(&s).await;
    // Free allows 5 a month.
    for n in 1..=5 {
        ask(&ada, ws, &format!("Cat number {n}"), "realistic", "1:1").await;
    }
    let res = ada
        .submit(
            &format!("/w/{ws}/media/generate"),
            &[
                ("prompt", "A cat"),
                ("style", "realistic"),
                ("aspect", "1:1"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::PAYMENT_REQUIRED);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("This workspace has used 5 of 5 AI images this month"),
        "{html}"
    );
    assert!(html.contains("The Starter plan lifts this."));
    assert_eq!(
        s.app.count("SELECT COUNT(*) FROM media_generations").await,
        5
    );
    s.app
        .services
        .set_plan(domain::WorkspaceId(ws), PlanId::Starter)
        .await
        .unwrap();
    ask(&ada, ws, "A cat", "realistic", "1:1").await;
    assert_eq!(images_counted(&s.app, ws).await, 6);
}

async fn a_generation_outlives_a_killed_worker(backend: Backend) {
    let Some(s) = painter(backend, false).await else {
        return;
    };
    let (ada, ws, _, _) = with_ai_on(&s).await;
    // The first call never answers in time: the worker is killed while it waits.
    s.sim
        .openai_fail_next(OpenAiOp::Image, Fault::Slow(Duration::from_secs(600)));
    let generation = ask(&ada, ws, "A windmill in a storm", "illustration", "1:1").await;
    let doomed = s.app.worker();
    let running = tokio::spawn(async move { doomed.run_once().await });
    let deadline = Instant::now() + Duration::from_secs(60);
    while image_calls(&s) == 0 {
        assert!(
            Instant::now() < deadline,
            "the worker never called the provider"
        );
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    running.abort();
    assert!(running.await.unwrap_err().is_cancelled());
    assert_eq!(state_of(&s.app, generation).await, "running");
    let page = ada
        .get_text(&format!("/w/{ws}/media/generations/{generation}"))
        .await;
    assert!(page.contains("Generating"));
    assert!(page.contains("<progress"));
    // Its lease runs out (held by a worker that no longer renews it, whatever a renewal still
    // on its way would do); the next worker finishes the job, once.
    s.app
        .exec(
            "UPDATE jobs SET locked_by = 'a-killed-worker', locked_until = created_at \
             WHERE kind = 'generate_media'",
        )
        .await;
    s.app.worker().run_until_empty().await.unwrap();
    assert_eq!(state_of(&s.app, generation).await, "done");
    assert_eq!(image_calls(&s), 2);
    assert_eq!(s.app.count("SELECT COUNT(*) FROM media_items").await, 1);
    let prefix = store::objects::workspace_prefix(ws);
    let keys = s.app.services.objects.keys(&prefix).await.unwrap();
    assert_eq!(keys.len(), 2, "the file and its thumbnail: {keys:?}");
    assert_eq!(images_counted(&s.app, ws).await, 1);
}

// In the browser: from the library's "Generate with AI" to a picture on a page that refreshes
// itself until it is done, then the file's page and its review, and from there a story on a
// Facebook Page, scheduled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_in_the_browser_from_prompt_to_a_scheduled_story() {
    let Some(s) = painter(Backend::Sqlite, false).await else {
        return;
    };
    let (_, ws, _, _) = with_ai_on(&s).await;
    let page = s
        .app
        .connect_account(ws, Platform::Facebook, "Acme Bakery")
        .await;
    // The simulator serves until the end of the test.
    let Studio {
        app,
        sim: _sim,
        _running,
    } = s;
    crate::browser::run_in(app, "generate", true, async |b, app| {
        b.log_in(&app.address, ADA, "Acme").await?;
        b.goto(&format!("{}/w/{ws}/media", app.address)).await?;
        b.wait_for_heading("Media library").await?;
        b.click("#generate-link").await?;
        b.wait_for_heading("Generate an image").await?;
        b.fill("#f-prompt", "A lighthouse on a cliff at dusk")
            .await?;
        b.eval("document.getElementById('f-aspect').value = '4:5'; return true")
            .await?;
        b.click("#generate-submit").await?;
        b.wait_for_heading("Image generation").await?;
        let state = b.text("#generation-state").await?;
        anyhow::ensure!(state.contains("Waiting to start"), "{state}");
        app.worker().run_until_empty().await?;
        // The page refreshes itself to the result.
        crate::browser::wait_until(
            b,
            "return document.getElementById('generated-file') !== null",
        )
        .await?;
        b.screenshot("generated").await?;
        b.click("#generated-file").await?;
        b.wait_for_heading("ai-a-lighthouse-on-a-cliff-at").await?;
        let origin = b.text("#ai-origin").await?;
        anyhow::ensure!(origin.contains("asked by Ada Lovelace"), "{origin}");
        let dims = b.body_text().await?;
        anyhow::ensure!(dims.contains("1024 × 1280"), "the 4:5 frame");
        b.click("#mark-reviewed").await?;
        b.wait_for_heading("ai-a-lighthouse").await?;
        let review = b.text("#ai-review").await?;
        anyhow::ensure!(review.contains("Reviewed by Ada Lovelace"), "{review}");

        // From the file to a story on the Facebook Page, tomorrow at 10:00.
        b.click("#compose-link").await?;
        b.wait_for_heading("New post").await?;
        let file = app
            .count("SELECT MAX(id) FROM media_items WHERE ai_provider IS NOT NULL")
            .await;
        let picked = b
            .eval(&format!(
                "return document.querySelector(\"input[name=media][value='{file}']\").checked"
            ))
            .await?;
        anyhow::ensure!(picked == serde_json::json!(true), "the file is not chosen");
        b.fill("#f-body", "Tonight at the lighthouse").await?;
        b.click(&format!("input[name=account][value='{page}']"))
            .await?;
        b.eval(&format!(
            "document.getElementById('f-format-{page}').value = 'story'; return true"
        ))
        .await?;
        crate::browser::schedule_tomorrow_at_ten(b, app, ADA, ws).await?;
        b.screenshot("story-composed").await?;
        b.click("button[name=action][value=schedule]").await?;
        b.wait_for_heading("Post").await?;
        let shown = b.body_text().await?;
        anyhow::ensure!(shown.contains("The post is scheduled."), "{shown}");
        anyhow::ensure!(
            b.text("[data-target-format]").await? == "Story",
            "the story format is not shown"
        );
        b.screenshot("story-scheduled").await?;
        anyhow::ensure!(
            app.count(&format!(
                "SELECT COUNT(*) FROM post_targets WHERE state = 'scheduled' AND account_id = \
                 {page} AND options LIKE '%story%'"
            ))
            .await
                == 1,
            "no scheduled story target"
        );
        Ok(())
    })
    .await;
}

async fn a_waiting_request_is_not_sent_once_ai_is_turned_off(backend: Backend) {
    let Some(s) = painter(backend, false).await else {
        return;
    };
    let (ada, ws, _, _) = with_ai_on(&s).await;
    let waiting = ask(&ada, ws, "A field of sunflowers", "realistic", "1:1").await;
    let res = ada
        .submit(&format!("/w/{ws}/ai/switch"), &[("on", "0")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    s.app.worker().run_until_empty().await.unwrap();
    assert_eq!(state_of(&s.app, waiting).await, "failed");
    assert_eq!(image_calls(&s), 0, "nothing was sent");
    assert_eq!(images_counted(&s.app, ws).await, 0);
    let page = ada
        .get_text(&format!("/w/{ws}/media/generations/{waiting}"))
        .await;
    assert!(
        page.contains("AI was turned off in this workspace"),
        "{page}"
    );

    // A generation whose job was lost is ended by housekeeping a day later, its count given
    // back, and its record deleted after 30 days.
    let res = ada
        .submit(&format!("/w/{ws}/ai/switch"), &[("on", "1")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let lost = ask(&ada, ws, "A quiet lake", "realistic", "1:1").await;
    s.app
        .exec("DELETE FROM jobs WHERE kind = 'generate_media'")
        .await;
    assert_eq!(images_counted(&s.app, ws).await, 1);
    let now = chrono::Utc::now();
    s.app
        .services
        .run_retention(now + chrono::Duration::hours(25))
        .await
        .unwrap();
    assert_eq!(state_of(&s.app, lost).await, "failed");
    assert_eq!(images_counted(&s.app, ws).await, 0);
    s.app
        .services
        .run_retention(now + chrono::Duration::days(31))
        .await
        .unwrap();
    assert_eq!(
        s.app.count("SELECT COUNT(*) FROM media_generations").await,
        0
    );
}

//! Character videos, against the simulator's ElevenLabs and Hedra, over HTTP on both
//! databases: a library portrait speaks a script (read aloud by ElevenLabs, handed to Hedra as
//! assets with the voice-over) and the video lands in the library with its provenance; a
//! request whose answer was lost is sent again under the same key and starts one video; what a
//! character video cannot be made of is refused with nothing recorded; a failure gives the
//! count back and leaves nothing in storage; once sent it cannot be cancelled (Hedra cannot
//! stop it), before that it can; a reel can be spoken by a character; without Hedra there is no
//! Character tab.

use crate::ai::{Studio, with_ai_on};
use crate::both_backends;
use crate::generate_video::{
    RACHEL, SCRIPT, director_with, reels_counted, state_of, videos_counted,
};
use crate::helpers::{Backend, Client, jpeg, location, png};
use reqwest::StatusCode;
use sim::Fault;
use sim::hedra::HedraOp;
use socializioz::config::ai::HedraSettings;

both_backends!(
    a_portrait_speaks_the_script_into_the_library,
    a_request_whose_answer_was_lost_starts_one_video,
    what_a_character_video_cannot_be_made_of_is_refused,
    a_failed_character_video_gives_the_count_back_and_leaves_nothing,
    once_sent_a_character_video_cannot_be_cancelled,
    a_reel_can_be_spoken_by_a_character,
    a_portrait_deleted_before_it_is_sent_ends_the_video,
    without_hedra_there_is_no_character_tab,
    enhance_rewrites_a_field_and_generates_nothing,
    a_long_generation_is_told_by_e_mail,
);

/// A JPEG of `width` x `height` with EXIF saying it is to be turned a quarter clockwise
/// (orientation 6) and naming its camera `SerialXYZ123`.
fn photo_with_exif(width: u32, height: u32) -> Vec<u8> {
    let plain = jpeg(width, height, 5);
    let mut tiff = b"MM\x00\x2a\x00\x00\x00\x08".to_vec();
    tiff.extend_from_slice(&[0, 2]);
    // Make (ASCII, 13 bytes at offset 38), then Orientation (SHORT 6).
    tiff.extend_from_slice(&[0x01, 0x0F, 0, 2, 0, 0, 0, 13, 0, 0, 0, 38]);
    tiff.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0]);
    tiff.extend_from_slice(&[0, 0, 0, 0]);
    tiff.extend_from_slice(b"SerialXYZ123\0");
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let len = u16::try_from(app1.len() + 2).unwrap();
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&plain[2..]);
    out
}

/// An app with Runway, ElevenLabs and Hedra on the same simulator (Hedra's generations looked
/// at again at once: the simulator moves one on at each look).
pub(crate) async fn speakers(backend: Backend) -> Option<(Studio, Client, i64)> {
    let s = director_with(backend, false, |s| {
        if let Some(ai) = s.ai.as_mut() {
            let base = ai.base_url.trim_end_matches("/openai/v1").to_owned();
            ai.hedra = Some(HedraSettings {
                api_key: Some("sk_hedra_test".to_owned().into()),
                base_url: format!("{base}/hedra"),
                poll_milliseconds: 0,
                ..HedraSettings::default()
            });
        }
    })
    .await?;
    let (ada, ws, _, _) = with_ai_on(&s).await;
    Some((s, ada, ws))
}

fn fields<'a>(portrait: &'a str, script: &'a str, prompt: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("portrait", portrait),
        ("script", script),
        ("voice", RACHEL),
        ("prompt", prompt),
        ("shape", "9:16"),
    ]
}

async fn ask(client: &Client, ws: i64, fields: &[(&str, &str)]) -> reqwest::Response {
    client
        .submit(&format!("/w/{ws}/media/generate/character"), fields)
        .await
}

/// Asks for a character video that is accepted; the generation's id.
async fn asked(client: &Client, ws: i64, fields: &[(&str, &str)]) -> i64 {
    let res = ask(client, ws, fields).await;
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

async fn a_portrait_speaks_the_script_into_the_library(backend: Backend) {
    let Some((s, ada, ws)) = speakers(backend).await else {
        return;
    };
    let ai_page = ada.get_text(&format!("/w/{ws}/ai")).await;
    assert!(ai_page.contains("For character videos"), "{ai_page}");
    let policy = ada.get_text("/legal/privacy").await;
    assert!(
        policy.contains("Character videos make a portrait from the library speak"),
        "{policy}"
    );
    assert!(
        policy.contains("Hedra (at http"),
        "the processors do not name Hedra: {policy}"
    );
    let bytes = photo_with_exif(96, 64);
    assert!(bytes.windows(12).any(|w| w == b"SerialXYZ123"));
    let portrait = s.app.upload_media(&ada, ws, "grandma-ada.jpg", bytes).await;
    let item = ada.get_text(&format!("/w/{ws}/media/{portrait}")).await;
    assert!(item.contains(&format!("/media/generate/character?portrait={portrait}")));
    let form = ada
        .get_text(&format!(
            "/w/{ws}/media/generate/character?portrait={portrait}"
        ))
        .await;
    assert!(form.contains(&format!("<option value=\"{portrait}\" selected>")));
    assert!(form.contains("aria-current=\"page\">Character"), "{form}");
    let id = portrait.to_string();
    let generation = asked(&ada, ws, &fields(&id, SCRIPT, "")).await;
    assert_eq!(videos_counted(&s.app, ws).await, 1);
    s.app.worker().run_until_empty().await.unwrap();
    assert_eq!(state_of(&s.app, generation).await, "done");
    // ElevenLabs read the script; Hedra got the portrait's bytes and that voice-over, under
    // names of their own, and one generation.
    let spoken = s.sim.elevenlabs_requests();
    assert!(spoken.iter().any(|r| r["text"] == SCRIPT), "{spoken:?}");
    let mut files = s.sim.hedra_files();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(files.len(), 2);
    assert_eq!(files[0].0, "audio");
    assert_eq!(&files[0].1[..3], b"ID3");
    // The portrait, upright as its EXIF said, without the EXIF (no camera, no place).
    assert_eq!(files[1].0, "image");
    let sent_portrait = &files[1].1;
    assert!(!sent_portrait.windows(12).any(|w| w == b"SerialXYZ123"));
    let decoded = image::load_from_memory(sent_portrait).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (64, 96));
    let mut names = s.sim.hedra_file_names();
    names.sort();
    assert_eq!(names, ["portrait.jpg", "voice.mp3"]);
    assert_eq!(s.sim.hedra_counts(), (1, 1));
    let sent = s.sim.hedra_requests();
    let everything = serde_json::to_string(&sent).unwrap();
    assert!(!everything.contains("grandma"), "{everything}");
    assert!(!everything.contains(&s.app.address), "{everything}");
    assert!(
        !everything.contains("Fresh bread"),
        "the script went to Hedra: {everything}"
    );
    let start = sent.iter().find(|r| r["type"] == "video").unwrap();
    assert_eq!(start["model_slug"], "character-3");
    assert_eq!(start["generated_video_inputs"]["aspect_ratio"], "9:16");
    assert_eq!(start["generated_video_inputs"]["resolution"], "720p");
    assert_eq!(
        start["generated_video_inputs"]["text_prompt"],
        services::media::generate_character::DEFAULT_MOTION
    );
    let row = s
        .app
        .text(&format!(
            "SELECT kind || '|' || mime || '|' || provenance || '|' || ai_provider || '|' || \
             ai_model || '|' || CASE WHEN reviewed_at IS NULL THEN 'unreviewed' ELSE 'reviewed' \
             END FROM media_items WHERE id = (SELECT media_id FROM media_generations WHERE id = \
             {generation})"
        ))
        .await;
    assert_eq!(
        row,
        "video|video/mp4|ai|ElevenLabs and Hedra|character-3|unreviewed"
    );
    let prompt = s
        .app
        .text(&format!(
            "SELECT ai_prompt FROM media_items WHERE id = (SELECT media_id FROM \
             media_generations WHERE id = {generation})"
        ))
        .await;
    assert!(
        prompt.contains("Voice-over (Rachel, eleven_multilingual_v2): Fresh bread"),
        "{prompt}"
    );
    // Only the portrait and the video (and its poster, with ffmpeg) are in storage: the
    // voice-over went once it was in the video.
    let prefix = store::objects::workspace_prefix(ws);
    let keys = s.app.services.objects.keys(&prefix).await.unwrap();
    assert!(!keys.iter().any(|k| k.ends_with(".voice.mp3")), "{keys:?}");
    assert!(
        keys.iter()
            .any(|k| k.ends_with(&format!("ai-{generation}.mp4"))),
        "{keys:?}"
    );
    let recent = ada
        .get_text(&format!("/w/{ws}/media/generate/character"))
        .await;
    assert!(recent.contains("Character video · 9:16"), "{recent}");
    let done = ada
        .get_text(&format!("/w/{ws}/media/generations/{generation}"))
        .await;
    assert!(done.contains("Character video generation"), "{done}");
    assert!(done.contains("id=\"generated-file\""));
}

async fn a_request_whose_answer_was_lost_starts_one_video(backend: Backend) {
    let Some((s, ada, ws)) = speakers(backend).await else {
        return;
    };
    let portrait = s.app.upload_media(&ada, ws, "p.png", png(64, 64, 3)).await;
    let id = portrait.to_string();
    let retry = || async {
        // A passing failure: the job is tried again after a wait, made due here.
        s.app
            .exec(
                "UPDATE jobs SET run_at = created_at WHERE kind = 'generate_media' AND state = \
                 'queued'",
            )
            .await;
        s.app.worker().run_until_empty().await.unwrap();
    };
    // The portrait's upload fails once: the request was never sent, and the next run sends it
    // under the key recorded before.
    s.sim.hedra_fail_next(HedraOp::Asset, Fault::ServerError);
    let generation = asked(&ada, ws, &fields(&id, SCRIPT, "Smiles, then nods")).await;
    s.app.worker().run_until_empty().await.unwrap();
    assert_eq!(state_of(&s.app, generation).await, "running");
    let key = s
        .app
        .text(&format!(
            "SELECT provider_task FROM media_generations WHERE id = {generation}"
        ))
        .await;
    // Then the answer to the request is lost: the run that takes over finds the generation at
    // Hedra under the key and sends nothing again.
    s.sim.hedra_lose_next_answer();
    retry().await;
    assert_eq!(state_of(&s.app, generation).await, "running");
    let uploads = s.sim.hedra_files().len();
    retry().await;
    assert_eq!(state_of(&s.app, generation).await, "done");
    let sent = s.sim.hedra_requests();
    let starts: Vec<_> = sent.iter().filter(|r| r["type"] == "video").collect();
    assert_eq!(starts.len(), 1, "{sent:?}");
    assert_eq!(starts[0]["generation_id"], key.as_str());
    assert_eq!(s.sim.hedra_files().len(), uploads);
    assert_eq!(s.sim.hedra_counts(), (1, 1));
    assert_eq!(s.sim.elevenlabs_spoken(), 1);
    assert_eq!(
        s.app
            .count("SELECT COUNT(*) FROM media_items WHERE provenance = 'ai'")
            .await,
        1
    );
}

async fn what_a_character_video_cannot_be_made_of_is_refused(backend: Backend) {
    let Some((s, ada, ws)) = speakers(backend).await else {
        return;
    };
    let portrait = s
        .app
        .upload_media(&ada, ws, "p.png", png(64, 64, 3))
        .await
        .to_string();
    let mut clip = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom".to_vec();
    clip.resize(4096, 1);
    let clip = s
        .app
        .upload_media(&ada, ws, "clip.mp4", clip)
        .await
        .to_string();
    let long = "a".repeat(1501);
    let motion = "m".repeat(1001);
    for (fields, message) in [
        (
            fields("", SCRIPT, ""),
            "Choose a portrait and a shape from the lists.",
        ),
        (
            fields("999999", SCRIPT, ""),
            "That picture is not in this library.",
        ),
        (fields(&clip, SCRIPT, ""), "choose an image, not a video"),
        (fields(&portrait, " ", ""), "Write what the voice-over says"),
        (
            fields(&portrait, &long, ""),
            "Write at most 1500 characters; this script has 1501.",
        ),
        (
            fields(&portrait, SCRIPT, &motion),
            "Write at most 1000 characters; this has 1001.",
        ),
    ] {
        let res = ask(&ada, ws, &fields).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{message}");
        let html = res.text().await.unwrap();
        assert!(html.contains(message), "{message}: {html}");
    }
    let mut wrong_voice = fields(&portrait, SCRIPT, "");
    wrong_voice[2] = ("voice", "NotAVoice");
    let res = ask(&ada, ws, &wrong_voice).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Choose one of the voices in the list.")
    );
    assert_eq!(
        s.app.count("SELECT COUNT(*) FROM media_generations").await,
        0
    );
    assert_eq!(videos_counted(&s.app, ws).await, 0);
    assert_eq!(s.sim.elevenlabs_spoken(), 0);
    // A viewer may not add to the library.
    let team = s
        .app
        .team(
            ("Linus", "linus@example.com"),
            "Other",
            ("Grace Hopper", "grace@example.com"),
            "viewer",
        )
        .await;
    let res = team
        .owner
        .submit(&format!("/w/{}/ai/switch", team.ws), &[("on", "1")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let theirs = s
        .app
        .upload_media(&team.owner, team.ws, "q.png", png(32, 32, 1))
        .await
        .to_string();
    let res = team
        .member
        .submit(
            &format!("/w/{}/media/generate/character", team.ws),
            &fields(&theirs, SCRIPT, ""),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Another workspace's picture is not this library's.
    let res = ask(&ada, ws, &fields(&theirs, SCRIPT, "")).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        s.app.count("SELECT COUNT(*) FROM media_generations").await,
        0
    );
}

async fn a_failed_character_video_gives_the_count_back_and_leaves_nothing(backend: Backend) {
    let Some((s, ada, ws)) = speakers(backend).await else {
        return;
    };
    let portrait = s.app.upload_media(&ada, ws, "p.png", png(64, 64, 3)).await;
    let id = portrait.to_string();
    let generation = asked(&ada, ws, &fields(&id, SCRIPT, "Frowns [[block]]")).await;
    s.app.worker().run_until_empty().await.unwrap();
    assert_eq!(state_of(&s.app, generation).await, "failed");
    let outcome = s
        .app
        .text(&format!(
            "SELECT outcome FROM media_generations WHERE id = {generation}"
        ))
        .await;
    assert!(outcome.contains("content moderation"), "{outcome}");
    assert!(
        outcome.contains("your monthly count was given back"),
        "{outcome}"
    );
    assert_eq!(videos_counted(&s.app, ws).await, 0);
    // The voice-over was made and deleted with the failure: only the portrait is left.
    assert_eq!(s.sim.elevenlabs_spoken(), 1);
    let prefix = store::objects::workspace_prefix(ws);
    let keys = s.app.services.objects.keys(&prefix).await.unwrap();
    assert!(
        keys.iter()
            .all(|k| !k.contains(&format!("ai-{generation}"))),
        "{keys:?}"
    );
    assert_eq!(s.app.count("SELECT COUNT(*) FROM media_items").await, 1);
}

async fn once_sent_a_character_video_cannot_be_cancelled(backend: Backend) {
    let Some((s, ada, ws)) = speakers(backend).await else {
        return;
    };
    let portrait = s.app.upload_media(&ada, ws, "p.png", png(64, 64, 3)).await;
    let id = portrait.to_string();
    // While the voice-over waits for a slot at ElevenLabs, nothing has gone to Hedra and the
    // character video can be cancelled.
    let first = asked(&ada, ws, &fields(&id, SCRIPT, "")).await;
    s.sim.elevenlabs_slots_full_next(1000);
    s.app.worker().run_once().await.unwrap();
    assert_eq!(state_of(&s.app, first).await, "running");
    let page = ada
        .get_text(&format!("/w/{ws}/media/generations/{first}"))
        .await;
    assert!(page.contains("id=\"cancel-generation\""));
    let res = ada
        .submit(&format!("/w/{ws}/media/generations/{first}/cancel"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(state_of(&s.app, first).await, "cancelled");
    s.sim.elevenlabs_free_slots();
    s.app
        .exec("UPDATE jobs SET run_at = created_at WHERE kind = 'generate_media'")
        .await;
    s.app.worker().run_until_empty().await.unwrap();
    assert_eq!(s.sim.hedra_counts().0, 0);
    assert_eq!(state_of(&s.app, first).await, "cancelled");
    // Once Hedra has it, it cannot be stopped: no button, and a cancel is refused.
    s.sim
        .hedra_fail_next(HedraOp::Start, Fault::SlowProcessing(1000));
    let second = asked(&ada, ws, &fields(&id, SCRIPT, "")).await;
    let sent = format!(
        "SELECT COUNT(*) FROM media_generations WHERE id = {second} AND sent_at IS NOT NULL"
    );
    for _ in 0..10 {
        if s.app.count(&sent).await > 0 {
            break;
        }
        s.app.worker().run_once().await.unwrap();
    }
    assert_eq!(state_of(&s.app, second).await, "running");
    let page = ada
        .get_text(&format!("/w/{ws}/media/generations/{second}"))
        .await;
    assert!(!page.contains("id=\"cancel-generation\""), "{page}");
    let res = ada
        .submit(&format!("/w/{ws}/media/generations/{second}/cancel"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("This character video is already being made and Hedra cannot stop it")
    );
    assert_eq!(state_of(&s.app, second).await, "running");
    assert_eq!(videos_counted(&s.app, ws).await, 1);
}

async fn a_reel_can_be_spoken_by_a_character(backend: Backend) {
    let Some((s, ada, ws)) = speakers(backend).await else {
        return;
    };
    let portrait = s.app.upload_media(&ada, ws, "p.png", png(64, 64, 3)).await;
    let form = ada.get_text(&format!("/w/{ws}/media/generate/reel")).await;
    assert!(form.contains("No character: generated scenes"), "{form}");
    assert!(
        form.contains(&format!("<option value=\"{portrait}\">")),
        "{form}"
    );
    let id = portrait.to_string();
    let res = ada
        .submit(
            &format!("/w/{ws}/media/generate/reel"),
            &[
                ("script", SCRIPT),
                ("voice", RACHEL),
                ("scenes", "Laughs warmly"),
                ("model", "gen4.5"),
                ("character", &id),
            ],
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "{}",
        res.text().await.unwrap()
    );
    s.app.worker().run_until_empty().await.unwrap();
    let generation = s
        .app
        .count("SELECT id FROM media_generations WHERE kind = 'reel'")
        .await;
    assert_eq!(state_of(&s.app, generation).await, "done");
    assert_eq!(reels_counted(&s.app, ws).await, 1);
    assert_eq!(videos_counted(&s.app, ws).await, 0);
    // Made by Hedra alone: Runway was not asked for scenes.
    assert_eq!(s.sim.runway_counts().0, 0);
    let start = s
        .sim
        .hedra_requests()
        .into_iter()
        .find(|r| r["type"] == "video")
        .unwrap();
    assert_eq!(start["generated_video_inputs"]["aspect_ratio"], "9:16");
    assert_eq!(
        start["generated_video_inputs"]["text_prompt"],
        "Laughs warmly"
    );
    let recent = ada.get_text(&format!("/w/{ws}/media/generate/reel")).await;
    assert!(recent.contains("Reel spoken by a character"), "{recent}");
}

async fn a_portrait_deleted_before_it_is_sent_ends_the_video(backend: Backend) {
    let Some((s, ada, ws)) = speakers(backend).await else {
        return;
    };
    let portrait = s.app.upload_media(&ada, ws, "p.png", png(64, 64, 3)).await;
    let generation = asked(&ada, ws, &fields(&portrait.to_string(), SCRIPT, "")).await;
    let res = ada
        .submit(
            &format!("/w/{ws}/media/{portrait}/delete"),
            &[("confirm", "yes")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    s.app.worker().run_until_empty().await.unwrap();
    assert_eq!(state_of(&s.app, generation).await, "failed");
    let outcome = s
        .app
        .text(&format!(
            "SELECT outcome FROM media_generations WHERE id = {generation}"
        ))
        .await;
    assert!(
        outcome.contains("The portrait was deleted from the library before it was sent"),
        "{outcome}"
    );
    assert_eq!(videos_counted(&s.app, ws).await, 0);
    assert_eq!(s.sim.hedra_files().len(), 0);
    let prefix = store::objects::workspace_prefix(ws);
    let keys = s.app.services.objects.keys(&prefix).await.unwrap();
    assert!(keys.is_empty(), "{keys:?}");
}

async fn without_hedra_there_is_no_character_tab(backend: Backend) {
    let Some(s) = director_with(backend, false, |_| {}).await else {
        return;
    };
    let (ada, ws, _, _) = with_ai_on(&s).await;
    let reel = ada.get_text(&format!("/w/{ws}/media/generate/reel")).await;
    assert!(!reel.contains("/media/generate/character"), "{reel}");
    assert!(!reel.contains("name=\"character\""));
    assert_eq!(
        ada.get(&format!("/w/{ws}/media/generate/character"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let portrait = s.app.upload_media(&ada, ws, "p.png", png(64, 64, 3)).await;
    let res = ask(&ada, ws, &fields(&portrait.to_string(), SCRIPT, "")).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let ai_page = ada.get_text(&format!("/w/{ws}/ai")).await;
    assert!(!ai_page.contains("For character videos"));
    let policy = ada.get_text("/legal/privacy").await;
    assert!(!policy.contains("Character videos"));
}

/// The system and user messages of the last chat request the simulator's OpenAI received.
fn last_chat(s: &Studio) -> (String, String) {
    let requests = s.sim.openai_requests();
    let chat = requests
        .iter()
        .rev()
        .find(|r| r.get("messages").is_some())
        .expect("a chat request");
    let content = |role: &str| {
        chat["messages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["role"] == role)
            .and_then(|m| m["content"].as_str())
            .unwrap_or_default()
            .to_owned()
    };
    (content("system"), content("user"))
}

async fn enhance_rewrites_a_field_and_generates_nothing(backend: Backend) {
    let Some((s, ada, ws)) = speakers(backend).await else {
        return;
    };
    let res = ada
        .submit(
            &format!("/w/{ws}/ai/brand"),
            &[("name", "Crumb & Co"), ("voice", "Warm and plain")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let portrait = s.app.upload_media(&ada, ws, "p.png", png(64, 64, 3)).await;
    let id = portrait.to_string();
    let tokens = || async {
        s.app
            .count(&format!(
                "SELECT CAST(COALESCE(SUM(count), 0) AS BIGINT) FROM plan_usage WHERE \
                 workspace_id = {ws} AND counter = 'ai_tokens_per_month'"
            ))
            .await
    };
    // The script from a brief: rewritten into the form, with the brand's voice as material.
    let mut asked_for = fields(&id, "our new rye loaf, out on Saturday", "");
    asked_for.push(("enhance", "script"));
    let res = ask(&ada, ws, &asked_for).await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    assert!(page.contains("id=\"enhanced\""), "{page}");
    assert!(
        page.contains("Suggested post: our new rye loaf, out on Saturday</textarea>"),
        "{page}"
    );
    let (system, user) = last_chat(&s);
    assert!(system.contains("voice-over script"), "{system}");
    assert!(system.contains("<brand_profile>"), "{system}");
    assert_eq!(user, "our new rye loaf, out on Saturday");
    assert!(tokens().await > 0);
    // How the character moves: a visual prompt, sent without the brand profile.
    let mut motion = fields(&id, SCRIPT, "smiles");
    motion.push(("enhance", "prompt"));
    let res = ask(&ada, ws, &motion).await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    assert!(page.contains("Suggested post: smiles</textarea>"), "{page}");
    let (system, user) = last_chat(&s);
    assert!(system.contains("portrait that speaks"), "{system}");
    assert!(!system.contains("brand_profile"), "{system}");
    assert_eq!(user, "smiles");
    // The composer links to the Generate tab.
    let composer = ada.get_text(&format!("/w/{ws}/posts/new")).await;
    assert!(
        composer.contains(&format!(
            "href=\"/w/{ws}/media/generate/video\" target=\"_blank\" rel=\"noopener\" \
             id=\"generate-from-composer\""
        )),
        "{composer}"
    );
    // Nothing typed: nothing sent.
    let calls = s.sim.openai_calls();
    let mut empty = fields(&id, "  ", "");
    empty.push(("enhance", "script"));
    let res = ask(&ada, ws, &empty).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("Type a few words first"));
    assert_eq!(s.sim.openai_calls(), calls);
    // The reel's scenes and the video prompt have the same button.
    let reel = ada.get_text(&format!("/w/{ws}/media/generate/reel")).await;
    assert!(reel.contains("id=\"enhance-scenes\""));
    assert!(reel.contains("id=\"enhance-script\""));
    let res = ada
        .submit(
            &format!("/w/{ws}/media/generate/video"),
            &[
                ("model", "gen4.5"),
                ("prompt", "waves"),
                ("source", ""),
                ("shape", "9:16"),
                ("seconds", "5"),
                ("enhance", "prompt"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Suggested post: waves</textarea>")
    );
    let (system, _) = last_chat(&s);
    assert!(system.contains("prompt for a video model"), "{system}");
    // A form this instance does not have (no image model here) sends nothing to Enhance.
    let calls = s.sim.openai_calls();
    let res = ada
        .submit(
            &format!("/w/{ws}/media/generate"),
            &[
                ("prompt", "a cat"),
                ("style", "realistic"),
                ("aspect", "1:1"),
                ("enhance", "prompt"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(s.sim.openai_calls(), calls);
    // Enhance generated nothing.
    assert_eq!(
        s.app.count("SELECT COUNT(*) FROM media_generations").await,
        0
    );
    assert_eq!(s.sim.elevenlabs_spoken(), 0);
    // With AI off, Enhance is refused and nothing is sent.
    let res = ada
        .submit(&format!("/w/{ws}/ai/switch"), &[("on", "0")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let calls = s.sim.openai_calls();
    let res = ask(&ada, ws, &motion).await;
    assert_ne!(res.status(), StatusCode::OK);
    assert_eq!(s.sim.openai_calls(), calls);
}

/// Makes generation `id` look asked for `minutes` ago.
async fn asked_ago(s: &Studio, id: i64, minutes: i64) {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    use store::entities::media_generation;
    media_generation::Entity::update_many()
        .col_expr(
            media_generation::Column::CreatedAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::minutes(minutes)),
        )
        .filter(media_generation::Column::Id.eq(id))
        .exec(&s.app.services.db)
        .await
        .unwrap();
}

async fn a_long_generation_is_told_by_e_mail(backend: Backend) {
    let Some((s, ada, ws)) = speakers(backend).await else {
        return;
    };
    let portrait = s.app.upload_media(&ada, ws, "p.png", png(64, 64, 3)).await;
    let id = portrait.to_string();
    let told = |subject: &'static str| {
        let app = &s.app;
        async move {
            app.mails()
                .await
                .iter()
                .filter(|m| m.to == crate::ai::ADA && m.subject == subject)
                .count()
        }
    };
    // Made within a moment: the person is still on the page, and no e-mail is sent.
    asked(&ada, ws, &fields(&id, SCRIPT, "")).await;
    s.app.worker().run_until_empty().await.unwrap();
    assert_eq!(told("Your AI character video is ready to review").await, 0);
    // Made after minutes: an e-mail with the link to the generation.
    let long = asked(&ada, ws, &fields(&id, SCRIPT, "")).await;
    asked_ago(&s, long, 10).await;
    s.app.worker().run_until_empty().await.unwrap();
    assert_eq!(state_of(&s.app, long).await, "done");
    assert_eq!(told("Your AI character video is ready to review").await, 1);
    let mail = s.app.last_mail_to(crate::ai::ADA).await;
    assert!(
        mail.body
            .contains(&format!("/w/{ws}/media/generations/{long}")),
        "{}",
        mail.body
    );
    assert!(mail.body.contains("review before publishing"));
    // Failed after minutes: an e-mail with the reason.
    let failed = asked(&ada, ws, &fields(&id, SCRIPT, "Frowns [[block]]")).await;
    asked_ago(&s, failed, 10).await;
    s.app.worker().run_until_empty().await.unwrap();
    assert_eq!(state_of(&s.app, failed).await, "failed");
    assert_eq!(told("Your AI character video could not be made").await, 1);
    let mail = s.app.last_mail_to(crate::ai::ADA).await;
    assert!(mail.body.contains("content moderation"), "{}", mail.body);
}

//! The Hedra adapter against wiremock (the headers and bodies on the wire) and against the
//! simulator (a portrait and a voice-over uploaded as assets, a generation started once per
//! key, polled to its end and downloaded, refusals and faults in the product's kinds).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use providers::ai::AiError;
use providers::ai::character::{AssetKind, CharacterGenerator, CharacterRequest};
use providers::ai::hedra::{Hedra, HedraConfig};
use providers::ai::video::{InputFile, TaskState, Tasks, VideoShape};
use serde_json::json;
use sim::Fault;
use sim::hedra::HedraOp;
use std::time::Duration;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "17f20503-6c24-4c16-946b-35dbbce2af2f";

fn adapter(base: &str) -> Hedra {
    Hedra::new(HedraConfig {
        base_url: base.to_owned(),
        api_key: "sk_hedra_test".to_owned().into(),
        model: "character-3".into(),
        resolution: "720p".into(),
        timeout: Duration::from_secs(30),
    })
    .unwrap()
}

fn portrait() -> InputFile {
    InputFile {
        bytes: vec![0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3],
        mime: "image/jpeg",
        filename: "portrait.jpg".into(),
    }
}

fn voice() -> InputFile {
    InputFile {
        bytes: b"ID3\x04\x00\x00\x00\x00\x00\x00voice".to_vec(),
        mime: "audio/mpeg",
        filename: "voice.mp3".into(),
    }
}

fn request(portrait: &str, voice: &str, prompt: &str) -> CharacterRequest {
    CharacterRequest {
        portrait: portrait.into(),
        voice: voice.into(),
        prompt: prompt.into(),
        shape: VideoShape::Vertical,
        key: KEY.into(),
    }
}

#[tokio::test]
async fn a_generation_names_the_model_assets_inputs_and_key() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/generations"))
        .and(header("x-api-key", "sk_hedra_test"))
        .and(body_json(json!({
            "type": "video",
            "model_slug": "character-3",
            "start_keyframe_id": "img-1",
            "audio_id": "aud-1",
            "generated_video_inputs": {
                "text_prompt": "Smiles and nods",
                "resolution": "720p",
                "aspect_ratio": "9:16",
            },
            "batch_size": 1,
            "generation_id": KEY,
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": KEY})))
        .expect(1)
        .mount(&server)
        .await;
    let id = adapter(&server.uri())
        .start(&request("img-1", "aud-1", " Smiles and nods "))
        .await
        .unwrap();
    assert_eq!(id, KEY);
}

#[tokio::test]
async fn an_asset_is_made_then_its_file_posted_with_the_key() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/assets"))
        .and(header("x-api-key", "sk_hedra_test"))
        .and(body_json(json!({"name": "voice.mp3", "type": "audio"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "a-1"})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/assets/a-1/upload"))
        .and(header("x-api-key", "sk_hedra_test"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "a-1"})))
        .expect(1)
        .mount(&server)
        .await;
    let hedra = adapter(&server.uri());
    assert_eq!(
        hedra.upload(AssetKind::Audio, &voice()).await.unwrap(),
        "a-1"
    );
    let received = server.received_requests().await.unwrap();
    let upload = String::from_utf8_lossy(&received[1].body).into_owned();
    assert!(
        upload.contains("name=\"file\"; filename=\"voice.mp3\""),
        "{upload}"
    );
    assert!(upload.contains("Content-Type: audio/mpeg"), "{upload}");
    // An id that is not one is never put in a path.
    server.reset().await;
    Mock::given(method("POST"))
        .and(path("/assets"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "../billing"})))
        .mount(&server)
        .await;
    assert!(matches!(
        hedra.upload(AssetKind::Image, &portrait()).await,
        Err(AiError::Invalid(_))
    ));
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

async fn simulator() -> (sim::Simulator, sim::Running, Hedra) {
    let sim = sim::Simulator::new();
    let running = sim.start("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let hedra = adapter(&format!("{}/hedra", running.base_url));
    (sim, running, hedra)
}

async fn poll(hedra: &Hedra, id: &str) -> (Vec<TaskState>, Vec<Option<f32>>) {
    let mut seen = Vec::new();
    let mut progress = Vec::new();
    for _ in 0..50 {
        let task = hedra.task(id).await.unwrap();
        progress.push(task.progress);
        let ended = !matches!(task.state, TaskState::Waiting | TaskState::Running);
        seen.push(task.state);
        if ended {
            return (seen, progress);
        }
    }
    panic!("the generation never ended: {seen:?}");
}

async fn read_all(hedra: &Hedra, url: &str) -> Result<Vec<u8>, AiError> {
    let mut download = hedra.download(url).await?;
    let mut bytes = Vec::new();
    while let Some(chunk) = download.chunk().await? {
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

async fn assets(hedra: &Hedra) -> (String, String) {
    let image = hedra.upload(AssetKind::Image, &portrait()).await.unwrap();
    let audio = hedra.upload(AssetKind::Audio, &voice()).await.unwrap();
    (image, audio)
}

#[tokio::test]
async fn a_character_video_is_uploaded_started_once_polled_and_downloaded() {
    let (sim, _running, hedra) = simulator().await;
    assert!(!hedra.cancels());
    let (image, audio) = assets(&hedra).await;
    let mut files = sim.hedra_files();
    files.sort();
    assert_eq!(
        files,
        vec![
            ("audio".to_owned(), voice().bytes),
            ("image".to_owned(), portrait().bytes)
        ]
    );
    let id = hedra
        .start(&request(&image, &audio, "Talks to the camera"))
        .await
        .unwrap();
    assert_eq!(id, KEY);
    // Sent again after a lost answer: the same generation, not a second one.
    let again = hedra
        .start(&request(&image, &audio, "Talks to the camera"))
        .await
        .unwrap();
    assert_eq!(again, id);
    assert_eq!(sim.hedra_counts().0, 1);
    let (states, progress) = poll(&hedra, &id).await;
    assert_eq!(states[0], TaskState::Waiting);
    assert!(states.contains(&TaskState::Running));
    let running: Vec<f32> = progress.iter().flatten().copied().collect();
    assert!(running.windows(2).all(|w| w[0] < w[1]), "{running:?}");
    let TaskState::Succeeded(outputs) = states.last().unwrap() else {
        panic!("{states:?}");
    };
    let mp4 = read_all(&hedra, &outputs[0]).await.unwrap();
    assert_eq!(&mp4[4..8], b"ftyp");
    sim.hedra_expire_outputs();
    assert_eq!(
        read_all(&hedra, &outputs[0]).await.unwrap_err(),
        AiError::Expired
    );
    // The key went only to the API: the download address refuses one.
    assert_eq!(sim.hedra_counts().1, 1);
}

#[tokio::test]
async fn wrong_files_and_unknown_assets_are_refused() {
    let (_sim, _running, hedra) = simulator().await;
    let not_audio = InputFile {
        bytes: b"plain text".to_vec(),
        mime: "audio/mpeg",
        filename: "voice.mp3".into(),
    };
    assert!(matches!(
        hedra.upload(AssetKind::Audio, &not_audio).await,
        Err(AiError::Invalid(_))
    ));
    let (image, _) = assets(&hedra).await;
    // The portrait as the audio: refused before anything starts.
    assert!(matches!(
        hedra.start(&request(&image, &image, "Talks")).await,
        Err(AiError::Invalid(_))
    ));
}

#[tokio::test]
async fn refusals_failures_and_faults_come_back_in_the_products_kinds() {
    let (sim, _running, hedra) = simulator().await;
    let (image, audio) = assets(&hedra).await;
    let id = hedra
        .start(&request(&image, &audio, "Shouts [[block]]"))
        .await
        .unwrap();
    let (states, _) = poll(&hedra, &id).await;
    assert!(
        matches!(states.last().unwrap(), TaskState::Failed { reason, .. } if reason.contains("moderation")),
        "{states:?}"
    );
    sim.hedra_fail_next(
        HedraOp::Start,
        Fault::RateLimited {
            retry_after: Duration::from_secs(7),
        },
    );
    let mut other = request(&image, &audio, "Talks");
    other.key = "27f20503-6c24-4c16-946b-35dbbce2af2f".into();
    assert_eq!(
        hedra.start(&other).await.unwrap_err(),
        AiError::RateLimited {
            retry_after: Duration::from_secs(7)
        }
    );
    sim.hedra_fail_next(HedraOp::Start, Fault::ServerError);
    assert!(matches!(
        hedra.start(&other).await,
        Err(AiError::Unavailable(_))
    ));
    sim.hedra_fail_next(HedraOp::Status, Fault::RevokedToken);
    assert!(matches!(
        hedra.task(&id).await,
        Err(AiError::Credentials(_))
    ));
    sim.hedra_fail_next(HedraOp::Start, Fault::ProcessingFailed);
    let failing = hedra.start(&other).await.unwrap();
    let (states, _) = poll(&hedra, &failing).await;
    assert!(
        matches!(states.last().unwrap(), TaskState::Failed { .. }),
        "{states:?}"
    );
    assert!(matches!(
        hedra.task("no-such-generation").await,
        Err(AiError::Invalid(_))
    ));
}

#[tokio::test]
async fn the_key_never_follows_a_redirect_to_another_host() {
    let elsewhere = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "complete"})))
        .mount(&elsewhere)
        .await;
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/generations/g-1/status"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", format!("{}/collect", elsewhere.uri())),
        )
        .mount(&server)
        .await;
    assert!(adapter(&server.uri()).task("g-1").await.is_err());
    assert!(elsewhere.received_requests().await.unwrap().is_empty());
}

//! The Runway adapter against wiremock (the headers and bodies on the wire, the error answers)
//! and against the simulator (an ephemeral upload, a task polled to its end, a real MP4
//! downloaded, an expired address, failures and cancels).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use providers::ai::AiError;
use providers::ai::runway::{RUNWAY_VERSION, Runway, RunwayConfig};
use providers::ai::video::{InputFile, TaskState, Tasks, VideoGenerator, VideoRequest, VideoShape};
use serde_json::json;
use sim::Fault;
use sim::runway::RunwayOp;
use std::time::Duration;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn adapter(base: &str) -> Runway {
    Runway::new(RunwayConfig {
        base_url: base.to_owned(),
        api_key: "key_test_runway".to_owned().into(),
        version: RUNWAY_VERSION.to_owned(),
        models: vec!["gen4.5".into(), "gen4_turbo".into(), "veo3.1_fast".into()],
        timeout: Duration::from_secs(30),
    })
    .unwrap()
}

fn text_request(prompt: &str) -> VideoRequest {
    VideoRequest {
        model: "gen4.5".into(),
        prompt: prompt.into(),
        shape: VideoShape::Vertical,
        seconds: 5,
        image: None,
    }
}

#[tokio::test]
async fn a_text_request_names_the_version_ratio_and_duration() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/text_to_video"))
        .and(header("authorization", "Bearer key_test_runway"))
        .and(header("x-runway-version", RUNWAY_VERSION))
        .and(body_json(json!({
            "model": "gen4.5", "promptText": "Waves at dusk", "ratio": "720:1280", "duration": 5,
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "t-1"})))
        .expect(1)
        .mount(&server)
        .await;
    let id = adapter(&server.uri())
        .start(&text_request("  Waves at dusk "))
        .await
        .unwrap();
    assert_eq!(id, "t-1");
}

#[tokio::test]
async fn what_a_model_does_not_take_is_refused_before_sending() {
    let runway = adapter("http://127.0.0.1:9");
    // gen4.5 is offered from text only here; gen4_turbo from an image only.
    let mut from_image = text_request("x");
    from_image.image = Some("runway://a".into());
    assert!(matches!(
        runway.start(&from_image).await,
        Err(AiError::Invalid(_))
    ));
    let mut turbo = text_request("x");
    turbo.model = "gen4_turbo".into();
    assert!(matches!(
        runway.start(&turbo).await,
        Err(AiError::Invalid(_))
    ));
    let mut square = text_request("x");
    square.shape = VideoShape::Square;
    assert!(matches!(
        runway.start(&square).await,
        Err(AiError::Invalid(_))
    ));
    assert!(matches!(
        runway.start(&text_request(&"a".repeat(1001))).await,
        Err(AiError::Invalid(_))
    ));
    assert!(matches!(
        runway.start(&text_request("   ")).await,
        Err(AiError::Invalid(_))
    ));
}

#[tokio::test]
async fn error_answers_are_told_apart() {
    let server = MockServer::start().await;
    for (status, body, retry) in [
        (401, json!({"error": "Invalid API key."}), None),
        (429, json!({"error": "Too many requests."}), Some("7")),
        (400, json!({"error": "Invalid ratio for this model."}), None),
        (503, json!({"error": "Unavailable."}), None),
    ] {
        server.reset().await;
        let mut answer = ResponseTemplate::new(status).set_body_json(body);
        if let Some(retry) = retry {
            answer = answer.insert_header("retry-after", retry);
        }
        Mock::given(method("POST"))
            .and(path("/v1/text_to_video"))
            .respond_with(answer)
            .mount(&server)
            .await;
        let err = adapter(&server.uri())
            .start(&text_request("Waves"))
            .await
            .unwrap_err();
        match status {
            401 => assert!(matches!(err, AiError::Credentials(_)), "{err:?}"),
            429 => assert_eq!(
                err,
                AiError::RateLimited {
                    retry_after: Duration::from_secs(7)
                }
            ),
            400 => assert_eq!(
                err,
                AiError::Invalid("Invalid ratio for this model.".into())
            ),
            _ => assert!(matches!(err, AiError::Unavailable(_)), "{err:?}"),
        }
    }
}

async fn simulator() -> (sim::Simulator, sim::Running, Runway) {
    let sim = sim::Simulator::new();
    let running = sim.start("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let runway = adapter(&format!("{}/runway", running.base_url));
    (sim, running, runway)
}

/// Looks at the task until it ends; the looks taken and the end.
async fn poll(runway: &Runway, id: &str) -> (Vec<TaskState>, Vec<Option<f32>>) {
    let mut seen = Vec::new();
    let mut progress = Vec::new();
    for _ in 0..50 {
        let task = runway.task(id).await.unwrap();
        progress.push(task.progress);
        let ended = !matches!(task.state, TaskState::Waiting | TaskState::Running);
        seen.push(task.state);
        if ended {
            return (seen, progress);
        }
    }
    panic!("the task never ended: {seen:?}");
}

async fn read_all(runway: &Runway, url: &str) -> Result<Vec<u8>, AiError> {
    let mut download = runway.download(url).await?;
    let mut bytes = Vec::new();
    while let Some(chunk) = download.chunk().await? {
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

#[tokio::test]
async fn a_video_from_an_uploaded_image_is_polled_and_downloaded() {
    let (sim, _running, runway) = simulator().await;
    let image = InputFile {
        bytes: vec![0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3],
        mime: "image/jpeg",
        filename: "still.jpg".into(),
    };
    let reference = runway.upload(&image).await.unwrap();
    assert!(reference.starts_with("runway://"), "{reference}");
    let request = VideoRequest {
        model: "gen4_turbo".into(),
        prompt: String::new(),
        shape: VideoShape::Square,
        seconds: 5,
        image: Some(reference.clone()),
    };
    let id = runway.start(&request).await.unwrap();
    let sent = sim.runway_requests();
    let body = sent.last().unwrap();
    assert_eq!(body["promptImage"][0]["uri"], reference.as_str());
    assert_eq!(body["ratio"], "960:960");
    assert!(body.get("promptText").is_none());
    let (states, progress) = poll(&runway, &id).await;
    assert_eq!(states[0], TaskState::Waiting);
    assert!(states.contains(&TaskState::Running));
    let running: Vec<f32> = progress.iter().flatten().copied().collect();
    assert!(running.windows(2).all(|w| w[0] < w[1]), "{running:?}");
    let TaskState::Succeeded(outputs) = states.last().unwrap() else {
        panic!("{states:?}");
    };
    let mp4 = read_all(&runway, &outputs[0]).await.unwrap();
    assert_eq!(&mp4[4..8], b"ftyp");
    // An address that expired is told as such, and a new look gives a fresh one.
    sim.runway_expire_outputs();
    assert_eq!(
        read_all(&runway, &outputs[0]).await.unwrap_err(),
        AiError::Expired
    );
    let TaskState::Succeeded(fresh) = runway.task(&id).await.unwrap().state else {
        panic!("the task is no longer done");
    };
    assert_ne!(fresh, *outputs);
    assert_eq!(read_all(&runway, &fresh[0]).await.unwrap(), mp4);
    // An upload reference is not a public address, and the key went only to the API.
    assert!(!body.to_string().contains("http"));
}

#[tokio::test]
async fn a_reference_never_uploaded_is_refused() {
    let (_sim, _running, runway) = simulator().await;
    let request = VideoRequest {
        model: "gen4_turbo".into(),
        prompt: "Slow zoom".into(),
        shape: VideoShape::Wide,
        seconds: 5,
        image: Some("runway://sim/never".into()),
    };
    assert!(matches!(
        runway.start(&request).await,
        Err(AiError::Invalid(_))
    ));
}

#[tokio::test]
async fn failed_blocked_and_cancelled_tasks_end_as_such() {
    let (sim, _running, runway) = simulator().await;
    let id = runway
        .start(&text_request("A fight [[block]]"))
        .await
        .unwrap();
    let (states, _) = poll(&runway, &id).await;
    assert!(
        matches!(states.last().unwrap(), TaskState::Failed { code: Some(c), .. } if c == "SAFETY.INPUT.TEXT"),
        "{states:?}"
    );
    sim.runway_fail_next(RunwayOp::Start, Fault::ProcessingFailed);
    let id = runway.start(&text_request("Waves")).await.unwrap();
    let (states, _) = poll(&runway, &id).await;
    assert!(
        matches!(states.last().unwrap(), TaskState::Failed { code: Some(c), .. } if c.starts_with("INTERNAL")),
        "{states:?}"
    );
    sim.runway_fail_next(RunwayOp::Start, Fault::SlowProcessing(6));
    let id = runway.start(&text_request("Waves")).await.unwrap();
    let (states, _) = poll(&runway, &id).await;
    assert_eq!(states.len(), 10);
    let id = runway.start(&text_request("Waves")).await.unwrap();
    runway.task(&id).await.unwrap();
    runway.cancel(&id).await.unwrap();
    assert_eq!(runway.task(&id).await.unwrap().state, TaskState::Cancelled);
    assert_eq!(sim.runway_counts().1, 1);
}

#[tokio::test]
async fn the_simulators_faults_come_back_in_the_products_kinds() {
    let (sim, running, runway) = simulator().await;
    sim.runway_fail_next(
        RunwayOp::Start,
        Fault::RateLimited {
            retry_after: Duration::from_secs(3),
        },
    );
    assert_eq!(
        runway.start(&text_request("Waves")).await.unwrap_err(),
        AiError::RateLimited {
            retry_after: Duration::from_secs(3)
        }
    );
    sim.runway_fail_next(RunwayOp::Start, Fault::ServerError);
    assert!(matches!(
        runway.start(&text_request("Waves")).await,
        Err(AiError::Unavailable(_))
    ));
    sim.runway_fail_next(RunwayOp::Start, Fault::RevokedToken);
    assert!(matches!(
        runway.start(&text_request("Waves")).await,
        Err(AiError::Credentials(_))
    ));
    let id = runway.start(&text_request("Waves")).await.unwrap();
    sim.runway_fail_next(RunwayOp::Task, Fault::ServerError);
    assert!(matches!(
        runway.task(&id).await,
        Err(AiError::Unavailable(_))
    ));
    sim.runway_fail_next(RunwayOp::Upload, Fault::ServerError);
    let image = InputFile {
        bytes: vec![1, 2, 3],
        mime: "image/png",
        filename: "a.png".into(),
    };
    assert!(matches!(
        runway.upload(&image).await,
        Err(AiError::Unavailable(_))
    ));
    // Only the successful starts made tasks.
    assert_eq!(sim.runway_counts().0, 1);
    let wrong_key = Runway::new(RunwayConfig {
        base_url: format!("{}/runway", running.base_url),
        api_key: "sk-not-runway".to_owned().into(),
        version: RUNWAY_VERSION.into(),
        models: vec!["gen4.5".into()],
        timeout: Duration::from_secs(5),
    })
    .unwrap();
    assert!(matches!(
        wrong_key.start(&text_request("Waves")).await,
        Err(AiError::Credentials(_))
    ));
}

#[tokio::test]
async fn addresses_it_hands_out_must_be_public_https_ones() {
    // Runway's answers name an upload address and output addresses: one that is not a public
    // https address (nor on the API's own origin) is refused before anything is sent to it.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/uploads"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "uploadUrl": "http://169.254.169.254/latest/meta-data",
            "fields": {"key": "k"},
            "runwayUri": "runway://x",
        })))
        .mount(&server)
        .await;
    let runway = adapter(&server.uri());
    let image = InputFile {
        bytes: vec![1, 2, 3],
        mime: "image/png",
        filename: "picture.png".into(),
    };
    let err = runway.upload(&image).await.unwrap_err();
    assert!(
        matches!(err, AiError::Invalid(ref why) if why.contains("upload address")),
        "{err:?}"
    );
    for output in [
        "http://169.254.169.254/latest/meta-data",
        "https://127.0.0.1/video.mp4",
        "https://10.0.0.8/video.mp4",
        "file:///etc/passwd",
    ] {
        let err = runway.download(output).await.err();
        assert!(
            matches!(err, Some(AiError::Invalid(_))),
            "{output}: {err:?}"
        );
    }
    // On the API's own origin (a simulator, a proxy), addresses are taken as they come.
    Mock::given(method("GET"))
        .and(path("/out.mp4"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(b"....ftypisom".to_vec()))
        .mount(&server)
        .await;
    let mut download = runway
        .download(&format!("{}/out.mp4", server.uri()))
        .await
        .unwrap();
    assert_eq!(
        &download.chunk().await.unwrap().unwrap()[..],
        b"....ftypisom"
    );
    // No request reached the metadata address: all went to the mock.
    let received = server.received_requests().await.unwrap();
    assert!(received.iter().all(|r| r.url.path() != "/latest/meta-data"));
}

//! The ElevenLabs adapter against wiremock (the key, the body and the output format on the
//! wire) and against the simulator (voices, a real MP3, the quota, and its two kinds of 429:
//! a full set of concurrency slots is waited out without backoff, a busy system is backed off
//! from and then told).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use providers::ai::AiError;
use providers::ai::elevenlabs::{ELEVENLABS_API, ElevenLabs, ElevenLabsConfig};
use providers::ai::speech::{SpeechGenerator, SpeechRequest};
use serde_json::json;
use sim::Fault;
use std::time::Duration;
use wiremock::matchers::{body_partial_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const RACHEL: &str = "21m00Tcm4TlvDq8ikWAM";

fn adapter(base: &str) -> ElevenLabs {
    ElevenLabs::new(ElevenLabsConfig {
        base_url: base.to_owned(),
        api_key: "sk_test_voice".to_owned().into(),
        model: "eleven_multilingual_v2".to_owned(),
        output_format: "mp3_44100_128".to_owned(),
        concurrency: 2,
        slot_wait: Duration::from_millis(1),
        backoff: Duration::from_millis(1),
        timeout: Duration::from_secs(30),
    })
    .unwrap()
}

fn script(text: &str) -> SpeechRequest {
    SpeechRequest {
        voice: RACHEL.to_owned(),
        text: text.to_owned(),
    }
}

#[tokio::test]
async fn a_script_is_sent_with_the_key_model_and_format() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/v1/text-to-speech/{RACHEL}")))
        .and(query_param("output_format", "mp3_44100_128"))
        .and(header("xi-api-key", "sk_test_voice"))
        .and(body_partial_json(json!({
            "text": "Fresh bread every morning.", "model_id": "eleven_multilingual_v2",
        })))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(b"ID3audio".to_vec()))
        .expect(1)
        .mount(&server)
        .await;
    let audio = adapter(&server.uri())
        .speak(&script("  Fresh bread every morning. "))
        .await
        .unwrap();
    assert_eq!(audio, b"ID3audio");
}

#[tokio::test]
async fn what_cannot_be_spoken_is_refused_before_sending() {
    let voice = adapter("http://127.0.0.1:9");
    assert!(matches!(
        voice.speak(&script("   ")).await,
        Err(AiError::Invalid(_))
    ));
    assert_eq!(
        voice.speak(&script(&"a".repeat(10_001))).await.unwrap_err(),
        AiError::ContextTooLong
    );
    let wrong = SpeechRequest {
        voice: "../v1/user".into(),
        text: "Hello".into(),
    };
    assert!(matches!(
        voice.speak(&wrong).await,
        Err(AiError::Invalid(_))
    ));
    assert!(
        ElevenLabs::new(ElevenLabsConfig {
            model: "eleven_unknown".into(),
            ..config_of(&voice)
        })
        .is_err()
    );
}

fn config_of(_: &ElevenLabs) -> ElevenLabsConfig {
    ElevenLabsConfig {
        base_url: ELEVENLABS_API.to_owned(),
        api_key: "sk_x".to_owned().into(),
        model: "eleven_multilingual_v2".to_owned(),
        output_format: "mp3_44100_128".to_owned(),
        concurrency: 1,
        slot_wait: Duration::from_millis(1),
        backoff: Duration::from_millis(1),
        timeout: Duration::from_secs(5),
    }
}

async fn simulator() -> (sim::Simulator, sim::Running, ElevenLabs) {
    let sim = sim::Simulator::new();
    let running = sim.start("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let voice = adapter(&format!("{}/elevenlabs", running.base_url));
    (sim, running, voice)
}

#[tokio::test]
async fn voices_speech_and_the_quota_at_the_simulator() {
    let (sim, _running, voice) = simulator().await;
    let voices = voice.voices().await.unwrap();
    assert!(voices.iter().any(|v| v.id == RACHEL && v.name == "Rachel"));
    assert!(voices.iter().all(|v| v.category == "premade"));
    let audio = voice
        .speak(&script("Fresh bread every morning."))
        .await
        .unwrap();
    // A real MP3 (an ID3 tag or a frame sync at its start).
    assert!(audio.starts_with(b"ID3") || (audio[0] == 0xFF && audio[1] & 0xE0 == 0xE0));
    let quota = voice.quota().await.unwrap();
    assert_eq!(quota.used, 26);
    assert_eq!(quota.left(), 100_000 - 26);
    sim.elevenlabs_set_allowance(30);
    assert!(matches!(
        voice.speak(&script("Fresh bread every morning.")).await,
        Err(AiError::Refused { ref reason }) if reason.contains("used up")
    ));
    let gone = SpeechRequest {
        voice: "NotAVoice".into(),
        text: "Hello".into(),
    };
    sim.elevenlabs_set_allowance(100_000);
    assert!(matches!(
        voice.speak(&gone).await,
        Err(AiError::Refused { .. })
    ));
    assert_eq!(sim.elevenlabs_spoken(), 1);
}

#[tokio::test]
async fn full_slots_are_waited_out_and_a_busy_system_is_backed_off_from() {
    let (sim, _running, voice) = simulator().await;
    // Three answers of "too many concurrent requests": waited out, then spoken.
    sim.elevenlabs_slots_full_next(3);
    voice.speak(&script("Hello there.")).await.unwrap();
    assert_eq!(sim.elevenlabs_spoken(), 1);
    // Busy twice: backed off from, then spoken.
    for _ in 0..2 {
        sim.elevenlabs_fail_next(Fault::RateLimited {
            retry_after: Duration::from_secs(4),
        });
    }
    voice.speak(&script("Hello there.")).await.unwrap();
    assert_eq!(sim.elevenlabs_spoken(), 2);
    // Busy past the tries: told, with the provider's wait.
    for _ in 0..4 {
        sim.elevenlabs_fail_next(Fault::RateLimited {
            retry_after: Duration::from_secs(4),
        });
    }
    assert_eq!(
        voice.speak(&script("Hello there.")).await.unwrap_err(),
        AiError::RateLimited {
            retry_after: Duration::from_secs(4)
        }
    );
    // Slots full past the tries: told to wait a moment.
    sim.elevenlabs_slots_full_next(6);
    assert!(matches!(
        voice.speak(&script("Hello there.")).await,
        Err(AiError::RateLimited { .. })
    ));
    assert_eq!(sim.elevenlabs_spoken(), 2);
    sim.elevenlabs_fail_next(Fault::RevokedToken);
    assert!(matches!(voice.voices().await, Err(AiError::Credentials(_))));
    sim.elevenlabs_fail_next(Fault::ServerError);
    assert!(matches!(voice.quota().await, Err(AiError::Unavailable(_))));
}

//! The OpenAI image adapter against wiremock (what goes on the wire, every kind of answer) and
//! against the simulator (real images of the asked size and type, its faults).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use base64::Engine;
use providers::ai::AiError;
use providers::ai::images::{
    Background, ImageFormat, ImageGenerator, ImageQuality, ImageRequest, ImageSize,
};
use providers::ai::openai_images::{OpenAiImages, OpenAiImagesConfig};
use serde_json::json;
use std::time::Duration;
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn adapter(base: &str, model: &str) -> OpenAiImages {
    OpenAiImages::new(OpenAiImagesConfig {
        base_url: base.to_owned(),
        api_key: Some("sk-test-images".to_owned().into()),
        model: model.to_owned(),
        name: "OpenAI".to_owned(),
        timeout: Duration::from_secs(30),
    })
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\nnot really the rest of a png";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[tokio::test]
async fn the_request_has_the_asked_options_and_the_images_come_back_decoded() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/images/generations"))
        .and(header("authorization", "Bearer sk-test-images"))
        .and(body_partial_json(json!({
            "model": "gpt-image-1", "prompt": "A loaf on a table", "n": 2,
            "size": "1024x1536", "quality": "high", "background": "transparent",
            "output_format": "png",
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "created": 1_700_000_000,
            "data": [{"b64_json": b64(PNG)}, {"b64_json": b64(PNG)}],
            "usage": {"input_tokens": 12, "output_tokens": 4160, "total_tokens": 4172},
        })))
        .expect(1)
        .mount(&server)
        .await;
    let images = adapter(&format!("{}/v1", server.uri()), "gpt-image-1")
        .generate(&ImageRequest {
            n: 2,
            size: ImageSize::Portrait,
            quality: ImageQuality::High,
            background: Background::Transparent,
            ..ImageRequest::new("  A loaf on a table ")
        })
        .await
        .unwrap();
    assert_eq!(images.images.len(), 2);
    assert_eq!(images.images[0].bytes, PNG);
    assert_eq!(images.images[0].mime, "image/png");
    assert_eq!((images.input_tokens, images.output_tokens), (12, 4160));
}

#[tokio::test]
async fn a_blocked_prompt_is_a_refusal_that_names_its_stage_and_categories() {
    let server = MockServer::start().await;
    for (stage, said) in [
        (
            "input",
            "the prompt was blocked by the provider's safety system (violence, hate).",
        ),
        (
            "output",
            "the image made from this prompt was blocked by the provider's safety system (violence, hate).",
        ),
    ] {
        server.reset().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {
                "message": "Your request was rejected by the safety system.",
                "type": "image_generation_user_error", "param": null,
                "code": "moderation_blocked",
                "moderation_details": {"moderation_stage": stage, "categories": ["violence", "hate"]},
            }})))
            .mount(&server)
            .await;
        let err = adapter(&server.uri(), "gpt-image-1")
            .generate(&ImageRequest::new("something"))
            .await
            .unwrap_err();
        assert_eq!(
            err,
            AiError::Refused {
                reason: said.to_owned()
            }
        );
    }
}

#[tokio::test]
async fn errors_come_in_the_products_kinds() {
    let server = MockServer::start().await;
    let cases = [
        (
            ResponseTemplate::new(429)
                .insert_header("retry-after", "7")
                .set_body_json(json!({"error": {"message": "Rate limit", "type": "requests", "code": "rate_limit_exceeded"}})),
            AiError::RateLimited {
                retry_after: Duration::from_secs(7),
            },
        ),
        (
            ResponseTemplate::new(429).set_body_json(
                json!({"error": {"message": "You exceeded your quota", "type": "insufficient_quota", "code": "insufficient_quota"}}),
            ),
            AiError::Unavailable("the provider account's quota is used up".into()),
        ),
        (
            ResponseTemplate::new(401).set_body_json(
                json!({"error": {"message": "Incorrect API key provided: sk-abc***xyz", "code": "invalid_api_key"}}),
            ),
            AiError::Credentials("Incorrect API key provided: sk-…".into()),
        ),
        (
            ResponseTemplate::new(400).set_body_json(
                json!({"error": {"message": "Your request was rejected as a result of our safety system.", "code": "content_policy_violation"}}),
            ),
            AiError::Refused {
                reason: "Your request was rejected as a result of our safety system.".into(),
            },
        ),
        (
            ResponseTemplate::new(200).set_body_json(json!({"data": [{"b64_json": b64(b"GIF89a")}]})),
            AiError::Invalid("an image is neither PNG, JPEG nor WebP".into()),
        ),
        (
            ResponseTemplate::new(200).set_body_json(json!({"data": [{"url": "https://x.example/a.png"}]})),
            AiError::Invalid("an image came without its data".into()),
        ),
        (
            ResponseTemplate::new(200).set_body_json(json!({"data": []})),
            AiError::Invalid("the answer holds no image".into()),
        ),
    ];
    for (answer, expected) in cases {
        server.reset().await;
        Mock::given(method("POST"))
            .respond_with(answer)
            .mount(&server)
            .await;
        let err = adapter(&server.uri(), "gpt-image-1")
            .generate(&ImageRequest::new("bread"))
            .await
            .unwrap_err();
        assert_eq!(err, expected);
    }
    server.reset().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_json(json!({"error": {"message": "boom", "type": "server_error"}})),
        )
        .mount(&server)
        .await;
    let err = adapter(&server.uri(), "gpt-image-1")
        .generate(&ImageRequest::new("bread"))
        .await
        .unwrap_err();
    assert!(matches!(err, AiError::Unavailable(_)), "{err:?}");
}

#[tokio::test]
async fn what_the_api_would_refuse_is_not_sent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let jpeg_transparent = ImageRequest {
        background: Background::Transparent,
        format: ImageFormat::Jpeg,
        ..ImageRequest::new("bread")
    };
    let cases = [
        ("gpt-image-1", ImageRequest::new("   ")),
        ("gpt-image-1", ImageRequest::new("x".repeat(32_001))),
        (
            "gpt-image-1",
            ImageRequest {
                n: 11,
                ..ImageRequest::new("bread")
            },
        ),
        ("gpt-image-1", jpeg_transparent),
        (
            "gpt-image-2",
            ImageRequest {
                background: Background::Transparent,
                ..ImageRequest::new("bread")
            },
        ),
    ];
    for (model, request) in cases {
        let err = adapter(&server.uri(), model)
            .generate(&request)
            .await
            .unwrap_err();
        assert!(matches!(err, AiError::Invalid(_)), "{err:?}");
    }
}

/// The width and height a PNG's header gives.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n") && &bytes[12..16] == b"IHDR");
    let be = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (be(16), be(20))
}

#[tokio::test]
async fn against_the_simulator_real_images_and_its_faults() {
    let (sim, running) = common::simulator().await;
    let base = format!("{}/openai/v1", running.base_url);
    let openai = adapter(&base, "gpt-image-1");
    let portrait = openai
        .generate(&ImageRequest {
            size: ImageSize::Portrait,
            quality: ImageQuality::Low,
            ..ImageRequest::new("A loaf of rye bread")
        })
        .await
        .unwrap();
    assert_eq!(portrait.images[0].mime, "image/png");
    assert_eq!(png_size(&portrait.images[0].bytes), (1024, 1536));
    assert!(portrait.input_tokens > 0 && portrait.output_tokens > 0);
    let jpeg = openai
        .generate(&ImageRequest {
            format: ImageFormat::Jpeg,
            ..ImageRequest::new("A loaf of rye bread")
        })
        .await
        .unwrap();
    assert_eq!(jpeg.images[0].mime, "image/jpeg");
    let err = openai
        .generate(&ImageRequest::new("[[block]] something"))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        AiError::Refused {
            reason: "the prompt was blocked by the provider's safety system (violence).".into()
        }
    );
    sim.openai_fail_next(
        sim::openai::OpenAiOp::Image,
        sim::Fault::RateLimited {
            retry_after: Duration::from_secs(5),
        },
    );
    let err = openai
        .generate(&ImageRequest::new("bread"))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        AiError::RateLimited {
            retry_after: Duration::from_secs(5)
        }
    );
    // A retired model is refused as the API refuses it.
    let err = adapter(&base, "dall-e-3")
        .generate(&ImageRequest::new("bread"))
        .await
        .unwrap_err();
    assert!(matches!(err, AiError::Invalid(_)), "{err:?}");
    // What reached the provider is what was asked.
    let sent = sim.openai_requests();
    assert_eq!(sent[0]["size"], "1024x1536");
    assert_eq!(sent[0]["prompt"], "A loaf of rye bread");
}

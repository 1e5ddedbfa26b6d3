//! The simulated OpenAI image generation answers in the real API's shapes: real image files
//! of the requested size and format drawn from the prompt, usage, the request checks of the
//! GPT image models, the safety system's refusals, retired models and injected faults.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use base64::Engine;
use image::{DynamicImage, GenericImageView, ImageFormat};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sim::Fault;
use sim::openai::OpenAiOp;
use std::time::Duration;

const KEY: &str = "sk-test-0123";

use common::OpenAiApi as OpenAi;

impl OpenAi {
    /// An image generation with `key`: the status, the headers and the JSON answer.
    async fn call(
        &self,
        key: &str,
        body: &Value,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let (status, headers, text) = self.post("/images/generations", key, body).await;
        (status, headers, serde_json::from_str(&text).unwrap())
    }

    /// An image generation with the test key: the status and the JSON answer.
    async fn generate(&self, body: &Value) -> (StatusCode, Value) {
        let (status, _, answer) = self.call(KEY, body).await;
        (status, answer)
    }
}

/// A request for one image of `prompt`, everything else left to its default.
fn ask(prompt: &str) -> Value {
    json!({"model": "gpt-image-1", "prompt": prompt})
}

/// A request with `changes` laid over [`ask`].
fn ask_with(prompt: &str, changes: Value) -> Value {
    let mut request = ask(prompt);
    for (name, value) in changes.as_object().unwrap() {
        request[name] = value.clone();
    }
    request
}

/// The `index`th image of an answer, decoded as `format`.
fn picture(answer: &Value, index: usize, format: ImageFormat) -> DynamicImage {
    let b64 = answer["data"][index]["b64_json"].as_str().unwrap();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    image::load_from_memory_with_format(&bytes, format).unwrap()
}

/// Asserts an OpenAI error: the status, `type`, `param` and `code` (a string, or `null`).
fn assert_error(
    status: StatusCode,
    answer: &Value,
    want: StatusCode,
    kind: &str,
    param: Value,
    code: impl Into<Value>,
) {
    let code = code.into();
    assert_eq!(status, want, "{answer}");
    let error = &answer["error"];
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{answer}"
    );
    assert_eq!(error["type"], kind, "{answer}");
    assert_eq!(error["param"], param, "{answer}");
    assert_eq!(error["code"], code, "{answer}");
}

#[tokio::test]
async fn a_png_of_each_size_has_those_dimensions() {
    let openai = OpenAi::start().await;
    for (size, width, height) in [
        ("1024x1024", 1024, 1024),
        ("1536x1024", 1536, 1024),
        ("1024x1536", 1024, 1536),
        ("auto", 1024, 1024),
    ] {
        let (status, answer) = openai
            .generate(&ask_with("A lighthouse at dawn", json!({"size": size})))
            .await;

        assert_eq!(status, StatusCode::OK, "{answer}");
        assert!(answer["created"].as_i64().unwrap() > 1_700_000_000);
        assert_eq!(answer["output_format"], "png");
        assert_eq!(answer["background"], "opaque");
        assert_eq!(answer["size"], format!("{width}x{height}"));
        let data = answer["data"].as_array().unwrap();
        assert_eq!(data.len(), 1);
        assert!(data[0].get("url").is_none());
        let image = picture(&answer, 0, ImageFormat::Png);
        assert_eq!(image.dimensions(), (width, height), "size {size}");
        assert!(!image.color().has_alpha());
    }
}

#[tokio::test]
async fn jpeg_and_webp_are_real_files() {
    let openai = OpenAi::start().await;
    let (status, answer) = openai
        .generate(&ask_with(
            "A bowl of cherries",
            json!({"output_format": "jpeg", "output_compression": 80, "quality": "low"}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["output_format"], "jpeg");
    let jpeg = picture(&answer, 0, ImageFormat::Jpeg);
    assert_eq!(jpeg.dimensions(), (1024, 1024));

    let (status, answer) = openai
        .generate(&ask_with(
            "A bowl of cherries",
            json!({"output_format": "webp", "size": "1536x1024"}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let webp = picture(&answer, 0, ImageFormat::WebP);
    assert_eq!(webp.dimensions(), (1536, 1024));
}

#[tokio::test]
async fn the_prompt_shapes_the_pixels() {
    let openai = OpenAi::start().await;
    let mut pixels = Vec::new();
    for prompt in ["A red fox in snow", "A red fox in snow", "A blue whale"] {
        let (status, answer) = openai.generate(&ask(prompt)).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        pixels.push(picture(&answer, 0, ImageFormat::Png).to_rgba8().into_raw());
    }

    assert_eq!(
        pixels[0], pixels[1],
        "the same prompt gives the same picture"
    );
    assert_ne!(pixels[0], pixels[2], "another prompt gives another picture");
}

#[tokio::test]
async fn a_transparent_background_has_transparent_pixels() {
    let openai = OpenAi::start().await;
    for (format, decode_as) in [("png", ImageFormat::Png), ("webp", ImageFormat::WebP)] {
        let (status, answer) = openai
            .generate(&ask_with(
                "A sticker of a cat",
                json!({"background": "transparent", "output_format": format}),
            ))
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer["background"], "transparent");
        let image = picture(&answer, 0, decode_as);
        assert!(image.color().has_alpha(), "{format}");
        let rgba = image.to_rgba8();
        assert_eq!(
            rgba.get_pixel(0, 0)[3],
            0,
            "{format}: the corner is transparent"
        );
        assert!(
            rgba.pixels().any(|p| p[3] == 255),
            "{format}: the shapes are opaque"
        );
    }
}

#[tokio::test]
async fn n_gives_that_many_images_and_usage_counts_them() {
    let openai = OpenAi::start().await;
    let prompt = "Three postcards of Lisbon";
    let (status, answer) = openai
        .generate(&ask_with(
            prompt,
            json!({"n": 3, "quality": "high", "size": "1536x1024", "moderation": "low"}),
        ))
        .await;

    assert_eq!(status, StatusCode::OK, "{answer}");
    let data = answer["data"].as_array().unwrap();
    assert_eq!(data.len(), 3);
    for index in 0..3 {
        assert_eq!(
            picture(&answer, index, ImageFormat::Png).dimensions(),
            (1536, 1024)
        );
    }
    assert_eq!(answer["quality"], "high");
    let usage = &answer["usage"];
    let input = (prompt.chars().count() / 4) as u64;
    assert_eq!(usage["input_tokens"], input);
    assert_eq!(usage["input_tokens_details"]["text_tokens"], input);
    assert_eq!(usage["input_tokens_details"]["image_tokens"], 0);
    assert_eq!(usage["output_tokens"], 3 * 6240);
    assert_eq!(usage["total_tokens"], input + 3 * 6240);

    // A one-character prompt still costs a token.
    let (_, answer) = openai.generate(&ask("A")).await;
    assert_eq!(answer["usage"]["input_tokens"], 1);
}

#[tokio::test]
async fn malformed_parameters_are_refused_naming_the_param() {
    let openai = OpenAi::start().await;
    let long = "x".repeat(32_001);
    let cases = [
        (
            json!({"model": "gpt-image-1"}),
            "prompt",
            "missing_required_parameter",
        ),
        (ask(""), "prompt", "empty_string"),
        (ask(&long), "prompt", "string_above_max_length"),
        (
            ask_with("p", json!({"n": 0})),
            "n",
            "integer_below_min_value",
        ),
        (
            ask_with("p", json!({"n": 11})),
            "n",
            "integer_above_max_value",
        ),
        (ask_with("p", json!({"n": "2"})), "n", "invalid_type"),
        (
            ask_with("p", json!({"size": "512x512"})),
            "size",
            "invalid_value",
        ),
        (
            ask_with("p", json!({"quality": "hd"})),
            "quality",
            "invalid_value",
        ),
        (
            ask_with("p", json!({"background": "white"})),
            "background",
            "invalid_value",
        ),
        (
            ask_with("p", json!({"output_format": "gif"})),
            "output_format",
            "invalid_value",
        ),
        (
            ask_with("p", json!({"moderation": "off"})),
            "moderation",
            "invalid_value",
        ),
        (
            ask_with("p", json!({"output_compression": -1})),
            "output_compression",
            "integer_below_min_value",
        ),
        (
            ask_with("p", json!({"output_compression": 101})),
            "output_compression",
            "integer_above_max_value",
        ),
        (
            ask_with(
                "p",
                json!({"background": "transparent", "output_format": "jpeg"}),
            ),
            "background",
            "invalid_value",
        ),
        (
            json!({"model": "gpt-image-2", "prompt": "p", "background": "transparent"}),
            "background",
            "invalid_value",
        ),
        (
            json!({"prompt": "p"}),
            "model",
            "missing_required_parameter",
        ),
    ];
    for (request, param, code) in &cases {
        let (status, answer) = openai.generate(request).await;
        assert_error(
            status,
            &answer,
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            json!(param),
            *code,
        );
    }

    let (_, answer) = openai
        .generate(&ask_with("p", json!({"size": "512x512"})))
        .await;
    assert_eq!(
        answer["error"]["message"],
        "Invalid value: '512x512'. Supported values are: '1024x1024', '1536x1024', \
         '1024x1536', and 'auto'."
    );
    // Exactly 32,000 characters is allowed.
    let (status, _) = openai.generate(&ask(&"x".repeat(32_000))).await;
    assert_eq!(status, StatusCode::OK);
    // gpt-image-2 takes an opaque background, and the other models a transparent one.
    let (status, _) = openai
        .generate(&json!({"model": "gpt-image-2", "prompt": "p", "background": "opaque"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(openai.sim.openai_calls(), cases.len() + 3);
}

#[tokio::test]
async fn the_block_markers_are_the_safety_systems_refusals() {
    let openai = OpenAi::start().await;
    for (marker, stage) in [("[[block]]", "input"), ("[[block-output]]", "output")] {
        let (status, answer) = openai
            .generate(&ask(&format!("A street fight {marker}")))
            .await;

        assert_eq!(status, StatusCode::BAD_REQUEST);
        let error = answer["error"].as_object().unwrap();
        let mut names: Vec<&str> = error.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            ["code", "message", "moderation_details", "param", "type"]
        );
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .starts_with("Your request was rejected by the safety system.")
        );
        assert_eq!(error["type"], "image_generation_user_error");
        assert_eq!(error["param"], Value::Null);
        assert_eq!(error["code"], "moderation_blocked");
        assert_eq!(
            error["moderation_details"],
            json!({"moderation_stage": stage, "categories": ["violence"]})
        );
    }
}

#[tokio::test]
async fn retired_and_unknown_models_are_not_found() {
    let openai = OpenAi::start().await;
    for model in ["dall-e-3", "dall-e-2", "gpt-4o-mini"] {
        let (status, answer) = openai
            .generate(&json!({"model": model, "prompt": "A cat", "size": "1024x1024"}))
            .await;
        assert_error(
            status,
            &answer,
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            Value::Null,
            "model_not_found",
        );
        assert!(answer["error"]["message"].as_str().unwrap().contains(model));
    }
    for model in [
        "gpt-image-1-mini",
        "gpt-image-1.5",
        "gpt-image-2",
        "chatgpt-image-latest",
    ] {
        let (status, answer) = openai
            .generate(&json!({"model": model, "prompt": "A cat"}))
            .await;
        assert_eq!(status, StatusCode::OK, "{model}: {answer}");
    }
}

#[tokio::test]
async fn injected_faults_apply_to_image_generation() {
    let openai = OpenAi::start().await;
    openai.sim.openai_fail_next(
        OpenAiOp::Image,
        Fault::RateLimited {
            retry_after: Duration::from_secs(7),
        },
    );
    // A fault for images leaves chat alone.
    let chat = json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]});
    let (status, _, _) = openai.post("/chat/completions", KEY, &chat).await;
    assert_eq!(status, StatusCode::OK);

    let (status, headers, answer) = openai.call(KEY, &ask("A cat")).await;
    assert_error(
        status,
        &answer,
        StatusCode::TOO_MANY_REQUESTS,
        "requests",
        Value::Null,
        "rate_limit_exceeded",
    );
    assert_eq!(headers["retry-after"], "7");
    assert_eq!(headers["retry-after-ms"], "7000");

    openai
        .sim
        .openai_fail_next(OpenAiOp::Image, Fault::ServerError);
    let (status, answer) = openai.generate(&ask("A cat")).await;
    assert_error(
        status,
        &answer,
        StatusCode::INTERNAL_SERVER_ERROR,
        "server_error",
        Value::Null,
        Value::Null,
    );

    openai
        .sim
        .openai_fail_next(OpenAiOp::Image, Fault::RevokedToken);
    let (status, answer) = openai.generate(&ask("A cat")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer["error"]["code"], "invalid_api_key");

    // The faults are used up: the next call is answered.
    let (status, _) = openai.generate(&ask("A cat")).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_key_that_is_not_an_openai_key_is_refused() {
    let openai = OpenAi::start().await;
    let (status, _, answer) = openai.call("not-a-key", &ask("A cat")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer["error"]["code"], "invalid_api_key");
}

#[tokio::test]
async fn every_request_is_recorded() {
    let openai = OpenAi::start().await;
    openai.generate(&ask("A garden party")).await;
    openai.generate(&ask("A garden party [[block]]")).await;
    openai
        .generate(&json!({"model": "dall-e-3", "prompt": "An old model"}))
        .await;

    assert_eq!(openai.sim.openai_calls(), 3);
    let kept = openai.sim.openai_requests();
    assert_eq!(kept[0], ask("A garden party"));
    assert_eq!(kept[1]["prompt"], "A garden party [[block]]");
    assert_eq!(kept[2]["model"], "dall-e-3");
}

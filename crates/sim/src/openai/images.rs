//! `POST /v1/images/generations`: the GPT image models' request checks, their moderation
//! refusals, and real image files made from the prompt.
//!
//! The request is `{model, prompt, n?, size?, quality?, background?, output_format?,
//! output_compression?, moderation?}` and the answer `{created, background, output_format,
//! quality, size, data:[{b64_json}], usage}`, never a URL. Every picture is a real file of the
//! requested size and format (PNG, JPEG, or lossless WebP, the only WebP the `image` crate
//! writes): a background colour and three rectangles, all drawn from a hash of the prompt and
//! the picture's index, so the same prompt gives the same pixels and another prompt other ones.
//! With `background: "transparent"` the background is fully transparent and the rectangles
//! opaque; otherwise the file has no alpha channel. Solid areas keep encoding cheap.
//!
//! Errors, in OpenAI's `{"error":{message, type, param, code}}` shape:
//! - a malformed parameter is a 400 `invalid_request_error` naming the `param` (codes
//!   `missing_required_parameter`, `empty_string`, `string_above_max_length`,
//!   `integer_below_min_value`, `integer_above_max_value`, `invalid_type`, `invalid_value`);
//! - a model that is not one of the GPT image models, `dall-e-2` and `dall-e-3` included (they
//!   were retired), is a 404 `invalid_request_error` with code `model_not_found` and `param`
//!   null, as OpenAI answers for a model it does not serve;
//! - a prompt containing `[[block]]` (or `[[block-output]]`) is the safety system's refusal at
//!   the input (or output) stage: a 400 `image_generation_user_error` with code
//!   `moderation_blocked` and `moderation_details{moderation_stage, categories:["violence"]}`.
//!
//! `output_compression` sets the JPEG quality (at least 1); PNG and lossless WebP ignore it.
//! Streaming (`stream`, `partial_images`) is not simulated: those fields are ignored.

use super::{OpenAiOp, error, invalid_request, receive};
use crate::Simulator;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::codecs::webp::WebPEncoder;
use image::{ImageResult, Rgba, RgbaImage};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// The models that make images.
const MODELS: [&str; 5] = [
    "gpt-image-1",
    "gpt-image-1-mini",
    "gpt-image-1.5",
    "gpt-image-2",
    "chatgpt-image-latest",
];

/// Image models OpenAI retired (on 2026-05-12): answered like a model that does not exist.
const RETIRED: [&str; 2] = ["dall-e-2", "dall-e-3"];

/// The longest prompt, in characters.
const MAX_PROMPT: usize = 32_000;

const SIZES: [&str; 4] = ["1024x1024", "1536x1024", "1024x1536", "auto"];
const QUALITIES: [&str; 4] = ["low", "medium", "high", "auto"];
const BACKGROUNDS: [&str; 3] = ["transparent", "opaque", "auto"];
const FORMATS: [&str; 3] = ["png", "jpeg", "webp"];
const MODERATIONS: [&str; 2] = ["auto", "low"];

/// A checked request: what to draw and how to encode it, with `auto` resolved.
struct Order {
    prompt: String,
    n: u32,
    /// `1024x1024`, `1536x1024` or `1024x1536`.
    size: &'static str,
    /// `low`, `medium` or `high`.
    quality: &'static str,
    transparent: bool,
    /// `png`, `jpeg` or `webp`.
    format: &'static str,
    /// 0–100; the JPEG quality.
    compression: u8,
}

pub(super) async fn generations(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request = match receive(&sim, OpenAiOp::Image, &headers, &body).await {
        Ok(request) => request,
        Err(answer) => return answer,
    };
    match read(&request) {
        Ok(order) => answer(order).await,
        Err(refused) => refused,
    }
}

/// The request's parameters, checked as OpenAI checks them: the model first, then each field,
/// then the combinations, and last the safety system's look at the prompt.
fn read(request: &Map<String, Value>) -> Result<Order, Response> {
    model(request)?;
    let prompt = prompt(request)?;
    let n = count(request)?;
    let size = choice(request, "size", &SIZES, "auto")?;
    let quality = choice(request, "quality", &QUALITIES, "auto")?;
    let background = choice(request, "background", &BACKGROUNDS, "auto")?;
    let format = choice(request, "output_format", &FORMATS, "png")?;
    let compression = compression(request)?;
    choice(request, "moderation", &MODERATIONS, "auto")?;
    let transparent = background == "transparent";
    if transparent && format == "jpeg" {
        return Err(invalid_request(
            "Transparent background is not supported for output_format 'jpeg'. Use 'png' or \
             'webp'.",
            Some("background"),
            Some("invalid_value"),
        ));
    }
    if transparent && request.get("model").and_then(Value::as_str) == Some("gpt-image-2") {
        return Err(invalid_request(
            "Transparent background is not supported for the model 'gpt-image-2'.",
            Some("background"),
            Some("invalid_value"),
        ));
    }
    if prompt.contains("[[block]]") {
        return Err(moderation_blocked("input"));
    }
    if prompt.contains("[[block-output]]") {
        return Err(moderation_blocked("output"));
    }
    Ok(Order {
        prompt,
        n,
        size: if size == "auto" { "1024x1024" } else { size },
        quality: if quality == "auto" { "medium" } else { quality },
        transparent,
        format,
        compression,
    })
}

/// A model that makes images; 404 `model_not_found` for any other, the retired DALL-E models
/// with OpenAI's deprecation message.
fn model(request: &Map<String, Value>) -> Result<(), Response> {
    let model = match request.get("model") {
        None | Some(Value::Null) => {
            return Err(invalid_request(
                "Missing required parameter: 'model'.",
                Some("model"),
                Some("missing_required_parameter"),
            ));
        }
        Some(Value::String(model)) => model,
        Some(other) => return Err(invalid_type("model", "a string", other)),
    };
    if MODELS.contains(&model.as_str()) {
        return Ok(());
    }
    let message = if RETIRED.contains(&model.as_str()) {
        format!(
            "The model `{model}` has been deprecated, learn more here: \
             https://platform.openai.com/docs/deprecations"
        )
    } else {
        format!("The model `{model}` does not exist or you do not have access to it.")
    };
    Err(error(
        StatusCode::NOT_FOUND,
        &message,
        "invalid_request_error",
        None,
        Some("model_not_found"),
    ))
}

/// The prompt: a string of 1 to 32,000 characters.
fn prompt(request: &Map<String, Value>) -> Result<String, Response> {
    let prompt = match request.get("prompt") {
        None | Some(Value::Null) => {
            return Err(invalid_request(
                "Missing required parameter: 'prompt'.",
                Some("prompt"),
                Some("missing_required_parameter"),
            ));
        }
        Some(Value::String(prompt)) => prompt,
        Some(other) => return Err(invalid_type("prompt", "a string", other)),
    };
    let length = prompt.chars().count();
    if length == 0 {
        return Err(invalid_request(
            "Invalid 'prompt': empty string. Expected a string with minimum length 1, but got \
             an empty string instead.",
            Some("prompt"),
            Some("empty_string"),
        ));
    }
    if length > MAX_PROMPT {
        return Err(invalid_request(
            &format!(
                "Invalid 'prompt': string too long. Expected a string with maximum length \
                 {MAX_PROMPT}, but got a string with length {length} instead."
            ),
            Some("prompt"),
            Some("string_above_max_length"),
        ));
    }
    Ok(prompt.clone())
}

/// `n`: how many images, 1 to 10 (1 when absent).
fn count(request: &Map<String, Value>) -> Result<u32, Response> {
    let n = integer(request, "n", 1, 1, 10)?;
    Ok(u32::try_from(n).unwrap_or(1))
}

/// `output_compression`: 0 to 100 (100 when absent).
fn compression(request: &Map<String, Value>) -> Result<u8, Response> {
    let level = integer(request, "output_compression", 100, 0, 100)?;
    Ok(u8::try_from(level).unwrap_or(100))
}

/// The optional integer parameter `name`, between `min` and `max`; `default` when absent.
fn integer(
    request: &Map<String, Value>,
    name: &str,
    default: i64,
    min: i64,
    max: i64,
) -> Result<i64, Response> {
    let value = match request.get(name) {
        None | Some(Value::Null) => return Ok(default),
        Some(value) => value,
    };
    let Some(number) = value.as_i64() else {
        return Err(invalid_type(name, "an integer", value));
    };
    if number < min {
        return Err(invalid_request(
            &format!(
                "Invalid '{name}': integer below minimum value. Expected a value >= {min}, but \
                 got {number} instead."
            ),
            Some(name),
            Some("integer_below_min_value"),
        ));
    }
    if number > max {
        return Err(invalid_request(
            &format!(
                "Invalid '{name}': integer above maximum value. Expected a value <= {max}, but \
                 got {number} instead."
            ),
            Some(name),
            Some("integer_above_max_value"),
        ));
    }
    Ok(number)
}

/// The optional string parameter `name`, one of `allowed`; `default` when absent.
fn choice(
    request: &Map<String, Value>,
    name: &str,
    allowed: &[&'static str],
    default: &'static str,
) -> Result<&'static str, Response> {
    let value = match request.get(name) {
        None | Some(Value::Null) => return Ok(default),
        Some(Value::String(value)) => value,
        Some(other) => return Err(invalid_type(name, "a string", other)),
    };
    if let Some(known) = allowed.iter().find(|a| **a == value.as_str()) {
        return Ok(known);
    }
    let quoted: Vec<String> = allowed.iter().map(|a| format!("'{a}'")).collect();
    let listed = match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{}, and {last}", rest.join(", ")),
        _ => quoted.join(""),
    };
    Err(invalid_request(
        &format!("Invalid value: '{value}'. Supported values are: {listed}."),
        Some(name),
        Some("invalid_value"),
    ))
}

/// 400 `invalid_type`: `name` is not `expected`.
fn invalid_type(name: &str, expected: &str, got: &Value) -> Response {
    let got = match got {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a decimal",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    invalid_request(
        &format!("Invalid type for '{name}': expected {expected}, but got {got} instead."),
        Some(name),
        Some("invalid_type"),
    )
}

/// The GPT image models' safety refusal at `stage` (`input` or `output`): 400
/// `image_generation_user_error` / `moderation_blocked` with the moderation details.
fn moderation_blocked(stage: &str) -> Response {
    let body = json!({"error": {
        "message": "Your request was rejected by the safety system. If you believe this is an \
                    error, contact us at help.openai.com and include the request ID.",
        "type": "image_generation_user_error",
        "param": null,
        "code": "moderation_blocked",
        "moderation_details": {"moderation_stage": stage, "categories": ["violence"]},
    }});
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

/// Draws and encodes the images (away from the async workers: encoding is CPU work) and
/// answers with them; a 500 `server_error` if encoding fails.
async fn answer(order: Order) -> Response {
    let drawn = tokio::task::spawn_blocking(move || {
        let images: ImageResult<Vec<String>> = (0..order.n)
            .map(|index| encode(&draw(&order, index), &order))
            .collect();
        (order, images)
    })
    .await;
    let (order, data) = match drawn {
        Ok((order, Ok(images))) => (order, images),
        _ => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The server had an error while processing your request. Sorry about that!",
                "server_error",
                None,
                None,
            );
        }
    };
    let data: Vec<Value> = data.iter().map(|b64| json!({"b64_json": b64})).collect();
    Json(json!({
        "created": chrono::Utc::now().timestamp(),
        "background": if order.transparent { "transparent" } else { "opaque" },
        "output_format": order.format,
        "quality": order.quality,
        "size": order.size,
        "data": data,
        "usage": usage(&order),
    }))
    .into_response()
}

/// Width and height of a size such as `1536x1024`.
fn dimensions(size: &str) -> (u32, u32) {
    size.split_once('x')
        .and_then(|(w, h)| Some((w.parse().ok()?, h.parse().ok()?)))
        .unwrap_or((1024, 1024))
}

/// Picture `index` of the order: a background colour and three rectangles inside the middle
/// three quarters (so the border is always background), colours and places taken from
/// SHA-256 of the prompt and the index. The background is transparent when asked for.
fn draw(order: &Order, index: u32) -> RgbaImage {
    let mut hasher = Sha256::new();
    hasher.update(order.prompt.as_bytes());
    hasher.update(index.to_be_bytes());
    let hash = hasher.finalize();
    let (width, height) = dimensions(order.size);
    let alpha = if order.transparent { 0 } else { 255 };
    let mut picture =
        RgbaImage::from_pixel(width, height, Rgba([hash[0], hash[1], hash[2], alpha]));
    let (inner_w, inner_h) = (width * 3 / 4, height * 3 / 4);
    // A share of `span` from one byte of the hash.
    let part = |byte: u8, span: u32| u32::from(byte) * span / 255;
    for k in 0..3 {
        let colour = Rgba([hash[3 + 3 * k], hash[4 + 3 * k], hash[5 + 3 * k], 255]);
        let at = &hash[12 + 4 * k..16 + 4 * k];
        let x0 = width / 8 + part(at[0], inner_w / 2);
        let y0 = height / 8 + part(at[1], inner_h / 2);
        let x1 = x0 + inner_w / 4 + part(at[2], inner_w / 4);
        let y1 = y0 + inner_h / 4 + part(at[3], inner_h / 4);
        for y in y0..y1 {
            for x in x0..x1 {
                picture.put_pixel(x, y, colour);
            }
        }
    }
    picture
}

/// The picture as a file of the order's format, in base64: RGBA when the background is
/// transparent (PNG, WebP), else RGB.
fn encode(picture: &RgbaImage, order: &Order) -> ImageResult<String> {
    let mut file = Vec::new();
    let rgb = || image::DynamicImage::ImageRgba8(picture.clone()).to_rgb8();
    match (order.format, order.transparent) {
        ("jpeg", _) => rgb().write_with_encoder(JpegEncoder::new_with_quality(
            &mut file,
            order.compression.max(1),
        ))?,
        ("webp", true) => picture.write_with_encoder(WebPEncoder::new_lossless(&mut file))?,
        ("webp", false) => rgb().write_with_encoder(WebPEncoder::new_lossless(&mut file))?,
        (_, true) => picture.write_with_encoder(png(&mut file))?,
        (_, false) => rgb().write_with_encoder(png(&mut file))?,
    }
    Ok(base64::engine::general_purpose::STANDARD.encode(file))
}

/// A fast PNG encoder: the rows of solid colour filter to zeros and compress well anyway.
fn png(file: &mut Vec<u8>) -> PngEncoder<&mut Vec<u8>> {
    PngEncoder::new_with_quality(file, CompressionType::Fast, FilterType::Sub)
}

/// The image models' usage: the prompt's tokens (a token per four characters, at least one)
/// as input, and per image a fixed count by quality and size (gpt-image-1's table) as output.
fn usage(order: &Order) -> Value {
    let input_tokens = (order.prompt.chars().count() / 4).max(1) as u64;
    let per_image: u64 = match (order.quality, order.size) {
        ("low", "1024x1024") => 272,
        ("low", "1536x1024") => 408,
        ("low", _) => 400,
        ("high", "1024x1024") => 4160,
        ("high", "1536x1024") => 6240,
        ("high", _) => 6208,
        (_, "1024x1024") => 1056,
        (_, "1536x1024") => 1584,
        _ => 1568,
    };
    let output_tokens = per_image * u64::from(order.n);
    json!({
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens,
        "input_tokens_details": {"text_tokens": input_tokens, "image_tokens": 0},
    })
}

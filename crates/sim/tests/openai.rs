//! The simulated OpenAI API answers in the real API's shapes, from what it was sent: plain
//! text, JSON that fits the requested schema, tool calls and their follow-up, a stream of
//! chunks equal to the plain answer, moderation, and the errors an adapter must handle.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use reqwest::StatusCode;
use serde_json::{Value, json};
use sim::Fault;
use sim::openai::OpenAiOp;
use std::time::Duration;

const KEY: &str = "sk-test-0123";

use common::OpenAiApi as OpenAi;

impl OpenAi {
    /// A call to `path` with `body` and `key`: the status, the headers and the raw answer.
    async fn call(
        &self,
        path: &str,
        key: &str,
        body: &Value,
    ) -> (StatusCode, reqwest::header::HeaderMap, String) {
        self.post(path, key, body).await
    }

    /// A chat completion with the test key: the status and the JSON answer.
    async fn chat(&self, body: &Value) -> (StatusCode, Value) {
        let (status, _, text) = self.call("/chat/completions", KEY, body).await;
        (status, serde_json::from_str(&text).unwrap())
    }
}

fn ask(prompt: &str) -> Value {
    json!({
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "You write social media posts."},
            {"role": "user", "content": prompt},
        ],
    })
}

#[tokio::test]
async fn a_plain_answer_echoes_the_prompt() {
    let openai = OpenAi::start().await;
    let (status, body) = openai
        .chat(&ask("Announce our spring bakery opening"))
        .await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["object"], "chat.completion");
    assert!(body["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert_eq!(body["model"], "gpt-4o-mini");
    let choice = &body["choices"][0];
    assert_eq!(choice["finish_reason"], "stop");
    assert_eq!(choice["message"]["role"], "assistant");
    assert_eq!(choice["message"]["refusal"], Value::Null);
    assert_eq!(
        choice["message"]["content"],
        "Suggested post: Announce our spring bakery opening"
    );
    let usage = &body["usage"];
    assert!(usage["prompt_tokens"].as_u64().unwrap() > 0);
    assert_eq!(
        usage["total_tokens"].as_u64().unwrap(),
        usage["prompt_tokens"].as_u64().unwrap() + usage["completion_tokens"].as_u64().unwrap()
    );
    assert_eq!(openai.sim.openai_calls(), 1);
    let kept = openai.sim.openai_requests();
    assert_eq!(
        kept[0]["messages"][1]["content"],
        "Announce our spring bakery opening"
    );
}

#[tokio::test]
async fn a_json_schema_answer_has_the_required_properties() {
    let openai = OpenAi::start().await;
    let mut request = ask("Launch of the autumn collection");
    request["response_format"] = json!({
        "type": "json_schema",
        "json_schema": {
            "name": "post",
            "strict": true,
            "schema": {
                "type": "object",
                "properties": {
                    "text": {"type": "string"},
                    "hashtags": {"type": "array", "items": {"type": "string"}},
                    "score": {"type": "integer"},
                    "urgent": {"type": "boolean"},
                    "meta": {
                        "type": "object",
                        "properties": {"tone": {"type": "string"}},
                        "required": ["tone"],
                        "additionalProperties": false,
                    },
                },
                "required": ["text", "hashtags", "score", "urgent", "meta"],
                "additionalProperties": false,
            },
        },
    });
    let (status, body) = openai.chat(&request).await;

    assert_eq!(status, StatusCode::OK);
    let content: Value =
        serde_json::from_str(body["choices"][0]["message"]["content"].as_str().unwrap()).unwrap();
    assert_eq!(
        content["text"],
        "Suggested post: Launch of the autumn collection"
    );
    assert_eq!(
        content["hashtags"],
        json!(["#socializioz", "#launch", "#autumn"])
    );
    assert!(content["score"].is_i64());
    assert_eq!(content["urgent"], false);
    assert!(content["meta"]["tone"].is_string());

    // A malformed answer breaks the JSON once.
    openai.sim.openai_malformed_next();
    let (_, broken) = openai.chat(&request).await;
    assert_eq!(broken["choices"][0]["message"]["content"], "{not json");
    let (_, again) = openai.chat(&request).await;
    let content = again["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(serde_json::from_str::<Value>(content).is_ok());
}

fn with_tools(mut request: Value) -> Value {
    request["tools"] = json!([{
        "type": "function",
        "function": {
            "name": "list_posts",
            "description": "Lists the workspace's posts.",
            "parameters": {
                "type": "object",
                "properties": {
                    "query": {"type": "string"},
                    "limit": {"type": "integer"},
                    "drafts": {"type": "boolean"},
                    "unused": {"type": "string"},
                },
                "required": ["query", "limit", "drafts"],
            },
        },
    }]);
    request
}

#[tokio::test]
async fn a_named_tool_is_called_and_its_result_is_acknowledged() {
    let openai = OpenAi::start().await;

    let (_, plain) = openai.chat(&with_tools(ask("Write about cats"))).await;
    assert_eq!(plain["choices"][0]["finish_reason"], "stop");

    let request = with_tools(ask("please list_posts about cats"));
    let (status, body) = openai.chat(&request).await;
    assert_eq!(status, StatusCode::OK);
    let choice = &body["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(choice["message"]["content"], Value::Null);
    let call = &choice["message"]["tool_calls"][0];
    assert!(call["id"].as_str().unwrap().starts_with("call_"));
    assert_eq!(call["type"], "function");
    assert_eq!(call["function"]["name"], "list_posts");
    let arguments: Value =
        serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(
        arguments,
        json!({"query": "please list_posts about cats", "limit": 1, "drafts": false})
    );

    let mut follow_up = request.clone();
    let messages = follow_up["messages"].as_array_mut().unwrap();
    messages.push(choice["message"].clone());
    messages.push(json!({"role": "tool", "tool_call_id": call["id"], "content": "3 posts found"}));
    let (_, done) = openai.chat(&follow_up).await;
    assert_eq!(done["choices"][0]["finish_reason"], "stop");
    assert_eq!(
        done["choices"][0]["message"]["content"],
        "Done: 3 posts found"
    );
}

/// The `data:` payloads of a server-sent event stream, checking its framing.
fn sse_data(stream: &str) -> Vec<String> {
    assert!(stream.ends_with("data: [DONE]\n\n"), "{stream}");
    stream
        .split("\n\n")
        .filter(|event| !event.is_empty())
        .map(|event| event.strip_prefix("data: ").unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_stream_adds_up_to_the_plain_answer() {
    let openai = OpenAi::start().await;
    let prompt = "Our  new shop opens on Monday\nwith coffee";
    let (_, plain) = openai.chat(&ask(prompt)).await;

    let mut request = ask(prompt);
    request["stream"] = json!(true);
    let (status, headers, stream) = openai.call("/chat/completions", KEY, &request).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let events = sse_data(&stream);
    assert_eq!(events.last().unwrap(), "[DONE]");
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e).unwrap())
        .collect();
    assert!(
        chunks
            .iter()
            .all(|c| c["object"] == "chat.completion.chunk")
    );
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": ""})
    );
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"][0]["delta"], json!({}));
    assert_eq!(last["choices"][0]["finish_reason"], "stop");
    assert!(chunks.len() > 4, "one chunk per word");
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, plain["choices"][0]["message"]["content"]);

    // A tool call streams its name, then its arguments in pieces.
    let mut request = with_tools(ask("please list_posts"));
    request["stream"] = json!(true);
    let (_, _, stream) = openai.call("/chat/completions", KEY, &request).await;
    let events = sse_data(&stream);
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e).unwrap())
        .collect();
    let first = &chunks[0]["choices"][0]["delta"]["tool_calls"][0];
    assert_eq!(first["function"]["name"], "list_posts");
    assert_eq!(first["function"]["arguments"], "");
    let arguments: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"].as_str())
        .collect();
    let arguments: Value = serde_json::from_str(&arguments).unwrap();
    assert_eq!(arguments["limit"], 1);
    assert_eq!(
        chunks.last().unwrap()["choices"][0]["finish_reason"],
        "tool_calls"
    );
}

#[tokio::test]
async fn markers_ask_for_a_long_answer_and_a_refusal() {
    let openai = OpenAi::start().await;
    let (_, long) = openai.chat(&ask("Tell the story [[too-long]]")).await;
    let text = long["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(text.chars().count() > 5_000);

    let mut shorter = ask("Tell the story [[too-long]]");
    let messages = shorter["messages"].as_array_mut().unwrap();
    messages.push(json!({"role": "assistant", "content": text}));
    messages.push(json!({"role": "user", "content": "Make it shorter, please."}));
    let (_, short) = openai.chat(&shorter).await;
    let text = short["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(text.chars().count() < 300, "{text}");

    let (_, refused) = openai.chat(&ask("Something bad [[refuse]]")).await;
    let message = &refused["choices"][0]["message"];
    assert_eq!(message["content"], Value::Null);
    assert_eq!(message["refusal"], "I can't help with that.");
}

#[tokio::test]
async fn moderation_flags_the_marked_text() {
    let openai = OpenAi::start().await;
    let (status, _, body) = openai
        .call(
            "/moderations",
            KEY,
            &json!({"model": "omni-moderation-latest", "input": ["a nice day", "I will [[flag]] you"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert!(body["id"].as_str().unwrap().starts_with("modr-"));
    let results = body["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["flagged"], false);
    assert_eq!(results[0]["categories"].as_object().unwrap().len(), 13);
    assert_eq!(results[1]["flagged"], true);
    assert_eq!(results[1]["categories"]["violence"], true);
    assert_eq!(results[1]["categories"]["hate"], false);
    assert_eq!(results[1]["category_scores"]["violence"], 0.97);
    assert_eq!(
        results[1]["category_applied_input_types"]["self-harm"],
        json!(["text"])
    );

    let (_, _, body) = openai
        .call(
            "/moderations",
            KEY,
            &json!({"input": [{"type": "text", "text": "fine"}]}),
        )
        .await;
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["results"].as_array().unwrap().len(), 1);
    assert_eq!(body["results"][0]["flagged"], false);
}

#[tokio::test]
async fn a_bad_key_is_refused() {
    let openai = OpenAi::start().await;
    let (status, _, body) = openai
        .call("/chat/completions", "not-a-key", &ask("hello"))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        body,
        json!({"error": {
            "message": "Incorrect API key provided.",
            "type": "invalid_request_error",
            "param": null,
            "code": "invalid_api_key",
        }})
    );
}

#[tokio::test]
async fn faults_answer_429_and_500_once() {
    let openai = OpenAi::start().await;
    openai.sim.openai_fail_next(
        OpenAiOp::Chat,
        Fault::RateLimited {
            retry_after: Duration::from_secs(20),
        },
    );
    openai
        .sim
        .openai_fail_next(OpenAiOp::Moderation, Fault::ServerError);

    let (status, headers, body) = openai.call("/chat/completions", KEY, &ask("hi")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(headers["retry-after"], "20");
    assert_eq!(headers["retry-after-ms"], "20000");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"]["code"], "rate_limit_exceeded");
    assert_eq!(body["error"]["type"], "requests");

    let (status, _) = openai.chat(&ask("hi")).await;
    assert_eq!(status, StatusCode::OK);

    let (status, _, body) = openai
        .call("/moderations", KEY, &json!({"input": "hi"}))
        .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"]["type"], "server_error");
    assert_eq!(openai.sim.openai_calls(), 3);
}

#[tokio::test]
async fn bad_requests_are_refused() {
    let openai = OpenAi::start().await;
    let (status, body) = openai.chat(&ask(&"word ".repeat(80_001))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "context_length_exceeded");
    assert_eq!(body["error"]["param"], "messages");
    assert_eq!(body["error"]["type"], "invalid_request_error");

    let (status, body) = openai
        .chat(&json!({"messages": [{"role": "user", "content": "hi"}]}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["type"], "invalid_request_error");

    let (status, body) = openai.chat(&json!({"model": "gpt-4o-mini"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["param"], "messages");
}

#[tokio::test]
async fn tool_results_must_answer_calls_as_openai_requires() {
    let ai = OpenAi::start().await;
    let call = json!({"role": "assistant", "content": null, "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "list_posts", "arguments": "{}"}}
    ]});
    // A result without its call, and a call left without its result, are refused.
    for messages in [
        json!([{"role": "user", "content": "hi"}, {"role": "tool", "tool_call_id": "call_9", "content": "{}"}]),
        json!([{"role": "user", "content": "hi"}, call.clone(), {"role": "user", "content": "again"}]),
    ] {
        let (status, body) = ai.chat(&json!({"model": "m", "messages": messages})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["error"]["type"], "invalid_request_error");
    }
    // Answered, the conversation goes on.
    let (status, body) = ai
        .chat(&json!({"model": "m", "messages": [
            {"role": "user", "content": "hi"},
            call,
            {"role": "tool", "tool_call_id": "call_1", "content": "{\"posts\": []}"},
        ]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .starts_with("Done: ")
    );
}

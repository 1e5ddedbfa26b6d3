//! The OpenAI adapter against the simulator (structured output, tools, streaming, moderation,
//! faults) and against wiremock (what goes on the wire, and answers the simulator does not give).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use providers::ai::openai::{OpenAi, OpenAiConfig};
use providers::ai::{AiError, Chunk, Message, Moderator, Output, Request, TextGenerator, Tool};
use serde_json::json;
use std::time::Duration;
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn adapter(base: &str, key: Option<&str>) -> OpenAi {
    OpenAi::new(OpenAiConfig {
        base_url: base.to_owned(),
        api_key: key.map(|k| k.to_owned().into()),
        model: "gpt-4.1-mini".to_owned(),
        moderation_model: Some("omni-moderation-latest".to_owned()),
        name: "OpenAI".to_owned(),
        timeout: Duration::from_secs(30),
        legacy_max_tokens: false,
    })
}

fn caption_schema() -> Output {
    Output::Json {
        name: "caption".into(),
        schema: json!({
            "type": "object",
            "properties": {
                "text": {"type": "string"},
                "hashtags": {"type": "array", "items": {"type": "string"}},
            },
            "required": ["text", "hashtags"],
            "additionalProperties": false,
        }),
    }
}

#[tokio::test]
async fn answers_come_as_text_as_json_and_as_tool_calls() {
    let (sim, running) = common::simulator().await;
    let ai = adapter(&format!("{}/openai/v1", running.base_url), Some("sk-test"));

    let plain = ai
        .complete(&Request::new(vec![
            Message::system("You write social media posts."),
            Message::user("Our bakery opens a second shop on Friday"),
        ]))
        .await
        .unwrap();
    assert!(plain.text.unwrap().contains("second shop"));
    assert!(plain.usage.prompt_tokens > 0);

    let mut request = Request::new(vec![Message::user("Spring sale on running shoes")]);
    request.output = caption_schema();
    let structured = ai.complete(&request).await.unwrap();
    let json = structured.json.expect("a JSON answer");
    assert!(json["text"].is_string());
    assert!(!json["hashtags"].as_array().unwrap().is_empty());

    let mut request = Request::new(vec![Message::user("please list_posts for next week")]);
    request.tools = vec![Tool {
        name: "list_posts".into(),
        description: "Lists the workspace's posts in a date range".into(),
        parameters: json!({
            "type": "object",
            "properties": {"from": {"type": "string"}, "days": {"type": "integer"}},
            "required": ["from", "days"],
        }),
    }];
    let called = ai.complete(&request).await.unwrap();
    assert_eq!(called.tool_calls.len(), 1);
    let call = &called.tool_calls[0];
    assert_eq!(call.name, "list_posts");
    let args: serde_json::Value = serde_json::from_str(&call.arguments).unwrap();
    assert!(args["days"].is_i64());

    // The tool's result goes back; the model answers in words.
    request.messages.push(Message {
        role: providers::ai::Role::Assistant,
        content: None,
        tool_calls: called.tool_calls.clone(),
        tool_call_id: None,
    });
    request
        .messages
        .push(Message::tool(call.id.clone(), "2 posts: Monday, Thursday"));
    let answered = ai.complete(&request).await.unwrap();
    assert!(answered.text.unwrap().contains("2 posts"));
    assert_eq!(sim.openai_calls(), 4);
}

#[tokio::test]
async fn a_streamed_answer_adds_up_to_the_whole_one() {
    let (_sim, running) = common::simulator().await;
    let ai = adapter(&format!("{}/openai/v1", running.base_url), Some("sk-test"));
    let request = Request::new(vec![Message::user("Write about our new autumn menu")]);
    let whole = ai.complete(&request).await.unwrap().text.unwrap();
    let mut stream = ai.stream(&request).await.unwrap();
    let mut pieces = String::new();
    let mut count = 0;
    let done = loop {
        match stream
            .recv()
            .await
            .expect("the stream ends with the answer")
            .unwrap()
        {
            Chunk::Text(piece) => {
                pieces.push_str(&piece);
                count += 1;
            }
            Chunk::Done(completion) => break completion,
        }
    };
    assert!(count > 1, "it came in pieces");
    assert_eq!(pieces.trim_end(), whole.trim_end());
    assert_eq!(done.text.unwrap().trim_end(), whole.trim_end());
}

#[tokio::test]
async fn refusals_moderation_limits_and_keys_are_told_apart() {
    let (sim, running) = common::simulator().await;
    let base = format!("{}/openai/v1", running.base_url);
    let ai = adapter(&base, Some("sk-test"));

    let refused = ai
        .complete(&Request::new(vec![Message::user("[[refuse]] something")]))
        .await
        .unwrap_err();
    assert!(matches!(refused, AiError::Refused { .. }), "{refused:?}");

    let verdicts = ai
        .moderate(&[
            "A calm post".to_owned(),
            "[[flag]] a violent one".to_owned(),
        ])
        .await
        .unwrap();
    assert!(!verdicts[0].flagged);
    assert!(verdicts[1].flagged && verdicts[1].categories.contains(&"violence".to_owned()));

    sim.openai_fail_next(
        sim::openai::OpenAiOp::Chat,
        sim::Fault::RateLimited {
            retry_after: Duration::from_secs(7),
        },
    );
    let limited = ai
        .complete(&Request::new(vec![Message::user("hello")]))
        .await
        .unwrap_err();
    assert_eq!(
        limited,
        AiError::RateLimited {
            retry_after: Duration::from_secs(7)
        }
    );

    let long = "word ".repeat(100_000);
    let too_long = ai
        .complete(&Request::new(vec![Message::user(long)]))
        .await
        .unwrap_err();
    assert_eq!(too_long, AiError::ContextTooLong);

    sim.openai_malformed_next();
    let mut request = Request::new(vec![Message::user("Spring sale")]);
    request.output = caption_schema();
    let malformed = ai.complete(&request).await.unwrap_err();
    assert!(matches!(malformed, AiError::Invalid(_)), "{malformed:?}");

    let bad_key = adapter(&base, Some("not-a-key"))
        .complete(&Request::new(vec![Message::user("hello")]))
        .await
        .unwrap_err();
    assert!(matches!(bad_key, AiError::Credentials(_)), "{bad_key:?}");
}

#[tokio::test]
async fn the_schema_and_the_key_go_on_the_wire_and_a_quota_is_not_a_wait() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(header("authorization", "Bearer sk-live"))
        .and(body_partial_json(json!({
            "model": "gpt-4.1-mini",
            "max_completion_tokens": 300,
            "response_format": {"type": "json_schema", "json_schema": {"name": "caption", "strict": true}},
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4.1-mini-2025-04-14",
            "choices": [{"index": 0, "finish_reason": "stop",
                "message": {"role": "assistant", "content": "{\"text\": \"Hi\", \"hashtags\": []}", "refusal": null}}],
            "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let ai = adapter(&format!("{}/v1", server.uri()), Some("sk-live"));
    let mut request = Request::new(vec![Message::user("Hi")]);
    request.output = caption_schema();
    request.max_tokens = Some(300);
    let answer = ai.complete(&request).await.unwrap();
    assert_eq!(answer.json.unwrap()["text"], "Hi");
    assert_eq!(answer.model, "gpt-4.1-mini-2025-04-14");
    assert_eq!(answer.usage.completion_tokens, 5);

    let quota = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after-ms", "1500")
                .set_body_json(json!({"error": {"message": "You exceeded your current quota", "type": "insufficient_quota", "param": null, "code": "insufficient_quota"}})),
        )
        .mount(&quota)
        .await;
    let err = adapter(&format!("{}/v1", quota.uri()), Some("sk-live"))
        .complete(&Request::new(vec![Message::user("Hi")]))
        .await
        .unwrap_err();
    assert!(matches!(err, AiError::Unavailable(_)), "{err:?}");
}

#[tokio::test]
async fn a_local_server_without_a_key_or_moderation_works() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "model": "llama3.2",
            "choices": [{"index": 0, "finish_reason": "stop",
                "message": {"role": "assistant", "content": "Hallo"}}]
        })))
        .mount(&server)
        .await;
    let ai = OpenAi::new(OpenAiConfig {
        base_url: format!("{}/v1", server.uri()),
        api_key: None,
        model: "llama3.2".to_owned(),
        moderation_model: None,
        name: "Ollama".to_owned(),
        timeout: Duration::from_secs(30),
        legacy_max_tokens: true,
    });
    let mut request = Request::new(vec![Message::user("Hi")]);
    request.max_tokens = Some(200);
    let answer = ai.complete(&request).await.unwrap();
    assert_eq!(answer.text.as_deref(), Some("Hallo"));
    let requests = server.received_requests().await.unwrap();
    assert!(requests[0].headers.get("authorization").is_none());
    let sent: serde_json::Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(
        sent["max_tokens"], 200,
        "a local server gets the older field"
    );
    // No moderation endpoint: nothing is sent, nothing is flagged.
    let verdicts = ai.moderate(&["text".to_owned()]).await.unwrap();
    assert!(!verdicts[0].flagged);
    assert!(!ai.moderates());
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

/// A server that sends the start of a stream and then nothing more: the reader is told it
/// timed out instead of waiting for ever.
#[tokio::test]
async fn a_stream_that_stalls_ends_in_a_timeout() {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = vec![0u8; 4096];
        let _ = tokio::io::AsyncReadExt::read(&mut socket, &mut request).await;
        let piece = "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n";
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{piece}\r\n",
            piece.len()
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        // Never another byte; the connection stays open until the test ends.
        std::future::pending::<()>().await;
    });
    let ai = OpenAi::new(OpenAiConfig {
        base_url: format!("http://{address}/v1"),
        api_key: None,
        model: "m".to_owned(),
        moderation_model: None,
        name: "Stalling server".to_owned(),
        // Long enough that a busy machine still gets the first piece to the reader in time;
        // the stall after it is for ever, so the outcome does not depend on speed.
        timeout: Duration::from_secs(3),
        legacy_max_tokens: true,
    });
    let mut stream = ai
        .stream(&Request::new(vec![Message::user("Hi")]))
        .await
        .unwrap();
    assert_eq!(
        stream.recv().await.unwrap().unwrap(),
        Chunk::Text("Hel".into())
    );
    assert_eq!(stream.recv().await.unwrap(), Err(AiError::Timeout));
    server.abort();
}

//! The direct messages of an Instagram professional account, with the account's token
//! (Instagram Login: Messenger-style calls on `graph.instagram.com`).
//!
//! A read is `GET /me/conversations?platform=instagram`, asking in the same call for each
//! conversation's participants, its last activity and its latest messages. Instagram gives the
//! most recently active conversations first; the read follows `paging.next` for at most
//! [`MOST_PAGES`] pages, and only on the configured Graph host (the token goes with it). With
//! `since`, it stops at the first conversation last active before then: everything after it is
//! older still.
//!
//! The person of a conversation is the participant who is not the account: the account is the
//! participant with its Instagram user id (`AccountRef::external_id`), or, when no participant
//! has that id, the one with its username. Its messages are the account's by the same rule.
//!
//! A reply is `POST /me/messages {"recipient":{"id"},"message":{"text"}}`, accepted only
//! within 24 hours of the person's last message. Outside that window Instagram answers code 10
//! with subcode 2534022, which is [`MessageError::WindowClosed`]: the same code without the
//! subcode is a missing permission.
//!
//! Everything needs `instagram_business_manage_messages`, which publishing does not ask for.
//! No failure carries the token or anyone's words: answers that cannot be read are described by
//! where they stopped making sense, never by what they held.

use super::super::graph::{CallError, call_text, graph_time};
use super::super::instagram::Instagram;
use super::super::{AccountRef, TIMED_OUT, with_query, without_url};
use super::{Conversation, Inbox, Message, MessageError, Messages};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// What reading and answering direct messages needs (Instagram Login's name for it).
const MESSAGE_SCOPE: &str = "instagram_business_manage_messages";
/// Each conversation's fields, with its latest 20 messages.
const FIELDS: &str =
    "participants,updated_time,messages.limit(20){id,from,to,message,created_time}";
/// The most pages of conversations one read follows.
const MOST_PAGES: u32 = 20;
/// How long after the person's last message Instagram takes a reply.
const REPLY_WINDOW_HOURS: i64 = 24;
/// Instagram's "This message is sent outside of allowed window" (with code 10).
const OUTSIDE_WINDOW_SUBCODE: i64 = 2_534_022;

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    data: Vec<Node>,
    #[serde(default)]
    paging: Option<Paging>,
}

#[derive(Deserialize)]
struct Paging {
    #[serde(default)]
    next: Option<String>,
}

/// One conversation as Instagram lists it.
#[derive(Deserialize)]
struct Node {
    id: String,
    #[serde(default)]
    participants: Option<Participants>,
    #[serde(default)]
    updated_time: Option<String>,
    #[serde(default)]
    messages: Option<Items>,
}

#[derive(Deserialize)]
struct Participants {
    #[serde(default)]
    data: Vec<Person>,
}

/// A participant, or a message's sender.
#[derive(Deserialize)]
struct Person {
    #[serde(default)]
    id: String,
    #[serde(default)]
    username: String,
}

#[derive(Deserialize)]
struct Items {
    #[serde(default)]
    data: Vec<Item>,
}

/// One message; `message` is empty for one that carries only an attachment.
#[derive(Deserialize)]
struct Item {
    id: String,
    #[serde(default)]
    from: Option<Person>,
    #[serde(default)]
    message: String,
    #[serde(default)]
    created_time: Option<String>,
}

/// Instagram's answer to a message sent.
#[derive(Deserialize)]
struct Sent {
    message_id: String,
}

impl Instagram {
    fn messages_url(&self, path: &str) -> String {
        format!("{}/{}{path}", self.config.graph_base, self.config.version)
    }

    /// Whether `next` is on the configured Graph host (only those are followed with the token).
    fn on_graph_host(&self, next: &str) -> bool {
        next.strip_prefix(self.config.graph_base.as_str())
            .is_some_and(|rest| rest.starts_with('/'))
    }
}

/// Where a JSON answer stopped making sense, never what it held (a serde message quotes the
/// value, which may be someone's words).
fn unreadable(err: &serde_json::Error) -> String {
    format!(
        "{:?} error at line {}, column {}",
        err.classify(),
        err.line(),
        err.column()
    )
}

/// A Graph call's failure as the inbox's kinds; `write` says whether the call sends a message
/// (then a failure after the request went out may hide a message sent).
fn failure(err: CallError, write: bool) -> MessageError {
    match err {
        CallError::Send(e) => {
            let reason = if e.is_timeout() {
                format!("{TIMED_OUT} ({})", without_url(&e))
            } else {
                without_url(&e)
            };
            MessageError::Unavailable {
                reason,
                maybe_done: write && !e.is_connect(),
            }
        }
        CallError::Body(why) => MessageError::Unavailable {
            reason: format!("Instagram's answer could not be read: {why}"),
            maybe_done: write,
        },
        CallError::Graph(f) => {
            if f.error.error_subcode == Some(OUTSIDE_WINDOW_SUBCODE) {
                MessageError::WindowClosed
            } else if f.token_refused() {
                MessageError::TokenExpired
            } else if f.rate_limited() {
                MessageError::RateLimited {
                    retry_after: f.retry_after(),
                }
            } else if f.permission_missing() || f.status == StatusCode::FORBIDDEN {
                MessageError::MissingPermission(format!(
                    "Instagram needs the {MESSAGE_SCOPE} permission ({})",
                    f.reason()
                ))
            } else if f.transient() {
                MessageError::Unavailable {
                    reason: format!("Instagram answered {}: {}", f.status, f.reason()),
                    maybe_done: write,
                }
            } else {
                MessageError::Refused(f.reason())
            }
        }
    }
}

/// Sends a Graph call with the account's token and reads its JSON answer.
async fn graph<T: DeserializeOwned>(
    request: reqwest::RequestBuilder,
    token: &SecretString,
    write: bool,
) -> Result<T, MessageError> {
    let text = call_text(request.bearer_auth(token.expose_secret()))
        .await
        .map_err(|e| failure(e, write))?;
    serde_json::from_str(&text).map_err(|e| MessageError::Unavailable {
        reason: format!("Instagram's answer could not be read ({})", unreadable(&e)),
        maybe_done: write,
    })
}

/// `node` as a conversation of `account`: none when no participant is someone other than the
/// account, or when it has no time of its own and no dated message (nothing to show or answer).
/// Messages without a sender or a readable time are left out: they cannot be placed.
fn conversation(node: Node, account: &AccountRef) -> Option<Conversation> {
    let participants = node.participants.map(|p| p.data).unwrap_or_default();
    let by_id = participants.iter().any(|p| p.id == account.external_id);
    let is_account = |p: &Person| {
        if by_id {
            p.id == account.external_id
        } else {
            p.username.eq_ignore_ascii_case(&account.username)
        }
    };
    // Exactly the account and one other person: otherwise who is who cannot be told (a
    // username changed at Instagram since connecting), and a reply could go to the wrong one.
    let (ours, others): (Vec<&Person>, Vec<&Person>) =
        participants.iter().partition(|p| is_account(p));
    let [_] = ours.as_slice() else {
        return None;
    };
    let [person] = others.as_slice() else {
        return None;
    };
    let mut messages: Vec<Message> = node
        .messages
        .map(|m| m.data)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|item| {
            let from = item.from.as_ref()?;
            Some(Message {
                by_account: is_account(from),
                sent_at: item.created_time.as_deref().and_then(graph_time)?,
                id: item.id,
                text: item.message,
            })
        })
        .collect();
    // Instagram lists the newest first, and its times have whole seconds only: reversed, then
    // sorted stably, messages of the same second keep Instagram's order.
    messages.reverse();
    messages.sort_by_key(|m| m.sent_at);
    let updated_at = node
        .updated_time
        .as_deref()
        .and_then(graph_time)
        .or_else(|| messages.last().map(|m| m.sent_at))?;
    Some(Conversation {
        id: node.id,
        person_id: person.id.clone(),
        person_name: person.username.clone(),
        updated_at,
        messages,
    })
}

#[async_trait]
impl Messages for Instagram {
    fn message_scopes(&self) -> &'static [&'static str] {
        &[MESSAGE_SCOPE]
    }

    fn reply_window(&self) -> chrono::Duration {
        chrono::Duration::hours(REPLY_WINDOW_HOURS)
    }

    async fn conversations(
        &self,
        account: &AccountRef,
        token: &SecretString,
        since: Option<DateTime<Utc>>,
    ) -> Result<Inbox, MessageError> {
        let mut inbox = Inbox::default();
        let mut url = Some(with_query(
            &self.messages_url("/me/conversations"),
            &[("platform", "instagram"), ("fields", FIELDS)],
        ));
        while let Some(next) = url.take() {
            if inbox.calls >= MOST_PAGES {
                break;
            }
            inbox.calls += 1;
            let page: Page = graph(self.http.get(&next), token, false).await?;
            let mut reached_since = false;
            for node in page.data {
                let Some(conversation) = conversation(node, account) else {
                    continue;
                };
                if since.is_some_and(|since| conversation.updated_at < since) {
                    reached_since = true;
                    continue;
                }
                inbox.conversations.push(conversation);
            }
            url = page
                .paging
                .and_then(|p| p.next)
                .filter(|next| self.on_graph_host(next))
                .filter(|_| !reached_since);
        }
        // Stable: conversations active in the same second keep Instagram's order.
        inbox
            .conversations
            .sort_by_key(|c| std::cmp::Reverse(c.updated_at));
        Ok(inbox)
    }

    async fn send(
        &self,
        _account: &AccountRef,
        token: &SecretString,
        person_id: &str,
        text: &str,
    ) -> Result<String, MessageError> {
        let request = self
            .http
            .post(self.messages_url("/me/messages"))
            .json(&serde_json::json!({
                "recipient": {"id": person_id},
                "message": {"text": text},
            }));
        let sent: Sent = graph(request, token, true).await?;
        Ok(sent.message_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::social::instagram::InstagramConfig;
    use domain::Platform;
    use serde_json::json;
    use std::time::Duration;
    use wiremock::matchers::{body_json, header, method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    const TOKEN: &str = "ig-token-secret";

    fn adapter(server: &MockServer) -> Instagram {
        let mut config = InstagramConfig::simulated(&server.uri());
        config.graph_base = server.uri();
        Instagram::with_http_client(
            config,
            reqwest::Client::builder()
                .timeout(Duration::from_millis(500))
                .build()
                .unwrap(),
        )
    }

    fn account() -> AccountRef {
        AccountRef {
            id: 1,
            platform: Platform::Instagram,
            external_id: "178".into(),
            username: "acme".into(),
        }
    }

    fn token() -> SecretString {
        SecretString::from(TOKEN)
    }

    fn at(text: &str) -> DateTime<Utc> {
        graph_time(text).unwrap()
    }

    fn graph_error(
        status: u16,
        code: i64,
        subcode: Option<i64>,
        message: &str,
    ) -> ResponseTemplate {
        let mut error = json!({"message": message, "type": "OAuthException", "code": code});
        if let Some(subcode) = subcode {
            error["error_subcode"] = subcode.into();
        }
        ResponseTemplate::new(status).set_body_json(json!({ "error": error }))
    }

    /// A conversation between the account (`178`, `acme`) and `person` (`id`), last active at
    /// `updated`, with `messages` as `(id, from the account, text, time)`, newest first as
    /// Instagram gives them.
    fn conversation_json(
        id: &str,
        person: (&str, &str),
        updated: &str,
        messages: &[(&str, bool, &str, &str)],
    ) -> serde_json::Value {
        let account = json!({"id": "178", "username": "acme"});
        let other = json!({"id": person.0, "username": person.1});
        let data: Vec<serde_json::Value> = messages
            .iter()
            .map(|(id, mine, text, time)| {
                let (from, to) = if *mine {
                    (account.clone(), other.clone())
                } else {
                    (other.clone(), account.clone())
                };
                json!({"id": id, "from": from, "to": {"data": [to]}, "message": text,
                       "created_time": time})
            })
            .collect();
        json!({
            "id": id,
            "participants": {"data": [account, other]},
            "updated_time": updated,
            "messages": {"data": data},
        })
    }

    #[tokio::test]
    async fn a_read_follows_graphs_pages_and_tells_the_person_from_the_account() {
        let server = MockServer::start().await;
        let next = format!("{}/v25.0/me/conversations?after=QQ", server.uri());
        Mock::given(method("GET"))
            .and(path("/v25.0/me/conversations"))
            .and(query_param("platform", "instagram"))
            .and(query_param("fields", FIELDS))
            .and(header("authorization", "Bearer ig-token-secret"))
            .and(wiremock::matchers::query_param_is_missing("after"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "data": [conversation_json(
                    "c1",
                    ("900", "maya.chen"),
                    "2026-12-01T12:00:00+0000",
                    &[
                        ("m3", true, "Yes, worldwide.", "2026-12-01T12:00:00+0000"),
                        ("m2", false, "Do you ship abroad?", "2026-12-01T11:00:00+0000"),
                    ],
                )],
                "paging": {"next": next},
            })))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/v25.0/me/conversations"))
            .and(query_param("after", "QQ"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "data": [conversation_json(
                    "c2",
                    ("901", "sam"),
                    "2026-11-30T09:00:00+0000",
                    &[("m1", false, "Open on Sunday?", "2026-11-30T09:00:00+0000")],
                )],
                "paging": {"next": "https://elsewhere.example/v25.0/me/conversations"},
            })))
            .expect(1)
            .mount(&server)
            .await;
        let inbox = adapter(&server)
            .conversations(&account(), &token(), None)
            .await
            .unwrap();
        assert_eq!(inbox.calls, 2, "the page on another host is not followed");
        let ids: Vec<&str> = inbox.conversations.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["c1", "c2"]);
        let first = &inbox.conversations[0];
        assert_eq!(
            (first.person_id.as_str(), first.person_name.as_str()),
            ("900", "maya.chen")
        );
        assert_eq!(first.updated_at, at("2026-12-01T12:00:00+0000"));
        let messages: Vec<(&str, bool)> = first
            .messages
            .iter()
            .map(|m| (m.id.as_str(), m.by_account))
            .collect();
        assert_eq!(messages, [("m2", false), ("m3", true)], "oldest first");
        assert_eq!(first.messages[0].text, "Do you ship abroad?");
        assert_eq!(first.messages[0].sent_at, at("2026-12-01T11:00:00+0000"));
    }

    #[tokio::test]
    async fn a_read_since_a_moment_stops_at_the_first_older_conversation() {
        let server = MockServer::start().await;
        let next = format!("{}/v25.0/me/conversations?after=QQ", server.uri());
        Mock::given(method("GET"))
            .and(path("/v25.0/me/conversations"))
            .and(wiremock::matchers::query_param_is_missing("after"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "data": [
                    conversation_json("c1", ("900", "maya"), "2026-12-01T12:00:00+0000",
                        &[("m2", false, "Hi", "2026-12-01T12:00:00+0000")]),
                    conversation_json("c2", ("901", "sam"), "2026-11-28T12:00:00+0000",
                        &[("m1", false, "Hello", "2026-11-28T12:00:00+0000")]),
                ],
                "paging": {"next": next},
            })))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(query_param("after", "QQ"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": []})))
            .expect(0)
            .mount(&server)
            .await;
        let since = at("2026-12-01T00:00:00+0000");
        let inbox = adapter(&server)
            .conversations(&account(), &token(), Some(since))
            .await
            .unwrap();
        assert_eq!(inbox.calls, 1);
        let ids: Vec<&str> = inbox.conversations.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["c1"]);
    }

    #[tokio::test]
    async fn the_account_is_told_by_its_username_when_no_participant_has_its_id_and_ties_keep_order()
     {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/v25.0/me/conversations"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "data": [{
                    "id": "c1",
                    "participants": {"data": [
                        {"id": "555", "username": "ACME"},
                        {"id": "900", "username": "maya"},
                    ]},
                    "updated_time": "2026-12-01T12:00:00+0000",
                    "messages": {"data": [
                        {"id": "m2", "from": {"id": "555", "username": "ACME"},
                         "message": "Sure", "created_time": "2026-12-01T12:00:00+0000"},
                        {"id": "m1", "from": {"id": "900", "username": "maya"},
                         "message": "Hi", "created_time": "2026-12-01T12:00:00+0000"},
                    ]},
                }],
            })))
            .expect(1)
            .mount(&server)
            .await;
        let inbox = adapter(&server)
            .conversations(&account(), &token(), None)
            .await
            .unwrap();
        let conversation = &inbox.conversations[0];
        assert_eq!(conversation.person_id, "900");
        let mine: Vec<bool> = conversation.messages.iter().map(|m| m.by_account).collect();
        assert_eq!(
            mine,
            [false, true],
            "the same second keeps Instagram's order"
        );
    }

    #[tokio::test]
    async fn a_reply_is_sent_in_instagrams_shape() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v25.0/me/messages"))
            .and(header("authorization", "Bearer ig-token-secret"))
            .and(body_json(json!({
                "recipient": {"id": "900"},
                "message": {"text": "Yes, worldwide."},
            })))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "recipient_id": "900",
                "message_id": "aWdfZAG1fbWVzc2FnZA",
            })))
            .expect(1)
            .mount(&server)
            .await;
        let id = adapter(&server)
            .send(&account(), &token(), "900", "Yes, worldwide.")
            .await
            .unwrap();
        assert_eq!(id, "aWdfZAG1fbWVzc2FnZA");
        let ig = adapter(&server);
        assert_eq!(ig.message_scopes(), [MESSAGE_SCOPE]);
        assert_eq!(ig.reply_window(), chrono::Duration::hours(24));
    }

    /// What `send` gives when Instagram answers `answer`.
    async fn send_answered(answer: ResponseTemplate) -> Result<String, MessageError> {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v25.0/me/messages"))
            .respond_with(answer)
            .expect(1)
            .mount(&server)
            .await;
        adapter(&server)
            .send(&account(), &token(), "900", "Thanks")
            .await
    }

    #[tokio::test]
    async fn a_reply_outside_the_window_is_told_apart_from_a_missing_permission() {
        let closed = send_answered(graph_error(
            400,
            10,
            Some(OUTSIDE_WINDOW_SUBCODE),
            "(#10) This message is sent outside of allowed window.",
        ))
        .await;
        assert_eq!(closed, Err(MessageError::WindowClosed));

        for answer in [
            graph_error(400, 10, None, "(#10) Application does not have permission"),
            graph_error(400, 200, None, "(#200) Permissions error"),
            graph_error(
                400,
                230,
                None,
                "(#230) Requires instagram_business_manage_messages",
            ),
            ResponseTemplate::new(403),
        ] {
            let got = send_answered(answer).await;
            assert!(
                matches!(&got, Err(MessageError::MissingPermission(why)) if why.contains(MESSAGE_SCOPE)),
                "{got:?}"
            );
        }
    }

    #[tokio::test]
    async fn graphs_other_failures_map_to_the_inbox_kinds() {
        assert_eq!(
            send_answered(graph_error(400, 190, Some(463), "Session has expired")).await,
            Err(MessageError::TokenExpired)
        );
        assert_eq!(
            send_answered(ResponseTemplate::new(429).insert_header("retry-after", "30")).await,
            Err(MessageError::RateLimited {
                retry_after: Duration::from_secs(30)
            })
        );
        assert_eq!(
            send_answered(
                graph_error(400, 4, None, "(#4) Application request limit reached").insert_header(
                    "x-business-use-case-usage",
                    r#"{"178":[{"estimated_time_to_regain_access":3}]}"#,
                )
            )
            .await,
            Err(MessageError::RateLimited {
                retry_after: Duration::from_secs(180)
            })
        );
        assert_eq!(
            send_answered(graph_error(
                400,
                100,
                Some(2_018_001),
                "No matching user found"
            ))
            .await,
            Err(MessageError::Refused("No matching user found".into()))
        );
        let got = send_answered(graph_error(500, 2, None, "unexpected")).await;
        assert!(
            matches!(
                got,
                Err(MessageError::Unavailable {
                    maybe_done: true,
                    ..
                })
            ),
            "a send answered with a server error may have been delivered: {got:?}"
        );

        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(graph_error(503, 2, None, "unavailable"))
            .expect(1)
            .mount(&server)
            .await;
        let got = adapter(&server)
            .conversations(&account(), &token(), None)
            .await;
        assert!(
            matches!(
                got,
                Err(MessageError::Unavailable {
                    maybe_done: false,
                    ..
                })
            ),
            "{got:?}"
        );
    }

    #[tokio::test]
    async fn a_timeout_on_a_send_may_have_sent_and_names_neither_token_nor_text() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(2)))
            .expect(1)
            .mount(&server)
            .await;
        let got = adapter(&server)
            .send(&account(), &token(), "900", "My private words")
            .await;
        match got {
            Err(MessageError::Unavailable { reason, maybe_done }) => {
                assert!(maybe_done);
                assert!(reason.starts_with(TIMED_OUT), "{reason}");
                assert!(
                    !reason.contains(TOKEN) && !reason.contains("private"),
                    "{reason}"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn an_unreadable_answer_does_not_repeat_what_it_held() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_string(
                r#"{"data": [{"id": "c1", "participants": {"data": "Hi, my address is 5 Elm St"}}]}"#,
            ))
            .expect(1)
            .mount(&server)
            .await;
        let got = adapter(&server)
            .conversations(&account(), &token(), None)
            .await;
        match got {
            Err(MessageError::Unavailable { reason, maybe_done }) => {
                assert!(!maybe_done);
                assert!(reason.contains("line 1"), "{reason}");
                assert!(!reason.contains("Elm"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }
}

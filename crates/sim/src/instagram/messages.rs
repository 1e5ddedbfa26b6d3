//! Direct messages, as Instagram's Graph answers them to the account (Instagram Login,
//! Messenger-style).
//!
//! Both calls need the account's token with `instagram_business_manage_messages` (code 10
//! without it), on the token's own account (`me` or its user id).
//!
//! `GET /{ig-user}/conversations?platform=instagram` lists the account's conversations, most
//! recently active first, 20 a page (`limit`, `after`, `paging.next`). Each has `id`,
//! `participants` (`data` of `{username, id}`: the account, then the person), `updated_time`
//! and, asked as `messages.limit(n){…}`, its latest `n` messages (20 without a limit), newest
//! first, each with `id`, `from {username, id}`, `to {data: [{username, id}]}`, `message` and
//! `created_time`. Without `platform=instagram` the call is refused (code 100).
//!
//! `POST /{ig-user}/messages {"recipient":{"id"},"message":{"text"}}` (JSON, or the same two
//! parameters as JSON text in a form) sends a text to a person who wrote to the account, and
//! answers `{recipient_id, message_id}`. Instagram refuses a recipient who never wrote (code
//! 100, subcode 2018001), an empty text or one over 1,000 bytes (code 100), and, more than 24
//! hours after the person's last message, any text at all (code 10, subcode 2534022: "outside
//! of allowed window").
//!
//! Faults: `Op::Messages` on both calls.

use super::authorised;
use crate::comments::{cursor, offset_of};
use crate::graph::{Answer, GraphError, err, fields, graph_fault, require_scope};
use crate::messages::{self, SimMessage};
use crate::oauth::{Params, param};
use crate::{Grant, Op, Simulator};
use axum::Json;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use chrono::Duration;
use domain::Platform;
use serde_json::{Value, json};

const MESSAGE_SCOPE: &str = "instagram_business_manage_messages";
const DEFAULT_LIMIT: usize = 20;
const MOST_LIMIT: usize = 50;
/// Messages given with each conversation when `messages` is asked without a limit.
const DEFAULT_MESSAGES: usize = 20;
/// The longest text a message may carry, in bytes.
const MOST_TEXT_BYTES: usize = 1000;
/// How long after the person's last message the account may answer.
const REPLY_WINDOW_HOURS: i64 = 24;
/// Instagram's subcode for a message sent outside the reply window.
const OUTSIDE_WINDOW_SUBCODE: u32 = 2_534_022;
/// Instagram's subcode for a recipient it cannot find.
const NO_USER_SUBCODE: u32 = 2_018_001;

/// The account of the token, on its own node, with the messaging permission.
fn messenger(
    sim: &Simulator,
    node: &str,
    p: &Params,
    headers: &HeaderMap,
) -> Result<Grant, GraphError> {
    let token = authorised(sim, p, headers)?;
    if node != "me" && node != token.grant.user_id {
        return Err(GraphError::unknown_object(node));
    }
    require_scope(&token.grant, MESSAGE_SCOPE, 10)?;
    Ok(token.grant)
}

/// A conversation: its messages (oldest first) with one person.
struct Thread {
    messages: Vec<SimMessage>,
}

impl Thread {
    fn first(&self) -> Option<&SimMessage> {
        self.messages.first()
    }

    fn updated(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.messages.last().map(|m| m.sent_at)
    }
}

/// The account's conversations, most recently active first.
fn threads(sim: &Simulator, account: &str) -> Vec<Thread> {
    let mut by_person: Vec<Thread> = Vec::new();
    for message in messages::inbox(sim, account) {
        match by_person
            .iter_mut()
            .find(|t| t.first().is_some_and(|f| f.person_id == message.person_id))
        {
            Some(thread) => thread.messages.push(message),
            None => by_person.push(Thread {
                messages: vec![message],
            }),
        }
    }
    by_person.sort_by(|a, b| {
        b.updated().cmp(&a.updated()).then_with(|| {
            a.first()
                .map(|m| &m.conversation_id)
                .cmp(&b.first().map(|m| &m.conversation_id))
        })
    });
    by_person
}

fn graph_time(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S+0000").to_string()
}

/// The limit and the field names of `messages.limit(n){…}` in a `fields` parameter.
fn message_fields(p: &Params) -> (usize, Vec<String>) {
    let raw = param(p, "fields");
    let Some(start) = raw.find("messages") else {
        return (DEFAULT_MESSAGES, Vec::new());
    };
    let rest = &raw[start + "messages".len()..];
    let limit = rest
        .strip_prefix(".limit(")
        .and_then(|r| r.split(')').next())
        .and_then(|n| n.trim().parse::<usize>().ok())
        .unwrap_or(DEFAULT_MESSAGES)
        .clamp(1, MOST_LIMIT);
    let names = rest
        .split_once('{')
        .filter(|(before, _)| !before.contains(','))
        .map(|(_, inner)| {
            inner
                .split('}')
                .next()
                .unwrap_or_default()
                .split(',')
                .map(|f| f.trim().to_owned())
                .filter(|f| !f.is_empty())
                .collect()
        })
        .unwrap_or_else(|| vec!["id".to_owned(), "created_time".to_owned()]);
    (limit, names)
}

/// A message with the fields `asked`, between `account` and the person.
fn message_node(
    message: &SimMessage,
    account: &Grant,
    asked: &[String],
) -> Result<Value, GraphError> {
    let me = json!({"username": account.username, "id": account.user_id});
    let person = json!({"username": message.person_name, "id": message.person_id});
    let (from, to) = if message.by_account {
        (me, person)
    } else {
        (person, me)
    };
    let mut all = serde_json::Map::new();
    all.insert("id".into(), json!(message.id));
    all.insert("from".into(), from);
    all.insert("to".into(), json!({ "data": [to] }));
    all.insert("message".into(), json!(message.text));
    all.insert("created_time".into(), json!(graph_time(message.sent_at)));
    let mut out = serde_json::Map::new();
    for name in asked {
        let Some(value) = all.get(name) else {
            return Err(GraphError::invalid(format!(
                "(#100) Tried accessing nonexisting field ({name}) on node type (Message)"
            )));
        };
        out.insert(name.clone(), value.clone());
    }
    out.insert("id".into(), json!(message.id));
    Ok(Value::Object(out))
}

/// A conversation with the fields `asked`.
fn conversation_node(
    thread: &Thread,
    account: &Grant,
    asked: &[String],
    messages_asked: &(usize, Vec<String>),
) -> Result<Value, GraphError> {
    let (Some(first), Some(updated)) = (thread.first(), thread.updated()) else {
        return Err(GraphError::invalid("(#100) An empty conversation"));
    };
    let mut out = serde_json::Map::new();
    out.insert("id".into(), json!(first.conversation_id));
    for name in asked {
        let value = match name.as_str() {
            "id" => json!(first.conversation_id),
            "participants" => json!({"data": [
                {"username": account.username, "id": account.user_id},
                {"username": first.person_name, "id": first.person_id},
            ]}),
            "updated_time" => json!(graph_time(updated)),
            "messages" => {
                let (limit, names) = messages_asked;
                let mut data = Vec::new();
                for message in thread.messages.iter().rev().take(*limit) {
                    data.push(message_node(message, account, names)?);
                }
                json!({ "data": data })
            }
            _ => {
                return Err(GraphError::invalid(format!(
                    "(#100) Tried accessing nonexisting field ({name}) on node type \
                     (UnifiedThread)"
                )));
            }
        };
        out.insert(name.clone(), value);
    }
    Ok(Value::Object(out))
}

/// `GET /{ig-user}/conversations?platform=instagram`.
pub(super) async fn list(
    sim: &Simulator,
    version: &str,
    node: &str,
    p: &Params,
    headers: &HeaderMap,
) -> Answer {
    if let Some(fault) = sim.take_fault(Platform::Instagram, Op::Messages) {
        return Err(graph_fault(fault, Platform::Instagram, node).await);
    }
    let grant = messenger(sim, node, p, headers)?;
    if !param(p, "platform").eq_ignore_ascii_case("instagram") {
        return Err(err(GraphError::invalid(
            "(#100) Param platform must be one of {MESSENGER, INSTAGRAM}",
        )));
    }
    let all = threads(sim, &grant.user_id);
    let asked = fields(p).unwrap_or_else(|| vec!["id".to_owned(), "updated_time".to_owned()]);
    let messages_asked = message_fields(p);
    let limit = param(p, "limit")
        .parse::<usize>()
        .unwrap_or(DEFAULT_LIMIT)
        .clamp(1, MOST_LIMIT);
    let offset = match param(p, "after") {
        "" => 0,
        raw => offset_of(raw).ok_or_else(|| GraphError::invalid("(#100) Invalid cursor"))?,
    };
    let end = (offset + limit).min(all.len());
    let mut data = Vec::new();
    for thread in all.get(offset..end).unwrap_or_default() {
        data.push(conversation_node(thread, &grant, &asked, &messages_asked)?);
    }
    let mut paging = json!({"cursors": {"before": cursor(offset), "after": cursor(end)}});
    if end < all.len() {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("platform", param(p, "platform"))
            .append_pair("fields", param(p, "fields"))
            .append_pair("limit", &limit.to_string())
            .append_pair("after", &cursor(end))
            .finish();
        paging["next"] = json!(format!(
            "http://{}/instagram/graph/{version}/{node}/conversations?{query}",
            crate::host(headers, "localhost")
        ));
    }
    Ok(Json(json!({"data": data, "paging": paging})).into_response())
}

/// A parameter that is a JSON object (the body's, or a form's JSON text).
fn object(p: &Params, name: &str) -> Option<Value> {
    serde_json::from_str::<Value>(p.get(name)?)
        .ok()
        .filter(Value::is_object)
}

/// `POST /{ig-user}/messages {"recipient":{"id"},"message":{"text"}}`.
pub(super) async fn send(sim: &Simulator, node: &str, p: &Params, headers: &HeaderMap) -> Answer {
    if let Some(fault) = sim.take_fault(Platform::Instagram, Op::Messages) {
        return Err(graph_fault(fault, Platform::Instagram, node).await);
    }
    let grant = messenger(sim, node, p, headers)?;
    let Some(recipient) = object(p, "recipient")
        .and_then(|r| r.get("id").and_then(Value::as_str).map(str::to_owned))
        .filter(|id| !id.is_empty())
    else {
        return Err(err(GraphError::invalid(
            "(#100) The parameter recipient is required",
        )));
    };
    let text = object(p, "message")
        .and_then(|m| m.get("text").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_default();
    if text.trim().is_empty() {
        return Err(err(GraphError::invalid(
            "(#100) The parameter message[text] is required",
        )));
    }
    if text.len() > MOST_TEXT_BYTES {
        return Err(err(GraphError::invalid(format!(
            "(#100) Length of param message[text] must be less than or equal to \
             {MOST_TEXT_BYTES}"
        ))));
    }
    let conversation: Vec<SimMessage> = messages::inbox(sim, &grant.user_id)
        .into_iter()
        .filter(|m| m.person_id == recipient)
        .collect();
    let Some(last_theirs) = conversation
        .iter()
        .filter(|m| !m.by_account)
        .map(|m| m.sent_at)
        .max()
    else {
        return Err(err(
            GraphError::invalid("(#100) No matching user found").subcode(NO_USER_SUBCODE)
        ));
    };
    if sim.now() - last_theirs > Duration::hours(REPLY_WINDOW_HOURS) {
        return Err(err(GraphError::new(
            10,
            "(#10) This message is sent outside of allowed window.",
        )
        .subcode(OUTSIDE_WINDOW_SUBCODE)));
    }
    let Some(kept) = messages::reply(sim, &grant.user_id, &recipient, &text) else {
        return Err(err(
            GraphError::invalid("(#100) No matching user found").subcode(NO_USER_SUBCODE)
        ));
    };
    Ok(Json(json!({"recipient_id": kept.person_id, "message_id": kept.id})).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_messages_limit_and_fields_are_read_from_fields() {
        let p: Params = [(
            "fields".to_owned(),
            "participants,updated_time,messages.limit(5){id,from,message}".to_owned(),
        )]
        .into();
        assert_eq!(
            message_fields(&p),
            (5, vec!["id".into(), "from".into(), "message".into()])
        );
        let p: Params = [("fields".to_owned(), "messages,updated_time".to_owned())].into();
        assert_eq!(
            message_fields(&p),
            (DEFAULT_MESSAGES, vec!["id".into(), "created_time".into()])
        );
    }
}

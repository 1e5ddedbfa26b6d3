//! The inbox: Instagram direct messages, off until an owner or admin turns it on (on a plan with
//! the comments workspace); the conversations, most recently active first (the person, when,
//! the last message cut short, "You:" when the account sent it), and each conversation with a
//! reply form while Instagram's reply window is open.

use super::posts::zone_of;
use crate::AppState;
use crate::error::AppResult;
use crate::extract::{PathIds, WorkspaceMember};
use crate::flash::{Flash, redirect_with};
use crate::forms::{FieldErrors, Switch};
use crate::page::Layout;
use crate::routes::{render, rerender};
use askama::Template;
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Form, Router};
use domain::{WorkspaceId, schedule};
use services::ServiceError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/w/{wid}/inbox", get(page))
        .route("/w/{wid}/inbox/switch", post(switch))
        .route("/w/{wid}/inbox/{cid}", get(one))
        .route("/w/{wid}/inbox/{cid}/reply", post(reply))
}

/// A conversation as listed.
pub struct Row {
    pub id: i64,
    pub initial: String,
    pub person: String,
    pub account: String,
    pub when: String,
    pub last: String,
    pub open: bool,
}

fn row(line: &services::inbox::ConversationLine, tz: domain::Timezone) -> Row {
    let c = &line.conversation;
    Row {
        id: c.id,
        initial: c
            .person_name
            .chars()
            .find(|ch| ch.is_alphanumeric())
            .map(|ch| ch.to_uppercase().to_string())
            .unwrap_or_else(|| "?".to_owned()),
        person: c.person_name.clone(),
        account: line.account.clone(),
        when: schedule::describe(c.last_at, tz),
        last: line.last.clone(),
        open: line.open_until.is_some(),
    }
}

#[derive(Template)]
#[template(path = "inbox/list.html")]
struct ListPage {
    layout: Layout,
    ws: i64,
    on: bool,
    manage: bool,
    refused: Option<String>,
    reconnect: Vec<(String, String)>,
    rows: Vec<Row>,
}

pub async fn page(State(state): State<AppState>, m: WorkspaceMember) -> AppResult {
    let services = &state.services;
    let ws = m.membership.workspace_id();
    let on = services.inbox_on(&m.membership);
    let refused = match services.require_comments(ws).await {
        Ok(()) => None,
        Err(ServiceError::PlanLimit { refusal, .. }) => Some(refusal.to_string()),
        Err(other) => return Err(other.into()),
    };
    let tz = zone_of(&m);
    let (rows, reconnect) = if on {
        let lines = services.inbox_conversations(&m.membership).await?;
        (
            lines.iter().map(|l| row(l, tz)).collect(),
            services.inbox_reconnect(ws).await?,
        )
    } else {
        (Vec::new(), Vec::new())
    };
    render(ListPage {
        layout: Layout::for_member(&state, &m, "Inbox"),
        ws: ws.0,
        on,
        manage: m.membership.role.can_manage_members(),
        refused,
        reconnect,
        rows,
    })
}

pub async fn switch(
    State(state): State<AppState>,
    m: WorkspaceMember,
    Form(form): Form<Switch>,
) -> AppResult {
    let on = form.on();
    state
        .services
        .set_inbox(&m.membership, &m.auth.user, on)
        .await?;
    Ok(redirect_with(
        &format!("/w/{}/inbox", m.membership.workspace.id),
        if on { Flash::InboxOn } else { Flash::InboxOff },
    ))
}

/// A message as shown.
pub struct Shown {
    pub ours: bool,
    pub who: String,
    pub body: String,
    pub when: String,
    pub state: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "inbox/one.html")]
struct OnePage {
    layout: Layout,
    errors: FieldErrors,
    ws: i64,
    row: Row,
    open_until: Option<String>,
    messages: Vec<Shown>,
    can_answer: bool,
    /// The inbox is off: nothing is answered from here.
    off: bool,
    typed: String,
}

async fn one_page(
    state: &AppState,
    m: &WorkspaceMember,
    id: i64,
    errors: FieldErrors,
    typed: String,
) -> AppResult<OnePage> {
    let services = &state.services;
    services
        .require_comments(m.membership.workspace_id())
        .await?;
    let thread = services.inbox_conversation(&m.membership, id).await?;
    let tz = zone_of(m);
    let person = thread.line.conversation.person_name.clone();
    Ok(OnePage {
        layout: Layout::for_member(state, m, "Conversation"),
        errors,
        ws: m.membership.workspace.id,
        open_until: thread
            .line
            .open_until
            .map(|until| schedule::describe(until, tz)),
        row: row(&thread.line, tz),
        messages: thread
            .messages
            .into_iter()
            .map(|(msg, sender)| Shown {
                ours: msg.by_account,
                who: if msg.by_account {
                    sender.map_or_else(
                        || "The account".to_owned(),
                        |s| format!("{s}, as the account"),
                    )
                } else {
                    person.clone()
                },
                body: msg.body,
                when: schedule::describe(msg.sent_at, tz),
                state: msg.state,
                error: msg.error,
            })
            .collect(),
        can_answer: m.membership.role.can_publish() && services.inbox_on(&m.membership),
        off: !services.inbox_on(&m.membership),
        typed,
    })
}

pub async fn one(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((_, id)): PathIds<(WorkspaceId, i64)>,
) -> AppResult {
    render(one_page(&state, &m, id, FieldErrors::new(), String::new()).await?)
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ReplyForm {
    reply: String,
}

pub async fn reply(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((ws, id)): PathIds<(WorkspaceId, i64)>,
    Form(form): Form<ReplyForm>,
) -> AppResult {
    match state
        .services
        .send_message(&m.membership, &m.auth.user, id, &form.reply)
        .await
    {
        Ok(sent) => Ok(redirect_with(
            &format!("/w/{}/inbox/{id}", ws.0),
            match sent {
                services::comments::reply::Sent::Unconfirmed => Flash::ReplyUnconfirmed,
                _ => Flash::MessageSent,
            },
        )),
        Err(err @ ServiceError::Invalid { .. }) => {
            let mut errors = FieldErrors::new();
            errors.absorb(err)?;
            rerender(one_page(&state, &m, id, errors, form.reply).await?)
        }
        Err(err) => Err(err.into()),
    }
}

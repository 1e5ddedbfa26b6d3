//! The AI agent's pages: a person's conversations in a workspace, one conversation with its
//! proposals (approve or reject each), and sending a message. Exists only with an AI provider;
//! says so when AI is off in the workspace.

use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::extract::{PathIds, WorkspaceMember};
use crate::forms::FieldErrors;
use crate::page::Layout;
use crate::routes::{fmt_time, render};
use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use domain::WorkspaceId;
use services::agent::{Leash, MAX_MESSAGE, PENDING};
use services::ai::AiState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/w/{wid}/agent", get(index).post(start))
        .route("/w/{wid}/agent/{cid}", get(conversation).post(reply))
        .route("/w/{wid}/agent/proposals/{pid}/approve", post(approve))
        .route("/w/{wid}/agent/proposals/{pid}/reject", post(reject))
}

/// One line of a conversation as shown.
pub struct Line {
    /// `you`, `agent` or `tool`.
    pub who: &'static str,
    pub text: String,
}

pub struct ProposalRow {
    pub id: i64,
    pub summary: String,
    pub pending: bool,
    pub state: String,
    pub outcome: Option<String>,
}

pub struct ConversationLink {
    pub id: i64,
    pub title: String,
    pub when: String,
}

#[derive(Template)]
#[template(path = "agent/page.html")]
pub struct AgentPage {
    layout: Layout,
    errors: FieldErrors,
    ws: i64,
    on: bool,
    can_turn_on: bool,
    leash: &'static str,
    conversations: Vec<ConversationLink>,
    current: Option<i64>,
    lines: Vec<Line>,
    proposals: Vec<ProposalRow>,
    message: String,
    max: usize,
}

impl AgentPage {
    fn is_current(&self, id: &i64) -> bool {
        self.current == Some(*id)
    }
}

fn leash_text(leash: Leash) -> &'static str {
    match leash {
        Leash::Talk => {
            "The agent reads this workspace and answers; it cannot change anything for you \
             (your role, or the workspace's plan)."
        }
        Leash::Approve => {
            "The agent reads this workspace and answers; every change it proposes waits for \
             your approval here."
        }
        Leash::DraftsFree => {
            "The agent reads this workspace and answers; it creates drafts without asking, as \
             an owner allowed, and every other change waits for your approval here."
        }
    }
}

/// What a tool result says, for people: a proposal or refusal, else which data was read.
fn tool_line(content: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(content).unwrap_or_default();
    if let Some(p) = value["proposed"].as_str() {
        return format!("Proposed: {p}");
    }
    if let Some(d) = value["done"].as_str() {
        return format!("Done without asking: {d}");
    }
    if let Some(r) = value["refused"].as_str() {
        return format!("Refused: {r}");
    }
    let what: Vec<&str> = value
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    format!("Read the workspace's {}", what.join(", "))
}

async fn build(
    state: &AppState,
    m: &WorkspaceMember,
    current: Option<i64>,
    message: String,
    errors: FieldErrors,
) -> AppResult<AgentPage> {
    if state.services.ai.is_none() {
        return Err(AppError::NotFound);
    }
    let on = state.services.ai_state(&m.membership) == AiState::On;
    let tz = m.auth.user.timezone.as_str();
    let conversations = state
        .services
        .conversations(&m.membership, &m.auth.user)
        .await?
        .into_iter()
        .map(|c| ConversationLink {
            id: c.id,
            title: c.title,
            when: fmt_time(&c.updated_at, tz),
        })
        .collect();
    let (lines, proposals) = match current {
        Some(id) => {
            let view = state
                .services
                .conversation_view(&m.membership, &m.auth.user, id)
                .await?;
            let lines = view
                .messages
                .iter()
                .filter(|msg| !(msg.role == "assistant" && msg.content.is_empty()))
                .map(|msg| match msg.role.as_str() {
                    "user" => Line {
                        who: "you",
                        text: msg.content.clone(),
                    },
                    "tool" => Line {
                        who: "tool",
                        text: tool_line(&msg.content),
                    },
                    _ => Line {
                        who: "agent",
                        text: msg.content.clone(),
                    },
                })
                .collect();
            let proposals = view
                .proposals
                .into_iter()
                .map(|p| ProposalRow {
                    id: p.id,
                    pending: p.state == PENDING,
                    state: match p.state.as_str() {
                        "pending" => "Waiting for your approval",
                        "running" => "Running",
                        "done" => "Done (you approved it)",
                        "done_unasked" => "Done without asking",
                        "rejected" => "Rejected",
                        _ => "Could not be done",
                    }
                    .to_owned(),
                    summary: p.summary,
                    outcome: p.outcome.filter(|_| p.state == "failed"),
                })
                .collect();
            (lines, proposals)
        }
        None => (Vec::new(), Vec::new()),
    };
    Ok(AgentPage {
        layout: Layout::for_member(state, m, "Agent"),
        errors,
        ws: m.membership.workspace.id,
        on,
        can_turn_on: m.membership.role.can_manage_members(),
        leash: leash_text(state.services.agent_leash(&m.membership).await?),
        conversations,
        current,
        lines,
        proposals,
        message,
        max: MAX_MESSAGE,
    })
}

pub async fn index(State(state): State<AppState>, m: WorkspaceMember) -> AppResult {
    render(build(&state, &m, None, String::new(), FieldErrors::new()).await?)
}

pub async fn conversation(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((_, cid)): PathIds<(WorkspaceId, i64)>,
) -> AppResult {
    render(build(&state, &m, Some(cid), String::new(), FieldErrors::new()).await?)
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct MessageForm {
    message: String,
}

pub async fn start(
    State(state): State<AppState>,
    m: WorkspaceMember,
    Form(form): Form<MessageForm>,
) -> AppResult {
    send(state, m, None, form.message).await
}

pub async fn reply(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((_, cid)): PathIds<(WorkspaceId, i64)>,
    Form(form): Form<MessageForm>,
) -> AppResult {
    send(state, m, Some(cid), form.message).await
}

async fn send(
    state: AppState,
    m: WorkspaceMember,
    conversation: Option<i64>,
    message: String,
) -> AppResult {
    let ws = m.membership.workspace.id;
    let sent = state
        .services
        .agent_ask(&m.membership, &m.auth.user, conversation, &message)
        .await;
    let mut errors = FieldErrors::new();
    let status = match sent {
        Ok(id) => return Ok(Redirect::to(&format!("/w/{ws}/agent/{id}#latest")).into_response()),
        Err(err) => errors.refuse(err, "message")?,
    };
    // The conversation as it is now (the message is kept when the provider failed).
    let mut res = render(build(&state, &m, conversation, message, errors).await?)?;
    *res.status_mut() = status;
    Ok(res)
}

async fn decide(state: AppState, m: WorkspaceMember, pid: i64, approve: bool) -> AppResult {
    let ws = m.membership.workspace.id;
    let decided = state
        .services
        .decide_proposal(&m.membership, &m.auth.user, pid, approve)
        .await?;
    Ok(Redirect::to(&format!(
        "/w/{ws}/agent/{}#proposal-{}",
        decided.conversation_id, decided.id
    ))
    .into_response())
}

pub async fn approve(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((_, pid)): PathIds<(WorkspaceId, i64)>,
) -> AppResult {
    decide(state, m, pid, true).await
}

pub async fn reject(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((_, pid)): PathIds<(WorkspaceId, i64)>,
) -> AppResult {
    decide(state, m, pid, false).await
}

//! The agent's tools, over the same services the pages use, with the person's own membership:
//! the agent can never do more than the person using it may.
//!
//! Reading tools (`list_posts`, `list_accounts`, `find_free_slots`, `list_campaigns`,
//! `list_media`) answer at once with the workspace content the question needs and nothing
//! else: posts (id, state, time, the first 280 characters, the accounts' platform and handle),
//! connected accounts (id, platform, handle), free times, campaigns (id, name, dates) and files
//! (id, name, kind). Changing tools (`draft_post`, `schedule_post`, `create_campaign`) are
//! checked here ([`check`]: an unknown post, a time in the past, another workspace's account
//! are refused with a message and change nothing) and run only through [`run`].

use crate::campaigns::{COLOURS, CampaignInput};
use crate::posts::{Intent, PostFilter, PostInput, PostState, TargetInput};
use crate::workspaces::Membership;
use crate::{Result, Services};
use chrono::Duration;
use domain::{PostId, Timezone, schedule};
use providers::ai::Tool;
use serde_json::{Value, json};
use store::entities::states::AccountStatus;
use store::entities::user;

/// The longest draft the agent may make (Facebook's limit; each platform's own is checked).
const MAX_DRAFT: usize = 63_206;

/// The tools that only read.
pub(crate) const READING: [&str; 5] = [
    "list_posts",
    "list_accounts",
    "find_free_slots",
    "list_campaigns",
    "list_media",
];

/// The tools that change something, each run only with the person's approval (or, for drafts,
/// as the workspace allows).
pub(crate) const CHANGING: [&str; 3] = ["draft_post", "schedule_post", "create_campaign"];

fn object(properties: Value, required: &[&str]) -> Value {
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

/// The tools offered to the model: every reading tool, and the changing ones when the person
/// may change things with the agent on this plan.
pub(crate) fn offered(may_change: bool) -> Vec<Tool> {
    let tool = |name: &str, description: &str, parameters: Value| Tool {
        name: name.to_owned(),
        description: description.to_owned(),
        parameters,
    };
    let mut tools = vec![
        tool(
            "list_posts",
            "The workspace's posts in a state (scheduled, draft, published or any), in the \
             posts list's order (those needing attention, then scheduled ones soonest first, \
             then drafts, then published ones), at most 20: id, state, time, the start of the \
             text, accounts.",
            object(
                json!({"state": {"type": "string", "enum": ["scheduled", "draft", "published", "any"]}}),
                &["state"],
            ),
        ),
        tool(
            "list_accounts",
            "The workspace's connected social accounts: id, platform, handle.",
            object(json!({}), &[]),
        ),
        tool(
            "find_free_slots",
            "Times in the coming days (09:00, 12:00 and 17:00 in the person's time zone) with \
             no post scheduled within an hour, at most 6.",
            object(
                json!({"days": {"type": "integer", "minimum": 1, "maximum": 14}}),
                &["days"],
            ),
        ),
        tool(
            "list_campaigns",
            "The workspace's campaigns: id, name, dates.",
            object(json!({}), &[]),
        ),
        tool(
            "list_media",
            "The newest 20 files of the media library: id, name, kind.",
            object(json!({}), &[]),
        ),
    ];
    if may_change {
        tools.extend([
            tool(
                "draft_post",
                "Make a draft post with this text for these accounts (ids from \
                 list_accounts). Unless the workspace lets drafts be made at once, the person \
                 approves it first. The text must fit each account's platform.",
                object(
                    json!({
                        "text": {"type": "string"},
                        "account_ids": {"type": "array", "items": {"type": "integer"}},
                    }),
                    &["text", "account_ids"],
                ),
            ),
            tool(
                "schedule_post",
                "Propose to schedule a draft, or move a scheduled post, to a time (YYYY-MM-DDTHH:MM \
                 in the person's time zone). The person approves it before it happens.",
                object(
                    json!({
                        "post_id": {"type": "integer"},
                        "at": {"type": "string"},
                    }),
                    &["post_id", "at"],
                ),
            ),
            tool(
                "create_campaign",
                "Propose a new campaign with this name and description. The person approves it \
                 before it is made.",
                object(
                    json!({
                        "name": {"type": "string"},
                        "description": {"type": "string"},
                    }),
                    &["name", "description"],
                ),
            ),
        ]);
    }
    tools
}

/// The first `n` characters of a text, with "…" when cut.
fn start_of(text: &str, n: usize) -> String {
    let mut out: String = text.chars().take(n).collect();
    if text.chars().count() > n {
        out.push('…');
    }
    out
}

fn zone_of(person: &user::Model) -> Timezone {
    Timezone::stored(&person.timezone)
}

fn local(at: chrono::DateTime<chrono::Utc>, tz: Timezone) -> String {
    schedule::to_local(at, tz)
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

/// Runs a reading tool; `Err` is a refusal for the model (a bad argument).
pub(crate) async fn read(
    services: &Services,
    ctx: &Membership,
    person: &user::Model,
    name: &str,
    args: &Value,
) -> Result<std::result::Result<Value, String>> {
    let ws = ctx.workspace_id();
    let tz = zone_of(person);
    Ok(Ok(match name {
        "list_posts" => {
            let state = match args["state"].as_str().unwrap_or("any") {
                "scheduled" => Some(PostState::Scheduled),
                "draft" => Some(PostState::Draft),
                "published" => Some(PostState::Published),
                "any" => None,
                other => return Ok(Err(format!("unknown state {other:?}"))),
            };
            let filter = PostFilter {
                state,
                ..Default::default()
            };
            let posts: Vec<Value> = services
                .list_posts(ws, &filter)
                .await?
                .into_iter()
                .take(20)
                .map(|p| {
                    json!({
                        "id": p.post.id,
                        "state": p.post.state.label(),
                        "time": p.when().map(|t| local(t, tz)),
                        "text": start_of(&p.post.body, 280),
                        "accounts": p.accounts.iter().map(|a| format!(
                            "{} @{}", domain::Platform::label_of(&a.platform), a.username
                        )).collect::<Vec<_>>(),
                    })
                })
                .collect();
            json!({"posts": posts})
        }
        "list_accounts" => {
            let accounts: Vec<Value> = services
                .accounts_of(ws)
                .await?
                .into_iter()
                .filter(|a| a.status == AccountStatus::Connected)
                .map(|a| {
                    json!({
                        "id": a.id,
                        "platform": domain::Platform::label_of(&a.platform),
                        "handle": format!("@{}", a.username),
                    })
                })
                .collect();
            json!({"accounts": accounts})
        }
        "find_free_slots" => {
            let days = args["days"].as_i64().unwrap_or(7).clamp(1, 14);
            json!({"free": free_slots(services, ctx, tz, days).await?})
        }
        "list_campaigns" => {
            let campaigns: Vec<Value> = services
                .campaigns_of(ws)
                .await?
                .into_iter()
                .map(|c| {
                    json!({"id": c.id, "name": c.name, "starts": c.starts_on, "ends": c.ends_on})
                })
                .collect();
            json!({"campaigns": campaigns})
        }
        "list_media" => {
            let files: Vec<Value> = services
                .media_of(ws, &Default::default())
                .await?
                .into_iter()
                .take(20)
                .map(|m| json!({"id": m.id, "name": m.filename, "kind": m.kind}))
                .collect();
            json!({"files": files})
        }
        other => return Ok(Err(format!("there is no tool {other:?}"))),
    }))
}

/// 09:00, 12:00 and 17:00 of the coming `days`, in `tz`, with no scheduled post within an hour.
async fn free_slots(
    services: &Services,
    ctx: &Membership,
    tz: Timezone,
    days: i64,
) -> Result<Vec<String>> {
    let now = crate::now();
    // A post waiting for approval holds its time as a scheduled one does.
    let mut taken: Vec<chrono::DateTime<chrono::Utc>> = Vec::new();
    for state in [PostState::Scheduled, PostState::PendingApproval] {
        let filter = PostFilter {
            state: Some(state),
            from: Some(now),
            to: Some(now + Duration::days(days + 1)),
            ..Default::default()
        };
        taken.extend(
            services
                .list_posts(ctx.workspace_id(), &filter)
                .await?
                .into_iter()
                .filter_map(|p| p.post.scheduled_at),
        );
    }
    let today = schedule::to_local(now, tz).date();
    let mut free = Vec::new();
    for day in 1..=days {
        let date = today + Duration::days(day);
        for hour in [9, 12, 17] {
            let Some(wall) = date.and_hms_opt(hour, 0, 0) else {
                continue;
            };
            let Ok(at) = schedule::schedule_at(wall, tz, now) else {
                continue;
            };
            if taken
                .iter()
                .all(|t| (*t - at.utc).num_minutes().abs() >= 60)
            {
                free.push(format!(
                    "{} ({})",
                    wall.format("%Y-%m-%dT%H:%M"),
                    wall.format("%a")
                ));
            }
            if free.len() == 6 {
                return Ok(free);
            }
        }
    }
    Ok(free)
}

/// A change, checked and described, ready to propose or run.
#[derive(Debug, Clone)]
pub(crate) struct Change {
    pub(crate) tool: String,
    pub(crate) arguments: Value,
    /// "Schedule “Fresh bread…” to X @shop on Thu 10 Dec 2026, 10:00 (Europe/Berlin)".
    pub(crate) summary: String,
}

/// Checks a changing tool's arguments against the workspace; `Err` is a refusal for the model
/// and the person, and nothing changes.
pub(crate) async fn check(
    services: &Services,
    ctx: &Membership,
    person: &user::Model,
    name: &str,
    args: &Value,
) -> Result<std::result::Result<Change, String>> {
    let ws = ctx.workspace_id();
    let tz = zone_of(person);
    let mut arguments = args.clone();
    let summary = match name {
        "draft_post" => {
            let text = args["text"].as_str().unwrap_or_default().trim();
            if text.is_empty() {
                return Ok(Err("a draft needs a text".into()));
            }
            let Some(ids) = args["account_ids"].as_array() else {
                return Ok(Err("account_ids must be a list of account ids".into()));
            };
            let accounts = services.accounts_of(ws).await?;
            let mut names = Vec::new();
            let mut platforms = Vec::new();
            for id in ids {
                let found = id.as_i64().and_then(|id| {
                    accounts
                        .iter()
                        .find(|a| a.id == id && a.status == AccountStatus::Connected)
                });
                match found {
                    Some(a) => {
                        names.push(format!(
                            "{} @{}",
                            domain::Platform::label_of(&a.platform),
                            a.username
                        ));
                        if let Ok(p) = domain::Platform::parse(&a.platform) {
                            platforms.push(p);
                        }
                    }
                    None => {
                        return Ok(Err(format!(
                            "account {id} is not a connected account of this workspace"
                        )));
                    }
                }
            }
            for platform in &platforms {
                if let Err(e) = domain::content::check(*platform, text) {
                    return Ok(Err(format!("{} Write it shorter.", e.0)));
                }
            }
            if text.chars().count() > MAX_DRAFT {
                return Ok(Err(format!("a post can be at most {MAX_DRAFT} characters")));
            }
            let to = if names.is_empty() {
                String::new()
            } else {
                format!(" for {}", names.join(", "))
            };
            format!("Draft a post{to}: “{text}”")
        }
        "schedule_post" => {
            let Some(id) = args["post_id"].as_i64() else {
                return Ok(Err("post_id must be a post's id".into()));
            };
            let view = match services.post_view(ws, PostId(id)).await {
                Ok(view) => view,
                Err(crate::ServiceError::NotFound) => {
                    return Ok(Err(format!("there is no post {id} in this workspace")));
                }
                Err(err) => return Err(err),
            };
            if ![PostState::Draft, PostState::Scheduled].contains(&view.post.state) {
                return Ok(Err(format!(
                    "post {id} is {} and can no longer be scheduled",
                    view.post.state.label().to_lowercase()
                )));
            }
            if view.targets.is_empty() {
                return Ok(Err(format!(
                    "post {id} has no account to go to; draft it with accounts first"
                )));
            }
            // What was proposed is what runs: the post as it was then, at the same instant.
            if let Some(revision) = args["revision"].as_i64()
                && revision != i64::from(view.post.revision)
            {
                return Ok(Err(format!(
                    "post {id} changed after this was proposed; ask the agent again"
                )));
            }
            let pinned = args["utc"]
                .as_str()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&chrono::Utc));
            let wall = match pinned {
                Some(utc) => schedule::to_local(utc, tz),
                None => {
                    let raw = args["at"].as_str().unwrap_or_default();
                    match schedule::parse_local(raw) {
                        Ok(wall) => wall,
                        Err(e) => return Ok(Err(format!("{raw:?}: {}", e.0))),
                    }
                }
            };
            let at = match schedule::schedule_at(wall, tz, crate::now()) {
                Ok(at) => at,
                Err(e) => return Ok(Err(e.0)),
            };
            if pinned.is_some_and(|utc| utc != at.utc) {
                return Ok(Err(
                    "the time no longer means the same moment; ask the agent again".into(),
                ));
            }
            arguments["revision"] = json!(view.post.revision);
            arguments["utc"] = json!(at.utc.to_rfc3339());
            arguments["at"] = json!(wall.format("%Y-%m-%dT%H:%M").to_string());
            let accounts: Vec<String> = view
                .targets
                .iter()
                .map(|t| {
                    format!(
                        "{} @{}",
                        domain::Platform::label_of(&t.account.platform),
                        t.account.username
                    )
                })
                .collect();
            let verb = if view.post.state == PostState::Scheduled {
                "Move"
            } else {
                "Schedule"
            };
            format!(
                "{verb} “{}” to {} on {}",
                start_of(&view.post.body, 80),
                accounts.join(", "),
                schedule::describe(at.utc, tz)
            )
        }
        "create_campaign" => {
            let name = args["name"].as_str().unwrap_or_default().trim();
            if name.is_empty() {
                return Ok(Err("a campaign needs a name".into()));
            }
            // The campaign form's own checks, before the person is asked.
            if let Err(err) = crate::campaigns::check(&campaign_input(args)) {
                return Ok(Err(err.to_string()));
            }
            format!("Create the campaign “{}”", start_of(name, 80))
        }
        other => return Ok(Err(format!("there is no tool {other:?}"))),
    };
    Ok(Ok(Change {
        tool: name.to_owned(),
        arguments,
        summary,
    }))
}

/// The campaign a `create_campaign` call describes (no dates, the first colour).
fn campaign_input(args: &Value) -> CampaignInput {
    CampaignInput {
        name: args["name"].as_str().unwrap_or_default().trim().to_owned(),
        description: args["description"].as_str().unwrap_or_default().to_owned(),
        starts_on: String::new(),
        ends_on: String::new(),
        colour: COLOURS[0].0.to_owned(),
        ..CampaignInput::default()
    }
}

/// Runs a checked change as the person; returns what came of it ("post 12") and the post it
/// made, when it made one.
pub(crate) async fn run(
    services: &Services,
    ctx: &Membership,
    person: &user::Model,
    change: &Change,
) -> Result<(String, Option<i64>)> {
    let args = &change.arguments;
    match change.tool.as_str() {
        "draft_post" => {
            let targets = args["account_ids"]
                .as_array()
                .map(|ids| {
                    ids.iter()
                        .filter_map(Value::as_i64)
                        .map(|id| TargetInput {
                            account_id: id,
                            body: None,
                            media: Vec::new(),
                            format: Default::default(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let input = PostInput {
                body: args["text"].as_str().unwrap_or_default().to_owned(),
                first_comment: None,
                campaign_id: None,
                targets,
                media: Vec::new(),
                intent: Intent::Draft,
                ai_suggestion: None,
                auto_approve: false,
            };
            let post = services.save_post(ctx, person, None, input).await?;
            Ok((format!("post {}", post.id), Some(post.id)))
        }
        "schedule_post" => {
            let id = PostId(args["post_id"].as_i64().unwrap_or_default());
            let wall = schedule::parse_local(args["at"].as_str().unwrap_or_default())
                .map_err(|e| crate::ServiceError::invalid("scheduled_at", e.0))?;
            let view = services.post_view(ctx.workspace_id(), id).await?;
            if view.post.state == PostState::Scheduled {
                services.reschedule_post(ctx, person, id, wall).await?;
            } else {
                let input = PostInput {
                    body: view.post.body.clone(),
                    first_comment: view.post.first_comment.clone(),
                    campaign_id: view.post.campaign_id,
                    targets: view
                        .targets
                        .iter()
                        .map(|t| TargetInput {
                            account_id: t.account.id,
                            body: t.target.body.clone(),
                            media: view
                                .account_media
                                .iter()
                                .filter(|(a, _)| *a == t.account.id)
                                .map(|(_, m)| m.id)
                                .collect(),
                            format: crate::posts::format_of(&t.target.options),
                        })
                        .collect(),
                    media: view.media.iter().map(|m| m.id).collect(),
                    intent: Intent::Schedule(wall),
                    ai_suggestion: None,
                    auto_approve: false,
                };
                services.save_post(ctx, person, Some(id), input).await?;
            }
            Ok((format!("post {} scheduled", id.0), None))
        }
        "create_campaign" => {
            let input = campaign_input(args);
            let campaign = services.save_campaign(ctx, person, None, &input).await?;
            Ok((format!("campaign {}", campaign.id), None))
        }
        other => Err(crate::ServiceError::invalid(
            "proposal",
            format!("there is no tool {other:?}"),
        )),
    }
}

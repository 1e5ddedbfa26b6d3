//! The comments workspace: off until an owner or admin turns it on (on a plan that has it),
//! then the comments under the workspace's published posts, grouped by post, with filters
//! (platform, account, needs a reply, assigned to me, label, open or done); each comment's page
//! with its conversation, the reply form (write, save a draft, ask the AI for a draft), hide,
//! delete, assignment and done; and the workspace's settings (keyword rules that label, how
//! long conversations are kept).

use super::posts::zone_of;
use crate::AppState;
use crate::error::AppResult;
use crate::extract::{PathIds, WorkspaceMember};
use crate::flash::{Flash, redirect_with};
use crate::forms::{FieldErrors, Switch};
use crate::page::Layout;
use crate::routes::{render, rerender};
use askama::Template;
use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Form, Router};
use domain::{Platform, WorkspaceId, schedule};
use services::ServiceError;
use services::comments::reply::Sent;
use services::comments::{AccountState, Conversation, Filter, Line, Show};
use store::entities::comment_rule;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/w/{wid}/comments", get(page))
        .route("/w/{wid}/comments/switch", post(switch))
        .route("/w/{wid}/comments/retention", post(retention))
        .route("/w/{wid}/comments/rules", post(add_rule))
        .route("/w/{wid}/comments/rules/{rid}/delete", post(delete_rule))
        .route("/w/{wid}/comments/{cid}", get(one))
        .route("/w/{wid}/comments/{cid}/reply", post(reply))
        .route("/w/{wid}/comments/{cid}/suggest", post(suggest))
        .route("/w/{wid}/comments/{cid}/hide", post(hide))
        .route("/w/{wid}/comments/{cid}/delete", post(delete))
        .route("/w/{wid}/comments/{cid}/assign", post(assign))
        .route("/w/{wid}/comments/{cid}/done", post(done))
        .route("/w/{wid}/comments/reply-approvals", post(reply_approvals))
        .route("/w/{wid}/comments/{cid}/replies/{rid}/decide", post(decide))
}

/// A choice in a filter.
pub struct Choice {
    pub value: String,
    pub label: String,
}

/// A comment as listed.
pub struct Row {
    pub id: i64,
    pub author: String,
    pub body: String,
    pub when: String,
    pub platform: &'static str,
    pub account: String,
    pub labels: Vec<String>,
    pub assignee: Option<String>,
    pub replies: usize,
    pub answered: bool,
    pub hidden: bool,
    pub done: bool,
}

/// The comments under one post.
pub struct Group {
    pub post_id: i64,
    pub excerpt: String,
    pub permalink: Option<String>,
    pub rows: Vec<Row>,
}

/// What the page says about an account.
pub struct AccountNote {
    pub name: String,
    pub text: String,
}

#[derive(serde::Deserialize, Default, Clone)]
#[serde(default)]
pub struct FilterQuery {
    platform: String,
    account: String,
    needs_reply: String,
    mine: String,
    label: String,
    show: String,
    /// Older than this comment (the next page).
    before: String,
}

impl FilterQuery {
    /// The query string of this filter with `before`, for the link to older comments.
    fn older_than(&self, id: i64) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (key, value) in [
            ("show", self.show.as_str()),
            ("platform", self.platform.as_str()),
            ("account", self.account.as_str()),
            ("label", self.label.as_str()),
            ("needs_reply", self.needs_reply.as_str()),
            ("mine", self.mine.as_str()),
        ] {
            if !value.is_empty() {
                q.append_pair(key, value);
            }
        }
        q.append_pair("before", &id.to_string());
        q.finish()
    }

    fn filter(&self) -> Filter {
        Filter {
            before: self.before.parse().ok(),
            platform: Platform::parse(&self.platform).ok(),
            account: self.account.parse().ok(),
            needs_reply: self.needs_reply == "1",
            mine: self.mine == "1",
            label: (!self.label.trim().is_empty()).then(|| self.label.trim().to_lowercase()),
            show: Show::parse(&self.show),
        }
    }
}

#[derive(Template)]
#[template(path = "comments/list.html")]
struct ListPage {
    layout: Layout,
    errors: FieldErrors,
    ws: i64,
    on: bool,
    manage: bool,
    /// Why the plan does not allow it, with the plan that does.
    refused: Option<String>,
    query: FilterQuery,
    show: &'static str,
    platforms: Vec<Choice>,
    accounts: Vec<Choice>,
    labels: Vec<String>,
    groups: Vec<Group>,
    /// The query string of the next page, when there may be one.
    older: Option<String>,
    notes: Vec<AccountNote>,
    rules: Vec<comment_rule::Model>,
    kept_days: String,
    /// Replies wait for an approver (the setting, shown to owners).
    replies_approved: bool,
    owner: bool,
    typed_label: String,
    typed_keywords: String,
}

fn row(line: &Line, tz: domain::Timezone) -> Row {
    let c = &line.comment;
    Row {
        id: c.id,
        author: c.author_name.clone(),
        body: c.body.clone(),
        when: schedule::describe(c.written_at, tz),
        platform: line.platform.label(),
        account: line.account.clone(),
        labels: c
            .labels
            .split(',')
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
        assignee: line.assignee.clone(),
        replies: line.replies,
        answered: c.replied_at.is_some(),
        hidden: c.hidden,
        done: c.done,
    }
}

/// What the page says of an account the comments workspace cannot read (fully).
fn account_note(a: &AccountState) -> Option<AccountNote> {
    let name = format!("{} ({})", a.account.display_name, a.platform.label());
    let text = if a.platform == Platform::TikTok {
        "TikTok's API gives apps no comments, only their number: see Analytics.".to_owned()
    } else if !a.abilities.read && a.platform == Platform::LinkedIn {
        "LinkedIn lets apps read comments only on organisation pages; a personal profile's \
         comments are answered on LinkedIn itself."
            .to_owned()
    } else if !a.abilities.read {
        format!("{} is not read here.", a.platform.label())
    } else if let Some(missing) = &a.missing {
        format!(
            "Connect it again (Accounts, Reconnect) to allow reading and answering its comments: \
             {missing}."
        )
    } else {
        return None;
    };
    Some(AccountNote { name, text })
}

async fn list_page(
    state: &AppState,
    m: &WorkspaceMember,
    query: FilterQuery,
    errors: FieldErrors,
    typed: (String, String),
) -> AppResult<ListPage> {
    let services = &state.services;
    let ws = m.membership.workspace_id();
    let on = services.comments_on(&m.membership);
    let refused = match services.require_comments(ws).await {
        Ok(()) => None,
        Err(ServiceError::PlanLimit { refusal, .. }) => Some(refusal.to_string()),
        Err(other) => return Err(other.into()),
    };
    let tz = zone_of(m);
    let mut older = None;
    let (groups, notes, accounts, rules) = if on {
        let lines = services
            .comment_lines(&m.membership, &m.auth.user, &query.filter())
            .await?;
        if lines.len() as u64 >= services::comments::PAGE {
            older = lines.last().map(|l| query.older_than(l.comment.id));
        }
        let mut groups: Vec<Group> = Vec::new();
        for line in &lines {
            match groups.iter_mut().find(|g| g.post_id == line.post_id) {
                Some(group) => group.rows.push(row(line, tz)),
                None => groups.push(Group {
                    post_id: line.post_id,
                    excerpt: line.post_excerpt.clone(),
                    permalink: line.permalink.clone(),
                    rows: vec![row(line, tz)],
                }),
            }
        }
        let states = services.comment_accounts(ws).await?;
        let notes = states.iter().filter_map(account_note).collect();
        let accounts = states
            .iter()
            .filter(|a| a.abilities.read)
            .map(|a| Choice {
                value: a.account.id.to_string(),
                label: format!("{} ({})", a.account.display_name, a.platform.label()),
            })
            .collect();
        (groups, notes, accounts, services.comment_rules(ws).await?)
    } else {
        (Vec::new(), Vec::new(), Vec::new(), Vec::new())
    };
    let labels = rules.iter().map(|r| r.label.clone()).collect();
    let platforms = services
        .comments
        .platforms()
        .into_iter()
        .map(|p| Choice {
            value: p.slug().to_owned(),
            label: p.label().to_owned(),
        })
        .collect();
    let show = Show::parse(&query.show).slug();
    Ok(ListPage {
        layout: Layout::for_member(state, m, "Comments"),
        errors,
        ws: m.membership.workspace.id,
        on,
        manage: m.membership.role.can_manage_members(),
        refused,
        show,
        query,
        platforms,
        accounts,
        labels,
        groups,
        older,
        notes,
        rules,
        kept_days: m.membership.workspace.comments_kept_days.to_string(),
        replies_approved: m.membership.workspace.replies_need_approval,
        owner: m.membership.role == domain::Role::Owner,
        typed_label: typed.0,
        typed_keywords: typed.1,
    })
}

pub async fn page(
    State(state): State<AppState>,
    m: WorkspaceMember,
    Query(query): Query<FilterQuery>,
) -> AppResult {
    render(list_page(&state, &m, query, FieldErrors::new(), Default::default()).await?)
}

fn list_path(ws: i64) -> String {
    format!("/w/{ws}/comments")
}

pub async fn switch(
    State(state): State<AppState>,
    m: WorkspaceMember,
    Form(form): Form<Switch>,
) -> AppResult {
    let on = form.on();
    state
        .services
        .set_comments(&m.membership, &m.auth.user, on)
        .await?;
    Ok(redirect_with(
        &list_path(m.membership.workspace.id),
        if on {
            Flash::CommentsOn
        } else {
            Flash::CommentsOff
        },
    ))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct RetentionForm {
    kept_days: String,
}

pub async fn retention(
    State(state): State<AppState>,
    m: WorkspaceMember,
    Form(form): Form<RetentionForm>,
) -> AppResult {
    match state
        .services
        .set_comment_retention(&m.membership, &m.auth.user, &form.kept_days)
        .await
    {
        Ok(_) => Ok(redirect_with(
            &list_path(m.membership.workspace.id),
            Flash::CommentSettingsSaved,
        )),
        Err(err) => refused_settings(&state, &m, err, Default::default()).await,
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct RuleForm {
    label: String,
    keywords: String,
}

pub async fn add_rule(
    State(state): State<AppState>,
    m: WorkspaceMember,
    Form(form): Form<RuleForm>,
) -> AppResult {
    match state
        .services
        .add_comment_rule(&m.membership, &m.auth.user, &form.label, &form.keywords)
        .await
    {
        Ok(()) => Ok(redirect_with(
            &list_path(m.membership.workspace.id),
            Flash::CommentSettingsSaved,
        )),
        Err(err) => refused_settings(&state, &m, err, (form.label, form.keywords)).await,
    }
}

/// The list page again with a settings form's error (or the error itself when it is not about
/// what was typed).
async fn refused_settings(
    state: &AppState,
    m: &WorkspaceMember,
    err: ServiceError,
    typed: (String, String),
) -> AppResult {
    let mut errors = FieldErrors::new();
    errors.absorb(err)?;
    rerender(list_page(state, m, FilterQuery::default(), errors, typed).await?)
}

pub async fn delete_rule(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((ws, rule)): PathIds<(WorkspaceId, i64)>,
) -> AppResult {
    state
        .services
        .delete_comment_rule(&m.membership, &m.auth.user, rule)
        .await?;
    Ok(redirect_with(&list_path(ws.0), Flash::CommentSettingsSaved))
}

/// A reply written here, as its page lists it.
pub struct DraftRow {
    pub id: i64,
    /// Waiting for an approver, and whether the reader may decide on it.
    pub pending: bool,
    pub may_decide: bool,
    pub author: String,
    pub body: String,
    pub state: String,
    pub suggested: bool,
    pub error: Option<String>,
    pub when: String,
}

#[derive(Template)]
#[template(path = "comments/one.html")]
struct OnePage {
    layout: Layout,
    errors: FieldErrors,
    ws: i64,
    row: Row,
    post_id: i64,
    excerpt: String,
    permalink: Option<String>,
    parent: Option<(String, String)>,
    /// (author, text, when, by the account, hidden)
    replies: Vec<(String, String, String, bool, bool)>,
    drafts: Vec<DraftRow>,
    can_answer: bool,
    can_reply: bool,
    /// Why there is no reply form.
    no_reply: Option<String>,
    gone: bool,
    can_hide: bool,
    can_delete: bool,
    ai: bool,
    /// The text in the reply box: what was typed, or the person's draft.
    typed: String,
    seen: u64,
    members: Vec<Choice>,
    assigned: String,
}

async fn one_page(
    state: &AppState,
    m: &WorkspaceMember,
    id: i64,
    errors: FieldErrors,
    typed: Option<String>,
) -> AppResult<OnePage> {
    let services = &state.services;
    services
        .require_comments(m.membership.workspace_id())
        .await?;
    let Conversation {
        line,
        parent,
        replies,
        drafts,
        abilities,
        answered,
    } = services.comment_conversation(&m.membership, id).await?;
    let tz = zone_of(m);
    let mine = drafts
        .iter()
        .find(|(d, _)| {
            d.author_id == Some(m.auth.user.id) && d.state == services::comments::reply::DRAFT
        })
        .map(|(d, _)| d.body.clone());
    let members = services
        .members(m.membership.workspace_id())
        .await?
        .into_iter()
        .map(|member| Choice {
            value: member.user_id.0.to_string(),
            label: member.name,
        })
        .collect();
    let can_answer = m.membership.role.can_publish();
    let by_account = line.comment.by_account;
    let gone = line.comment.gone_at.is_some();
    let no_reply = if gone {
        Some("This comment was deleted, so it cannot be answered.".to_owned())
    } else if !can_answer {
        Some("Viewers can read comments but not answer them.".to_owned())
    } else if !abilities.reply {
        Some(format!(
            "{}'s API does not let an app reply here.",
            line.platform.label()
        ))
    } else if line.platform == Platform::Instagram && line.comment.parent_platform_id.is_some() {
        Some(
            "Instagram takes replies only to comments on the post: answer the comment this one \
             replies to."
                .to_owned(),
        )
    } else {
        None
    };
    Ok(OnePage {
        layout: Layout::for_member(state, m, "Comment"),
        errors,
        ws: m.membership.workspace.id,
        row: row(&line, tz),
        post_id: line.post_id,
        excerpt: line.post_excerpt.clone(),
        permalink: line.permalink.clone(),
        parent: parent.map(|p| (p.author_name, p.body)),
        replies: replies
            .into_iter()
            .map(|r| {
                (
                    r.author_name,
                    r.body,
                    schedule::describe(r.written_at, tz),
                    r.by_account,
                    r.hidden,
                )
            })
            .collect(),
        drafts: {
            let mut rows = Vec::new();
            for (d, author) in drafts {
                let pending = d.state == services::comments::reply::PENDING;
                let may_decide = pending
                    && can_answer
                    && services
                        .may_decide_reply(&m.membership, &m.auth.user, &d)
                        .await?
                        .is_ok();
                rows.push(DraftRow {
                    id: d.id,
                    pending,
                    may_decide,
                    author: author.unwrap_or_else(|| "A former member".to_owned()),
                    body: d.body,
                    state: d.state,
                    suggested: d.suggested,
                    error: d.error,
                    when: schedule::describe(d.sent_at.unwrap_or(d.created_at), tz),
                });
            }
            rows
        },
        can_answer,
        can_reply: no_reply.is_none(),
        no_reply,
        gone,
        can_hide: can_answer && abilities.hide && !by_account && !gone,
        can_delete: can_answer && (abilities.delete || by_account) && !gone,
        ai: state.services.ai_state(&m.membership) == services::ai::AiState::On,
        typed: typed.or(mine).unwrap_or_default(),
        seen: answered,
        members,
        assigned: line
            .comment
            .assigned_to
            .map(|a| a.to_string())
            .unwrap_or_default(),
    })
}

fn comment_path(ws: i64, id: i64) -> String {
    format!("/w/{ws}/comments/{id}")
}

pub async fn one(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((_, id)): PathIds<(WorkspaceId, i64)>,
) -> AppResult {
    render(one_page(&state, &m, id, FieldErrors::new(), None).await?)
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ReplyForm {
    reply: String,
    seen: String,
    /// `send` or `draft`.
    action: String,
}

pub async fn reply(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((ws, id)): PathIds<(WorkspaceId, i64)>,
    Form(form): Form<ReplyForm>,
) -> AppResult {
    let services = &state.services;
    let result = if form.action == "draft" {
        services
            .save_reply_draft(&m.membership, &m.auth.user, id, &form.reply)
            .await
            .map(|_| Flash::ReplyDraftSaved)
    } else {
        services
            .send_reply(
                &m.membership,
                &m.auth.user,
                id,
                &form.reply,
                form.seen.parse().unwrap_or(0),
            )
            .await
            .map(|sent| match sent {
                Sent::Posted => Flash::ReplySent,
                Sent::Unconfirmed => Flash::ReplyUnconfirmed,
                Sent::Pending => Flash::ReplyPending,
            })
    };
    match result {
        Ok(flash) => Ok(redirect_with(&comment_path(ws.0, id), flash)),
        Err(err) => {
            let mut errors = FieldErrors::new();
            errors.absorb(err)?;
            rerender(one_page(&state, &m, id, errors, Some(form.reply)).await?)
        }
    }
}

pub async fn suggest(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((ws, id)): PathIds<(WorkspaceId, i64)>,
) -> AppResult {
    match state
        .services
        .suggest_reply(&m.membership, &m.auth.user, id)
        .await
    {
        Ok(_) => Ok(redirect_with(
            &comment_path(ws.0, id),
            Flash::ReplySuggested,
        )),
        Err(err @ ServiceError::Invalid { .. }) => {
            let mut errors = FieldErrors::new();
            errors.absorb(err)?;
            rerender(one_page(&state, &m, id, errors, None).await?)
        }
        Err(err) => Err(err.into()),
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct FlagForm {
    on: String,
}

/// A refusal from the platform (or of the request) shown on the comment's page.
async fn on_comment_page(
    state: &AppState,
    m: &WorkspaceMember,
    id: i64,
    result: services::Result<()>,
    flash: Flash,
) -> AppResult {
    match result {
        Ok(()) => Ok(redirect_with(
            &comment_path(m.membership.workspace.id, id),
            flash,
        )),
        Err(err @ ServiceError::Invalid { .. }) => {
            let mut errors = FieldErrors::new();
            errors.absorb(err)?;
            rerender(one_page(state, m, id, errors, None).await?)
        }
        Err(err) => Err(err.into()),
    }
}

pub async fn hide(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((_, id)): PathIds<(WorkspaceId, i64)>,
    Form(form): Form<FlagForm>,
) -> AppResult {
    let result = state
        .services
        .hide_comment(&m.membership, &m.auth.user, id, form.on == "1")
        .await;
    on_comment_page(&state, &m, id, result, Flash::CommentUpdated).await
}

pub async fn delete(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((_, id)): PathIds<(WorkspaceId, i64)>,
) -> AppResult {
    let result = state
        .services
        .delete_comment(&m.membership, &m.auth.user, id)
        .await;
    on_comment_page(&state, &m, id, result, Flash::CommentDeleted).await
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct AssignForm {
    assignee: String,
}

pub async fn assign(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((_, id)): PathIds<(WorkspaceId, i64)>,
    Form(form): Form<AssignForm>,
) -> AppResult {
    let to = match form.assignee.trim() {
        "" => None,
        raw => match raw.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => {
                let err = ServiceError::invalid(
                    "assignee",
                    "Choose a member of this workspace to assign the comment to.",
                );
                return on_comment_page(&state, &m, id, Err(err), Flash::CommentUpdated).await;
            }
        },
    };
    let result = state
        .services
        .assign_comment(&m.membership, &m.auth.user, id, to)
        .await;
    on_comment_page(&state, &m, id, result, Flash::CommentUpdated).await
}

pub async fn done(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((_, id)): PathIds<(WorkspaceId, i64)>,
    Form(form): Form<FlagForm>,
) -> AppResult {
    let result = state
        .services
        .mark_comment(&m.membership, &m.auth.user, id, form.on == "1")
        .await;
    on_comment_page(&state, &m, id, result, Flash::CommentUpdated).await
}

pub async fn reply_approvals(
    State(state): State<AppState>,
    m: WorkspaceMember,
    Form(form): Form<Switch>,
) -> AppResult {
    state
        .services
        .set_reply_approvals(&m.membership, &m.auth.user, form.on())
        .await?;
    Ok(redirect_with(
        &list_path(m.membership.workspace.id),
        Flash::CommentSettingsSaved,
    ))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct DecideForm {
    /// `approve` or `back`.
    decision: String,
}

pub async fn decide(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((ws, id, reply)): PathIds<(WorkspaceId, i64, i64)>,
    Form(form): Form<DecideForm>,
) -> AppResult {
    let approve = match form.decision.as_str() {
        "approve" => true,
        "back" => false,
        _ => {
            let err =
                ServiceError::invalid("reply", "Choose to approve the reply or send it back.");
            return on_comment_page(&state, &m, id, Err(err), Flash::CommentUpdated).await;
        }
    };
    match state
        .services
        .decide_reply(&m.membership, &m.auth.user, id, reply, approve)
        .await
    {
        Ok(sent) => Ok(redirect_with(
            &comment_path(ws.0, id),
            match (approve, sent) {
                (false, _) => Flash::ReplyReturned,
                (true, Sent::Unconfirmed) => Flash::ReplyUnconfirmed,
                (true, _) => Flash::ReplySent,
            },
        )),
        Err(err) => on_comment_page(&state, &m, id, Err(err), Flash::CommentUpdated).await,
    }
}

//! A post's page: its text, schedule, each account's outcome, and what can be done next.

use super::{StateBadge, badge_at, shown_state, zone_of};
use crate::AppState;
use crate::error::AppResult;
use crate::extract::{PathIds, WorkspaceMember};
use crate::forms::FieldErrors;
use crate::page::Layout;
use crate::routes::render;
use askama::Template;
use axum::extract::State;
use domain::{PostId, WorkspaceId, schedule};
use services::posts::{PostState, PostView, effective_text};
use services::publishing::AttemptOutcome;

pub struct TargetRow {
    pub id: i64,
    pub platform: String,
    pub username: String,
    pub state: StateBadge,
    pub raw_state: PostState,
    pub text: String,
    pub attempts: i32,
    pub error: Option<String>,
    pub permalink: Option<String>,
    /// Names of the files chosen for this account instead of the post's.
    pub own_files: Vec<String>,
    /// The first comment's outcome under this account's post, when there is one to tell.
    pub comment: Option<CommentLine>,
    /// "Story" or "Reel" when not a feed post.
    pub format: Option<&'static str>,
}

/// What became of a target's first comment.
pub struct CommentLine {
    pub text: String,
    /// Whether a person may ask for it again (it failed, or may not be there).
    pub retryable: bool,
    pub warn: bool,
}

fn comment_line(target: &services::posts::TargetView) -> Option<CommentLine> {
    use services::first_comments::CommentState as c;
    let t = &target.target;
    let why = t.comment_error.clone().unwrap_or_default();
    let (text, retryable, warn) = match t.comment_state? {
        c::Pending => (
            "First comment: waiting to be posted.".to_owned(),
            false,
            false,
        ),
        c::Posting => ("First comment: being posted.".to_owned(), false, false),
        c::Posted => ("First comment: posted.".to_owned(), false, false),
        c::Failed => (format!("First comment failed. {why}"), true, true),
        c::Unconfirmed => (format!("First comment needs a check. {why}"), true, true),
        c::Unsupported => (format!("No first comment: {why}"), false, false),
    };
    Some(CommentLine {
        text,
        retryable,
        warn,
    })
}

/// A file of the post, for its page.
pub struct MediaThumb {
    pub id: i64,
    pub filename: String,
    pub has_thumb: bool,
}

pub struct AttemptRow {
    pub account: String,
    pub number: i32,
    pub started: String,
    pub finished: String,
    pub outcome: String,
    pub error: String,
}

#[derive(Template)]
#[template(path = "posts/show.html")]
pub struct PostPage {
    pub layout: Layout,
    pub errors: FieldErrors,
    pub ws: i64,
    pub id: i64,
    pub body: String,
    pub first_comment: Option<String>,
    pub state: StateBadge,
    pub when: Option<String>,
    pub published: Option<String>,
    pub campaign: Option<(i64, String, String)>,
    pub failure: Option<String>,
    pub targets: Vec<TargetRow>,
    pub media: Vec<MediaThumb>,
    pub attempts: Vec<AttemptRow>,
    pub can_edit: bool,
    pub editable: bool,
    pub scheduled: bool,
    pub deletable: bool,
    pub reschedule_value: String,
    pub timezone: String,
    /// Being published now: the page polls `…/status` (and offers a plain "Refresh" link).
    pub publishing: bool,
    /// "Written with an AI suggestion from OpenAI (gpt-4o-mini), taken by Ada Lovelace on …".
    pub provenance: Option<String>,
    /// Each published account's latest figures, when the workspace reads analytics.
    pub figures: Vec<FigureRow>,
    pub figure_labels: Vec<&'static str>,
    pub review: Option<ReviewPanel>,
    /// What clients said through preview links: "Dana approved it on …: “…”".
    pub client_said: Vec<String>,
    /// The team's notes on the post, oldest first.
    pub notes: Vec<NoteRow>,
    /// The other members, offered as "Notify" checkboxes: (user id, name).
    pub mentionable: Vec<(i64, String)>,
    /// A note as typed and the members ticked, when adding it was refused.
    pub note_typed: String,
    pub note_ticked: Vec<i64>,
}

/// A note on the post's page.
pub struct NoteRow {
    pub id: i64,
    /// Its author's name ("A former member" when their account is gone).
    pub author: String,
    pub when: String,
    pub body: String,
    pub deletable: bool,
}

/// The approval part of a post's page: the decision form for a post pending approval, the
/// last reviewer's note on a draft sent back, and every decision so far.
pub struct ReviewPanel {
    pub pending: bool,
    /// The revision shown, sent back with the decision.
    pub revision: i32,
    /// Why the reader may not decide on it (no form then).
    pub refused: Option<String>,
    /// "Changes asked for by Ada Lovelace on …", with the note.
    pub last: Option<(String, String)>,
    /// "Approved by Ada Lovelace on …", each with its note.
    pub history: Vec<(String, Option<String>)>,
    /// The note as typed, when a decision was refused.
    pub typed: String,
}

/// A published target's figures on the post's page.
pub struct FigureRow {
    pub account: String,
    pub cells: Vec<String>,
    pub read: String,
}

pub async fn build(
    state: &AppState,
    m: &WorkspaceMember,
    post_id: i64,
    errors: FieldErrors,
) -> AppResult<PostPage> {
    let PostView {
        post,
        targets,
        media,
        account_media,
        campaign,
        attempts,
    } = state
        .services
        .post_view(m.membership.workspace_id(), PostId(post_id))
        .await?;
    let tz = zone_of(m);
    let fmt = |t: chrono::DateTime<chrono::Utc>| schedule::describe(t, tz);
    let name_of = |target_id: i64| {
        targets
            .iter()
            .find(|t| t.target.id == target_id)
            .map(|t| {
                format!(
                    "{} @{}",
                    platform_label(&t.account.platform),
                    t.account.username
                )
            })
            .unwrap_or_default()
    };
    let attempt_rows = attempts
        .iter()
        .map(|a| AttemptRow {
            account: name_of(a.target_id),
            number: a.number,
            started: fmt(a.started_at),
            finished: a.finished_at.map(fmt).unwrap_or_else(|| "—".into()),
            outcome: match a.outcome {
                None => "in flight".into(),
                Some(AttemptOutcome::Retry) => "will retry".into(),
                Some(other) => other.as_str().to_owned(),
            },
            error: a.error.clone().unwrap_or_default(),
        })
        .collect();
    let provenance = state.services.post_provenance(&post).await?.map(|p| {
        let who = p
            .accepted_by
            .unwrap_or_else(|| "a former member".to_owned());
        let when = p
            .accepted_at
            .map(|t| format!(" on {}", fmt(t)))
            .unwrap_or_default();
        format!(
            "Written with an AI suggestion from {} ({}), taken by {who}{when}.",
            p.provider, p.model
        )
    });
    let figures = if state.services.analytics_on(&m.membership)
        && state
            .services
            .require_analytics(m.membership.workspace_id())
            .await
            .is_ok()
    {
        state
            .services
            .post_figures(m.membership.workspace_id(), PostId(post.id))
            .await?
            .into_iter()
            .filter(|f| !f.totals.is_empty())
            .map(|f| FigureRow {
                account: format!("{} @{}", f.platform.label(), f.username),
                cells: services::analytics::POST_METRICS
                    .iter()
                    .map(|m| {
                        f.totals
                            .get(m.key())
                            .map(|v| domain::plans::thousands(v.unsigned_abs()))
                            .unwrap_or_else(|| "—".into())
                    })
                    .collect(),
                read: f.read_at.map(fmt).unwrap_or_default(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let review = review_panel(state, m, &post, &fmt).await?;
    let client_said = state
        .services
        .client_feedback(m.membership.workspace_id(), PostId(post.id))
        .await?
        .into_iter()
        .map(|f| {
            let when = fmt(f.created_at);
            match (f.kind.as_str(), f.comment) {
                ("approved", Some(c)) => {
                    format!("{} (client) approved it on {when}: “{c}”", f.name)
                }
                ("approved", None) => format!("{} (client) approved it on {when}", f.name),
                (_, c) => format!(
                    "{} (client) commented on {when}: “{}”",
                    f.name,
                    c.unwrap_or_default()
                ),
            }
        })
        .collect();
    let notes = state
        .services
        .notes_of(&m.membership, &m.auth.user, PostId(post.id))
        .await?
        .into_iter()
        .map(|n| NoteRow {
            id: n.note.id,
            author: n.author.unwrap_or_else(|| "A former member".to_owned()),
            when: fmt(n.note.created_at),
            body: n.note.body,
            deletable: n.deletable,
        })
        .collect();
    let mentionable = state
        .services
        .members(m.membership.workspace_id())
        .await?
        .into_iter()
        .filter(|p| p.user_id.0 != m.auth.user.id)
        .map(|p| (p.user_id.0, p.name))
        .collect();
    let title = services::posts::excerpt(&post.body);
    let now = services::now();
    let shown = shown_state(post.state, post.scheduled_at, now);
    Ok(PostPage {
        layout: Layout::for_member(state, m, if title.is_empty() { "Post" } else { &title }),
        errors,
        ws: post.workspace_id,
        id: post.id,
        targets: targets
            .iter()
            .map(|t| TargetRow {
                id: t.target.id,
                platform: platform_label(&t.account.platform).to_owned(),
                username: t.account.username.clone(),
                state: badge_at(t.target.state, post.scheduled_at, now),
                raw_state: t.target.state,
                text: effective_text(&post.body, t.target.body.as_deref()).to_owned(),
                attempts: t.target.attempts,
                error: t.target.last_error.clone(),
                permalink: t.target.permalink.clone(),
                format: match services::posts::format_of(&t.target.options) {
                    domain::media::Format::Feed => None,
                    other => Some(other.label()),
                },
                own_files: account_media
                    .iter()
                    .filter(|(a, _)| *a == t.account.id)
                    .map(|(_, m)| m.filename.clone())
                    .collect(),
                comment: comment_line(t),
            })
            .collect(),
        attempts: attempt_rows,
        media: media
            .iter()
            .map(|m| MediaThumb {
                id: m.id,
                filename: m.filename.clone(),
                has_thumb: m.thumb_key.is_some(),
            })
            .collect(),
        state: badge_at(post.state, post.scheduled_at, now),
        when: post.scheduled_at.map(fmt),
        published: post.published_at.map(fmt),
        campaign: campaign.map(|c| (c.id, c.name, c.colour.trim_start_matches('#').to_owned())),
        failure: post.failure_reason.clone(),
        can_edit: m.membership.role.can_publish(),
        editable: [
            PostState::Draft,
            PostState::Scheduled,
            PostState::PendingApproval,
        ]
        .contains(&shown),
        scheduled: [PostState::Scheduled, PostState::PendingApproval].contains(&shown),
        deletable: shown != PostState::Publishing,
        publishing: shown == PostState::Publishing,
        reschedule_value: post
            .scheduled_at
            .map(|at| {
                schedule::to_local(at, tz)
                    .format("%Y-%m-%dT%H:%M")
                    .to_string()
            })
            .unwrap_or_default(),
        timezone: tz.name().to_owned(),
        provenance,
        figures,
        figure_labels: services::analytics::POST_METRICS
            .iter()
            .map(|m| m.label())
            .collect(),
        review,
        client_said,
        notes,
        mentionable,
        note_typed: String::new(),
        note_ticked: Vec::new(),
        body: post.body,
        first_comment: post.first_comment,
    })
}

/// The review part of `post`'s page, when it is pending approval or was reviewed.
async fn review_panel(
    state: &AppState,
    m: &WorkspaceMember,
    post: &store::entities::post::Model,
    fmt: &(dyn Fn(chrono::DateTime<chrono::Utc>) -> String + Sync),
) -> AppResult<Option<ReviewPanel>> {
    let pending = post.state == PostState::PendingApproval;
    if !pending && post.reviewed_at.is_none() {
        return Ok(None);
    }
    let ws = m.membership.workspace_id();
    let reviews = state.services.reviews_of(ws, PostId(post.id)).await?;
    let line = |r: &services::posts::approval::ReviewLine| {
        let decision = domain::approval::Decision::parse(&r.review.decision)
            .map(|d| d.verb())
            .unwrap_or("reviewed");
        let who = r.reviewer.as_deref().unwrap_or("a former member");
        let mut said = format!("{who} {decision} it on {}", fmt(r.review.created_at));
        if let Some(first) = said.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        said
    };
    let history = reviews
        .iter()
        .map(|r| (line(r), r.review.note.clone()))
        .collect();
    let last = match (post.state, reviews.last(), &post.review_note) {
        (PostState::Draft, Some(r), Some(note)) if r.review.decision != "approved" => {
            Some((line(r), note.clone()))
        }
        _ => None,
    };
    let refused = if pending {
        state
            .services
            .may_review(&m.membership, &m.auth.user, post)
            .await?
            .err()
    } else {
        None
    };
    Ok(Some(ReviewPanel {
        pending,
        revision: post.revision,
        refused,
        last,
        history,
        typed: String::new(),
    }))
}

pub fn platform_label(slug: &str) -> &'static str {
    domain::Platform::parse(slug)
        .map(|p| p.label())
        .unwrap_or("Unknown platform")
}

pub async fn page(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((_, post_id)): PathIds<(WorkspaceId, PostId)>,
) -> AppResult {
    render(build(&state, &m, post_id.0, FieldErrors::new()).await?)
}

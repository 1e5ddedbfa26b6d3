//! What can be done to a post from its page (and the calendar): duplicate, delete (asked first,
//! with what it touches), take off the schedule, move, retry an account, settle an unknown
//! outcome.

use super::{post_path, show, zone_of};
use crate::AppState;
use crate::confirm::{ConfirmPage, Confirmation, ask_first};
use crate::error::{AppError, AppResult};
use crate::extract::{PathIds, WorkspaceMember};
use crate::flash::{Flash, redirect_with};
use crate::forms::FieldErrors;
use crate::page::Layout;
use crate::routes::{render, safe_next};
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use domain::{PostId, TargetId, WorkspaceId, schedule};
use services::ServiceError;
use services::posts::{PostState, excerpt};
use services::publishing::resolve::Resolution;

/// Ends an action: on success a redirect to `done` with `flash`; a refusal shows the post's
/// page again with the reason.
async fn outcome(
    state: &AppState,
    m: &WorkspaceMember,
    post_id: i64,
    result: Result<(), ServiceError>,
    done: &str,
    flash: Flash,
) -> AppResult {
    match result {
        Ok(()) => Ok(redirect_with(done, flash)),
        Err(err) => {
            let (page, status) = refused(state, m, post_id, err).await?;
            let mut res = render(page)?;
            *res.status_mut() = status;
            Ok(res)
        }
    }
}

/// The post's page again with a service's refusal and the status that says why: a rule's or
/// role's at the top (403), a version the reader did not see (409), a field's at the field
/// (422).
pub(super) async fn refused(
    state: &AppState,
    m: &WorkspaceMember,
    post_id: i64,
    err: ServiceError,
) -> AppResult<(show::PostPage, StatusCode)> {
    let mut errors = FieldErrors::new();
    let status = match err {
        ServiceError::NotFound => return Err(AppError::NotFound),
        ServiceError::Forbidden(message) => {
            errors.add("post", message);
            StatusCode::FORBIDDEN
        }
        ServiceError::Invalid {
            field: "revision",
            message,
        } => {
            errors.add("revision", message);
            StatusCode::CONFLICT
        }
        other => {
            errors.absorb(other)?;
            StatusCode::UNPROCESSABLE_ENTITY
        }
    };
    Ok((show::build(state, m, post_id, errors).await?, status))
}

type Ids = PathIds<(WorkspaceId, PostId)>;

pub async fn duplicate(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((ws, post_id)): Ids,
) -> AppResult {
    let result = state
        .services
        .duplicate_post(&m.membership, &m.auth.user, post_id)
        .await;
    match result {
        Ok(copy) => Ok(redirect_with(
            &format!("{}/edit", post_path(ws.0, copy.id)),
            Flash::PostDuplicated,
        )),
        Err(err) => outcome(&state, &m, post_id.0, Err(err), "", Flash::PostDuplicated).await,
    }
}

/// The page that asks before deleting a post: what happens to its schedule and to what was
/// already published.
pub async fn confirm_delete(
    State(app): State<AppState>,
    m: WorkspaceMember,
    PathIds((ws, post_id)): Ids,
) -> AppResult {
    if !m.membership.role.can_publish() {
        return Err(AppError::Forbidden(
            "Viewers can see posts but not delete them.".into(),
        ));
    }
    let view = app
        .services
        .post_impact(m.membership.workspace_id(), post_id)
        .await?;
    let post = &view.post;
    let quoted = format!("“{}”", excerpt(&post.body));
    let waiting: Vec<String> = view
        .targets
        .iter()
        .filter(|t| {
            [PostState::Scheduled, PostState::Waiting, PostState::Draft].contains(&t.target.state)
        })
        .map(|t| format!("@{}", t.account.username))
        .collect();
    let published = view
        .targets
        .iter()
        .filter(|t| t.target.state == PostState::Published)
        .count();
    let mut consequences = Vec::new();
    let mut button = Some("Delete the post".to_owned());
    match post.state {
        PostState::Draft => consequences.push(format!("The draft {quoted} is deleted.")),
        PostState::Publishing => {
            consequences.push(format!(
                "{quoted} is being published right now. Wait until it is done, then delete it."
            ));
            button = None;
        }
        PostState::Scheduled | PostState::Waiting => {
            let when = post
                .scheduled_at
                .map(|at| format!(" for {}", schedule::describe(at, zone_of(&m))))
                .unwrap_or_default();
            consequences.push(format!(
                "{quoted} is scheduled{when}. Deleting it takes it off the schedule: it is not published to {}.",
                if waiting.is_empty() {
                    "any account".to_owned()
                } else {
                    waiting.join(", ")
                }
            ));
        }
        _ => consequences.push(format!(
            "{quoted} and its publishing history are deleted from Socializioz."
        )),
    }
    if published > 0 {
        consequences.push(format!(
            "What was published to {} stays on the platforms: delete it there if it should go.",
            domain::counted(published, "account", "accounts")
        ));
    }
    consequences.push("This cannot be undone.".to_owned());
    render(ConfirmPage {
        layout: Layout::for_member(&app, &m, "Delete a post"),
        heading: "Delete this post?".to_owned(),
        consequences,
        action: format!("{}/delete", post_path(ws.0, post_id.0)),
        button,
        back: post_path(ws.0, post_id.0),
    })
}

/// Deletes the post, once confirmed on the page that asks (a post without `confirm=yes` is
/// sent there).
pub async fn delete(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((ws, post_id)): Ids,
    Form(confirmation): Form<Confirmation>,
) -> AppResult {
    if !confirmation.given() {
        return Ok(ask_first(&format!("{}/delete", post_path(ws.0, post_id.0))));
    }
    let result = state
        .services
        .delete_post(&m.membership, &m.auth.user, post_id)
        .await;
    let done = format!("/w/{ws}/posts");
    outcome(&state, &m, post_id.0, result, &done, Flash::PostDeleted).await
}

pub async fn unschedule(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((ws, post_id)): Ids,
) -> AppResult {
    let result = state
        .services
        .unschedule_post(&m.membership, &m.auth.user, post_id)
        .await;
    let done = post_path(ws.0, post_id.0);
    outcome(&state, &m, post_id.0, result, &done, Flash::PostUnscheduled).await
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct RescheduleForm {
    scheduled_at: String,
    /// Where to go afterwards (the calendar sends its own address).
    next: String,
}

pub async fn reschedule(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((ws, post_id)): Ids,
    Form(form): Form<RescheduleForm>,
) -> AppResult {
    let result = match schedule::parse_local(&form.scheduled_at) {
        Ok(local) => state
            .services
            .reschedule_post(&m.membership, &m.auth.user, post_id, local)
            .await
            .map(|_| ()),
        Err(e) => Err(ServiceError::invalid("scheduled_at", e.0)),
    };
    let done = if form.next.is_empty() {
        post_path(ws.0, post_id.0)
    } else {
        safe_next(&form.next).to_owned()
    };
    outcome(&state, &m, post_id.0, result, &done, Flash::PostRescheduled).await
}

type TargetIds = PathIds<(WorkspaceId, PostId, TargetId)>;

pub async fn retry(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((ws, post_id, target_id)): TargetIds,
) -> AppResult {
    let result = state
        .services
        .retry_target(&m.membership, &m.auth.user, post_id, target_id)
        .await;
    let done = post_path(ws.0, post_id.0);
    outcome(&state, &m, post_id.0, result, &done, Flash::TargetRetried).await
}

/// A person asks for a failed (or unconfirmed) first comment to be posted again.
pub async fn retry_comment(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((ws, post_id, target_id)): TargetIds,
) -> AppResult {
    let result = state
        .services
        .retry_first_comment(&m.membership, &m.auth.user, post_id, target_id)
        .await;
    let done = post_path(ws.0, post_id.0);
    outcome(&state, &m, post_id.0, result, &done, Flash::CommentRetried).await
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ResolveForm {
    /// `yes`: the post is on the platform; `no`: it is not.
    found: String,
    permalink: String,
}

pub async fn resolve(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((ws, post_id, target_id)): TargetIds,
    Form(form): Form<ResolveForm>,
) -> AppResult {
    let link = form.permalink.trim();
    let (resolution, flash) = match form.found.as_str() {
        "yes" if link.is_empty() => (
            Resolution::WasPublished { permalink: None },
            Flash::TargetConfirmed,
        ),
        "yes" if link.starts_with("https://") && link.len() <= 2000 => (
            Resolution::WasPublished {
                permalink: Some(link.to_owned()),
            },
            Flash::TargetConfirmed,
        ),
        "yes" => {
            let err = ServiceError::invalid(
                "target",
                "The link must start with https:// (or leave it empty).",
            );
            return outcome(&state, &m, post_id.0, Err(err), "", Flash::TargetConfirmed).await;
        }
        "no" => (Resolution::NotPublished, Flash::TargetRetried),
        _ => return Err(AppError::NotFound),
    };
    let result = state
        .services
        .resolve_unconfirmed(&m.membership, &m.auth.user, post_id, target_id, resolution)
        .await;
    let done = post_path(ws.0, post_id.0);
    outcome(&state, &m, post_id.0, result, &done, flash).await
}

#[derive(serde::Deserialize)]
pub struct ReviewForm {
    #[serde(default)]
    revision: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    note: String,
}

/// An approver's decision on a post pending approval. A post changed since the page was shown
/// is refused (409) with the new version on the page; a refused decision shows the page again
/// with the reason and the note as typed.
pub async fn review(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((ws, post_id)): Ids,
    Form(form): Form<ReviewForm>,
) -> AppResult {
    use domain::approval::Decision;
    let result = match Decision::parse(&form.decision) {
        Ok(decision) => state
            .services
            .review_post(
                &m.membership,
                &m.auth.user,
                post_id,
                form.revision.trim().parse().unwrap_or(-1),
                decision,
                &form.note,
            )
            .await
            .map(|_| decision),
        Err(e) => Err(ServiceError::invalid("note", e.0)),
    };
    let err = match result {
        Ok(decision) => {
            let flash = if decision == Decision::Approved {
                Flash::PostApproved
            } else {
                Flash::PostSentBack
            };
            return Ok(redirect_with(&format!("/w/{}/approvals", ws.0), flash));
        }
        Err(err) => err,
    };
    let (mut page, status) = refused(&state, &m, post_id.0, err).await?;
    if let Some(r) = page.review.as_mut() {
        r.typed = form.note;
    }
    let mut res = render(page)?;
    *res.status_mut() = status;
    Ok(res)
}

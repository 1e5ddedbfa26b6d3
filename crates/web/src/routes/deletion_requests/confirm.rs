//! Confirming a deletion request received by e-mail. Opening the link shows what will be
//! deleted and what is kept, with a button; only pressing it deletes (mail scanners that open
//! links change nothing). No sign-in is needed: the link, sent to the address, proves it.

use crate::AppState;
use crate::context::RequestCtx;
use crate::error::{AppError, AppResult};
use crate::extract::{Ctx, PathIds};
use crate::page::Layout;
use crate::routes::{no_referrer, render};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use services::ServiceError;
use services::deletion::Preview;
use services::deletion_requests::{Confirmation, DeadLink};

#[derive(Template)]
#[template(path = "deletion_requests/confirm.html")]
struct ConfirmPage {
    layout: Layout,
    /// Why the link cannot be used.
    dead: Option<String>,
    /// After the button: whether the deletion finished (`Some(true)`) or is under way.
    done: Option<bool>,
    /// Before the button: the address and what confirming does.
    email: String,
    preview: Option<Preview>,
    deadline: String,
    link_expires: String,
}

impl ConfirmPage {
    fn new(layout: Layout) -> Self {
        Self {
            layout,
            dead: None,
            done: None,
            email: String::new(),
            preview: None,
            deadline: String::new(),
            link_expires: String::new(),
        }
    }
}

async fn layout(state: &AppState, ctx: &RequestCtx) -> AppResult<Layout> {
    Layout::new(state, ctx, "Delete your account").await
}

/// The page that says why a link does not work: 404 for a link that never existed, 410 for
/// one that did.
async fn dead(state: &AppState, ctx: &RequestCtx, why: DeadLink) -> AppResult {
    dead_message(
        state,
        ctx,
        why.message().to_owned(),
        why == DeadLink::Unknown,
    )
    .await
}

async fn dead_message(
    state: &AppState,
    ctx: &RequestCtx,
    message: String,
    unknown: bool,
) -> AppResult {
    let mut page = ConfirmPage::new(layout(state, ctx).await?);
    page.dead = Some(message);
    let mut res = render(page)?;
    *res.status_mut() = if unknown {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::GONE
    };
    Ok(no_referrer(res))
}

pub async fn page(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    PathIds(token): PathIds<String>,
) -> AppResult {
    let link = match state
        .services
        .deletion_request_link(&token, services::now())
        .await?
    {
        Ok(link) => link,
        Err(why) => return dead(&state, &ctx, why).await,
    };
    let preview = state.services.deletion_preview(&link.user).await?;
    let mut page = ConfirmPage::new(layout(&state, &ctx).await?);
    page.email = link.user.email.clone();
    page.deadline = link.request.deadline_on.to_string();
    page.link_expires = link
        .request
        .link_expires_at
        .format("%Y-%m-%d %H:%M UTC")
        .to_string();
    page.preview = Some(preview);
    Ok(no_referrer(render(page)?))
}

pub async fn confirm(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    PathIds(token): PathIds<String>,
) -> AppResult {
    match state
        .services
        .confirm_deletion_request(&token, services::now())
        .await
    {
        Ok(outcome) => {
            // The confirming browser may have been signed in as the deleted account: its
            // session is gone, so the frame is built as for a visitor.
            let mut ctx = ctx;
            ctx.auth = None;
            let mut page = ConfirmPage::new(layout(&state, &ctx).await?);
            page.done = Some(outcome == Confirmation::Deleted);
            Ok(no_referrer(render(page)?))
        }
        Err(ServiceError::Invalid { message, .. }) => {
            dead_message(&state, &ctx, message, false).await
        }
        Err(err) => Err(AppError::from(err)),
    }
}

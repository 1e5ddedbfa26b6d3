//! Client preview links: the team's page of links (make one for a range of days, revoke), the
//! form on a post's page that makes one for the post, and the page a client opens without an
//! account, with its files and, when allowed, a way to approve or comment by name.

use super::posts::zone_of;
use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::extract::{Ctx, PathIds, WorkspaceMember};
use crate::flash::{Flash, redirect_with};
use crate::forms::FieldErrors;
use crate::page::Layout;
use crate::routes::{no_referrer, render};
use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use domain::{PostId, WorkspaceId, schedule};
use services::ServiceError;
use services::previews::{LinkLine, NewLink, Preview, Response, Shows};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/w/{wid}/previews", get(page).post(create))
        .route("/w/{wid}/previews/{lid}/revoke", post(revoke))
        .route("/p/{token}", get(open))
        .route("/p/{token}/posts/{pid}", post(respond))
}

/// Files, outside the request context (no cookies, no frame).
pub fn router_without_context() -> Router<AppState> {
    Router::new().route("/p/{token}/files/{mid}", get(file))
}

#[derive(Template)]
#[template(path = "previews/list.html")]
struct ListPage {
    layout: Layout,
    errors: FieldErrors,
    ws: i64,
    links: Vec<LinkRow>,
    /// The link just made, shown this once: its address and when it stops working.
    made: Option<(String, String)>,
    from: String,
    to: String,
    can_edit: bool,
}

struct LinkRow {
    id: i64,
    shows: String,
    post_id: Option<i64>,
    expires: String,
    respond: bool,
    creator: String,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct NewForm {
    post_id: String,
    from: String,
    to: String,
    days_valid: String,
    respond: String,
}

async fn list_page(
    state: &AppState,
    m: &WorkspaceMember,
    errors: FieldErrors,
    made: Option<(String, String)>,
    typed: &NewForm,
) -> AppResult<ListPage> {
    let tz = zone_of(m);
    let links = state
        .services
        .preview_links(m.membership.workspace_id(), None)
        .await?;
    Ok(ListPage {
        layout: Layout::for_member(state, m, "Client previews"),
        errors,
        ws: m.membership.workspace.id,
        links: links
            .into_iter()
            .map(|LinkLine { link, creator }| LinkRow {
                id: link.id,
                shows: match (link.post_id, link.from_day, link.to_day) {
                    (Some(_), _, _) => "One post".to_owned(),
                    (None, Some(from), Some(to)) => format!("The posts of {from} to {to}"),
                    _ => "Nothing".to_owned(),
                },
                post_id: link.post_id,
                expires: schedule::describe(link.expires_at, tz),
                respond: link.client_may_respond,
                creator: creator.unwrap_or_else(|| "A former member".to_owned()),
            })
            .collect(),
        made,
        from: typed.from.clone(),
        to: typed.to.clone(),
        can_edit: m.membership.role.can_publish(),
    })
}

pub async fn page(State(state): State<AppState>, m: WorkspaceMember) -> AppResult {
    render(list_page(&state, &m, FieldErrors::new(), None, &NewForm::default()).await?)
}

/// Makes a link (for the post named, or for the days given) and shows it, once.
pub async fn create(
    State(state): State<AppState>,
    m: WorkspaceMember,
    Form(form): Form<NewForm>,
) -> AppResult {
    let shows = match form.post_id.trim() {
        "" => {
            let day = |raw: &str, field: &'static str| {
                chrono::NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").map_err(|_| {
                    ServiceError::invalid(field, "Give the day as on a calendar: 2026-12-24.")
                })
            };
            day(&form.from, "from")
                .and_then(|from| day(&form.to, "to").map(|to| Shows::Days { from, to }))
        }
        id => id
            .parse::<i64>()
            .map(|id| Shows::Post(PostId(id)))
            .map_err(|_| ServiceError::NotFound),
    };
    let result = match shows {
        Ok(shows) => {
            state
                .services
                .create_preview_link(
                    &m.membership,
                    &m.auth.user,
                    NewLink {
                        shows,
                        days_valid: form.days_valid.trim().parse().unwrap_or(0),
                        client_may_respond: form.respond == "1",
                    },
                )
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok((link, token)) => {
            let url = format!("{}/p/{token}", state.services.base_url);
            let until = schedule::describe(link.expires_at, zone_of(&m));
            let mut res = render(
                list_page(&state, &m, FieldErrors::new(), Some((url, until)), &form).await?,
            )?;
            *res.status_mut() = StatusCode::CREATED;
            Ok(res)
        }
        Err(err) => {
            let mut errors = FieldErrors::new();
            let status = match err {
                ServiceError::Invalid { .. } | ServiceError::Fields(_) => {
                    errors.absorb(err)?;
                    StatusCode::UNPROCESSABLE_ENTITY
                }
                other => return Err(other.into()),
            };
            let mut res = render(list_page(&state, &m, errors, None, &form).await?)?;
            *res.status_mut() = status;
            Ok(res)
        }
    }
}

pub async fn revoke(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((ws, link)): PathIds<(WorkspaceId, i64)>,
) -> AppResult {
    state
        .services
        .revoke_preview_link(&m.membership, &m.auth.user, link)
        .await?;
    Ok(redirect_with(
        &format!("/w/{}/previews", ws.0),
        Flash::PreviewRevoked,
    ))
}

#[derive(Template)]
#[template(path = "previews/public.html")]
struct PublicPage {
    layout: Layout,
    errors: FieldErrors,
    token: String,
    workspace: String,
    posts: Vec<PublicPost>,
    respond: bool,
    expires: String,
    /// The post a refused response was for, and the name typed.
    typed: Option<(i64, String, String)>,
}

struct PublicPost {
    id: i64,
    when: String,
    accounts: Vec<(&'static str, String, String, &'static str)>,
    files: Vec<(i64, String, bool)>,
    said: Vec<String>,
}

#[derive(Template)]
#[template(path = "previews/gone.html")]
struct GonePage {
    layout: Layout,
}

fn gone(ctx: &crate::context::RequestCtx) -> AppResult {
    let mut res = render(GonePage {
        layout: Layout::outside(ctx, "No longer available"),
    })?;
    *res.status_mut() = StatusCode::NOT_FOUND;
    Ok(no_referrer(res))
}

fn public_page(
    layout: Layout,
    token: String,
    preview: Preview,
    errors: FieldErrors,
    typed: Option<(i64, String, String)>,
) -> PublicPage {
    let zone = preview.zone;
    PublicPage {
        layout,
        errors,
        token,
        workspace: preview.workspace,
        respond: preview.client_may_respond,
        expires: schedule::describe(preview.expires_at, zone),
        posts: preview
            .posts
            .into_iter()
            .map(|p| PublicPost {
                id: p.id,
                when: p
                    .when
                    .map(|t| schedule::describe(t, zone))
                    .unwrap_or_else(|| "No time set yet".to_owned()),
                accounts: p
                    .accounts
                    .into_iter()
                    .map(|(platform, user, text, format)| (platform.label(), user, text, format))
                    .collect(),
                files: p.files,
                said: p
                    .feedback
                    .iter()
                    .map(|f| match (&*f.kind, &f.comment) {
                        ("approved", Some(c)) => format!("{} approved it: “{c}”", f.name),
                        ("approved", None) => format!("{} approved it", f.name),
                        (_, c) => format!("{}: “{}”", f.name, c.as_deref().unwrap_or_default()),
                    })
                    .collect(),
            })
            .collect(),
        typed,
    }
}

pub async fn open(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Path(token): Path<String>,
) -> AppResult {
    let Some(preview) = state.services.open_preview(&token).await? else {
        return gone(&ctx);
    };
    let layout = Layout::outside(&ctx, &format!("Posts of {}", preview.workspace));
    Ok(no_referrer(render(public_page(
        layout,
        token,
        preview,
        FieldErrors::new(),
        None,
    ))?))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct RespondForm {
    name: String,
    comment: String,
    action: String,
}

pub async fn respond(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Path((token, post_id)): Path<(String, String)>,
    Form(form): Form<RespondForm>,
) -> AppResult {
    let Ok(post_id) = post_id.parse::<i64>() else {
        return gone(&ctx);
    };
    let response = if form.action == "approve" {
        Response::Approve
    } else {
        Response::Comment
    };
    let result = state
        .services
        .preview_respond(&token, post_id, &form.name, response, &form.comment)
        .await;
    let (errors, status) = match result {
        Ok(Some(())) => {
            return Ok(redirect_with(
                &format!("/p/{token}#post-{post_id}"),
                Flash::PreviewThanks,
            ));
        }
        Ok(None) => return gone(&ctx),
        Err(ServiceError::Forbidden(message)) => {
            let mut errors = FieldErrors::new();
            errors.add("name", message);
            (errors, StatusCode::FORBIDDEN)
        }
        Err(err) => {
            let mut errors = FieldErrors::new();
            errors.absorb(err)?;
            (errors, StatusCode::UNPROCESSABLE_ENTITY)
        }
    };
    let Some(preview) = state.services.open_preview(&token).await? else {
        return gone(&ctx);
    };
    let layout = Layout::outside(&ctx, &format!("Posts of {}", preview.workspace));
    let mut res = render(public_page(
        layout,
        token,
        preview,
        errors,
        Some((post_id, form.name, form.comment)),
    ))?;
    *res.status_mut() = status;
    Ok(no_referrer(res))
}

/// A file of a post the link shows; anything else is a plain 404.
pub async fn file(
    State(state): State<AppState>,
    Path((token, media)): Path<(String, String)>,
) -> AppResult {
    let Ok(media) = media.parse::<i64>() else {
        return Err(AppError::NotFound);
    };
    match state.services.preview_file(&token, media).await? {
        Some(item) => super::media::serve_original(&state, &item).await,
        None => Err(AppError::NotFound),
    }
}

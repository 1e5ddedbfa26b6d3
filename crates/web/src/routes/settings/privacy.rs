//! The person's privacy settings: "Export all my data" (asking for the ZIP, its progress, the
//! download), and their consent history, on the page and as a JSON download.

use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::extract::{CurrentUser, PathIds};
use crate::page::Layout;
use crate::routes::{fmt_time, render};
use askama::Template;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect};
use domain::{ExportId, UserId};
use services::ServiceError;
use services::export::{self, ExportFile, ExportState, ExportStatus};
use store::entities::{consent_record, data_export};

/// A ledger row in words: what was decided, what it allows, and where.
struct Row {
    at: String,
    at_iso: String,
    what: String,
    allowed: String,
    source: String,
    consent_id: String,
}

/// The newest export, as the page shows it.
struct ExportView {
    id: i64,
    state: ExportState,
    running: bool,
    done: i64,
    total: i64,
    percent: i64,
    size: String,
    ready_at: String,
    expires: String,
    expires_iso: String,
    error: String,
}

fn percent(e: &data_export::Model) -> i64 {
    if e.state.is_ready() {
        100
    } else if e.progress_total > 0 {
        (e.progress_done.clamp(0, e.progress_total) * 100) / e.progress_total
    } else {
        0
    }
}

impl ExportView {
    fn from(e: &data_export::Model, tz: &str) -> Self {
        Self {
            id: e.id,
            state: e.state,
            running: export::is_running(e),
            done: e.progress_done,
            total: e.progress_total,
            percent: percent(e),
            size: services::media::human_size(u64::try_from(e.bytes.unwrap_or(0)).unwrap_or(0)),
            ready_at: e.ready_at.map(|t| fmt_time(&t, tz)).unwrap_or_default(),
            expires: e.expires_at.map(|t| fmt_time(&t, tz)).unwrap_or_default(),
            expires_iso: e.expires_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            error: e.error.clone().unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "settings/privacy.html")]
struct PrivacyPage {
    layout: Layout,
    tab: &'static str,
    rows: Vec<Row>,
    export: Option<ExportView>,
    /// When the next export may be asked for, when not now.
    next_at: Option<String>,
    can_request: bool,
    /// Why a request was refused.
    export_error: Option<String>,
}

async fn history(state: &AppState, user: &CurrentUser) -> AppResult<Vec<consent_record::Model>> {
    let browser = user.ctx.consent.cookie.as_ref().map(|c| c.id.as_str());
    Ok(state
        .services
        .consent_history(UserId(user.auth.user.id), browser)
        .await?)
}

async fn privacy_page(
    state: &AppState,
    user: &CurrentUser,
    export_error: Option<String>,
) -> AppResult<PrivacyPage> {
    let tz = user.auth.user.timezone.clone();
    let rows = history(state, user)
        .await?
        .into_iter()
        .rev()
        .map(|r| {
            let words = services::consent::describe(&r);
            Row {
                at: fmt_time(&r.created_at, &tz),
                at_iso: r.created_at.to_rfc3339(),
                what: words.what,
                allowed: words.allowed,
                source: words.source,
                consent_id: r.consent_id,
            }
        })
        .collect();
    let ExportStatus { latest, next_at } =
        state.services.export_status(user.auth.user_id()).await?;
    let export = latest.as_ref().map(|e| ExportView::from(e, &tz));
    let running = export.as_ref().is_some_and(|e| e.running);
    let layout = Layout::new(state, &user.ctx, "Settings").await?;
    Ok(PrivacyPage {
        layout,
        tab: "privacy",
        rows,
        can_request: !running && next_at.is_none(),
        next_at: next_at.map(|t| fmt_time(&t, &tz)),
        export,
        export_error,
    })
}

pub async fn page(State(state): State<AppState>, user: CurrentUser) -> AppResult {
    render(privacy_page(&state, &user, None).await?)
}

/// "Export all my data": queues the export (or shows the one already being made). Asked for
/// again within a day, the page says when the next is possible.
pub async fn request_export(State(state): State<AppState>, user: CurrentUser) -> AppResult {
    match state.services.request_export(&user.auth.user).await {
        Ok(_) => Ok(Redirect::to("/settings/privacy#export").into_response()),
        Err(ServiceError::Invalid {
            field: "export",
            message,
        }) => {
            let mut res = render(privacy_page(&state, &user, Some(message)).await?)?;
            *res.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            Ok(res)
        }
        Err(err) => Err(err.into()),
    }
}

/// The newest export's progress, for the page's script.
#[derive(serde::Serialize)]
struct StatusBody {
    state: &'static str,
    done: i64,
    total: i64,
    percent: i64,
    running: bool,
}

pub async fn export_status(State(state): State<AppState>, user: CurrentUser) -> AppResult {
    let status = state.services.export_status(user.auth.user_id()).await?;
    let body = match &status.latest {
        Some(e) => StatusBody {
            state: e.state.as_str(),
            done: e.progress_done,
            total: e.progress_total,
            percent: percent(e),
            running: export::is_running(e),
        },
        None => StatusBody {
            state: "none",
            done: 0,
            total: 0,
            percent: 0,
            running: false,
        },
    };
    let mut res = Json(body).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

#[derive(Template)]
#[template(path = "settings/export_gone.html")]
struct GonePage {
    layout: Layout,
}

/// The ZIP, for the signed-in person whose export it is; anyone else gets 404, and an expired
/// export 410 with a page that says so.
pub async fn download_export(
    State(state): State<AppState>,
    user: CurrentUser,
    PathIds(id): PathIds<ExportId>,
) -> AppResult {
    match state.services.export_file(user.auth.user_id(), id).await? {
        ExportFile::Ready {
            key,
            bytes,
            filename,
        } => {
            let (size, stream) = state.services.objects.stream(&key).await.map_err(|err| {
                tracing::error!(error = ?err, export = id.0, "a ready export's file could not be read");
                AppError::NotFound
            })?;
            if size != bytes {
                tracing::warn!(
                    export = id.0,
                    size,
                    bytes,
                    "an export's file has another size than recorded"
                );
            }
            let mut res = Body::from_stream(stream).into_response();
            let headers = res.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/zip"),
            );
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
            headers.insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
                    .unwrap_or(HeaderValue::from_static("attachment")),
            );
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            );
            Ok(res)
        }
        ExportFile::NotReady => Err(AppError::NotFound),
        ExportFile::Gone => {
            let layout = Layout::new(&state, &user.ctx, "Export expired").await?;
            let mut res = render(GonePage { layout })?;
            *res.status_mut() = StatusCode::GONE;
            Ok(res)
        }
    }
}

/// The same history as a file: every field of every record, including the hashes that tie it
/// into the ledger's chain.
pub async fn download(State(state): State<AppState>, user: CurrentUser) -> AppResult {
    let records: Vec<serde_json::Value> = history(&state, &user)
        .await?
        .into_iter()
        .map(|r| {
            serde_json::json!({
                "recorded_at": r.created_at.to_rfc3339(),
                "consent_id": r.consent_id,
                "event": r.event,
                "categories": r.categories.split(',').collect::<Vec<_>>(),
                "policies": serde_json::from_str::<serde_json::Value>(&r.policies).unwrap_or(serde_json::Value::Null),
                "banner_version": r.banner_version,
                "source": r.source,
                "locale": r.locale,
                "browser": r.browser,
                "row_hash": r.row_hash,
                "previous_row_hash": r.prev_hash,
            })
        })
        .collect();
    let body = serde_json::to_string_pretty(&serde_json::json!({ "consent_history": records }))
        .map_err(anyhow::Error::from)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"socializioz-consent-history.json\"",
            ),
        ],
        body,
    )
        .into_response())
}

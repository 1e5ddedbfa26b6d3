//! The media library: upload (streamed, multipart), browse and search, a file's page with
//! where it is used, and the addresses files are served from: to members, and to platforms
//! through signed, expiring links.

use crate::AppState;
use crate::confirm::{ConfirmPage, Confirmation, ask_first};
use crate::error::{AppError, AppResult};
use crate::extract::{PathIds, WorkspaceMember};
use crate::flash::{Flash, redirect_with};
use crate::forms::FieldErrors;
use crate::page::Layout;
use crate::routes::posts::{StateBadge, badge, zone_of};
use crate::routes::render;
use askama::Template;
use axum::Form;
use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::extract::{Multipart, Query, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use domain::media::MediaKind;
use domain::{MediaId, WorkspaceId};
use services::ServiceError;
use services::media::{MediaFilter, UploadMeta, human_size, tags_of};
use std::time::Duration;
use store::entities::media_item;
use tower_http::timeout::TimeoutLayer;

/// The routes of the media library's pages.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/w/{wid}/media", get(page))
        .route("/w/{wid}/media/{mid}", get(show).post(update))
        .route(
            "/w/{wid}/media/{mid}/delete",
            get(confirm_delete).post(delete),
        )
        .route("/w/{wid}/media/{mid}/review", post(review))
        .route("/w/{wid}/media/{mid}/thumb", get(thumb))
        .route("/w/{wid}/media/{mid}/file", get(original))
}

/// The upload route. Uploads stream up to the video limit and may take long, so it has its own
/// body limit and timeout instead of the pages' ones; each file's own limit is held while it
/// arrives (in the media service).
pub fn upload_router(state: &AppState) -> Router<AppState> {
    let upload_limit = usize::try_from(
        state
            .services
            .media_limits
            .video_bytes
            .saturating_add(1024 * 1024),
    )
    .unwrap_or(usize::MAX);
    Router::new()
        .route("/w/{wid}/media/upload", post(upload))
        .route("/w/{wid}/media/import", post(import))
        .layer(DefaultBodyLimit::max(upload_limit))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(2 * 3600),
        ))
}

/// The signed, expiring addresses platforms fetch files from: outside the request context (no
/// session, no cookies).
pub fn router_without_context() -> Router<AppState> {
    Router::new().route("/media/{id}/{expires}/{sig}", get(signed))
}

pub struct MediaCard {
    pub id: i64,
    pub filename: String,
    pub kind: String,
    pub size: String,
    pub dimensions: String,
    pub folder: String,
    pub tags: Vec<String>,
    pub has_thumb: bool,
    pub ai: bool,
    /// AI-made and not reviewed yet.
    pub needs_review: bool,
    /// A video's length ("2:20"), when known.
    pub length: String,
}

impl MediaCard {
    fn from(item: &media_item::Model) -> Self {
        Self {
            id: item.id,
            filename: item.filename.clone(),
            kind: item.kind.clone(),
            size: human_size(u64::try_from(item.size_bytes).unwrap_or_default()),
            dimensions: match (item.width, item.height) {
                (Some(w), Some(h)) => format!("{w} × {h}"),
                _ => String::new(),
            },
            folder: item.folder.clone(),
            tags: tags_of(item).into_iter().map(str::to_owned).collect(),
            has_thumb: item.thumb_key.is_some(),
            ai: item.provenance == "ai",
            needs_review: item.provenance == "ai" && item.reviewed_at.is_none(),
            length: item
                .duration_ms
                .and_then(|d| u64::try_from(d).ok())
                .map(domain::media::clock)
                .unwrap_or_default(),
        }
    }
}

#[derive(serde::Deserialize, Default, Clone)]
#[serde(default)]
pub struct LibraryQuery {
    q: String,
    folder: String,
    kind: String,
}

#[derive(Template)]
#[template(path = "media/library.html")]
struct LibraryPage {
    layout: Layout,
    errors: FieldErrors,
    ws: i64,
    items: Vec<MediaCard>,
    folders: Vec<String>,
    query: LibraryQuery,
    typed_folder: String,
    typed_tags: String,
    typed_url: String,
    import_image_limit: String,
    import_video_limit: String,
    image_limit: String,
    video_limit: String,
    can_edit: bool,
    /// The instance makes images and the workspace has AI on.
    can_generate: bool,
    /// The Generate tab: images when the instance makes them, else videos.
    generate_href: String,
}

async fn library(
    state: &AppState,
    m: &WorkspaceMember,
    query: LibraryQuery,
    typed: UploadMeta,
    errors: FieldErrors,
) -> AppResult<LibraryPage> {
    let ws = m.membership.workspace_id();
    let filter = MediaFilter {
        q: query.q.clone(),
        folder: (!query.folder.is_empty()).then(|| query.folder.clone()),
        kind: MediaKind::parse(&query.kind),
    };
    let items = state
        .services
        .media_of(ws, &filter)
        .await?
        .iter()
        .map(MediaCard::from)
        .collect();
    let limits = &state.services.media_limits;
    Ok(LibraryPage {
        layout: Layout::for_member(state, m, "Media library"),
        errors,
        ws: ws.0,
        items,
        folders: state.services.media_folders(ws).await?,
        query,
        typed_folder: typed.folder,
        typed_tags: typed.tags,
        typed_url: String::new(),
        import_image_limit: human_size(
            limits
                .image_bytes
                .min(services::media::import::IMPORT_IMAGE_BYTES),
        ),
        import_video_limit: human_size(
            limits
                .video_bytes
                .min(services::media::import::IMPORT_VIDEO_BYTES),
        ),
        image_limit: human_size(limits.image_bytes),
        video_limit: human_size(limits.video_bytes),
        can_edit: m.membership.role.can_publish(),
        can_generate: m.membership.role.can_publish()
            && (state.services.image_generation(&m.membership)
                || state.services.video_generation(&m.membership).is_some()),
        generate_href: if state.services.image_generation(&m.membership) {
            format!("/w/{}/media/generate", m.membership.workspace.id)
        } else {
            format!("/w/{}/media/generate/video", m.membership.workspace.id)
        },
    })
}

pub async fn page(
    State(state): State<AppState>,
    m: WorkspaceMember,
    Query(query): Query<LibraryQuery>,
) -> AppResult {
    render(library(&state, &m, query, UploadMeta::default(), FieldErrors::new()).await?)
}

/// Takes the files of a multipart form (`folder` and `tags` first, then one or more `file`
/// parts), streaming each into storage. The CSRF field was checked by the request context.
pub async fn upload(
    State(state): State<AppState>,
    m: WorkspaceMember,
    mut form: Multipart,
) -> AppResult {
    if !m.membership.role.can_publish() {
        return Err(AppError::Forbidden(
            "Viewers can see the media library but not add to it.".into(),
        ));
    }
    // Held until this request ends, however it ends.
    let _slot = upload_slot(&state, &m, "upload")?;
    let mut meta = UploadMeta::default();
    let mut stored = 0;
    let mut failure = None;
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(err) => {
                tracing::info!(error = %err.body_text(), "an upload's form could not be read");
                failure = Some(ServiceError::invalid(
                    "file",
                    "The upload was interrupted before it finished. Try again.",
                ));
                break;
            }
        };
        match field.name().unwrap_or_default() {
            "folder" => meta.folder = short_text(field).await,
            "tags" => meta.tags = short_text(field).await,
            "file" => {
                let name = field.file_name().unwrap_or_default().to_owned();
                if name.is_empty() {
                    continue;
                }
                let result = state
                    .services
                    .upload_media(&m.membership, &m.auth.user, &name, &meta, field)
                    .await;
                match result {
                    Ok(_) => stored += 1,
                    Err(err) => {
                        failure = Some(err);
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    let done = format!("/w/{}/media", m.membership.workspace.id);
    let err = match failure {
        None if stored > 0 => return Ok(redirect_with(&done, Flash::MediaUploaded)),
        None => ServiceError::invalid("file", "Choose a file to upload."),
        Some(err) => err,
    };
    let mut errors = FieldErrors::new();
    if stored > 0 {
        errors.add(
            "stored",
            if stored == 1 {
                "The file before this one was saved.".to_owned()
            } else {
                format!("The {stored} files before this one were saved.")
            },
        );
    }
    let status = match err {
        ServiceError::TooLarge(message) => {
            errors.add("file", message);
            StatusCode::PAYLOAD_TOO_LARGE
        }
        ServiceError::Forbidden(message) => {
            errors.add("file", message);
            StatusCode::FORBIDDEN
        }
        other => {
            errors.absorb(other)?;
            StatusCode::UNPROCESSABLE_ENTITY
        }
    };
    let mut res = render(library(&state, &m, LibraryQuery::default(), meta, errors).await?)?;
    *res.status_mut() = status;
    Ok(res)
}

/// One of the person's upload slots, or a refusal that says how many they have running.
fn upload_slot(
    state: &AppState,
    m: &WorkspaceMember,
    what: &str,
) -> Result<services::media::UploadSlot, AppError> {
    let limits = &state.services.media_limits;
    limits
        .uploads
        .try_take(m.auth.user_id(), limits.uploads_per_person)
        .ok_or_else(|| {
            AppError::RateLimited(format!(
                "You already have {} running. Wait for one to finish, then {what} this one.",
                domain::counted(limits.uploads_per_person, "upload", "uploads")
            ))
        })
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ImportForm {
    url: String,
    folder: String,
    tags: String,
}

/// Imports a file from a web address (in the upload routes: a download may take minutes).
pub async fn import(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds(ws): PathIds<WorkspaceId>,
    Form(form): Form<ImportForm>,
) -> AppResult {
    // An import holds an upload slot until it ends, however it ends.
    let _slot = upload_slot(&state, &m, "import")?;
    let meta = UploadMeta {
        folder: form.folder,
        tags: form.tags,
    };
    let imported = state
        .services
        .import_media(&m.membership, &m.auth.user, &form.url, &meta)
        .await;
    let err = match imported {
        Ok(item) => {
            return Ok(redirect_with(
                &format!("/w/{ws}/media/{}", item.id),
                Flash::MediaUploaded,
            ));
        }
        Err(err) => err,
    };
    let mut errors = FieldErrors::new();
    let status = match err {
        ServiceError::TooLarge(message) => {
            errors.add("url", message);
            StatusCode::PAYLOAD_TOO_LARGE
        }
        other => errors.refuse(other, "url")?,
    };
    let mut page = library(&state, &m, LibraryQuery::default(), meta, errors).await?;
    page.typed_url = form.url;
    let mut res = render(page)?;
    *res.status_mut() = status;
    Ok(res)
}

/// A short text field of the upload form, read up to 4 KB (the rest is ignored).
async fn short_text(mut field: axum::extract::multipart::Field<'_>) -> String {
    let mut bytes = Vec::new();
    while let Ok(Some(chunk)) = field.chunk().await {
        bytes.extend_from_slice(&chunk);
        if bytes.len() > 4096 {
            bytes.truncate(4096);
            break;
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

pub struct UsageRow {
    pub id: i64,
    pub excerpt: String,
    pub state: StateBadge,
}

/// Where an AI-made file came from, as its page says it.
pub struct AiOrigin {
    pub made: String,
    pub prompt: String,
    /// "Reviewed by … on …"; none until someone has.
    pub reviewed: Option<String>,
}

#[derive(Template)]
#[template(path = "media/show.html")]
struct ItemPage {
    layout: Layout,
    errors: FieldErrors,
    ws: i64,
    item: MediaCard,
    uploaded: String,
    mime: String,
    /// Why a video's length and picture size are not shown.
    video_note: Option<&'static str>,
    ai: Option<AiOrigin>,
    usage: Vec<UsageRow>,
    folder: String,
    tags: String,
    can_edit: bool,
    /// A picture that a model of the instance's video provider can start a video from.
    can_animate: bool,
    /// A picture that can speak a script (a character video).
    can_speak: bool,
    is_video: bool,
}

async fn item_page(
    state: &AppState,
    m: &WorkspaceMember,
    id: i64,
    typed: Option<UploadMeta>,
    errors: FieldErrors,
) -> AppResult<ItemPage> {
    let ws = m.membership.workspace_id();
    let item = state.services.media_item(ws, MediaId(id)).await?;
    let usage = state
        .services
        .media_usage(ws, MediaId(id))
        .await?
        .iter()
        .map(|p| UsageRow {
            id: p.id,
            excerpt: services::posts::excerpt(&p.body),
            state: badge(p.state),
        })
        .collect();
    let card = MediaCard::from(&item);
    let typed = typed.unwrap_or_else(|| UploadMeta {
        folder: item.folder.clone(),
        tags: card.tags.join(", "),
    });
    Ok(ItemPage {
        layout: Layout::for_member(state, m, &item.filename),
        errors,
        ws: ws.0,
        uploaded: domain::schedule::describe(item.created_at, zone_of(m)),
        mime: item.mime.clone(),
        video_note: match (item.kind.as_str(), item.duration_ms) {
            ("video", None) if state.services.media_limits.video.is_none() => Some(
                "This server has no ffmpeg, so the video's length and picture size are not \
                 known and are not checked against each platform's limits before scheduling \
                 (the platform judges them when it is sent). The operator can install \
                 Debian's ffmpeg package.",
            ),
            ("video", None) => Some(
                "This video's length and picture size are not known: it was added before \
                 ffmpeg was installed, or ffmpeg could not read it. The platform judges the \
                 file when it is sent.",
            ),
            _ => None,
        },
        ai: state
            .services
            .media_provenance(&item)
            .await?
            .map(|p| AiOrigin {
                made: format!(
                    "Generated by AI: {} ({}), asked by {} on {}",
                    p.provider,
                    p.model,
                    p.asked_by.as_deref().unwrap_or("a former member"),
                    domain::schedule::describe(p.made_at, zone_of(m))
                ),
                prompt: p.prompt,
                reviewed: p.reviewed.map(|(who, at)| {
                    format!(
                        "Reviewed by {} on {}",
                        who.as_deref().unwrap_or("a former member"),
                        domain::schedule::describe(at, zone_of(m))
                    )
                }),
            }),
        usage,
        folder: typed.folder,
        tags: typed.tags,
        can_animate: item.kind == "image"
            && m.membership.role.can_publish()
            && state
                .services
                .video_generation(&m.membership)
                .is_some_and(|v| v.generator.models().iter().any(|model| model.from_image)),
        can_speak: item.kind == "image"
            && ["image/jpeg", "image/png", "image/webp"].contains(&item.mime.as_str())
            && m.membership.role.can_publish()
            && state.services.character_generation(&m.membership).is_some(),
        is_video: item.kind == "video",
        item: card,
        can_edit: m.membership.role.can_publish(),
    })
}

pub async fn show(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((_, id)): PathIds<(WorkspaceId, MediaId)>,
) -> AppResult {
    render(item_page(&state, &m, id.0, None, FieldErrors::new()).await?)
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct MetaForm {
    folder: String,
    tags: String,
}

async fn refused(
    state: &AppState,
    m: &WorkspaceMember,
    id: i64,
    typed: Option<UploadMeta>,
    err: ServiceError,
) -> AppResult {
    let mut errors = FieldErrors::new();
    let status = match err {
        ServiceError::NotFound => return Err(AppError::NotFound),
        ServiceError::Forbidden(message) => {
            errors.add("media", message);
            StatusCode::FORBIDDEN
        }
        other => {
            errors.absorb(other)?;
            StatusCode::UNPROCESSABLE_ENTITY
        }
    };
    let mut res = render(item_page(state, m, id, typed, errors).await?)?;
    *res.status_mut() = status;
    Ok(res)
}

pub async fn update(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((ws, id)): PathIds<(WorkspaceId, MediaId)>,
    Form(form): Form<MetaForm>,
) -> AppResult {
    let meta = UploadMeta {
        folder: form.folder,
        tags: form.tags,
    };
    match state
        .services
        .update_media(&m.membership, &m.auth.user, id, &meta)
        .await
    {
        Ok(()) => Ok(redirect_with(
            &format!("/w/{ws}/media/{id}"),
            Flash::MediaSaved,
        )),
        Err(err) => refused(&state, &m, id.0, Some(meta), err).await,
    }
}

/// Marks an AI-made file reviewed: a person looked at it and found it fit to publish.
pub async fn review(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((ws, id)): PathIds<(WorkspaceId, MediaId)>,
) -> AppResult {
    match state
        .services
        .review_media(&m.membership, &m.auth.user, id)
        .await
    {
        Ok(()) => Ok(redirect_with(
            &format!("/w/{ws}/media/{id}"),
            Flash::MediaReviewed,
        )),
        Err(err) => refused(&state, &m, id.0, None, err).await,
    }
}

/// The page that asks before deleting a file: in how many posts it is used.
pub async fn confirm_delete(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((ws, id)): PathIds<(WorkspaceId, MediaId)>,
) -> AppResult {
    if !m.membership.role.can_publish() {
        return Err(AppError::Forbidden(
            "Viewers can see the media library but not delete from it.".into(),
        ));
    }
    let impact = state
        .services
        .media_impact(m.membership.workspace_id(), id)
        .await?;
    let name = &impact.item.filename;
    let mut consequences = vec![if impact.posts == 0 {
        format!("No post uses “{name}”.")
    } else {
        format!(
            "“{name}” is used in {}.",
            domain::counted(impact.posts, "post", "posts")
        )
    }];
    let mut button = Some("Delete the file".to_owned());
    if impact.not_published > 0 {
        consequences.push(format!(
            "{} not all gone out yet, so the file cannot be deleted now: remove it from {} first (the list is on the file's page).",
            if impact.not_published == 1 {
                "1 of them has".to_owned()
            } else {
                format!("{} of them have", impact.not_published)
            },
            if impact.not_published == 1 { "it" } else { "them" }
        ));
        button = None;
    } else {
        if impact.posts > 0 {
            consequences.push(
                "Those posts were published: they keep their record here without the file, and what is on the platforms stays."
                    .to_owned(),
            );
        }
        consequences.push(
            "The file and its preview are deleted from storage. This cannot be undone.".to_owned(),
        );
    }
    render(ConfirmPage {
        layout: Layout::for_member(&state, &m, "Delete a file"),
        heading: format!("Delete “{name}”?"),
        consequences,
        action: format!("/w/{ws}/media/{id}/delete"),
        button,
        back: format!("/w/{ws}/media/{id}"),
    })
}

/// Deletes the file, once confirmed on the page that asks (a post without `confirm=yes` is
/// sent there).
pub async fn delete(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((ws, id)): PathIds<(WorkspaceId, MediaId)>,
    Form(confirmation): Form<Confirmation>,
) -> AppResult {
    if !confirmation.given() {
        return Ok(ask_first(&format!("/w/{ws}/media/{id}/delete")));
    }
    match state
        .services
        .delete_media(&m.membership, &m.auth.user, id)
        .await
    {
        Ok(()) => Ok(redirect_with(
            &format!("/w/{ws}/media"),
            Flash::MediaDeleted,
        )),
        Err(err) => refused(&state, &m, id.0, None, err).await,
    }
}

/// Streams a stored object with its type; never cached by shared caches.
async fn serve(state: &AppState, key: &str, mime: &str, cache: &'static str) -> AppResult {
    let (size, stream) = state.services.objects.stream(key).await.map_err(|err| {
        tracing::warn!(error = ?err, "a media file could not be read");
        AppError::NotFound
    })?;
    let mut res = Body::from_stream(stream).into_response();
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(mime).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    Ok(res)
}

/// An original file: never stored by any cache, readable by this site's pages only (other
/// sites cannot embed it), and named: shown in the browser when it is an image or a video,
/// downloaded otherwise.
pub(crate) async fn serve_original(state: &AppState, item: &media_item::Model) -> AppResult {
    let mut res = serve(state, &item.object_key, &item.mime, "no-store").await?;
    let headers = res.headers_mut();
    headers.insert(
        HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("same-origin"),
    );
    let shown = MediaKind::parse(&item.kind).is_some()
        && (item.mime.starts_with("image/") || item.mime.starts_with("video/"));
    let disposition = content_disposition(shown, &item.filename);
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(res)
}

/// `inline` or `attachment`, with the file's name twice: plain ASCII (anything else becomes
/// `_`) for old browsers, and percent-encoded UTF-8 (RFC 6266, RFC 8187) for the others.
fn content_disposition(inline: bool, filename: &str) -> String {
    let ascii: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ' | '(' | ')') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let ascii = match ascii.trim() {
        "" => "file".to_owned(),
        name => name.to_owned(),
    };
    let mut encoded = String::new();
    for byte in filename.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    let kind = if inline { "inline" } else { "attachment" };
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// A thumbnail, for members.
pub async fn thumb(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((_, id)): PathIds<(WorkspaceId, MediaId)>,
) -> AppResult {
    let item = state
        .services
        .media_item(m.membership.workspace_id(), id)
        .await?;
    let key = item.thumb_key.ok_or(AppError::NotFound)?;
    serve(&state, &key, "image/jpeg", "private, max-age=3600").await
}

/// The original file, for members.
pub async fn original(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((_, id)): PathIds<(WorkspaceId, MediaId)>,
) -> AppResult {
    let item = state
        .services
        .media_item(m.membership.workspace_id(), id)
        .await?;
    serve_original(&state, &item).await
}

/// The original file behind a signed, expiring address (for platforms that fetch by URL).
/// Anything wrong with the address is a plain 404.
pub async fn signed(
    State(state): State<AppState>,
    PathIds((id, expires, sig)): PathIds<(i64, i64, String)>,
) -> Response {
    let found = state
        .services
        .media_by_signature(MediaId(id), expires, &sig)
        .await;
    let res = match found {
        Ok(item) => serve_original(&state, &item).await,
        Err(_) => Err(AppError::NotFound),
    };
    let mut res = res.into_response();
    res.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::content_disposition;

    #[test]
    fn file_names_are_quoted_safely() {
        assert_eq!(
            content_disposition(true, "photo 1.jpg"),
            "inline; filename=\"photo 1.jpg\"; filename*=UTF-8''photo%201.jpg"
        );
        assert_eq!(
            content_disposition(false, "a\"b\r\n;c/é.png"),
            "attachment; filename=\"a_b___c__.png\"; filename*=UTF-8''a%22b%0D%0A%3Bc%2F%C3%A9.png"
        );
        assert_eq!(
            content_disposition(true, "日本"),
            "inline; filename=\"__\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC"
        );
    }
}

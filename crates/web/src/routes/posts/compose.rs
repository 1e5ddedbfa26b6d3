//! The composer: write a post once, adjust it per account, and save, schedule or publish it.
//! Works without JavaScript: the counters show the server's count of the text on the page, and
//! "Count again" (shown only without script) counts what was typed without saving it;
//! `composer.js` adds live counts and previews.

use super::{FormPairs, post_path, zone_of};
use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::extract::{PathIds, WorkspaceMember};
use crate::flash::{Flash, redirect_with};
use crate::forms::FieldErrors;
use crate::page::Layout;
use crate::routes::{render, rerender};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Query, State};
use domain::{MediaId, Platform, PostId, WorkspaceId, content, schedule};
use services::ServiceError;
use services::posts::{Intent, PostInput, TargetInput};
use store::entities::campaign;
use store::entities::states::AccountStatus;

/// One account in the composer: whether it is chosen, and its own text.
pub struct AccountChoice {
    pub id: i64,
    pub platform: Platform,
    pub username: String,
    pub display_name: String,
    pub checked: bool,
    pub variant: String,
    /// What the effective text uses of the platform's allowance, for the counter without JS.
    pub used: usize,
    pub hashtags: usize,
}

impl AccountChoice {
    pub fn limit(&self) -> usize {
        self.platform.text_limit()
    }

    pub fn hashtag_limit(&self) -> usize {
        self.platform.hashtag_limit().unwrap_or(0)
    }

    pub fn over(&self) -> bool {
        self.used > self.limit()
            || self
                .platform
                .hashtag_limit()
                .is_some_and(|l| self.hashtags > l)
    }

    pub fn field(&self) -> String {
        format!("target-{}", self.id)
    }
}

/// A library file in the composer's picker.
pub struct MediaChoice {
    pub id: i64,
    pub filename: String,
    pub video: bool,
    pub has_thumb: bool,
    /// 1-based place in the post, when chosen.
    pub position: Option<usize>,
    /// A warning for the picker when some of the workspace's platforms do not take the file
    /// (a PNG for Instagram and TikTok), so it is not found out only at submit.
    pub not_for: Option<String>,
}

#[derive(Template)]
#[template(path = "posts/compose.html")]
pub struct ComposerPage {
    layout: Layout,
    errors: FieldErrors,
    ws: i64,
    post_id: Option<i64>,
    body: String,
    first_comment: String,
    campaign_id: Option<i64>,
    campaigns: Vec<campaign::Model>,
    accounts: Vec<AccountChoice>,
    library: Vec<MediaChoice>,
    /// Files chosen for single accounts: (account id, file ids).
    account_media: Vec<(i64, Vec<i64>)>,
    scheduled_at: String,
    timezone: String,
    can_edit: bool,
}

impl ComposerPage {
    /// Whether `media` is among the files chosen for `account` only.
    fn account_has(&self, account: &i64, media: &i64) -> bool {
        self.account_media
            .iter()
            .any(|(a, files)| a == account && files.contains(media))
    }

    fn campaign_selected(&self, id: &i64) -> bool {
        self.campaign_id == Some(*id)
    }
}

/// What the composer shows: a post's values, or what was typed.
#[derive(Default)]
struct Values {
    body: String,
    first_comment: String,
    campaign_id: Option<i64>,
    /// Chosen accounts with their variants.
    chosen: Vec<(i64, String)>,
    /// Chosen library files, in order.
    media: Vec<i64>,
    /// Files chosen for single accounts instead.
    account_media: Vec<(i64, Vec<i64>)>,
    scheduled_at: String,
}

async fn page(
    state: &AppState,
    m: &WorkspaceMember,
    post_id: Option<i64>,
    values: Values,
    errors: FieldErrors,
) -> AppResult<ComposerPage> {
    let ws = m.membership.workspace_id();
    let accounts: Vec<AccountChoice> = state
        .services
        .accounts_of(ws)
        .await?
        .into_iter()
        .filter_map(|a| {
            let platform = Platform::parse(&a.platform).ok()?;
            let chosen = values.chosen.iter().find(|(id, _)| *id == a.id);
            // A disconnected account is offered only to the posts that still name it, so
            // that their author can see it and leave it out.
            if a.status == AccountStatus::Disconnected && chosen.is_none() {
                return None;
            }
            let display_name = if a.status == AccountStatus::Disconnected {
                format!(
                    "{} (disconnected: reconnect it, or leave it out)",
                    a.display_name
                )
            } else {
                a.display_name
            };
            let variant = chosen.map(|(_, v)| v.clone()).unwrap_or_default();
            let text = services::posts::effective_text(&values.body, Some(&variant));
            let count = content::count(platform, text);
            Some(AccountChoice {
                id: a.id,
                platform,
                username: a.username,
                display_name,
                checked: chosen.is_some(),
                variant,
                used: count.used,
                hashtags: count.hashtags,
            })
        })
        .collect();
    let mut files = state.services.media_of(ws, &Default::default()).await?;
    // The post's own files are always offered, however far down the library they are.
    let used = values
        .media
        .iter()
        .chain(values.account_media.iter().flat_map(|(_, m)| m.iter()));
    for id in used {
        if !files.iter().any(|f| f.id == *id)
            && let Ok(item) = state.services.media_item(ws, MediaId(*id)).await
        {
            files.push(item);
        }
    }
    let platforms: Vec<Platform> =
        accounts
            .iter()
            .map(|a: &AccountChoice| a.platform)
            .fold(Vec::new(), |mut all, p| {
                if !all.contains(&p) {
                    all.push(p);
                }
                all
            });
    let library = files
        .into_iter()
        .map(|item| MediaChoice {
            not_for: not_for(&platforms, &item.mime),
            id: item.id,
            position: values
                .media
                .iter()
                .position(|m| *m == item.id)
                .map(|p| p + 1),
            video: item.kind == "video",
            has_thumb: item.thumb_key.is_some(),
            filename: item.filename,
        })
        .collect();
    let title = if post_id.is_some() {
        "Edit post"
    } else {
        "New post"
    };
    Ok(ComposerPage {
        layout: Layout::for_member(state, m, title),
        errors,
        ws: ws.0,
        post_id,
        body: values.body,
        first_comment: values.first_comment,
        campaign_id: values.campaign_id,
        campaigns: state.services.campaigns_of(ws).await?,
        accounts,
        library,
        account_media: values.account_media,
        scheduled_at: values.scheduled_at,
        timezone: zone_of(m).name().to_owned(),
        can_edit: m.membership.role.can_publish(),
    })
}

/// "Not for Instagram or TikTok (they take JPEG, not PNG)", for a file some of `platforms`
/// do not take.
fn not_for(platforms: &[Platform], mime: &str) -> Option<String> {
    let ty = domain::media::MediaType::from_mime(mime)?;
    let refusing: Vec<&str> = platforms
        .iter()
        .filter(|p| !domain::media::takes(**p, ty))
        .map(|p| p.label())
        .collect();
    if refusing.is_empty() {
        return None;
    }
    Some(format!(
        "Not for {}: {} {} not take {} files. Save it as JPEG and upload that for {}.",
        refusing.join(" or "),
        if refusing.len() == 1 { "it" } else { "they" },
        if refusing.len() == 1 { "does" } else { "do" },
        ty.label(),
        if refusing.len() == 1 { "it" } else { "them" },
    ))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct NewQuery {
    /// A wall-clock time to start from (the calendar's "add" links).
    at: String,
    campaign: Option<i64>,
}

pub async fn new_form(
    State(state): State<AppState>,
    m: WorkspaceMember,
    Query(query): Query<NewQuery>,
) -> AppResult {
    let scheduled_at = schedule::parse_local(&query.at)
        .map(|t| t.format("%Y-%m-%dT%H:%M").to_string())
        .unwrap_or_default();
    let values = Values {
        campaign_id: query.campaign,
        scheduled_at,
        ..Default::default()
    };
    render(page(&state, &m, None, values, FieldErrors::new()).await?)
}

pub async fn edit_form(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((_, post_id)): PathIds<(WorkspaceId, PostId)>,
) -> AppResult {
    let view = state
        .services
        .post_view(m.membership.workspace_id(), post_id)
        .await?;
    let tz = zone_of(&m);
    let values = Values {
        body: view.post.body.clone(),
        first_comment: view.post.first_comment.clone().unwrap_or_default(),
        campaign_id: view.post.campaign_id,
        chosen: view
            .targets
            .iter()
            .map(|t| (t.account.id, t.target.body.clone().unwrap_or_default()))
            .collect(),
        media: view.media.iter().map(|m| m.id).collect(),
        account_media: view
            .targets
            .iter()
            .map(|t| {
                let own = view
                    .account_media
                    .iter()
                    .filter(|(a, _)| *a == t.account.id)
                    .map(|(_, m)| m.id)
                    .collect();
                (t.account.id, own)
            })
            .collect(),
        scheduled_at: view
            .post
            .scheduled_at
            .map(|at| {
                schedule::to_local(at, tz)
                    .format("%Y-%m-%dT%H:%M")
                    .to_string()
            })
            .unwrap_or_default(),
    };
    render(page(&state, &m, Some(post_id.0), values, FieldErrors::new()).await?)
}

pub async fn create(State(state): State<AppState>, m: WorkspaceMember, body: Bytes) -> AppResult {
    save(state, m, None, body).await
}

pub async fn update(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((_, post_id)): PathIds<(WorkspaceId, PostId)>,
    body: Bytes,
) -> AppResult {
    save(state, m, Some(post_id.0), body).await
}

/// The file ids ticked under `name`, in the order the "position" fields give (then as listed).
fn ordered_files(form: &FormPairs, name: &str) -> Vec<i64> {
    let mut files: Vec<(i64, usize, i64)> = form
        .all(name)
        .filter_map(|id| id.parse::<i64>().ok())
        .enumerate()
        .map(|(i, id)| {
            let place = form
                .get(&format!("position-{id}"))
                .parse()
                .unwrap_or(i64::MAX);
            (place, i, id)
        })
        .collect();
    files.sort();
    files.into_iter().map(|(_, _, id)| id).collect()
}

async fn save(state: AppState, m: WorkspaceMember, post_id: Option<i64>, body: Bytes) -> AppResult {
    let form = FormPairs::parse(&body);
    let mut errors = FieldErrors::new();
    let chosen: Vec<(i64, String)> = form
        .all("account")
        .filter_map(|id| id.parse::<i64>().ok())
        .map(|id| (id, form.get(&format!("variant-{id}")).to_owned()))
        .collect();
    let campaign_id = form.get("campaign").parse::<i64>().ok();
    let media = ordered_files(&form, "media");
    let account_media: Vec<(i64, Vec<i64>)> = chosen
        .iter()
        .map(|(id, _)| (*id, ordered_files(&form, &format!("media-{id}"))))
        .collect();
    let action = form.get("action");
    let intent = match action {
        "now" => Some(Intent::PublishNow),
        "schedule" => errors
            .check(
                "scheduled_at",
                schedule::parse_local(form.get("scheduled_at")),
            )
            .map(Intent::Schedule),
        _ => Some(Intent::Draft),
    };
    let values = Values {
        body: form.get("body").to_owned(),
        first_comment: form.get("first_comment").to_owned(),
        campaign_id,
        chosen: chosen.clone(),
        media: media.clone(),
        account_media: account_media.clone(),
        scheduled_at: form.get("scheduled_at").to_owned(),
    };
    if action == "count" {
        // "Count again" without JavaScript: the same page with the server's counts, nothing saved.
        return render(page(&state, &m, post_id, values, errors).await?);
    }
    let Some(intent) = intent else {
        return rerender(page(&state, &m, post_id, values, errors).await?);
    };
    let input = PostInput {
        body: values.body.clone(),
        first_comment: Some(values.first_comment.clone()),
        campaign_id,
        targets: chosen
            .iter()
            .map(|(id, variant)| TargetInput {
                account_id: *id,
                body: Some(variant.clone()),
                media: account_media
                    .iter()
                    .find(|(a, _)| a == id)
                    .map(|(_, m)| m.clone())
                    .unwrap_or_default(),
            })
            .collect(),
        media,
        intent,
    };
    let result = state
        .services
        .save_post(&m.membership, &m.auth.user, post_id.map(PostId), input)
        .await;
    match result {
        Ok(post) => {
            let flash = match intent {
                Intent::Draft => Flash::PostSaved,
                Intent::Schedule(_) => Flash::PostScheduled,
                Intent::PublishNow => Flash::PostPublishing,
            };
            Ok(redirect_with(&post_path(post.workspace_id, post.id), flash))
        }
        Err(ServiceError::Forbidden(message)) => {
            errors.add("post", message);
            let mut res = render(page(&state, &m, post_id, values, errors).await?)?;
            *res.status_mut() = axum::http::StatusCode::FORBIDDEN;
            Ok(res)
        }
        // Shown in the form, so nothing typed is lost; the message names the plan that lifts
        // the limit.
        Err(ServiceError::PlanLimit { refusal, .. }) => {
            errors.add("post", refusal.to_string());
            let mut res = render(page(&state, &m, post_id, values, errors).await?)?;
            *res.status_mut() = axum::http::StatusCode::PAYMENT_REQUIRED;
            Ok(res)
        }
        Err(ServiceError::NotFound) => Err(AppError::NotFound),
        Err(err) => {
            errors.absorb(err)?;
            rerender(page(&state, &m, post_id, values, errors).await?)
        }
    }
}

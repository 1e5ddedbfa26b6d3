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
use domain::media::Format;
use domain::{MediaId, Platform, PostId, WorkspaceId, content, schedule};
use services::ai::AiState;
use services::ai::assist::{Action, AssistRequest, Length, Target, Tone};
use services::posts::{Intent, PostInput, PostState, TargetInput};
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
    /// Feed, reel or story, where the platform has the choice: (slug, label, chosen).
    pub formats: Vec<(&'static str, &'static str, bool)>,
    /// What each format takes on this platform.
    pub formats_hint: &'static str,
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
    /// The Assist panel, when the instance has AI.
    assist: Option<AssistPanel>,
    /// The generation whose suggestion was taken (for the post's provenance).
    ai_suggestion: String,
    /// The media library's Generate tab, when AI is on here and makes files.
    generate: Option<String>,
    /// Where posts need approval: whether the reader may skip it (Auto-approve), and whether
    /// they ticked it.
    approval: Option<(bool, bool)>,
}

/// The composer's Assist panel.
pub struct AssistPanel {
    /// AI is on in this workspace.
    on: bool,
    /// The reader may turn it on (owner or admin).
    can_turn_on: bool,
    provider: String,
    topic: String,
    tone: Tone,
    length: Length,
    cta: String,
    tones: [Tone; 4],
    lengths: [Length; 3],
    offer: Option<OfferView>,
    /// Plans are on: a refusal links to the billing page.
    plans: bool,
}

/// Suggestions on show.
pub struct OfferView {
    generation: i64,
    provider: String,
    model: String,
    items: Vec<SuggestionView>,
}

pub struct SuggestionView {
    label: String,
    text: String,
    note: Option<String>,
}

impl From<services::ai::assist::Offer> for OfferView {
    fn from(o: services::ai::assist::Offer) -> Self {
        OfferView {
            generation: o.generation,
            provider: o.provider,
            model: o.model,
            items: o
                .suggestions
                .into_iter()
                .map(|s| SuggestionView {
                    label: s.target.label(),
                    text: s.text,
                    note: s.note,
                })
                .collect(),
        }
    }
}

/// The suggestions alone, for the streamed answer (the same markup as in the composer).
#[derive(Template)]
#[template(path = "posts/suggestions.html")]
pub struct SuggestionsFragment {
    offer: OfferView,
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
    /// Feed, reel or story, per chosen account (the feed when not named).
    formats: Vec<(i64, Format)>,
    scheduled_at: String,
    /// Assist's brief, as typed.
    assist: Brief,
    /// The suggestions on show (a generation id).
    offer: Option<i64>,
    /// The generation whose suggestion the text came from.
    ai_suggestion: Option<i64>,
    /// Auto-approve was ticked (where posts need approval).
    auto_approve: bool,
}

/// Assist's fields, as typed.
#[derive(Default, Clone)]
struct Brief {
    topic: String,
    tone: Tone,
    length: Length,
    cta: String,
}

impl Values {
    /// What the composer's form holds, as typed.
    fn from_form(form: &FormPairs) -> Values {
        let chosen: Vec<(i64, String)> = form
            .all("account")
            .filter_map(|id| id.parse::<i64>().ok())
            .map(|id| (id, form.get(&format!("variant-{id}")).to_owned()))
            .collect();
        Values {
            body: form.get("body").to_owned(),
            first_comment: form.get("first_comment").to_owned(),
            campaign_id: form.get("campaign").parse::<i64>().ok(),
            media: ordered_files(form, "media"),
            account_media: chosen
                .iter()
                .map(|(id, _)| (*id, ordered_files(form, &format!("media-{id}"))))
                .collect(),
            formats: chosen
                .iter()
                .filter_map(|(id, _)| {
                    Format::parse(form.get(&format!("format-{id}"))).map(|f| (*id, f))
                })
                .collect(),
            chosen,
            scheduled_at: form.get("scheduled_at").to_owned(),
            assist: Brief::from_form(form),
            offer: form.get("ai_offer").parse().ok(),
            ai_suggestion: form.get("ai_suggestion").parse().ok(),
            auto_approve: form.get("auto_approve") == "1",
        }
    }
}

impl Brief {
    fn from_form(form: &FormPairs) -> Brief {
        Brief {
            topic: form.get("assist_topic").to_owned(),
            tone: Tone::parse(form.get("assist_tone")).unwrap_or_default(),
            length: Length::parse(form.get("assist_length")).unwrap_or_default(),
            cta: form.get("assist_cta").to_owned(),
        }
    }
}

/// The Assist panel for the reader, with the suggestions of `offer` when they are theirs.
async fn assist_panel(
    state: &AppState,
    m: &WorkspaceMember,
    brief: Brief,
    offer: Option<i64>,
) -> AppResult<Option<AssistPanel>> {
    let Some(ai) = &state.services.ai else {
        return Ok(None);
    };
    let on = state.services.ai_state(&m.membership) == AiState::On;
    let offer = match offer {
        Some(id) if on => state
            .services
            .offer(&m.membership, &m.auth.user, id)
            .await
            .ok()
            .map(OfferView::from),
        _ => None,
    };
    Ok(Some(AssistPanel {
        on,
        can_turn_on: m.membership.role.can_manage_members(),
        provider: ai.disclosure.provider.clone(),
        topic: brief.topic,
        tone: brief.tone,
        length: brief.length,
        cta: brief.cta,
        tones: Tone::ALL,
        lengths: Length::ALL,
        offer,
        plans: state.services.billing.is_on(),
    }))
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
            let format = values
                .formats
                .iter()
                .find(|(id, _)| *id == a.id)
                .map(|(_, f)| *f)
                .unwrap_or_default();
            let offered = Format::offered(platform);
            let formats = if offered.len() > 1 {
                offered
                    .iter()
                    .map(|f| (f.slug(), f.label(), *f == format))
                    .collect()
            } else {
                Vec::new()
            };
            Some(AccountChoice {
                id: a.id,
                platform,
                username: a.username,
                display_name,
                checked: chosen.is_some(),
                variant,
                used: count.used,
                hashtags: count.hashtags,
                formats,
                formats_hint: Format::hint(platform),
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
    let assist = if m.membership.role.can_publish() {
        assist_panel(state, m, values.assist.clone(), values.offer).await?
    } else {
        None
    };
    let generate = state
        .services
        .ai
        .as_ref()
        .filter(|_| {
            m.membership.role.can_publish() && state.services.ai_state(&m.membership) == AiState::On
        })
        .and_then(|ai| {
            let tab = if ai.images.is_some() {
                ""
            } else if ai.videos.is_some() {
                "/video"
            } else if ai.characters.is_some() && ai.speech.is_some() {
                "/character"
            } else {
                return None;
            };
            Some(format!("/w/{ws}/media/generate{tab}"))
        });
    let (rules, member) = state.services.approval_of(&m.membership).await?;
    let approval = rules
        .required
        .then(|| (rules.may_skip_review(member), values.auto_approve));
    Ok(ComposerPage {
        approval,
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
        assist,
        ai_suggestion: values
            .ai_suggestion
            .map(|id| id.to_string())
            .unwrap_or_default(),
        generate,
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
    /// A library file to start with (a file's "Use in a new post"); ignored when it is not
    /// a number or not this workspace's file.
    media: String,
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
        media: query.media.trim().parse().into_iter().collect(),
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
        formats: view
            .targets
            .iter()
            .map(|t| (t.account.id, services::posts::format_of(&t.target.options)))
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
        ..Default::default()
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
    let values = Values::from_form(&form);
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
    if let Some(kind) = action.strip_prefix("assist-") {
        return assist(state, m, post_id, values, kind).await;
    }
    if let Some(choice) = action.strip_prefix("use-") {
        return use_suggestion(state, m, post_id, values, choice).await;
    }
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
        campaign_id: values.campaign_id,
        targets: values
            .chosen
            .iter()
            .map(|(id, variant)| TargetInput {
                account_id: *id,
                body: Some(variant.clone()),
                media: values
                    .account_media
                    .iter()
                    .find(|(a, _)| a == id)
                    .map(|(_, m)| m.clone())
                    .unwrap_or_default(),
                format: values
                    .formats
                    .iter()
                    .find(|(a, _)| a == id)
                    .map(|(_, f)| *f)
                    .unwrap_or_default(),
            })
            .collect(),
        media: values.media.clone(),
        intent,
        ai_suggestion: values.ai_suggestion,
        auto_approve: values.auto_approve,
    };
    let result = state
        .services
        .save_post(&m.membership, &m.auth.user, post_id.map(PostId), input)
        .await;
    match result {
        Ok(post) => {
            let flash = match intent {
                _ if post.state == PostState::PendingApproval => Flash::PostSentForApproval,
                Intent::Draft => Flash::PostSaved,
                Intent::Schedule(_) => Flash::PostScheduled,
                Intent::PublishNow => Flash::PostPublishing,
            };
            Ok(redirect_with(&post_path(post.workspace_id, post.id), flash))
        }
        // Shown in the form, so nothing typed is lost (a plan's refusal names the plan that
        // lifts the limit).
        Err(err) => {
            let status = errors.refuse(err, "post")?;
            let mut res = render(page(&state, &m, post_id, values, errors).await?)?;
            *res.status_mut() = status;
            Ok(res)
        }
    }
}

/// The platforms Assist writes for: those of the chosen accounts, or of every connected
/// account when none is chosen, or every platform when none is connected.
async fn platforms_for(
    state: &AppState,
    m: &WorkspaceMember,
    values: &Values,
) -> AppResult<Vec<Platform>> {
    let accounts = state
        .services
        .accounts_of(m.membership.workspace_id())
        .await?;
    let chosen: Vec<Platform> = accounts
        .iter()
        .filter(|a| values.chosen.iter().any(|(id, _)| *id == a.id))
        .filter_map(|a| Platform::parse(&a.platform).ok())
        .collect();
    if !chosen.is_empty() {
        return Ok(chosen);
    }
    let connected: Vec<Platform> = accounts
        .iter()
        .filter(|a| a.status != AccountStatus::Disconnected)
        .filter_map(|a| Platform::parse(&a.platform).ok())
        .collect();
    // Nothing connected yet: the text must fit wherever it may go.
    Ok(if connected.is_empty() {
        Platform::ALL.to_vec()
    } else {
        connected
    })
}

/// What Assist is asked, from the composer's form (`kind`: `write`, `enhance` or `suggest`).
async fn assist_request(
    state: &AppState,
    m: &WorkspaceMember,
    values: &Values,
    kind: &str,
) -> AppResult<AssistRequest> {
    Ok(AssistRequest {
        action: Action::parse(kind).ok_or(AppError::NotFound)?,
        topic: values.assist.topic.clone(),
        tone: values.assist.tone,
        length: values.assist.length,
        call_to_action: values.assist.cta.clone(),
        text: values.body.clone(),
        platforms: platforms_for(state, m, values).await?,
    })
}

/// Assist for `assist.js`: the same form, answered as server-sent events: `text` (the text so
/// far, piece by piece, for Write and Enhance), then `done` (the suggestions' markup, as in the
/// composer) or `failed` (a message). A refusal before the provider is asked is a JSON
/// `{field, message}` with the status the form would have.
pub async fn assist_stream(
    State(state): State<AppState>,
    m: WorkspaceMember,
    body: Bytes,
) -> AppResult {
    use axum::response::IntoResponse;
    let form = FormPairs::parse(&body);
    let values = Values::from_form(&form);
    let kind = form
        .get("action")
        .strip_prefix("assist-")
        .unwrap_or_default();
    let request = assist_request(&state, &m, &values, kind).await?;
    let events = match state
        .services
        .assist_stream(&m.membership, &m.auth.user, &request)
        .await
    {
        Ok(events) => events,
        Err(err) => {
            let mut errors = FieldErrors::new();
            let status = errors.refuse(err, "assist")?;
            let (field, message) = errors
                .all()
                .first()
                .map(|(f, m)| (f.to_string(), m.to_string()))
                .unwrap_or_default();
            return Ok((
                status,
                axum::Json(serde_json::json!({"field": field, "message": message})),
            )
                .into_response());
        }
    };
    let stream = futures_util::stream::unfold(events, |mut events| async move {
        let event = events.recv().await?;
        let (name, data) = match event {
            services::ai::assist::Streamed::Text(text) => {
                ("text", serde_json::json!({"text": text}))
            }
            services::ai::assist::Streamed::Done(offer) => {
                let generation = offer.generation;
                let html = SuggestionsFragment {
                    offer: OfferView::from(offer),
                }
                .render()
                .unwrap_or_default();
                (
                    "done",
                    serde_json::json!({"generation": generation, "html": html}),
                )
            }
            services::ai::assist::Streamed::Failed(err) => {
                let mut errors = FieldErrors::new();
                let message = match errors.refuse(err, "assist") {
                    Ok(_) => errors
                        .all()
                        .first()
                        .map(|(_, m)| m.to_string())
                        .unwrap_or_default(),
                    Err(_) => "Assist could not answer. Nothing was changed; try again.".to_owned(),
                };
                ("failed", serde_json::json!({"message": message}))
            }
        };
        let chunk = format!("event: {name}\ndata: {data}\n\n");
        Some((
            Ok::<_, std::convert::Infallible>(bytes::Bytes::from(chunk)),
            events,
        ))
    });
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/event-stream; charset=utf-8",
            ),
            (axum::http::header::CACHE_CONTROL, "no-store"),
            (
                axum::http::HeaderName::from_static("x-accel-buffering"),
                "no",
            ),
        ],
        axum::body::Body::from_stream(stream),
    )
        .into_response())
}

/// AI Write, Enhance or Suggest: the composer again, with the suggestions (nothing saved).
async fn assist(
    state: AppState,
    m: WorkspaceMember,
    post_id: Option<i64>,
    mut values: Values,
    kind: &str,
) -> AppResult {
    let request = assist_request(&state, &m, &values, kind).await?;
    let mut errors = FieldErrors::new();
    let status = match state
        .services
        .assist(&m.membership, &m.auth.user, &request)
        .await
    {
        Ok(offer) => {
            values.offer = Some(offer.generation);
            axum::http::StatusCode::OK
        }
        Err(err) => {
            values.offer = None;
            errors.refuse(err, "assist")?
        }
    };
    let mut res = render(page(&state, &m, post_id, values, errors).await?)?;
    *res.status_mut() = status;
    Ok(res)
}

/// "Use this": the suggestion goes where it belongs in the form, which is shown again (still
/// not saved) with the suggestions.
async fn use_suggestion(
    state: AppState,
    m: WorkspaceMember,
    post_id: Option<i64>,
    mut values: Values,
    choice: &str,
) -> AppResult {
    let (generation, index) = choice
        .split_once('-')
        .and_then(|(g, i)| Some((g.parse::<i64>().ok()?, i.parse::<usize>().ok()?)))
        .ok_or(AppError::NotFound)?;
    let mut errors = FieldErrors::new();
    let taken = state
        .services
        .accept_suggestion(&m.membership, &m.auth.user, generation, index)
        .await;
    let status = match taken {
        Ok(accepted) => {
            let text = accepted.suggestion.text;
            match accepted.suggestion.target {
                Target::Body => values.body = text,
                Target::Hashtags => {
                    // Fitted again to the text as it is now, without the tags it has already.
                    let had = values.body.to_lowercase();
                    let tags: Vec<String> = text
                        .split_whitespace()
                        .filter(|t| !had.contains(&t.to_lowercase()))
                        .map(str::to_owned)
                        .collect();
                    let platforms = platforms_for(&state, &m, &values).await?;
                    match services::ai::fit::hashtag_line(&platforms, &values.body, &tags) {
                        Some(line) => {
                            values.body = services::ai::fit::with_line(&values.body, &line);
                        }
                        None => errors.add(
                            "assist",
                            "None of these hashtags fits after the text as it is now, or the \
                             text has them already.",
                        ),
                    }
                }
                Target::FirstComment => values.first_comment = text,
                Target::Variant(slug) => {
                    let accounts = state
                        .services
                        .accounts_of(m.membership.workspace_id())
                        .await?;
                    let of_platform: Vec<i64> = accounts
                        .iter()
                        .filter(|a| a.platform == slug && a.status != AccountStatus::Disconnected)
                        .map(|a| a.id)
                        .collect();
                    let mut any = false;
                    for (id, variant) in values.chosen.iter_mut() {
                        if of_platform.contains(id) {
                            *variant = text.clone();
                            any = true;
                        }
                    }
                    // None of that platform chosen yet: taking its version chooses its accounts.
                    if !any {
                        for id in of_platform {
                            values.chosen.push((id, text.clone()));
                        }
                    }
                }
            }
            values.offer = Some(accepted.generation);
            values.ai_suggestion = Some(accepted.generation);
            axum::http::StatusCode::OK
        }
        Err(err) => errors.refuse(err, "assist")?,
    };
    let mut res = render(page(&state, &m, post_id, values, errors).await?)?;
    *res.status_mut() = status;
    Ok(res)
}

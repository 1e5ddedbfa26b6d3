//! Connected accounts: the list, connecting over OAuth (scopes shown before leaving), the
//! platform's callback, and disconnecting (asked first with what it touches; then revoke and
//! delete the tokens).

use crate::AppState;
use crate::confirm::{ConfirmPage, Confirmation, ask_first};
use crate::error::{AppError, AppResult};
use crate::extract::{CurrentUser, PathIds, WorkspaceMember};
use crate::flash::{Flash, redirect_with};
use crate::forms::FieldErrors;
use crate::page::Layout;
use crate::routes::{no_referrer, render, rerender};
use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use domain::{Platform, SocialAccountId, WorkspaceId};
use services::ServiceError;
use services::connections::Identity;
use services::connections::{Finished, Revocation};
use store::entities::states::AccountStatus;

/// The routes of connected accounts, and the platforms' OAuth callback.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/w/{wid}/accounts", get(page))
        .route("/w/{wid}/accounts/connect/{platform}", post(connect))
        .route(
            "/w/{wid}/accounts/{aid}/disconnect",
            get(confirm_disconnect).post(disconnect),
        )
        .route("/oauth/{platform}/callback", get(callback))
        .route("/oauth/choose", post(choose))
}

pub struct AccountRow {
    pub id: i64,
    pub platform: &'static str,
    pub username: String,
    pub display_name: String,
    pub connected: bool,
    /// The platform refused a renewal: the account must be connected again.
    pub reconnect: bool,
    pub slug: &'static str,
    /// "12,345 followers", as the platform last said.
    pub followers: Option<String>,
}

/// A platform that can be connected.
pub struct Offer {
    pub slug: &'static str,
    pub label: &'static str,
}

/// A count with thousands separated: 12,345.
pub fn count_label(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// "1 follower", "12,345 followers".
pub fn followers_label(n: u64) -> String {
    let noun = if n == 1 { "follower" } else { "followers" };
    format!("{} {noun}", count_label(n))
}

/// Where to remove the app in each platform's own settings (the privacy page's list).
pub fn removal_steps(platform: Platform) -> &'static str {
    match platform {
        Platform::Facebook => "Settings > Business Integrations",
        Platform::Instagram => "Settings > Website Permissions > Apps and Websites",
        Platform::TikTok => "Settings > Security and Permissions > Authorized Apps",
        Platform::LinkedIn => "Settings > Data Privacy > Permitted Services",
        Platform::X => "Settings > Security and Account Access > Apps and Sessions",
    }
}

/// What a scope lets Socializioz do, in words.
fn scope_meaning(scope: &str) -> &'static str {
    match scope {
        "tweet.read" => "read posts (needed to publish)",
        "tweet.write" => "publish posts",
        "users.read" => "read the profile: id, name, username",
        "offline.access" => "stay connected without asking again every two hours",
        "media.write" => "upload images and videos",
        "pages_show_list" => "list the Pages you manage, so you can choose one",
        "pages_manage_posts" => "publish posts on the Pages you choose",
        "pages_read_engagement" => "read the Pages' names, pictures and follower counts",
        "instagram_business_basic" => "read the profile: id, username, picture, followers",
        "instagram_business_content_publish" => "publish posts, carousels and reels",
        "user.info.basic" => "read the profile: id, name, avatar",
        "video.publish" => "publish videos and photos directly to the profile",
        "openid" => "sign you in with LinkedIn to learn which member you are",
        "profile" => "read the name and photo",
        "w_member_social" => "publish posts as you",
        "r_member_social" => {
            "read your own posts, only to check whether one whose answer was lost went out"
        }
        "pages_manage_engagement" => "comment as the Page (a post's first comment)",
        "instagram_business_manage_comments" => "comment under your posts (a first comment)",
        "read_insights" => "read the Pages' and their posts' figures (analytics)",
        "instagram_business_manage_insights" => {
            "read the account's and its posts' figures (analytics)"
        }
        "user.info.stats" => "read the follower count (analytics)",
        "video.list" => "read your videos' view, like, comment and share counts (analytics)",
        "r_member_postAnalytics" => "read your posts' figures (analytics)",
        _ => "",
    }
}

pub struct ScopeLine {
    pub scope: &'static str,
    pub meaning: &'static str,
}

#[derive(Template)]
#[template(path = "accounts/list.html")]
struct AccountsPage {
    layout: Layout,
    errors: FieldErrors,
    ws: i64,
    accounts: Vec<AccountRow>,
    offers: Vec<(Offer, Vec<ScopeLine>)>,
    manage: bool,
    steps: Vec<(&'static str, &'static str)>,
}

async fn page_with(
    state: &AppState,
    m: &WorkspaceMember,
    errors: FieldErrors,
) -> AppResult<AccountsPage> {
    let ws = m.membership.workspace_id();
    let accounts = state
        .services
        .accounts_of(ws)
        .await?
        .into_iter()
        .map(|a| AccountRow {
            id: a.id,
            platform: Platform::parse(&a.platform)
                .map(|p| p.label())
                .unwrap_or("?"),
            slug: Platform::parse(&a.platform)
                .map(|p| p.slug())
                .unwrap_or("?"),
            connected: a.status == AccountStatus::Connected,
            reconnect: a.status == AccountStatus::ReconnectNeeded,
            followers: a
                .follower_count
                .and_then(|n| u64::try_from(n).ok())
                .map(followers_label),
            username: a.username,
            display_name: a.display_name,
        })
        .collect();
    let offers = state
        .services
        .connectors
        .platforms()
        .into_iter()
        .filter_map(|p| {
            state.services.connectors.get(p)?;
            let scopes = state
                .services
                .scopes_for(p, services::analytics::Wants::of(&m.membership.workspace));
            Some((
                Offer {
                    slug: p.slug(),
                    label: p.label(),
                },
                scopes
                    .iter()
                    .map(|s| ScopeLine {
                        scope: s,
                        meaning: scope_meaning(s),
                    })
                    .collect(),
            ))
        })
        .collect();
    Ok(AccountsPage {
        layout: Layout::for_member(state, m, "Connected accounts"),
        errors,
        ws: ws.0,
        accounts,
        offers,
        manage: m.membership.role.can_manage_members(),
        steps: Platform::ALL
            .iter()
            .map(|p| (p.label(), removal_steps(*p)))
            .collect(),
    })
}

pub async fn page(State(state): State<AppState>, m: WorkspaceMember) -> AppResult {
    render(page_with(&state, &m, FieldErrors::new()).await?)
}

fn callback_url(state: &AppState, platform: Platform) -> String {
    format!(
        "{}/oauth/{}/callback",
        state.services.base_url,
        platform.slug()
    )
}

pub async fn connect(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((_, slug)): PathIds<(i64, String)>,
) -> AppResult {
    let platform = Platform::parse(&slug).map_err(|_| AppError::NotFound)?;
    let result = state
        .services
        .start_connection(
            &m.membership,
            &m.auth.user,
            m.auth.session_id,
            platform,
            &callback_url(&state, platform),
        )
        .await;
    match result {
        Ok(url) => Ok(Redirect::to(&url).into_response()),
        Err(err) => refused(&state, &m, err).await,
    }
}

async fn refused(state: &AppState, m: &WorkspaceMember, err: ServiceError) -> AppResult {
    let mut errors = FieldErrors::new();
    let status = match err {
        ServiceError::Forbidden(message) => {
            errors.add("accounts", message);
            StatusCode::FORBIDDEN
        }
        ServiceError::Invalid { message, .. } => {
            errors.add("accounts", message);
            StatusCode::UNPROCESSABLE_ENTITY
        }
        ServiceError::NotFound => return Err(AppError::NotFound),
        other => return Err(other.into()),
    };
    let mut res = render(page_with(state, m, errors).await?)?;
    *res.status_mut() = status;
    Ok(res)
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct CallbackQuery {
    state: String,
    code: Option<String>,
    error: Option<String>,
}

/// The platform sends the browser back here. The state must be this session's, unused and
/// fresh; anything else is refused without storing anything.
pub async fn callback(
    State(state): State<AppState>,
    user: CurrentUser,
    PathIds(slug): PathIds<String>,
    Query(query): Query<CallbackQuery>,
) -> AppResult {
    let platform = Platform::parse(&slug).map_err(|_| AppError::NotFound)?;
    let result = state
        .services
        .finish_connection(
            &user.auth.user,
            user.auth.session_id,
            platform,
            &query.state,
            query.code.as_deref(),
            query.error.is_some(),
            &callback_url(&state, platform),
        )
        .await;
    let res = match result {
        Ok((ws, Finished::Connected(_))) => {
            redirect_with(&format!("/w/{}/accounts", ws.0), Flash::AccountConnected)
        }
        Ok((
            _,
            Finished::Choose {
                platform,
                choice,
                candidates,
            },
        )) => render(ChoosePage {
            layout: Layout::new(&state, &user.ctx, "Choose accounts").await?,
            errors: FieldErrors::new(),
            platform,
            choice,
            candidates: candidates.into_iter().map(Candidate::from).collect(),
        })?,
        Ok((ws, Finished::Cancelled)) => {
            redirect_with(&format!("/w/{}/accounts", ws.0), Flash::ConnectionCancelled)
        }
        Err(ServiceError::Invalid { message, .. } | ServiceError::Forbidden(message)) => {
            AppError::Invalid(message).into_response()
        }
        Err(other) => return Err(other.into()),
    };
    Ok(no_referrer(res))
}

#[derive(Template)]
#[template(path = "accounts/choose.html")]
struct ChoosePage {
    layout: Layout,
    errors: FieldErrors,
    platform: Platform,
    /// The single-use state that carries the choice (in the form, never in a URL).
    choice: String,
    candidates: Vec<Candidate>,
}

impl ChoosePage {
    /// What the platform's accounts are called: a Facebook login offers Pages.
    fn noun(&self, many: bool) -> &'static str {
        match (self.platform, many) {
            (Platform::Facebook, false) => "Page",
            (Platform::Facebook, true) => "Pages",
            (_, false) => "account",
            (_, true) => "accounts",
        }
    }
}

/// An account offered in the chooser. The form carries what the page showed of each, so that
/// a form sent with nothing ticked can be shown again as it was (which accounts may be
/// connected is decided by the stored choice, never by these).
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Candidate {
    pub external_id: String,
    pub username: String,
    pub display_name: String,
    pub followers: Option<u64>,
}

impl From<Identity> for Candidate {
    fn from(who: Identity) -> Self {
        Self {
            external_id: who.external_id,
            username: who.username,
            display_name: who.display_name,
            followers: who.followers,
        }
    }
}

impl Candidate {
    /// The value of its hidden `shown` field.
    pub fn carried(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The chosen accounts (checkboxes named `account`), and what the page showed.
pub struct ChooseForm {
    choice: String,
    accounts: Vec<String>,
    platform: Option<Platform>,
    shown: Vec<Candidate>,
}

impl ChooseForm {
    fn parse(body: &[u8]) -> Self {
        let mut form = Self {
            choice: String::new(),
            accounts: Vec::new(),
            platform: None,
            shown: Vec::new(),
        };
        for (key, value) in form_urlencoded::parse(body) {
            match key.as_ref() {
                "choice_state" => form.choice = value.into_owned(),
                "account" => form.accounts.push(value.into_owned()),
                "platform" => form.platform = Platform::parse(&value).ok(),
                "shown" => form
                    .shown
                    .extend(serde_json::from_str::<Candidate>(&value).ok()),
                _ => {}
            }
        }
        form
    }
}

/// The person chose which of a login's accounts to connect.
pub async fn choose(
    State(state): State<AppState>,
    user: CurrentUser,
    body: axum::body::Bytes,
) -> AppResult {
    let form = ChooseForm::parse(&body);
    // Nothing ticked: the choice is still unspent, so the same chooser comes back with a word
    // on what to do.
    if form.accounts.is_empty()
        && !form.shown.is_empty()
        && let Some(platform) = form.platform
    {
        let mut page = ChoosePage {
            layout: Layout::new(&state, &user.ctx, "Choose accounts").await?,
            errors: FieldErrors::new(),
            platform,
            choice: form.choice,
            candidates: form.shown,
        };
        let message = format!("Choose at least one {} to connect.", page.noun(false));
        page.errors.add("account", message);
        return rerender(page);
    }
    let result = state
        .services
        .choose_accounts(
            &user.auth.user,
            user.auth.session_id,
            &form.choice,
            &form.accounts,
        )
        .await;
    match result {
        Ok((ws, connected)) => Ok(redirect_with(
            &format!("/w/{}/accounts", ws.0),
            if connected.len() > 1 {
                Flash::AccountsConnected
            } else {
                Flash::AccountConnected
            },
        )),
        Err(ServiceError::Invalid { message, .. } | ServiceError::Forbidden(message)) => {
            Ok(AppError::Invalid(message).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

/// The page that asks before disconnecting: which scheduled posts wait, and what happens at
/// the platform.
pub async fn confirm_disconnect(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((ws, account)): PathIds<(WorkspaceId, SocialAccountId)>,
) -> AppResult {
    if !m.membership.role.can_manage_members() {
        return Err(AppError::Forbidden(
            "Only owners and admins disconnect accounts.".into(),
        ));
    }
    let impact = state
        .services
        .disconnect_impact(m.membership.workspace_id(), account)
        .await?;
    let a = &impact.account;
    let platform = Platform::parse(&a.platform).ok();
    let label = platform.map(|p| p.label()).unwrap_or("the platform");
    if a.status == AccountStatus::Disconnected {
        return Ok(Redirect::to(&format!("/w/{ws}/accounts")).into_response());
    }
    let mut consequences = vec![if impact.scheduled_posts == 0 {
        format!("No scheduled post goes to @{}.", a.username)
    } else {
        format!(
            "{} for @{} will wait until the account is reconnected or the post is edited.",
            domain::counted(impact.scheduled_posts, "scheduled post", "scheduled posts"),
            a.username
        )
    }];
    consequences.push(if impact.sharing > 0 {
        format!(
            "The tokens Socializioz holds for it are deleted. {label} keeps the authorisation, because {} of the same login still use it.",
            domain::counted(impact.sharing, "other connected account", "other connected accounts")
        )
    } else if platform == Some(Platform::Instagram) {
        "The tokens Socializioz holds for it are deleted. Instagram offers apps no way to revoke their access: remove Socializioz in Instagram's own settings too.".to_owned()
    } else {
        format!(
            "Socializioz's access is revoked at {label} and the tokens it holds are deleted. To publish to @{} again, connect it again.",
            a.username
        )
    });
    render(ConfirmPage {
        layout: Layout::for_member(&state, &m, "Disconnect an account"),
        heading: format!("Disconnect {label} @{}?", a.username),
        consequences,
        action: format!("/w/{ws}/accounts/{account}/disconnect"),
        button: Some(format!("Disconnect @{}", a.username)),
        back: format!("/w/{ws}/accounts"),
    })
}

/// Disconnects, once confirmed on the page that asks (a post without `confirm=yes` is sent
/// there).
pub async fn disconnect(
    State(state): State<AppState>,
    m: WorkspaceMember,
    PathIds((ws, account)): PathIds<(WorkspaceId, SocialAccountId)>,
    Form(confirmation): Form<Confirmation>,
) -> AppResult {
    if !confirmation.given() {
        return Ok(ask_first(&format!("/w/{ws}/accounts/{account}/disconnect")));
    }
    let result = state
        .services
        .disconnect_account(&m.membership, &m.auth.user, account)
        .await;
    match result {
        Ok(Revocation::Revoked) => Ok(redirect_with(
            &format!("/w/{ws}/accounts"),
            Flash::AccountDisconnected,
        )),
        Ok(Revocation::NotOffered) => Ok(redirect_with(
            &format!("/w/{ws}/accounts"),
            Flash::AccountDisconnectedNoRevocation,
        )),
        Ok(Revocation::Shared(_)) => Ok(redirect_with(
            &format!("/w/{ws}/accounts"),
            Flash::AccountDisconnectedShared,
        )),
        Ok(Revocation::Failed(_)) => Ok(redirect_with(
            &format!("/w/{ws}/accounts"),
            Flash::AccountDisconnectedUnconfirmed,
        )),
        Err(err) => refused(&state, &m, err).await,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(super::count_label(0), "0");
        assert_eq!(super::count_label(999), "999");
        assert_eq!(super::count_label(1_000), "1,000");
        assert_eq!(super::count_label(29_909), "29,909");
        assert_eq!(super::count_label(1_234_567), "1,234,567");
        assert_eq!(super::followers_label(1), "1 follower");
        assert_eq!(super::followers_label(29_909), "29,909 followers");
    }
}

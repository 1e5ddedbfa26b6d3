//! The analytics page: off until an owner or admin turns it on (on a plan with analytics),
//! then the workspace's figures for a range of days, by platform: key figures against the
//! previous range, charts drawn on the server, each platform's totals and the top posts; and
//! the accounts that must be connected again before their figures can be read.

use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::extract::WorkspaceMember;
use crate::flash::{Flash, redirect_with};
use crate::forms::Switch;
use crate::page::Layout;
use crate::routes::render;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::NaiveDate;
use domain::Platform;
use services::ServiceError;
use services::analytics::csv::Export;
use services::analytics::report::Table;
use services::analytics::shown::{self, Shown};
use services::analytics::{AccountReading, Days, Scope};
use store::entities::campaign;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/w/{wid}/analytics", get(page))
        .route("/w/{wid}/analytics/switch", post(switch))
        .route("/w/{wid}/analytics/accounts.csv", get(accounts_csv))
        .route("/w/{wid}/analytics/posts.csv", get(posts_csv))
        .route("/w/{wid}/analytics/report.pdf", get(report_pdf))
        .route("/w/{wid}/analytics/weekly", post(weekly))
}

/// A key figure as shown.
pub struct Figure {
    pub label: String,
    pub value: String,
    /// "+12% on the previous 30 days", or nothing to compare with.
    pub change: Option<String>,
    pub up: bool,
}

/// A chart and the table beside it.
pub struct Chart {
    pub id: &'static str,
    pub title: String,
    pub svg: String,
    pub rows: Vec<(String, String)>,
}

pub struct AccountLine {
    pub platform: &'static str,
    pub username: String,
    pub reconnect_for: Option<String>,
    /// Its authorisation lapsed at the platform: it must be connected again.
    pub lapsed: bool,
    /// "last read …", "waiting to be connected again", "not read since …".
    pub status: String,
    /// Why its own figures could not be read the last time, and when.
    pub read_error: Option<String>,
    /// "2 posts could not be read the last time: …".
    pub unread: Option<String>,
}

pub struct TopPost {
    pub post_id: i64,
    pub permalink: Option<String>,
    pub cells: Vec<String>,
}

/// Each platform and the permissions analytics asks of it.
pub struct Asks {
    pub platform: &'static str,
    pub scopes: String,
}

/// A choice of a filter: its value and its name.
pub struct Choice {
    pub value: String,
    pub label: String,
}

#[derive(Template)]
#[template(path = "workspaces/analytics.html")]
pub struct AnalyticsPage {
    layout: Layout,
    ws: i64,
    on: bool,
    manage: bool,
    asks: Vec<Asks>,
    accounts: Vec<AccountLine>,
    /// Some account must be connected again.
    reconnect: bool,
    /// X reads this month and the monthly budget, when an X account is read.
    x_reads: Option<(String, String)>,
    query: RangeQuery,
    /// Why the period asked for cannot be shown.
    range_error: Option<String>,
    quick: Vec<(String, String, &'static str)>,
    platforms: Vec<Choice>,
    account_choices: Vec<Choice>,
    campaign_choices: Vec<Choice>,
    /// The query string of the current view, for the downloads.
    selection: String,
    period: String,
    has_readings: bool,
    figures: Vec<Figure>,
    charts: Vec<Chart>,
    by_platform: Option<Table>,
    top_headers: Vec<String>,
    top: Vec<TopPost>,
    campaigns: Option<Table>,
    /// Why the campaigns' returns are not shown (the plan).
    campaigns_refused: Option<String>,
    weekly_report: bool,
    notes: Vec<String>,
}

#[derive(serde::Deserialize, Default, Clone)]
#[serde(default)]
pub struct RangeQuery {
    /// A quick range: the last 7, 30 or 90 days (used when `from` and `to` are empty).
    days: String,
    from: String,
    to: String,
    platform: String,
    account: String,
    campaign: String,
}

impl RangeQuery {
    /// The days and the scope asked for, or why the days cannot be shown.
    fn read(&self, today: NaiveDate) -> (Result<Days, String>, Scope) {
        let days = if self.from.trim().is_empty() && self.to.trim().is_empty() {
            let n = match self.days.as_str() {
                "7" => 7,
                "90" => 90,
                _ => 30,
            };
            Ok(Days::last(n, today))
        } else {
            Days::between(&self.from, &self.to, today)
        };
        let scope = Scope {
            platform: Platform::parse(&self.platform).ok(),
            account: self.account.parse().ok(),
            campaign: self.campaign.parse().ok(),
        };
        (days, scope)
    }

    /// The same view as a query string (the range as dates).
    fn selection(&self, days: Days) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        out.append_pair("from", &days.from.to_string());
        out.append_pair("to", &days.to.to_string());
        for (key, value) in [
            ("platform", &self.platform),
            ("account", &self.account),
            ("campaign", &self.campaign),
        ] {
            if !value.is_empty() {
                out.append_pair(key, value);
            }
        }
        out.finish()
    }
}

/// What a period and scope cover, in words ("All platforms", "Instagram @shop, campaign
/// Spring").
fn scope_label(scope: Scope, accounts: &[AccountReading], campaigns: &[campaign::Model]) -> String {
    let mut parts = Vec::new();
    match scope
        .account
        .and_then(|id| accounts.iter().find(|a| a.account.id == id))
    {
        Some(a) => parts.push(format!("{} @{}", a.platform.label(), a.account.username)),
        None => parts.push(
            scope
                .platform
                .map(|p| p.label().to_owned())
                .unwrap_or_else(|| "All platforms".to_owned()),
        ),
    }
    if let Some(c) = scope
        .campaign
        .and_then(|id| campaigns.iter().find(|c| c.id == id))
    {
        parts.push(format!("posts of the campaign {}", c.name));
    }
    parts.join(", ")
}

/// The analytics of a view, as the page and the report show them.
struct View {
    days: Days,
    scope: Scope,
    /// The figures and what is shown of them, but the campaigns' results.
    kept: std::sync::Arc<services::analytics::kept::KeptView>,
    /// The campaigns' results, when the plan reports them.
    results: Option<Table>,
    accounts: std::sync::Arc<Vec<AccountReading>>,
    campaigns_refused: Option<String>,
}

impl View {
    /// Everything shown, the campaigns' results with it (for the report).
    fn shown(&self) -> Shown {
        Shown {
            campaigns: self.results.clone(),
            ..self.kept.shown.clone()
        }
    }
}

async fn view(
    state: &AppState,
    m: &WorkspaceMember,
    days: Days,
    scope: Scope,
    accounts: std::sync::Arc<Vec<AccountReading>>,
) -> AppResult<View> {
    let ws = m.membership.workspace_id();
    let zone = crate::routes::posts::zone_of(m);
    let kept = state
        .services
        .analytics_view(&m.membership, days, scope, &zone)
        .await?;
    let (results, campaigns_refused) = match state.services.require_roi_reporting(ws).await {
        Ok(()) => {
            let results = state
                .services
                .kept_results_of_campaigns(&m.membership, &kept.campaigns)
                .await?;
            (Some(shown::campaign_table(&results)), None)
        }
        Err(ServiceError::PlanLimit { refusal, .. }) => (None, Some(refusal.to_string())),
        Err(other) => return Err(other.into()),
    };
    Ok(View {
        days,
        scope,
        kept,
        results,
        accounts,
        campaigns_refused,
    })
}

pub async fn page(
    State(state): State<AppState>,
    m: WorkspaceMember,
    Query(query): Query<RangeQuery>,
) -> AppResult {
    let ws = m.membership.workspace_id();
    state.services.require_analytics(ws).await?;
    let on = state.services.analytics_on(&m.membership);
    let asks = state
        .services
        .metrics
        .platforms()
        .into_iter()
        .map(|p| Asks {
            platform: p.label(),
            scopes: state
                .services
                .metrics
                .get(p)
                .map(|r| r.insight_scopes().join(", "))
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "nothing more than publishing's".to_owned()),
        })
        .collect();
    let tz = crate::routes::posts::zone_of(&m);
    let readings = if on {
        state.services.analytics_accounts(&m.membership).await?
    } else {
        Default::default()
    };
    let accounts: Vec<AccountLine> = readings
        .iter()
        .map(|a| AccountLine {
            platform: a.platform.label(),
            username: a.account.username.clone(),
            reconnect_for: a.reconnect_for.clone(),
            lapsed: a.lapsed,
            status: match (a.lapsed, &a.reconnect_for, a.last_read) {
                (true, _, Some(t)) => format!(
                    "its authorisation lapsed: not read since {}",
                    domain::schedule::describe(t, tz)
                ),
                (true, _, None) => "its authorisation lapsed: never read".to_owned(),
                (false, Some(_), _) => "waiting to be connected again".to_owned(),
                (false, None, Some(t)) => {
                    format!("last read {}", domain::schedule::describe(t, tz))
                }
                (false, None, None) => "not read yet".to_owned(),
            },
            read_error: a.read_error.as_ref().map(|(why, at)| {
                format!(
                    "the last read stopped {} ({why}); it is tried again at the next look",
                    domain::schedule::describe(*at, tz)
                )
            }),
            unread: (a.unread_posts > 0).then(|| {
                format!(
                    "{} could not be read the last time ({}); {} read again at the next look",
                    domain::counted(a.unread_posts, "post", "posts"),
                    a.unread_reason.clone().unwrap_or_default(),
                    if a.unread_posts == 1 {
                        "it is"
                    } else {
                        "they are"
                    }
                )
            }),
        })
        .collect();
    let today = services::now().date_naive();
    let (days, scope) = query.read(today);
    let account_choices = readings
        .iter()
        .map(|a| Choice {
            value: a.account.id.to_string(),
            label: format!("{} @{}", a.platform.label(), a.account.username),
        })
        .collect();
    let shown_view = match (&days, on) {
        (Ok(days), true) => Some(view(&state, &m, *days, scope, readings).await?),
        _ => None,
    };
    let range_error = days.as_ref().err().cloned();
    let campaign_choices = match &shown_view {
        Some(v) => v
            .kept
            .campaigns
            .iter()
            .map(|c| Choice {
                value: c.id.to_string(),
                label: c.name.clone(),
            })
            .collect(),
        None => Vec::new(),
    };
    let quick = [7, 30, 90]
        .into_iter()
        .map(|n| {
            let d = Days::last(n, today);
            let current = days.as_ref().is_ok_and(|x| *x == d);
            (
                d.from.to_string(),
                d.to.to_string(),
                match (n, current) {
                    (7, _) => "Last 7 days",
                    (30, _) => "Last 30 days",
                    _ => "Last 90 days",
                },
            )
        })
        .collect();
    let mut page = AnalyticsPage {
        layout: Layout::for_member(&state, &m, "Analytics"),
        ws: ws.0,
        on,
        manage: m.membership.role.can_manage_members(),
        asks,
        reconnect: accounts
            .iter()
            .any(|a| a.reconnect_for.is_some() || a.lapsed),
        x_reads: if on && accounts.iter().any(|a| a.platform == Platform::X.label()) {
            let used = match &shown_view {
                Some(v) => v.kept.x_reads,
                None => state.services.x_reads(ws).await?.0,
            };
            Some((
                domain::plans::thousands(used),
                domain::plans::thousands(state.services.x_reads_per_month),
            ))
        } else {
            None
        },
        accounts,
        query: RangeQuery {
            from: days
                .as_ref()
                .map(|d| d.from.to_string())
                .unwrap_or_else(|_| query.from.clone()),
            to: days
                .as_ref()
                .map(|d| d.to.to_string())
                .unwrap_or_else(|_| query.to.clone()),
            ..query.clone()
        },
        range_error,
        quick,
        platforms: state
            .services
            .metrics
            .platforms()
            .into_iter()
            .map(|p| Choice {
                value: p.slug().to_owned(),
                label: p.label().to_owned(),
            })
            .collect(),
        account_choices,
        campaign_choices,
        selection: String::new(),
        period: String::new(),
        has_readings: false,
        figures: Vec::new(),
        charts: Vec::new(),
        by_platform: None,
        top_headers: Vec::new(),
        top: Vec::new(),
        campaigns: None,
        campaigns_refused: None,
        weekly_report: on && m.membership.weekly_report,
        notes: Vec::new(),
    };
    if let Some(v) = shown_view {
        let shown = &v.kept.shown;
        page.selection = query.selection(v.days);
        page.period = shown.period.clone();
        page.notes = shown.notes.clone();
        page.has_readings = v.kept.overview.has_readings;
        page.figures = shown
            .figures
            .iter()
            .map(|k| Figure {
                label: k.figure.label.clone(),
                value: k.figure.value.clone(),
                change: k.figure.change.clone(),
                up: k.up,
            })
            .collect();
        page.charts = shown
            .charts
            .iter()
            .zip(&v.kept.svgs)
            .map(|(c, svg)| Chart {
                id: c.id,
                title: c.title.clone(),
                svg: svg.clone(),
                rows: c.rows.clone(),
            })
            .collect();
        page.by_platform = (!shown.by_platform.rows.is_empty()).then(|| shown.by_platform.clone());
        page.top_headers = shown.top_posts.headers.clone();
        page.top = v
            .kept
            .overview
            .top_posts
            .iter()
            .zip(shown.top_posts.rows.iter())
            .map(|(p, cells)| TopPost {
                post_id: p.post_id,
                permalink: p.permalink.clone(),
                cells: cells.clone(),
            })
            .collect();
        page.campaigns = v.results.clone();
        page.campaigns_refused = v.campaigns_refused.clone();
        let _ = v.scope;
    }
    let status = if page.range_error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut res = render(page)?;
    *res.status_mut() = status;
    Ok(res)
}

pub async fn accounts_csv(
    State(state): State<AppState>,
    m: WorkspaceMember,
    Query(query): Query<RangeQuery>,
) -> AppResult {
    csv(state, m, query, Export::Accounts).await
}

pub async fn posts_csv(
    State(state): State<AppState>,
    m: WorkspaceMember,
    Query(query): Query<RangeQuery>,
) -> AppResult {
    csv(state, m, query, Export::Posts).await
}

/// The days of a download, or a page saying why they cannot be had.
fn download_days(query: &RangeQuery) -> AppResult<(Days, Scope)> {
    let (days, scope) = query.read(services::now().date_naive());
    match days {
        Ok(days) => Ok((days, scope)),
        Err(message) => Err(AppError::BadRequest(message)),
    }
}

/// A CSV download of the range's figures, streamed as it is read.
async fn csv(state: AppState, m: WorkspaceMember, query: RangeQuery, export: Export) -> AppResult {
    let ws = m.membership.workspace_id();
    state.services.require_analytics_exports(ws).await?;
    let (days, scope) = download_days(&query)?;
    let stream = state
        .services
        .analytics_csv(ws, export, days, scope)
        .await?;
    let name = format!(
        "analytics-{}-{}-to-{}.csv",
        export.slug(),
        days.from,
        days.to
    );
    let res = axum::body::Body::from_stream(stream).into_response();
    Ok(download(res, "text/csv; charset=utf-8", &name))
}

/// A response as a download named `name`, never cached.
fn download(mut res: Response, kind: &'static str, name: &str) -> Response {
    use axum::http::header;
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_TYPE, header::HeaderValue::from_static(kind));
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    if let Ok(value) = header::HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    res
}

/// The analytics of the view as a PDF report.
pub async fn report_pdf(
    State(state): State<AppState>,
    m: WorkspaceMember,
    Query(query): Query<RangeQuery>,
) -> AppResult {
    let ws = m.membership.workspace_id();
    state.services.require_analytics_exports(ws).await?;
    if !state.services.analytics_on(&m.membership) {
        return Err(AppError::BadRequest(
            "Analytics is off in this workspace: turn it on first.".into(),
        ));
    }
    let (days, scope) = download_days(&query)?;
    let accounts = state.services.analytics_accounts(&m.membership).await?;
    let v = view(&state, &m, days, scope, accounts).await?;
    let generated = format!(
        "{} ({})",
        domain::schedule::describe(services::now(), crate::routes::posts::zone_of(&m)),
        crate::routes::posts::zone_of(&m).name()
    );
    let report = v.shown().report(
        &m.membership.workspace.name,
        &scope_label(v.scope, &v.accounts, &v.kept.campaigns),
        generated,
    );
    let bytes = services::analytics::report::pdf(&report)
        .map_err(|e| AppError::Unexpected(anyhow::anyhow!(e)))?;
    let name = format!("analytics-report-{}-to-{}.pdf", days.from, days.to);
    Ok(download(bytes.into_response(), "application/pdf", &name))
}

/// Asks for the weekly report by e-mail, or stops it, for the signed-in member.
pub async fn weekly(
    State(state): State<AppState>,
    m: WorkspaceMember,
    Form(form): Form<Switch>,
) -> AppResult {
    let on = form.on();
    state.services.set_weekly_report(&m.membership, on).await?;
    Ok(redirect_with(
        &format!("/w/{}/analytics", m.membership.workspace.id),
        if on {
            Flash::WeeklyReportOn
        } else {
            Flash::WeeklyReportOff
        },
    ))
}

pub async fn switch(
    State(state): State<AppState>,
    m: WorkspaceMember,
    Form(form): Form<Switch>,
) -> AppResult {
    let on = form.on();
    state
        .services
        .set_analytics(&m.membership, &m.auth.user, on)
        .await?;
    Ok(redirect_with(
        &format!("/w/{}/analytics", m.membership.workspace.id),
        if on {
            Flash::AnalyticsOn
        } else {
            Flash::AnalyticsOff
        },
    ))
}

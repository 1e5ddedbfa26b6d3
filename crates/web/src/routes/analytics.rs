//! The analytics page: off until an owner or admin turns it on (on a plan with analytics),
//! then the workspace's figures for a range of days, by platform: key figures against the
//! previous range, charts drawn on the server, each platform's totals and the top posts; and
//! the accounts that must be connected again before their figures can be read.

use crate::AppState;
use crate::error::AppResult;
use crate::extract::WorkspaceMember;
use crate::flash::{Flash, redirect_with};
use crate::forms::Switch;
use crate::page::Layout;
use crate::routes::render;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Form, Router};
use domain::Platform;
use domain::metrics::Metric;
use services::analytics::csv::Export;
use services::analytics::{DAILY, Days, POST_METRICS, chart};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/w/{wid}/analytics", get(page))
        .route("/w/{wid}/analytics/switch", post(switch))
        .route("/w/{wid}/analytics/accounts.csv", get(accounts_csv))
        .route("/w/{wid}/analytics/posts.csv", get(posts_csv))
}

/// A key figure as shown.
pub struct Figure {
    pub label: &'static str,
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
    pub last_read: String,
    /// "2 posts could not be read the last time: …".
    pub unread: Option<String>,
}

pub struct PlatformRow {
    pub platform: &'static str,
    pub cells: Vec<String>,
}

pub struct TopPost {
    pub post_id: i64,
    pub excerpt: String,
    pub account: String,
    pub permalink: Option<String>,
    pub cells: Vec<String>,
}

/// Each platform and the permissions analytics asks of it.
pub struct Asks {
    pub platform: &'static str,
    pub scopes: String,
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
    range: i64,
    ranges: [i64; 3],
    platform: String,
    platforms: Vec<(&'static str, &'static str)>,
    period: String,
    has_readings: bool,
    figures: Vec<Figure>,
    charts: Vec<Chart>,
    daily_labels: Vec<&'static str>,
    by_platform: Vec<PlatformRow>,
    top: Vec<TopPost>,
    post_labels: Vec<&'static str>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct RangeQuery {
    days: String,
    platform: String,
}

impl RangeQuery {
    /// The number of days (7, 30 or 90; 30 for anything else) and the platform (none: all).
    fn read(&self) -> (i64, Option<Platform>) {
        let range = match self.days.as_str() {
            "7" => 7,
            "90" => 90,
            _ => 30,
        };
        (range, Platform::parse(&self.platform).ok())
    }
}

fn number(n: i64) -> String {
    let digits = domain::plans::thousands(n.unsigned_abs());
    if n < 0 {
        format!("−{digits}")
    } else {
        digits
    }
}

fn change(value: i64, previous: Option<i64>, days: i64) -> Option<(String, bool)> {
    let previous = previous?;
    if previous == 0 {
        return (value != 0).then(|| (format!("up from none in the previous {days} days"), true));
    }
    let percent = ((value - previous) as f64 / previous as f64 * 100.0).round() as i64;
    let sign = if percent >= 0 { "+" } else { "−" };
    Some((
        format!("{sign}{}% on the previous {days} days", percent.abs()),
        percent >= 0,
    ))
}

pub async fn page(
    State(state): State<AppState>,
    m: WorkspaceMember,
    Query(query): Query<RangeQuery>,
) -> AppResult {
    let ws = m.membership.workspace_id();
    state.services.require_analytics(ws).await?;
    let on = state.services.analytics_on(&m.membership);
    let (range, platform) = query.read();
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
    let accounts: Vec<AccountLine> =
        if on {
            state
                .services
                .analytics_accounts(ws)
                .await?
                .into_iter()
                .map(|a| {
                    AccountLine {
                platform: a.platform.label(),
                username: a.account.username,
                reconnect_for: a.reconnect_for,
                last_read: a
                    .last_read
                    .map(|t| domain::schedule::describe(t, tz))
                    .unwrap_or_else(|| "not read yet".to_owned()),
                unread: (a.unread_posts > 0).then(|| {
                    format!(
                        "{} could not be read the last time ({}); {} read again at the next look",
                        domain::counted(a.unread_posts, "post", "posts"),
                        a.unread_reason.clone().unwrap_or_default(),
                        if a.unread_posts == 1 { "it is" } else { "they are" }
                    )
                }),
            }
                })
                .collect()
        } else {
            Vec::new()
        };
    let today = services::now().date_naive();
    let days = Days::last(range, today);
    let overview = if on {
        Some(
            state
                .services
                .analytics_overview(ws, days, platform)
                .await?,
        )
    } else {
        None
    };
    let mut figures = Vec::new();
    let mut charts = Vec::new();
    let mut by_platform = Vec::new();
    let mut top = Vec::new();
    let mut has_readings = false;
    if let Some(o) = overview {
        has_readings = o.has_readings;
        for k in &o.key_figures {
            let shown = change(k.value, k.previous, range);
            figures.push(Figure {
                label: k.metric.label(),
                value: number(k.value),
                up: shown.as_ref().is_some_and(|(_, up)| *up),
                change: shown.map(|(text, _)| text),
            });
        }
        let day = |d: chrono::NaiveDate| d.format("%-d %b %Y").to_string();
        charts.push(Chart {
            id: "followers",
            title: format!("Followers, {}", period(days)),
            svg: chart::line("Followers by day", &o.followers),
            rows: o
                .followers
                .iter()
                .map(|(d, v)| (day(*d), v.map(number).unwrap_or_else(|| "—".into())))
                .collect(),
        });
        for (id, metric) in [("engagement", Metric::Engagement), ("views", Metric::Views)] {
            let series: Vec<(chrono::NaiveDate, Option<i64>)> = o
                .daily
                .get(&metric)
                .map(|s| s.iter().map(|(d, v)| (*d, Some(*v))).collect())
                .unwrap_or_default();
            charts.push(Chart {
                id,
                title: format!("{} by day, {}", metric.label(), period(days)),
                svg: chart::line(&format!("{} by day", metric.label()), &series),
                rows: series
                    .iter()
                    .map(|(d, v)| (day(*d), v.map(number).unwrap_or_default()))
                    .collect(),
            });
        }
        by_platform = o
            .by_platform
            .iter()
            .map(|(p, totals)| PlatformRow {
                platform: p.label(),
                cells: DAILY
                    .iter()
                    .map(|m| totals.get(m).copied().map(number).unwrap_or_default())
                    .collect(),
            })
            .collect();
        top = o
            .top_posts
            .iter()
            .map(|p| TopPost {
                post_id: p.post_id,
                excerpt: if p.excerpt.is_empty() {
                    "(no text)".to_owned()
                } else {
                    p.excerpt.clone()
                },
                account: format!("{} @{}", p.platform.label(), p.username),
                permalink: p.permalink.clone(),
                cells: POST_METRICS
                    .iter()
                    .map(|m| {
                        p.totals
                            .get(m.key())
                            .copied()
                            .map(number)
                            .unwrap_or_else(|| "—".into())
                    })
                    .chain([number(p.interactions())])
                    .collect(),
            })
            .collect();
    }
    render(AnalyticsPage {
        layout: Layout::for_member(&state, &m, "Analytics"),
        ws: ws.0,
        on,
        manage: m.membership.role.can_manage_members(),
        asks,
        reconnect: accounts.iter().any(|a| a.reconnect_for.is_some()),
        x_reads: if on && accounts.iter().any(|a| a.platform == Platform::X.label()) {
            let (used, budget) = state.services.x_reads(ws).await?;
            Some((
                domain::plans::thousands(used),
                domain::plans::thousands(budget),
            ))
        } else {
            None
        },
        accounts,
        range,
        ranges: [7, 30, 90],
        platform: platform.map(|p| p.slug().to_owned()).unwrap_or_default(),
        platforms: state
            .services
            .metrics
            .platforms()
            .into_iter()
            .map(|p| (p.slug(), p.label()))
            .collect(),
        period: period(days),
        has_readings,
        figures,
        charts,
        daily_labels: DAILY.iter().map(|m| m.label()).collect(),
        by_platform,
        top,
        post_labels: POST_METRICS.iter().map(|m| m.label()).collect(),
    })
}

fn period(days: Days) -> String {
    format!(
        "{} to {}",
        days.from.format("%-d %b"),
        days.to.format("%-d %b %Y")
    )
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

/// A CSV download of the range's figures, streamed as it is read.
async fn csv(state: AppState, m: WorkspaceMember, query: RangeQuery, export: Export) -> AppResult {
    use axum::http::header;
    let ws = m.membership.workspace_id();
    state.services.require_analytics_exports(ws).await?;
    let (range, platform) = query.read();
    let days = Days::last(range, services::now().date_naive());
    let stream = state
        .services
        .analytics_csv(ws, export, days, platform)
        .await?;
    let name = format!(
        "attachment; filename=\"analytics-{}-{}-to-{}.csv\"",
        export.slug(),
        days.from,
        days.to
    );
    let mut res = axum::body::Body::from_stream(stream).into_response();
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    if let Ok(value) = header::HeaderValue::from_str(&name) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(res)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_read_as_people_say_them() {
        assert_eq!(
            change(120, Some(100), 30),
            Some(("+20% on the previous 30 days".to_owned(), true))
        );
        assert_eq!(
            change(50, Some(100), 7),
            Some(("−50% on the previous 7 days".to_owned(), false))
        );
        assert_eq!(change(5, None, 7), None);
        assert_eq!(
            change(5, Some(0), 7).map(|(t, _)| t),
            Some("up from none in the previous 7 days".to_owned())
        );
        assert_eq!(number(-1200), "−1,200");
    }
}

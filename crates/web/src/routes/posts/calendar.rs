//! The calendar: a month or a week of posts in the member's time zone, with the list's filters.
//! A post sits on the day and time it is scheduled for; drafts without a time are not on the
//! grid but listed under it. A scheduled post can be moved with the form under it (week view)
//! or on its page.

use super::list::{FilterChoices, Filters, PostLine};
use super::zone_of;
use crate::AppState;
use crate::error::AppResult;
use crate::extract::WorkspaceMember;
use crate::page::Layout;
use crate::routes::render;
use askama::Template;
use axum::extract::{Query, State};
use chrono::{Datelike, Duration, NaiveDate};
use domain::schedule;
use services::posts::PostFilter;

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct CalendarQuery {
    view: String,
    date: String,
    #[serde(flatten)]
    filters: Filters,
}

pub struct Day {
    pub date: String,
    pub label: String,
    pub weekday: String,
    pub in_range: bool,
    pub today: bool,
    pub posts: Vec<PostLine>,
}

#[derive(Template)]
#[template(path = "posts/calendar.html")]
struct CalendarPage {
    layout: Layout,
    ws: i64,
    week: bool,
    title: String,
    weeks: Vec<Vec<Day>>,
    /// Drafts not given a time, last edited first.
    undated: Vec<PostLine>,
    prev: String,
    next: String,
    today: String,
    anchor: String,
    filters: FilterChoices,
    filter_query: String,
    can_edit: bool,
    timezone: String,
    here: String,
}

impl CalendarPage {
    fn view(&self) -> &'static str {
        if self.week { "week" } else { "month" }
    }
}

pub async fn page(
    State(state): State<AppState>,
    m: WorkspaceMember,
    Query(query): Query<CalendarQuery>,
) -> AppResult {
    let tz = zone_of(&m);
    let today = schedule::to_local(services::now(), tz).date();
    // Years outside 1970–9999 are not calendar pages (and far years would overflow the
    // date arithmetic below).
    let anchor = NaiveDate::parse_from_str(&query.date, "%Y-%m-%d")
        .ok()
        .filter(|d| (1970..=9999).contains(&d.year()))
        .unwrap_or(today);
    let week = query.view == "week";
    let (first, last, prev, next, title) = if week {
        let first = anchor - Duration::days(i64::from(anchor.weekday().num_days_from_monday()));
        let last = first + Duration::days(6);
        (
            first,
            last,
            first - Duration::days(7),
            first + Duration::days(7),
            format!("{} – {}", first.format("%-d %b"), last.format("%-d %b %Y")),
        )
    } else {
        let month = anchor.with_day(1).unwrap_or(anchor);
        let next_month = (month + Duration::days(32)).with_day(1).unwrap_or(month);
        let prev_month = (month - Duration::days(1)).with_day(1).unwrap_or(month);
        let first = month - Duration::days(i64::from(month.weekday().num_days_from_monday()));
        let end = next_month - Duration::days(1);
        let last = end + Duration::days(i64::from(6 - end.weekday().num_days_from_monday()));
        (
            first,
            last,
            prev_month,
            next_month,
            month.format("%B %Y").to_string(),
        )
    };
    let mut filter = query.filters.to_filter();
    filter.from = Some(schedule::start_of_day(first, tz));
    filter.to = Some(schedule::start_of_day(last + Duration::days(1), tz));
    let summaries = state
        .services
        .list_posts(m.membership.workspace_id(), &filter)
        .await?;
    let undated_filter = PostFilter {
        undated: true,
        ..query.filters.to_filter()
    };
    let undated = state
        .services
        .list_posts(m.membership.workspace_id(), &undated_filter)
        .await?
        .iter()
        .map(|s| PostLine::from(s, tz))
        .collect();
    let mut days: Vec<Day> = first
        .iter_days()
        .take_while(|d| *d <= last)
        .map(|d| Day {
            date: d.format("%Y-%m-%d").to_string(),
            label: if week {
                d.format("%a %-d %b").to_string()
            } else {
                d.format("%-d").to_string()
            },
            weekday: d.format("%A").to_string(),
            in_range: week || d.month() == anchor.month(),
            today: d == today,
            posts: Vec::new(),
        })
        .collect();
    for s in &summaries {
        let Some(at) = s.post.scheduled_at else {
            continue;
        };
        let local = schedule::to_local(at, tz).date();
        let index = (local - first).num_days();
        if let Some(day) = usize::try_from(index).ok().and_then(|i| days.get_mut(i)) {
            day.posts.push(PostLine::from(s, tz));
        }
    }
    for day in &mut days {
        day.posts.sort_by(|a, b| a.time.cmp(&b.time));
    }
    let mut weeks = Vec::new();
    while !days.is_empty() {
        let rest = days.split_off(days.len().min(7));
        weeks.push(days);
        days = rest;
    }
    let ws = m.membership.workspace.id;
    let view = if week { "week" } else { "month" };
    let filter_query = query.filters.query();
    render(CalendarPage {
        layout: Layout::for_member(&state, &m, "Calendar"),
        ws,
        week,
        title,
        weeks,
        undated,
        prev: prev.format("%Y-%m-%d").to_string(),
        next: next.format("%Y-%m-%d").to_string(),
        today: today.format("%Y-%m-%d").to_string(),
        anchor: anchor.format("%Y-%m-%d").to_string(),
        here: format!(
            "/w/{ws}/calendar?view={view}&date={}{}",
            anchor.format("%Y-%m-%d"),
            filter_query
        ),
        filters: FilterChoices::load(&state, &m, query.filters).await?,
        filter_query,
        can_edit: m.membership.role.can_publish(),
        timezone: tz.name().to_owned(),
    })
}

//! The calendar: a month, a week or a day of posts in the member's time zone, with the list's
//! filters. A post sits on the day and time it is scheduled for; drafts without a time are not
//! on the grid but listed under it (the last edited few, with a link to the rest in the list).
//! A day of the month shows how many posts it has and the first few, with a link to the day,
//! which shows them all; a scheduled post can be moved with the form under it (week and day)
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
use services::posts::{Month, PostSummary};

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct CalendarQuery {
    view: String,
    date: String,
    #[serde(flatten)]
    filters: Filters,
}

/// What the calendar shows at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum View {
    Month,
    Week,
    Day,
}

impl View {
    fn of(name: &str) -> Self {
        match name {
            "week" => Self::Week,
            "day" => Self::Day,
            _ => Self::Month,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Month => "month",
            Self::Week => "week",
            Self::Day => "day",
        }
    }
}

pub struct Day {
    pub date: String,
    pub label: String,
    pub weekday: String,
    pub in_range: bool,
    pub today: bool,
    /// Its posts: all of them in a week or a day, the first few in a month.
    pub posts: Vec<PostLine>,
    /// How many posts it has.
    pub count: u64,
    /// How many of them are not shown here (the month: behind the link to the day).
    pub more: u64,
}

#[derive(Template)]
#[template(path = "posts/calendar.html")]
struct CalendarPage {
    layout: Layout,
    ws: i64,
    view: View,
    title: String,
    weeks: Vec<Vec<Day>>,
    /// Drafts not given a time, last edited first.
    undated: Vec<PostLine>,
    /// The list of all drafts, when there are more of those without a time than shown.
    more_undated: Option<String>,
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
        self.view.name()
    }

    /// The week and the day show every post, with its Move form.
    fn full(&self) -> bool {
        self.view != View::Month
    }
}

pub async fn page(
    State(state): State<AppState>,
    m: WorkspaceMember,
    Query(query): Query<CalendarQuery>,
) -> AppResult {
    let tz = zone_of(&m);
    let ws_id = m.membership.workspace_id();
    let today = schedule::to_local(services::now(), tz).date();
    // Years outside 1970–9999 are not calendar pages (and far years would overflow the
    // date arithmetic below).
    let anchor = NaiveDate::parse_from_str(&query.date, "%Y-%m-%d")
        .ok()
        .filter(|d| (1970..=9999).contains(&d.year()))
        .unwrap_or(today);
    let view = View::of(&query.view);
    let (first, last, prev, next, title) = match view {
        View::Day => (
            anchor,
            anchor,
            anchor - Duration::days(1),
            anchor + Duration::days(1),
            anchor.format("%A %-d %B %Y").to_string(),
        ),
        View::Week => {
            let first = anchor - Duration::days(i64::from(anchor.weekday().num_days_from_monday()));
            let last = first + Duration::days(6);
            (
                first,
                last,
                first - Duration::days(7),
                first + Duration::days(7),
                format!("{} – {}", first.format("%-d %b"), last.format("%-d %b %Y")),
            )
        }
        View::Month => {
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
        }
    };
    let dates: Vec<NaiveDate> = first.iter_days().take_while(|d| *d <= last).collect();
    let filter = query.filters.to_filter();
    let bounds: Vec<_> = dates
        .iter()
        .map(|d| {
            (
                schedule::start_of_day(*d, tz),
                schedule::start_of_day(*d + Duration::days(1), tz),
            )
        })
        .collect();
    // The month: each day's count and first few, read for all days at once. The week and the
    // day: every post (and the drafts without a time, read the same way as the month's).
    let (
        Month {
            days: cells,
            undated,
            more_undated,
        },
        full,
    ) = match view {
        View::Month => (
            state
                .services
                .calendar_month(ws_id, &filter, &bounds)
                .await?,
            Vec::new(),
        ),
        View::Week | View::Day => {
            let mut range = filter.clone();
            range.from = bounds.first().map(|(start, _)| *start);
            range.to = bounds.last().map(|(_, end)| *end);
            let posts = state.services.list_posts(ws_id, &range).await?;
            (
                state.services.calendar_month(ws_id, &filter, &[]).await?,
                posts,
            )
        }
    };
    let mut days: Vec<Day> = dates
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let cell = cells.get(i);
            let posts: Vec<PostLine> = cell
                .map(|c| c.first.iter().map(|s| PostLine::from(s, tz)).collect())
                .unwrap_or_default();
            let count = cell.map_or(0, |c| c.count);
            Day {
                date: d.format("%Y-%m-%d").to_string(),
                label: match view {
                    View::Month => d.format("%-d").to_string(),
                    View::Week | View::Day => d.format("%a %-d %b").to_string(),
                },
                weekday: d.format("%A").to_string(),
                in_range: view != View::Month || d.month() == anchor.month(),
                today: *d == today,
                more: count.saturating_sub(posts.len() as u64),
                count,
                posts,
            }
        })
        .collect();
    place(&mut days, &full, first, tz);
    let mut weeks = Vec::new();
    while !days.is_empty() {
        let rest = days.split_off(days.len().min(7));
        weeks.push(days);
        days = rest;
    }
    let ws = ws_id.0;
    let filter_query = query.filters.query();
    let more_undated = more_undated.then(|| {
        format!(
            "/w/{ws}/posts{}",
            query
                .filters
                .with_state("draft")
                .query()
                .replacen('&', "?", 1)
        )
    });
    render(CalendarPage {
        layout: Layout::for_member(&state, &m, "Calendar"),
        ws,
        view,
        title,
        weeks,
        undated: undated.iter().map(|s| PostLine::from(s, tz)).collect(),
        more_undated,
        prev: prev.format("%Y-%m-%d").to_string(),
        next: next.format("%Y-%m-%d").to_string(),
        today: today.format("%Y-%m-%d").to_string(),
        anchor: anchor.format("%Y-%m-%d").to_string(),
        here: format!(
            "/w/{ws}/calendar?view={}&date={}{}",
            view.name(),
            anchor.format("%Y-%m-%d"),
            filter_query
        ),
        filters: FilterChoices::load(&state, &m, query.filters).await?,
        filter_query,
        can_edit: m.membership.role.can_publish(),
        timezone: tz.name().to_owned(),
    })
}

/// Puts every post of a week or a day on the day it is due, by time.
fn place(days: &mut [Day], posts: &[PostSummary], first: NaiveDate, tz: domain::Timezone) {
    for s in posts {
        let Some(at) = s.post.scheduled_at else {
            continue;
        };
        let index = (schedule::to_local(at, tz).date() - first).num_days();
        if let Some(day) = usize::try_from(index).ok().and_then(|i| days.get_mut(i)) {
            day.posts.push(PostLine::from(s, tz));
            day.count += 1;
        }
    }
    for day in days.iter_mut() {
        day.posts.sort_by(|a, b| a.time.cmp(&b.time));
    }
}

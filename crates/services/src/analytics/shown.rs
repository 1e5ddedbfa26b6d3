//! The analytics of a range as people read them: figures written out, the charts drawn, the
//! tables filled. The analytics page and the PDF report both show this, so the two always
//! agree.

use crate::analytics::campaigns::CampaignResults;
use crate::analytics::report::{Figure, Report, Table};
use crate::analytics::{DAILY, Days, Overview, POST_METRICS, chart};
use crate::drawing::Drawing;
use chrono::NaiveDate;
use domain::Timezone;
use domain::campaign::money;
use domain::metrics::Metric;

/// A key figure, and whether it went up (for its colour on the page).
#[derive(Debug, Clone)]
pub struct KeyFigure {
    pub figure: Figure,
    pub up: bool,
}

/// A chart with its figures as a table.
#[derive(Debug, Clone)]
pub struct ShownChart {
    pub id: &'static str,
    pub title: String,
    pub drawing: Drawing,
    /// (day or label, value) for each point or bar.
    pub rows: Vec<(String, String)>,
}

/// Everything of a range that the page and the report show.
#[derive(Debug, Clone)]
pub struct Shown {
    pub period: String,
    pub figures: Vec<KeyFigure>,
    pub charts: Vec<ShownChart>,
    pub by_platform: Table,
    /// One row per post of the overview's top posts, in their order.
    pub top_posts: Table,
    /// The campaigns' results, when the plan reports them.
    pub campaigns: Option<Table>,
    /// What the figures are, and that today's are partial when the period ends today.
    pub notes: Vec<String>,
}

/// "1,250", "−40".
pub fn number(n: i64) -> String {
    let digits = domain::plans::thousands(n.unsigned_abs());
    if n < 0 {
        format!("−{digits}")
    } else {
        digits
    }
}

/// "+12% on the previous 30 days" and whether it is up; nothing without a previous figure.
pub fn change(value: i64, previous: Option<i64>, days: i64) -> Option<(String, bool)> {
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

/// "1 Nov to 30 Nov 2026".
pub fn period(days: Days) -> String {
    format!(
        "{} to {}",
        days.from.format("%-d %b"),
        days.to.format("%-d %b %Y")
    )
}

fn day(d: NaiveDate) -> String {
    d.format("%-d %b %Y").to_string()
}

/// The notes the page and the report carry about what the figures are.
pub const NOTES: [&str; 2] = [
    "Followers are each account's count as last read (for at most a week); views, reach, \
     engagement and new followers are the platforms' daily values added up over the days. A \
     post's figures are its lifetime totals. The two are never added together.",
    "Reach added up over accounts and days counts a person once per account and day, not once \
     in all. Best hours compare the average interactions of the posts published in each hour, \
     in the viewer's time zone.",
];

/// The note of a period that ends today (days are UTC days, as the platforms count them).
pub const PART_DAY: &str = "The period ends today, which is not over: today's figures are what \
     the platforms had counted at the last read, and they grow until the day is read again \
     tomorrow. Changes against the previous period compare a part of a day with a whole one.";

/// The overview of a range shown in `zone` (for the best hours to post), with the campaigns'
/// results when given.
pub fn shown(o: &Overview, zone: &Timezone, campaigns: Option<&[CampaignResults]>) -> Shown {
    let days = o.days;
    let range = days.len();
    let figures = o
        .key_figures
        .iter()
        .map(|k| {
            let c = change(k.value, k.previous, range);
            KeyFigure {
                up: c.as_ref().is_some_and(|(_, up)| *up),
                figure: Figure {
                    label: k.metric.label().to_owned(),
                    value: number(k.value),
                    change: c.map(|(text, _)| text),
                },
            }
        })
        .collect();
    let mut charts = vec![ShownChart {
        id: "followers",
        title: format!("Followers, {}", period(days)),
        drawing: chart::line("Followers by day", &o.followers),
        rows: o
            .followers
            .iter()
            .map(|(d, v)| (day(*d), v.map(number).unwrap_or_else(|| "—".into())))
            .collect(),
    }];
    for (id, metric) in [("engagement", Metric::Engagement), ("views", Metric::Views)] {
        let series: Vec<(NaiveDate, Option<i64>)> = o
            .daily
            .get(&metric)
            .map(|s| s.iter().map(|(d, v)| (*d, Some(*v))).collect())
            .unwrap_or_default();
        charts.push(ShownChart {
            id,
            title: format!("{} by day, {}", metric.label(), period(days)),
            drawing: chart::line(&format!("{} by day", metric.label()), &series),
            rows: series
                .iter()
                .map(|(d, v)| (day(*d), v.map(number).unwrap_or_default()))
                .collect(),
        });
    }
    if o.by_platform.len() > 1 {
        let bars: Vec<(String, i64)> = o
            .by_platform
            .iter()
            .map(|(p, totals)| {
                (
                    p.label().to_owned(),
                    totals.get(&Metric::Engagement).copied().unwrap_or(0),
                )
            })
            .collect();
        charts.push(ShownChart {
            id: "platforms",
            title: format!("Engagement by platform, {}", period(days)),
            drawing: chart::bars("Engagement by platform", &bars),
            rows: bars.iter().map(|(l, v)| (l.clone(), number(*v))).collect(),
        });
    }
    if o.hours.iter().any(|(_, n)| *n > 0) {
        let hours = best_hours(o);
        charts.push(ShownChart {
            id: "hours",
            title: format!(
                "Average interactions per post by hour published ({})",
                zone.name()
            ),
            drawing: chart::bars(
                "Average interactions per post by hour published",
                &hours
                    .iter()
                    .map(|(h, avg, _)| (format!("{h:02}"), *avg))
                    .collect::<Vec<_>>(),
            ),
            rows: hours
                .iter()
                .filter(|(_, _, n)| *n > 0)
                .map(|(h, avg, n)| {
                    (
                        format!("{h:02}:00"),
                        format!(
                            "{} ({})",
                            number(*avg),
                            domain::counted(*n, "post", "posts")
                        ),
                    )
                })
                .collect(),
        });
    }
    let by_platform = Table {
        heading: "By platform".into(),
        headers: std::iter::once("Platform".to_owned())
            .chain(DAILY.iter().map(|m| m.label().to_owned()))
            .collect(),
        rows: o
            .by_platform
            .iter()
            .map(|(p, totals)| {
                std::iter::once(p.label().to_owned())
                    .chain(
                        DAILY
                            .iter()
                            .map(|m| totals.get(m).copied().map(number).unwrap_or_default()),
                    )
                    .collect()
            })
            .collect(),
        empty: "No account of these platforms.".into(),
    };
    let top_posts = Table {
        heading: "Top posts".into(),
        headers: ["Post", "Account"]
            .into_iter()
            .map(str::to_owned)
            .chain(POST_METRICS.iter().map(|m| m.label().to_owned()))
            .chain(["Interactions".to_owned()])
            .collect(),
        rows: o
            .top_posts
            .iter()
            .map(|p| {
                [
                    if p.excerpt.is_empty() {
                        "(no text)".to_owned()
                    } else {
                        p.excerpt.clone()
                    },
                    format!("{} @{}", p.platform.label(), p.username),
                ]
                .into_iter()
                .chain(POST_METRICS.iter().map(|m| {
                    p.totals
                        .get(m.key())
                        .copied()
                        .map(number)
                        .unwrap_or_else(|| "—".into())
                }))
                .chain([number(p.interactions())])
                .collect()
            })
            .collect(),
        empty: "No post published in this period has figures yet.".into(),
    };
    let mut notes: Vec<String> = NOTES.iter().map(|n| (*n).to_owned()).collect();
    if days.to >= crate::now().date_naive() {
        notes.push(PART_DAY.to_owned());
    }
    Shown {
        period: period(days),
        figures,
        charts,
        by_platform,
        top_posts,
        campaigns: campaigns.map(campaign_table),
        notes,
    }
}

/// Per hour of the day: the average interactions of the posts published in it, and how many
/// there were.
fn best_hours(o: &Overview) -> Vec<(u32, i64, u64)> {
    o.hours
        .iter()
        .enumerate()
        .map(|(h, (sum, n))| {
            let avg = if *n == 0 {
                0
            } else {
                (*sum as f64 / *n as f64).round() as i64
            };
            (h as u32, avg, *n)
        })
        .collect()
}

/// The campaigns' results: what was measured and entered, and the returns.
pub fn campaign_table(results: &[CampaignResults]) -> Table {
    Table {
        heading: "Campaigns, all time".into(),
        headers: [
            "Campaign",
            "Posts",
            "Interactions",
            "Clicks",
            "Spend",
            "Per engagement",
            "Per click",
            "Value",
            "Return on spend",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect(),
        rows: results
            .iter()
            .map(|r| {
                let shown = returns_shown(r);
                vec![
                    r.campaign.name.clone(),
                    number(r.published as i64),
                    number(r.interactions),
                    r.clicks.map(number).unwrap_or_else(|| "—".to_owned()),
                    entered(r.campaign.spend_cents, &r.campaign.currency)
                        .unwrap_or_else(|| "—".to_owned()),
                    shown.per_engagement,
                    shown.per_click,
                    shown.value,
                    shown.return_on_spend,
                ]
            })
            .collect(),
        empty: "No campaign has published posts yet.".into(),
    }
}

/// An entered amount in its currency, when there is one.
pub fn entered(cents: Option<i64>, currency: &str) -> Option<String> {
    cents.map(|c| money(c, currency))
}

/// What follows from a campaign's measured and entered figures, as the campaign's page and the
/// campaign table show it ("—" where something is missing).
pub struct ReturnsShown {
    pub per_engagement: String,
    pub per_click: String,
    pub value: String,
    pub return_on_spend: String,
}

pub fn returns_shown(r: &CampaignResults) -> ReturnsShown {
    let currency = r.campaign.currency.as_str();
    let dash = || "—".to_owned();
    let per = |v: Option<f64>| {
        v.map(|c| money(c.round() as i64, currency))
            .unwrap_or_else(dash)
    };
    ReturnsShown {
        per_engagement: per(r.returns.cost_per_engagement),
        per_click: per(r.returns.cost_per_click),
        value: entered(r.returns.value, currency).unwrap_or_else(dash),
        return_on_spend: r
            .returns
            .return_on_spend
            .map(|x| format!("{x:.2}× ({:+.0}%)", (x - 1.0) * 100.0))
            .unwrap_or_else(dash),
    }
}

impl Shown {
    /// The report of this range for `workspace`.
    pub fn report(&self, workspace: &str, scope: &str, generated: String) -> Report {
        let mut tables = Vec::new();
        if !self.by_platform.rows.is_empty() {
            tables.push(self.by_platform.clone());
        }
        tables.push(self.top_posts.clone());
        if let Some(c) = &self.campaigns {
            tables.push(c.clone());
        }
        Report {
            workspace: workspace.to_owned(),
            period: self.period.clone(),
            scope: scope.to_owned(),
            generated,
            figures: self.figures.iter().map(|k| k.figure.clone()).collect(),
            charts: self
                .charts
                .iter()
                .map(|c| (c.title.clone(), c.drawing.clone()))
                .collect(),
            tables,
            notes: self.notes.clone(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::analytics::KeyFigure as Key;
    use std::collections::BTreeMap;

    fn overview(hours: [(i64, u64); 24]) -> Overview {
        let to = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        Overview {
            days: Days::last(7, to),
            followers: Days::last(7, to).each().map(|d| (d, Some(100))).collect(),
            daily: BTreeMap::new(),
            key_figures: vec![Key {
                metric: Metric::Followers,
                value: 100,
                previous: Some(80),
            }],
            by_platform: Vec::new(),
            top_posts: Vec::new(),
            hours,
            has_readings: true,
        }
    }

    #[test]
    fn best_hours_average_the_posts_of_each_hour() {
        let mut hours = [(0, 0); 24];
        hours[9] = (40, 2);
        hours[21] = (7, 1);
        let o = overview(hours);
        let berlin = Timezone::parse("Europe/Berlin").unwrap();
        let best = best_hours(&o);
        assert_eq!(best.len(), 24);
        assert_eq!(best[9], (9, 20, 2));
        assert_eq!(best[21], (21, 7, 1));
        let s = shown(&o, &berlin, None);
        let chart = s.charts.iter().find(|c| c.id == "hours").unwrap();
        assert!(chart.title.contains("Europe/Berlin"), "{}", chart.title);
        assert_eq!(
            chart.rows,
            [
                ("09:00".to_owned(), "20 (2 posts)".to_owned()),
                ("21:00".to_owned(), "7 (1 post)".to_owned())
            ]
        );
        assert_eq!(
            s.figures[0].figure.change.as_deref(),
            Some("+25% on the previous 7 days")
        );
        // Without posts, no hours chart; one platform, no comparison.
        let none = shown(&overview([(0, 0); 24]), &berlin, None);
        assert!(
            none.charts
                .iter()
                .all(|c| c.id != "hours" && c.id != "platforms")
        );
        let report = none.report("Acme", "All platforms", "now".into());
        assert_eq!(report.tables.len(), 1, "top posts only");
        assert_eq!(report.notes.len(), NOTES.len());
    }

    #[test]
    fn a_period_that_ends_today_says_its_last_day_is_partial() {
        let berlin = Timezone::parse("Europe/Berlin").unwrap();
        let mut o = overview([(0, 0); 24]);
        let ended = shown(&o, &berlin, None);
        assert!(!ended.notes.iter().any(|n| n == PART_DAY));
        o.days = Days::last(7, crate::now().date_naive());
        let today = shown(&o, &berlin, None);
        assert_eq!(today.notes.last().map(String::as_str), Some(PART_DAY));
        let report = today.report("Acme", "All platforms", "now".into());
        assert!(report.notes.iter().any(|n| n == PART_DAY));
    }

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

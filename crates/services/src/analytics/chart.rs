//! Charts drawn on the server as shapes ([`Drawing`]): the analytics page shows them inline as
//! SVG, and the PDF report draws the same shapes as vector paths. No script, no chart library,
//! nothing loaded from elsewhere; the figures are also in a table beside each chart for screen
//! readers.

use crate::drawing::{Anchor, Drawing, Shape};
use chrono::NaiveDate;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 28.0;
/// The size of the axis labels.
const LABEL_SIZE: f64 = 11.0;

/// Gridlines.
const GRID: &str = "#d9dde3";
/// Axis labels.
const LABEL: &str = "#555555";
/// The line and the bars.
const INK: &str = "#2156c7";

/// A round step for about five gridlines up to `max`.
fn step_for(max: i64) -> i64 {
    let raw = (max.max(1) as f64 / 5.0).max(1.0);
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    step as i64
}

/// A short form of a figure for an axis: 950, 1.2k, 3.4M.
pub fn short(n: i64) -> String {
    let a = n.unsigned_abs() as f64;
    if a >= 1_000_000.0 {
        format!("{:.1}M", n as f64 / 1_000_000.0)
    } else if a >= 10_000.0 {
        format!("{:.0}k", n as f64 / 1_000.0)
    } else if a >= 1_000.0 {
        format!("{:.1}k", n as f64 / 1_000.0)
    } else {
        n.to_string()
    }
}

/// The vertical scale of a chart: values from `floor` (at the bottom of the plot) to `ceiling`
/// (at the top), with a gridline every `step`.
struct Scale {
    floor: i64,
    ceiling: i64,
    step: i64,
}

impl Scale {
    fn new(floor: i64, high: i64) -> Scale {
        let step = step_for(high - floor);
        let ceiling = floor + step * (((high - floor) as f64 / step as f64).ceil() as i64).max(1);
        Scale {
            floor,
            ceiling,
            step,
        }
    }

    /// Where `v` is drawn.
    fn y(&self, v: i64) -> f64 {
        let plot_h = HEIGHT - TOP - BOTTOM;
        TOP + plot_h * (1.0 - (v - self.floor) as f64 / (self.ceiling - self.floor) as f64)
    }

    /// The gridlines with their figures at the left: short ones (1.2k), unless two of them
    /// would read the same (1,050 and 1,100 are both "1.1k"), then in full.
    fn grid(&self, shapes: &mut Vec<Shape>) {
        let ticks: Vec<i64> = (0..)
            .map(|i| self.floor + i * self.step)
            .take_while(|t| *t <= self.ceiling)
            .collect();
        let mut labels: Vec<String> = ticks.iter().map(|t| short(*t)).collect();
        if labels.windows(2).any(|w| w[0] == w[1]) {
            labels = ticks.iter().map(i64::to_string).collect();
        }
        for (tick, text) in ticks.into_iter().zip(labels) {
            let ty = self.y(tick);
            shapes.push(Shape::Line {
                x1: LEFT,
                y1: ty,
                x2: WIDTH - RIGHT,
                y2: ty,
                colour: GRID,
                width: 1.0,
            });
            shapes.push(label(LEFT - 6.0, ty + 4.0, Anchor::End, text));
        }
    }
}

/// An axis label.
fn label(x: f64, y: f64, anchor: Anchor, text: String) -> Shape {
    Shape::Text {
        x,
        y,
        size: LABEL_SIZE,
        anchor,
        colour: LABEL,
        text,
    }
}

/// A line chart of one series by day; days without a value leave a gap, and a day alone
/// between gaps is a dot. `title` names it for assistive technology.
pub fn line(title: &str, series: &[(NaiveDate, Option<i64>)]) -> Drawing {
    let values: Vec<i64> = series.iter().filter_map(|(_, v)| *v).collect();
    let (low, high) = match (values.iter().min(), values.iter().max()) {
        (Some(lo), Some(hi)) => (*lo, *hi),
        _ => (0, 0),
    };
    // From zero unless the values sit far from it (followers), so changes stay visible.
    let floor = if low > 0 && high > 0 && (high - low) * 4 < high {
        let step = step_for(high - low);
        (low / step) * step
    } else {
        low.min(0)
    };
    let scale = Scale::new(floor, high);
    let plot_w = WIDTH - LEFT - RIGHT;
    let n = series.len().max(2) - 1;
    let x = |i: usize| LEFT + plot_w * i as f64 / n as f64;
    let mut drawing = Drawing::new(WIDTH, HEIGHT, title);
    let shapes = &mut drawing.shapes;
    scale.grid(shapes);
    // Dates at the ends and the middle.
    if !series.is_empty() {
        let last = series.len() - 1;
        let mut at: Vec<usize> = vec![0, series.len() / 2, last];
        at.dedup();
        for i in at {
            let anchor = if i == 0 {
                Anchor::Start
            } else if i == last {
                Anchor::End
            } else {
                Anchor::Middle
            };
            let day = series[i].0.format("%-d %b").to_string();
            shapes.push(label(x(i), HEIGHT - 8.0, anchor, day));
        }
    }
    // The line, broken where a day has no value.
    let mut run: Vec<(f64, f64)> = Vec::new();
    let flush = |run: &mut Vec<(f64, f64)>, shapes: &mut Vec<Shape>| {
        match run.as_slice() {
            [] => {}
            [(cx, cy)] => shapes.push(Shape::Circle {
                cx: *cx,
                cy: *cy,
                r: 2.5,
                colour: INK,
            }),
            points => shapes.push(Shape::Polyline {
                points: points.to_vec(),
                colour: INK,
                width: 2.0,
            }),
        }
        run.clear();
    };
    for (i, (_, value)) in series.iter().enumerate() {
        match value {
            Some(v) => run.push((x(i), scale.y(*v))),
            None => flush(&mut run, shapes),
        }
    }
    flush(&mut run, shapes);
    drawing
}

/// A bar chart: one bar from zero per `(label, value)`, left to right, with its label under
/// it. Negative values draw no bar. When the labels would crowd each other (24 hours, 31
/// days), only every second, third… bar is labelled, starting with the first. `title` names it
/// for assistive technology.
pub fn bars(title: &str, bars: &[(String, i64)]) -> Drawing {
    let high = bars.iter().map(|(_, v)| *v).max().unwrap_or(0).max(0);
    let scale = Scale::new(0, high);
    let mut drawing = Drawing::new(WIDTH, HEIGHT, title);
    let shapes = &mut drawing.shapes;
    scale.grid(shapes);
    if bars.is_empty() {
        return drawing;
    }
    let plot_w = WIDTH - LEFT - RIGHT;
    let slot = plot_w / bars.len() as f64;
    let every = label_every(bars.iter().map(|(l, _)| l.as_str()), slot);
    let zero = scale.y(0);
    for (i, (name, value)) in bars.iter().enumerate() {
        let left = LEFT + slot * i as f64;
        let centre = left + slot / 2.0;
        if *value > 0 {
            let top = scale.y(*value);
            shapes.push(Shape::Rect {
                x: left + slot * 0.15,
                y: top,
                w: slot * 0.7,
                h: zero - top,
                colour: INK,
            });
        }
        if i % every == 0 {
            shapes.push(label(centre, HEIGHT - 8.0, Anchor::Middle, name.clone()));
        }
    }
    drawing
}

/// Every how many bars a label is written, so that labels `slot` apart do not crowd each
/// other: each label gets its estimated width and some room, and at least 60 units.
fn label_every<'a>(labels: impl Iterator<Item = &'a str>, slot: f64) -> usize {
    // About the width of an average character of the axis labels.
    let widest = labels
        .map(|l| l.chars().count() as f64 * LABEL_SIZE * 0.6)
        .fold(0.0, f64::max);
    let pitch = (widest + 12.0).max(60.0);
    if slot <= 0.0 {
        return 1;
    }
    ((pitch / slot).ceil() as usize).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).unwrap_or_default()
    }

    #[test]
    fn a_line_is_drawn_with_its_gaps_and_its_title_escaped() {
        let series = vec![
            (day(1), Some(10)),
            (day(2), Some(30)),
            (day(3), None),
            (day(4), Some(20)),
        ];
        let svg = line("Views <daily>", &series).svg();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("<title>Views &lt;daily&gt;</title>"));
        assert_eq!(svg.matches("<polyline").count(), 1, "{svg}");
        assert_eq!(
            svg.matches("<circle").count(),
            1,
            "the lone day after the gap"
        );
        assert!(svg.contains(">1 Dec<") && svg.contains(">4 Dec<"));
        // The highest point is at the top of the plot.
        assert!(svg.contains(&format!(",{TOP:.1}")), "{svg}");
        let empty = line("Nothing", &[(day(1), None)]).svg();
        assert!(!empty.contains("<polyline") && !empty.contains("<circle"));
        assert_eq!(empty.matches(">1 Dec<").count(), 1, "{empty}");
        assert!(!line("None", &[]).svg().contains("<polyline"));
    }

    #[test]
    fn axis_figures_are_short_and_round() {
        assert_eq!(short(950), "950");
        assert_eq!(short(1_250), "1.2k");
        assert_eq!(short(12_500), "12k");
        assert_eq!(short(3_400_000), "3.4M");
        assert_eq!(step_for(100), 20);
        assert_eq!(step_for(7), 2);
        // 1,050 to 1,250 by 50: "1.1k" would stand for two gridlines.
        let series: Vec<(NaiveDate, Option<i64>)> = (1..=3)
            .map(|d| (day(d), Some(1_000 + i64::from(d) * 70)))
            .collect();
        let labels = texts(&line("Followers", &series));
        for figure in ["1050", "1100", "1150", "1250"] {
            assert!(labels.iter().any(|t| t == figure), "{labels:?}");
        }
        let labels = texts(&line(
            "Views",
            &[(day(1), Some(2_000)), (day(2), Some(9_000))],
        ));
        assert!(labels.iter().any(|t| t == "2.0k"), "{labels:?}");
    }

    /// The bars' (x, height) in order.
    fn rects(d: &Drawing) -> Vec<(f64, f64)> {
        d.shapes
            .iter()
            .filter_map(|s| match s {
                Shape::Rect { x, h, .. } => Some((*x, *h)),
                _ => None,
            })
            .collect()
    }

    fn texts(d: &Drawing) -> Vec<String> {
        d.shapes
            .iter()
            .filter_map(|s| match s {
                Shape::Text { text, .. } => Some(text.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn bars_are_as_tall_as_their_values_and_labelled() {
        let data: Vec<(String, i64)> = [("Mon", 10), ("Tue", 40), ("Wed", 20)]
            .into_iter()
            .map(|(l, v)| (l.to_owned(), v))
            .collect();
        let d = bars("Posts <by day>", &data);
        let r = rects(&d);
        assert_eq!(r.len(), 3);
        assert!(r[0].0 < r[1].0 && r[1].0 < r[2].0, "left to right");
        assert!((r[1].1 / r[0].1 - 4.0).abs() < 1e-9, "{r:?}");
        assert!((r[2].1 / r[0].1 - 2.0).abs() < 1e-9, "{r:?}");
        // The tallest reaches the top of the plot and all stand on zero.
        let bottom = HEIGHT - BOTTOM;
        for s in &d.shapes {
            if let Shape::Rect { y, h, .. } = s {
                assert!((y + h - bottom).abs() < 1e-9);
            }
        }
        assert!(
            d.shapes
                .iter()
                .any(|s| matches!(s, Shape::Rect { y, .. } if (y - TOP).abs() < 1e-9))
        );
        let labels = texts(&d);
        for day in ["Mon", "Tue", "Wed", "0", "40"] {
            assert!(labels.iter().any(|t| t == day), "{day}: {labels:?}");
        }
        let svg = d.svg();
        assert_eq!(svg.matches("<rect").count(), 3);
        assert!(svg.contains("<title>Posts &lt;by day&gt;</title>"));
    }

    #[test]
    fn many_bars_label_only_some() {
        let hours: Vec<(String, i64)> = (0..24).map(|h| (format!("{h:02}"), h)).collect();
        let d = bars("Posts by hour", &hours);
        assert_eq!(rects(&d).len(), 23, "hour 0 is zero: no bar");
        let labels = texts(&d);
        for shown in ["00", "03", "21"] {
            assert!(labels.iter().any(|t| t == shown), "{shown}: {labels:?}");
        }
        for hidden in ["01", "02", "22", "23"] {
            assert!(!labels.iter().any(|t| t == hidden), "{hidden}: {labels:?}");
        }
        let week: Vec<(String, i64)> = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
            .into_iter()
            .map(|d| (d.to_owned(), 1))
            .collect();
        let labels = texts(&bars("Week", &week));
        assert!(week.iter().all(|(d, _)| labels.contains(d)), "{labels:?}");
    }

    #[test]
    fn no_bars_for_nothing_zero_or_negative() {
        let empty = bars("Nothing", &[]);
        assert!(rects(&empty).is_empty());
        assert!(empty.svg().ends_with("</svg>"));
        let zeros = bars("Zero", &[("a".to_owned(), 0), ("b".to_owned(), 0)]);
        assert!(rects(&zeros).is_empty());
        assert!(texts(&zeros).contains(&"a".to_owned()));
        let negative = bars("Mixed", &[("a".to_owned(), -50), ("b".to_owned(), 10)]);
        let r = rects(&negative);
        assert_eq!(r.len(), 1, "{r:?}");
        // Nothing is drawn below zero.
        let zero = HEIGHT - BOTTOM;
        for s in &negative.shapes {
            match s {
                Shape::Rect { y, h, .. } => assert!(y + h <= zero + 1e-9),
                Shape::Line { y1, .. } => assert!(*y1 <= zero + 1e-9),
                _ => {}
            }
        }
        assert!(rects(&bars("Below", &[("a".to_owned(), -5)])).is_empty());
    }
}

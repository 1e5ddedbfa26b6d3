//! Charts drawn on the server as SVG: the analytics page shows them inline, and the same
//! drawing goes into the PDF report. No script, no chart library, nothing loaded from
//! elsewhere; the figures are also in a table beside each chart for screen readers.

use chrono::NaiveDate;
use std::fmt::Write;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 28.0;

/// Escapes text for SVG.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

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

/// A line chart of one series by day; days without a value leave a gap. `title` names it for
/// assistive technology.
pub fn line(title: &str, series: &[(NaiveDate, Option<i64>)]) -> String {
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
    let step = step_for(high - floor);
    let ceiling = floor + step * (((high - floor) as f64 / step as f64).ceil() as i64).max(1);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let n = series.len().max(2) - 1;
    let x = |i: usize| LEFT + plot_w * i as f64 / n as f64;
    let y = |v: i64| TOP + plot_h * (1.0 - (v - floor) as f64 / (ceiling - floor) as f64);
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" \
         class=\"chart\" role=\"img\" aria-label=\"{t}\"><title>{t}</title>",
        t = escape(title)
    );
    let mut tick = floor;
    while tick <= ceiling {
        let ty = y(tick);
        let _ = write!(
            svg,
            "<line x1=\"{LEFT}\" y1=\"{ty:.1}\" x2=\"{:.1}\" y2=\"{ty:.1}\" stroke=\"#d9dde3\" \
             stroke-width=\"1\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" \
             text-anchor=\"end\" fill=\"#555\">{}</text>",
            WIDTH - RIGHT,
            LEFT - 6.0,
            ty + 4.0,
            short(tick)
        );
        tick += step;
    }
    // Dates at the ends and the middle.
    if let (Some(first), Some(last)) = (series.first(), series.last()) {
        let mid = &series[series.len() / 2];
        for (i, (day, _)) in [
            (0, first),
            (series.len() / 2, mid),
            (series.len() - 1, last),
        ] {
            let anchor = if i == 0 {
                "start"
            } else if i == series.len() - 1 {
                "end"
            } else {
                "middle"
            };
            let _ = write!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"{anchor}\" \
                 fill=\"#555\">{}</text>",
                x(i),
                HEIGHT - 8.0,
                day.format("%-d %b")
            );
        }
    }
    // The line, broken where a day has no value.
    let mut run: Vec<(f64, f64)> = Vec::new();
    let flush = |run: &mut Vec<(f64, f64)>, svg: &mut String| {
        match run.as_slice() {
            [] => {}
            [(cx, cy)] => {
                let _ = write!(
                    svg,
                    "<circle cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"2.5\" fill=\"#2156c7\"/>"
                );
            }
            points => {
                let points: Vec<String> = points
                    .iter()
                    .map(|(px, py)| format!("{px:.1},{py:.1}"))
                    .collect();
                let _ = write!(
                    svg,
                    "<polyline points=\"{}\" fill=\"none\" stroke=\"#2156c7\" \
                     stroke-width=\"2\"/>",
                    points.join(" ")
                );
            }
        }
        run.clear();
    };
    for (i, (_, value)) in series.iter().enumerate() {
        match value {
            Some(v) => run.push((x(i), y(*v))),
            None => flush(&mut run, &mut svg),
        }
    }
    flush(&mut run, &mut svg);
    svg.push_str("</svg>");
    svg
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
        let svg = line("Views <daily>", &series);
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
        let empty = line("Nothing", &[(day(1), None)]);
        assert!(!empty.contains("<polyline") && !empty.contains("<circle"));
    }

    #[test]
    fn axis_figures_are_short_and_round() {
        assert_eq!(short(950), "950");
        assert_eq!(short(1_250), "1.2k");
        assert_eq!(short(12_500), "12k");
        assert_eq!(short(3_400_000), "3.4M");
        assert_eq!(step_for(100), 20);
        assert_eq!(step_for(7), 2);
    }
}

//! The analytics report as a PDF: a cover block saying whose figures these are and for which
//! period, the key figures, the charts (drawn as vectors, the same drawings the page shows),
//! the tables and the notes on what is measured. The caller gathers and formats the figures;
//! this only lays them out.

use crate::drawing::Drawing;
use crate::pdf::{self, Document, Line, PdfError};

/// The figures of an analytics report, already formatted as the page shows them.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub workspace: String,
    /// The days covered, such as "1 Nov to 30 Nov 2026".
    pub period: String,
    /// The platforms covered, such as "All platforms" or "Instagram".
    pub scope: String,
    /// When the report was made, such as "4 Dec 2026, 14:05 UTC".
    pub generated: String,
    /// The key figures, in order.
    pub figures: Vec<Figure>,
    /// Each chart with its heading.
    pub charts: Vec<(String, Drawing)>,
    /// Tables such as the figures by platform, the top posts or the campaigns.
    pub tables: Vec<Table>,
    /// Closing paragraphs: what is measured and what is entered, which spans the figures cover.
    pub notes: Vec<String>,
}

/// One key figure: what it is, its value, and how it changed on the previous period (when
/// there is one to compare with).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Figure {
    pub label: String,
    pub value: String,
    pub change: Option<String>,
}

/// A table of the report: the first column is text, the others figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub heading: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// What is written instead of the table when it has no rows.
    pub empty: String,
}

/// A section heading, kept with what follows it.
fn heading(text: &str) -> pdf::Row {
    vec![Line::text(text).size(13.0).gap(20.0)]
}

/// The report as an A4 PDF, its pages numbered.
pub fn pdf(report: &Report) -> Result<Vec<u8>, PdfError> {
    let mut doc = Document::new(&format!(
        "Analytics report: {}, {}",
        report.workspace, report.period
    ))?;
    doc.row(vec![Line::text("Socializioz").size(11.0)]);
    doc.row(vec![Line::text("Analytics report").size(24.0).gap(2.0)]);
    doc.row(vec![Line::text(&report.workspace).size(15.0).gap(10.0)]);
    for (label, value) in [
        ("Period", &report.period),
        ("Platforms", &report.scope),
        ("Generated", &report.generated),
    ] {
        doc.row(vec![
            Line::text(label).size(9.0).gap(6.0),
            Line::text(value).indent(80.0).gap(6.0),
        ]);
    }

    if !report.figures.is_empty() {
        doc.heading(heading("Key figures"));
        let headers = ["Figure", "Value", "Change"].map(String::from);
        let rows: Vec<Vec<String>> = report
            .figures
            .iter()
            .map(|f| {
                vec![
                    f.label.clone(),
                    f.value.clone(),
                    f.change.clone().unwrap_or_else(|| "–".to_owned()),
                ]
            })
            .collect();
        doc.table(&headers, &rows);
    }

    for (title, chart) in &report.charts {
        doc.heading(heading(title));
        doc.drawing(chart);
    }

    for table in &report.tables {
        doc.heading(heading(&table.heading));
        if table.rows.is_empty() {
            doc.row(vec![Line::text(&table.empty).gap(4.0)]);
        } else {
            doc.table(&table.headers, &table.rows);
        }
    }

    if !report.notes.is_empty() {
        doc.heading(heading("About these figures"));
        for note in &report.notes {
            doc.row(vec![Line::text(note).size(9.0).gap(6.0)]);
        }
    }
    doc.finish()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::analytics::chart;
    use chrono::NaiveDate;

    fn report() -> Report {
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        let followers: Vec<(NaiveDate, Option<i64>)> = (1..=30)
            // Days 12 and 14 unread: day 13 is a lone dot.
            .map(|d| {
                (
                    day(d),
                    (d != 12 && d != 14).then_some(1_000 + i64::from(d) * 7),
                )
            })
            .collect();
        let hours: Vec<(String, i64)> = (0..24)
            .map(|h| (format!("{h:02}"), (h * 37) % 90))
            .collect();
        Report {
            workspace: "Ζωή's Bakery".to_owned(),
            period: "1 Nov to 30 Nov 2026".to_owned(),
            scope: "All platforms".to_owned(),
            generated: "4 Dec 2026, 14:05 UTC".to_owned(),
            figures: vec![
                Figure {
                    label: "Followers".to_owned(),
                    value: "1,210".to_owned(),
                    change: Some("+3.2%".to_owned()),
                },
                Figure {
                    label: "Views".to_owned(),
                    value: "48,213".to_owned(),
                    change: None,
                },
            ],
            charts: vec![
                (
                    "Followers by day".to_owned(),
                    chart::line("Followers by day", &followers),
                ),
                (
                    "Posts by hour".to_owned(),
                    chart::bars("Posts by hour", &hours),
                ),
            ],
            tables: vec![
                Table {
                    heading: "Top posts".to_owned(),
                    headers: ["Post", "Views", "Likes"].map(String::from).to_vec(),
                    rows: (0..60)
                        .map(|i| {
                            vec![
                                format!("Καλημέρα από τον φούρνο {i}"),
                                (i * 101).to_string(),
                                (i * 3).to_string(),
                            ]
                        })
                        .collect(),
                    empty: "No posts were published.".to_owned(),
                },
                Table {
                    heading: "Campaigns".to_owned(),
                    headers: ["Campaign", "Spend"].map(String::from).to_vec(),
                    rows: Vec::new(),
                    empty: "No campaigns ran in this period.".to_owned(),
                },
            ],
            notes: vec![
                "Views, likes and followers are read from the platforms; spend is entered by \
                 the workspace."
                    .to_owned(),
            ],
        }
    }

    #[test]
    fn a_report_is_a_numbered_multi_page_pdf_with_vector_charts() {
        let pdf = pdf(&report()).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        let pages = pdf::page_count(&pdf);
        assert!(pages >= 2, "{pages} pages");
        let body = String::from_utf8_lossy(&pdf);
        // Paths (move, line, stroke), bar rectangles (fill) and the lone dot (curves).
        for op in [" m\n", " l\n", "\nS\n", " re\n", "\nf\n", " c\n"] {
            assert!(body.contains(op), "no {op:?}");
        }
        let Some(text) = pdf::pdftotext(&pdf) else {
            return;
        };
        for expected in [
            "Socializioz",
            "Analytics report",
            "Ζωή's Bakery",
            "1 Nov to 30 Nov 2026",
            "All platforms",
            "4 Dec 2026, 14:05 UTC",
            "Key figures",
            "48,213",
            "+3.2%",
            "Followers by day",
            "Posts by hour",
            "30 Nov",
            "Καλημέρα από τον φούρνο 0",
            "Καλημέρα από τον φούρνο 59",
            "5959",
            "No campaigns ran in this period.",
            "spend is entered by",
            "Page 1 of",
            &format!("Page {pages} of {pages}"),
        ] {
            assert!(text.contains(expected), "{expected:?} not in:\n{text}");
        }
        assert!(!text.contains("No posts were published."));
    }

    #[test]
    fn an_empty_report_is_still_a_document() {
        let empty = Report {
            workspace: "Empty".to_owned(),
            period: String::new(),
            scope: String::new(),
            generated: String::new(),
            figures: Vec::new(),
            charts: vec![("Nothing".to_owned(), chart::bars("Nothing", &[]))],
            tables: Vec::new(),
            notes: Vec::new(),
        };
        let pdf = pdf(&empty).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        assert_eq!(pdf::page_count(&pdf), 1);
    }
}

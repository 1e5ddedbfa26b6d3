//! A picture as a list of simple shapes, independent of where it ends up: the analytics page
//! shows it as SVG ([`Drawing::svg`]) and the PDF report draws the same shapes as vector paths
//! (`crate::pdf`). Coordinates are SVG's: the origin is the top left corner and y grows
//! downwards. Colours are written `#rrggbb`.

use std::fmt::Write;

/// Where a text sits relative to its x coordinate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// The text starts at x.
    Start,
    /// The text is centred on x.
    Middle,
    /// The text ends at x.
    End,
}

impl Anchor {
    fn svg(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

/// One element of a drawing.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// A straight stroke from (x1, y1) to (x2, y2).
    Line {
        x1: f64,
        y1: f64,
        x2: f64,
        y2: f64,
        colour: &'static str,
        width: f64,
    },
    /// Strokes joining the points in order (not closed, not filled).
    Polyline {
        points: Vec<(f64, f64)>,
        colour: &'static str,
        width: f64,
    },
    /// A filled circle.
    Circle {
        cx: f64,
        cy: f64,
        r: f64,
        colour: &'static str,
    },
    /// A filled rectangle whose top left corner is (x, y).
    Rect {
        x: f64,
        y: f64,
        w: f64,
        h: f64,
        colour: &'static str,
    },
    /// One line of text; y is its baseline.
    Text {
        x: f64,
        y: f64,
        size: f64,
        anchor: Anchor,
        colour: &'static str,
        text: String,
    },
}

/// A picture of `width` by `height` units. `title` names it for assistive technology (the
/// SVG's title); it is not drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct Drawing {
    pub width: f64,
    pub height: f64,
    pub title: String,
    pub shapes: Vec<Shape>,
}

/// Escapes text for SVG.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl Drawing {
    /// An empty drawing of the given size.
    pub fn new(width: f64, height: f64, title: impl Into<String>) -> Drawing {
        Drawing {
            width,
            height,
            title: title.into(),
            shapes: Vec::new(),
        }
    }

    /// The drawing as an inline SVG element (`class="chart"`, with its title as the accessible
    /// name), every text escaped.
    pub fn svg(&self) -> String {
        let mut svg = String::new();
        let _ = write!(
            svg,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\" \
             class=\"chart\" role=\"img\" aria-label=\"{t}\"><title>{t}</title>",
            self.width,
            self.height,
            t = escape(&self.title)
        );
        for shape in &self.shapes {
            match shape {
                Shape::Line {
                    x1,
                    y1,
                    x2,
                    y2,
                    colour,
                    width,
                } => {
                    let _ = write!(
                        svg,
                        "<line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\" \
                         stroke=\"{colour}\" stroke-width=\"{width}\"/>"
                    );
                }
                Shape::Polyline {
                    points,
                    colour,
                    width,
                } => {
                    let points: Vec<String> = points
                        .iter()
                        .map(|(px, py)| format!("{px:.1},{py:.1}"))
                        .collect();
                    let _ = write!(
                        svg,
                        "<polyline points=\"{}\" fill=\"none\" stroke=\"{colour}\" \
                         stroke-width=\"{width}\"/>",
                        points.join(" ")
                    );
                }
                Shape::Circle { cx, cy, r, colour } => {
                    let _ = write!(
                        svg,
                        "<circle cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"{r}\" fill=\"{colour}\"/>"
                    );
                }
                Shape::Rect { x, y, w, h, colour } => {
                    let _ = write!(
                        svg,
                        "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" \
                         fill=\"{colour}\"/>"
                    );
                }
                Shape::Text {
                    x,
                    y,
                    size,
                    anchor,
                    colour,
                    text,
                } => {
                    let _ = write!(
                        svg,
                        "<text x=\"{x:.1}\" y=\"{y:.1}\" font-size=\"{size}\" \
                         text-anchor=\"{}\" fill=\"{colour}\">{}</text>",
                        anchor.svg(),
                        escape(text)
                    );
                }
            }
        }
        svg.push_str("</svg>");
        svg
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shape_becomes_svg_with_its_text_escaped() {
        let mut d = Drawing::new(100.0, 50.0, "A & B");
        d.shapes = vec![
            Shape::Line {
                x1: 0.0,
                y1: 1.0,
                x2: 100.0,
                y2: 1.0,
                colour: "#d9dde3",
                width: 1.0,
            },
            Shape::Polyline {
                points: vec![(0.0, 0.0), (10.0, 20.5)],
                colour: "#2156c7",
                width: 2.0,
            },
            Shape::Circle {
                cx: 5.0,
                cy: 5.0,
                r: 2.5,
                colour: "#2156c7",
            },
            Shape::Rect {
                x: 1.0,
                y: 2.0,
                w: 3.0,
                h: 4.0,
                colour: "#2156c7",
            },
            Shape::Text {
                x: 50.0,
                y: 45.0,
                size: 11.0,
                anchor: Anchor::Middle,
                colour: "#555555",
                text: "<1 Dec>".to_owned(),
            },
        ];
        let svg = d.svg();
        assert!(svg.starts_with(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 100 50\" class=\"chart\" \
             role=\"img\" aria-label=\"A &amp; B\"><title>A &amp; B</title>"
        ));
        assert!(svg.ends_with("</svg>"));
        assert!(svg.contains(
            "<line x1=\"0.0\" y1=\"1.0\" x2=\"100.0\" y2=\"1.0\" stroke=\"#d9dde3\" \
             stroke-width=\"1\"/>"
        ));
        assert!(svg.contains("points=\"0.0,0.0 10.0,20.5\""));
        assert!(svg.contains("<circle cx=\"5.0\" cy=\"5.0\" r=\"2.5\" fill=\"#2156c7\"/>"));
        assert!(svg.contains("<rect x=\"1.0\" y=\"2.0\" width=\"3.0\" height=\"4.0\""));
        assert!(svg.contains("text-anchor=\"middle\" fill=\"#555555\">&lt;1 Dec&gt;</text>"));
    }
}

//! An invoice as a one-page A4 PDF, written with `pdf-writer`. The text is set in DejaVu Sans,
//! which ships with the product (`assets/fonts`, under its own licence) and is embedded as a
//! subset of the glyphs the invoice uses, with a ToUnicode map so that the text can be searched,
//! copied and extracted (any script the font covers: a buyer's name in Greek or Cyrillic comes
//! out as typed). Lines too long for the page are wrapped at spaces.

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};
use std::collections::BTreeMap;

/// The font the invoices are set in.
const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const FONT_NAME: &[u8] = b"DejaVuSans";

/// A4 in points.
const WIDTH: f32 = 595.0;
const HEIGHT: f32 = 842.0;
const MARGIN: f32 = 56.0;

/// One line of the page: its text, size, and where it starts and is aligned.
#[derive(Debug, Clone)]
pub struct Line {
    pub text: String,
    pub size: f32,
    /// From the left margin.
    pub indent: f32,
    /// Right-aligned at the right margin (amounts).
    pub right: bool,
    /// Space before it, in points.
    pub gap: f32,
}

impl Line {
    pub fn text(text: impl Into<String>) -> Line {
        Line {
            text: text.into(),
            size: 10.0,
            indent: 0.0,
            right: false,
            gap: 0.0,
        }
    }

    pub fn size(mut self, size: f32) -> Line {
        self.size = size;
        self
    }

    pub fn gap(mut self, gap: f32) -> Line {
        self.gap = gap;
        self
    }

    pub fn right(mut self) -> Line {
        self.right = true;
        self
    }

    pub fn indent(mut self, indent: f32) -> Line {
        self.indent = indent;
        self
    }
}

/// A row of the page: one or more lines side by side at the same height (a label on the left
/// and an amount on the right).
pub type Row = Vec<Line>;

/// Why a page could not be written.
#[derive(Debug, thiserror::Error)]
#[error("the invoice PDF could not be written: {0}")]
pub struct PdfError(String);

/// The font's measures, read once per document.
struct Face<'a> {
    face: ttf_parser::Face<'a>,
    units: f32,
}

impl<'a> Face<'a> {
    fn new() -> Result<Face<'a>, PdfError> {
        let face = ttf_parser::Face::parse(FONT, 0).map_err(|e| PdfError(e.to_string()))?;
        let units = f32::from(face.units_per_em());
        Ok(Face { face, units })
    }

    /// The glyph of `c`, or the font's "missing" glyph (0).
    fn glyph(&self, c: char) -> u16 {
        self.face.glyph_index(c).map_or(0, |g| g.0)
    }

    /// A glyph's advance in thousandths of the font size.
    fn advance(&self, glyph: u16) -> f32 {
        let units = self
            .face
            .glyph_hor_advance(ttf_parser::GlyphId(glyph))
            .unwrap_or(0);
        f32::from(units) * 1000.0 / self.units
    }

    fn width(&self, text: &str, size: f32) -> f32 {
        text.chars()
            .map(|c| self.advance(self.glyph(c)))
            .sum::<f32>()
            * size
            / 1000.0
    }

    fn scaled(&self, v: i16) -> f32 {
        f32::from(v) * 1000.0 / self.units
    }
}

/// Splits `text` at spaces into lines no wider than `room`.
fn wrap(face: &Face, text: &str, size: f32, room: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split(' ') {
            let candidate = if line.is_empty() {
                word.to_owned()
            } else {
                format!("{line} {word}")
            };
            if !line.is_empty() && face.width(&candidate, size) > room {
                lines.push(std::mem::take(&mut line));
                line = word.to_owned();
            } else {
                line = candidate;
            }
        }
        lines.push(line);
    }
    lines
}

/// Writes `rows` top to bottom on one A4 page (`title` is the document's title).
pub fn render(title: &str, rows: &[Row]) -> Result<Vec<u8>, PdfError> {
    let face = Face::new()?;
    let room = WIDTH - 2.0 * MARGIN;
    // The glyphs used, renumbered for the subset (the .notdef glyph stays 0).
    let mut remapper = subsetter::GlyphRemapper::new();
    let mut used: BTreeMap<u16, char> = BTreeMap::new();
    let mut content = Content::new();
    let mut y = HEIGHT - MARGIN;
    for row in rows {
        let step = row
            .iter()
            .map(|l| l.gap + l.size * 1.35)
            .fold(0.0_f32, f32::max);
        let mut lowest = y - step;
        // Left text beside a right-aligned amount wraps before reaching it.
        let beside = if row.iter().any(|l| l.right) {
            110.0
        } else {
            0.0
        };
        for line in row {
            let mut at = y - line.gap - line.size * 1.35;
            let width = room - line.indent - if line.right { 0.0 } else { beside };
            for piece in wrap(&face, &line.text, line.size, width) {
                let x = if line.right {
                    WIDTH - MARGIN - face.width(&piece, line.size)
                } else {
                    MARGIN + line.indent
                };
                let mut encoded = Vec::with_capacity(piece.len() * 2);
                for c in piece.chars() {
                    let old = face.glyph(c);
                    let new = remapper.remap(old);
                    used.entry(old).or_insert(c);
                    encoded.extend_from_slice(&new.to_be_bytes());
                }
                content
                    .begin_text()
                    .set_font(Name(b"F1"), line.size)
                    .next_line(x, at)
                    .show(Str(&encoded))
                    .end_text();
                lowest = lowest.min(at);
                at -= line.size * 1.35;
            }
        }
        y = lowest;
    }
    let subset = subsetter::subset(FONT, 0, &remapper).map_err(|e| PdfError(e.to_string()))?;

    let catalog = Ref::new(1);
    let pages = Ref::new(2);
    let page = Ref::new(3);
    let contents = Ref::new(4);
    let font = Ref::new(5);
    let cid = Ref::new(6);
    let descriptor = Ref::new(7);
    let file = Ref::new(8);
    let cmap = Ref::new(9);
    let info = Ref::new(10);
    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(pages);
    pdf.pages(pages).kids([page]).count(1);
    let mut p = pdf.page(page);
    p.media_box(Rect::new(0.0, 0.0, WIDTH, HEIGHT));
    p.parent(pages);
    p.contents(contents);
    p.resources().fonts().pair(Name(b"F1"), font);
    p.finish();
    pdf.stream(contents, &content.finish());
    pdf.document_info(info)
        .title(pdf_writer::TextStr(title))
        .producer(pdf_writer::TextStr("Socializioz"));

    let system = SystemInfo {
        registry: Str(b"Adobe"),
        ordering: Str(b"Identity"),
        supplement: 0,
    };
    pdf.type0_font(font)
        .base_font(Name(FONT_NAME))
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid)
        .to_unicode(cmap);
    let mut c = pdf.cid_font(cid);
    c.subtype(CidFontType::Type2)
        .base_font(Name(FONT_NAME))
        .system_info(system)
        .font_descriptor(descriptor)
        .default_width(0.0)
        .cid_to_gid_map_predefined(Name(b"Identity"));
    {
        let mut widths = c.widths();
        for &old in used.keys() {
            if let Some(new) = remapper.get(old) {
                widths.consecutive(new, [face.advance(old)]);
            }
        }
    }
    c.finish();
    let bbox = face.face.global_bounding_box();
    pdf.font_descriptor(descriptor)
        .name(Name(FONT_NAME))
        .flags(FontFlags::NON_SYMBOLIC)
        .bbox(Rect::new(
            face.scaled(bbox.x_min),
            face.scaled(bbox.y_min),
            face.scaled(bbox.x_max),
            face.scaled(bbox.y_max),
        ))
        .italic_angle(0.0)
        .ascent(face.scaled(face.face.ascender()))
        .descent(face.scaled(face.face.descender()))
        .cap_height(face.scaled(face.face.capital_height().unwrap_or(700)))
        .stem_v(80.0)
        .font_file2(file);
    let length = i32::try_from(subset.len()).map_err(|e| PdfError(e.to_string()))?;
    pdf.stream(file, &subset).pair(Name(b"Length1"), length);
    let mut unicode = UnicodeCmap::new(Name(b"Socializioz-UTF16"), system);
    for (&old, &c) in &used {
        if let Some(new) = remapper.get(old) {
            unicode.pair(new, c);
        }
    }
    pdf.cmap(cmap, &unicode.finish());
    Ok(pdf.finish())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_a_pdf_with_the_font_subset_embedded() {
        let rows = vec![
            vec![Line::text("Invoice INV-000001").size(18.0)],
            vec![Line::text("Ζωή Ελευθερίου"), Line::text("€29.00").right()],
        ];
        let pdf = render("Invoice INV-000001", &rows).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(pdf.ends_with(b"%%EOF\n") || pdf.ends_with(b"%%EOF"));
        // A subset: far smaller than the 750 KB font.
        assert!(pdf.len() < 60_000, "{} bytes", pdf.len());
    }

    #[test]
    fn long_lines_wrap_at_spaces() {
        let face = Face::new().unwrap();
        let lines = wrap(&face, &"word ".repeat(60), 10.0, 200.0);
        assert!(lines.len() > 5);
        assert!(lines.iter().all(|l| face.width(l, 10.0) <= 200.0));
    }
}

//! A4 PDFs written with `pdf-writer`: invoices ([`render`], one page of rows) and longer
//! documents such as the analytics report ([`Document`]: rows, charts and tables flowing over
//! as many pages as they need, each page numbered at its foot).
//!
//! The text is set in DejaVu Sans, which ships with the product (`assets/fonts`, under its own
//! licence) and is embedded once per document as a subset of the glyphs the document uses, with
//! a ToUnicode map so that the text can be searched, copied and extracted (any script the font
//! covers: a name in Greek or Cyrillic comes out as typed). Lines too long for the page are
//! wrapped at spaces. Charts ([`Drawing`]) are drawn as vector paths, not pictures.

use crate::drawing::{Anchor, Drawing, Shape};
use pdf_writer::types::{
    CidFontType, FontFlags, LineCapStyle, LineJoinStyle, SystemInfo, UnicodeCmap,
};
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};
use std::collections::BTreeMap;

/// The font the documents are set in.
const FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");
const FONT_NAME: &[u8] = b"DejaVuSans";

/// A4 in points.
const WIDTH: f32 = 595.0;
const HEIGHT: f32 = 842.0;
const MARGIN: f32 = 56.0;
/// The width of the text: the page less its margins.
const ROOM: f32 = WIDTH - 2.0 * MARGIN;
/// Where the first row of a page starts.
const TOP: f32 = HEIGHT - MARGIN;
/// The lowest a row goes; the page number sits below it.
const FLOOR: f32 = MARGIN;
/// The baseline of the page number.
const FOOT: f32 = 30.0;
/// The distance between lines, in font sizes.
const LEADING: f32 = 1.35;

/// The type size of tables.
const TABLE_SIZE: f32 = 9.0;
/// The smallest a table's type is made so that its columns fit.
const TABLE_SMALLEST: f32 = 6.0;
/// The space before each column of figures.
const COLUMN_GAP: f32 = 12.0;
/// Table headers, the rule under them and the page numbers.
const MUTED: &str = "#555555";

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
    /// A line of 10-point text at the left margin.
    pub fn text(text: impl Into<String>) -> Line {
        Line {
            text: text.into(),
            size: 10.0,
            indent: 0.0,
            right: false,
            gap: 0.0,
        }
    }

    /// The line at `size` points.
    pub fn size(mut self, size: f32) -> Line {
        self.size = size;
        self
    }

    /// The line with `gap` points of space above it.
    pub fn gap(mut self, gap: f32) -> Line {
        self.gap = gap;
        self
    }

    /// The line right-aligned at the right margin.
    pub fn right(mut self) -> Line {
        self.right = true;
        self
    }

    /// The line starting `indent` points from the left margin.
    pub fn indent(mut self, indent: f32) -> Line {
        self.indent = indent;
        self
    }
}

/// A row of the page: one or more lines side by side at the same height (a label on the left
/// and an amount on the right).
pub type Row = Vec<Line>;

/// Why a document could not be written.
#[derive(Debug, thiserror::Error)]
#[error("the PDF could not be written: {0}")]
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

    fn char_width(&self, c: char, size: f32) -> f32 {
        self.advance(self.glyph(c)) * size / 1000.0
    }

    fn width(&self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.char_width(c, size)).sum()
    }

    fn scaled(&self, v: i16) -> f32 {
        f32::from(v) * 1000.0 / self.units
    }

    /// `text` on one line, cut short with "…" where it is wider than `room`.
    fn fit(&self, text: &str, size: f32, room: f32) -> String {
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if self.width(&text, size) <= room {
            return text;
        }
        let room = room - self.width("…", size);
        let mut out = String::new();
        let mut used = 0.0;
        for c in text.chars() {
            let w = self.char_width(c, size);
            if used + w > room {
                break;
            }
            used += w;
            out.push(c);
        }
        let mut out = out.trim_end().to_owned();
        out.push('…');
        out
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

/// `#rrggbb` (or `#rgb`) as red, green and blue from 0 to 1; black when it is neither.
fn rgb(colour: &str) -> (f32, f32, f32) {
    let hex = colour.strip_prefix('#').unwrap_or(colour);
    let channel = |digits: &str| {
        u8::from_str_radix(digits, 16)
            .ok()
            .map(|v| f32::from(v) / 255.0)
    };
    let channels = match hex.len() {
        6 => [hex.get(0..2), hex.get(2..4), hex.get(4..6)].map(|d| d.and_then(channel)),
        3 => [hex.get(0..1), hex.get(1..2), hex.get(2..3)]
            .map(|d| d.and_then(|d| channel(&format!("{d}{d}")))),
        _ => [None; 3],
    };
    match channels {
        [Some(r), Some(g), Some(b)] => (r, g, b),
        _ => (0.0, 0.0, 0.0),
    }
}

/// The font and the glyphs a document uses, renumbered for the subset (the .notdef glyph
/// stays 0).
struct Glyphs {
    face: Face<'static>,
    remapper: subsetter::GlyphRemapper,
    used: BTreeMap<u16, char>,
}

impl Glyphs {
    /// Writes `text` with its baseline starting at (x, y), in the current fill colour.
    fn show(&mut self, content: &mut Content, x: f32, y: f32, size: f32, text: &str) {
        let mut encoded = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let old = self.face.glyph(c);
            let new = self.remapper.remap(old);
            self.used.entry(old).or_insert(c);
            encoded.extend_from_slice(&new.to_be_bytes());
        }
        content
            .begin_text()
            .set_font(Name(b"F1"), size)
            .next_line(x, y)
            .show(Str(&encoded))
            .end_text();
    }
}

/// The columns of a table: its type size and the width of each column (the first column is
/// left-aligned, the others are right-aligned after a gap).
struct Columns {
    size: f32,
    widths: Vec<f32>,
}

impl Columns {
    /// The height of a row.
    fn line(&self) -> f32 {
        self.size * 1.7
    }
}

/// A document of A4 pages, written top to bottom: rows of text, drawings and tables, each
/// starting a new page when it does not fit on the current one.
pub struct Document {
    title: String,
    glyphs: Glyphs,
    /// The pages before the current one.
    done: Vec<Content>,
    page: Content,
    /// The top of the free space of the current page.
    y: f32,
    /// Nothing is on the current page yet.
    fresh: bool,
    /// Headings waiting to be placed with what follows them.
    headings: Vec<Row>,
    /// Whether each page says "Page n of m" at its foot.
    numbered: bool,
}

impl Document {
    /// An empty document whose title (in its properties) is `title`.
    pub fn new(title: &str) -> Result<Document, PdfError> {
        Ok(Document {
            title: title.to_owned(),
            glyphs: Glyphs {
                face: Face::new()?,
                remapper: subsetter::GlyphRemapper::new(),
                used: BTreeMap::new(),
            },
            done: Vec::new(),
            page: Content::new(),
            y: TOP,
            fresh: true,
            headings: Vec::new(),
            numbered: true,
        })
    }

    fn new_page(&mut self) {
        let page = std::mem::replace(&mut self.page, Content::new());
        self.done.push(page);
        self.y = TOP;
        self.fresh = true;
    }

    /// Places the waiting headings, on a new page when they and `height` more points do not
    /// fit on this one (and something is on it already).
    fn make_room(&mut self, height: f32) {
        let headings = std::mem::take(&mut self.headings);
        let need = headings.iter().map(|r| self.row_height(r)).sum::<f32>() + height;
        if !self.fresh && self.y - need < FLOOR {
            self.new_page();
        }
        for row in &headings {
            self.place(row);
        }
    }

    /// Each line of `row` wrapped to its room.
    fn lay_out(&self, row: &[Line]) -> Vec<Vec<String>> {
        // Left text beside a right-aligned amount wraps before reaching it.
        let beside = if row.iter().any(|l| l.right) {
            110.0
        } else {
            0.0
        };
        row.iter()
            .map(|line| {
                let room = ROOM - line.indent - if line.right { 0.0 } else { beside };
                wrap(&self.glyphs.face, &line.text, line.size, room)
            })
            .collect()
    }

    fn row_height(&self, row: &[Line]) -> f32 {
        row.iter()
            .zip(self.lay_out(row))
            .map(|(l, pieces)| l.gap + pieces.len().max(1) as f32 * l.size * LEADING)
            .fold(0.0, f32::max)
    }

    /// Writes `row` below what is on the page. A row of one line taller than what is left of
    /// a fresh page goes on over the next page.
    fn place(&mut self, row: &[Line]) {
        let laid = self.lay_out(row);
        let flows = row.len() == 1;
        let mut lowest = self.y
            - row
                .iter()
                .map(|l| l.gap + l.size * LEADING)
                .fold(0.0_f32, f32::max);
        for (line, pieces) in row.iter().zip(laid) {
            let mut at = self.y - line.gap - line.size * LEADING;
            for piece in pieces {
                if flows && at < FLOOR && !self.fresh {
                    self.new_page();
                    at = self.y - line.size * LEADING;
                    lowest = at;
                }
                let x = if line.right {
                    WIDTH - MARGIN - self.glyphs.face.width(&piece, line.size)
                } else {
                    MARGIN + line.indent
                };
                self.glyphs.show(&mut self.page, x, at, line.size, &piece);
                self.fresh = false;
                lowest = lowest.min(at);
                at -= line.size * LEADING;
            }
        }
        self.y = lowest;
    }

    /// Writes `row` below what is on the page, on a new page when it does not fit.
    pub fn row(&mut self, row: Row) {
        let height = self.row_height(&row);
        self.make_room(height);
        self.place(&row);
    }

    /// A row kept on the same page as whatever follows it (a heading is not left alone at the
    /// foot of a page).
    pub fn heading(&mut self, row: Row) {
        self.headings.push(row);
    }

    /// Draws `drawing` below what is on the page, as wide as the text (or smaller, so that it
    /// fits on a page), whole: on a new page when it does not fit on this one. Its title is
    /// not drawn (write a heading row before it).
    pub fn drawing(&mut self, drawing: &Drawing) {
        let (w, h) = (drawing.width as f32, drawing.height as f32);
        if !(w > 0.0 && h > 0.0) {
            return;
        }
        let gap = 6.0;
        let scale = (ROOM / w).min((TOP - FLOOR - gap) / h);
        let height = h * scale;
        self.make_room(gap + height);
        let top = self.y - gap;
        let at = |x: f64, y: f64| (MARGIN + x as f32 * scale, top - y as f32 * scale);
        let page = &mut self.page;
        page.save_state();
        page.set_line_cap(LineCapStyle::RoundCap);
        page.set_line_join(LineJoinStyle::RoundJoin);
        for shape in &drawing.shapes {
            match shape {
                Shape::Line {
                    x1,
                    y1,
                    x2,
                    y2,
                    colour,
                    width,
                } => {
                    let (r, g, b) = rgb(colour);
                    let (x1, y1) = at(*x1, *y1);
                    let (x2, y2) = at(*x2, *y2);
                    page.set_stroke_rgb(r, g, b)
                        .set_line_width(*width as f32 * scale)
                        .move_to(x1, y1)
                        .line_to(x2, y2)
                        .stroke();
                }
                Shape::Polyline {
                    points,
                    colour,
                    width,
                } => {
                    let Some(((x0, y0), rest)) = points.split_first() else {
                        continue;
                    };
                    if rest.is_empty() {
                        continue;
                    }
                    let (r, g, b) = rgb(colour);
                    let (x0, y0) = at(*x0, *y0);
                    page.set_stroke_rgb(r, g, b)
                        .set_line_width(*width as f32 * scale)
                        .move_to(x0, y0);
                    for (x, y) in rest {
                        let (x, y) = at(*x, *y);
                        page.line_to(x, y);
                    }
                    page.stroke();
                }
                Shape::Circle { cx, cy, r, colour } => {
                    let (red, green, blue) = rgb(colour);
                    let (x, y) = at(*cx, *cy);
                    let r = *r as f32 * scale;
                    // Four Bézier quarters.
                    let k = 0.552_284_8 * r;
                    page.set_fill_rgb(red, green, blue)
                        .move_to(x + r, y)
                        .cubic_to(x + r, y + k, x + k, y + r, x, y + r)
                        .cubic_to(x - k, y + r, x - r, y + k, x - r, y)
                        .cubic_to(x - r, y - k, x - k, y - r, x, y - r)
                        .cubic_to(x + k, y - r, x + r, y - k, x + r, y)
                        .close_path()
                        .fill_nonzero();
                }
                Shape::Rect { x, y, w, h, colour } => {
                    let (r, g, b) = rgb(colour);
                    // PDF rectangles start at their lower left corner.
                    let (left, bottom) = at(*x, *y + *h);
                    page.set_fill_rgb(r, g, b)
                        .rect(left, bottom, *w as f32 * scale, *h as f32 * scale)
                        .fill_nonzero();
                }
                Shape::Text {
                    x,
                    y,
                    size,
                    anchor,
                    colour,
                    text,
                } => {
                    let (r, g, b) = rgb(colour);
                    let size = *size as f32 * scale;
                    let (x, y) = at(*x, *y);
                    let width = self.glyphs.face.width(text, size);
                    let x = match anchor {
                        Anchor::Start => x,
                        Anchor::Middle => x - width / 2.0,
                        Anchor::End => x - width,
                    };
                    page.set_fill_rgb(r, g, b);
                    self.glyphs.show(page, x, y, size, text);
                }
            }
        }
        page.restore_state();
        self.y = top - height;
        self.fresh = false;
    }

    /// How wide each column of a table is, and at what size its type is set: the columns of
    /// figures as wide as their widest cell, the first column what is left. The type gets
    /// smaller (down to 6 points) while the first column would be under a third of the width,
    /// and the figures are cut short when even that is not enough.
    fn columns(&self, headers: &[String], rows: &[Vec<String>], count: usize) -> Columns {
        let face = &self.glyphs.face;
        let widest = |i: usize, size: f32| {
            headers
                .get(i)
                .into_iter()
                .chain(rows.iter().filter_map(|r| r.get(i)))
                .map(|t| face.width(t, size))
                .fold(0.0_f32, f32::max)
        };
        let least = ROOM / 3.0;
        let mut size = TABLE_SIZE;
        loop {
            let figures: Vec<f32> = (1..count).map(|i| widest(i, size)).collect();
            let taken: f32 = figures.iter().map(|w| w + COLUMN_GAP).sum();
            if ROOM - taken >= least || size <= TABLE_SMALLEST {
                let gaps = COLUMN_GAP * figures.len() as f32;
                let sum: f32 = figures.iter().sum();
                let most = (ROOM - least - gaps).max(0.0);
                let shrink = if sum > most && sum > 0.0 {
                    most / sum
                } else {
                    1.0
                };
                let figures: Vec<f32> = figures.iter().map(|w| w * shrink).collect();
                let first = ROOM - gaps - figures.iter().sum::<f32>();
                let mut widths = vec![first];
                widths.extend(figures);
                return Columns { size, widths };
            }
            size -= 0.5;
        }
    }

    /// Writes one row of a table at the top of the free space.
    fn cells(&mut self, cells: &[String], columns: &Columns) {
        let size = columns.size;
        let baseline = self.y - size * 1.3;
        let mut left = MARGIN;
        for (i, width) in columns.widths.iter().enumerate() {
            if i > 0 {
                left += COLUMN_GAP;
            }
            let text = cells.get(i).map(String::as_str).unwrap_or_default();
            let text = self.glyphs.face.fit(text, size, *width);
            let x = if i == 0 {
                left
            } else {
                left + width - self.glyphs.face.width(&text, size)
            };
            if !text.is_empty() {
                self.glyphs.show(&mut self.page, x, baseline, size, &text);
            }
            left += width;
        }
        self.y -= columns.line();
        self.fresh = false;
    }

    /// The header row of a table, muted, with a thin rule under it.
    fn table_header(&mut self, headers: &[String], columns: &Columns) {
        let (r, g, b) = rgb(MUTED);
        self.page.save_state();
        self.page.set_fill_rgb(r, g, b);
        self.cells(headers, columns);
        let rule = self.y + columns.size * 0.2;
        self.page
            .set_stroke_rgb(r, g, b)
            .set_line_width(0.5)
            .move_to(MARGIN, rule)
            .line_to(WIDTH - MARGIN, rule)
            .stroke();
        self.page.restore_state();
        self.y -= 2.0;
    }

    /// Writes a table: the first column left-aligned, taking the width the others leave (its
    /// text cut short with "…" where it does not fit), the others right-aligned (figures). The
    /// header row is repeated at the top of each page the table goes on to.
    pub fn table(&mut self, headers: &[String], rows: &[Vec<String>]) {
        let count = rows.iter().map(Vec::len).fold(headers.len(), usize::max);
        if count == 0 {
            return;
        }
        let columns = self.columns(headers, rows, count);
        let line = columns.line();
        // The header with the first rows (up to three).
        self.make_room(4.0 + line + 2.0 + line * rows.len().clamp(1, 3) as f32);
        self.y -= 4.0;
        self.table_header(headers, &columns);
        for row in rows {
            if self.y - line < FLOOR {
                self.new_page();
                self.table_header(headers, &columns);
            }
            self.cells(row, &columns);
        }
    }

    /// Goes on on a new page (unless nothing is on this one yet).
    pub fn page_break(&mut self) {
        self.make_room(0.0);
        if !self.fresh {
            self.new_page();
        }
    }

    /// The document as PDF: its pages, each numbered "Page n of m" at its foot, and one subset
    /// of the font for all of them.
    pub fn finish(mut self) -> Result<Vec<u8>, PdfError> {
        self.make_room(0.0);
        let last = std::mem::replace(&mut self.page, Content::new());
        if !self.fresh || self.done.is_empty() {
            self.done.push(last);
        }
        let Document {
            title,
            mut glyphs,
            done: mut pages,
            numbered,
            ..
        } = self;
        let count = pages.len();
        if numbered {
            let (r, g, b) = rgb(MUTED);
            for (i, page) in pages.iter_mut().enumerate() {
                let text = format!("Page {} of {count}", i + 1);
                let x = (WIDTH - glyphs.face.width(&text, 8.0)) / 2.0;
                page.save_state().set_fill_rgb(r, g, b);
                glyphs.show(page, x, FOOT, 8.0, &text);
                page.restore_state();
            }
        }
        let Glyphs {
            face,
            remapper,
            used,
        } = glyphs;
        let subset = subsetter::subset(FONT, 0, &remapper).map_err(|e| PdfError(e.to_string()))?;

        let catalog = Ref::new(1);
        let tree = Ref::new(2);
        let font = Ref::new(3);
        let cid = Ref::new(4);
        let descriptor = Ref::new(5);
        let file = Ref::new(6);
        let cmap = Ref::new(7);
        let info = Ref::new(8);
        // Each page and its content stream after those.
        let page_ref = |i: usize| Ref::new(9 + 2 * i as i32);
        let content_ref = |i: usize| Ref::new(10 + 2 * i as i32);
        let mut pdf = Pdf::new();
        pdf.catalog(catalog).pages(tree);
        pdf.pages(tree)
            .kids((0..count).map(page_ref))
            .count(i32::try_from(count).map_err(|e| PdfError(e.to_string()))?);
        for (i, content) in pages.into_iter().enumerate() {
            let mut p = pdf.page(page_ref(i));
            p.media_box(Rect::new(0.0, 0.0, WIDTH, HEIGHT));
            p.parent(tree);
            p.contents(content_ref(i));
            p.resources().fonts().pair(Name(b"F1"), font);
            p.finish();
            pdf.stream(content_ref(i), &content.finish());
        }
        pdf.document_info(info)
            .title(pdf_writer::TextStr(&title))
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
}

/// Writes `rows` top to bottom on A4 (`title` is the document's title), without page
/// numbers: an invoice, which fits on one page.
pub fn render(title: &str, rows: &[Row]) -> Result<Vec<u8>, PdfError> {
    let mut document = Document::new(title)?;
    document.numbered = false;
    for row in rows {
        document.row(row.clone());
    }
    document.finish()
}

/// The number of pages of a PDF written here.
#[cfg(test)]
pub(crate) fn page_count(pdf: &[u8]) -> usize {
    let count = |needle: &[u8]| pdf.windows(needle.len()).filter(|w| *w == needle).count();
    count(b"/Type /Page") - count(b"/Type /Pages")
}

/// The text of a PDF as `pdftotext` extracts it; `None` (the check is skipped) where the tool
/// is missing, unless `SOCIALIZIOZ_REQUIRE_PDFTOTEXT=1` asks for it.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) fn pdftotext(pdf: &[u8]) -> Option<String> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let file = std::env::temp_dir().join(format!(
        "socializioz-pdf-test-{}-{}.pdf",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&file, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg(&file)
        .arg("-")
        .output();
    let _ = std::fs::remove_file(&file);
    match out {
        Ok(out) => {
            assert!(
                out.status.success(),
                "pdftotext: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            Some(String::from_utf8(out.stdout).unwrap())
        }
        Err(err) => {
            assert!(
                !std::env::var("SOCIALIZIOZ_REQUIRE_PDFTOTEXT").is_ok_and(|v| v == "1"),
                "pdftotext is required: {err}"
            );
            eprintln!("SKIPPED: pdftotext is not installed (poppler-utils)");
            None
        }
    }
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
        assert_eq!(page_count(&pdf), 1);
        // A subset: far smaller than the 750 KB font.
        assert!(pdf.len() < 60_000, "{} bytes", pdf.len());
        if let Some(text) = pdftotext(&pdf) {
            assert!(text.contains("Ζωή Ελευθερίου"), "{text}");
            assert!(text.contains("€29.00"), "{text}");
            assert!(
                !text.contains("Page 1"),
                "invoices are not numbered: {text}"
            );
        }
    }

    #[test]
    fn long_lines_wrap_at_spaces() {
        let face = Face::new().unwrap();
        let lines = wrap(&face, &"word ".repeat(60), 10.0, 200.0);
        assert!(lines.len() > 5);
        assert!(lines.iter().all(|l| face.width(l, 10.0) <= 200.0));
    }

    #[test]
    fn text_too_wide_is_cut_short() {
        let face = Face::new().unwrap();
        assert_eq!(face.fit("short", 10.0, 200.0), "short");
        let cut = face.fit(&"Ελευθερία ".repeat(20), 10.0, 100.0);
        assert!(cut.ends_with('…'), "{cut}");
        assert!(face.width(&cut, 10.0) <= 100.0);
        assert_eq!(face.fit("a\nb", 10.0, 100.0), "a b");
    }

    #[test]
    fn colours_are_read_from_hex() {
        assert_eq!(rgb("#ff0000"), (1.0, 0.0, 0.0));
        assert_eq!(rgb("#fff"), (1.0, 1.0, 1.0));
        assert_eq!(rgb("#2156c7").2, f32::from(0xc7_u8) / 255.0);
        assert_eq!(rgb("red"), (0.0, 0.0, 0.0));
        assert_eq!(rgb("#ééé"), (0.0, 0.0, 0.0));
    }

    #[test]
    fn rows_flow_over_numbered_pages() {
        let mut doc = Document::new("Long").unwrap();
        for i in 0..150 {
            doc.row(vec![Line::text(format!("Line {i}"))]);
        }
        doc.page_break();
        doc.page_break();
        let pdf = doc.finish().unwrap();
        let pages = page_count(&pdf);
        assert!(pages >= 3, "{pages}");
        if let Some(text) = pdftotext(&pdf) {
            assert!(text.contains("Line 0") && text.contains("Line 149"));
            assert!(text.contains(&format!("Page 1 of {pages}")), "{text}");
            assert!(text.contains(&format!("Page {pages} of {pages}")), "{text}");
        }
        // An empty document is one blank page.
        let empty = Document::new("Empty").unwrap().finish().unwrap();
        assert_eq!(page_count(&empty), 1);
    }

    fn chart() -> Drawing {
        let mut d = Drawing::new(640.0, 220.0, "Chart");
        d.shapes = vec![
            Shape::Line {
                x1: 0.0,
                y1: 10.0,
                x2: 640.0,
                y2: 10.0,
                colour: "#d9dde3",
                width: 1.0,
            },
            Shape::Polyline {
                points: vec![(0.0, 200.0), (320.0, 20.0), (640.0, 100.0)],
                colour: "#2156c7",
                width: 2.0,
            },
            Shape::Circle {
                cx: 100.0,
                cy: 100.0,
                r: 2.5,
                colour: "#2156c7",
            },
            Shape::Rect {
                x: 10.0,
                y: 50.0,
                w: 20.0,
                h: 150.0,
                colour: "#2156c7",
            },
            Shape::Text {
                x: 320.0,
                y: 212.0,
                size: 11.0,
                anchor: Anchor::Middle,
                colour: "#555555",
                text: "1 Δεκ".to_owned(),
            },
        ];
        d
    }

    #[test]
    fn drawings_are_vector_paths_kept_whole() {
        let mut doc = Document::new("Chart").unwrap();
        doc.drawing(&chart());
        let pdf = doc.finish().unwrap();
        let body = String::from_utf8_lossy(&pdf);
        for op in [
            " m\n", " l\n", " c\n", " re\n", "\nS\n", "\nf\n", " RG\n", " rg\n",
        ] {
            assert!(body.contains(op), "{op:?}");
        }
        // The grey of the gridline, flipped: the line near the top of the drawing.
        assert!(body.contains("0.8509804 0.8666667 0.8901961 RG"), "{body}");
        if let Some(text) = pdftotext(&pdf) {
            assert!(text.contains("1 Δεκ"), "{text}");
        }

        // A drawing that does not fit below the rows goes whole on the next page.
        let mut doc = Document::new("Chart").unwrap();
        for i in 0..45 {
            doc.row(vec![Line::text(format!("Line {i}"))]);
        }
        doc.heading(vec![Line::text("The chart").size(13.0)]);
        doc.drawing(&chart());
        let pdf = doc.finish().unwrap();
        assert_eq!(page_count(&pdf), 2);
        if let Some(text) = pdftotext(&pdf) {
            let second = text.split('\u{c}').nth(1).unwrap();
            assert!(
                second.contains("The chart"),
                "the heading went with it: {text}"
            );
        }
    }

    #[test]
    fn tables_repeat_their_header_on_each_page() {
        let headers: Vec<String> = ["Post", "Views", "Likes"].map(String::from).to_vec();
        let rows: Vec<Vec<String>> = (0..120)
            .map(|i| {
                vec![
                    format!("Ανάρτηση {i} {}", "με πολύ μεγάλο κείμενο ".repeat(10)),
                    (i * 1000).to_string(),
                    i.to_string(),
                ]
            })
            .collect();
        let mut doc = Document::new("Table").unwrap();
        doc.table(&headers, &rows);
        let pdf = doc.finish().unwrap();
        let pages = page_count(&pdf);
        assert!(pages >= 2, "{pages}");
        if let Some(text) = pdftotext(&pdf) {
            assert_eq!(text.matches("Views").count(), pages, "{text}");
            assert!(text.contains("Ανάρτηση 119"), "{text}");
            assert!(text.contains("119000"), "{text}");
            assert!(text.contains('…'), "cut short: {text}");
        }
        // Nothing to show: no page is added and nothing breaks.
        let mut doc = Document::new("Table").unwrap();
        doc.table(&[], &[]);
        doc.table(&headers, &[]);
        assert_eq!(page_count(&doc.finish().unwrap()), 1);
    }
}

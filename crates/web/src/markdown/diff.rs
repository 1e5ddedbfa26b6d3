//! What changed between two Markdown texts, shown formatted. Both are rendered as the policy
//! pages render them and cut into blocks (a heading, a paragraph, each item of a list, a
//! table…); the blocks are compared, and a block that changed is compared word by word. The
//! result is the new text's HTML with inserted words in `<ins class="diff-added">` and removed
//! ones in `<del class="diff-removed">`, and each block taken out shown struck through where it
//! was.
//!
//! The markup stays well formed: a highlight never holds a tag, and a changed block keeps the
//! tags of its new version (removed words lose their old formatting, and a removed link is no
//! longer a link).

use super::events;
use pulldown_cmark::{Event, Tag, TagEnd, html};

/// A comparison of more pairs than this gives up looking for what the texts share and shows
/// the whole old part removed and the whole new part inserted (a policy has some hundreds of
/// blocks and a block some hundreds of words, far below it).
const MAX_PAIRS: usize = 4_000_000;

/// The HTML of what changed from `old` to `new` (both Markdown).
pub fn to_html(old: &str, new: &str) -> String {
    let (a, b) = (blocks(old), blocks(new));
    let ops = compare(&a, &b).unwrap_or_else(|| everything_changed(a.len(), b.len()));
    let mut out = Output::default();
    let mut k = 0;
    while k < ops.len() {
        if let Op::Same(_, j) = ops[k] {
            out.block(&b[j], b[j].html.clone());
            k += 1;
            continue;
        }
        let (mut removed, mut added) = (Vec::new(), Vec::new());
        while let Some(op) = ops.get(k) {
            match *op {
                Op::Removed(i) => removed.push(&a[i]),
                Op::Added(j) => added.push(&b[j]),
                Op::Same(..) => break,
            }
            k += 1;
        }
        changed(&mut out, &removed, &added);
    }
    out.finish()
}

/// A block of a rendered text: its HTML, and whether it is an item of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Block {
    /// `Some(start)` for an item of a top-level list, `start` as in [`Tag::List`] (`None` for
    /// bullets, the first number for a numbered list).
    list: Option<Option<u64>>,
    html: String,
}

impl Block {
    /// Whether `other` can be shown as a change of this block: both items of the same kind of
    /// list, or both outside lists.
    fn same_kind(&self, other: &Block) -> bool {
        self.list.map(|start| start.is_some()) == other.list.map(|start| start.is_some())
    }
}

/// The top-level blocks of `source`, the items of a top-level list each a block of its own.
fn blocks(source: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut list: Option<Option<u64>> = None;
    let mut current: Vec<Event> = Vec::new();
    for event in events(source) {
        match &event {
            Event::Start(Tag::List(start)) if depth == 0 => {
                list = Some(*start);
                depth = 1;
                continue;
            }
            Event::End(TagEnd::List(_)) if depth == 1 && list.is_some() => {
                list = None;
                depth = 0;
                continue;
            }
            Event::Start(_) => depth += 1,
            // An image's start was made text (see `events`); its end closes nothing.
            Event::End(TagEnd::Image) => {}
            Event::End(_) => depth = depth.saturating_sub(1),
            _ => {}
        }
        let opens = matches!(event, Event::Start(_));
        current.push(event);
        if !opens && depth == usize::from(list.is_some()) {
            out.push(Block {
                list,
                html: render(&mut current),
            });
        }
    }
    if !current.is_empty() {
        out.push(Block {
            list,
            html: render(&mut current),
        });
    }
    out
}

fn render(events: &mut Vec<Event>) -> String {
    let mut html = String::new();
    html::push_html(&mut html, events.drain(..));
    html
}

/// The blocks of a changed stretch: a removed block and an added one of the same kind that
/// share at least half of the shorter one's words are one block changed word by word (in
/// order); other removed blocks are shown struck through and other added ones highlighted.
fn changed(out: &mut Output, removed: &[&Block], added: &[&Block]) {
    let mut next = 0;
    for old in removed {
        let partner =
            (next..added.len()).find(|&k| old.same_kind(added[k]) && similar(old, added[k]));
        match partner {
            Some(k) => {
                for new in &added[next..k] {
                    out.block(new, whole(&new.html, Mark::Added));
                }
                out.block(added[k], words(&old.html, &added[k].html));
                next = k + 1;
            }
            None => out.block(old, whole(&old.html, Mark::Removed)),
        }
    }
    for new in &added[next..] {
        out.block(new, whole(&new.html, Mark::Added));
    }
}

fn similar(old: &Block, new: &Block) -> bool {
    fn only_words(html: &str) -> Vec<Token<'_>> {
        tokens(html)
            .into_iter()
            .filter(|t| matches!(t, Token::Word(_)))
            .collect()
    }
    let (a, b) = (only_words(&old.html), only_words(&new.html));
    let shorter = a.len().min(b.len());
    let Some(ops) = compare(&a, &b) else {
        return false;
    };
    let shared = ops.iter().filter(|op| matches!(op, Op::Same(..))).count();
    shorter > 0 && shared * 2 >= shorter
}

/// The new block's HTML with the words that changed from the old one highlighted.
fn words(old: &str, new: &str) -> String {
    let (a, b) = (tokens(old), tokens(new));
    let Some(mut ops) = compare(&a, &b) else {
        return format!("{}{}", whole(old, Mark::Removed), whole(new, Mark::Added));
    };
    join_changes(&mut ops, &a, &b);
    let mut out = Marked::default();
    let mut k = 0;
    while k < ops.len() {
        if let Op::Same(_, j) = ops[k] {
            out.token(b[j], None);
            k += 1;
            continue;
        }
        let start = k;
        while k < ops.len() && !matches!(ops[k], Op::Same(..)) {
            k += 1;
        }
        // What was removed, as one struck-through run (its tags dropped: the new version's
        // tags hold the block together)...
        for op in &ops[start..k] {
            if let Op::Removed(i) = *op {
                match a[i] {
                    Token::Tag(_) => {}
                    Token::Space(s) if out.open == Some(Mark::Removed) => out.out.push_str(s),
                    Token::Space(_) => {}
                    word => out.token(word, Some(Mark::Removed)),
                }
            }
        }
        // ...then what was inserted, in place.
        for op in &ops[start..k] {
            if let Op::Added(j) = *op {
                out.token(b[j], Some(Mark::Added));
            }
        }
    }
    out.finish()
}

/// Makes a short stretch kept between two changes part of them: one no longer (in words)
/// than the larger side of the change before it and of the change after it, such as a space,
/// a tag or a "the" the two versions happen to share. A rewritten phrase then reads as one
/// removal and one insertion rather than word after word.
fn join_changes(ops: &mut Vec<Op>, a: &[Token<'_>], b: &[Token<'_>]) {
    // Per run of steps: whether it is kept, where it starts, and its size in words (kept or
    // removed, inserted).
    struct Run {
        kept: bool,
        start: usize,
        end: usize,
        removed: usize,
        added: usize,
    }
    loop {
        let mut runs: Vec<Run> = Vec::new();
        for (k, op) in ops.iter().enumerate() {
            let kept = matches!(op, Op::Same(..));
            if runs.last().is_none_or(|run| run.kept != kept) {
                runs.push(Run {
                    kept,
                    start: k,
                    end: k,
                    removed: 0,
                    added: 0,
                });
            }
            let Some(run) = runs.last_mut() else {
                continue;
            };
            run.end = k + 1;
            match *op {
                Op::Same(i, _) | Op::Removed(i) if matches!(a[i], Token::Word(_)) => {
                    run.removed += 1;
                }
                Op::Added(j) if matches!(b[j], Token::Word(_)) => run.added += 1,
                _ => {}
            }
        }
        let joined = runs.windows(3).find(|w| {
            let (before, kept, after) = (&w[0], &w[1], &w[2]);
            kept.kept
                && kept.removed <= before.removed.max(before.added)
                && kept.removed <= after.removed.max(after.added)
        });
        let Some(kept) = joined.map(|w| (w[1].start, w[1].end)) else {
            return;
        };
        let steps: Vec<Op> = ops[kept.0..kept.1].to_vec();
        let removed = steps.iter().filter_map(|op| match *op {
            Op::Same(i, _) => Some(Op::Removed(i)),
            _ => None,
        });
        let added = steps.iter().filter_map(|op| match *op {
            Op::Same(_, j) => Some(Op::Added(j)),
            _ => None,
        });
        let replaced: Vec<Op> = removed.chain(added).collect();
        ops.splice(kept.0..kept.1, replaced);
    }
}

/// `html` with all its words highlighted as `mark`.
fn whole(html: &str, mark: Mark) -> String {
    let mut out = Marked::default();
    for token in tokens(html) {
        out.token(token, Some(mark));
    }
    out.finish()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    Added,
    Removed,
}

impl Mark {
    fn open(self) -> &'static str {
        match self {
            Mark::Added => r#"<ins class="diff-added">"#,
            Mark::Removed => r#"<del class="diff-removed">"#,
        }
    }

    fn close(self) -> &'static str {
        match self {
            Mark::Added => "</ins>",
            Mark::Removed => "</del>",
        }
    }
}

/// HTML being written with highlights that open before a word and close before any tag.
#[derive(Default)]
struct Marked {
    out: String,
    open: Option<Mark>,
}

impl Marked {
    /// Writes `token` as `mark` (or plain); a space joins an open highlight of its mark, and
    /// never starts one.
    fn token(&mut self, token: Token<'_>, mark: Option<Mark>) {
        match token {
            Token::Tag(tag) => {
                self.close();
                self.out.push_str(tag);
            }
            Token::Space(space) => {
                if mark.is_none() || self.open != mark {
                    self.close();
                }
                self.out.push_str(space);
            }
            Token::Word(word) => {
                if self.open != mark {
                    self.close();
                    if let Some(mark) = mark {
                        self.out.push_str(mark.open());
                        self.open = Some(mark);
                    }
                }
                self.out.push_str(word);
            }
        }
    }

    fn close(&mut self) {
        if let Some(mark) = self.open.take() {
            self.out.push_str(mark.close());
        }
    }

    fn finish(mut self) -> String {
        self.close();
        self.out
    }
}

/// The output, opening and closing lists around their items.
#[derive(Default)]
struct Output {
    html: String,
    /// The list open now, as [`Block::list`].
    list: Option<Option<u64>>,
}

impl Output {
    fn block(&mut self, block: &Block, html: String) {
        let kind = |list: Option<Option<u64>>| list.map(|start| start.is_some());
        if kind(self.list) != kind(block.list) {
            self.close_list();
            match block.list {
                Some(None) => self.html.push_str("<ul>\n"),
                Some(Some(1)) => self.html.push_str("<ol>\n"),
                Some(Some(start)) => self.html.push_str(&format!("<ol start=\"{start}\">\n")),
                None => {}
            }
            self.list = block.list;
        }
        self.html.push_str(&html);
    }

    fn close_list(&mut self) {
        match self.list.take() {
            Some(None) => self.html.push_str("</ul>\n"),
            Some(Some(_)) => self.html.push_str("</ol>\n"),
            None => {}
        }
    }

    fn finish(mut self) -> String {
        self.close_list();
        self.html
    }
}

/// A piece of rendered HTML: a tag, a run of white space, or a word (with its punctuation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'a> {
    Tag(&'a str),
    Space(&'a str),
    Word(&'a str),
}

/// The tokens of HTML written by pulldown-cmark, where `<` only ever starts a tag (text has
/// `&lt;`) and `>` only ever ends one.
fn tokens(html: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(c) = rest.chars().next() {
        let end = if c == '<' {
            rest.find('>').map_or(rest.len(), |at| at + 1)
        } else if c.is_whitespace() {
            rest.find(|c: char| !c.is_whitespace())
                .unwrap_or(rest.len())
        } else {
            rest.find(|c: char| c.is_whitespace() || c == '<')
                .unwrap_or(rest.len())
        };
        let (token, tail) = rest.split_at(end);
        out.push(if c == '<' {
            Token::Tag(token)
        } else if c.is_whitespace() {
            Token::Space(token)
        } else {
            Token::Word(token)
        });
        rest = tail;
    }
    out
}

/// One step from the old sequence to the new one (indexes into each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Same(usize, usize),
    Removed(usize),
    Added(usize),
}

/// The steps from `a` to `b` that keep the most in common (a longest common subsequence, after
/// the common beginning and end), removals before insertions; `None` when that is too much
/// work.
fn compare<T: PartialEq>(a: &[T], b: &[T]) -> Option<Vec<Op>> {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ma, mb) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    let width = mb.len() + 1;
    if (ma.len() + 1).saturating_mul(width) > MAX_PAIRS {
        return None;
    }
    let mut lcs = vec![0u32; (ma.len() + 1) * width];
    for i in (0..ma.len()).rev() {
        for j in (0..mb.len()).rev() {
            lcs[i * width + j] = if ma[i] == mb[j] {
                lcs[(i + 1) * width + j + 1] + 1
            } else {
                lcs[(i + 1) * width + j].max(lcs[i * width + j + 1])
            };
        }
    }
    let mut ops: Vec<Op> = (0..prefix).map(|i| Op::Same(i, i)).collect();
    let (mut i, mut j) = (0, 0);
    while i < ma.len() || j < mb.len() {
        if i < ma.len() && j < mb.len() && ma[i] == mb[j] {
            ops.push(Op::Same(prefix + i, prefix + j));
            i += 1;
            j += 1;
        } else if i < ma.len()
            && (j == mb.len() || lcs[(i + 1) * width + j] >= lcs[i * width + j + 1])
        {
            ops.push(Op::Removed(prefix + i));
            i += 1;
        } else {
            ops.push(Op::Added(prefix + j));
            j += 1;
        }
    }
    let (sa, sb) = (a.len() - suffix, b.len() - suffix);
    ops.extend((0..suffix).map(|k| Op::Same(sa + k, sb + k)));
    Some(ops)
}

/// Every one of `old` removed, then every one of `new` added.
fn everything_changed(old: usize, new: usize) -> Vec<Op> {
    (0..old)
        .map(Op::Removed)
        .chain((0..new).map(Op::Added))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{compare, to_html};

    /// The text of every `<{tag} class=…>…</{tag}>` in `html`, tags inside removed.
    fn marked(html: &str, tag: &str) -> Vec<String> {
        let open = format!("<{tag} class=");
        html.match_indices(&open)
            .map(|(at, _)| {
                let rest = &html[at..];
                let body =
                    &rest[rest.find('>').unwrap() + 1..rest.find(&format!("</{tag}>")).unwrap()];
                body.to_owned()
            })
            .collect()
    }

    fn balanced(html: &str) {
        for tag in [
            "p", "li", "ul", "ol", "h2", "strong", "em", "a", "ins", "del",
        ] {
            let opens = html.matches(&format!("<{tag}>")).count()
                + html.matches(&format!("<{tag} ")).count();
            let closes = html.matches(&format!("</{tag}>")).count();
            assert_eq!(opens, closes, "<{tag}> in {html}");
        }
    }

    #[test]
    fn an_unchanged_text_is_rendered_as_it_is() {
        let text = "# Title\n\nA **bold** start.\n\n- one\n- two\n\n1. first\n2. second\n";
        assert_eq!(to_html(text, text), super::super::to_html(text));
    }

    #[test]
    fn an_inserted_sentence_is_highlighted_in_its_formatted_paragraph() {
        let old = "## Rights\n\nYou can **see** your data.\n";
        let new = "## Rights\n\nYou can **see** your data. You can also *export* it.\n";
        let html = to_html(old, new);
        assert!(html.contains("<h2>Rights</h2>"), "{html}");
        assert!(html.starts_with("<h2>Rights</h2>\n<p>You can <strong>see</strong> your data."));
        assert_eq!(
            marked(&html, "ins"),
            ["You can also ", "export", "it."],
            "{html}"
        );
        assert!(
            html.contains("<em><ins class=\"diff-added\">export</ins></em>"),
            "the highlight stays inside the emphasis: {html}"
        );
        assert!(!html.contains("**") && !html.contains("## ") && !html.contains("<del"));
        balanced(&html);
    }

    #[test]
    fn list_items_change_removed_and_added_inside_their_list() {
        let old = "Intro.\n\n- keep this\n- drop this one\n- change the old words\n";
        let new = "Intro.\n\n- keep this\n- change the new words\n- a brand new item\n";
        let html = to_html(old, new);
        assert_eq!(html.matches("<ul>").count(), 1, "one list: {html}");
        assert!(
            html.contains("<li><del class=\"diff-removed\">drop this one</del></li>"),
            "{html}"
        );
        assert!(
            html.contains("<li>change the <del class=\"diff-removed\">old</del><ins class=\"diff-added\">new</ins> words</li>"),
            "{html}"
        );
        assert!(
            html.contains("<li><ins class=\"diff-added\">a brand new item</ins></li>"),
            "{html}"
        );
        balanced(&html);
    }

    #[test]
    fn a_rewritten_paragraph_is_one_removal_and_one_insertion() {
        let html = to_html(
            "Alpha beta gamma delta.\n",
            "Alpha beta epsilon zeta eta.\n",
        );
        assert_eq!(marked(&html, "del"), ["gamma delta."]);
        assert_eq!(marked(&html, "ins"), ["epsilon zeta eta."]);
        let html = to_html("Nothing alike here.\n", "Completely different words now.\n");
        assert_eq!(marked(&html, "del"), ["Nothing alike here."]);
        assert_eq!(marked(&html, "ins"), ["Completely different words now."]);
        assert!(html.find("<del").unwrap() < html.find("<ins").unwrap());
    }

    #[test]
    fn formatting_that_changes_keeps_the_markup_well_formed() {
        let html = to_html(
            "**Object** to processing and [see the policy](/legal/terms).\n",
            "**Object to** processing and see [the policy](/legal/privacy) now.\n",
        );
        balanced(&html);
        assert!(!html.contains("**") && !html.contains("]("), "{html}");
        assert!(html.contains("href=\"/legal/privacy\"") && !html.contains("/legal/terms"));
    }

    #[test]
    fn raw_html_stays_text() {
        let html = to_html("Hello.\n", "Hello. <script>alert(1)</script>\n");
        assert!(
            !html.contains("<script>") && html.contains("&lt;script&gt;"),
            "{html}"
        );
    }

    #[test]
    fn the_comparison_keeps_the_longest_common_part() {
        use super::Op::{Added, Removed, Same};
        let ops = compare(&['a', 'b', 'c'], &['a', 'c', 'd']).unwrap();
        assert_eq!(ops, [Same(0, 0), Removed(1), Same(2, 1), Added(2)]);
        assert_eq!(compare::<char>(&[], &[]).unwrap(), []);
    }
}

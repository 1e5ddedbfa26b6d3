//! Fitting the model's text to the platforms' rules, with the domain's own counters: what is
//! offered always passes `domain::content::check` for every platform it is offered for.

use domain::Platform;
use domain::content::{self, TextCount};

/// The platform the text is furthest over, with its count (`None`: it fits every one).
pub fn over(platforms: &[Platform], text: &str) -> Option<(Platform, TextCount)> {
    platforms
        .iter()
        .map(|p| (*p, content::count(*p, text)))
        .filter(|(_, c)| !c.fits())
        .max_by_key(|(_, c)| (c.over_by(), c.hashtags_over_by()))
}

/// Whether `text` fits every platform.
pub fn fits(platforms: &[Platform], text: &str) -> bool {
    over(platforms, text).is_none()
}

/// The most characters (as the platform counts them) a text may have to fit every platform
/// (`None`: no platform given).
pub fn strictest(platforms: &[Platform]) -> Option<(Platform, usize)> {
    platforms
        .iter()
        .map(|p| (*p, p.text_limit()))
        .min_by_key(|(_, limit)| *limit)
}

/// Characters that end a sentence, in the scripts the product is used in.
fn ends_sentence(c: char) -> bool {
    matches!(
        c,
        '.' | '!' | '?' | '。' | '！' | '？' | '؟' | '۔' | '।' | '…'
    )
}

/// `text` made to fit every platform: hashtags beyond a platform's hashtag limit are taken off
/// from the end, then the text is cut at the last sentence end that fits (or, when that would
/// lose more than half, at the last word that fits, with "…").
pub fn shorten(platforms: &[Platform], text: &str) -> String {
    let mut text = content::published(text).to_owned();
    // Hashtags first, while any platform has more than it takes.
    while platforms
        .iter()
        .any(|p| content::count(*p, &text).hashtags_over_by() > 0)
    {
        match content::hashtag_spans(&text).pop() {
            Some(span) => {
                text.replace_range(span, "");
                text = tidy(&text);
            }
            None => break,
        }
    }
    if fits(platforms, &text) {
        return text;
    }
    // Every place the text may be cut: after a sentence end, or before a space.
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut sentence_cuts = Vec::new();
    let mut word_cuts = Vec::new();
    for (i, (at, c)) in chars.iter().enumerate() {
        let next = chars.get(i + 1).map(|(_, n)| *n);
        if ends_sentence(*c) && next.is_none_or(char::is_whitespace) {
            sentence_cuts.push(at + c.len_utf8());
        }
        if c.is_whitespace() && i > 0 && !chars[i - 1].1.is_whitespace() {
            word_cuts.push(*at);
        }
    }
    let longest = |cuts: &[usize], ellipsis: bool| -> Option<String> {
        // Longer cuts count more, so the last that fits is found by bisection.
        let candidate = |cut: usize| {
            let head = text[..cut].trim_end();
            if ellipsis {
                format!("{head}…")
            } else {
                head.to_owned()
            }
        };
        let (mut low, mut high) = (0usize, cuts.len());
        while low < high {
            let mid = (low + high) / 2;
            if fits(platforms, &candidate(cuts[mid])) {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        let found = low.checked_sub(1).map(|i| candidate(cuts[i]))?;
        fits(platforms, &found).then_some(found)
    };
    let half = text.chars().count() / 2;
    if let Some(cut) = longest(&sentence_cuts, false)
        && cut.chars().count()
            >= half.min(strictest(platforms).map_or(usize::MAX, |(_, limit)| limit / 2))
    {
        return cut;
    }
    if let Some(cut) = longest(&word_cuts, true) {
        return cut;
    }
    // One long word: cut it by characters.
    let mut out = String::new();
    for c in text.chars() {
        let next = format!("{out}{c}…");
        if !fits(platforms, &next) {
            break;
        }
        out.push(c);
    }
    format!("{out}…")
}

/// Spaces left doubled by a removal made single, and the ends trimmed.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let words: Vec<&str> = line.split([' ', '\t']).filter(|w| !w.is_empty()).collect();
        out.push_str(&words.join(" "));
        out.push('\n');
    }
    out.trim().to_owned()
}

/// A hashtag as a model may write it (`"Summer Sale"`, `#summer`, `##x`), made one: `#` and
/// letters, digits or underscores (`None` when nothing is left).
pub fn hashtag(raw: &str) -> Option<String> {
    let word: String = raw
        .trim()
        .trim_start_matches('#')
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    if word.is_empty() || word.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(format!("#{word}"))
}

/// As many of `tags` (cleaned, without repeats) as fit when added on a line of their own after
/// `body`, for every platform; the line, or `None` when none fits.
pub fn hashtag_line(platforms: &[Platform], body: &str, tags: &[String]) -> Option<String> {
    let mut chosen: Vec<String> = Vec::new();
    for tag in tags.iter().filter_map(|t| hashtag(t)) {
        if chosen.iter().any(|c| c.eq_ignore_ascii_case(&tag)) {
            continue;
        }
        let line = [chosen.join(" "), tag.clone()].join(" ").trim().to_owned();
        if fits(platforms, &with_line(body, &line)) {
            chosen.push(tag);
        }
    }
    (!chosen.is_empty()).then(|| chosen.join(" "))
}

/// `body` with `line` added after a blank line (or `line` alone when the body is empty).
pub fn with_line(body: &str, line: &str) -> String {
    let body = content::published(body);
    if body.is_empty() {
        line.to_owned()
    } else {
        format!("{body}\n\n{line}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_over_x_is_cut_at_a_sentence_that_fits() {
        let sentence = "This sentence is exactly fifty characters long ok.";
        let text = [sentence; 8].join(" ");
        let fitted = shorten(&[Platform::X, Platform::LinkedIn], &text);
        assert!(fits(&[Platform::X], &fitted), "{fitted}");
        assert!(fitted.ends_with("ok."), "{fitted}");
        assert!(content::count(Platform::X, &fitted).used > 200, "{fitted}");
        assert!(content::check(Platform::X, &fitted).is_ok());
    }

    #[test]
    fn without_sentences_the_cut_is_at_a_word_with_an_ellipsis() {
        let text = "word ".repeat(200);
        let fitted = shorten(&[Platform::X], &text);
        assert!(fitted.ends_with("word…"), "{fitted}");
        assert!(content::check(Platform::X, &fitted).is_ok());
        let one_word = "a".repeat(400);
        let fitted = shorten(&[Platform::X], &one_word);
        assert!(content::check(Platform::X, &fitted).is_ok());
        assert!(fitted.chars().count() > 250);
    }

    #[test]
    fn extra_hashtags_go_from_the_end_for_instagram() {
        let tags: Vec<String> = (0..34).map(|i| format!("#tag{i}")).collect();
        let text = format!("Our new shop opens. {}", tags.join(" "));
        let fitted = shorten(&[Platform::Instagram], &text);
        assert!(
            content::check(Platform::Instagram, &fitted).is_ok(),
            "{fitted}"
        );
        assert!(
            fitted.contains("#tag29") && !fitted.contains("#tag30"),
            "{fitted}"
        );
        assert!(fitted.starts_with("Our new shop opens."));
        // Not hashtags by the platforms' rule: kept.
        let text = format!("We are #1 at a#b. {}", tags.join(" "));
        let fitted = shorten(&[Platform::Instagram, Platform::X], &text);
        assert!(fitted.starts_with("We are #1 at a#b."), "{fitted}");
        assert!(content::check(Platform::Instagram, &fitted).is_ok());
        assert!(content::check(Platform::X, &fitted).is_ok());
    }

    #[test]
    fn a_text_that_fits_is_unchanged_and_arabic_counts_by_characters() {
        let arabic = "افتتاح متجرنا الجديد يوم السبت. تعالوا!";
        assert_eq!(shorten(&[Platform::X, Platform::Instagram], arabic), arabic);
        let long = "كلمة ".repeat(100);
        let fitted = shorten(&[Platform::X], &long);
        // X weighs Arabic letters as one (U+0600 is below U+10FF).
        assert!(content::check(Platform::X, &fitted).is_ok());
    }

    #[test]
    fn hashtags_are_cleaned_and_only_those_that_fit_are_offered() {
        assert_eq!(hashtag("Summer Sale").as_deref(), Some("#SummerSale"));
        assert_eq!(hashtag("##shop").as_deref(), Some("#shop"));
        assert_eq!(hashtag("# !"), None);
        assert_eq!(hashtag("2024"), None);
        let body = "x".repeat(270);
        let tags = vec!["#one".to_owned(), "#two".to_owned(), "#ONE".to_owned()];
        // 270 + 2 line breaks + "#one" (4) = 276 fits X; adding " #two" does not.
        assert_eq!(
            hashtag_line(&[Platform::X], &body, &tags).as_deref(),
            Some("#one")
        );
        assert_eq!(hashtag_line(&[Platform::X], &"x".repeat(279), &tags), None);
        assert_eq!(
            hashtag_line(&[Platform::LinkedIn], "Hi", &tags).as_deref(),
            Some("#one #two")
        );
    }
}

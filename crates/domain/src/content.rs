//! Post text and the platforms it goes to: how each platform counts a text and what it allows.
//!
//! The same rules are mirrored in `crates/web/static/composer.js` for the live counters in the
//! composer. Change both together.
//!
//! Line breaks: browsers submit a text area's line breaks as `\r\n` although people see (and
//! the platforms store) a single break, so every count here treats `\r\n` as one character.
//!
//! Trailing whitespace: a post is stored and published without it, so [`count`] leaves it out
//! (`"hello "` counts 5, as the server will publish it). The strings in
//! `crates/domain/fixtures/text_counts.json`, with their counts, are checked against these
//! rules here and against the composer's script in a browser test.

use crate::Invalid;
use std::fmt;

/// A social network a post can be published to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Platform {
    Facebook,
    Instagram,
    TikTok,
    X,
    LinkedIn,
}

impl Platform {
    /// Every platform, in the order the product lists them.
    pub const ALL: [Platform; 5] = [
        Self::Facebook,
        Self::Instagram,
        Self::TikTok,
        Self::X,
        Self::LinkedIn,
    ];

    /// The identifier used in URLs, forms and storage.
    pub fn slug(self) -> &'static str {
        match self {
            Self::Facebook => "facebook",
            Self::Instagram => "instagram",
            Self::TikTok => "tiktok",
            Self::X => "x",
            Self::LinkedIn => "linkedin",
        }
    }

    /// The platform named by `slug` (the inverse of [`Platform::slug`]).
    pub fn parse(slug: &str) -> Result<Self, Invalid> {
        let slug = slug.trim();
        Self::ALL
            .into_iter()
            .find(|platform| platform.slug() == slug)
            .ok_or_else(|| Invalid::new("Choose Facebook, Instagram, TikTok, X or LinkedIn."))
    }

    /// The platform's name as people know it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Facebook => "Facebook",
            Self::Instagram => "Instagram",
            Self::TikTok => "TikTok",
            Self::X => "X",
            Self::LinkedIn => "LinkedIn",
        }
    }

    /// The name people know for the platform stored as `slug` (the slug itself if it names no
    /// platform), for text built from stored rows.
    pub fn label_of(slug: &str) -> &str {
        Self::parse(slug).map(Self::label).unwrap_or(slug)
    }

    /// Where, in the platform's own settings, a person removes an app's access (the menu path,
    /// step by step).
    pub fn revoke_steps(self) -> &'static [&'static str] {
        match self {
            Self::Facebook => &["Settings", "Business Integrations"],
            Self::Instagram => &["Settings", "Website Permissions", "Apps and Websites"],
            Self::TikTok => &["Settings", "Security and Permissions", "Authorized Apps"],
            Self::LinkedIn => &["Settings", "Data Privacy", "Permitted Services"],
            Self::X => &[
                "Settings",
                "Security and Account Access",
                "Apps and Sessions",
            ],
        }
    }

    /// The longest text the platform accepts, in the unit [`count`] uses for it (weighted
    /// characters on X, characters elsewhere).
    pub fn text_limit(self) -> usize {
        match self {
            Self::Facebook => 63_206,
            Self::Instagram | Self::TikTok => 2_200,
            Self::X => 280,
            Self::LinkedIn => 3_000,
        }
    }

    /// The most hashtags one text may contain, if the platform sets a limit.
    pub fn hashtag_limit(self) -> Option<usize> {
        match self {
            Self::Instagram => Some(30),
            _ => None,
        }
    }

    /// Whether the platform counts with [`x_weighted_length`] rather than by characters.
    pub fn counts_weighted(self) -> bool {
        self == Self::X
    }

    /// How many posts the platform lets one account publish within a rolling window, where it
    /// publishes a limit: Instagram 50 in 24 hours (`content_publishing_limit`), TikTok 6
    /// publish inits a minute per token. Others answer a rate limit when reached.
    pub fn publish_window(self) -> Option<PublishWindow> {
        match self {
            Self::Instagram => Some(PublishWindow {
                posts: 50,
                seconds: 24 * 3600,
                said: "50 posts per account in 24 hours",
            }),
            Self::TikTok => Some(PublishWindow {
                posts: 6,
                seconds: 60,
                said: "6 uploads per account a minute",
            }),
            _ => None,
        }
    }
}

/// A platform's limit on posts per account in a rolling window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublishWindow {
    pub posts: u32,
    pub seconds: u32,
    /// The limit in words, for the reason shown on a post that waits for it.
    pub said: &'static str,
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// What a text uses of a platform's allowance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextCount {
    /// The text's length as the platform counts it.
    pub used: usize,
    /// The platform's [`Platform::text_limit`].
    pub limit: usize,
    /// The number of hashtags in the text (see [`hashtag_count`]).
    pub hashtags: usize,
    /// The platform's [`Platform::hashtag_limit`].
    pub hashtag_limit: Option<usize>,
}

impl TextCount {
    /// How many characters must go for the text to fit (0 when it fits).
    pub fn over_by(&self) -> usize {
        self.used.saturating_sub(self.limit)
    }

    /// How many hashtags must go for the text to fit (0 when it fits or there is no limit).
    pub fn hashtags_over_by(&self) -> usize {
        self.hashtag_limit
            .map_or(0, |limit| self.hashtags.saturating_sub(limit))
    }

    /// Whether the text is within both the length and the hashtag limit.
    pub fn fits(&self) -> bool {
        self.over_by() == 0 && self.hashtags_over_by() == 0
    }
}

/// Measures `text` the way `platform` does, as it will be published (see [`published`]):
/// [`x_weighted_length`] on X, Unicode scalar values (`char`s) elsewhere, plus the hashtags.
pub fn count(platform: Platform, text: &str) -> TextCount {
    let text = published(text);
    let used = if platform.counts_weighted() {
        x_weighted_length(text)
    } else {
        text.chars().count() - text.matches("\r\n").count()
    };
    TextCount {
        used,
        limit: platform.text_limit(),
        hashtags: hashtag_count(text),
        hashtag_limit: platform.hashtag_limit(),
    }
}

/// The part of `text` that is published: everything but trailing whitespace (Unicode
/// `White_Space`, as [`char::is_whitespace`] and [`str::trim_end`] define it; not U+FEFF).
pub fn published(text: &str) -> &str {
    text.trim_end()
}

/// Checks a text against one platform's limits. The error says by how much it is over, e.g.
/// "X allows 280 characters; this text has 291. Remove 11." or "Instagram allows at most 30
/// hashtags; this caption has 33. Remove 3." When both limits are exceeded the length is
/// reported first.
///
/// Empty text is accepted here (a post may be media only; callers decide).
pub fn check(platform: Platform, text: &str) -> Result<TextCount, Invalid> {
    let counted = count(platform, text);
    if counted.over_by() > 0 {
        return Err(Invalid(format!(
            "{platform} allows {} characters; this text has {}. Remove {}.",
            counted.limit,
            counted.used,
            counted.over_by()
        )));
    }
    if let Some(limit) = counted.hashtag_limit
        && counted.hashtags_over_by() > 0
    {
        return Err(Invalid(format!(
            "{platform} allows at most {limit} hashtags; this caption has {}. Remove {}.",
            counted.hashtags,
            counted.hashtags_over_by()
        )));
    }
    Ok(counted)
}

/// What one link counts on X, whatever its length (X shortens every link to a t.co address).
const X_URL_WEIGHT: usize = 23;

/// What one emoji counts on X.
const X_EMOJI_WEIGHT: usize = 2;

/// Top-level domains that make a bare `name.tld` (without `http://`) count as a link. A short,
/// deliberate list: common generic domains and a few country domains that are not also English
/// words, so that ordinary prose such as "end.It" is not taken for a link.
const BARE_DOMAIN_TLDS: [&str; 21] = [
    "com", "net", "org", "edu", "gov", "info", "biz", "io", "co", "dev", "app", "ai", "tv", "ly",
    "de", "uk", "eu", "fr", "es", "nl", "ch",
];

/// X's weighted length (twitter-text v3 rules).
///
/// - Code points in U+0000–U+10FF, U+2000–U+200D, U+2010–U+201F and U+2032–U+2037 weigh 1; every
///   other code point weighs 2 (so CJK characters weigh 2).
/// - Each link counts 23 whatever its length. A link is `http://` or `https://` (any case)
///   followed by a letter or digit and then everything up to the next whitespace or emoji, or a
///   bare domain: labels of ASCII letters, digits and `-` joined by dots whose last label is one
///   of a short list of common top-level domains (com, net, org, io, de, …), optionally followed
///   by a `/path` up to the next whitespace or emoji. A link may not directly follow a letter,
///   digit or one of `@ # $ _ . / -` (so e-mail addresses are not links), and trailing
///   `. , ; : ! ? ' "` (and `)` when the link has no `(`) are left out of it.
/// - Each emoji counts 2, however many code points it has. An emoji starts with a code point in
///   U+1F000–U+1FAFF or U+2600–U+27BF (two regional indicators U+1F1E6–U+1F1FF in a row form one
///   flag) and takes in the variation selectors U+FE0F, skin-tone modifiers U+1F3FB–U+1F3FF and
///   tag characters U+E0020–U+E007F that follow it, and any U+200D joiner followed by another
///   emoji code point. A keycap (a digit, `#` or `*`, an optional U+FE0F and U+20E3) also counts 2.
///
/// X normalises text to Unicode NFC before counting; this function does not, so a text typed in
/// decomposed form (rare: it needs a keyboard that emits combining accents) may count a little
/// longer here than on X. `\r\n` counts as one character.
pub fn x_weighted_length(text: &str) -> usize {
    let chars: Vec<char> = text.chars().collect();
    let mut total = 0;
    let mut at = 0;
    while at < chars.len() {
        if let Some(end) = link_end(&chars, at) {
            total += X_URL_WEIGHT;
            at = end;
        } else if let Some(end) = emoji_end(&chars, at) {
            total += X_EMOJI_WEIGHT;
            at = end;
        } else {
            let is_crlf = chars[at] == '\r' && chars.get(at + 1) == Some(&'\n');
            if !is_crlf {
                total += x_char_weight(chars[at]);
            }
            at += 1;
        }
    }
    total
}

/// Where X finds links in `text`, by the rules of [`x_weighted_length`], as byte ranges. X
/// publishes each of them shortened to a `https://t.co/…` address.
pub fn x_link_spans(text: &str) -> Vec<std::ops::Range<usize>> {
    let indexed: Vec<(usize, char)> = text.char_indices().collect();
    let chars: Vec<char> = indexed.iter().map(|(_, c)| *c).collect();
    let byte_at = |i: usize| indexed.get(i).map_or(text.len(), |(at, _)| *at);
    let mut spans = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        if let Some(end) = link_end(&chars, at) {
            spans.push(byte_at(at)..byte_at(end));
            at = end;
        } else if let Some(end) = emoji_end(&chars, at) {
            at = end;
        } else {
            at += 1;
        }
    }
    spans
}

/// Counts `#tag` hashtags (see [`hashtag_spans`]).
pub fn hashtag_count(text: &str) -> usize {
    hashtag_spans(text).len()
}

/// Where the `#tag` hashtags are, as byte ranges from the `#`: a `#` at the start of the text
/// or after a character that is not a letter, digit or underscore (whitespace, punctuation, an
/// emoji), followed by at least one letter, digit or underscore, not all of them digits. `#1`
/// and `a#b` are not hashtags; `#über` and `#東京` are.
pub fn hashtag_spans(text: &str) -> Vec<std::ops::Range<usize>> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut spans = Vec::new();
    for (i, &(at, c)) in chars.iter().enumerate() {
        if c != '#' || (i > 0 && is_tag_char(chars[i - 1].1)) {
            continue;
        }
        let body: Vec<char> = chars[i + 1..]
            .iter()
            .map(|(_, c)| *c)
            .take_while(|&c| is_tag_char(c))
            .collect();
        if !body.is_empty() && !body.iter().all(|c| c.is_numeric()) {
            let end = at + 1 + body.iter().map(|c| c.len_utf8()).sum::<usize>();
            spans.push(at..end);
        }
    }
    spans
}

/// Letters, digits (any script) and the underscore make up a hashtag.
fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// A code point's weight on X outside links and emoji.
fn x_char_weight(c: char) -> usize {
    let light = matches!(
        u32::from(c),
        0x0000..=0x10FF | 0x2000..=0x200D | 0x2010..=0x201F | 0x2032..=0x2037
    );
    if light { 1 } else { 2 }
}

/// Whether `c` starts (or, after a joiner, continues) an emoji.
fn is_emoji(c: char) -> bool {
    matches!(u32::from(c), 0x1F000..=0x1FAFF | 0x2600..=0x27BF)
}

fn is_regional_indicator(c: char) -> bool {
    matches!(u32::from(c), 0x1F1E6..=0x1F1FF)
}

/// Code points folded into the emoji before them: U+FE0F, skin tones and tag characters.
fn is_emoji_modifier(c: char) -> bool {
    matches!(
        u32::from(c),
        0xFE0F | 0x1F3FB..=0x1F3FF | 0xE0020..=0xE007F
    )
}

const ZWJ: char = '\u{200D}';
const VARIATION_SELECTOR: char = '\u{FE0F}';
const KEYCAP: char = '\u{20E3}';

/// If an emoji starts at `at`, the index just after it.
fn emoji_end(chars: &[char], at: usize) -> Option<usize> {
    let first = chars[at];
    if matches!(first, '0'..='9' | '#' | '*') {
        let mut next = at + 1;
        if chars.get(next) == Some(&VARIATION_SELECTOR) {
            next += 1;
        }
        return (chars.get(next) == Some(&KEYCAP)).then_some(next + 1);
    }
    if !is_emoji(first) {
        return None;
    }
    let mut end = at + 1;
    if is_regional_indicator(first) && chars.get(end).is_some_and(|&c| is_regional_indicator(c)) {
        end += 1;
    }
    loop {
        match chars.get(end) {
            Some(&c) if is_emoji_modifier(c) => end += 1,
            Some(&ZWJ) if chars.get(end + 1).is_some_and(|&c| is_emoji(c)) => end += 2,
            _ => return Some(end),
        }
    }
}

/// Whether a link may start right after `c`.
fn may_precede_link(c: char) -> bool {
    !(c.is_alphanumeric() || "@#$_./-".contains(c))
}

/// Whether `c` ends a link: whitespace, or the start of an emoji.
fn ends_link(c: char) -> bool {
    c.is_whitespace() || is_emoji(c)
}

fn is_label_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-'
}

/// If a link starts at `at`, the index just after it.
fn link_end(chars: &[char], at: usize) -> Option<usize> {
    if at > 0 && !may_precede_link(chars[at - 1]) {
        return None;
    }
    scheme_link_end(chars, at).or_else(|| bare_domain_end(chars, at))
}

/// The end of an `http://` or `https://` link starting at `at`.
fn scheme_link_end(chars: &[char], at: usize) -> Option<usize> {
    let host = ["https://", "http://"].into_iter().find_map(|scheme| {
        let len = scheme.chars().count();
        let candidate = chars.get(at..at + len)?;
        let matches = candidate
            .iter()
            .zip(scheme.chars())
            .all(|(c, s)| c.to_ascii_lowercase() == s);
        matches.then_some(at + len)
    })?;
    let end = trim_link_end(chars, host, run_end(chars, host));
    chars
        .get(host)
        .is_some_and(|c| c.is_alphanumeric() && host < end)
        .then_some(end)
}

/// The end of a bare-domain link (`example.com`, `www.example.org/path`) starting at `at`.
fn bare_domain_end(chars: &[char], at: usize) -> Option<usize> {
    let mut end = at;
    let mut labels = 0;
    let mut last_label = at..at;
    loop {
        let start = end;
        while chars.get(end).is_some_and(|&c| is_label_char(c)) {
            end += 1;
        }
        if end == start {
            return None;
        }
        labels += 1;
        last_label = start..end;
        let dot_then_label =
            chars.get(end) == Some(&'.') && chars.get(end + 1).is_some_and(|&c| is_label_char(c));
        if !dot_then_label {
            break;
        }
        end += 1;
    }
    let tld: String = chars[last_label]
        .iter()
        .collect::<String>()
        .to_ascii_lowercase();
    if labels < 2 || !BARE_DOMAIN_TLDS.contains(&tld.as_str()) {
        return None;
    }
    match chars.get(end) {
        Some(&'/') => Some(trim_link_end(chars, end, run_end(chars, end))),
        Some(&c) if c.is_alphanumeric() || c == '@' || c == '_' => None,
        _ => Some(end),
    }
}

/// The index of the first character at or after `from` that ends a link.
fn run_end(chars: &[char], from: usize) -> usize {
    chars[from..]
        .iter()
        .position(|&c| ends_link(c))
        .map_or(chars.len(), |offset| from + offset)
}

/// Moves `end` back over trailing punctuation that belongs to the sentence, not the link, but
/// never before `floor`.
fn trim_link_end(chars: &[char], floor: usize, mut end: usize) -> usize {
    let has_open_paren = chars[floor..end].contains(&'(');
    while end > floor {
        let last = chars[end - 1];
        let trailing = ".,;:!?'\"".contains(last) || (last == ')' && !has_open_paren);
        if !trailing {
            break;
        }
        end -= 1;
    }
    end
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn slugs_round_trip_and_unknown_is_refused() {
        for platform in Platform::ALL {
            assert_eq!(Platform::parse(platform.slug()).unwrap(), platform);
            assert_eq!(platform.to_string(), platform.label());
        }
        assert_eq!(Platform::parse(" x ").unwrap(), Platform::X);
        assert!(Platform::parse("myspace").unwrap_err().0.contains("Choose"));
        assert!(Platform::parse("").is_err());
        assert!(Platform::parse("X").is_err());
        assert_eq!(Platform::label_of("tiktok"), "TikTok");
        assert_eq!(Platform::label_of("linkedin"), "LinkedIn");
        assert_eq!(Platform::label_of("myspace"), "myspace");
    }

    #[test]
    fn only_x_is_weighted_and_only_instagram_limits_hashtags() {
        for platform in Platform::ALL {
            assert_eq!(platform.counts_weighted(), platform == Platform::X);
            assert_eq!(
                platform.hashtag_limit().is_some(),
                platform == Platform::Instagram
            );
        }
        assert_eq!(Platform::Instagram.hashtag_limit(), Some(30));
    }

    #[test]
    fn each_platform_accepts_its_limit_and_refuses_one_more() {
        for platform in Platform::ALL {
            let limit = platform.text_limit();
            let fits = "a".repeat(limit);
            let counted = check(platform, &fits).unwrap();
            assert_eq!(counted.used, limit);
            assert!(counted.fits());

            let over = "a".repeat(limit + 1);
            let error = check(platform, &over).unwrap_err().0;
            assert_eq!(
                error,
                format!(
                    "{} allows {limit} characters; this text has {}. Remove 1.",
                    platform.label(),
                    limit + 1
                )
            );
            assert_eq!(count(platform, &over).over_by(), 1);
        }
    }

    #[test]
    fn the_error_says_how_much_to_remove() {
        let error = check(Platform::X, &"a".repeat(291)).unwrap_err().0;
        assert_eq!(
            error,
            "X allows 280 characters; this text has 291. Remove 11."
        );
    }

    #[test]
    fn empty_text_is_accepted() {
        for platform in Platform::ALL {
            let counted = check(platform, "").unwrap();
            assert_eq!(counted.used, 0);
            assert_eq!(counted.hashtags, 0);
        }
    }

    #[test]
    fn non_x_platforms_count_characters_not_bytes() {
        assert_eq!(count(Platform::LinkedIn, "über 東京").used, 7);
        assert_eq!(count(Platform::Facebook, "👨‍👩‍👧").used, 5);
        assert_eq!(count(Platform::Instagram, "https://example.com").used, 19);
    }

    #[test]
    fn crlf_counts_as_one_character() {
        assert_eq!(count(Platform::LinkedIn, "a\r\nb").used, 3);
        assert_eq!(count(Platform::LinkedIn, "a\nb").used, 3);
        assert_eq!(x_weighted_length("a\r\nb"), 3);
        assert_eq!(x_weighted_length("a\rb"), 3);
    }

    #[test]
    fn trailing_whitespace_is_not_counted() {
        assert_eq!(published("hello \r\n\t\u{3000}"), "hello");
        assert_eq!(published("\u{85}"), "");
        // U+FEFF is not whitespace to Rust (JavaScript's trimEnd would remove it).
        assert_eq!(published("a\u{FEFF}"), "a\u{FEFF}");
        assert_eq!(
            count(Platform::X, &format!("{} ", "a".repeat(280))).used,
            280
        );
        assert!(check(Platform::X, &format!("{}\n\n", "a".repeat(280))).is_ok());
        assert_eq!(count(Platform::LinkedIn, "  two  ").used, 5);
    }

    /// One entry of `fixtures/text_counts.json`: a text and its counts as the server makes them.
    #[derive(serde::Deserialize)]
    struct Shared {
        text: String,
        x: usize,
        chars: usize,
        hashtags: usize,
        why: String,
    }

    #[test]
    fn the_shared_strings_count_as_listed() {
        let cases: Vec<Shared> =
            serde_json::from_str(include_str!("../fixtures/text_counts.json")).unwrap();
        assert!(cases.len() > 40);
        for case in &cases {
            let on_x = count(Platform::X, &case.text);
            assert_eq!(
                on_x.used, case.x,
                "X count of {:?} ({})",
                case.text, case.why
            );
            for platform in [Platform::LinkedIn, Platform::Instagram] {
                let counted = count(platform, &case.text);
                assert_eq!(
                    counted.used, case.chars,
                    "{platform} count of {:?} ({})",
                    case.text, case.why
                );
                assert_eq!(
                    counted.hashtags, case.hashtags,
                    "hashtags in {:?}",
                    case.text
                );
            }
        }
    }

    #[test]
    fn x_weighs_latin_as_one_and_cjk_as_two() {
        assert_eq!(x_weighted_length("hello"), 5);
        assert_eq!(x_weighted_length("Grüße"), 5);
        assert_eq!(x_weighted_length("東京"), 4);
        assert_eq!(x_weighted_length("こんにちは"), 10);
        assert_eq!(x_weighted_length("한국어"), 6);
        // General punctuation inside the light ranges, and outside them.
        assert_eq!(x_weighted_length("\u{2014}\u{2019}\u{2032}"), 3);
        assert_eq!(x_weighted_length("\u{2026}\u{2030}"), 4);
        // 140 CJK characters fill a post.
        assert!(check(Platform::X, &"字".repeat(140)).is_ok());
        let error = check(Platform::X, &"字".repeat(141)).unwrap_err().0;
        assert!(error.ends_with("this text has 282. Remove 2."), "{error}");
    }

    #[test]
    fn x_counts_a_long_url_as_23() {
        let url = format!("https://example.com/{}", "a".repeat(80));
        assert_eq!(url.chars().count(), 100);
        assert_eq!(x_weighted_length(&url), 23);
        assert_eq!(x_weighted_length(&format!("Read {url}")), 28);
        assert_eq!(x_weighted_length("http://a.b"), 23);
        assert_eq!(x_weighted_length("HTTPS://EXAMPLE.COM"), 23);
    }

    #[test]
    fn x_counts_each_of_two_urls_as_23() {
        let text = "https://example.com/one and http://example.org/two-is-longer-than-that";
        assert_eq!(x_weighted_length(text), 23 + 5 + 23);
    }

    #[test]
    fn x_urls_leave_out_trailing_punctuation() {
        assert_eq!(x_weighted_length("See https://example.com/a."), 4 + 23 + 1);
        assert_eq!(x_weighted_length("(https://example.com/a)"), 1 + 23 + 1);
        assert_eq!(
            x_weighted_length("https://en.wikipedia.org/wiki/Rust_(language)"),
            23
        );
        assert_eq!(x_weighted_length("https://example.com🔥"), 23 + 2);
    }

    #[test]
    fn x_link_spans_are_the_links_x_counts() {
        let text = "Read https://example.com/a?b=1, and example.org. Mail ada@example.com ✨ ok";
        let spans: Vec<&str> = x_link_spans(text).into_iter().map(|r| &text[r]).collect();
        assert_eq!(spans, ["https://example.com/a?b=1", "example.org"]);
        assert!(x_link_spans("no links at all").is_empty());
    }

    #[test]
    fn x_counts_bare_domains_as_links() {
        assert_eq!(x_weighted_length("example.com"), 23);
        assert_eq!(
            x_weighted_length("Visit www.example.org/path?q=1!"),
            6 + 23 + 1
        );
        assert_eq!(x_weighted_length("socializioz.de"), 23);
    }

    #[test]
    fn x_does_not_take_prose_or_addresses_for_links() {
        // E-mail address: the domain follows '@'.
        assert_eq!(x_weighted_length("me@example.com"), 14);
        // Unknown top-level domain, decimals, a sentence without a space.
        assert_eq!(x_weighted_length("file.txt"), 8);
        assert_eq!(x_weighted_length("3.14"), 4);
        assert_eq!(x_weighted_length("done.It works"), 13);
        // A scheme with nothing after it, and one glued to a word.
        assert_eq!(x_weighted_length("https://"), 8);
        assert_eq!(x_weighted_length("xhttps://example.com"), 20);
        // Longer name that merely starts with a known domain.
        assert_eq!(x_weighted_length("example.community"), 17);
    }

    #[test]
    fn x_counts_emoji_as_two() {
        assert_eq!(x_weighted_length("😀"), 2);
        assert_eq!(x_weighted_length("☀"), 2);
        assert_eq!(x_weighted_length("❤️"), 2);
        assert_eq!(x_weighted_length("👍🏽"), 2);
        assert_eq!(x_weighted_length("hi 😀"), 5);
    }

    #[test]
    fn x_counts_a_zwj_family_as_two() {
        let family = "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}\u{200D}\u{1F466}";
        assert_eq!(x_weighted_length(family), 2);
        assert_eq!(x_weighted_length("🏳️‍🌈"), 2);
        assert_eq!(x_weighted_length("❤️‍🔥"), 2);
        assert_eq!(x_weighted_length(&format!("{family}{family}")), 4);
    }

    #[test]
    fn x_counts_a_flag_as_two() {
        assert_eq!(x_weighted_length("🇩🇪"), 2);
        assert_eq!(x_weighted_length("🇩🇪🇫🇷"), 4);
        // A lone regional indicator is still one emoji.
        assert_eq!(x_weighted_length("🇩"), 2);
        // England: black flag plus tag characters.
        assert_eq!(
            x_weighted_length("\u{1F3F4}\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}"),
            2
        );
    }

    #[test]
    fn x_counts_keycaps_as_two() {
        assert_eq!(x_weighted_length("1\u{FE0F}\u{20E3}"), 2);
        assert_eq!(x_weighted_length("#\u{20E3}"), 2);
        assert_eq!(x_weighted_length("12"), 2);
    }

    #[test]
    fn stray_joiners_and_selectors_weigh_by_range() {
        // A joiner between letters is in the light range; a lone variation selector is not.
        assert_eq!(x_weighted_length("a\u{200D}b"), 3);
        assert_eq!(x_weighted_length("a\u{FE0F}"), 3);
    }

    #[test]
    fn hashtags_are_counted() {
        assert_eq!(hashtag_count("#rust is #fun"), 2);
        assert_eq!(hashtag_count("#über"), 1);
        assert_eq!(hashtag_count("#東京"), 1);
        assert_eq!(hashtag_count("#snake_case #_x #2026goals"), 3);
        assert_eq!(hashtag_count("(#tag), #tag."), 2);
        assert_eq!(hashtag_count("🔥#fire"), 1);
        assert_eq!(hashtag_count("line\n#tag"), 1);
    }

    #[test]
    fn hashtag_edge_cases_are_not_counted() {
        assert_eq!(hashtag_count("#1"), 0);
        assert_eq!(hashtag_count("#2026"), 0);
        assert_eq!(hashtag_count("a#b"), 0);
        assert_eq!(hashtag_count("#"), 0);
        assert_eq!(hashtag_count("# tag"), 0);
        assert_eq!(hashtag_count("#tag#more"), 1);
        assert_eq!(hashtag_count("#-"), 0);
    }

    #[test]
    fn instagram_allows_30_hashtags_not_31() {
        let tags = |n: usize| {
            (0..n)
                .map(|i| format!("#tag{i}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let counted = check(Platform::Instagram, &tags(30)).unwrap();
        assert_eq!(counted.hashtags, 30);
        assert_eq!(counted.hashtags_over_by(), 0);

        let error = check(Platform::Instagram, &tags(31)).unwrap_err().0;
        assert_eq!(
            error,
            "Instagram allows at most 30 hashtags; this caption has 31. Remove 1."
        );
        let error = check(Platform::Instagram, &tags(33)).unwrap_err().0;
        assert_eq!(
            error,
            "Instagram allows at most 30 hashtags; this caption has 33. Remove 3."
        );
        // Other platforms do not limit hashtags.
        let counted = check(Platform::TikTok, &tags(31)).unwrap();
        assert_eq!(counted.hashtags, 31);
        assert!(counted.fits());
    }

    #[test]
    fn text_count_reports_overruns() {
        let counted = TextCount {
            used: 10,
            limit: 8,
            hashtags: 5,
            hashtag_limit: Some(3),
        };
        assert_eq!(counted.over_by(), 2);
        assert_eq!(counted.hashtags_over_by(), 2);
        assert!(!counted.fits());
        let counted = TextCount {
            hashtag_limit: None,
            used: 8,
            ..counted
        };
        assert_eq!(counted.hashtags_over_by(), 0);
        assert!(counted.fits());
    }
}

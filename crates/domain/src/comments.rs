//! The rules of the comments workspace that need no database: labelling a comment by a
//! workspace's keyword rules, checking the rules and replies people type, and how long a
//! conversation is kept.

use crate::{Invalid, Platform};

/// The most rules a workspace keeps, and keywords a rule has.
pub const MAX_RULES: usize = 20;
pub const MAX_KEYWORDS: usize = 40;
/// The longest label, and keyword.
pub const MAX_LABEL: usize = 30;
pub const MAX_KEYWORD: usize = 60;

/// How long a conversation is kept after its last comment unless the workspace says otherwise,
/// and the shortest and longest it may say.
pub const DEFAULT_KEPT_DAYS: i32 = 90;
pub const MIN_KEPT_DAYS: i32 = 7;
pub const MAX_KEPT_DAYS: i32 = 365;

/// The longest reply, in characters (X counts its own way: see [`check_reply`]).
pub const fn reply_limit(platform: Platform) -> usize {
    match platform {
        Platform::Facebook => 8_000,
        Platform::Instagram => 2_200,
        Platform::X => 280,
        Platform::LinkedIn => 1_250,
        Platform::TikTok => 150,
    }
}

/// A keyword rule: a comment containing any of the keywords gets the label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub label: String,
    pub keywords: Vec<String>,
}

/// The rules a workspace starts with when it turns the comments workspace on.
pub fn starting_rules() -> Vec<Rule> {
    let rule = |label: &str, words: &[&str]| Rule {
        label: label.to_owned(),
        keywords: words.iter().map(|w| (*w).to_owned()).collect(),
    };
    vec![
        rule(
            "question",
            &[
                "?", "how do", "how can", "can i", "is there", "where", "when",
            ],
        ),
        rule(
            "complaint",
            &[
                "refund",
                "broken",
                "terrible",
                "awful",
                "worst",
                "not working",
                "disappointed",
                "scam",
            ],
        ),
        rule(
            "order",
            &["order", "buy", "price", "shipping", "delivery", "in stock"],
        ),
    ]
}

/// Whether `keyword` (lower case) is in `text` (lower case): a keyword of letters and digits
/// only at word boundaries ("order" is not in "border"), anything else (a question mark) as is.
fn contains(text: &str, keyword: &str) -> bool {
    let wordlike = keyword.chars().any(char::is_alphanumeric);
    if !wordlike {
        return text.contains(keyword);
    }
    let is_word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    text.match_indices(keyword).any(|(at, found)| {
        let before = text[..at].chars().next_back();
        let after = text[at + found.len()..].chars().next();
        !is_word(before) && !is_word(after)
    })
}

/// The labels of `rules` that `text` matches, each once, in the rules' order.
pub fn labels_for(text: &str, rules: &[Rule]) -> Vec<String> {
    let text = text.to_lowercase();
    let mut labels: Vec<String> = Vec::new();
    for rule in rules {
        if rule.keywords.iter().any(|k| contains(&text, k)) && !labels.contains(&rule.label) {
            labels.push(rule.label.clone());
        }
    }
    labels
}

/// A rule as typed: a label, and keywords separated by commas.
pub fn parse_rule(label: &str, keywords: &str) -> Result<Rule, Invalid> {
    let label = crate::single_line(label, "a label", MAX_LABEL)?.to_lowercase();
    if label.contains(',') {
        return Err(Invalid::new("A label cannot contain a comma."));
    }
    let mut words: Vec<String> = Vec::new();
    for word in keywords.split(',') {
        let word = word.trim().to_lowercase();
        if word.is_empty() || words.contains(&word) {
            continue;
        }
        if word.chars().count() > MAX_KEYWORD {
            return Err(Invalid(format!(
                "A keyword can be at most {MAX_KEYWORD} characters long (\"{}…\" is longer).",
                word.chars().take(20).collect::<String>()
            )));
        }
        if word.chars().any(char::is_control) {
            return Err(Invalid::new("Keywords cannot contain control characters."));
        }
        words.push(word);
    }
    if words.is_empty() {
        return Err(Invalid::new(
            "Enter at least one keyword (separate them with commas).",
        ));
    }
    if words.len() > MAX_KEYWORDS {
        return Err(Invalid(format!(
            "A rule can have at most {MAX_KEYWORDS} keywords (this one has {}).",
            words.len()
        )));
    }
    Ok(Rule {
        label,
        keywords: words,
    })
}

/// A reply as typed: trimmed, not empty, within the platform's length.
pub fn check_reply(platform: Platform, raw: &str) -> Result<String, Invalid> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(Invalid::new("Write the reply first."));
    }
    let limit = reply_limit(platform);
    let length = if platform == Platform::X {
        crate::content::x_weighted_length(text)
    } else {
        text.chars().count()
    };
    if length > limit {
        return Err(Invalid(format!(
            "A reply on {} can be at most {limit} characters long (this one has {length}).",
            platform.label()
        )));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(Invalid::new("A reply cannot contain control characters."));
    }
    Ok(text.to_owned())
}

/// The most characters kept of a text read from a platform (a comment, a message, a name).
pub const MOST_STORED: usize = 20_000;

/// A text read from a platform as it is stored: without NUL characters (PostgreSQL's text
/// cannot hold them, and one would stop every read of its conversation) and at most
/// [`MOST_STORED`] characters.
pub fn stored_text(raw: &str) -> String {
    raw.chars()
        .filter(|c| *c != '\0')
        .take(MOST_STORED)
        .collect()
}

/// `text` without the handles it mentions (`@grace_h`, `@Acme`): what is sent to the AI
/// provider names nobody. A `@` inside a word (an address) is left as it is.
pub fn without_mentions(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut previous: Option<char> = None;
    while let Some(c) = chars.next() {
        let starts_word = previous.is_none_or(|p| !p.is_alphanumeric());
        if c == '@'
            && starts_word
            && chars
                .peek()
                .is_some_and(|n| n.is_alphanumeric() || *n == '_')
        {
            while chars
                .peek()
                .is_some_and(|n| n.is_alphanumeric() || *n == '_' || *n == '.')
            {
                chars.next();
            }
            previous = Some(' ');
            continue;
        }
        out.push(c);
        previous = Some(c);
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A retention period as typed, in days.
pub fn parse_kept_days(raw: &str) -> Result<i32, Invalid> {
    let days: i32 = raw
        .trim()
        .parse()
        .map_err(|_| Invalid::new("Enter the number of days as a whole number."))?;
    if !(MIN_KEPT_DAYS..=MAX_KEPT_DAYS).contains(&days) {
        return Err(Invalid(format!(
            "Keep conversations between {MIN_KEPT_DAYS} and {MAX_KEPT_DAYS} days (not {days})."
        )));
    }
    Ok(days)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn keywords_match_whole_words_and_marks_anywhere() {
        let rules = starting_rules();
        assert_eq!(
            labels_for("Where can I ORDER one?", &rules),
            ["question", "order"]
        );
        assert_eq!(
            labels_for("I want a refund, it is broken", &rules),
            ["complaint"]
        );
        assert!(labels_for("Lovely border colours", &rules).is_empty());
        assert_eq!(
            labels_for("not working. not working!", &rules),
            ["complaint"]
        );
    }

    #[test]
    fn rules_are_checked_as_typed() {
        let rule = parse_rule(" Urgent ", "asap, ASAP ,, now").unwrap();
        assert_eq!(rule.label, "urgent");
        assert_eq!(rule.keywords, ["asap", "now"]);
        assert!(parse_rule("", "a").is_err());
        assert!(parse_rule("x,y", "a").is_err());
        assert!(parse_rule("ok", " , ").is_err());
        let many = (0..=MAX_KEYWORDS)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>();
        assert!(parse_rule("ok", &many.join(",")).is_err());
    }

    #[test]
    fn replies_fit_the_platform() {
        assert_eq!(check_reply(Platform::X, "  thanks! ").unwrap(), "thanks!");
        assert!(check_reply(Platform::X, "   ").is_err());
        let long = "a".repeat(281);
        let err = check_reply(Platform::X, &long).unwrap_err();
        assert!(err.0.contains("280"), "{err}");
        assert!(check_reply(Platform::Facebook, &long).is_ok());
        assert!(check_reply(Platform::Instagram, "a\u{7}b").is_err());
    }

    #[test]
    fn mentions_are_left_out_of_what_the_ai_reads() {
        assert_eq!(
            without_mentions("@grace_h @Acme.Shop is it open? mail ada@example.com"),
            "is it open? mail ada@example.com"
        );
        assert_eq!(without_mentions("@ alone"), "@ alone");
    }

    #[test]
    fn platform_text_is_stored_without_nul_and_bounded() {
        assert_eq!(stored_text("a\0b"), "ab");
        assert_eq!(stored_text(&"x".repeat(MOST_STORED + 5)).len(), MOST_STORED);
    }

    #[test]
    fn kept_days_are_bounded() {
        assert_eq!(parse_kept_days(" 30 ").unwrap(), 30);
        assert!(parse_kept_days("3").is_err());
        assert!(parse_kept_days("1000").is_err());
        assert!(parse_kept_days("ninety").is_err());
    }
}

//! Internal notes on a post: their text, and the members a note mentions.
//!
//! A member is mentioned by `@` followed by their display name as the workspace shows it, in
//! any letter case (`@Ada Lovelace`, `@ada lovelace`). The `@` starts the text or follows a
//! character that is not a letter or digit (so `bob@example.com` mentions nobody), and the name
//! ends the text or is followed by one that is not a letter or digit (so `@Adam` does not
//! mention Ada). Where one name begins another (`Ada`, `Ada Lovelace`), the longest that fits
//! is taken. Two members with the same name are both mentioned: the note form's checkboxes
//! name one person exactly.

use crate::Invalid;

/// The longest note kept, in characters.
pub const MAX_NOTE: usize = 2_000;

/// A note's text: trimmed, not empty, at most [`MAX_NOTE`] characters, without control
/// characters other than line breaks and tabs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteText(String);

impl NoteText {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(Invalid::new("Write the note first."));
        }
        let chars = text.chars().count();
        if chars > MAX_NOTE {
            return Err(Invalid::new(format!(
                "A note can be at most {MAX_NOTE} characters long (this one has {chars})."
            )));
        }
        if text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            return Err(Invalid::new(
                "The note holds characters that cannot be shown.",
            ));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The positions in `names` of the names `text` mentions, each once, in the order of `names`.
pub fn mentioned(text: &str, names: &[&str]) -> Vec<usize> {
    let chars: Vec<char> = text.chars().collect();
    let wanted: Vec<Vec<char>> = names.iter().map(|n| n.trim().chars().collect()).collect();
    // Longest first, so that "Ada Lovelace" wins over "Ada" where both fit.
    let mut order: Vec<usize> = (0..names.len()).collect();
    order.sort_by_key(|i| std::cmp::Reverse(wanted[*i].len()));
    let mut found = vec![false; names.len()];
    for (at, c) in chars.iter().enumerate() {
        if *c != '@' || (at > 0 && chars[at - 1].is_alphanumeric()) {
            continue;
        }
        let rest = &chars[at + 1..];
        let mut longest: Option<usize> = None;
        for i in &order {
            let name = &wanted[*i];
            if name.is_empty() || name.len() > rest.len() {
                continue;
            }
            if longest.is_some_and(|l| wanted[l].len() > name.len()) {
                break;
            }
            let same = rest
                .iter()
                .zip(name)
                .all(|(a, b)| a.to_lowercase().eq(b.to_lowercase()));
            let ends = rest.get(name.len()).is_none_or(|c| !c.is_alphanumeric());
            if same && ends {
                found[*i] = true;
                longest = Some(*i);
            }
        }
    }
    (0..names.len()).filter(|i| found[*i]).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_trimmed_and_bounded() {
        assert_eq!(
            NoteText::parse("  Looks good\n").unwrap().as_str(),
            "Looks good"
        );
        assert_eq!(
            NoteText::parse(" \n ").unwrap_err().0,
            "Write the note first."
        );
        assert!(NoteText::parse(&"a".repeat(MAX_NOTE)).is_ok());
        assert!(
            NoteText::parse(&"a".repeat(MAX_NOTE + 1))
                .unwrap_err()
                .0
                .contains("at most 2000")
        );
        assert!(NoteText::parse("a\u{7}b").is_err());
        assert!(NoteText::parse("line one\nline two\ttab").is_ok());
    }

    #[test]
    fn mentions_match_whole_names_in_any_case() {
        let names = ["Ada Lovelace", "Bob Builder", "Ada", "Zoë"];
        assert_eq!(mentioned("Thoughts, @ada lovelace?", &names), vec![0]);
        assert_eq!(mentioned("@Ada and @Bob Builder.", &names), vec![1, 2]);
        assert_eq!(mentioned("@Ada Lovelace and @Ada", &names), vec![0, 2]);
        assert_eq!(mentioned("cc @ZOË", &names), vec![3]);
        // Part of a longer word, an address, or no `@`: nobody.
        assert!(mentioned("@Adam, @Bob", &names).is_empty());
        assert!(mentioned("write to ada@example.com", &names).is_empty());
        assert!(mentioned("Ada Lovelace", &names).is_empty());
        assert!(mentioned("@", &names).is_empty());
        assert!(mentioned("@Ada", &[""]).is_empty());
    }

    #[test]
    fn the_same_name_twice_mentions_both() {
        assert_eq!(mentioned("@Sam look", &["Sam", "Sam"]), vec![0, 1]);
    }
}

//! Passwords known to attackers: a list of common and breached passwords shipped with the product
//! (`data/common-passwords.txt`; its origin and licence are in the README beside it), and the
//! patterns that dress one of them up as a "new" password.
//!
//! Cracking tools do not stop at the list: they try each entry with capitals, with look-alike
//! digits and symbols (`p@ssw0rd`), and with a year, a few digits or a `!` at either end
//! (`Summer2024!`). So the check undoes those steps ([`cores`]) and looks up what remains, and
//! also refuses a core that is a season, a month, a day, a brand or a word like "password",
//! whatever is added to it. A passphrase of unrelated words or a random string has no such core
//! and passes.

use std::cmp::Ordering;

/// The list: lower-case, one a line, sorted by byte value, entries of 4 or more characters.
static LIST: &str = include_str!("../../data/common-passwords.txt");

/// Cores shorter than this are not looked up: the list keeps no shorter entries.
const MIN_CORE: usize = 4;

/// The words people build passwords on when told to add digits and symbols. Words of 5 or more
/// letters are also refused with up to [`MAX_EXTRA`] more letters around them ("mysummer").
const PATTERN_WORDS: &[&str] = &[
    // Seasons.
    "spring",
    "summer",
    "autumn",
    "fall",
    "winter",
    // Months.
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    // Days.
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    // Words like "password".
    "password",
    "passwort",
    "passwd",
    "pass",
    "passw",
    "secret",
    "welcome",
    "letmein",
    "admin",
    "administrator",
    "changeme",
    "default",
    "login",
    "qwerty",
    "iloveyou",
    // This product, and names people pick when signing up to a product that posts to them.
    "socializioz",
    "facebook",
    "instagram",
    "linkedin",
    "twitter",
    "tiktok",
    "youtube",
    "google",
    "apple",
    "iphone",
    "android",
    "samsung",
    "microsoft",
    "windows",
    "netflix",
    "amazon",
];

/// How many letters may surround a pattern word of 5 or more letters.
const MAX_EXTRA: usize = 3;

/// Why a password is known to attackers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weakness {
    /// It, or its core, is on the list.
    Listed,
    /// Its core is a season, month, day, brand or a word like "password".
    Pattern,
}

/// Whether `password` is known to attackers, and why.
pub fn weakness(password: &str) -> Option<Weakness> {
    let cores = cores(password);
    if cores
        .iter()
        .any(|c| c.chars().count() >= MIN_CORE && listed(c))
    {
        return Some(Weakness::Listed);
    }
    if cores.iter().any(|c| is_pattern(c)) {
        return Some(Weakness::Pattern);
    }
    None
}

/// Whether `word` (lower-case) is on the list: a binary search over the lines of the text.
pub fn listed(word: &str) -> bool {
    let text = LIST.as_bytes();
    let word = word.as_bytes();
    // `lo` and `hi` are always at the start of a line (or at the end of the text).
    let (mut lo, mut hi) = (0, text.len());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let start = text[lo..mid]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(lo, |p| lo + p + 1);
        let end = text[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(text.len(), |p| start + p);
        match text[start..end].cmp(word) {
            Ordering::Equal => return true,
            Ordering::Less => lo = end + 1,
            Ordering::Greater => hi = start,
        }
    }
    false
}

/// The forms of `password` that are looked up: the password lower-cased, and its cores, that is
/// what remains once capitals are lowered, digits, symbols and spaces at either end are cut off,
/// and look-alike digits and symbols are read as the letters they stand for (`1` both as `i` and
/// as `l`), with and without the separators (spaces, `.`, `-`, `_`) inside.
pub fn cores(password: &str) -> Vec<String> {
    let lower = password.to_lowercase();
    let mut out: Vec<String> = vec![lower.clone()];
    let mut push = |s: String| {
        if !s.is_empty() && !out.contains(&s) {
            out.push(s);
        }
    };
    // A symbol at the start may be a letter in disguise (`$ummer`), while one at the end is
    // usually the `!` that was added: cut the ends both before and after reading symbols.
    // Digits at an end are either added or letters in disguise (`0ctober`), so each end is
    // also kept once while the other is cut.
    let symbols_read = read_leet(&lower, false, 'i');
    let added = |c: char| !c.is_alphabetic();
    for base in [lower.as_str(), symbols_read.as_str()] {
        for core in [
            base.trim_matches(added),
            base.trim_end_matches(added),
            base.trim_start_matches(added),
        ] {
            push(core.to_owned());
            for one in ['i', 'l'] {
                let read = read_leet(core, true, one);
                let joined: String = read.chars().filter(|c| !is_separator(*c)).collect();
                push(read);
                push(joined);
            }
        }
    }
    out
}

fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, '.' | '-' | '_')
}

/// Reads look-alike symbols (and, when `digits`, look-alike digits) as letters; `one` is the
/// letter `1` stands for.
fn read_leet(s: &str, digits: bool, one: char) -> String {
    s.chars()
        .map(|c| match c {
            '@' => 'a',
            '$' => 's',
            '!' => 'i',
            '|' => 'l',
            '0' if digits => 'o',
            '1' if digits => one,
            '3' if digits => 'e',
            '4' if digits => 'a',
            '5' if digits => 's',
            '7' if digits => 't',
            other => other,
        })
        .collect()
}

/// Whether `core` is a pattern word, or (for words of 5 or more letters) one with at most
/// [`MAX_EXTRA`] more characters around it.
fn is_pattern(core: &str) -> bool {
    let len = core.chars().count();
    PATTERN_WORDS.iter().any(|word| {
        if word.len() < 5 {
            core == *word
        } else {
            core.contains(word) && len - word.len() <= MAX_EXTRA
        }
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_sorted_and_every_entry_is_found() {
        assert!(LIST.ends_with('\n'));
        let lines: Vec<&str> = LIST.lines().collect();
        assert!(lines.len() > 40_000, "{} entries", lines.len());
        for pair in lines.windows(2) {
            assert!(
                pair[0].as_bytes() < pair[1].as_bytes(),
                "out of order: {pair:?}"
            );
        }
        for line in &lines {
            assert!(line.chars().count() >= MIN_CORE, "{line:?} is too short");
            assert_eq!(*line, line.to_lowercase(), "{line:?} is not lower-case");
            assert!(listed(line), "{line:?} is not found");
        }
        for absent in [
            "",
            "a",
            "zzzzzzzzzzzzzzzzzzzzzz",
            "correct horse battery staple",
        ] {
            assert!(!listed(absent), "{absent:?}");
        }
        // Between two neighbouring entries nothing is found.
        let (a, b) = (lines[1000], lines[1001]);
        let between = format!("{a}\u{1}");
        assert!(a.as_bytes() < between.as_bytes() && between.as_bytes() < b.as_bytes());
        assert!(!listed(&between));
    }

    #[test]
    fn cores_undo_capitals_look_alikes_and_added_digits_and_symbols() {
        let has = |password: &str, core: &str| {
            let all = cores(password);
            assert!(all.iter().any(|c| c == core), "{password}: {all:?}");
        };
        has("P@ssw0rd123456", "password");
        has("Summer2024!", "summer");
        has("!!2024Summer", "summer");
        has("$ummer2024", "summer");
        has("W1nter_2023", "winter");
        has("Dragon 1990 !", "dragon");
        has("M0nk3y12345678", "monkey");
        has("0ctober2024", "october");
        has("L3tm3!n", "letmein");
        has("Summer.Time.2024", "summertime");
        has("1qaz2wsx3edc", "1qaz2wsx3edc");
        // `1` is read both as `i` and as `l`.
        has("1ov31y", "lovely");
        has("1ceman2024", "iceman");
    }

    #[test]
    fn breach_patterns_are_known() {
        for weak in [
            "Summer2024!",
            "P@ssw0rd123456",
            "password",
            "Dragon1990!!",
            "M0nk3y12345678",
            "!!Football2024",
            "qwertyuiop123",
            "iloveyou2024!",
            "Trustno1",
        ] {
            assert_eq!(weakness(weak), Some(Weakness::Listed), "{weak}");
        }
        for pattern in [
            "Socializioz2024!",
            "MySocializioz1",
            "Instagram#2025",
            "Septembers2024",
        ] {
            assert_eq!(weakness(pattern), Some(Weakness::Pattern), "{pattern}");
        }
    }

    #[test]
    fn passphrases_and_random_strings_pass() {
        for strong in [
            "correct horse battery staple",
            "hT7qLw2vXe9RkB4m",
            "violet kettle orbit 42",
            "Quarry-lantern-Mosaic",
            "9fK#2pX!wQ7zL@4s",
        ] {
            assert_eq!(weakness(strong), None, "{strong}");
        }
        // Random 16-character strings over letters, digits and symbols (a fixed xorshift
        // sequence, so the test is the same every run).
        let alphabet: Vec<char> =
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!@#$%^&*-_=+?"
                .chars()
                .collect();
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut refused = Vec::new();
        for _ in 0..2_000 {
            let password: String = (0..16)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    alphabet[(state % alphabet.len() as u64) as usize]
                })
                .collect();
            if weakness(&password).is_some() {
                refused.push(password);
            }
        }
        assert!(refused.is_empty(), "random passwords refused: {refused:?}");
    }
}

//! The values that make up an account.

use crate::{Invalid, single_line};
use std::fmt;

mod breached;

/// A person's display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    pub const MAX: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        single_line(raw, "your name", Self::MAX).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An e-mail address, trimmed and lower-cased so that one address is one account.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub const MAX: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let value = raw.trim().to_lowercase();
        if value.is_empty() {
            return Err(Invalid::new("Enter an e-mail address."));
        }
        if value.chars().count() > Self::MAX {
            return Err(Invalid(format!(
                "An e-mail address can be at most {} characters long.",
                Self::MAX
            )));
        }
        let invalid = || Invalid::new("Enter an e-mail address like name@example.com.");
        let (local, domain) = value.rsplit_once('@').ok_or_else(invalid)?;
        let bad_char = |c: char| c.is_whitespace() || c.is_control() || "<>()[]\\,;:\"".contains(c);
        if local.is_empty()
            || local.len() > 64
            || local.contains('@')
            || local.chars().any(bad_char)
            || local.starts_with('.')
            || local.ends_with('.')
        {
            return Err(invalid());
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let label_ok = |l: &&str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        };
        if labels.len() < 2 || !labels.iter().all(label_ok) {
            return Err(invalid());
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A new password that passed the strength rules. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(…)")
    }
}

impl Password {
    pub const MIN: usize = 12;
    pub const MAX: usize = 128;

    /// Why a password on lists of passwords known to attackers is refused.
    pub const LISTED: &str = "This password is on lists of passwords known to attackers, so it \
         would be among the first they try. Choose another: a few unrelated words make a strong \
         password that is easy to remember.";
    /// Why a password built on a season, month, brand or a word like "password" is refused.
    pub const PATTERN: &str = "This password is a season, month, day, brand or a word like \
         \"password\" with numbers or symbols added, which attackers try first. Choose another: \
         a few unrelated words make a strong password that is easy to remember.";

    /// Parses a new password. `email` is the account's address: a password that contains its
    /// local part is refused, since it is the first thing an attacker tries.
    ///
    /// A password known to attackers (see [`breached`]) is refused before its length is
    /// checked, so that `Summer2024!` is told why it is weak rather than only to add a character.
    /// No message repeats the password.
    pub fn parse(raw: &str, email: Option<&Email>) -> Result<Self, Invalid> {
        let chars = raw.chars().count();
        if chars > Self::MAX {
            return Err(Invalid(format!(
                "A password can be at most {} characters long.",
                Self::MAX
            )));
        }
        match breached::weakness(raw) {
            Some(breached::Weakness::Listed) => return Err(Invalid::new(Self::LISTED)),
            Some(breached::Weakness::Pattern) => return Err(Invalid::new(Self::PATTERN)),
            None => {}
        }
        if chars < Self::MIN {
            return Err(Invalid(format!(
                "Use at least {} characters for your password; a short sentence is easy to remember.",
                Self::MIN
            )));
        }
        let lower = raw.to_lowercase();
        let distinct: std::collections::HashSet<char> = lower.chars().collect();
        if distinct.len() < 4 {
            return Err(Invalid::new(
                "This password repeats too few characters. Choose one that is harder to guess.",
            ));
        }
        if let Some(email) = email {
            let local = email.as_str().split('@').next().unwrap_or_default();
            if local.len() >= 4 && lower.contains(local) {
                return Err(Invalid::new(
                    "Your password should not contain your e-mail address.",
                ));
            }
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// An IANA time zone name such as `Europe/Berlin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timezone(chrono_tz::Tz);

impl Timezone {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        raw.trim().parse::<chrono_tz::Tz>().map(Self).map_err(|_| {
            Invalid::new("Choose a time zone from the list (for example Europe/Berlin).")
        })
    }

    /// A zone as stored with a person, UTC when it no longer parses (a zone the tz database
    /// dropped).
    pub fn stored(raw: &str) -> Self {
        Self::parse(raw).unwrap_or_else(|_| Self::utc())
    }

    pub fn utc() -> Self {
        Self(chrono_tz::UTC)
    }

    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    pub fn tz(&self) -> chrono_tz::Tz {
        self.0
    }

    /// Every time zone name, for pickers.
    pub fn all_names() -> impl Iterator<Item = &'static str> {
        chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())
    }

    /// A time zone chosen in a form: one of the offered names (`crate::zones`), typed in any
    /// case or as a place's own name, or a legacy name read as the current one it stands for
    /// (`Asia/Calcutta` is `Asia/Kolkata`). Fixed offsets and other legacy names are refused.
    pub fn choose(raw: &str) -> Result<Self, Invalid> {
        crate::zones::find(raw).map_or_else(
            || {
                Err(Invalid::new(
                    "Choose a time zone from the list, such as Europe/Berlin (type a city to find it).",
                ))
            },
            Self::parse,
        )
    }

    /// The names a person chooses from: `UTC`, then the current names of places.
    pub fn offered() -> &'static [&'static str] {
        crate::zones::offered()
    }
}

/// The interface languages the product speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    #[default]
    English,
    German,
    Spanish,
}

impl Language {
    pub const ALL: [Language; 3] = [Language::English, Language::German, Language::Spanish];

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        match raw.trim() {
            "en" => Ok(Self::English),
            "de" => Ok(Self::German),
            "es" => Ok(Self::Spanish),
            _ => Err(Invalid::new("Choose English, Deutsch or Español.")),
        }
    }

    /// The language tag stored and sent in `lang` attributes.
    pub fn code(&self) -> &'static str {
        match self {
            Self::English => "en",
            Self::German => "de",
            Self::Spanish => "es",
        }
    }

    /// The language's own name for itself.
    pub fn label(&self) -> &'static str {
        match self {
            Self::English => "English",
            Self::German => "Deutsch",
            Self::Spanish => "Español",
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a da@example.com",
            "ada@-x.com",
            "ada@@example.com",
            ".ada@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
        let long = format!("{}@example.com", "a".repeat(65));
        assert!(Email::parse(&long).is_err());
    }

    #[test]
    fn weak_passwords_are_refused_with_a_reason() {
        let email = Email::parse("grace.hopper@example.com").unwrap();
        assert!(
            Password::parse("kq7Vt", None)
                .unwrap_err()
                .0
                .contains("at least 12 characters")
        );
        // Eleven characters, on no list.
        assert!(
            Password::parse("kq7Vt2mxw9R", None)
                .unwrap_err()
                .0
                .contains("at least 12 characters")
        );
        assert!(Password::parse("kq7Vt2mxw9Rz", None).is_ok());
        for listed in [
            "Password123",
            "Summer2024!",
            "P@ssw0rd123456",
            "Summer2024!!",
        ] {
            let err = Password::parse(listed, None).unwrap_err().0;
            assert_eq!(err, Password::LISTED, "{listed}");
            assert!(!err.to_lowercase().contains("summer"), "{listed}");
        }
        assert_eq!(
            Password::parse("Socializioz2024!", None).unwrap_err().0,
            Password::PATTERN
        );
        assert!(
            Password::parse("abababababab", None)
                .unwrap_err()
                .0
                .contains("too few")
        );
        assert!(
            Password::parse("xxgrace.hopperxx", Some(&email))
                .unwrap_err()
                .0
                .contains("e-mail")
        );
        assert!(Password::parse(&"x1".repeat(65), None).is_err());
        assert!(Password::parse("correct horse battery", Some(&email)).is_ok());
    }

    #[test]
    fn password_debug_hides_the_secret() {
        let p = Password::parse("correct horse battery", None).unwrap();
        assert!(!format!("{p:?}").contains("horse"));
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            PersonName::parse("  Ada Lovelace ").unwrap().as_str(),
            "Ada Lovelace"
        );
        assert_eq!(PersonName::parse("   ").unwrap_err().0, "Enter your name.");
        let err = PersonName::parse(&"a".repeat(101)).unwrap_err().0;
        assert!(err.starts_with("Name can be at most 100"), "{err}");
        assert!(PersonName::parse("a\u{0}b").is_err());
    }

    #[test]
    fn time_zones_and_languages() {
        assert_eq!(
            Timezone::parse("Europe/Berlin").unwrap().name(),
            "Europe/Berlin"
        );
        assert!(Timezone::parse("Mars/Olympus").is_err());
        assert!(Timezone::all_names().any(|n| n == "America/New_York"));
        assert_eq!(Language::parse("de").unwrap(), Language::German);
        assert!(Language::parse("fr").is_err());
    }
}

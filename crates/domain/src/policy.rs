//! Versioned policies: their kinds and version numbers.

use crate::Invalid;
use std::cmp::Ordering;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    Terms,
    Privacy,
    Cookies,
    Refund,
    AcceptableUse,
    DataDeletion,
}

impl PolicyKind {
    pub const ALL: [PolicyKind; 6] = [
        Self::Terms,
        Self::Privacy,
        Self::Cookies,
        Self::Refund,
        Self::AcceptableUse,
        Self::DataDeletion,
    ];

    /// The policies a new account accepts at sign-up.
    pub const AT_SIGNUP: [PolicyKind; 4] = [
        Self::Terms,
        Self::Privacy,
        Self::AcceptableUse,
        Self::DataDeletion,
    ];

    /// The policies accepted at the billing checkout.
    pub const AT_CHECKOUT: [PolicyKind; 2] = [Self::Terms, Self::Refund];

    /// The slug in URLs and on the command line.
    pub fn slug(&self) -> &'static str {
        match self {
            Self::Terms => "terms",
            Self::Privacy => "privacy",
            Self::Cookies => "cookies",
            Self::Refund => "refund",
            Self::AcceptableUse => "acceptable-use",
            Self::DataDeletion => "data-deletion",
        }
    }

    pub fn title(&self) -> &'static str {
        match self {
            Self::Terms => "Terms of Service",
            Self::Privacy => "Privacy Policy",
            Self::Cookies => "Cookie Policy",
            Self::Refund => "Refund Policy",
            Self::AcceptableUse => "Acceptable Use Policy",
            Self::DataDeletion => "Data Deletion Policy",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        Self::ALL.into_iter().find(|k| k.slug() == raw.trim()).ok_or_else(|| {
            Invalid(format!(
                "{raw:?} is not a policy; the policies are terms, privacy, cookies, refund, acceptable-use and data-deletion."
            ))
        })
    }
}

/// A version number such as `1.0` or `2.1.3`: compared part by part as numbers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PolicyVersion {
    parts: Vec<u32>,
    text: String,
}

impl PolicyVersion {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let text = raw.trim();
        let parts: Option<Vec<u32>> = text.split('.').map(|p| p.parse().ok()).collect();
        match parts {
            Some(parts) if (2..=3).contains(&parts.len()) && text.len() <= 20 => Ok(Self {
                parts,
                text: text.to_owned(),
            }),
            _ => Err(Invalid(format!(
                "{text:?} is not a version; write it like 1.0 or 2.1"
            ))),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl PartialOrd for PolicyVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for PolicyVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let len = self.parts.len().max(other.parts.len());
        let at = |v: &Self, i: usize| v.parts.get(i).copied().unwrap_or(0);
        (0..len)
            .map(|i| at(self, i).cmp(&at(other, i)))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_as_numbers() {
        let v = |s| PolicyVersion::parse(s).unwrap();
        assert!(v("1.10") > v("1.9"));
        assert!(v("2.0") > v("1.99.9"));
        assert_eq!(v("1.0").cmp(&v("1.0.0")), Ordering::Equal);
        for bad in ["1", "v1.0", "1.0-beta", "", "1..0", "1.2.3.4"] {
            assert!(PolicyVersion::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn kinds_round_trip() {
        for k in PolicyKind::ALL {
            assert_eq!(PolicyKind::parse(k.slug()).unwrap(), k);
        }
        assert!(PolicyKind::parse("cookie").is_err());
    }
}

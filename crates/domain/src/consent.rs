//! Cookie consent: the categories, the cookies each covers, and a browser's choice.
//!
//! This registry is the one place the categories are described; the banner, the cookie policy
//! page and the privacy policy render from it.

use crate::{Invalid, Language};

/// The version of the cookie banner's wording, recorded with every decision so that a record
/// says what the person was shown. Bump it when the banner text changes.
pub const BANNER_VERSION: &str = "2026-11-29";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    Essential,
    Analytics,
    Marketing,
}

/// A cookie the product may set.
#[derive(Debug, Clone, Copy)]
pub struct CookieInfo {
    pub name: &'static str,
    pub purpose: &'static str,
    pub lifetime: &'static str,
}

impl Category {
    pub const ALL: [Category; 3] = [
        Category::Essential,
        Category::Analytics,
        Category::Marketing,
    ];

    pub fn key(&self) -> &'static str {
        match self {
            Self::Essential => "essential",
            Self::Analytics => "analytics",
            Self::Marketing => "marketing",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        Self::ALL
            .into_iter()
            .find(|c| c.key() == raw.trim())
            .ok_or_else(|| Invalid(format!("{raw:?} is not a cookie category; the categories are essential, analytics and marketing.")))
    }

    /// Essential cookies are always on and cannot be switched off.
    pub fn optional(&self) -> bool {
        !matches!(self, Self::Essential)
    }

    pub fn name(&self, lang: Language) -> &'static str {
        use Language::*;
        match (self, lang) {
            (Self::Essential, English) => "Essential",
            (Self::Essential, German) => "Notwendig",
            (Self::Essential, Spanish) => "Esenciales",
            (Self::Analytics, English) => "Analytics",
            (Self::Analytics, German) => "Statistik",
            (Self::Analytics, Spanish) => "Analíticas",
            (Self::Marketing, English) => "Marketing",
            (Self::Marketing, German) => "Marketing",
            (Self::Marketing, Spanish) => "Marketing",
        }
    }

    pub fn description(&self, lang: Language) -> &'static str {
        use Language::*;
        match (self, lang) {
            (Self::Essential, English) => {
                "Required for the app to work: signing in, keeping you signed in, protecting forms, and remembering this choice."
            }
            (Self::Essential, German) => {
                "Für den Betrieb nötig: Anmeldung, angemeldet bleiben, Schutz der Formulare und das Speichern dieser Auswahl."
            }
            (Self::Essential, Spanish) => {
                "Necesarias para que la aplicación funcione: iniciar sesión, mantenerla, proteger los formularios y recordar esta elección."
            }
            (Self::Analytics, English) => {
                "Help us understand how the product is used, so we can improve it."
            }
            (Self::Analytics, German) => {
                "Helfen uns zu verstehen, wie das Produkt genutzt wird, damit wir es verbessern können."
            }
            (Self::Analytics, Spanish) => {
                "Nos ayudan a entender cómo se usa el producto para poder mejorarlo."
            }
            (Self::Marketing, English) => "Used for personalised content and advertising.",
            (Self::Marketing, German) => {
                "Werden für personalisierte Inhalte und Werbung verwendet."
            }
            (Self::Marketing, Spanish) => "Se usan para contenido personalizado y publicidad.",
        }
    }

    /// The cookies of this category that the product itself sets.
    pub fn cookies(&self) -> &'static [CookieInfo] {
        match self {
            Self::Essential => &[
                CookieInfo {
                    name: "sz_session",
                    purpose: "keeps you signed in",
                    lifetime: "30 days",
                },
                CookieInfo {
                    name: "sz_csrf",
                    purpose: "protects forms against cross-site requests",
                    lifetime: "1 year",
                },
                CookieInfo {
                    name: "sz_device",
                    purpose: "recognises a browser you signed in with before, so that it is not slowed down when someone else guesses your password",
                    lifetime: "1 year",
                },
                CookieInfo {
                    name: "sz_signup",
                    purpose: "lets the confirmation link sign you in when you open it in the browser you signed up with",
                    lifetime: "48 hours",
                },
                CookieInfo {
                    name: "sz_flash",
                    purpose: "shows a one-time message after a form",
                    lifetime: "1 minute",
                },
                CookieInfo {
                    name: "sz_consent",
                    purpose: "remembers this cookie choice",
                    lifetime: "1 year",
                },
                CookieInfo {
                    name: "sz_policies_later",
                    purpose: "remembers that you chose to review updated policies later",
                    lifetime: "12 hours",
                },
            ],
            Self::Analytics => &[CookieInfo {
                name: "sz_analytics",
                purpose: "a random visitor id for the operator's product statistics",
                lifetime: "1 year",
            }],
            Self::Marketing => &[CookieInfo {
                name: "sz_marketing",
                purpose: "a random id for the operator's marketing and advertising measurement",
                lifetime: "90 days",
            }],
        }
    }
}

/// Which optional categories a browser allows. Essential is always allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConsentChoice {
    pub analytics: bool,
    pub marketing: bool,
}

impl ConsentChoice {
    pub const REJECT: Self = Self {
        analytics: false,
        marketing: false,
    };
    pub const ACCEPT_ALL: Self = Self {
        analytics: true,
        marketing: true,
    };

    /// Reads a list of category keys (from the customise panel); an unknown key is refused.
    /// `essential` may be listed and changes nothing.
    pub fn from_keys<'a>(keys: impl IntoIterator<Item = &'a str>) -> Result<Self, Invalid> {
        let mut choice = Self::REJECT;
        for key in keys {
            match Category::parse(key)? {
                Category::Essential => {}
                Category::Analytics => choice.analytics = true,
                Category::Marketing => choice.marketing = true,
            }
        }
        Ok(choice)
    }

    pub fn allows(&self, category: Category) -> bool {
        match category {
            Category::Essential => true,
            Category::Analytics => self.analytics,
            Category::Marketing => self.marketing,
        }
    }

    /// The granted categories, Essential first, as stored in records: "essential,analytics".
    pub fn keys(&self) -> String {
        Category::ALL
            .into_iter()
            .filter(|c| self.allows(*c))
            .map(|c| c.key())
            .collect::<Vec<_>>()
            .join(",")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn choices_from_keys_refuse_unknown_categories() {
        assert_eq!(
            ConsentChoice::from_keys(["analytics"]).unwrap(),
            ConsentChoice {
                analytics: true,
                marketing: false
            }
        );
        assert_eq!(
            ConsentChoice::from_keys(["essential"]).unwrap(),
            ConsentChoice::REJECT
        );
        assert_eq!(
            ConsentChoice::from_keys(["marketing", "analytics"]).unwrap(),
            ConsentChoice::ACCEPT_ALL
        );
        assert!(
            ConsentChoice::from_keys(["tracking"])
                .unwrap_err()
                .0
                .contains("not a cookie category")
        );
        assert_eq!(
            ConsentChoice::ACCEPT_ALL.keys(),
            "essential,analytics,marketing"
        );
        assert_eq!(ConsentChoice::REJECT.keys(), "essential");
    }

    #[test]
    fn essential_is_always_on_and_every_category_is_described_in_every_language() {
        assert!(ConsentChoice::REJECT.allows(Category::Essential));
        assert!(!Category::Essential.optional());
        for c in Category::ALL {
            assert!(!c.cookies().is_empty());
            for lang in Language::ALL {
                assert!(!c.name(lang).is_empty() && !c.description(lang).is_empty());
            }
        }
        let essential: Vec<_> = Category::Essential
            .cookies()
            .iter()
            .map(|c| c.name)
            .collect();
        assert!(
            essential.contains(&"sz_session")
                && essential.contains(&"sz_csrf")
                && essential.contains(&"sz_consent")
        );
    }
}

//! The browser's cookie choice: a first-party cookie with a random consent id, the granted
//! categories, the cookie-policy version, when and how the choice was made, and when a Global
//! Privacy Control signal was first seen; signed with the server key so it cannot be forged.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use domain::consent::ConsentChoice;
use services::tokens::Keys;

pub const CONSENT_COOKIE: &str = "sz_consent";
pub const ANALYTICS_COOKIE: &str = "sz_analytics";
pub const MARKETING_COOKIE: &str = "sz_marketing";

/// A choice is asked again after a year.
pub const MAX_AGE_DAYS: i64 = 365;

/// How the stored choice came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The person chose (banner or cookie page).
    Explicit,
    /// The browser's Global Privacy Control signal was applied. `recorded` turns true once the
    /// decision is in the ledger, which happens when the browser sends this cookie back: a
    /// client that keeps no cookies (a script hammering the site) writes no records.
    Gpc { recorded: bool },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentCookie {
    pub id: String,
    pub choice: ConsentChoice,
    pub version: String,
    pub at: DateTime<Utc>,
    pub origin: Origin,
    /// When this browser's GPC signal was first seen, if ever.
    pub gpc_seen: Option<DateTime<Utc>>,
}

impl ConsentCookie {
    /// The signed cookie value: base64url of the fields, a dot, and their MAC.
    pub fn encode(&self, keys: &Keys) -> String {
        let fields = format!(
            "{}|{}|{}|{}|{}|{}|{}",
            self.id,
            u8::from(self.choice.analytics),
            u8::from(self.choice.marketing),
            self.version,
            self.at.timestamp(),
            match self.origin {
                Origin::Explicit => "x",
                Origin::Gpc { recorded: false } => "g",
                Origin::Gpc { recorded: true } => "r",
            },
            self.gpc_seen.map(|t| t.timestamp()).unwrap_or(0),
        );
        let payload = URL_SAFE_NO_PAD.encode(fields);
        let mac = keys.mac("consent", payload.as_bytes());
        format!("{payload}.{mac}")
    }

    /// Reads a cookie value. A forged, malformed or expired cookie, or one for an older cookie
    /// policy, reads as no choice at all (and the banner asks again).
    pub fn decode(
        value: &str,
        keys: &Keys,
        now: DateTime<Utc>,
        policy_version: &str,
    ) -> Result<Self, &'static str> {
        let (payload, mac) = value.split_once('.').ok_or("malformed")?;
        if !keys.verify("consent", payload.as_bytes(), mac) {
            return Err("bad signature");
        }
        let raw = URL_SAFE_NO_PAD.decode(payload).map_err(|_| "malformed")?;
        let text = String::from_utf8(raw).map_err(|_| "malformed")?;
        let parts: Vec<&str> = text.split('|').collect();
        let [id, a, m, version, at, origin, gpc] = parts.as_slice() else {
            return Err("malformed");
        };
        let flag = |s: &str| match s {
            "1" => Ok(true),
            "0" => Ok(false),
            _ => Err("malformed"),
        };
        let time = |s: &str| -> Result<Option<DateTime<Utc>>, &'static str> {
            let secs: i64 = s.parse().map_err(|_| "malformed")?;
            Ok((secs != 0)
                .then(|| DateTime::from_timestamp(secs, 0))
                .flatten())
        };
        let at = time(at)?.ok_or("malformed")?;
        if now - at > chrono::Duration::days(MAX_AGE_DAYS) {
            return Err("expired");
        }
        if *version != policy_version {
            return Err("for an older cookie policy");
        }
        Ok(Self {
            id: (*id).to_owned(),
            choice: ConsentChoice {
                analytics: flag(a)?,
                marketing: flag(m)?,
            },
            version: (*version).to_owned(),
            at,
            origin: match *origin {
                "x" => Origin::Explicit,
                "g" => Origin::Gpc { recorded: false },
                "r" => Origin::Gpc { recorded: true },
                _ => return Err("malformed"),
            },
            gpc_seen: time(gpc)?,
        })
    }

    /// The person chose after their browser's GPC signal was first seen: the choice stands
    /// even while the signal is sent.
    pub fn chosen_after_gpc(&self) -> bool {
        self.origin == Origin::Explicit && self.gpc_seen.is_some_and(|seen| self.at >= seen)
    }
}

/// What this request knows about the browser's consent.
#[derive(Debug, Clone)]
pub struct ConsentView {
    /// The stored choice, if there is a valid one.
    pub cookie: Option<ConsentCookie>,
    /// What applies to this response.
    pub effective: ConsentChoice,
    /// The browser's GPC signal decided this response.
    pub gpc_honoured: bool,
}

impl ConsentView {
    /// The banner shows until the person has made a choice themselves.
    pub fn show_banner(&self) -> bool {
        !self
            .cookie
            .as_ref()
            .is_some_and(|c| c.origin == Origin::Explicit)
    }
}

/// What a request must do about consent besides rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// A consent cookie to store.
    pub store: Option<ConsentCookie>,
    /// The GPC decision in `store` goes into the ledger now.
    pub record_gpc: bool,
}

/// Works out the consent for a request carrying `cookie` (if valid) and, when `gpc`, the
/// Global Privacy Control signal.
pub fn resolve(
    cookie: Option<ConsentCookie>,
    gpc: bool,
    now: DateTime<Utc>,
    policy_version: &str,
) -> (ConsentView, Outcome) {
    let nothing = Outcome {
        store: None,
        record_gpc: false,
    };
    let view = |c: &ConsentCookie, honoured: bool| ConsentView {
        effective: c.choice,
        gpc_honoured: honoured,
        cookie: Some(c.clone()),
    };
    match cookie {
        None if !gpc => (undecided(), nothing),
        Some(c) if !gpc || c.chosen_after_gpc() => (view(&c, false), nothing),
        Some(c) if c.origin == Origin::Gpc { recorded: true } => (view(&c, true), nothing),
        // The browser kept the cookie that applied its signal: record the decision now.
        Some(c) if c.origin == Origin::Gpc { recorded: false } => {
            let stored = ConsentCookie {
                origin: Origin::Gpc { recorded: true },
                ..c
            };
            (
                view(&stored, true),
                Outcome {
                    store: Some(stored),
                    record_gpc: true,
                },
            )
        }
        // An explicit "reject" already is what the signal asks for: keep it, note the signal.
        Some(c) if c.choice == ConsentChoice::REJECT => {
            let stored = ConsentCookie {
                gpc_seen: c.gpc_seen.or(Some(now)),
                ..c
            };
            (
                view(&stored, false),
                Outcome {
                    store: Some(stored),
                    record_gpc: false,
                },
            )
        }
        previous => {
            // A GPC signal with no choice made since it was first seen: reject non-essential.
            let applied = ConsentCookie {
                id: previous
                    .as_ref()
                    .map(|c| c.id.clone())
                    .unwrap_or_else(services::tokens::random_token),
                choice: ConsentChoice::REJECT,
                version: policy_version.to_owned(),
                at: now,
                origin: Origin::Gpc { recorded: false },
                gpc_seen: previous.as_ref().and_then(|c| c.gpc_seen).or(Some(now)),
            };
            (
                view(&applied, true),
                Outcome {
                    store: Some(applied),
                    record_gpc: false,
                },
            )
        }
    }
}

/// No stored choice and no signal: nothing optional until the person chooses.
pub fn undecided() -> ConsentView {
    ConsentView {
        cookie: None,
        effective: ConsentChoice::REJECT,
        gpc_honoured: false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn keys() -> Keys {
        Keys::new(vec![7; 32])
    }

    fn explicit(
        choice: ConsentChoice,
        at: DateTime<Utc>,
        gpc_seen: Option<DateTime<Utc>>,
    ) -> ConsentCookie {
        ConsentCookie {
            id: services::tokens::random_token(),
            choice,
            version: "1.0".to_owned(),
            at,
            origin: Origin::Explicit,
            gpc_seen,
        }
    }

    #[test]
    fn the_cookie_round_trips_and_cannot_be_forged() {
        let now = Utc::now();
        let c = explicit(
            ConsentChoice {
                analytics: true,
                marketing: false,
            },
            now,
            None,
        );
        let value = c.encode(&keys());
        let back = ConsentCookie::decode(&value, &keys(), now, "1.0").unwrap();
        assert_eq!(back.choice, c.choice);
        assert_eq!(back.id, c.id);
        // Flip "analytics" off → on for marketing without the key: the MAC no longer matches.
        let (payload, mac) = value.split_once('.').unwrap();
        let text = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        let forged = URL_SAFE_NO_PAD.encode(text.replacen("|1|0|", "|1|1|", 1));
        assert_eq!(
            ConsentCookie::decode(&format!("{forged}.{mac}"), &keys(), now, "1.0"),
            Err("bad signature")
        );
        assert_eq!(
            ConsentCookie::decode(&value, &Keys::new(vec![8; 32]), now, "1.0"),
            Err("bad signature")
        );
        assert_eq!(
            ConsentCookie::decode("garbage", &keys(), now, "1.0"),
            Err("malformed")
        );
        assert_eq!(
            ConsentCookie::decode(&value, &keys(), now, "1.1"),
            Err("for an older cookie policy"),
            "a choice made under another Cookie Policy is asked again"
        );
        let later = now + chrono::Duration::days(MAX_AGE_DAYS + 1);
        assert_eq!(
            ConsentCookie::decode(&value, &keys(), later, "1.0"),
            Err("expired")
        );
    }

    #[test]
    fn gpc_rejects_unless_the_person_chose_after_the_signal_was_first_seen() {
        let now = Utc::now();
        let earlier = now - chrono::Duration::days(1);
        // No choice yet: rejected, a cookie to store, nothing recorded until it comes back.
        let (view, out) = resolve(None, true, now, "1.0");
        assert!(view.gpc_honoured && view.effective == ConsentChoice::REJECT && !out.record_gpc);
        let applied = out.store.unwrap();
        let (_, out) = resolve(Some(applied), true, now, "1.0");
        assert!(out.record_gpc, "the returning cookie is recorded");
        let (_, out) = resolve(out.store, true, now, "1.0");
        assert_eq!(
            out,
            Outcome {
                store: None,
                record_gpc: false
            },
            "recorded once"
        );
        // A choice made before the signal was ever seen gives way to it.
        let before = explicit(ConsentChoice::ACCEPT_ALL, earlier, None);
        let (view, out) = resolve(Some(before), true, now, "1.0");
        assert!(view.gpc_honoured && out.store.unwrap().gpc_seen == Some(now));
        // An explicit reject already matches the signal: it stays explicit (no banner again).
        let (view, out) = resolve(
            Some(explicit(ConsentChoice::REJECT, earlier, None)),
            true,
            now,
            "1.0",
        );
        assert!(
            !view.show_banner() && !out.record_gpc && out.store.unwrap().origin == Origin::Explicit
        );
        // A choice made after the signal was first seen stands.
        let after = explicit(ConsentChoice::ACCEPT_ALL, now, Some(earlier));
        let (view, out) = resolve(Some(after), true, now, "1.0");
        assert!(
            !view.gpc_honoured
                && view.effective == ConsentChoice::ACCEPT_ALL
                && out.store.is_none()
        );
        // Without the signal, a stored choice applies as it is.
        let (view, _) = resolve(
            Some(explicit(ConsentChoice::ACCEPT_ALL, earlier, None)),
            false,
            now,
            "1.0",
        );
        assert_eq!(view.effective, ConsentChoice::ACCEPT_ALL);
        assert!(!view.show_banner());
    }
}
